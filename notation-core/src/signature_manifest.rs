//! Reading signature manifests (spec §3.1, "Reader-side validation"): both forms
//! are accepted, form A (no `artifactType`, config media type
//! `application/vnd.cncf.notary.signature`) and form B (`artifactType`
//! `application/vnd.cncf.notary.signature` with the empty config). The manifest
//! has exactly one layer, the envelope, whose media type is the envelope format.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::descriptor::Descriptor;
use crate::manifest::{
    ARTIFACT_TYPE_SIGNATURE, MEDIA_TYPE_EMPTY, MEDIA_TYPE_IMAGE_MANIFEST, ManifestForm,
};

/// Largest signature manifest read (notation-go's limit).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest envelope blob read (notation-go's limit).
pub const MAX_ENVELOPE_BYTES: u64 = 32 << 20;

/// A signature manifest as a verifier needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureManifest {
    /// Which of the two forms it is.
    pub form: ManifestForm,
    /// The envelope layer.
    pub layer: Descriptor,
    /// The signed artifact, if the manifest names one.
    pub subject: Option<Descriptor>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
}

/// What a manifest is, from a signature reader's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// A Notary signature manifest.
    Signature(Box<SignatureManifest>),
    /// Some other artifact.
    Other,
    /// It claims to be a Notary signature but breaks the rules (the reason says how).
    Invalid(String),
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Classifies manifest bytes.
pub fn classify(bytes: &[u8]) -> Classified {
    let raw: Raw = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) => {
            // Not our business unless it looks like a signature manifest.
            let text = String::from_utf8_lossy(bytes);
            return if text.contains(ARTIFACT_TYPE_SIGNATURE) {
                Classified::Invalid(format!("malformed signature manifest: {e}"))
            } else {
                Classified::Other
            };
        }
    };
    if raw
        .media_type
        .as_deref()
        .is_some_and(|m| m != MEDIA_TYPE_IMAGE_MANIFEST)
    {
        return Classified::Other;
    }
    let config_type = raw.config.as_ref().map(|c| c.media_type.as_str());
    let form = match (raw.artifact_type.as_deref(), config_type) {
        (Some(ARTIFACT_TYPE_SIGNATURE), Some(MEDIA_TYPE_EMPTY)) => ManifestForm::ArtifactType,
        (Some(ARTIFACT_TYPE_SIGNATURE), other) => {
            return Classified::Invalid(format!(
                "a manifest with artifactType {ARTIFACT_TYPE_SIGNATURE} must have the config media type {MEDIA_TYPE_EMPTY}, not {:?}",
                other.unwrap_or("")
            ));
        }
        (None, Some(ARTIFACT_TYPE_SIGNATURE)) => ManifestForm::ConfigMediaType,
        _ => return Classified::Other,
    };
    let layers = raw.layers.unwrap_or_default();
    let [layer] = layers.as_slice() else {
        return Classified::Invalid(format!(
            "a signature manifest must have exactly one layer (the envelope), this one has {}",
            layers.len()
        ));
    };
    Classified::Signature(Box::new(SignatureManifest {
        form,
        layer: layer.clone(),
        subject: raw.subject,
        annotations: raw.annotations,
    }))
}

/// Reads a manifest that must be a signature manifest.
pub fn parse(bytes: &[u8]) -> Result<SignatureManifest, String> {
    match classify(bytes) {
        Classified::Signature(m) => Ok(*m),
        Classified::Invalid(why) => Err(why),
        Classified::Other => Err(format!(
            "not a Notary signature manifest (neither artifactType nor config media type is {ARTIFACT_TYPE_SIGNATURE})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{self, EMPTY_CONFIG};

    fn built(form: ManifestForm) -> Vec<u8> {
        let subject = Descriptor::of(MEDIA_TYPE_IMAGE_MANIFEST, b"{}");
        manifest::build(
            form,
            "application/jose+json",
            b"env",
            &subject,
            &[],
            0,
            &BTreeMap::new(),
        )
        .bytes
    }

    #[test]
    fn both_forms_are_read() {
        for form in [ManifestForm::ConfigMediaType, ManifestForm::ArtifactType] {
            let m = parse(&built(form)).unwrap();
            assert_eq!(m.form, form);
            assert_eq!(m.layer.media_type, "application/jose+json");
            assert!(m.subject.is_some());
        }
    }

    #[test]
    fn rules() {
        let config = Descriptor::of("application/vnd.oci.image.config.v1+json", EMPTY_CONFIG);
        let image = serde_json::json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_IMAGE_MANIFEST, "config": config, "layers": []});
        assert_eq!(
            classify(&serde_json::to_vec(&image).unwrap()),
            Classified::Other
        );
        let mut wrong = image.clone();
        wrong["artifactType"] = ARTIFACT_TYPE_SIGNATURE.into();
        assert!(
            matches!(classify(&serde_json::to_vec(&wrong).unwrap()), Classified::Invalid(w) if w.contains("must have the config media type"))
        );
        let mut two: serde_json::Value =
            serde_json::from_slice(&built(ManifestForm::ConfigMediaType)).unwrap();
        let layer = two["layers"][0].clone();
        two["layers"] = serde_json::json!([layer.clone(), layer]);
        let e = parse(&serde_json::to_vec(&two).unwrap()).unwrap_err();
        assert!(
            e.contains("exactly one layer (the envelope), this one has 2"),
            "{e}"
        );
        assert_eq!(classify(b"[1]"), Classified::Other);
    }
}
