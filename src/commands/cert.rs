//! `notation cert generate-test` (spec §4.9): a throwaway RSA key and self-signed
//! certificate under `localkeys/`, the certificate in trust store `ca/<name>`, and
//! the key in signingkeys.json. Everything is checked before anything is written,
//! and files written are removed again if a later step fails.

use std::path::PathBuf;

use anyhow::{Result, bail};
use notation_core::timefmt::format_rfc3339;

use super::key::{lock_config, update_keys_locked};
use super::{exactly_one, now};
use crate::cli::GenerateTestArgs;
use crate::dirs::Dirs;
use crate::fsutil;
use crate::output::Printer;
use crate::signing_keys::{KeySuite, SigningKeys};

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Removes the files it holds unless disarmed.
struct Rollback(Vec<PathBuf>);

impl Drop for Rollback {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `notation cert generate-test`.
pub fn generate_test(args: GenerateTestArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let name = exactly_one(&args.name)?.to_owned();
    if !valid_name(&name) {
        bail!("name needs to follow [a-zA-Z0-9_.-]+ format");
    }
    let key_path = dirs.local_keys().join(format!("{name}.key"));
    let cert_path = dirs.local_keys().join(format!("{name}.crt"));
    let store_dir = dirs.trust_store("ca", &name);
    let store_cert = store_dir.join(format!("{name}.crt"));
    crate::test_cert::rsa_key_size(args.bits)?;
    // Held from the existence checks to the key-list update, so two runs with the same
    // name cannot interleave; files are created no-clobber, so a rollback only ever
    // removes this run's own files.
    let _lock = lock_config(dirs)?;
    if SigningKeys::load(&dirs.signing_keys())?
        .get(&name)
        .is_some()
    {
        bail!("signing key with name {name:?} already exists");
    }
    for p in [&key_path, &cert_path, &store_cert] {
        if std::fs::symlink_metadata(p).is_ok() {
            bail!(
                "{} already exists; remove it or choose another name",
                p.display()
            );
        }
    }

    printer.result(format_args!("generating RSA Key with {} bits", args.bits));
    let generated = crate::test_cert::generate(&name, args.bits, now())?;
    printer.result(format_args!(
        "generated certificate expiring on {}",
        format_rfc3339(generated.not_after)
    ));

    let mut rollback = Rollback(Vec::new());
    fsutil::create_private_dir(&dirs.local_keys())?;
    fsutil::create_new_atomic(&key_path, generated.key_pem.as_bytes(), fsutil::PRIVATE)?;
    rollback.0.push(key_path.clone());
    fsutil::create_new_atomic(&cert_path, generated.cert_pem.as_bytes(), fsutil::PUBLIC)?;
    rollback.0.push(cert_path.clone());
    fsutil::create_private_dir(&store_dir)?;
    fsutil::create_new_atomic(&store_cert, generated.cert_pem.as_bytes(), fsutil::PUBLIC)?;
    rollback.0.push(store_cert.clone());

    let path_string = |p: &PathBuf| p.to_string_lossy().into_owned();
    update_keys_locked(dirs, printer, |keys| {
        if keys.get(&name).is_some() {
            bail!("signing key with name {name:?} already exists");
        }
        keys.keys.push(KeySuite {
            name: name.clone(),
            key_path: Some(path_string(&key_path)),
            cert_path: Some(path_string(&cert_path)),
            id: None,
            plugin_name: None,
            plugin_config: Default::default(),
            extra: Default::default(),
        });
        if args.default {
            keys.default = Some(name.clone());
        }
        Ok(())
    })?;
    rollback.0.clear();

    printer.result(format_args!("wrote key: {}", key_path.display()));
    printer.result(format_args!("wrote certificate: {}", cert_path.display()));
    printer.result(format_args!(
        "Successfully added {name}.crt to named store {name} of type ca"
    ));
    printer.result(format_args!("{name}: added to the key list"));
    if args.default {
        printer.result(format_args!("{name}: marked as default signing key"));
    }
    Ok(())
}
