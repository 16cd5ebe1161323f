//! Key specs and the algorithms they fix (spec §1.4 "Fixed mapping", §2.6).
//!
//! The signing key decides everything: a key spec names exactly one hash, one
//! signing algorithm, one JWS `alg` and one COSE `alg`. Nothing else is accepted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The six key types the Notary Project accepts (`keySpec` in the plugin protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeySpec {
    /// RSA, 2048-bit modulus.
    #[serde(rename = "RSA-2048")]
    Rsa2048,
    /// RSA, 3072-bit modulus.
    #[serde(rename = "RSA-3072")]
    Rsa3072,
    /// RSA, 4096-bit modulus.
    #[serde(rename = "RSA-4096")]
    Rsa4096,
    /// ECDSA on P-256.
    #[serde(rename = "EC-256")]
    Ec256,
    /// ECDSA on P-384.
    #[serde(rename = "EC-384")]
    Ec384,
    /// ECDSA on P-521.
    #[serde(rename = "EC-521")]
    Ec521,
}

/// Hash algorithms (`hashAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HashAlgorithm {
    /// SHA-256.
    #[serde(rename = "SHA-256")]
    Sha256,
    /// SHA-384.
    #[serde(rename = "SHA-384")]
    Sha384,
    /// SHA-512.
    #[serde(rename = "SHA-512")]
    Sha512,
}

/// Signing algorithms (`signingAlgorithm`). RSA is always RSASSA-PSS with a salt as
/// long as the hash; ECDSA signatures are fixed-width `r || s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS with SHA-256.
    #[serde(rename = "RSASSA-PSS-SHA-256")]
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384.
    #[serde(rename = "RSASSA-PSS-SHA-384")]
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512.
    #[serde(rename = "RSASSA-PSS-SHA-512")]
    RsaPssSha512,
    /// ECDSA with SHA-256 (P-256).
    #[serde(rename = "ECDSA-SHA-256")]
    EcdsaSha256,
    /// ECDSA with SHA-384 (P-384).
    #[serde(rename = "ECDSA-SHA-384")]
    EcdsaSha384,
    /// ECDSA with SHA-512 (P-521).
    #[serde(rename = "ECDSA-SHA-512")]
    EcdsaSha512,
}

impl KeySpec {
    /// All key specs, in the order of spec §1.4.
    pub const ALL: [KeySpec; 6] = [
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::Ec256,
        KeySpec::Ec384,
        KeySpec::Ec521,
    ];

    /// The spec string, e.g. `RSA-2048`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "RSA-2048",
            KeySpec::Rsa3072 => "RSA-3072",
            KeySpec::Rsa4096 => "RSA-4096",
            KeySpec::Ec256 => "EC-256",
            KeySpec::Ec384 => "EC-384",
            KeySpec::Ec521 => "EC-521",
        }
    }

    /// The hash this key spec signs with.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            KeySpec::Rsa2048 | KeySpec::Ec256 => HashAlgorithm::Sha256,
            KeySpec::Rsa3072 | KeySpec::Ec384 => HashAlgorithm::Sha384,
            KeySpec::Rsa4096 | KeySpec::Ec521 => HashAlgorithm::Sha512,
        }
    }

    /// The signing algorithm this key spec implies.
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            KeySpec::Rsa2048 => SignatureAlgorithm::RsaPssSha256,
            KeySpec::Rsa3072 => SignatureAlgorithm::RsaPssSha384,
            KeySpec::Rsa4096 => SignatureAlgorithm::RsaPssSha512,
            KeySpec::Ec256 => SignatureAlgorithm::EcdsaSha256,
            KeySpec::Ec384 => SignatureAlgorithm::EcdsaSha384,
            KeySpec::Ec521 => SignatureAlgorithm::EcdsaSha512,
        }
    }

    /// The key spec of an RSA key with this many modulus bits, if supported.
    pub fn from_rsa_bits(bits: usize) -> Option<KeySpec> {
        match bits {
            2048 => Some(KeySpec::Rsa2048),
            3072 => Some(KeySpec::Rsa3072),
            4096 => Some(KeySpec::Rsa4096),
            _ => None,
        }
    }

    /// True for the RSA key specs.
    pub fn is_rsa(self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
    }
}

