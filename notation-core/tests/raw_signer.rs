//! What `sign_artifact` checks in a raw signer's answer (spec §1.9 "caller checks"):
//! the algorithm, the r||s signature format, the chain, and the signature itself.

use aws_lc_rs::signature as sig;
use notation_core::envelope::SignatureFormat;
use notation_core::local_key::LocalKey;
use notation_core::signer::{RawSignature, RawSigner, Signer, sign_artifact};
use notation_core::{Error, KeySpec, SignatureAlgorithm};

use crate::sign_roundtrip::{descriptor, local_key, options};
use crate::support::*;

const FORMATS: [SignatureFormat; 2] = [SignatureFormat::Jws, SignatureFormat::Cose];

type Edit<'a> = &'a dyn Fn(&[u8], &mut RawSignature);

/// A raw signer (like a RAW plugin) that signs with a local key and then alters what
/// it returns. The edit sees the bytes that were to be signed.
struct Stub<'a> {
    key: &'a LocalKey,
    edit: Edit<'a>,
}

impl RawSigner for Stub<'_> {
    fn key_spec(&self) -> notation_core::Result<KeySpec> {
        self.key.key_spec()
    }
    fn sign(&self, key_spec: KeySpec, payload: &[u8]) -> notation_core::Result<RawSignature> {
        let mut raw = self.key.sign(key_spec, payload)?;
        (self.edit)(payload, &mut raw);
        Ok(raw)
    }
}

fn sign_with(
    spec: KeySpec,
    format: SignatureFormat,
    edit: Edit<'_>,
) -> notation_core::Result<notation_core::signer::SignedEnvelope> {
    let (key, _) = local_key(spec);
    let stub = Stub { key: &key, edit };
    sign_artifact(Signer::Raw(&stub), &descriptor(), &options(format, None))
}

/// The untouched stub signs fine, so each failure below is due to its edit.
#[test]
fn stub_without_edit_signs() {
    for format in FORMATS {
        sign_with(KeySpec::Ec256, format, &|_, _| {}).unwrap();
    }
}

/// §1.9: the signer's `signingAlgorithm` must be the one the key spec implies.
#[test]
fn wrong_signing_algorithm_is_algorithm_mismatch() {
    for format in FORMATS {
        assert_err!(
            sign_with(KeySpec::Ec256, format, &|_, raw| {
                raw.algorithm = SignatureAlgorithm::EcdsaSha384
            }),
            Error::SignerAlgorithmMismatch { .. },
            "returned signing algorithm ECDSA-SHA-384, but its key spec EC-256 requires ECDSA-SHA-256"
        );
    }
}

fn der_tlv_bytes(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n @ 0..=127 => out.push(n as u8),
        n @ 128..=255 => out.extend([0x81, n as u8]),
        n => panic!("DER length {n} not needed here"),
    }
    out.extend_from_slice(content);
    out
}

/// Fixed-width r||s → DER `SEQUENCE { INTEGER r, INTEGER s }`.
fn rs_to_der(rs: &[u8]) -> Vec<u8> {
    let (r, s) = rs.split_at(rs.len() / 2);
    let int = |x: &[u8]| {
        let start = x.iter().position(|b| *b != 0).unwrap_or(x.len() - 1);
        let mut v = Vec::new();
        if x[start] & 0x80 != 0 {
            v.push(0);
        }
        v.extend_from_slice(&x[start..]);
        der_tlv_bytes(0x02, &v)
    };
    der_tlv_bytes(0x30, &[int(r), int(s)].concat())
}

