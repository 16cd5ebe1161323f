//! `notation key add|list|update|delete` (spec §4.5). `key add --key-file
//! --cert-file` registers a local key that already exists, which notation lacks.
//! Every change is a locked read-modify-write of signingkeys.json.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use notation_core::chain::validate_signing_chain;
use notation_core::local_key::LocalKey;

use super::{exactly_one, now};
use crate::cli::{KeyAddArgs, KeyDeleteArgs, KeyUpdateArgs};
use crate::dirs::Dirs;
use crate::flags::{FlagGroups, parse_key_values};
use crate::fsutil::{self, DirLock};
use crate::output::Printer;
use crate::signing_keys::{KeySuite, SigningKeys};

/// Holds the config-directory lock, which serialises changes to its files.
pub fn lock_config(dirs: &Dirs) -> Result<DirLock> {
    fsutil::create_private_dir(dirs.config_dir())?;
    DirLock::acquire(dirs.config_dir())
}

/// Runs `f` on signingkeys.json under the config-directory lock and saves the result.
pub fn update_keys<T>(
    dirs: &Dirs,
    printer: &Printer,
    f: impl FnOnce(&mut SigningKeys) -> Result<T>,
) -> Result<T> {
    let _lock = lock_config(dirs)?;
    update_keys_locked(dirs, printer, f)
}

/// [`update_keys`] for a caller that already holds [`lock_config`].
pub fn update_keys_locked<T>(
    dirs: &Dirs,
    printer: &Printer,
    f: impl FnOnce(&mut SigningKeys) -> Result<T>,
) -> Result<T> {
    let path = dirs.signing_keys();
    let mut keys = SigningKeys::load(&path)?;
    let out = f(&mut keys)?;
    keys.save(&path)?;
    printer.debug(format_args!("wrote {}", path.display()));
    Ok(out)
}

fn absolute(path: &str) -> Result<String> {
    let p = std::fs::canonicalize(path).with_context(|| format!("cannot open {path}"))?;
    p.into_os_string()
        .into_string()
        .map_err(|_| anyhow::anyhow!("{path}: the path is not valid UTF-8"))
}

/// `notation key add`.
pub fn add(args: KeyAddArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let KeyAddArgs {
        name,
        key_file,
        cert_file,
        plugin,
        id,
        plugin_config,
        default,
        log: _,
    } = args;
    FlagGroups::default()
        .required_together(&["key-file", "cert-file"])
        .required_together(&["id", "plugin"])
        .one_required(&["key-file", "plugin"])
        .exclusive(&["key-file", "plugin"])
        .exclusive(&["cert-file", "id"])
        .check(|f| match f {
            "key-file" => key_file.is_some(),
            "cert-file" => cert_file.is_some(),
            "plugin" => plugin.is_some(),
            "id" => id.is_some(),
            _ => false,
        })?;
    let name = exactly_one(&name)?.to_owned();
    if name.is_empty() {
        bail!("key name cannot be empty");
    }
    let plugin_config = parse_key_values("plugin-config", &plugin_config)?;
    let suite = match (key_file, cert_file, plugin, id) {
        (Some(key_file), Some(cert_file), None, None) => {
            if !plugin_config.is_empty() {
                bail!("--plugin-config applies to plugin keys only");
            }
            let key_pem = fsutil::read_regular(Path::new(&key_file))?
                .with_context(|| format!("private key file {key_file} does not exist"))?;
            let cert_pem = fsutil::read_regular(Path::new(&cert_file))?
                .with_context(|| format!("certificate file {cert_file} does not exist"))?;
            let key = LocalKey::from_pem(&key_pem, &cert_pem)
                .with_context(|| format!("cannot add key {name}"))?;
            validate_signing_chain(key.certificate_chain(), Some(now())).with_context(|| {
                format!(
                    "cannot add key {name}: {cert_file} is not a valid signing certificate chain"
                )
            })?;
            warn_if_readable_by_others(&key_file, printer);
            KeySuite {
                name: name.clone(),
                key_path: Some(absolute(&key_file)?),
                cert_path: Some(absolute(&cert_file)?),
                id: None,
                plugin_name: None,
                plugin_config: Default::default(),
                extra: Default::default(),
            }
        }
        (None, None, Some(plugin), Some(id)) => {
            if id.is_empty() {
                bail!("missing key id");
            }
            if id.to_ascii_lowercase().contains("pin-value=") {
                printer.warn(
                    "the key id carries a PIN (pin-value); signingkeys.json keeps key ids in plain text: prefer pin-source=file:<path>",
                );
            }
            plugin_protocol::host::PluginDir::new(&dirs.libexec).executable(&plugin)?;
            KeySuite {
                name: name.clone(),
                key_path: None,
                cert_path: None,
                id: Some(id),
                plugin_name: Some(plugin),
                plugin_config,
                extra: Default::default(),
            }
        }
        _ => bail!("use either --key-file and --cert-file, or --plugin and --id"),
    };
    update_keys(dirs, printer, |keys| {
        if keys.get(&name).is_some() {
            bail!("signing key with name {name:?} already exists");
        }
        keys.keys.push(suite);
        if default {
            keys.default = Some(name.clone());
        }
        Ok(())
    })?;
    if default {
        printer.result(format_args!("{name}: marked as default"));
    } else {
        printer.result(&name);
    }
    Ok(())
}

