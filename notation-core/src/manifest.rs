//! The signature manifest (spec §3.1, §3.2): an OCI image manifest whose one layer is
//! the envelope and whose `subject` is the signed artifact.
//!
//! Form A (config media type `application/vnd.cncf.notary.signature`) is what
//! notation v1.x writes and what every released verifier reads, so it is the
//! default. Form B (`artifactType` + empty config) is the spec's newer form.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::cert::Certificate;
use crate::descriptor::Descriptor;
use crate::timefmt::format_rfc3339;

/// Artifact type of Notary signatures.
pub const ARTIFACT_TYPE_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// OCI image manifest media type.
pub const MEDIA_TYPE_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const MEDIA_TYPE_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI empty descriptor media type (form B config).
pub const MEDIA_TYPE_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The config blob: the two bytes `{}`.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// Annotation with the SHA-256 thumbprints of the chain (spec §3.2).
pub const ANNOTATION_THUMBPRINTS: &str = "io.cncf.notary.x509chain.thumbprint#S256";
/// Annotation with the creation time (UTC).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";

/// Which manifest shape to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ManifestForm {
    /// Config media type `application/vnd.cncf.notary.signature`, no artifactType.
    #[default]
    ConfigMediaType,
    /// `artifactType` with the empty config descriptor.
    ArtifactType,
}

/// A built signature manifest and the descriptors needed to store it.
#[derive(Debug, Clone)]
pub struct SignatureManifest {
    /// Manifest bytes, exactly as pushed.
    pub bytes: Vec<u8>,
    /// Descriptor of the manifest with its annotations (and artifactType for form B),
    /// as it goes into `index.json` or a referrers index.
    pub descriptor: Descriptor,
    /// Descriptor of the envelope layer.
    pub layer: Descriptor,
    /// Descriptor of the config blob (content [`EMPTY_CONFIG`]).
    pub config: Descriptor,
}

/// The thumbprint annotation value: a compact JSON array of lowercase hex SHA-256
/// fingerprints, leaf first.
pub fn thumbprints(chain: &[Certificate]) -> String {
    let prints: Vec<String> = chain.iter().map(Certificate::sha256_fingerprint).collect();
    serde_json::to_string(&prints).unwrap_or_default()
}

fn plain(d: &Descriptor) -> Value {
    json!({"mediaType": d.media_type, "digest": d.digest, "size": d.size})
}

/// Builds the manifest for `envelope` (of `envelope_media_type`) over `subject`.
/// `extra` annotations (from an envelope signer) go in first; the thumbprint and
/// created annotations are then set by us.
pub fn build(
    form: ManifestForm,
    envelope_media_type: &str,
    envelope: &[u8],
    subject: &Descriptor,
    chain: &[Certificate],
    signing_time: i64,
    extra: &BTreeMap<String, String>,
) -> SignatureManifest {
    let layer = Descriptor::of(envelope_media_type, envelope);
    let mut annotations = extra.clone();
    annotations.insert(ANNOTATION_THUMBPRINTS.into(), thumbprints(chain));
    annotations.insert(ANNOTATION_CREATED.into(), format_rfc3339(signing_time));

    let mut m = Map::new();
    m.insert("schemaVersion".into(), 2.into());
    m.insert("mediaType".into(), MEDIA_TYPE_IMAGE_MANIFEST.into());
    let config = match form {
        ManifestForm::ConfigMediaType => Descriptor::of(ARTIFACT_TYPE_SIGNATURE, EMPTY_CONFIG),
        ManifestForm::ArtifactType => Descriptor::of(MEDIA_TYPE_EMPTY, EMPTY_CONFIG),
    };
    let mut config_json = plain(&config);
    if form == ManifestForm::ArtifactType {
        m.insert("artifactType".into(), ARTIFACT_TYPE_SIGNATURE.into());
        config_json["data"] = "e30=".into();
    }
    m.insert("config".into(), config_json);
    m.insert("layers".into(), json!([plain(&layer)]));
    m.insert("subject".into(), plain(subject));
    m.insert("annotations".into(), json!(annotations));
    let bytes = crate::gojson::to_vec(&m, false);

    let mut descriptor = Descriptor::of(MEDIA_TYPE_IMAGE_MANIFEST, &bytes);
    descriptor.annotations = annotations;
    if form == ManifestForm::ArtifactType {
        descriptor.artifact_type = Some(ARTIFACT_TYPE_SIGNATURE.into());
    }
    SignatureManifest {
        bytes,
        descriptor,
        layer,
        config,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Descriptor {
        let mut d = Descriptor::of(MEDIA_TYPE_IMAGE_MANIFEST, b"{}");
        d.annotations.insert("ignored".into(), "in subject".into());
        d
    }

    /// Form B (spec §3.1 B): artifactType, empty config with data, and the index
    /// descriptor carries the artifactType.
    #[test]
    fn artifact_type_form() {
        let m = build(
            ManifestForm::ArtifactType,
            "application/cose",
            b"sig",
            &subject(),
            &[],
            0,
            &BTreeMap::new(),
        );
        let v: Value = serde_json::from_slice(&m.bytes).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "schemaVersion",
                "mediaType",
                "artifactType",
                "config",
                "layers",
                "subject",
                "annotations"
            ]
        );
        assert_eq!(v["artifactType"], ARTIFACT_TYPE_SIGNATURE);
        assert_eq!(v["config"]["mediaType"], MEDIA_TYPE_EMPTY);
        assert_eq!(v["config"]["data"], "e30=");
        assert_eq!(
            m.descriptor.artifact_type.as_deref(),
            Some(ARTIFACT_TYPE_SIGNATURE)
        );
        assert_eq!(
            v["subject"].as_object().unwrap().len(),
            3,
            "subject has no annotations"
        );
        assert_eq!(v["annotations"][ANNOTATION_CREATED], "1970-01-01T00:00:00Z");
        assert_eq!(v["annotations"][ANNOTATION_THUMBPRINTS], "[]");
    }

    /// Envelope-signer annotations are kept, but ours overwrite the reserved two.
    #[test]
    fn extra_annotations_cannot_override_ours() {
        let extra = BTreeMap::from([
            ("com.example".to_owned(), "1".to_owned()),
            (ANNOTATION_CREATED.to_owned(), "forged".to_owned()),
        ]);
        let m = build(
            ManifestForm::ConfigMediaType,
            "application/jose+json",
            b"sig",
            &subject(),
            &[],
            60,
            &extra,
        );
        assert_eq!(m.descriptor.annotations["com.example"], "1");
        assert_eq!(
            m.descriptor.annotations[ANNOTATION_CREATED],
            "1970-01-01T00:01:00Z"
        );
        assert!(m.descriptor.artifact_type.is_none());
        assert_eq!(m.config.digest, Descriptor::of("x", EMPTY_CONFIG).digest);
    }
}
