//! `notation cert add|list|show|delete` (notary-spec.md §4.9, §4.10): named trust
//! stores under `truststore/x509/<type>/<store>/`. Certificates are checked before
//! anything is written; files are written 0600 in 0700 directories, atomically and
//! never over an existing file; a failed `add` leaves the store as it was.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use notation_core::timefmt::format_rfc3339;
use notation_core::trust_store::{StoreType, valid_store_name};

use super::exactly_one;
use crate::cli_trust::{CertAddArgs, CertDeleteArgs, CertListArgs, CertShowArgs};
use crate::dirs::Dirs;
use crate::fsutil;
use crate::output::Printer;
use crate::trust_store::{TrustStore, plain_file_name, read_certificates};

/// Asks a yes/no question on stderr; only `y`/`yes` (any case) is yes.
pub fn confirm(printer: &Printer, question: &str) -> bool {
    printer.prompt(format_args!("{question} [y/N] "));
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn parse_type(raw: &str) -> Result<StoreType> {
    StoreType::from_name(raw).ok_or_else(|| {
        anyhow::anyhow!("unsupported trust store type {raw:?}: use ca, signingAuthority or tsa")
    })
}

fn parse_store(raw: &str) -> Result<String> {
    if !valid_store_name(raw) {
        bail!("named store name needs to follow [a-zA-Z0-9_.-]+ format, not {raw:?}");
    }
    Ok(raw.to_owned())
}

/// `--type` and `--store`, both required, with cobra's message when missing.
fn type_and_store(t: Option<String>, s: Option<String>) -> Result<(StoreType, String)> {
    match (t, s) {
        (Some(t), Some(s)) => Ok((parse_type(&t)?, parse_store(&s)?)),
        (None, None) => bail!("required flag(s) \"store\", \"type\" not set"),
        (None, _) => bail!("required flag(s) \"type\" not set"),
        (_, None) => bail!("required flag(s) \"store\" not set"),
    }
}

/// The label of the first PEM block that is not a certificate, if any: a file with
/// a private key next to its certificate must not be copied into the trust store.
fn non_certificate_pem_block(bytes: &[u8]) -> Option<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("-----BEGIN "))
        .filter_map(|l| l.strip_suffix("-----"))
        .find(|label| *label != "CERTIFICATE")
        .map(str::to_owned)
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

/// `notation cert add`.
pub fn add(args: CertAddArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let (store_type, store) = type_and_store(args.store_type, args.store)?;
    if args.paths.is_empty() {
        bail!("requires at least 1 arg(s), only received 0: pass the certificate files to add");
    }
    let ts = TrustStore::new(dirs);
    let dir = ts.dir(store_type, &store);
    // Everything is read and checked before anything is written.
    let mut planned: Vec<(String, PathBuf, Vec<u8>)> = Vec::new();
    for p in &args.paths {
        let src = Path::new(p);
        let name = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| plain_file_name(n))
            .ok_or_else(|| anyhow::anyhow!("{p:?} does not name a certificate file"))?;
        let certs = read_certificates(src, store_type)?;
        let bytes = fsutil::read_regular(src)?.unwrap_or_default();
        if let Some(label) = non_certificate_pem_block(&bytes) {
            bail!(
                "{p} holds a PEM block {label:?}: only certificates belong in a trust store (is this a key file?)"
            );
        }
        printer.debug(format_args!(
            "read {} certificate(s) from {}",
            certs.len(),
            src.display()
        ));
        if planned.iter().any(|(n, _, _)| *n == name) {
            bail!("two certificate files are named {name:?}; a store holds files by name");
        }
        let dst = dir.join(&name);
        if std::fs::symlink_metadata(&dst).is_ok() {
            bail!(
                "certificate {name:?} already exists in the trust store {store:?} of type \"{store_type}\": delete it first with 'notation cert delete --type {store_type} --store {store} {name}'"
            );
        }
        planned.push((name, dst, bytes));
    }
    fsutil::create_private_dir(&dir)?;
    let mut rollback = Rollback(Vec::new());
    for (_, dst, bytes) in &planned {
        fsutil::create_new_atomic(dst, bytes, fsutil::PRIVATE)?;
        rollback.0.push(dst.clone());
        printer.debug(format_args!("wrote {}", dst.display()));
    }
    rollback.0.clear();
    printer.result(format_args!(
        "Successfully added following certificates to named store {store} of type {store_type}:"
    ));
    for (name, _, _) in &planned {
        printer.result(name);
    }
    Ok(())
}

