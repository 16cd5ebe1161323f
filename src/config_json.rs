//! `config.json` (spec §4.3): plain-HTTP registries, credential stores and the
//! default signature format.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::fsutil;

/// The parts of `config.json` notation defines.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigJson {
    /// Registries reached over plain HTTP.
    #[serde(rename = "insecureRegistries", default)]
    pub insecure_registries: Vec<String>,
    /// Default credential helper.
    #[serde(rename = "credsStore", default)]
    pub creds_store: Option<String>,
    /// Per-registry credential helpers.
    #[serde(rename = "credHelpers", default)]
    pub cred_helpers: BTreeMap<String, String>,
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
