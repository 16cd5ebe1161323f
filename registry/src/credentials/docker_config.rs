//! Docker's `config.json`: reading `auths`, `credHelpers` and `credsStore`, and
//! rewriting `auths` for `login`/`logout` without disturbing anything else in the file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Map, Value};

use super::{Credential, server_address};
use crate::error::{RegistryError, Result};
use crate::secret::Secret;

/// Docker Hub's host names, all of which mean the same registry.
const DOCKER_HUB_ALIASES: [&str; 3] = ["index.docker.io", "registry-1.docker.io", "docker.io"];

/// The host[:port] a registry name or config key refers to: scheme and path stripped,
/// lower-cased, Docker Hub aliases folded into `docker.io`.
pub(crate) fn canonical_host(key: &str) -> String {
    let key = key.trim();
    let lower = key.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = rest.split('/').next().unwrap_or_default();
    if DOCKER_HUB_ALIASES.contains(&host) {
        "docker.io".to_owned()
    } else {
        host.to_owned()
    }
}

/// True when the config key `key` names `registry`.
pub(crate) fn key_matches(key: &str, registry: &str) -> bool {
    let host = canonical_host(key);
    !host.is_empty() && host == canonical_host(registry)
}

/// Looks `registry` up in `(key, value)` pairs keyed by registry names: the exact
/// key, then the server address, then any key that normalises to the same host (in
/// order).
pub(crate) fn lookup<'a>(entries: &[(&'a str, &'a str)], registry: &str) -> Option<&'a str> {
    let server = server_address(registry);
    let by_key = |want: &str| entries.iter().find(|(k, _)| *k == want);
    by_key(registry)
        .or_else(|| by_key(&server))
        .or_else(|| entries.iter().find(|(k, _)| key_matches(k, registry)))
        .map(|(_, v)| *v)
}

/// A loaded Docker config.json (an empty object when the directory or file is missing).
#[derive(Debug)]
pub(crate) struct DockerConfig {
    /// `<dir>/config.json`, or None when there is no Docker config directory.
    pub(crate) path: Option<PathBuf>,
    root: Map<String, Value>,
}

