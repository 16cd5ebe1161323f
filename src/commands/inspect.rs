//! `notation inspect [-o text|json]` (notary-spec.md §4.11): every signature of an
//! artifact with its envelope type, algorithm, signed and user attributes, signing
//! agent, certificates and signed descriptor. Nothing is verified. A signature that
//! cannot be read is skipped with a warning, and the command then fails after
//! showing the others (as notation does).

use anyhow::{Result, bail};
use notation_core::envelope::{self, SignatureFormat};
use notation_core::manifest::ARTIFACT_TYPE_SIGNATURE;
use notation_core::payload::Payload;
use serde_json::{Value, json};

use super::reading;
use crate::artifact::Artifact;
use crate::cli_trust::InspectArgs;
use crate::dirs::Dirs;
use crate::env::Env;
use crate::inspect_view::InspectedSignature;
use crate::output::Printer;
use crate::tree::Node;

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Runs `notation inspect`.
pub fn run(args: InspectArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    reading::exclusive_layout_flags(args.oci_layout, &args.registry)?;
    let format = match args.output.as_str() {
        "text" => Format::Text,
        "json" => Format::Json,
        other => bail!("unrecognized output format {other:?}: use text or json"),
    };
    let reading::Listing {
        artifact,
        desc,
        reference,
        listed,
        max,
    } = reading::open_and_list(
        reading::ListArgs {
            command: "inspect",
            reference: &args.reference,
            oci_layout: args.oci_layout,
            registry: args.registry,
            max_signatures: args.max_signatures,
        },
        env,
        dirs,
        printer,
    )?;
    let mut shown = Vec::new();
    let mut skipped = 0;
    for d in &listed.descriptors {
        match read_signature(&artifact, d, &desc) {
            Ok(s) => shown.push(s),
            Err(e) => {
                skipped += 1;
                printer.warn(format_args!("skipping signature {}: {e:#}", d.digest));
            }
        }
    }
    match format {
        Format::Json => {
            let sigs: Vec<Value> = shown.iter().map(InspectedSignature::json).collect();
            let out = json!({"mediaType": desc.media_type, "signatures": sigs});
            for line in serde_json::to_string_pretty(&out)?.lines() {
                printer.result(line);
            }
        }
        Format::Text if listed.descriptors.is_empty() => {
            printer.result(format_args!("{reference} has no associated signature"));
        }
        Format::Text => {
            let mut root = Node::new(&reference);
            let sigs = root.add(ARTIFACT_TYPE_SIGNATURE);
            for s in &shown {
                sigs.push(s.tree());
            }
            for line in root.render() {
                printer.result(line);
            }
        }
    }
    if listed.truncated {
        printer.warn(format_args!(
            "only the first {max} signatures are shown; raise --max-signatures to see more"
        ));
    }
    if skipped > 0 {
        bail!(
            "at least one signature was skipped and not displayed ({skipped} of {})",
            listed.descriptors.len()
        );
    }
    Ok(())
}

fn read_signature(
    artifact: &Artifact,
    d: &notation_core::Descriptor,
    subject: &notation_core::Descriptor,
) -> Result<InspectedSignature> {
    let fetched = reading::fetch(artifact, d, subject)?;
    let media_type = fetched.manifest.layer.media_type.clone();
    let format = SignatureFormat::from_media_type(&media_type).ok_or_else(|| {
        anyhow::anyhow!("signature envelope format with media type {media_type:?} is not supported")
    })?;
    let content = envelope::parse(format, &fetched.envelope)?;
    let payload = Payload::parse(&content.payload)?;
    Ok(InspectedSignature {
        digest: d.digest.clone(),
        media_type,
        content,
        payload,
    })
}
