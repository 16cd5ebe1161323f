//! Envelope integrity (spec §2.3/§2.4 "Verification", §2.6): a changed signature,
//! payload, certificate or critical header is caught by `envelope::verify`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use coset::cbor::value::Value as Cbor;
use coset::{CoseSign1, Label, RegisteredLabelWithPrivate, TaggedCborSerializable as _};
use notation_core::envelope::{self, SignatureFormat};
use notation_core::payload::Payload;
use notation_core::{Descriptor, Error, KeySpec};
use serde_json::Value;

use crate::sign_roundtrip::sign;
use crate::support::*;

const WEEK: Option<u64> = Some(7 * 24 * 3600);

fn jws(spec: KeySpec) -> Value {
    let signed = sign(spec, SignatureFormat::Jws, WEEK);
    envelope::verify(SignatureFormat::Jws, &signed.envelope).expect("untampered JWS verifies");
    serde_json::from_slice(&signed.envelope).unwrap()
}

fn verify_jws(env: &Value) -> notation_core::Result<envelope::EnvelopeContent> {
    envelope::verify(SignatureFormat::Jws, &serde_json::to_vec(env).unwrap())
}

fn cose(spec: KeySpec) -> Vec<u8> {
    let signed = sign(spec, SignatureFormat::Cose, WEEK);
    envelope::verify(SignatureFormat::Cose, &signed.envelope).expect("untampered COSE verifies");
    signed.envelope
}

fn edit_cose(bytes: &[u8], edit: impl FnOnce(&mut CoseSign1)) -> Vec<u8> {
    let mut msg = CoseSign1::from_tagged_slice(bytes).unwrap();
    edit(&mut msg);
    msg.to_tagged_vec().unwrap()
}

fn edit_protected(env: &mut Value, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let raw = URL_SAFE_NO_PAD
        .decode(env["protected"].as_str().unwrap())
        .unwrap();
    let mut header: serde_json::Map<String, Value> = serde_json::from_slice(&raw).unwrap();
    edit(&mut header);
    env["protected"] = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&header).unwrap())
        .into();
}

/// A certificate for another key of `spec`, self-signed.
fn other_cert(spec: KeySpec) -> Vec<u8> {
    Issued::self_signed(&Profile::leaf("Leaf"), Key::pooled(Pool::Other, spec)).der
}

/// §2.3: one flipped byte of the JWS signature fails verification.
#[test]
fn jws_flipped_signature_byte_is_signature_invalid() {
    for spec in [KeySpec::Rsa2048, KeySpec::Ec256, KeySpec::Ec521] {
        let mut env = jws(spec);
        let mut sig = URL_SAFE_NO_PAD
            .decode(env["signature"].as_str().unwrap())
            .unwrap();
        let mid = sig.len() / 2;
        sig[mid] ^= 0x01;
        env["signature"] = URL_SAFE_NO_PAD.encode(&sig).into();
        assert_err!(
            verify_jws(&env),
            Error::SignatureInvalid,
            "signature is invalid"
        );
    }
}

/// §2.4: one flipped byte at the end of the COSE_Sign1 (the signature) fails verification.
#[test]
fn cose_flipped_signature_byte_is_signature_invalid() {
    for spec in [KeySpec::Rsa2048, KeySpec::Ec256, KeySpec::Ec521] {
        let mut bytes = cose(spec);
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        assert_err!(
            envelope::verify(SignatureFormat::Cose, &bytes),
            Error::SignatureInvalid,
            "signature is invalid"
        );
    }
}

fn other_payload() -> Vec<u8> {
    let d = Descriptor::of(
        "application/vnd.oci.image.manifest.v1+json",
        b"other artifact",
    );
    Payload::new(d).to_sorted_json()
}

/// §2.3: a JWS whose payload was replaced fails verification.
#[test]
fn jws_replaced_payload_is_signature_invalid() {
    let mut env = jws(KeySpec::Ec256);
    env["payload"] = URL_SAFE_NO_PAD.encode(other_payload()).into();
    assert_err!(
        verify_jws(&env),
        Error::SignatureInvalid,
        "signature is invalid"
    );
}

/// §2.4: a COSE_Sign1 whose payload was replaced fails verification.
#[test]
fn cose_replaced_payload_is_signature_invalid() {
    let bytes = edit_cose(&cose(KeySpec::Rsa2048), |m| {
        m.payload = Some(other_payload())
    });
    assert_err!(
        envelope::verify(SignatureFormat::Cose, &bytes),
        Error::SignatureInvalid,
        "signature is invalid"
    );
}

