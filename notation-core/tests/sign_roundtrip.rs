//! The checked signing path (`sign_artifact`, spec §1.9) for every key spec and both
//! envelope formats (spec §2.3 JWS, §2.4 COSE), verified independently with aws-lc-rs.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use coset::cbor::value::Value as Cbor;
use coset::{CoseSign1, Label, TaggedCborSerializable as _};
use notation_core::envelope::{self, SignatureFormat};
use notation_core::local_key::LocalKey;
use notation_core::payload::{PAYLOAD_CONTENT_TYPE, Payload};
use notation_core::signer::{SignOptions, SignedEnvelope, Signer, sign_artifact};
use notation_core::{Descriptor, Error, KeySpec};
use serde_json::Value;

use crate::support::*;

const AGENT: &str = "notation-core-tests/0.1";
const WEEK: u64 = 7 * 24 * 3600;

/// Spec §1.4 "Fixed mapping": key spec → (signing algorithm, JWS alg, COSE alg).
fn expected(spec: KeySpec) -> (&'static str, &'static str, i64) {
    match spec {
        KeySpec::Rsa2048 => ("RSASSA-PSS-SHA-256", "PS256", -37),
        KeySpec::Rsa3072 => ("RSASSA-PSS-SHA-384", "PS384", -38),
        KeySpec::Rsa4096 => ("RSASSA-PSS-SHA-512", "PS512", -39),
        KeySpec::Ec256 => ("ECDSA-SHA-256", "ES256", -7),
        KeySpec::Ec384 => ("ECDSA-SHA-384", "ES384", -35),
        KeySpec::Ec521 => ("ECDSA-SHA-512", "ES512", -36),
    }
}

pub fn descriptor() -> Descriptor {
    let mut meta = BTreeMap::new();
    meta.insert("buildId".to_owned(), "42".to_owned());
    Descriptor::of(
        "application/vnd.oci.image.manifest.v1+json",
        b"{\"schemaVersion\":2}",
    )
    .with_user_metadata(&meta)
    .unwrap()
}

pub fn options(format: SignatureFormat, expiry_seconds: Option<u64>) -> SignOptions {
    SignOptions {
        format,
        signing_time: SIGNING_TIME,
        expiry_seconds,
        signing_agent: AGENT.into(),
    }
}

/// A local key with a three-certificate chain, and that chain.
pub fn local_key(spec: KeySpec) -> (LocalKey, [Issued; 3]) {
    let chain = three_chain(spec);
    let key = LocalKey::from_pem(
        chain[0].key.pkcs8_pem().as_bytes(),
        chain_pem(&[&chain[0], &chain[1], &chain[2]]).as_bytes(),
    )
    .unwrap();
    (key, chain)
}

