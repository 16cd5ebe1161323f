//! Signature verification with aws-lc-rs: envelope signatures (RSASSA-PSS with a salt
//! as long as the hash, ECDSA as fixed-width r||s; spec §1.9) and certificate
//! signatures (PKCS#1 v1.5, PSS, ECDSA DER; SHA-1 refused, spec §2.7).

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

use crate::algorithm::SignatureAlgorithm;
use crate::cert::{Certificate, KeyKind};
use crate::error::{Error, Result};

/// Length of an r||s signature for each curve.
fn ecdsa_fixed_len(alg: SignatureAlgorithm) -> Option<usize> {
    match alg {
        SignatureAlgorithm::EcdsaSha256 => Some(64),
        SignatureAlgorithm::EcdsaSha384 => Some(96),
        SignatureAlgorithm::EcdsaSha512 => Some(132),
        _ => None,
    }
}

/// Verifies an envelope signature made with `alg` by the key of `leaf`.
pub fn verify_signature(
    alg: SignatureAlgorithm,
    leaf: &Certificate,
    message: &[u8],
    sig: &[u8],
) -> Result<()> {
    if let Some(len) = ecdsa_fixed_len(alg)
        && sig.len() != len
    {
        return Err(Error::SignatureFormat(format!(
            "an {} signature must be {len} bytes of r||s, got {} bytes (a DER-encoded ECDSA signature must be converted to r||s)",
            alg,
            sig.len()
        )));
    }
    let verifier: &'static dyn VerificationAlgorithm = match alg {
        SignatureAlgorithm::RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        SignatureAlgorithm::RsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        SignatureAlgorithm::RsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        SignatureAlgorithm::EcdsaSha256 => &signature::ECDSA_P256_SHA256_FIXED,
        SignatureAlgorithm::EcdsaSha384 => &signature::ECDSA_P384_SHA384_FIXED,
        SignatureAlgorithm::EcdsaSha512 => &signature::ECDSA_P521_SHA512_FIXED,
    };
    UnparsedPublicKey::new(verifier, &leaf.public_key)
        .verify(message, sig)
        .map_err(|_| Error::SignatureInvalid)
}

/// Checks a certificate signature (`sig_oid` over `tbs`) with `issuer`'s key.
/// Returns Ok(false) for a signature that does not verify, and an error for an
/// algorithm that is not allowed.
pub(crate) fn verify_certificate_signature(
    sig_oid: &str,
    issuer: &Certificate,
    tbs: &[u8],
    sig: &[u8],
) -> Result<bool> {
    let ec_bits = match &issuer.key_kind {
        KeyKind::Ec { bits, .. } => *bits,
        _ => 0,
    };
    let candidates: Vec<&'static dyn VerificationAlgorithm> = match sig_oid {
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.3.14.3.2.29" => {
            return Err(Error::InvalidChain(
                "certificates signed with SHA-1 are not allowed".into(),
            ));
        }
        "1.2.840.113549.1.1.11" => vec![&signature::RSA_PKCS1_2048_8192_SHA256],
        "1.2.840.113549.1.1.12" => vec![&signature::RSA_PKCS1_2048_8192_SHA384],
        "1.2.840.113549.1.1.13" => vec![&signature::RSA_PKCS1_2048_8192_SHA512],
        // RSASSA-PSS: the hash is in the parameters; try each, all with salt = hash length.
        "1.2.840.113549.1.1.10" => vec![
            &signature::RSA_PSS_2048_8192_SHA256,
            &signature::RSA_PSS_2048_8192_SHA384,
            &signature::RSA_PSS_2048_8192_SHA512,
        ],
        "1.2.840.10045.4.3.2" => match ec_bits {
            256 => vec![&signature::ECDSA_P256_SHA256_ASN1],
            384 => vec![&signature::ECDSA_P384_SHA256_ASN1],
            _ => vec![&signature::ECDSA_P521_SHA256_ASN1],
        },
        "1.2.840.10045.4.3.3" => match ec_bits {
            256 => vec![&signature::ECDSA_P256_SHA384_ASN1],
            384 => vec![&signature::ECDSA_P384_SHA384_ASN1],
            _ => vec![&signature::ECDSA_P521_SHA384_ASN1],
        },
        "1.2.840.10045.4.3.4" => match ec_bits {
            256 => vec![&signature::ECDSA_P256_SHA512_ASN1],
            384 => vec![&signature::ECDSA_P384_SHA512_ASN1],
            _ => vec![&signature::ECDSA_P521_SHA512_ASN1],
        },
        other => {
            return Err(Error::InvalidChain(format!(
                "certificate signature algorithm {other} is not supported"
            )));
        }
    };
    Ok(candidates.into_iter().any(|alg| {
        UnparsedPublicKey::new(alg, &issuer.public_key)
            .verify(tbs, sig)
            .is_ok()
    }))
}