/// §2.3: the leaf (x5c[0]) swapped for another key's certificate of the same spec fails.
#[test]
fn jws_leaf_swapped_for_other_key_is_signature_invalid() {
    let mut env = jws(KeySpec::Ec256);
    env["header"]["x5c"][0] = STANDARD.encode(other_cert(KeySpec::Ec256)).into();
    assert_err!(
        verify_jws(&env),
        Error::SignatureInvalid,
        "signature is invalid"
    );
}

/// §2.6: a leaf of another key spec than `alg` is an algorithm mismatch.
#[test]
fn jws_leaf_swapped_for_other_key_spec_is_algorithm_mismatch() {
    let mut env = jws(KeySpec::Ec256);
    env["header"]["x5c"][0] = STANDARD.encode(other_cert(KeySpec::Ec384)).into();
    assert_err!(
        verify_jws(&env),
        Error::AlgorithmMismatch { .. },
        "derived from signing certificate (ECDSA-SHA-384) and signing algorithm specified (ECDSA-SHA-256)"
    );
}

/// §2.4/§2.6: x5chain leaf swapped for another key (same spec, other spec) fails.
#[test]
fn cose_leaf_swapped_for_other_key_fails() {
    let swap = |der: Vec<u8>| {
        edit_cose(&cose(KeySpec::Ec256), |m| {
            let (_, chain) = m
                .unprotected
                .rest
                .iter_mut()
                .find(|(l, _)| *l == Label::Int(33))
                .unwrap();
            let Cbor::Array(certs) = chain else {
                panic!("x5chain not an array")
            };
            certs[0] = Cbor::Bytes(der);
        })
    };
    assert_err!(
        envelope::verify(SignatureFormat::Cose, &swap(other_cert(KeySpec::Ec256))),
        Error::SignatureInvalid,
        "signature is invalid"
    );
    assert_err!(
        envelope::verify(SignatureFormat::Cose, &swap(other_cert(KeySpec::Rsa2048))),
        Error::AlgorithmMismatch { .. },
        "(RSASSA-PSS-SHA-256) and signing algorithm specified (ECDSA-SHA-256)"
    );
}

/// §2.6: `alg` rewritten to another algorithm than the leaf key's is refused.
#[test]
fn jws_alg_substitution_is_algorithm_mismatch() {
    let mut env = jws(KeySpec::Ec256);
    edit_protected(&mut env, |h| {
        h.insert("alg".into(), "PS256".into());
    });
    assert_err!(
        verify_jws(&env),
        Error::AlgorithmMismatch { .. },
        "specified (RSASSA-PSS-SHA-256)"
    );
}

/// §2.3: `io.cncf.notary.signingScheme` must be listed in `crit`.
#[test]
fn jws_signing_scheme_not_critical_is_malformed() {
    let mut env = jws(KeySpec::Ec256);
    edit_protected(&mut env, |h| {
        h["crit"] = serde_json::json!(["io.cncf.notary.expiry"]);
    });
    assert_err!(
        verify_jws(&env),
        Error::MalformedEnvelope { format: "JWS", .. },
        "not marked as critical: [\"io.cncf.notary.signingScheme\"]"
    );
}

/// §2.3: expiry, when present, must be listed in `crit`.
#[test]
fn jws_expiry_not_critical_is_malformed() {
    let mut env = jws(KeySpec::Ec256);
    edit_protected(&mut env, |h| {
        h["crit"] = serde_json::json!(["io.cncf.notary.signingScheme"]);
    });
    assert_err!(
        verify_jws(&env),
        Error::MalformedEnvelope { format: "JWS", .. },
        "not marked as critical: [\"io.cncf.notary.expiry\"]"
    );
}

/// §2.3: a JWS without `crit` is malformed.
#[test]
fn jws_without_crit_is_malformed() {
    let mut env = jws(KeySpec::Ec256);
    edit_protected(&mut env, |h| {
        h.remove("crit");
    });
    assert_err!(
        verify_jws(&env),
        Error::MalformedEnvelope { format: "JWS", .. },
        "missing \"crit\" header"
    );
}

/// §2.4: the signing scheme label must be listed in the COSE `crit`.
#[test]
fn cose_signing_scheme_not_critical_is_malformed() {
    let bytes = edit_cose(&cose(KeySpec::Ec256), |m| {
        m.protected.header.crit.retain(
            |c| !matches!(c, RegisteredLabelWithPrivate::Text(t) if t == "io.cncf.notary.signingScheme"),
        );
        m.protected.original_data = None;
    });
    assert_err!(
        envelope::verify(SignatureFormat::Cose, &bytes),
        Error::MalformedEnvelope { format: "COSE", .. },
        "not marked as critical: [\"io.cncf.notary.signingScheme\"]"
    );
}