fn warn_if_readable_by_others(path: &str, printer: &Printer) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        printer.warn(format_args!(
            "private key file {path} can be read by other users; restrict it with 'chmod 600 {path}'"
        ));
    }
}

/// `notation key list`.
pub fn list(dirs: &Dirs, printer: &Printer) -> Result<()> {
    let keys = SigningKeys::load(&dirs.signing_keys())?;
    let mut rows =
        vec![["NAME", "KEY PATH", "CERTIFICATE PATH", "ID", "PLUGIN NAME"].map(String::from)];
    for k in &keys.keys {
        let name = if keys.default.as_deref() == Some(k.name.as_str()) {
            format!("* {}", k.name)
        } else {
            k.name.clone()
        };
        let cell = |v: &Option<String>| v.clone().unwrap_or_default();
        rows.push([
            name,
            cell(&k.key_path),
            cell(&k.cert_path),
            cell(&k.id),
            cell(&k.plugin_name),
        ]);
    }
    for line in crate::table::render(&rows) {
        printer.result(line);
    }
    Ok(())
}

/// `notation key update`.
pub fn update(args: KeyUpdateArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let name = exactly_one(&args.name)?.to_owned();
    if !args.default {
        printer.warn("nothing to update: use --default to mark the key as the default signing key");
        return Ok(());
    }
    update_keys(dirs, printer, |keys| {
        if keys.get(&name).is_none() {
            bail!("signing key {name} not found");
        }
        keys.default = Some(name.clone());
        Ok(())
    })?;
    printer.result(format_args!("{name}: marked as default"));
    Ok(())
}

/// `notation key delete`.
pub fn delete(args: KeyDeleteArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let names = args.names;
    if names.is_empty() {
        bail!("missing key names: use `notation key delete <name>...`");
    }
    let was_default = update_keys(dirs, printer, |keys| {
        if let Some(missing) = names.iter().find(|n| keys.get(n).is_none()) {
            bail!("signing key {missing} not found; nothing was removed");
        }
        keys.keys.retain(|k| !names.contains(&k.name));
        let was_default = keys.default.clone().filter(|d| names.contains(d));
        if was_default.is_some() {
            keys.default = None;
        }
        Ok(was_default)
    })?;
    for n in &names {
        if was_default.as_deref() == Some(n.as_str()) {
            printer.result(format_args!(
                "Removed default key {n} from Notation signing key list. The source key still exists."
            ));
        } else {
            printer.result(format_args!(
                "Removed {n} from Notation signing key list. The source key still exists."
            ));
        }
    }
    Ok(())
}
