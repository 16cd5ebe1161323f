//! The OCI trust policy file (spec §4.2, §4.10): `{NOTATION_CONFIG}/
//! trustpolicy.oci.json`, falling back to `trustpolicy.json` (notation v1.x's
//! name) when the first does not exist. Symlinks are refused, as for every
//! configuration file.

use std::path::PathBuf;

use anyhow::{Result, bail};
use notation_core::policy::TrustPolicyDocument;

use crate::dirs::Dirs;
use crate::fsutil;

/// The file name written by `policy import` and read first.
pub const OCI_POLICY: &str = "trustpolicy.oci.json";
/// notation v1.x's file name, read when the first is absent.
pub const LEGACY_POLICY: &str = "trustpolicy.json";

/// A trust policy file as found on disk.
pub struct PolicyFile {
    /// Where it was read.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The trust policy file in use, if any.
pub fn find(dirs: &Dirs) -> Result<Option<PolicyFile>> {
    for name in [OCI_POLICY, LEGACY_POLICY] {
        let path = dirs.config.join(name);
        if let Some(bytes) = fsutil::read_regular(&path)? {
            return Ok(Some(PolicyFile { path, bytes }));
        }
    }
    Ok(None)
}

/// Reads and validates the trust policy in use.
pub fn load(dirs: &Dirs) -> Result<(PathBuf, TrustPolicyDocument)> {
    let Some(file) = find(dirs)? else {
        bail!(
            "trust policy is not present: create {} (for example with 'notation policy import <file>')",
            dirs.config.join(OCI_POLICY).display()
        );
    };
    match TrustPolicyDocument::parse(&file.bytes) {
        Ok(doc) => Ok((file.path, doc)),
        Err(e) => bail!("{}: {e}", file.path.display()),
    }
}
