//! `config.json` (spec §4.3). Only `signatureFormat` is read so far; other members
//! (`insecureRegistries`, `credsStore`, `credHelpers`) are left for the registry work.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::fsutil;

/// The parts of `config.json` notation defines.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigJson {
    /// Default of `--signature-format` (`jws` or `cose`).
    #[serde(rename = "signatureFormat", default)]
    pub signature_format: Option<String>,
}

impl ConfigJson {
    /// Loads the file; a missing file is the default configuration.
    pub fn load(path: &Path) -> Result<ConfigJson> {
        match fsutil::read_regular(path)? {
            None => Ok(ConfigJson::default()),
            Some(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("malformed config.json at {}", path.display())),
        }
    }
}
