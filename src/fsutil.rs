//! File writes that never leave half a file behind: temp file in the same
//! directory, fsync, rename. Directories we create are 0700 and secret files 0600
//! (spec §4.2). Config files must be regular files, never symlinks.

use std::fs::{self, File};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::{Context as _, Result, bail};

/// Mode of files that may hold secrets (keys, config).
pub const PRIVATE: u32 = 0o600;
/// Mode of public files (certificates, layout blobs).
pub const PUBLIC: u32 = 0o644;

/// Creates `dir` and its missing parents with mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))
}

/// Writes `bytes` with `mode` to a temporary file beside `path`, synced to disk.
fn stage(path: &Path, bytes: &[u8], mode: u32) -> Result<tempfile::NamedTempFile> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".notation-tmp-")
        .tempfile_in(parent)
        .with_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    let ctx = || format!("cannot write {}", path.display());
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(ctx)?;
    tmp.write_all(bytes).with_context(ctx)?;
    tmp.as_file().sync_all().with_context(ctx)?;
    Ok(tmp)
}

/// Writes `bytes` to `path` atomically with `mode`, replacing any file there. The
/// parent must exist.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    stage(path, bytes, mode)?
        .persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Like [`write_atomic`], but fails if `path` exists, so a file it wrote is
/// certainly this process's own (safe to roll back).
pub fn create_new_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    stage(path, bytes, mode)?
        .persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| {
            format!(
                "{} already exists; remove it or choose another name",
                path.display()
            )
        })?;
    Ok(())
}

/// Reads a file that must be a regular file. `Ok(None)` when it does not exist.
pub fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(m) if m.file_type().is_symlink() => {
            bail!(
                "{:?} is not a regular file (symlinks are not supported)",
                path.display().to_string()
            )
        }
        Ok(m) if !m.is_file() => bail!("{:?} is not a regular file", path.display().to_string()),
        Ok(_) => {}
    }
    fs::read(path)
        .map(Some)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// How long to wait for a directory lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// An exclusive advisory lock on a directory, held until dropped. Serialises
/// read-modify-write of files in it (index.json, signingkeys.json) across processes.
pub struct DirLock(File);

impl DirLock {
    /// Waits up to [`LOCK_WAIT`] for the lock on `dir`. Holders keep it for
    /// milliseconds, so running out of time means a stuck process, not a queue.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        let f = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let mut pause = std::time::Duration::from_millis(2);
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(DirLock(f)),
                Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(100));
                }
                Err(fs::TryLockError::WouldBlock) => bail!(
                    "another process has held the lock on {} for over {} seconds; check for a stuck notation process and retry",
                    dir.display(),
                    LOCK_WAIT.as_secs()
                ),
                Err(fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", dir.display()));
                }
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_sets_mode_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one", PRIVATE).unwrap();
        write_atomic(&p, b"two", PRIVATE).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // No temporary files left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn read_regular_refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        fs::write(&target, b"x").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = read_regular(&link).unwrap_err().to_string();
        assert!(
            e.contains("is not a regular file (symlinks are not supported)"),
            "{e}"
        );
        assert_eq!(read_regular(&dir.path().join("missing")).unwrap(), None);
        assert_eq!(read_regular(&target).unwrap().unwrap(), b"x");
    }

    #[test]
    fn private_dir_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b");
        create_private_dir(&p).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
