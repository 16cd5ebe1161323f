//! `notation list|ls` (notary-spec.md §4.11): the signature manifests of an
//! artifact as a tree, or `<ref>@<digest> has no associated signatures`.

use anyhow::Result;
use notation_core::manifest::ARTIFACT_TYPE_SIGNATURE;

use super::reading;
use crate::artifact::Artifact;
use crate::cli_trust::ListArgs;
use crate::config_json::ConfigJson;
use crate::dirs::Dirs;
use crate::env::Env;
use crate::flags::FlagGroups;
use crate::output::Printer;
use crate::tree::Node;

/// Runs `notation list`.
pub fn run(args: ListArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    FlagGroups::default()
        .exclusive(&["oci-layout", "allow-referrers-api"])
        .check(|f| match f {
            "oci-layout" => args.oci_layout,
            "allow-referrers-api" => args.registry.allow_referrers_api.is_some(),
            _ => false,
        })?;
    let max = reading::max_signatures(args.max_signatures)?;
    let raw = reading::one_reference(&args.reference, "list")?;
    let (flags, deprecation) = reading::registry_flags(args.registry);
    if let Some(w) = deprecation {
        printer.warn(w);
    }
    let config = ConfigJson::load(&dirs.config_json())?;
    let artifact = Artifact::open(&raw, args.oci_layout, flags, env, &config, printer)?;
    let (desc, reference) = reading::resolve(&artifact, "list", printer)?;
    let listed = artifact.signature_manifests(&desc, max, printer)?;
    if listed.descriptors.is_empty() {
        printer.result(format_args!("{reference} has no associated signatures"));
        return Ok(());
    }
    let mut root = Node::new(&reference);
    let sigs = root.add(ARTIFACT_TYPE_SIGNATURE);
    for d in &listed.descriptors {
        sigs.add(d.digest.as_str());
    }
    for line in root.render() {
        printer.result(line);
    }
    if listed.truncated {
        printer.warn(format_args!(
            "only the first {max} signatures are listed; raise --max-signatures to see more"
        ));
    }
    Ok(())
}
