//! Builds the registry client for a command from flags, environment and config:
//! transport (plain HTTP rules, extra CAs) and where credentials come from, in
//! notation's order: `-u/-p`, then `NOTATION_USERNAME`/`NOTATION_PASSWORD`, then
//! notation's and Docker's credential configuration.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use notation_registry::client::Client;
use notation_registry::credentials::{Credential, CredentialConfig, CredentialStore};
use notation_registry::http::TransportConfig;
use notation_registry::secret::Secret;

use crate::config_json::ConfigJson;
use crate::env::{Env, vars};
use crate::output::Printer;

/// Registry flags shared by commands.
#[derive(Default)]
pub struct RegistryFlags {
    /// `-u/--username`.
    pub username: Option<String>,
    /// `-p/--password`.
    pub password: Option<Secret>,
    /// `--insecure-registry`.
    pub insecure: bool,
}

/// A credential from a user name and password pair: an empty user name with a
/// password means the password is an identity (refresh) token (spec §4.1).
pub fn credential_from(
    username: Option<String>,
    password: Option<Secret>,
    source: &str,
) -> Result<Option<Credential>> {
    match (username, password) {
        (None, None) => Ok(None),
        (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credential::Basic {
            username: u,
            password: p,
        })),
        (_, Some(p)) if !p.is_empty() => Ok(Some(Credential::IdentityToken(p))),
        (Some(u), _) if !u.is_empty() => {
            bail!("{source}: a user name was given without a password")
        }
        _ => Ok(None),
    }
}

/// Where notation and Docker keep credentials, from the environment and config.json.
pub fn credential_config(env: &Env, config: &ConfigJson) -> CredentialConfig {
    CredentialConfig {
        docker_config_dir: env
            .path(vars::DOCKER_CONFIG)
            .or_else(|| env.path(vars::HOME).map(|h| h.join(".docker"))),
        notation_creds_store: config.creds_store.clone(),
        notation_cred_helpers: config.cred_helpers.clone(),
        helper_path: env.get("PATH").map(Into::into),
    }
}

/// `SSL_CERT_FILE` and `SSL_CERT_DIR`, when set.
fn extra_ca_paths(env: &Env) -> Vec<PathBuf> {
    [vars::SSL_CERT_FILE, vars::SSL_CERT_DIR]
        .into_iter()
        .filter_map(|v| env.path(v))
        .collect()
}

/// The extra CA certificates (PEM) of `SSL_CERT_FILE` and `SSL_CERT_DIR`.
pub fn extra_ca_pems(env: &Env) -> Result<Vec<Vec<u8>>> {
    Ok(notation_registry::http::read_ca_paths(&extra_ca_paths(
        env,
    ))?)
}

/// Transport settings: plain-HTTP rules and extra CAs (read when the first HTTPS
/// request is sent).
pub fn transport(insecure: bool, env: &Env, config: &ConfigJson) -> Result<TransportConfig> {
    Ok(TransportConfig {
        insecure_all: insecure,
        insecure_registries: config.insecure_registries.clone(),
        extra_ca_paths: extra_ca_paths(env),
        ..TransportConfig::default()
    })
}

/// The registry client for one command.
pub fn client(
    flags: RegistryFlags,
    env: &Env,
    config: &ConfigJson,
    printer: &Printer,
) -> Result<Client> {
    let transport = transport(flags.insecure, env, config)?;
    let fixed = match credential_from(flags.username, flags.password, "-u/-p")? {
        Some(c) => Some(c),
        None => credential_from(
            env.get(vars::NOTATION_USERNAME).map(str::to_owned),
            env.get(vars::NOTATION_PASSWORD).map(Secret::new),
            "NOTATION_USERNAME/NOTATION_PASSWORD",
        )?,
    };
    let store = CredentialStore::new(credential_config(env, config));
    let mut client = Client::new(transport, move |registry| match &fixed {
        Some(c) => Ok(c.clone()),
        None => store.get(registry),
    })
    .context("cannot set up the registry client")?;
    let p = *printer;
    client.set_trace(Box::new(move |line| p.debug(format_args!("HTTP {line}"))));
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_rules() {
        let s = |v: &str| Some(Secret::new(v));
        assert_eq!(credential_from(None, None, "x").unwrap(), None);
        assert!(matches!(
            credential_from(Some("u".into()), s("p"), "x").unwrap(),
            Some(Credential::Basic { .. })
        ));
        assert!(matches!(
            credential_from(Some(String::new()), s("tok"), "x").unwrap(),
            Some(Credential::IdentityToken(_))
        ));
        assert!(matches!(
            credential_from(None, s("tok"), "x").unwrap(),
            Some(Credential::IdentityToken(_))
        ));
        assert!(
            credential_from(Some("u".into()), None, "-u/-p")
                .unwrap_err()
                .to_string()
                .contains("without a password")
        );
    }
}
