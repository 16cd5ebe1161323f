//! Plugin capabilities (notary-spec.md §1.4). Strings this version does not know are
//! kept, not rejected, so a newer plugin still lists and runs.

use serde::{Deserialize, Serialize};

/// A capability string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Capability {
    /// `SIGNATURE_GENERATOR.RAW`: describe-key + generate-signature.
    SignatureGeneratorRaw,
    /// `SIGNATURE_GENERATOR.ENVELOPE`: generate-envelope.
    SignatureGeneratorEnvelope,
    /// `SIGNATURE_VERIFIER.TRUSTED_IDENTITY`.
    VerifierTrustedIdentity,
    /// `SIGNATURE_VERIFIER.REVOCATION_CHECK`.
    VerifierRevocationCheck,
    /// Anything else, kept as sent.
    Unknown(String),
}

impl Capability {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Capability::SignatureGeneratorRaw => "SIGNATURE_GENERATOR.RAW",
            Capability::SignatureGeneratorEnvelope => "SIGNATURE_GENERATOR.ENVELOPE",
            Capability::VerifierTrustedIdentity => "SIGNATURE_VERIFIER.TRUSTED_IDENTITY",
            Capability::VerifierRevocationCheck => "SIGNATURE_VERIFIER.REVOCATION_CHECK",
            Capability::Unknown(s) => s,
        }
    }
}

impl From<String> for Capability {
    fn from(s: String) -> Capability {
        match s.as_str() {
            "SIGNATURE_GENERATOR.RAW" => Capability::SignatureGeneratorRaw,
            "SIGNATURE_GENERATOR.ENVELOPE" => Capability::SignatureGeneratorEnvelope,
            "SIGNATURE_VERIFIER.TRUSTED_IDENTITY" => Capability::VerifierTrustedIdentity,
            "SIGNATURE_VERIFIER.REVOCATION_CHECK" => Capability::VerifierRevocationCheck,
            _ => Capability::Unknown(s),
        }
    }
}

impl From<Capability> for String {
    fn from(c: Capability) -> String {
        c.as_str().to_owned()
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
