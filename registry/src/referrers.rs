//! The referrers tag schema (notary-spec.md §3.4), for registries without the
//! Referrers API: an image index tagged `sha256-<hex of the subject>` lists every
//! signature manifest. The update is read-merge-write, and because registries have
//! no compare-and-swap, concurrent signers can overwrite each other. So every writer
//! writes within a few milliseconds of its read, pauses for longer than another
//! writer's read-to-write time, and reads again; if its entry was lost it merges
//! again, up to a bound. Old index manifests are deleted after success; a failed
//! delete is only a warning.

use std::collections::HashSet;
use std::time::{Duration, Instant};

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

/// Deletes an outdated index manifest; false if it could not be deleted. A delete
/// is idempotent, so an HTTP 500 is tried again: distribution 2.8 answers 500
/// ("invalid checksum digest format") when manifests of one repository are deleted
/// concurrently, as a batch does.
fn delete_outdated(repo: &Repository<'_>, digest: &Digest) -> bool {
    for attempt in 1..=3u64 {
        match repo.delete_manifest(digest) {
            Ok(()) => return true,
            Err(RegistryError::Status { status: 500, .. }) if attempt < 3 => {
                std::thread::sleep(Duration::from_millis(5 + jitter(20 * attempt)));
            }
            Err(_) => return false,
        }
    }
    false
}

/// A failure worth another read-merge-write round rather than giving up.
fn transient(e: &RegistryError) -> bool {
    matches!(e, RegistryError::Unreachable { .. })
        || matches!(e, RegistryError::Status { status, .. } if *status == 429 || *status >= 500)
}

/// The longest a writer lets pass between receiving the index and sending its
/// write. Past it, the read is considered stale and the index is read again, so
/// that the time from another writer's read to its write landing is bounded by
/// about this plus one write round trip: the pause before a confirming read is
/// built on that bound.
pub const SEND_DEADLINE: Duration = Duration::from_millis(3);

/// Stale reads (past [`SEND_DEADLINE`]) read again in a row before writing anyway.
const STALE_REREADS: u32 = 4;

/// The shortest pause between a write and its confirming read.
const MIN_PAUSE: Duration = Duration::from_millis(5);

/// The longest pause between a write and its confirming read.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// What a [`TagIndexUpdate`] needs next.
#[derive(Debug)]
pub enum Step {
    /// Call [`TagIndexUpdate::step`] again after this pause (other work may run
    /// meanwhile: a batch signs other artifacts while one waits).
    Wait(Duration),
    /// The entry is in the index, and stayed there for a pause after the last write.
    Done(IndexUpdate),
}

/// Adding one signature manifest to the referrers index of its subject, as a
/// resumable sequence of steps: read, merge, write, pause, confirm.
///
/// Each round reads the index, merges (keeping every entry seen in any earlier read
/// of this update, so an entry a stale writer dropped is put back), and writes it
/// once, without transport retries: a write replayed seconds later would be built
/// from a stale read. A read older than [`SEND_DEADLINE`] is not written from; the
/// index is read again. After a write the update pauses, then reads once more: if
/// the entry is there, every writer that read the index before our write has landed
/// its own write by then, and the update is done; if not, another round starts, and
/// each lost entry doubles the pause. The pause is the bound on another writer's
/// read-to-write time (the send deadline, plus the slowest read and write round
/// trips seen, plus a margin and jitter).
#[derive(Debug)]
pub struct TagIndexUpdate {
    tag: String,
    want: String,
    entry: Value,
    update: IndexUpdate,
    replaced: Vec<Digest>,
    remembered: Vec<Value>,
    rounds: u32,
    /// A write of ours may have reached the registry.
    maybe_written: bool,
    /// The next read follows a write and the pause after it.
    confirming: bool,
    /// Times our entry was missing from a confirming read.
    lost: u32,
    slowest_read: Duration,
    slowest_write: Duration,
    /// The longest read-to-send time allowed so far.
    allowance: Duration,
}

impl TagIndexUpdate {
    /// An update adding `manifest` to the index of `subject`.
    pub fn new(subject: &Digest, manifest: &Descriptor) -> TagIndexUpdate {
        TagIndexUpdate {
            tag: index_tag(subject),
            want: manifest.digest.as_str().to_owned(),
            entry: index_entry(manifest),
            update: IndexUpdate::default(),
            replaced: Vec::new(),
            remembered: Vec::new(),
            rounds: 0,
            maybe_written: false,
            confirming: false,
            lost: 0,
            slowest_read: Duration::ZERO,
            slowest_write: Duration::ZERO,
            allowance: SEND_DEADLINE,
        }
    }

    /// The index tag, `sha256-<hex>`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The pause before a confirming read.
    fn pause(&self) -> Duration {
        let base = self.allowance
            + self.slowest_read
            + self.slowest_write
            + Duration::from_millis(2 + jitter(3));
        (base.max(MIN_PAUSE) * 2u32.pow(self.lost.min(8))).min(MAX_PAUSE)
    }

