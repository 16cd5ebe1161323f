//! What earlier runs learned about registries without the Referrers API, kept in
//! `{NOTATION_CACHE}/referrers-api/` (notary-spec.md §4.2) so that one process per
//! reference does not probe the API before every signature (issue 7: only the first
//! signature in a repository pays for the probe).
//!
//! Only "no Referrers API" is remembered, for [`FRESH_FOR`], and only from a probe.
//! A registry that does have the API answers every push with `OCI-Subject`, which
//! overrides the entry (and removes it), so a stale entry costs at most a redundant
//! tag index; remembering "has the API" would instead risk a signature that nothing
//! indexes if the registry changed. The cache is an optimisation: a file that cannot
//! be read or written is skipped with a `-d` line, never an error.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::fsutil;

/// How long a remembered "no Referrers API" holds before the registry is probed again.
pub const FRESH_FOR: i64 = 24 * 60 * 60;

/// Entries are a few dozen bytes; anything much larger is not one of ours.
const MAX_ENTRY: u64 = 4096;

/// One registry's entry.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    /// `host[:port]`, as in references.
    registry: String,
    /// Always false: only the absence of the API is remembered.
    referrers_api: bool,
    /// When the probe ran, in seconds since the Unix epoch.
    checked_at: i64,
}

/// The cache directory and the current time (a value, for tests).
#[derive(Debug, Clone)]
pub struct ReferrersCache {
    dir: PathBuf,
    now: i64,
}

impl ReferrersCache {
    /// The cache under `cache_dir` (`{NOTATION_CACHE}`), at time `now`.
    pub fn new(cache_dir: &Path, now: i64) -> ReferrersCache {
        ReferrersCache {
            dir: cache_dir.join("referrers-api"),
            now,
        }
    }

    /// Where the entries are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, registry: &str) -> PathBuf {
        let mut name = String::new();
        for b in registry.to_ascii_lowercase().bytes() {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                name.push(char::from(b));
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        self.dir.join(format!("{name}.json"))
    }

    /// The entries' directory may be used only if it is a real directory that
    /// nobody else can write to: a shared or redirected cache is not trusted.
    fn check_dir(&self) -> Result<bool> {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::symlink_metadata(&self.dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", self.dir.display())),
            Ok(m) if !m.is_dir() => bail!("{} is not a directory", self.dir.display()),
            Ok(m) if m.permissions().mode() & 0o022 != 0 => {
                bail!("{} is writable by others; not using it", self.dir.display())
            }
            Ok(_) => Ok(true),
        }
    }

