//! `signingkeys.json` in notation's exact format (spec §4.4): `default` and `keys[]`,
//! each key either local (`keyPath`, `certPath`) or external (`id`, `pluginName`,
//! `pluginConfig`). Unknown fields are kept so a newer notation's data survives.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fsutil;

/// One entry of `keys[]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeySuite {
    /// Key name.
    pub name: String,
    /// Local key: private key PEM path.
    #[serde(rename = "keyPath", default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<String>,
    /// Local key: certificate chain PEM path.
    #[serde(rename = "certPath", default, skip_serializing_if = "Option::is_none")]
    pub cert_path: Option<String>,
    /// External key: key id passed to the plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// External key: plugin name.
    #[serde(
        rename = "pluginName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub plugin_name: Option<String>,
    /// External key: plugin configuration.
    #[serde(
        rename = "pluginConfig",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugin_config: BTreeMap<String, String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a key entry refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource<'a> {
    /// A key and certificate chain in files.
    Local {
        /// Private key path.
        key_path: &'a str,
        /// Certificate chain path.
        cert_path: &'a str,
    },
    /// A key held by a plugin.
    Plugin {
        /// Plugin name.
        plugin: &'a str,
        /// Key id.
        id: &'a str,
        /// Stored plugin config.
        config: &'a BTreeMap<String, String>,
    },
}

impl KeySuite {
    /// The kind of key this entry names.
    pub fn source(&self) -> Result<KeySource<'_>> {
        match (&self.key_path, &self.cert_path, &self.id, &self.plugin_name) {
            (Some(k), Some(c), None, None) => Ok(KeySource::Local {
                key_path: k,
                cert_path: c,
            }),
            (None, None, Some(id), Some(p)) => Ok(KeySource::Plugin {
                plugin: p,
                id,
                config: &self.plugin_config,
            }),
            _ => bail!(
                "malformed signingkeys.json: key '{}' must have either keyPath and certPath, or id and pluginName",
                self.name
            ),
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SigningKeys {
    /// Name of the default key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// All keys.
    #[serde(default)]
    pub keys: Vec<KeySuite>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SigningKeys {
    /// Loads and validates the file; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<SigningKeys> {
        let Some(bytes) = fsutil::read_regular(path)? else {
            return Ok(SigningKeys::default());
        };
        let keys: SigningKeys = serde_json::from_slice(&bytes)
            .with_context(|| format!("malformed signingkeys.json at {}", path.display()))?;
        keys.validate()?;
        Ok(keys)
    }

    /// Notation's load/save checks, with its messages.
    pub fn validate(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for k in &self.keys {
            if k.name.is_empty() {
                bail!("malformed signingkeys.json: key name cannot be empty");
            }
            if !seen.insert(k.name.as_str()) {
                bail!(
                    "malformed signingkeys.json: multiple keys with name '{}' found",
                    k.name
                );
            }
            k.source()?;
        }
        if let Some(d) = &self.default {
            if d.is_empty() {
                bail!("malformed signingkeys.json: default key name cannot be empty");
            }
            if !seen.contains(d.as_str()) {
                bail!("malformed signingkeys.json: default key '{d}' not found");
            }
        }
        Ok(())
    }

    /// Writes the file atomically (0600, 4-space indentation like notation).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate()?;
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser)?;
        if let Some(dir) = path.parent() {
            fsutil::create_private_dir(dir)?;
        }
        fsutil::write_atomic(path, &out, fsutil::PRIVATE)
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&KeySuite> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Resolves `--key <name>` or the default key (notation's messages).
    pub fn resolve(&self, name: Option<&str>) -> Result<&KeySuite> {
        let name = match name {
            Some("") => bail!("key name cannot be empty"),
            Some(n) => n,
            None => match &self.default {
                Some(d) => d.as_str(),
                None => bail!(
                    "default signing key not set. Please set default signing key or specify a key name"
                ),
            },
        };
        self.get(name)
            .with_context(|| format!("signing key {name} not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTATION_FILE: &str = r#"{
    "default": "mykms",
    "keys": [
        {"name": "wabbit-networks", "keyPath": "/k.key", "certPath": "/k.crt"},
        {"name": "mykms", "id": "arn:aws:kms:key/123", "pluginName": "com.example.kms", "pluginConfig": {"region": "us-west-2"}}
    ]
}"#;

    #[test]
    fn reads_notation_format() {
        let k: SigningKeys = serde_json::from_str(NOTATION_FILE).unwrap();
        k.validate().unwrap();
        assert_eq!(k.resolve(None).unwrap().name, "mykms");
        match k.get("mykms").unwrap().source().unwrap() {
            KeySource::Plugin { plugin, id, config } => {
                assert_eq!(plugin, "com.example.kms");
                assert_eq!(id, "arn:aws:kms:key/123");
                assert_eq!(config["region"], "us-west-2");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            k.resolve(Some("nope")).unwrap_err().to_string(),
            "signing key nope not found"
        );
    }

    #[test]
    fn writes_notation_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("signingkeys.json");
        let k: SigningKeys = serde_json::from_str(NOTATION_FILE).unwrap();
        k.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with(
                "{\n    \"default\": \"mykms\",\n    \"keys\": [\n        {\n            \"name\""
            ),
            "{text}"
        );
        assert!(text.contains("\"keyPath\": \"/k.key\""));
        assert!(text.contains("\"pluginName\": \"com.example.kms\""));
        let back = SigningKeys::load(&p).unwrap();
        assert_eq!(back.keys, k.keys);
    }

    #[test]
    fn rejects_malformed() {
        let dup = r#"{"keys":[{"name":"a","keyPath":"k","certPath":"c"},{"name":"a","keyPath":"k","certPath":"c"}]}"#;
        let k: SigningKeys = serde_json::from_str(dup).unwrap();
        assert_eq!(
            k.validate().unwrap_err().to_string(),
            "malformed signingkeys.json: multiple keys with name 'a' found"
        );
        let nodefault = r#"{"default":"x","keys":[]}"#;
        let k: SigningKeys = serde_json::from_str(nodefault).unwrap();
        assert_eq!(
            k.validate().unwrap_err().to_string(),
            "malformed signingkeys.json: default key 'x' not found"
        );
        let k: SigningKeys = serde_json::from_str(r#"{"keys":[{"name":""}]}"#).unwrap();
        assert_eq!(
            k.validate().unwrap_err().to_string(),
            "malformed signingkeys.json: key name cannot be empty"
        );
        let k: SigningKeys =
            serde_json::from_str(r#"{"keys":[{"name":"a","keyPath":"k"}]}"#).unwrap();
        assert!(
            k.validate()
                .unwrap_err()
                .to_string()
                .contains("must have either keyPath and certPath")
        );
        let k = SigningKeys::default();
        assert!(
            k.resolve(None)
                .unwrap_err()
                .to_string()
                .starts_with("default signing key not set")
        );
    }
}