pub fn sign(spec: KeySpec, format: SignatureFormat, expiry: Option<u64>) -> SignedEnvelope {
    let (key, _) = local_key(spec);
    sign_artifact(Signer::Raw(&key), &descriptor(), &options(format, expiry)).unwrap()
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Checks a JWS by hand: headers, x5c, and the signature over `protected.payload`.
fn check_jws_independently(spec: KeySpec, bytes: &[u8], leaf: &[u8], expiry: Option<i64>) {
    let env: Value = serde_json::from_slice(bytes).unwrap();
    let protected = env["protected"].as_str().unwrap();
    let payload = env["payload"].as_str().unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap();
    assert_eq!(header["alg"], expected(spec).1);
    assert_eq!(header["cty"], PAYLOAD_CONTENT_TYPE);
    assert_eq!(header["io.cncf.notary.signingScheme"], "notary.x509");
    assert_eq!(header["io.cncf.notary.signingTime"], rfc3339(SIGNING_TIME));
    let crit: Vec<&str> = header["crit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    match expiry {
        Some(t) => {
            assert_eq!(header["io.cncf.notary.expiry"], rfc3339(t));
            assert_eq!(
                crit,
                ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
            );
        }
        None => {
            assert!(header.get("io.cncf.notary.expiry").is_none());
            assert_eq!(crit, ["io.cncf.notary.signingScheme"]);
        }
    }
    assert_eq!(env["header"]["io.cncf.notary.signingAgent"], AGENT);
    let x5c0 = STANDARD
        .decode(env["header"]["x5c"][0].as_str().unwrap())
        .unwrap();
    assert_eq!(x5c0, leaf);
    let signature = URL_SAFE_NO_PAD
        .decode(env["signature"].as_str().unwrap())
        .unwrap();
    let input = format!("{protected}.{payload}");
    assert!(
        verifies(spec, leaf, input.as_bytes(), &signature),
        "{spec}: JWS signature does not verify independently"
    );
}

/// Checks a COSE_Sign1 by hand: alg, times, x5chain, and the signature over Sig_structure.
fn check_cose_independently(spec: KeySpec, bytes: &[u8], leaf: &[u8], expiry: Option<i64>) {
    let msg = CoseSign1::from_tagged_slice(bytes).unwrap();
    let p = &msg.protected.header;
    let alg = match p.alg.as_ref().unwrap() {
        coset::RegisteredLabelWithPrivate::Assigned(a) => coset::iana::EnumI64::to_i64(a),
        other => panic!("unexpected alg {other:?}"),
    };
    assert_eq!(alg, expected(spec).2);
    let text = |h: &coset::Header, name: &str| {
        h.rest
            .iter()
            .find(|(l, _)| *l == Label::Text(name.into()))
            .map(|(_, v)| v.clone())
    };
    let epoch = |t: i64| Cbor::Tag(1, Box::new(Cbor::Integer(t.into())));
    assert_eq!(
        text(p, "io.cncf.notary.signingTime"),
        Some(epoch(SIGNING_TIME))
    );
    assert_eq!(text(p, "io.cncf.notary.expiry"), expiry.map(epoch));
    assert_eq!(
        text(&msg.unprotected, "io.cncf.notary.signingAgent"),
        Some(Cbor::Text(AGENT.into()))
    );
    let x5chain = msg
        .unprotected
        .rest
        .iter()
        .find(|(l, _)| *l == Label::Int(33))
        .map(|(_, v)| v.clone());
    let Some(Cbor::Array(certs)) = x5chain else {
        panic!("x5chain is not an array: {x5chain:?}");
    };
    assert_eq!(certs[0], Cbor::Bytes(leaf.to_vec()));
    assert!(
        verifies(spec, leaf, &msg.tbs_data(b""), &msg.signature),
        "{spec}: COSE signature does not verify independently"
    );
}

fn roundtrip(spec: KeySpec, format: SignatureFormat) {
    let (key, chain) = local_key(spec);
    let target = descriptor();
    for expiry in [None, Some(WEEK)] {
        let signed = sign_artifact(Signer::Raw(&key), &target, &options(format, expiry)).unwrap();
        assert_eq!(signed.format, format);
        let content = envelope::verify(format, &signed.envelope).unwrap();
        let info = &content.signer_info;
        assert_eq!(info.algorithm, spec.signature_algorithm());
        assert_eq!(info.algorithm.to_string(), expected(spec).0);
        assert_eq!(info.signing_time, Some(SIGNING_TIME));
        let expiry_at = expiry.map(|e| SIGNING_TIME + e as i64);
        assert_eq!(info.expiry, expiry_at);
        assert_eq!(info.signing_scheme, "notary.x509");
        assert_eq!(info.content_type, PAYLOAD_CONTENT_TYPE);
        assert_eq!(info.signing_agent.as_deref(), Some(AGENT));
        let ders: Vec<&[u8]> = info.certificate_chain.iter().map(|c| c.der()).collect();
        assert_eq!(
            ders,
            [&chain[0].der[..], &chain[1].der[..], &chain[2].der[..]]
        );
        assert_eq!(
            Payload::parse(&content.payload).unwrap().target_artifact,
            target
        );
        match format {
            SignatureFormat::Jws => {
                check_jws_independently(spec, &signed.envelope, &chain[0].der, expiry_at)
            }
            SignatureFormat::Cose => {
                check_cose_independently(spec, &signed.envelope, &chain[0].der, expiry_at)
            }
        }
    }
}

macro_rules! roundtrip_tests {
    ($($name:ident: $spec:ident, $format:ident;)*) => {$(
        /// §1.9/§2.3/§2.4: a local key signs, the envelope verifies with the leaf key
        /// and the §1.4 algorithm, and carries the payload, times and chain given.
        #[test]
        fn $name() {
            roundtrip(KeySpec::$spec, SignatureFormat::$format);
        }
    )*};
}

roundtrip_tests! {
    roundtrip_rsa_2048_jws: Rsa2048, Jws;
    roundtrip_rsa_2048_cose: Rsa2048, Cose;
    roundtrip_rsa_3072_jws: Rsa3072, Jws;
    roundtrip_rsa_3072_cose: Rsa3072, Cose;
    roundtrip_rsa_4096_jws: Rsa4096, Jws;
    roundtrip_rsa_4096_cose: Rsa4096, Cose;
    roundtrip_ec_256_jws: Ec256, Jws;
    roundtrip_ec_256_cose: Ec256, Cose;
    roundtrip_ec_384_jws: Ec384, Jws;
    roundtrip_ec_384_cose: Ec384, Cose;
    roundtrip_ec_521_jws: Ec521, Jws;
    roundtrip_ec_521_cose: Ec521, Cose;
}

/// §2.2: an expiry that overflows the signing time is refused before signing.
#[test]
fn expiry_overflowing_signing_time_is_rejected() {
    let (key, _) = local_key(KeySpec::Ec256);
    assert_err!(
        sign_artifact(
            Signer::Raw(&key),
            &descriptor(),
            &options(SignatureFormat::Jws, Some(u64::MAX))
        ),
        Error::InvalidOptions(_),
        "expiry duration is too large"
    );
}

/// §2.7/§1.9 check 1: the chain must be valid at the signing time.
#[test]
fn signing_time_outside_leaf_validity_is_invalid_chain() {
    let (key, _) = local_key(KeySpec::Ec256);
    for format in [SignatureFormat::Jws, SignatureFormat::Cose] {
        let mut opts = options(format, None);
        opts.signing_time = ymd(1999, 12, 31);
        assert_err!(
            sign_artifact(Signer::Raw(&key), &descriptor(), &opts),
            Error::InvalidChain(_),
            "\"CN=Leaf\" was invalid at signing time of 1999-12-31T00:00:00Z"
        );
    }
}
