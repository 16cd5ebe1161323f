//! `notation verify` (notary-spec.md §4.10, §4.11): Args → [`VerifySettings`] →
//! [`run`]: load the trust policy, resolve the artifact, pick the statement for
//! its scope (`<registry>/<repository>`, or `--scope` for layouts), load the trust
//! stores it names, then verify signature manifests one by one with the engine of
//! `notation_core::verify` until one verifies (at most `--max-signatures`).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use notation_core::policy::scope::validate_scope;
use notation_core::policy::{Level, Statement};
use notation_core::verify::{Expected, NotImplemented, Outcome, Status, Verifier};

use super::reading::{self, FetchedSignature};
use crate::artifact::Artifact;
use crate::cli_trust::VerifyArgs;
use crate::config_json::ConfigJson;
use crate::dirs::Dirs;
use crate::env::Env;
use crate::flags::{FlagGroups, parse_key_values};
use crate::output::Printer;
use crate::registry_setup::RegistryFlags;
use crate::trust_store::TrustStore;

/// Validated `notation verify` settings.
pub struct VerifySettings {
    /// The reference as given.
    pub reference: String,
    /// `--oci-layout`.
    pub oci_layout: bool,
    /// `--scope` (with `--oci-layout`).
    pub scope: Option<String>,
    /// `-m` pairs that must be signed.
    pub user_metadata: BTreeMap<String, String>,
    /// `--plugin-config` pairs.
    pub plugin_config: BTreeMap<String, String>,
    /// `--max-signatures`.
    pub max_signatures: usize,
    /// Registry flags.
    pub registry: RegistryFlags,
    /// Deprecation warning for `--allow-referrers-api`.
    pub deprecation: Option<&'static str>,
}

impl VerifySettings {
    /// Validates the flags: groups first (cobra's order), then values.
    pub fn resolve(args: VerifyArgs) -> Result<VerifySettings> {
        FlagGroups::default()
            .required_together(&["oci-layout", "scope"])
            .exclusive(&["oci-layout", "allow-referrers-api"])
            .check(|f| match f {
                "oci-layout" => args.oci_layout,
                "scope" => args.scope.is_some(),
                "allow-referrers-api" => args.registry.allow_referrers_api.is_some(),
                _ => false,
            })?;
        let max_signatures = reading::max_signatures(args.max_signatures)?;
        let user_metadata = parse_key_values("user-metadata", &args.user_metadata)?;
        let plugin_config = parse_key_values("plugin-config", &args.plugin_config)?;
        if let Some(scope) = &args.scope {
            validate_scope(scope).map_err(|e| anyhow::anyhow!("invalid --scope: {e}"))?;
        }
        let reference = reading::one_reference(&args.reference, "verify")?;
        let (registry, deprecation) = reading::registry_flags(args.registry);
        Ok(VerifySettings {
            reference,
            oci_layout: args.oci_layout,
            scope: args.scope,
            user_metadata,
            plugin_config,
            max_signatures,
            registry,
            deprecation,
        })
    }
}