/// `notation cert list`: every certificate file of every (or the chosen) store.
pub fn list(args: CertListArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let type_filter = args.store_type.as_deref().map(parse_type).transpose()?;
    let store_filter = args.store.as_deref().map(parse_store).transpose()?;
    let ts = TrustStore::new(dirs);
    let mut rows = vec![["STORE TYPE", "STORE NAME", "CERTIFICATE"].map(String::from)];
    for (t, name) in ts.stores(type_filter, store_filter.as_deref())? {
        let mut files: Vec<String> = std::fs::read_dir(ts.dir(t, &name))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with(".notation-tmp-"))
            .collect();
        files.sort();
        for f in files {
            rows.push([t.to_string(), name.clone(), f]);
        }
    }
    for line in crate::table::render(&rows) {
        printer.result(line);
    }
    Ok(())
}

/// `notation cert show`: the details of each certificate in a store file.
pub fn show(args: CertShowArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let (store_type, store) = type_and_store(args.store_type, args.store)?;
    let file = exactly_one(&args.file)?;
    if !plain_file_name(file) {
        bail!("{file:?} is not a certificate file name in the store");
    }
    let path = TrustStore::new(dirs).dir(store_type, &store).join(file);
    if std::fs::symlink_metadata(&path).is_err() {
        bail!(
            "certificate {file:?} does not exist in the trust store {store:?} of type \"{store_type}\""
        );
    }
    let certs = read_certificates(&path, store_type)?;
    for (i, c) in certs.iter().enumerate() {
        if i > 0 {
            printer.result("");
        }
        printer.result("Certificate details");
        printer.result("-".repeat(80));
        printer.result(format_args!("Issuer: {}", c.issuer));
        printer.result(format_args!("Subject: {}", c.subject));
        printer.result(format_args!("Valid from: {}", format_rfc3339(c.not_before)));
        printer.result(format_args!("Valid to: {}", format_rfc3339(c.not_after)));
        printer.result(format_args!("IsCA: {}", c.is_ca()));
        printer.result(format_args!(
            "SHA256 Thumbprint: {}",
            c.sha256_fingerprint()
        ));
    }
    Ok(())
}

/// `notation cert delete`: one file of a store, or (`--all`) the whole store.
pub fn delete(args: CertDeleteArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let (store_type, store) = type_and_store(args.store_type, args.store)?;
    let dir = TrustStore::new(dirs).dir(store_type, &store);
    let file = match (args.all, args.file.as_slice()) {
        (true, []) => None,
        (true, _) => bail!("--all deletes the whole store; do not also name a certificate file"),
        (false, []) => bail!(
            "missing certificate file name: pass <cert_file>, or --all to delete the whole store"
        ),
        (false, _) => Some(exactly_one(&args.file)?.to_owned()),
    };
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        _ => bail!("the trust store {store:?} of type \"{store_type}\" does not exist"),
    }
    match file {
        None => {
            if !args.yes
                && !confirm(
                    printer,
                    &format!(
                        "Are you sure you want to delete all certificates in {store:?} of type {:?}?",
                        store_type.as_str()
                    ),
                )
            {
                printer.result("Operation cancelled.");
                return Ok(());
            }
            std::fs::remove_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("cannot delete {}: {e}", dir.display()))?;
            printer.result(format_args!("Successfully deleted {store}"));
        }
        Some(file) => {
            if !plain_file_name(&file) {
                bail!("{file:?} is not a certificate file name in the store");
            }
            let path = dir.join(&file);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if !m.is_dir() => {}
                _ => bail!(
                    "certificate {file:?} does not exist in the trust store {store:?} of type \"{store_type}\""
                ),
            }
            if !args.yes
                && !confirm(
                    printer,
                    &format!(
                        "Are you sure you want to delete {file:?} in {store:?} of type {:?}?",
                        store_type.as_str()
                    ),
                )
            {
                printer.result("Operation cancelled.");
                return Ok(());
            }
            std::fs::remove_file(&path)
                .map_err(|e| anyhow::anyhow!("cannot delete {}: {e}", path.display()))?;
            printer.result(format_args!(
                "Successfully deleted {file} from trust store {store} of type {store_type}"
            ));
        }
    }
    Ok(())
}
