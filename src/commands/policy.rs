//! `notation policy import|show` (notary-spec.md §4.10, §4.12): the OCI trust
//! policy. `import` validates the file with every rule before writing
//! `trustpolicy.oci.json` (0600, atomically); `show` prints the policy in use and
//! fails, after printing it, when it is invalid.

use std::path::Path;

use anyhow::{Result, bail};
use notation_core::policy::TrustPolicyDocument;

use super::exactly_one;
use super::truststore::confirm;
use crate::cli_trust::PolicyImportArgs;
use crate::dirs::Dirs;
use crate::fsutil;
use crate::output::Printer;
use crate::trust_policy::{self, OCI_POLICY};

/// `notation policy import`.
pub fn import(args: PolicyImportArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let file = exactly_one(&args.file)?;
    let Some(bytes) = fsutil::read_regular(Path::new(file))? else {
        bail!("{file} does not exist");
    };
    let doc = TrustPolicyDocument::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("failed to import {file}: {e}"))?;
    printer.info(format_args!(
        "{file} is valid: {} statement(s)",
        doc.statements.len()
    ));
    let dst = dirs.config.join(OCI_POLICY);
    if let Some(existing) = trust_policy::find(dirs)? {
        printer.debug(format_args!(
            "a trust policy exists at {}",
            existing.path.display()
        ));
        if !args.force
            && !confirm(
                printer,
                "The trust policy file already exists, do you want to overwrite it?",
            )
        {
            printer.result("Operation cancelled.");
            return Ok(());
        }
    }
    fsutil::create_private_dir(&dirs.config)?;
    fsutil::write_atomic(&dst, &bytes, fsutil::PRIVATE)?;
    printer.debug(format_args!("wrote {}", dst.display()));
    printer.result("Trust policy configuration imported successfully.");
    Ok(())
}

/// `notation policy show`.
pub fn show(dirs: &Dirs, printer: &Printer) -> Result<()> {
    let Some(file) = trust_policy::find(dirs)? else {
        bail!(
            "failed to show trust policy as the trust policy file does not exist. You can import one using `notation policy import <path-to-policy.json>`"
        );
    };
    printer.debug(format_args!("read {}", file.path.display()));
    let text = String::from_utf8_lossy(&file.bytes);
    for line in text.lines() {
        printer.result(line);
    }
    if let Err(e) = TrustPolicyDocument::parse(&file.bytes) {
        bail!(
            "existing trust policy configuration is invalid ({e}), you may update or create a new one via `notation policy import <path-to-policy.json>`"
        );
    }
    Ok(())
}