/// Runs `notation verify`.
pub fn run(args: VerifyArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let settings = VerifySettings::resolve(args)?;
    if let Some(w) = settings.deprecation {
        printer.warn(w);
    }
    let (policy_path, policy) = crate::trust_policy::load(dirs)?;
    printer.debug(format_args!("read trust policy {}", policy_path.display()));
    let config = ConfigJson::load(&dirs.config_json())?;
    let artifact = Artifact::open(
        &settings.reference,
        settings.oci_layout,
        settings.registry,
        env,
        &config,
        printer,
    )?;
    let (desc, reference) = reading::resolve(&artifact, "verify", printer)?;
    let scope = settings.scope.clone().unwrap_or_else(|| artifact.name());
    let statement = policy.statement_for(&scope, &reference)?;
    printer.info(format_args!(
        "trust policy statement {:?} (level {}) applies to {scope}",
        statement.name,
        statement.actions.level().as_str()
    ));
    if statement.actions.level() == Level::Skip {
        printer.result(format_args!(
            "Trust policy is configured to skip signature verification for {reference}"
        ));
        return Ok(());
    }
    let anchors = TrustStore::new(dirs).anchors(statement)?;
    if !settings.plugin_config.is_empty() {
        printer.debug(
            "--plugin-config is only sent to verification plugins, which this version does not run",
        );
    }
    let listed = artifact.signature_manifests(&desc, settings.max_signatures, printer)?;
    if listed.descriptors.is_empty() {
        bail!(
            "no signature is associated with {reference:?}, make sure the artifact was signed successfully"
        );
    }
    let verifier = Verifier {
        statement,
        anchors: &anchors,
        revocation: &NotImplemented,
        now: super::now(),
    };
    let expected = Expected {
        artifact: &desc,
        user_metadata: &settings.user_metadata,
    };
    let mut failures: Vec<String> = Vec::new();
    for sig in &listed.descriptors {
        let fetched = match reading::fetch(&artifact, sig, &desc) {
            Ok(f) => f,
            Err(e) => {
                printer.info(format_args!("signature {}: {e:#}", sig.digest));
                failures.push(format!("{}: {e:#}", sig.digest));
                continue;
            }
        };
        let outcome = verify_one(&verifier, &fetched, &expected, &sig.digest, printer);
        if outcome.is_verified() {
            report_success(&outcome, statement, &reference, printer);
            return Ok(());
        }
        if let Some(f) = &outcome.failure {
            printer.info(format_args!("signature {}: {f}", sig.digest));
            failures.push(format!("{}: {f}", sig.digest));
        }
    }
    let examined = if listed.truncated {
        format!(
            " (only the first {} signatures were evaluated: the configured limit of --max-signatures was reached)",
            settings.max_signatures
        )
    } else {
        String::new()
    };
    bail!(
        "signature verification failed for all the signatures associated with {reference}{examined}: {}",
        failures.join("; ")
    )
}

fn verify_one(
    verifier: &Verifier<'_>,
    fetched: &FetchedSignature,
    expected: &Expected<'_>,
    digest: &notation_core::Digest,
    printer: &Printer,
) -> Outcome {
    let media_type = &fetched.manifest.layer.media_type;
    printer.debug(format_args!(
        "verifying signature {digest} ({media_type}, {} bytes)",
        fetched.envelope.len()
    ));
    let outcome = verifier.verify(media_type, &fetched.envelope, expected);
    for r in &outcome.results {
        let status = match &r.status {
            Status::Passed => "passed".to_owned(),
            Status::Failed(why) => format!("failed ({}): {why}", r.action),
            Status::Skipped => "skipped by the trust policy".to_owned(),
            Status::NotChecked(why) => format!("not checked: {why}"),
        };
        printer.debug(format_args!(
            "signature {digest}: {}: {status}",
            r.validation
        ));
    }
    outcome
}

fn report_success(outcome: &Outcome, statement: &Statement, reference: &str, printer: &Printer) {
    let mut warned = false;
    for (validation, action, reason) in outcome.logged_failures() {
        printer.warn(format_args!(
            "{validation} was set to {:?} and failed with error: {reason}",
            action.as_str()
        ));
        warned = true;
    }
    if warned {
        printer.result("");
    }
    printer.info(format_args!(
        "verified under trust policy statement {:?}",
        statement.name
    ));
    printer.result(format_args!(
        "Successfully verified signature for {reference}"
    ));
    let metadata: Vec<[String; 2]> = outcome
        .user_metadata()
        .map(|(k, v)| [k.clone(), v.clone()])
        .collect();
    if !metadata.is_empty() {
        printer.result("");
        printer.result("The artifact was signed with the following user metadata.");
        printer.result("");
        let mut rows = vec![["KEY".to_owned(), "VALUE".to_owned()]];
        rows.extend(metadata);
        for line in crate::table::render(&rows) {
            printer.result(line);
        }
    }
}