impl DockerConfig {
    /// Reads `<dir>/config.json`.
    pub(crate) fn load(dir: Option<&Path>) -> Result<DockerConfig> {
        let Some(dir) = dir else {
            return Ok(DockerConfig {
                path: None,
                root: Map::new(),
            });
        };
        let path = dir.join("config.json");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DockerConfig {
                    path: Some(path),
                    root: Map::new(),
                });
            }
            Err(source) => {
                return Err(RegistryError::Io {
                    context: format!("cannot read {}", path.display()),
                    source,
                });
            }
        };
        // Value parsing errors name a position, never the content.
        let root = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(RegistryError::Credentials(format!(
                    "{} is not a JSON object",
                    path.display()
                )));
            }
            Err(e) => {
                return Err(RegistryError::Credentials(format!(
                    "cannot parse {}: {e}",
                    path.display()
                )));
            }
        };
        Ok(DockerConfig {
            path: Some(path),
            root,
        })
    }

    /// Where the config is, for messages.
    pub(crate) fn display_path(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "Docker config.json".to_owned(),
        }
    }

    fn string_map(&self, field: &str) -> Vec<(&str, &str)> {
        match self.root.get(field) {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `credHelpers[registry]`, if set and non-empty.
    pub(crate) fn cred_helper(&self, registry: &str) -> Option<String> {
        lookup(&self.string_map("credHelpers"), registry)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// `credsStore`, if set and non-empty.
    pub(crate) fn creds_store(&self) -> Option<String> {
        self.root
            .get("credsStore")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    /// The credential stored in `auths` for `registry`, if any entry holds one.
    /// Entries that hold nothing (`{}`, as Docker writes next to a `credsStore`) are
    /// skipped. A malformed `auth` is an error naming the file and registry.
    pub(crate) fn auth(&self, registry: &str) -> Result<Option<Credential>> {
        let Some(Value::Object(auths)) = self.root.get("auths") else {
            return Ok(None);
        };
        let server = server_address(registry);
        // Preferred keys first, then every matching key in file order.
        let mut keys: Vec<&String> = Vec::new();
        for want in [registry, server.as_str()] {
            if let Some((k, _)) = auths.get_key_value(want)
                && !keys.contains(&k)
            {
                keys.push(k);
            }
        }
        for k in auths.keys() {
            if key_matches(k, registry) && !keys.contains(&k) {
                keys.push(k);
            }
        }
        for key in keys {
            if let Some(Value::Object(entry)) = auths.get(key)
                && let Some(cred) = self.parse_entry(entry, registry)?
            {
                return Ok(Some(cred));
            }
        }
        Ok(None)
    }

    fn parse_entry(
        &self,
        entry: &Map<String, Value>,
        registry: &str,
    ) -> Result<Option<Credential>> {
        let field = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let Some(token) = field("identitytoken") {
            return Ok(Some(Credential::IdentityToken(Secret::new(token))));
        }
        if let Some(auth) = field("auth") {
            let malformed = |why: &str| {
                RegistryError::Credentials(format!(
                    "malformed auth for {registry} in {}: {why}",
                    self.display_path()
                ))
            };
            let auth = auth.trim();
            let decoded = STANDARD
                .decode(auth)
                .or_else(|_| STANDARD_NO_PAD.decode(auth.trim_end_matches('=')))
                .map_err(|_| malformed("not valid base64"))?;
            let decoded = String::from_utf8(decoded).map_err(|_| malformed("not valid UTF-8"))?;
            let Some((user, pass)) = decoded.split_once(':') else {
                return Err(malformed("expected base64 of 'username:password'"));
            };
            if user.is_empty() && pass.is_empty() {
                return Ok(None);
            }
            return Ok(Some(Credential::Basic {
                username: user.to_owned(),
                password: Secret::new(pass),
            }));
        }
        match (field("username"), field("password")) {
            (None, None) => Ok(None),
            (user, pass) => Ok(Some(Credential::Basic {
                username: user.unwrap_or_default().to_owned(),
                password: Secret::new(pass.unwrap_or_default()),
            })),
        }
    }

    /// Sets `auths[key]` to the credential, replacing what was there.
    pub(crate) fn set_auth(&mut self, key: &str, credential: &Credential) -> Result<()> {
        let entry = match credential {
            Credential::Anonymous => {
                return Err(RegistryError::Credentials(format!(
                    "no credentials to store for {key}"
                )));
            }
            Credential::Basic { username, password } => {
                if username.contains(':') {
                    return Err(RegistryError::Credentials(format!(
                        "cannot store credentials for {key} in {}: the username contains ':'",
                        self.display_path()
                    )));
                }
                let auth = STANDARD.encode(format!("{username}:{}", password.expose()));
                Value::Object(Map::from_iter([("auth".to_owned(), Value::String(auth))]))
            }
            Credential::IdentityToken(token) => Value::Object(Map::from_iter([(
                "identitytoken".to_owned(),
                Value::String(token.expose().to_owned()),
            )])),
        };
        let auths = self
            .root
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        if let Value::Object(map) = auths {
            map.insert(key.to_owned(), entry);
        }
        Ok(())
    }

    /// Removes every `auths` entry naming `registry`; true when one was removed.
    pub(crate) fn remove_auths(&mut self, registry: &str) -> bool {
        let Some(Value::Object(auths)) = self.root.get_mut("auths") else {
            return false;
        };
        let before = auths.len();
        auths.retain(|k, _| !key_matches(k, registry));
        auths.len() != before
    }

    /// Writes the file atomically (temporary file in the same directory, then rename)
    /// with mode 0600, creating the directory with mode 0700 if missing. A symlinked
    /// config.json is written through (its target is replaced), as Docker does.
    pub(crate) fn save(&self) -> Result<PathBuf> {
        let Some(path) = &self.path else {
            return Err(RegistryError::Credentials(
                "cannot store credentials: no Docker config directory (set DOCKER_CONFIG or HOME)"
                    .to_owned(),
            ));
        };
        let io_err = |what: &str, p: &Path| {
            let context = format!("cannot {what} {}", p.display());
            move |source| RegistryError::Io { context, source }
        };
        let target = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(path).map_err(io_err("resolve", path))?
            }
            _ => path.clone(),
        };
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(&dir)
                .map_err(io_err("create directory", &dir))?;
        }
        let mut bytes =
            serde_json::to_vec_pretty(&Value::Object(self.root.clone())).map_err(|e| {
                RegistryError::Credentials(format!("cannot encode {}: {e}", target.display()))
            })?;
        bytes.push(b'\n');
        let write_err = io_err("write", &target);
        let mut tmp = tempfile::Builder::new()
            .prefix(".config.json.")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(io_err("create a temporary file in", &dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io_err("set permissions on", tmp.path()))?;
        }
        tmp.write_all(&bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io_err("write", tmp.path()))?;
        tmp.persist(&target).map_err(|e| write_err(e.error))?;
        Ok(path.clone())
    }
}
