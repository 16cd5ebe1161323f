//! Registry credentials: where they come from and where `login` stores them.
//!
//! Lookup order (notary-spec.md §4.3, notation v1.2+): notation's config.json
//! (`credHelpers[registry]`, else `credsStore`), else Docker's config.json
//! (`credHelpers[registry]`, else an `auths` entry, else `credsStore`), else anonymous.
//! Helpers are `docker-credential-<name>` executables speaking the
//! docker-credential-helpers protocol. No error message ever contains a secret.
//!
//! Docker Hub is special-cased as Docker does: `docker.io`, `index.docker.io` and
//! `registry-1.docker.io` are one registry whose server address (the helper's
//! `ServerURL` and the `auths` key `login` writes) is `https://index.docker.io/v1/`.

mod docker_config;
mod helper;
#[cfg(all(test, unix))]
mod tests;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{RegistryError, Result};
use crate::secret::Secret;
use docker_config::{DockerConfig, canonical_host};
use helper::{Helper, Runner};

/// What to authenticate with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// No credentials.
    Anonymous,
    /// Username and password (basic auth, or the token request's basic auth).
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// An OAuth2 refresh token ("identity token"), exchanged at the token realm with
    /// the refresh_token grant.
    IdentityToken(Secret),
}

/// Where credentials live, resolved from the environment by the CLI.
#[derive(Debug, Clone, Default)]
pub struct CredentialConfig {
    /// Docker's config directory (`$DOCKER_CONFIG`, else `~/.docker`).
    pub docker_config_dir: Option<PathBuf>,
    /// notation config.json `credsStore`.
    pub notation_creds_store: Option<String>,
    /// notation config.json `credHelpers`.
    pub notation_cred_helpers: BTreeMap<String, String>,
    /// The search path for `docker-credential-<name>` executables (None = the
    /// process `PATH`).
    pub helper_path: Option<OsString>,
}

/// Where `store` put a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredIn {
    /// A credential helper, `docker-credential-<name>`.
    Helper(String),
    /// Docker's config.json, in plain text (base64).
    PlainFile(PathBuf),
}

/// Longest a credential helper may run before it is killed.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// Looks up, stores and erases credentials.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    config: CredentialConfig,
    helper_timeout: Duration,
}

/// The server address credential stores key `registry` by: Docker Hub's legacy
/// `https://index.docker.io/v1/`, else the registry name itself.
pub(crate) fn server_address(registry: &str) -> String {
    if canonical_host(registry) == "docker.io" {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    }
}

impl CredentialStore {
    /// A store over `config`.
    pub fn new(config: CredentialConfig) -> CredentialStore {
        CredentialStore {
            config,
            helper_timeout: HELPER_TIMEOUT,
        }
    }

    /// The credential for `registry` (`host[:port]`), or Anonymous.
    pub fn get(&self, registry: &str) -> Result<Credential> {
        let registry = checked(registry)?;
        let server = server_address(registry);
        if let Some(helper) = self.notation_helper(registry) {
            return helper.get(self.runner(), &server, registry);
        }
        let docker = self.docker_config()?;
        if let Some(helper) = docker_cred_helper(&docker, registry) {
            return helper.get(self.runner(), &server, registry);
        }
        if let Some(credential) = docker.auth(registry)? {
            return Ok(credential);
        }
        if let Some(helper) = docker_creds_store(&docker) {
            return helper.get(self.runner(), &server, registry);
        }
        Ok(Credential::Anonymous)
    }

    /// Saves `credential` for `registry` (`notation login`): in the helper that applies
    /// (notation `credHelpers`, notation `credsStore`, Docker `credHelpers`, Docker
    /// `credsStore`), else in Docker's config.json `auths`.
    pub fn store(&self, registry: &str, credential: &Credential) -> Result<StoredIn> {
        let registry = checked(registry)?;
        if *credential == Credential::Anonymous {
            return Err(RegistryError::Credentials(format!(
                "no credentials to store for {registry}"
            )));
        }
        let server = server_address(registry);
        let mut docker = None;
        if let Some(helper) = self.store_helper(registry, &mut docker)? {
            helper.store(self.runner(), &server, registry, credential)?;
            return Ok(StoredIn::Helper(helper.name));
        }
        let mut docker = match docker {
            Some(d) => d,
            None => self.docker_config()?,
        };
        docker.set_auth(&server, credential)?;
        Ok(StoredIn::PlainFile(docker.save()?))
    }

    /// Removes the credential for `registry` (`notation logout`) from the helper that
    /// applies, else from Docker's config.json `auths` (every matching key).
    pub fn erase(&self, registry: &str) -> Result<()> {
        let registry = checked(registry)?;
        let server = server_address(registry);
        let mut docker = None;
        let erased = match self.store_helper(registry, &mut docker)? {
            Some(helper) => helper.erase(self.runner(), &server, registry)?,
            None => {
                let mut docker = match docker {
                    Some(d) => d,
                    None => self.docker_config()?,
                };
                let removed = docker.remove_auths(registry);
                if removed {
                    docker.save()?;
                }
                removed
            }
        };
        if erased {
            Ok(())
        } else {
            Err(RegistryError::Credentials(format!(
                "not logged in to {registry}"
            )))
        }
    }

    fn runner(&self) -> Runner<'_> {
        Runner {
            path: self.config.helper_path.as_deref(),
            timeout: self.helper_timeout,
        }
    }

    fn docker_config(&self) -> Result<DockerConfig> {
        DockerConfig::load(self.config.docker_config_dir.as_deref())
    }

    /// notation's `credHelpers[registry]`, else its `credsStore`.
    fn notation_helper(&self, registry: &str) -> Option<Helper> {
        let helpers: Vec<(&str, &str)> = self
            .config
            .notation_cred_helpers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        if let Some(name) = docker_config::lookup(&helpers, registry) {
            return Some(Helper {
                name: name.trim().to_owned(),
                origin: "notation config.json credHelpers".to_owned(),
            });
        }
        let store = self.config.notation_creds_store.as_deref()?.trim();
        (!store.is_empty()).then(|| Helper {
            name: store.to_owned(),
            origin: "notation config.json credsStore".to_owned(),
        })
    }

    /// The helper `store`/`erase` use, loading Docker's config into `docker` when it
    /// had to be read.
    fn store_helper(
        &self,
        registry: &str,
        docker: &mut Option<DockerConfig>,
    ) -> Result<Option<Helper>> {
        if let Some(helper) = self.notation_helper(registry) {
            return Ok(Some(helper));
        }
        let config = docker.insert(self.docker_config()?);
        Ok(docker_cred_helper(config, registry).or_else(|| docker_creds_store(config)))
    }
}

fn docker_cred_helper(docker: &DockerConfig, registry: &str) -> Option<Helper> {
    docker.cred_helper(registry).map(|name| Helper {
        name,
        origin: format!("{} credHelpers", docker.display_path()),
    })
}

fn docker_creds_store(docker: &DockerConfig) -> Option<Helper> {
    docker.creds_store().map(|name| Helper {
        name,
        origin: format!("{} credsStore", docker.display_path()),
    })
}

/// `registry` trimmed, or an error when empty.
fn checked(registry: &str) -> Result<&str> {
    let registry = registry.trim();
    if registry.is_empty() {
        Err(RegistryError::Credentials(
            "the registry name is empty".to_owned(),
        ))
    } else {
        Ok(registry)
    }
}
