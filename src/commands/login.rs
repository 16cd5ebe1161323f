//! `notation login` and `notation logout` (spec §4.12): credentials are checked
//! against the registry before anything is stored; they go to the configured
//! credential helper, else to Docker's config.json (0600, with a warning).

use std::io::Read as _;

use anyhow::{Context as _, Result, bail};
use notation_registry::client::Client;
use notation_registry::credentials::{CredentialStore, StoredIn};
use notation_registry::secret::Secret;

use super::exactly_one;
use crate::cli::{LoginArgs, LogoutArgs};
use crate::config_json::ConfigJson;
use crate::dirs::Dirs;
use crate::env::Env;
use crate::output::Printer;
use crate::registry_setup::{credential_config, credential_from};

fn registry_arg(args: &[String]) -> Result<String> {
    let registry = exactly_one(args)?.trim_end_matches('/').to_owned();
    let host = registry
        .strip_prefix("https://")
        .or_else(|| registry.strip_prefix("http://"))
        .unwrap_or(&registry);
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        bail!(
            "invalid registry {registry:?}: expected <host>[:<port>], for example localhost:5000"
        );
    }
    Ok(host.to_owned())
}

/// `notation login`.
pub fn login(args: LoginArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let LoginArgs {
        registry,
        username,
        password,
        password_stdin,
        insecure_registry,
        log: _,
    } = args;
    let registry = registry_arg(&registry)?;
    if password.is_some() && password_stdin {
        bail!(
            "if any flags in the group [password password-stdin] are set none of the others can be; [password password-stdin] were all set"
        );
    }
    let password = if password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the password from stdin")?;
        Some(s.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        password
    };
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        bail!(
            "a password is required: pass -p <password> or --password-stdin (an empty user name makes it an identity token)"
        );
    };
    let credential = credential_from(username, Some(Secret::new(password)), "login")?
        .context("a password is required")?;
    let config = ConfigJson::load(&dirs.config_json())?;
    let transport = crate::registry_setup::transport(insecure_registry, env, &config)?;
    let checked = credential.clone();
    let client = Client::new(transport, move |_| Ok(checked.clone()))?;
    let challenged = client
        .check_login(&registry)
        .with_context(|| format!("login to {registry} refused; nothing was stored"))?;
    if !challenged {
        printer.warn(format_args!(
            "{registry} did not ask for credentials, so they could not be checked; they are stored anyway"
        ));
    }
    let store = CredentialStore::new(credential_config(env, &config));
    match store.store(&registry, &credential)? {
        StoredIn::Helper(name) => printer.info(format_args!("stored the credentials with docker-credential-{name}")),
        StoredIn::PlainFile(path) => printer.warn(format_args!(
            "Your password will be stored unencrypted in {}. Configure a credential helper (credsStore) to avoid this.",
            path.display()
        )),
    }
    printer.result("Login Succeeded");
    Ok(())
}

/// `notation logout`.
pub fn logout(args: LogoutArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let registry = registry_arg(&args.registry)?;
    let config = ConfigJson::load(&dirs.config_json())?;
    CredentialStore::new(credential_config(env, &config)).erase(&registry)?;
    printer.result("Logout Succeeded");
    Ok(())
}
