//! The artifact whose signatures `verify`, `list` and `inspect` read, in a registry
//! or an OCI image layout, behind one interface: resolve it, list its signature
//! manifests (notary-spec.md §3.4 for registries; §3.7 "Listing in a layout": the
//! manifests in `index.json`, and in indexes it lists, whose `subject` is the
//! artifact), and read manifests and blobs by digest (size-capped, digest-checked).

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context as _, Result};
use notation_core::manifest::{ARTIFACT_TYPE_SIGNATURE, MEDIA_TYPE_IMAGE_INDEX};
use notation_core::signature_manifest::{self, Classified, MAX_MANIFEST_BYTES};
use notation_core::{Descriptor, Digest};
use notation_registry::client::Client;
use notation_registry::discover::{self, Source};
use notation_registry::reference::{Reference, Selector as RegistrySelector};
use serde_json::Value;

use crate::config_json::ConfigJson;
use crate::env::Env;
use crate::layout::Layout;
use crate::layout_ref::{LayoutRef, Selector};
use crate::output::Printer;
use crate::registry_setup::{self, RegistryFlags};

/// Where the artifact is.
pub enum Artifact {
    /// In a registry.
    Registry {
        /// The client (credentials, transport).
        client: Box<Client>,
        /// The reference as given.
        reference: Reference,
    },
    /// In an OCI image layout.
    Layout {
        /// The opened layout.
        layout: Layout,
        /// The reference as given.
        reference: LayoutRef,
    },
}

/// Signature manifests found for an artifact.
pub struct Listed {
    /// Their descriptors, at most the limit.
    pub descriptors: Vec<Descriptor>,
    /// True when there were more.
    pub truncated: bool,
}

/// How deep nested indexes of a layout are followed.
const MAX_INDEX_DEPTH: usize = 4;

impl Artifact {
    /// Parses `raw` as a layout reference (`oci_layout`) or a registry reference and
    /// opens it.
    pub fn open(
        raw: &str,
        oci_layout: bool,
        flags: RegistryFlags,
        env: &Env,
        config: &ConfigJson,
        printer: &Printer,
    ) -> Result<Artifact> {
        if oci_layout {
            let reference = LayoutRef::parse(raw)?;
            let layout = Layout::open(Path::new(&reference.path))?;
            return Ok(Artifact::Layout { layout, reference });
        }
        let reference = Reference::parse(raw)?;
        let client = registry_setup::client(flags, env, config, printer)?;
        Ok(Artifact::Registry {
            client: Box::new(client),
            reference,
        })
    }

    /// `<registry>/<repository>` or the layout path: what `@<digest>` is appended to.
    pub fn name(&self) -> String {
        match self {
            Artifact::Registry { reference, .. } => reference.name(),
            Artifact::Layout { reference, .. } => reference.path.clone(),
        }
    }

    /// The tag, when the reference names one.
    pub fn tag(&self) -> Option<&str> {
        match self {
            Artifact::Registry { reference, .. } => match &reference.selector {
                RegistrySelector::Tag(t) => Some(t),
                RegistrySelector::Digest(_) => None,
            },
            Artifact::Layout { reference, .. } => match &reference.selector {
                Selector::Tag(t) => Some(t),
                Selector::Digest(_) => None,
            },
        }
    }

    /// The artifact's descriptor (media type, digest, size).
    pub fn resolve(&self) -> Result<Descriptor> {
        match self {
            Artifact::Registry { client, reference } => Ok(client
                .repository(&reference.registry, &reference.repository, false)
                .resolve(reference.selector_str())?),
            Artifact::Layout { layout, reference } => layout.resolve(&reference.selector),
        }
    }