    /// Runs the update until it has to pause, or is done.
    pub fn step(&mut self, repo: &Repository<'_>) -> Result<Step> {
        let mut stale = 0;
        loop {
            let started = Instant::now();
            let (entries, current) = read_index(repo, &self.tag)?;
            let read_at = Instant::now();
            self.slowest_read = self.slowest_read.max(read_at - started);
            if contains(&entries, &self.want) {
                if self.maybe_written && !self.confirming {
                    // A write reported as failed may have landed after all: confirm
                    // it like any other write.
                    self.confirming = true;
                    return Ok(Step::Wait(self.pause()));
                }
                // Stable (or already there before we started): clean up and stop.
                let mut update = std::mem::take(&mut self.update);
                for old in self
                    .replaced
                    .iter()
                    .filter(|d| Some(*d) != current.as_ref())
                {
                    if !delete_outdated(repo, old) {
                        update.warnings.push(DELETE_WARNING.to_owned());
                    }
                }
                return Ok(Step::Done(update));
            }
            if self.confirming {
                self.lost += 1;
                self.confirming = false;
            }
            if self.rounds >= MAX_ATTEMPTS {
                return Err(RegistryError::IndexContention {
                    registry: repo.registry().to_owned(),
                    tag: self.tag.clone(),
                    attempts: MAX_ATTEMPTS,
                });
            }
            let mut seen = HashSet::new();
            let mut merged: Vec<Value> = Vec::new();
            for e in entries.iter().chain(self.remembered.iter()) {
                if let Some(d) = entry_digest(e)
                    && seen.insert(d.to_owned())
                {
                    merged.push(e.clone());
                }
            }
            self.remembered = merged.clone();
            merged.push(self.entry.clone());
            let body = index_bytes(&merged);
            // Merging a long index takes time of its own (a few µs per entry).
            let allowance = SEND_DEADLINE + Duration::from_micros(5 * merged.len() as u64);
            self.allowance = self.allowance.max(allowance);
            if read_at.elapsed() > allowance && stale < STALE_REREADS {
                // Descheduled or slow: another writer may have written meanwhile.
                stale += 1;
                continue;
            }
            self.rounds += 1;
            let sent = Instant::now();
            match repo.push_manifest_once(&self.tag, MEDIA_TYPE_IMAGE_INDEX, &body) {
                Ok(ManifestPush::Pushed { .. }) => {
                    self.update.writes += 1;
                    self.slowest_write = self.slowest_write.max(sent.elapsed());
                    self.maybe_written = true;
                    self.confirming = true;
                    if let Some(old) = current {
                        self.replaced.push(old);
                    }
                    return Ok(Step::Wait(self.pause()));
                }
                Ok(ManifestPush::BlobUnknown) => {
                    return Err(RegistryError::Protocol {
                        registry: repo.registry().to_owned(),
                        operation: format!("writing the referrers index {}", self.tag),
                        reason: "the registry says a listed manifest does not exist".into(),
                    });
                }
                Err(e) if transient(&e) && self.rounds < MAX_ATTEMPTS => {
                    // It may still have been applied: the next read decides.
                    self.maybe_written = true;
                    self.confirming = false;
                    return Ok(Step::Wait(Duration::from_millis(jitter(
                        20 * u64::from(self.rounds),
                    ))));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Adds `manifest` to the referrers index of `subject` and makes sure it stays
/// there: runs a [`TagIndexUpdate`] to the end, sleeping through its pauses.
pub fn add_to_tag_index(
    repo: &Repository<'_>,
    subject: &Digest,
    manifest: &Descriptor,
) -> Result<IndexUpdate> {
    let mut update = TagIndexUpdate::new(subject, manifest);
    loop {
        match update.step(repo)? {
            Step::Wait(pause) => std::thread::sleep(pause),
            Step::Done(done) => return Ok(done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pause before a confirming read covers the send deadline and the round
    /// trips seen, doubles with each lost entry, and is bounded.
    #[test]
    fn pause_bounds() {
        let subject: Digest =
            "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
                .parse()
                .unwrap();
        let sig = Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            subject.clone(),
            1,
        );
        let mut u = TagIndexUpdate::new(&subject, &sig);
        let ms = Duration::from_millis;
        assert!(u.pause() >= MIN_PAUSE && u.pause() <= SEND_DEADLINE + ms(5));
        u.slowest_read = ms(1);
        u.slowest_write = ms(4);
        let p = u.pause();
        assert!(p >= ms(10) && p <= ms(13), "{p:?}");
        u.lost = 1;
        assert!(u.pause() >= ms(20) && u.pause() <= ms(26));
        u.lost = 30;
        assert_eq!(u.pause(), MAX_PAUSE);
    }

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
