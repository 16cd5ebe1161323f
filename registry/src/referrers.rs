//! The referrers tag schema (notary-spec.md §3.4), for registries without the
//! Referrers API: an image index tagged `sha256-<hex of the subject>` lists every
//! signature manifest. The update is read-merge-write, and because registries have
//! no compare-and-swap, concurrent signers can overwrite each other. So every writer
//! re-reads after writing, and only stops once its entry has been seen twice, a
//! random pause apart; otherwise it merges again, up to a bound. Old index
//! manifests are deleted after success; a failed delete is only a warning.

use std::collections::HashSet;
use std::time::Duration;

use notation_core::manifest::{ARTIFACT_TYPE_SIGNATURE, MEDIA_TYPE_IMAGE_INDEX};
use notation_core::{Descriptor, Digest};
use serde_json::{Map, Value};

use crate::client::{ManifestPush, Repository};
use crate::error::{RegistryError, Result};
use crate::http::jitter;

/// Attempts before giving up on a contended index.
pub const MAX_ATTEMPTS: u32 = 12;

/// The warning notation prints when an old index cannot be deleted.
pub const DELETE_WARNING: &str = "Removal of outdated referrers index from remote registry failed. Garbage collection may be required.";

/// The tag of the referrers index for `subject`.
pub fn index_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm(), subject.hex())
}

/// The index entry for a signature manifest: its descriptor and annotations, with
/// `artifactType` set as oras does (the manifest's artifactType, else its config
/// media type — both are the Notary signature type here).
pub fn index_entry(manifest: &Descriptor) -> Value {
    let mut d = manifest.clone();
    d.artifact_type = Some(ARTIFACT_TYPE_SIGNATURE.to_owned());
    serde_json::to_value(d).unwrap_or(Value::Null)
}

/// Index bytes with `entries`, as oras writes them.
pub fn index_bytes(entries: &[Value]) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("schemaVersion".into(), 2.into());
    m.insert("mediaType".into(), MEDIA_TYPE_IMAGE_INDEX.into());
    m.insert("manifests".into(), Value::Array(entries.to_vec()));
    serde_json::to_vec(&m).unwrap_or_default()
}

fn entry_digest(v: &Value) -> Option<&str> {
    v.get("digest")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
}

/// Result of recording a signature in the tag index.
#[derive(Debug, Default)]
pub struct IndexUpdate {
    /// Writes of the index this call made.
    pub writes: u32,
    /// Warnings to show (failed deletes of outdated indexes).
    pub warnings: Vec<String>,
}

/// Reads of the index retried after an HTTP 500: distribution 2.8 answers 500 when
/// the tag is read while another signer rewrites it (seen with eight concurrent
/// signers); the read is idempotent, so trying again is safe.
const READ_RETRIES: u32 = 6;

/// Reads the index at the tag: its entries and digest; empty when there is none.
/// Anything at the tag that is not an image index is refused, never overwritten
/// (nor later deleted as "outdated").
fn read_index(repo: &Repository<'_>, tag: &str) -> Result<(Vec<Value>, Option<Digest>)> {
    let mut attempt = 0;
    let found = loop {
        // Accept every manifest type: asked for an index only, distribution answers 404
        // for a tag holding an image manifest, which would then be overwritten.
        match repo.manifest(tag, crate::client::MANIFEST_ACCEPT) {
            Err(RegistryError::Status { status: 500, .. }) if attempt < READ_RETRIES => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(10 + jitter(30 * u64::from(attempt))));
            }
            other => break other?,
        }
    };
    let Some((content_type, bytes)) = found else {
        return Ok((Vec::new(), None));
    };
    let not_index = |why: &str| RegistryError::Protocol {
        registry: repo.registry().to_owned(),
        operation: format!("reading the referrers index {tag}"),
        reason: format!(
            "the tag holds something that is not an image index ({why}); it is left untouched"
        ),
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| not_index("not JSON"))?;
    let media_type = v
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_else(|| content_type.split(';').next().unwrap_or("").trim());
    if media_type != MEDIA_TYPE_IMAGE_INDEX {
        return Err(not_index(&format!("media type {media_type:?}")));
    }
    let entries = v
        .get("manifests")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| not_index("no manifests array"))?;
    Ok((entries, Some(Digest::sha256_of(&bytes))))
}

fn contains(entries: &[Value], digest: &str) -> bool {
    entries.iter().any(|e| entry_digest(e) == Some(digest))
}