    /// The artifact's Notary signature manifests, at most `limit`.
    pub fn signature_manifests(
        &self,
        subject: &Descriptor,
        limit: usize,
        printer: &Printer,
    ) -> Result<Listed> {
        match self {
            Artifact::Registry { client, reference } => {
                let repo = client.repository(&reference.registry, &reference.repository, false);
                let found = discover::signature_manifests(&repo, &subject.digest, limit)
                    .with_context(|| {
                        format!(
                            "cannot list the signatures of {}@{}",
                            reference.name(),
                            subject.digest
                        )
                    })?;
                printer.info(format_args!(
                    "found {} signature manifest(s) through the {}",
                    found.descriptors.len(),
                    match found.source {
                        Source::ReferrersApi => "Referrers API",
                        Source::TagSchema => "referrers tag schema",
                    }
                ));
                Ok(Listed {
                    descriptors: found.descriptors,
                    truncated: found.truncated,
                })
            }
            Artifact::Layout { layout, .. } => layout_signatures(layout, subject, limit, printer),
        }
    }

    /// A manifest by digest (at most 4 MiB).
    pub fn read_manifest(&self, digest: &Digest) -> Result<Vec<u8>> {
        match self {
            Artifact::Registry { client, reference } => {
                let repo = client.repository(&reference.registry, &reference.repository, false);
                Ok(discover::manifest_by_digest(
                    &repo,
                    digest,
                    notation_core::manifest::MEDIA_TYPE_IMAGE_MANIFEST,
                )?)
            }
            Artifact::Layout { layout, .. } => layout.read_blob(digest, MAX_MANIFEST_BYTES),
        }
    }

    /// A blob by digest, at most `limit` bytes.
    pub fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        match self {
            Artifact::Registry { client, reference } => {
                let repo = client.repository(&reference.registry, &reference.repository, false);
                Ok(discover::blob(&repo, digest, limit)?)
            }
            Artifact::Layout { layout, .. } => layout.read_blob(digest, limit),
        }
    }
}

/// Signature manifests in a layout whose subject is `subject`: every manifest listed
/// in `index.json` or in an image index it lists (the referrers tag index notation
/// keeps in layouts), in index order, without duplicates.
fn layout_signatures(
    layout: &Layout,
    subject: &Descriptor,
    limit: usize,
    printer: &Printer,
) -> Result<Listed> {
    let mut queue: Vec<(Value, usize)> = layout
        .index_entries()?
        .into_iter()
        .map(|v| (v, 0))
        .collect();
    queue.reverse();
    let mut seen: HashSet<Digest> = HashSet::new();
    let mut out: Vec<Descriptor> = Vec::new();
    while let Some((entry, depth)) = queue.pop() {
        let Ok(d) = serde_json::from_value::<Descriptor>(entry) else {
            continue;
        };
        if !seen.insert(d.digest.clone()) || d.digest == subject.digest {
            continue;
        }
        let bytes = match layout.read_blob(&d.digest, MAX_MANIFEST_BYTES) {
            Ok(b) => b,
            Err(e) => {
                printer.debug(format_args!("skipping {}: {e:#}", d.digest));
                continue;
            }
        };
        if d.media_type == MEDIA_TYPE_IMAGE_INDEX {
            if depth < MAX_INDEX_DEPTH
                && let Ok(index) = serde_json::from_slice::<Value>(&bytes)
            {
                let children = index
                    .get("manifests")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                queue.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
            }
            continue;
        }
        match signature_manifest::classify(&bytes) {
            Classified::Signature(m)
                if m.subject
                    .as_ref()
                    .is_some_and(|s| s.digest == subject.digest) =>
            {
                let mut found = Descriptor::new(d.media_type, d.digest, d.size);
                found.annotations = m.annotations;
                found.artifact_type = Some(ARTIFACT_TYPE_SIGNATURE.to_owned());
                out.push(found);
            }
            Classified::Invalid(why) if bytes_name_subject(&bytes, &subject.digest) => {
                printer.warn(format_args!(
                    "skipping signature manifest {}: {why}",
                    d.digest
                ));
            }
            _ => {}
        }
    }
    let truncated = out.len() > limit;
    out.truncate(limit);
    Ok(Listed {
        descriptors: out,
        truncated,
    })
}

/// True when a manifest's `subject` is `digest` (for warnings about broken ones).
fn bytes_name_subject(bytes: &[u8], digest: &Digest) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| {
            v.pointer("/subject/digest")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .is_some_and(|d| d == digest.as_str())
}
