//! OCI content descriptors and digests (OCI image-spec "Descriptor"; Notary payload
//! `targetArtifact`, spec §2.1).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Annotation keys that start with this prefix belong to the Notary Project (spec §2.1, §3.2).
pub const RESERVED_ANNOTATION_PREFIX: &str = "io.cncf.notary";

/// A validated content digest: `sha256:<64 hex>`, `sha384:<96 hex>` or `sha512:<128 hex>`,
/// lowercase as the OCI spec registers them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// The SHA-256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        let d = crate::algorithm::HashAlgorithm::Sha256.digest(data);
        Digest(format!("sha256:{}", crate::hex::encode(&d)))
    }

    /// `sha256`, `sha384` or `sha512`.
    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map(|(a, _)| a).unwrap_or_default()
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        self.0.split_once(':').map(|(_, h)| h).unwrap_or_default()
    }

    /// The full `alg:hex` string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `data` hashes to this digest.
    pub fn matches(&self, data: &[u8]) -> bool {
        use crate::algorithm::HashAlgorithm as H;
        let alg = match self.algorithm() {
            "sha256" => H::Sha256,
            "sha384" => H::Sha384,
            _ => H::Sha512,
        };
        crate::hex::encode(&alg.digest(data)) == self.hex()
    }
}

impl TryFrom<String> for Digest {
    type Error = Error;
    fn try_from(s: String) -> Result<Digest> {
        let Some((alg, hex)) = s.split_once(':') else {
            return Err(Error::InvalidDigest(s));
        };
        let len = match alg {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return Err(Error::InvalidDigest(s)),
        };
        let hex_ok = hex.len() == len
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_ok {
            return Err(Error::InvalidDigest(s));
        }
        Ok(Digest(s))
    }
}

impl std::str::FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Digest> {
        Digest::try_from(s.to_owned())
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OCI descriptor. Field order is Go's `ocispec.Descriptor` order, which is the
/// byte order notation emits for the COSE payload and the plugin requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// REQUIRED. Media type of the referenced content.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// REQUIRED. Digest of the referenced content.
    pub digest: Digest,
    /// REQUIRED. Size in bytes.
    pub size: u64,
    /// OPTIONAL. Annotations; in a Notary payload these are the user metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// OPTIONAL. Artifact type (index entries of form-B signature manifests).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor with no annotations.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            annotations: BTreeMap::new(),
            artifact_type: None,
        }
    }

    /// The descriptor of `data`, hashed with SHA-256.
    pub fn of(media_type: impl Into<String>, data: &[u8]) -> Descriptor {
        Descriptor::new(media_type, Digest::sha256_of(data), data.len() as u64)
    }

    /// Adds user metadata (`-m k=v`) as annotations. Reserved keys and keys the
    /// artifact already has are refused, as in notation-go.
    pub fn with_user_metadata(mut self, metadata: &BTreeMap<String, String>) -> Result<Descriptor> {
        for (k, v) in metadata {
            if k.starts_with(RESERVED_ANNOTATION_PREFIX) {
                return Err(Error::ReservedMetadataKey(k.clone()));
            }
            if self.annotations.contains_key(k) {
                return Err(Error::MetadataKeyPresent(k.clone()));
            }
            self.annotations.insert(k.clone(), v.clone());
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_validation() {
        let ok = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
        let d: Digest = ok.parse().unwrap();
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.hex().len(), 64);
        for bad in [
            "sha256:B8479DE3F88FB259A0A9EA82A5B2A052A1EF3C4EBBCFC61482D5AE4C831F8AF9",
            "sha256:abc",
            "md5:0123",
            "b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
            "sha512:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn digest_of_empty_object() {
        let d = Digest::sha256_of(b"{}");
        assert_eq!(
            d.as_str(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert!(d.matches(b"{}"));
        assert!(!d.matches(b"{ }"));
    }

    #[test]
    fn user_metadata_rules() {
        let d = Descriptor::of("application/octet-stream", b"x");
        let mut m = BTreeMap::new();
        m.insert("io.cncf.notary.x".to_owned(), "v".to_owned());
        let e = d.clone().with_user_metadata(&m).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error adding user metadata: metadata key io.cncf.notary.x has reserved prefix io.cncf.notary"
        );
        let mut d2 = d.clone();
        d2.annotations.insert("a".into(), "1".into());
        let mut m = BTreeMap::new();
        m.insert("a".to_owned(), "2".to_owned());
        assert!(matches!(
            d2.with_user_metadata(&m),
            Err(Error::MetadataKeyPresent(_))
        ));
        let mut m = BTreeMap::new();
        m.insert("buildId".to_owned(), "42".to_owned());
        assert_eq!(
            d.with_user_metadata(&m).unwrap().annotations["buildId"],
            "42"
        );
    }
}