/// A failure worth another read-merge-write round rather than giving up.
fn transient(e: &RegistryError) -> bool {
    matches!(e, RegistryError::Unreachable { .. })
        || matches!(e, RegistryError::Status { status, .. } if *status == 429 || *status >= 500)
}

/// Adds `manifest` to the referrers index of `subject` and makes sure it stays there.
///
/// Each round reads the index, merges (keeping every entry seen in any earlier read
/// of this run, so an entry a stale writer dropped is put back), and writes it once,
/// without transport retries: a write replayed seconds later would be built from a
/// stale read. A transient failure starts a new round. The run ends when our entry
/// has been read back twice, a pause apart that exceeds the slowest write seen.
pub fn add_to_tag_index(
    repo: &Repository<'_>,
    subject: &Digest,
    manifest: &Descriptor,
) -> Result<IndexUpdate> {
    let tag = index_tag(subject);
    let want = manifest.digest.as_str();
    let mut update = IndexUpdate::default();
    let mut replaced: Vec<Digest> = Vec::new();
    let mut remembered: Vec<Value> = Vec::new();
    let mut seen_once = false;
    let mut slowest_write = Duration::from_millis(20);
    for attempt in 1..=MAX_ATTEMPTS + 1 {
        let (entries, current) = read_index(repo, &tag)?;
        if contains(&entries, want) {
            if seen_once || update.writes == 0 {
                // Stable (or already there before we started): clean up and stop.
                for old in replaced.iter().filter(|d| Some(*d) != current.as_ref()) {
                    if repo.delete_manifest(old).is_err() {
                        update.warnings.push(DELETE_WARNING.to_owned());
                    }
                }
                return Ok(update);
            }
            seen_once = true;
            // A writer that read the index before our write may still overwrite it:
            // look again after a pause longer than a write takes.
            std::thread::sleep(slowest_write * 2 + Duration::from_millis(40 + jitter(60)));
            continue;
        }
        if attempt > MAX_ATTEMPTS {
            break;
        }
        seen_once = false;
        let mut seen = HashSet::new();
        let mut merged: Vec<Value> = Vec::new();
        for e in entries.iter().chain(remembered.iter()) {
            if let Some(d) = entry_digest(e)
                && seen.insert(d.to_owned())
            {
                merged.push(e.clone());
            }
        }
        remembered = merged.clone();
        merged.push(index_entry(manifest));
        let started = std::time::Instant::now();
        match repo.push_manifest_once(&tag, MEDIA_TYPE_IMAGE_INDEX, &index_bytes(&merged)) {
            Ok(ManifestPush::Pushed { .. }) => {
                update.writes += 1;
                slowest_write = slowest_write.max(started.elapsed());
                if let Some(old) = current {
                    replaced.push(old);
                }
            }
            Ok(ManifestPush::BlobUnknown) => {
                return Err(RegistryError::Protocol {
                    registry: repo.registry().to_owned(),
                    operation: format!("writing the referrers index {tag}"),
                    reason: "the registry says a listed manifest does not exist".into(),
                });
            }
            Err(e) if transient(&e) && attempt < MAX_ATTEMPTS => {}
            Err(e) => return Err(e),
        }
        std::thread::sleep(Duration::from_millis(jitter(20 * u64::from(attempt))));
    }
    Err(RegistryError::IndexContention {
        registry: repo.registry().to_owned(),
        tag,
        attempts: MAX_ATTEMPTS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index notation wrote for e2e-valid-signature (shared/vectors, 485 bytes,
    /// sha256:13e107e0…) is what we write for the same signature manifest.
    #[test]
    fn index_bytes_match_notation() {
        let mut d = Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            "sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"
                .parse()
                .unwrap(),
            728,
        );
        d.annotations.insert(
            "io.cncf.notary.x509chain.thumbprint#S256".into(),
            "[\"e38aea13f2b051f7183cca64a51ee676f4d4456f41d9fecf15eb367efc7343b9\"]".into(),
        );
        d.annotations.insert(
            "org.opencontainers.image.created".into(),
            "2023-06-27T05:30:33Z".into(),
        );
        let bytes = index_bytes(&[index_entry(&d)]);
        assert_eq!(bytes.len(), 485);
        assert_eq!(
            Digest::sha256_of(&bytes).as_str(),
            "sha256:13e107e0dd246f07ff18998a3d39e226965c41477a1bc1765f7617632ff3f283"
        );
        assert_eq!(
            index_tag(
                &"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
                    .parse()
                    .unwrap()
            ),
            "sha256-b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
        );
    }
}
