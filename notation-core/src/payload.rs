//! The Notary payload (spec §2.1): `{"targetArtifact": <descriptor>}` with media type
//! `application/vnd.cncf.notary.payload.v1+json`.

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::error::{Error, Result};

/// Content type of every Notary payload (JWS `cty`, COSE label 3).
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

/// The signed statement: which artifact this signature is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// REQUIRED. The signed artifact; its annotations are the user metadata.
    #[serde(rename = "targetArtifact")]
    pub target_artifact: Descriptor,
}

impl Payload {
    /// A payload for `target`.
    pub fn new(target: Descriptor) -> Payload {
        Payload {
            target_artifact: target,
        }
    }

    /// The bytes notation signs in COSE and sends to ENVELOPE plugins: Go struct
    /// order (`mediaType`, `digest`, `size`, `annotations`), compact.
    pub fn to_struct_order_json(&self) -> Vec<u8> {
        crate::gojson::to_vec(self, false)
    }

    /// The bytes notation signs in JWS: every object's keys sorted (golang-jwt
    /// re-serialises the claims through a map).
    pub fn to_sorted_json(&self) -> Vec<u8> {
        crate::gojson::to_vec(self, true)
    }

    /// Parses a payload. The top level must be an object with `targetArtifact`
    /// carrying a valid descriptor.
    pub fn parse(bytes: &[u8]) -> Result<Payload> {
        serde_json::from_slice(bytes).map_err(|e| Error::Payload(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::Digest;
    use std::collections::BTreeMap;

    fn sample() -> Payload {
        let d: Digest = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
            .parse()
            .unwrap();
        let mut desc = Descriptor::new("application/vnd.oci.image.manifest.v1+json", d, 517);
        let mut m = BTreeMap::new();
        m.insert("purpose".to_owned(), "e2e".to_owned());
        desc = desc.with_user_metadata(&m).unwrap();
        Payload::new(desc)
    }

    #[test]
    fn struct_order_bytes() {
        assert_eq!(
            String::from_utf8(sample().to_struct_order_json()).unwrap(),
            r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517,"annotations":{"purpose":"e2e"}}}"#
        );
    }

    #[test]
    fn sorted_bytes_match_notation_jws_payload() {
        // The payload of the reference implementation's signature in e2e-valid-signature
        // (notary-spec.md §1.13a), without annotations.
        let mut p = sample();
        p.target_artifact.annotations.clear();
        assert_eq!(
            String::from_utf8(p.to_sorted_json()).unwrap(),
            r#"{"targetArtifact":{"digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","mediaType":"application/vnd.oci.image.manifest.v1+json","size":517}}"#
        );
    }

    #[test]
    fn parse_rejects_non_payloads() {
        assert!(Payload::parse(br#"{"key":"hello"}"#).is_err());
        assert!(Payload::parse(b"[]").is_err());
        assert_eq!(
            Payload::parse(&sample().to_sorted_json()).unwrap(),
            sample()
        );
    }
}