impl SignatureAlgorithm {
    /// The spec string, e.g. `RSASSA-PSS-SHA-256`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPssSha256 => "RSASSA-PSS-SHA-256",
            SignatureAlgorithm::RsaPssSha384 => "RSASSA-PSS-SHA-384",
            SignatureAlgorithm::RsaPssSha512 => "RSASSA-PSS-SHA-512",
            SignatureAlgorithm::EcdsaSha256 => "ECDSA-SHA-256",
            SignatureAlgorithm::EcdsaSha384 => "ECDSA-SHA-384",
            SignatureAlgorithm::EcdsaSha512 => "ECDSA-SHA-512",
        }
    }

    /// JWS `alg` (RFC 7518).
    pub fn jws_alg(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPssSha256 => "PS256",
            SignatureAlgorithm::RsaPssSha384 => "PS384",
            SignatureAlgorithm::RsaPssSha512 => "PS512",
            SignatureAlgorithm::EcdsaSha256 => "ES256",
            SignatureAlgorithm::EcdsaSha384 => "ES384",
            SignatureAlgorithm::EcdsaSha512 => "ES512",
        }
    }

    /// The algorithm for a JWS `alg`; `None` for anything outside the six (never `none` or HMAC).
    pub fn from_jws_alg(alg: &str) -> Option<SignatureAlgorithm> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.jws_alg() == alg)
    }

    /// COSE `alg` (IANA COSE Algorithms registry).
    pub fn cose_alg(self) -> i64 {
        match self {
            SignatureAlgorithm::RsaPssSha256 => -37,
            SignatureAlgorithm::RsaPssSha384 => -38,
            SignatureAlgorithm::RsaPssSha512 => -39,
            SignatureAlgorithm::EcdsaSha256 => -7,
            SignatureAlgorithm::EcdsaSha384 => -35,
            SignatureAlgorithm::EcdsaSha512 => -36,
        }
    }

    /// The algorithm for a COSE `alg` value.
    pub fn from_cose_alg(alg: i64) -> Option<SignatureAlgorithm> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.cose_alg() == alg)
    }

    /// All six algorithms.
    pub const ALL: [SignatureAlgorithm; 6] = [
        SignatureAlgorithm::RsaPssSha256,
        SignatureAlgorithm::RsaPssSha384,
        SignatureAlgorithm::RsaPssSha512,
        SignatureAlgorithm::EcdsaSha256,
        SignatureAlgorithm::EcdsaSha384,
        SignatureAlgorithm::EcdsaSha512,
    ];
}

impl HashAlgorithm {
    /// The spec string, e.g. `SHA-256`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// Hash `data` with this algorithm.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use aws_lc_rs::digest;
        let alg = match self {
            HashAlgorithm::Sha256 => &digest::SHA256,
            HashAlgorithm::Sha384 => &digest::SHA384,
            HashAlgorithm::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }
}

macro_rules! spec_string {
    ($ty:ty, $what:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
                    Error::Unsupported {
                        what: $what,
                        value: s.to_owned(),
                    }
                })
            }
        }
    };
}
spec_string!(KeySpec, "key spec");
spec_string!(HashAlgorithm, "hash algorithm");
spec_string!(SignatureAlgorithm, "signing algorithm");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_matches_spec_table() {
        let rows = [
            ("RSA-2048", "SHA-256", "RSASSA-PSS-SHA-256", "PS256", -37),
            ("RSA-3072", "SHA-384", "RSASSA-PSS-SHA-384", "PS384", -38),
            ("RSA-4096", "SHA-512", "RSASSA-PSS-SHA-512", "PS512", -39),
            ("EC-256", "SHA-256", "ECDSA-SHA-256", "ES256", -7),
            ("EC-384", "SHA-384", "ECDSA-SHA-384", "ES384", -35),
            ("EC-521", "SHA-512", "ECDSA-SHA-512", "ES512", -36),
        ];
        for (spec, hash, sig, jws, cose) in rows {
            let k: KeySpec = spec.parse().unwrap();
            assert_eq!(k.to_string(), spec);
            assert_eq!(k.hash().to_string(), hash);
            assert_eq!(k.signature_algorithm().to_string(), sig);
            assert_eq!(k.signature_algorithm().jws_alg(), jws);
            assert_eq!(k.signature_algorithm().cose_alg(), cose);
            assert_eq!(
                SignatureAlgorithm::from_jws_alg(jws),
                Some(k.signature_algorithm())
            );
            assert_eq!(
                SignatureAlgorithm::from_cose_alg(cose),
                Some(k.signature_algorithm())
            );
            assert_eq!(
                sig.parse::<SignatureAlgorithm>().unwrap(),
                k.signature_algorithm()
            );
        }
    }

    #[test]
    fn rejects_unknown_names() {
        assert!("RSA-1024".parse::<KeySpec>().is_err());
        assert!("SHA-1".parse::<HashAlgorithm>().is_err());
        assert_eq!(SignatureAlgorithm::from_jws_alg("none"), None);
        assert_eq!(SignatureAlgorithm::from_jws_alg("HS256"), None);
        assert_eq!(SignatureAlgorithm::from_cose_alg(-8), None);
        assert_eq!(KeySpec::from_rsa_bits(1024), None);
    }
}
