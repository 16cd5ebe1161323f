//! `notation list|ls` (notary-spec.md §4.11): the signature manifests of an
//! artifact as a tree, or `<ref>@<digest> has no associated signatures`.

use anyhow::Result;
use notation_core::manifest::ARTIFACT_TYPE_SIGNATURE;

use super::reading;
use crate::cli_trust::ListArgs;
use crate::dirs::Dirs;
use crate::env::Env;
use crate::output::Printer;
use crate::tree::Node;

/// Runs `notation list`.
pub fn run(args: ListArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    reading::exclusive_layout_flags(args.oci_layout, &args.registry)?;
    let reading::Listing {
        reference,
        listed,
        max,
        ..
    } = reading::open_and_list(
        reading::ListArgs {
            command: "list",
            reference: &args.reference,
            oci_layout: args.oci_layout,
            registry: args.registry,
            max_signatures: args.max_signatures,
        },
        env,
        dirs,
        printer,
    )?;
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