    /// When `registry` was last found to have no Referrers API, if that is recent
    /// enough to rely on. `Err` for an unreadable or malformed entry.
    pub fn no_api_since(&self, registry: &str) -> Result<Option<i64>> {
        if !self.check_dir()? {
            return Ok(None);
        }
        let path = self.file(registry);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.len() > MAX_ENTRY) {
            bail!("{} is too large to be a cache entry", path.display());
        }
        let Some(bytes) = fsutil::read_regular(&path)? else {
            return Ok(None);
        };
        let entry: Entry = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a cache entry", path.display()))?;
        if !entry.registry.eq_ignore_ascii_case(registry) || entry.referrers_api {
            bail!("{} is not a cache entry for {registry}", path.display());
        }
        // A corrupt time must not overflow: it only makes the entry stale.
        let age = self.now.checked_sub(entry.checked_at);
        Ok(age
            .filter(|a| (0..FRESH_FOR).contains(a))
            .map(|_| entry.checked_at))
    }

    /// Remembers that a probe found no Referrers API on `registry` now.
    pub fn remember_no_api(&self, registry: &str) -> Result<()> {
        fsutil::create_private_dir(&self.dir)?;
        self.check_dir()?;
        let entry = Entry {
            registry: registry.to_owned(),
            referrers_api: false,
            checked_at: self.now,
        };
        let bytes = serde_json::to_vec(&entry).context("cannot encode a cache entry")?;
        fsutil::write_atomic(&self.file(registry), &bytes, fsutil::PRIVATE)
    }

    /// Drops what is remembered about `registry` (it has the Referrers API after all).
    pub fn forget(&self, registry: &str) -> Result<()> {
        if !self.check_dir()? {
            return Ok(());
        }
        let path = self.file(registry);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_no_api_for_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let at = |now| ReferrersCache::new(dir.path(), now);
        assert_eq!(at(1000).no_api_since("Reg.example:5000").unwrap(), None);
        at(1000).remember_no_api("Reg.example:5000").unwrap();
        // Host names are case-insensitive.
        assert_eq!(
            at(1000 + FRESH_FOR - 1)
                .no_api_since("reg.example:5000")
                .unwrap(),
            Some(1000)
        );
        assert_eq!(
            at(1000 + FRESH_FOR)
                .no_api_since("reg.example:5000")
                .unwrap(),
            None,
            "stale"
        );
        assert_eq!(
            at(999).no_api_since("reg.example:5000").unwrap(),
            None,
            "from the future"
        );
        assert_eq!(
            at(1000).no_api_since("reg.example").unwrap(),
            None,
            "another registry"
        );
        at(1000).forget("reg.example:5000").unwrap();
        at(1000).forget("reg.example:5000").unwrap();
        assert_eq!(at(1000).no_api_since("reg.example:5000").unwrap(), None);
    }

    #[test]
    fn file_names_cannot_escape_the_directory() {
        let c = ReferrersCache::new(Path::new("/c"), 0);
        assert_eq!(
            c.file("[::1]:5000"),
            Path::new("/c/referrers-api/%5B%3A%3A1%5D%3A5000.json")
        );
        assert_eq!(
            c.file("../x/y"),
            Path::new("/c/referrers-api/..%2Fx%2Fy.json")
        );
    }

    #[test]
    fn malformed_and_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let c = ReferrersCache::new(dir.path(), 50);
        c.remember_no_api("r:1").unwrap();
        let file = c.file("r:1");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::write(&file, "{").unwrap();
        assert!(c.no_api_since("r:1").is_err());
        std::fs::write(
            &file,
            r#"{"registry":"r:1","referrersApi":true,"checkedAt":50}"#,
        )
        .unwrap();
        assert!(
            c.no_api_since("r:1").is_err(),
            "only absence is ever written"
        );
        std::fs::write(
            &file,
            r#"{"registry":"other:1","referrersApi":false,"checkedAt":50}"#,
        )
        .unwrap();
        assert!(c.no_api_since("r:1").is_err());
        // Times far in the past or future are stale, never an overflow.
        for t in [i64::MIN, i64::MAX] {
            std::fs::write(
                &file,
                format!(r#"{{"registry":"r:1","referrersApi":false,"checkedAt":{t}}}"#),
            )
            .unwrap();
            assert_eq!(c.no_api_since("r:1").unwrap(), None, "{t}");
        }
        std::fs::write(&file, vec![b' '; 5000]).unwrap();
        assert!(c.no_api_since("r:1").is_err(), "too large");
    }

    #[test]
    fn a_directory_others_can_write_or_a_link_is_not_used() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let c = ReferrersCache::new(dir.path(), 50);
        c.remember_no_api("r:1").unwrap();
        std::fs::set_permissions(c.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(c.no_api_since("r:1").is_err());
        assert!(c.remember_no_api("r:1").is_err());
        assert!(c.forget("r:1").is_err());
        assert!(c.file("r:1").exists(), "left alone");

        let elsewhere = tempfile::tempdir().unwrap();
        let linked = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), linked.path().join("referrers-api")).unwrap();
        let c = ReferrersCache::new(linked.path(), 50);
        assert!(c.remember_no_api("r:1").is_err());
        assert!(c.no_api_since("r:1").is_err());
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }
}
