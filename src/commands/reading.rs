//! What `verify`, `list` and `inspect` share (notary-spec.md §3.6, §4.11): the
//! reference and registry flags, `--max-signatures`, the tag warning, and fetching
//! one signature (manifest, then envelope blob) with the reader-side checks of
//! §3.1: a signature manifest of either form, whose subject is the artifact, with
//! one layer of at most 32 MiB.

use anyhow::{Context as _, Result, bail};
use notation_core::Descriptor;
use notation_core::signature_manifest::{self, MAX_ENVELOPE_BYTES, SignatureManifest};
use notation_registry::secret::Secret;

use crate::artifact::{Artifact, Listed};
use crate::cli_trust::RegistryArgs;
use crate::config_json::ConfigJson;
use crate::dirs::Dirs;
use crate::env::Env;
use crate::flags::FlagGroups;
use crate::output::Printer;
use crate::registry_setup::RegistryFlags;

/// The default of `--max-signatures`.
pub const DEFAULT_MAX_SIGNATURES: i64 = 100;

/// `--max-signatures`, which must be positive.
pub fn max_signatures(n: i64) -> Result<usize> {
    if n <= 0 {
        bail!("max-signatures value {n} must be a positive number");
    }
    Ok(usize::try_from(n)?)
}

/// The one reference argument, with notation's message when it is missing.
pub fn one_reference(args: &[String], command: &str) -> Result<String> {
    match args {
        [] => bail!(
            "missing reference to the artifact: use `notation {command} --help` to see what parameters are required"
        ),
        [one] => Ok(one.clone()),
        more => bail!(
            "notation {command} takes one reference, but {} were given: {}",
            more.len(),
            more.join(" ")
        ),
    }
}

/// Registry flags, and the deprecation warning for `--allow-referrers-api`.
pub fn registry_flags(args: RegistryArgs) -> (RegistryFlags, Option<&'static str>) {
    let deprecation = args.allow_referrers_api.map(
        |_| "flag '--allow-referrers-api' is deprecated and will be removed in future versions.",
    );
    (
        RegistryFlags {
            username: args.username,
            password: args.password.map(Secret::new),
            insecure: args.insecure_registry,
        },
        deprecation,
    )
}

/// Resolves the artifact, warning when it was named by tag (spec §3.6). Returns
/// the descriptor and `<name>@<digest>`.
pub fn resolve(artifact: &Artifact, verb: &str, printer: &Printer) -> Result<(Descriptor, String)> {
    let desc = artifact.resolve()?;
    if let Some(tag) = artifact.tag() {
        printer.warn(format_args!(
            "Always {verb} the artifact using digest(@sha256:...) rather than a tag(:{tag}) because resolved digest may not point to the same signed artifact, as tags are mutable."
        ));
    }
    let reference = format!("{}@{}", artifact.name(), desc.digest);
    printer.info(format_args!(
        "resolved to {reference} ({}, {} bytes)",
        desc.media_type, desc.size
    ));
    Ok((desc, reference))
}

/// Where `list` and `inspect` start from: the artifact opened and resolved, and its
/// signature manifests.
pub struct Listing {
    pub artifact: Artifact,
    pub desc: Descriptor,
    /// `<name>@<digest>`.
    pub reference: String,
    pub listed: Listed,
    /// `--max-signatures`.
    pub max: usize,
}

/// The arguments `list` and `inspect` share.
pub struct ListArgs<'a> {
    pub command: &'static str,
    pub reference: &'a [String],
    pub oci_layout: bool,
    pub registry: RegistryArgs,
    pub max_signatures: i64,
}

/// `--oci-layout` and `--allow-referrers-api` cannot go together (cobra's group
/// message).
pub fn exclusive_layout_flags(oci_layout: bool, registry: &RegistryArgs) -> Result<()> {
    FlagGroups::default()
        .exclusive(&["oci-layout", "allow-referrers-api"])
        .check(|f| match f {
            "oci-layout" => oci_layout,
            "allow-referrers-api" => registry.allow_referrers_api.is_some(),
            _ => false,
        })
}

/// Validates the shared arguments, opens and resolves the artifact and lists its
/// signature manifests, for `list` and `inspect`.
pub fn open_and_list(
    args: ListArgs<'_>,
    env: &Env,
    dirs: &Dirs,
    printer: &Printer,
) -> Result<Listing> {
    let max = max_signatures(args.max_signatures)?;
    let raw = one_reference(args.reference, args.command)?;
    let (flags, deprecation) = registry_flags(args.registry);
    if let Some(w) = deprecation {
        printer.warn(w);
    }
    let config = ConfigJson::load(&dirs.config_json())?;
    let artifact = Artifact::open(&raw, args.oci_layout, flags, env, &config, printer)?;
    let (desc, reference) = resolve(&artifact, args.command, printer)?;
    let listed = artifact.signature_manifests(&desc, max, printer)?;
    Ok(Listing {
        artifact,
        desc,
        reference,
        listed,
        max,
    })
}

/// One signature as read from storage.
pub struct FetchedSignature {
    /// The signature manifest.
    pub manifest: SignatureManifest,
    /// The envelope bytes.
    pub envelope: Vec<u8>,
}

/// Reads the signature manifest `desc` of `subject` and its envelope.
pub fn fetch(
    artifact: &Artifact,
    desc: &Descriptor,
    subject: &Descriptor,
) -> Result<FetchedSignature> {
    let bytes = artifact
        .read_manifest(&desc.digest)
        .context("cannot read the signature manifest")?;
    let manifest = signature_manifest::parse(&bytes).map_err(anyhow::Error::msg)?;
    match &manifest.subject {
        Some(s) if s.digest == subject.digest => {}
        Some(s) => bail!(
            "the signature manifest's subject is {}, not the artifact {}",
            s.digest,
            subject.digest
        ),
        None => bail!("the signature manifest has no subject"),
    }
    let layer = &manifest.layer;
    if layer.size > MAX_ENVELOPE_BYTES {
        bail!(
            "the signature envelope is {} bytes, over the {MAX_ENVELOPE_BYTES}-byte limit",
            layer.size
        );
    }
    let envelope = artifact
        .read_blob(&layer.digest, MAX_ENVELOPE_BYTES)
        .context("cannot read the signature envelope")?;
    if envelope.len() as u64 != layer.size {
        bail!(
            "the signature envelope is {} bytes, but the manifest says {}",
            envelope.len(),
            layer.size
        );
    }
    Ok(FetchedSignature { manifest, envelope })
}
