//! Binary fields as Go's `encoding/json` writes `[]byte`: standard base64 with
//! padding (notary-spec.md §1.3). Decoding accepts what Go's decoder accepts, so a
//! plugin that works with notation works here: line breaks are skipped and unused
//! trailing bits are ignored; padding is still required.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

/// Go's `base64.StdEncoding` as a decoder.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as standard base64 with padding.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Base64Bytes(pub Vec<u8>);

impl std::fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Base64Bytes({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Base64Bytes {
    fn from(v: Vec<u8>) -> Base64Bytes {
        Base64Bytes(v)
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Base64Bytes, D::Error> {
        let s = String::deserialize(d)?;
        let s: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        GO_STD
            .decode(s.as_bytes())
            .map(Base64Bytes)
            .map_err(|e| serde::de::Error::custom(format!("not standard base64 with padding: {e}")))
    }
}