/// §1.9: ECDSA signatures must be r||s; a (valid) DER signature is refused.
#[test]
fn der_encoded_ecdsa_signature_is_rejected() {
    let cases = [
        (KeySpec::Ec256, &sig::ECDSA_P256_SHA256_ASN1, 64),
        (KeySpec::Ec384, &sig::ECDSA_P384_SHA384_ASN1, 96),
        (KeySpec::Ec521, &sig::ECDSA_P521_SHA512_ASN1, 132),
    ];
    for (spec, asn1, len) in cases {
        for format in FORMATS {
            let edit = |msg: &[u8], raw: &mut RawSignature| {
                raw.signature = rs_to_der(&raw.signature);
                // The DER form is a real signature of the message, only in the wrong shape.
                let leaf = &raw.certificate_chain[0];
                sig::UnparsedPublicKey::new(asn1, public_key_bits(leaf))
                    .verify(msg, &raw.signature)
                    .expect("DER signature verifies as ASN.1");
            };
            assert_err!(
                sign_with(spec, format, &edit),
                Error::SignatureFormat(_),
                &format!("must be {len} bytes of r||s")
            );
        }
    }
}

/// §1.9 check 3: a signature over other bytes fails the generated-signature check.
#[test]
fn signature_over_other_bytes_fails_verification() {
    for spec in [KeySpec::Rsa2048, KeySpec::Ec384] {
        let (same_key, _) = local_key(spec);
        for format in FORMATS {
            let edit = |msg: &[u8], raw: &mut RawSignature| {
                let mut changed = msg.to_vec();
                changed.push(b'!');
                raw.signature = same_key.sign(spec, &changed).unwrap().signature;
            };
            assert_err!(
                sign_with(spec, format, &edit),
                Error::SignatureFormat(_),
                "generated signature failed verification"
            );
        }
    }
}

/// §1.9 check 3: a chain whose leaf holds another key of the same spec fails verification.
#[test]
fn chain_leaf_of_other_key_same_spec_fails_verification() {
    let [_, inter, root] = three_chain(KeySpec::Ec256);
    let other_leaf = Issued::issued_by(
        &Profile::leaf("Leaf"),
        Key::pooled(Pool::Other, KeySpec::Ec256),
        &inter,
    );
    let ders = vec![other_leaf.der, inter.der, root.der];
    for format in FORMATS {
        assert_err!(
            sign_with(KeySpec::Ec256, format, &|_, raw| raw.certificate_chain =
                ders.clone()),
            Error::SignatureFormat(_),
            "generated signature failed verification"
        );
    }
}

/// §1.9 check 2: a leaf of another key spec than `keySpec` is an algorithm mismatch.
#[test]
fn chain_leaf_of_other_key_spec_is_algorithm_mismatch() {
    let [leaf, inter, root] = three_chain(KeySpec::Ec384);
    let ders = vec![leaf.der, inter.der, root.der];
    for format in FORMATS {
        assert_err!(
            sign_with(KeySpec::Ec256, format, &|_, raw| raw.certificate_chain =
                ders.clone()),
            Error::AlgorithmMismatch { .. },
            "derived from signing certificate (ECDSA-SHA-384) and signing algorithm specified (ECDSA-SHA-256)"
        );
    }
}

/// §1.9 check 1: the returned chain must satisfy §2.7 (here: root missing).
#[test]
fn incomplete_chain_is_invalid_chain() {
    for format in FORMATS {
        assert_err!(
            sign_with(KeySpec::Ec256, format, &|_, raw| {
                raw.certificate_chain.pop();
            }),
            Error::InvalidChain(_),
            "is not self-signed"
        );
    }
}

/// §1.9: every chain element must parse as an X.509 DER certificate.
#[test]
fn unparsable_chain_element_is_certificate_error() {
    assert_err!(
        sign_with(KeySpec::Ec256, SignatureFormat::Jws, &|_, raw| {
            raw.certificate_chain[1] = b"not DER".to_vec();
        }),
        Error::Certificate(_),
        "malformed certificate"
    );
}

/// §1.9: an empty chain is refused.
#[test]
fn empty_chain_is_invalid_chain() {
    assert_err!(
        sign_with(KeySpec::Ec256, SignatureFormat::Cose, &|_, raw| {
            raw.certificate_chain.clear();
        }),
        Error::InvalidChain(_),
        "chain is empty"
    );
}
