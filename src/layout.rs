//! An OCI image layout on disk (image-spec "Image Layout"; spec §3.7): resolve the
//! artifact to sign, store signature blobs, and list the signature manifest in
//! `index.json`.
//!
//! Blobs are content-addressed and written atomically before `index.json` points at
//! them. `index.json` is rewritten atomically under an exclusive lock on the layout
//! directory, re-read inside the lock, so concurrent signers lose no entries.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use notation_core::{Descriptor, Digest};
use serde_json::{Map, Value};

use crate::fsutil::{self, DirLock};
use crate::layout_ref::Selector;
use crate::output::Printer;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Largest manifest read while resolving (notation's 4 MiB limit).
const MAX_MANIFEST: u64 = 4 * 1024 * 1024;

/// An opened layout.
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Opens the layout at `root`: it must be a directory with a valid `oci-layout`
    /// file and an `index.json`.
    pub fn open(root: &Path) -> Result<Layout> {
        if !root.is_dir() {
            bail!(
                "{} is not a directory: --oci-layout needs the path of an OCI image layout",
                root.display()
            );
        }
        let marker = root.join("oci-layout");
        let Some(bytes) = fsutil::read_regular(&marker)? else {
            bail!(
                "{} is not an OCI image layout: the oci-layout file is missing",
                root.display()
            );
        };
        let v: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("invalid oci-layout file in {}", root.display()))?;
        if v.get("imageLayoutVersion").and_then(Value::as_str) != Some("1.0.0") {
            bail!(
                "unsupported OCI image layout in {}: imageLayoutVersion must be \"1.0.0\"",
                root.display()
            );
        }
        let layout = Layout {
            root: root.to_path_buf(),
        };
        layout.read_index()?;
        Ok(layout)
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    fn read_index(&self) -> Result<Map<String, Value>> {
        let path = self.index_path();
        let bytes = fsutil::read_regular(&path)?.with_context(|| {
            format!(
                "{} is not an OCI image layout: index.json is missing",
                self.root.display()
            )
        })?;
        let index: Map<String, Value> = serde_json::from_slice(&bytes)
            .with_context(|| format!("malformed {}", path.display()))?;
        match index.get("manifests") {
            Some(Value::Array(_)) | None => Ok(index),
            Some(_) => bail!(
                "malformed {}: \"manifests\" must be an array",
                path.display()
            ),
        }
    }

    fn manifests(index: &Map<String, Value>) -> Vec<Value> {
        index
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// The descriptors listed in `index.json` (as JSON, unvalidated).
    pub fn index_entries(&self) -> Result<Vec<Value>> {
        Ok(Layout::manifests(&self.read_index()?))
    }

    /// Path of a blob.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    /// Reads a blob of at most `limit` bytes and checks it against its digest.
    pub fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let meta = std::fs::symlink_metadata(&path).with_context(|| {
            format!(
                "{digest}: not found in the OCI layout {}",
                self.root.display()
            )
        })?;
        if meta.len() > limit {
            bail!(
                "{digest}: blob of {} bytes exceeds the {limit}-byte limit",
                meta.len()
            );
        }
        let bytes = fsutil::read_regular(&path)?.unwrap_or_default();
        if !digest.matches(&bytes) {
            bail!(
                "blob {} is corrupt: its content does not hash to {digest}",
                path.display()
            );
        }
        Ok(bytes)
    }

    /// Resolves a tag or digest to the descriptor of the artifact (mediaType, digest and
    /// size only, as notation signs it), reading and checking the manifest blob.
    pub fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        let index = self.read_index()?;
        let entries = Layout::manifests(&index);
        let found: Vec<&Value> = match selector {
            Selector::Tag(tag) => entries
                .iter()
                .filter(|m| {
                    m.pointer(&format!("/annotations/{}", REF_NAME.replace('/', "~1")))
                        .and_then(Value::as_str)
                        == Some(tag)
                })
                .collect(),
            Selector::Digest(d) => entries
                .iter()
                .filter(|m| m.get("digest").and_then(Value::as_str) == Some(d.as_str()))
                .take(1)
                .collect(),
        };
        let (digest, listed_media_type) = match (found.as_slice(), selector) {
            ([], Selector::Tag(tag)) => bail!(
                "tag {tag:?} not found in the OCI layout {}",
                self.root.display()
            ),
            ([], Selector::Digest(d)) => (d.clone(), None),
            ([one], _) => {
                let d: Digest = one
                    .get("digest")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .parse()
                    .with_context(|| {
                        format!("malformed descriptor in {}", self.index_path().display())
                    })?;
                (
                    d,
                    one.get("mediaType")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                )
            }
            (many, Selector::Tag(tag)) => bail!(
                "tag {tag:?} is ambiguous in the OCI layout {}: {} manifests carry it",
                self.root.display(),
                many.len()
            ),
            (_, Selector::Digest(_)) => unreachable!("take(1)"),
        };
        let bytes = self.read_blob(&digest, MAX_MANIFEST)?;
        let body_media_type = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
            v.get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let media_type = listed_media_type.or(body_media_type).with_context(|| {
            format!("{digest}: cannot tell the media type of this blob; it is not a manifest listed in index.json")
        })?;
        Ok(Descriptor::new(media_type, digest, bytes.len() as u64))
    }

    /// Stores a blob (atomic; a blob already present with the right content is kept).
    /// Returns its path if this call created it.
    pub fn put_blob(&self, bytes: &[u8], printer: &Printer) -> Result<Option<PathBuf>> {
        let digest = Digest::sha256_of(bytes);
        let path = self.blob_path(&digest);
        if let Ok(Some(existing)) = fsutil::read_regular(&path)
            && digest.matches(&existing)
        {
            printer.debug(format_args!("blob {} already present", path.display()));
            return Ok(None);
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        fsutil::write_atomic(&path, bytes, fsutil::PUBLIC)?;
        printer.debug(format_args!(
            "wrote {} ({} bytes)",
            path.display(),
            bytes.len()
        ));
        Ok(Some(path))
    }

    /// Adds `descriptor` to `index.json` unless an entry with its digest exists. The
    /// blob it names must already be stored.
    pub fn add_to_index(&self, descriptor: &Descriptor, printer: &Printer) -> Result<()> {
        if !self.blob_path(&descriptor.digest).is_file() {
            bail!(
                "refusing to list {} in index.json: its blob is not stored",
                descriptor.digest
            );
        }
        let _lock = DirLock::acquire(&self.root)?;
        let mut index = self.read_index()?;
        let mut manifests = Layout::manifests(&index);
        let exists = manifests
            .iter()
            .any(|m| m.get("digest").and_then(Value::as_str) == Some(descriptor.digest.as_str()));
        if exists {
            printer.debug(format_args!(
                "{} is already listed in index.json",
                descriptor.digest
            ));
            return Ok(());
        }
        manifests.push(serde_json::to_value(descriptor)?);
        index.insert("manifests".into(), Value::Array(manifests));
        if !index.contains_key("schemaVersion") {
            index.insert("schemaVersion".into(), 2.into());
        }
        let path = self.index_path();
        fsutil::write_atomic(&path, &serde_json::to_vec(&index)?, fsutil::PUBLIC)?;
        printer.debug(format_args!("updated {}", path.display()));
        Ok(())
    }
}
