//! Golden tests against data made by the reference implementation
//! (`shared/vectors`, notary-spec.md §5): the JWS and COSE conformance vectors of
//! notation-core-go must round-trip byte for byte, and notation's signatures in the
//! e2e OCI layouts must parse, verify with e2e.crt, and rebuild into the same
//! signature manifest bytes.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use notation_core::cert::Certificate;
use notation_core::envelope::{self, SignatureFormat, SignedAttributes, cose, jws};
use notation_core::local_key::LocalKey;
use notation_core::manifest::{self, ManifestForm};
use notation_core::payload::Payload;
use notation_core::signer::{SignOptions, Signer, sign_artifact};
use notation_core::{Descriptor, Digest, Error, KeySpec, SignatureAlgorithm};
use serde_json::Value;

const ARTIFACT: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

fn vectors() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    assert!(
        p.is_dir(),
        "test vectors not found at {} (shared/ must sit beside the checkout)",
        p.display()
    );
    p
}

fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    notation_core::hex::decode(s).expect("hex")
}

fn e2e_cert() -> Certificate {
    Certificate::parse_pem_or_der(&read("notation/config/localkeys/e2e.crt"))
        .unwrap()
        .remove(0)
}

/// One signature found in a layout: its manifest bytes and envelope.
struct FoundSignature {
    manifest: Vec<u8>,
    manifest_json: Value,
    envelope_media_type: String,
    envelope: Vec<u8>,
}

/// Every Notary signature manifest (form A) listed in a layout's index.json.
fn signatures_in(layout: &str) -> Vec<FoundSignature> {
    let root = format!("notation/registry/oci_layout/{layout}");
    let index = json(&format!("{root}/index.json"));
    let blob = |d: &str| {
        read(&format!(
            "{root}/blobs/sha256/{}",
            d.trim_start_matches("sha256:")
        ))
    };
    let mut out = Vec::new();
    for entry in index["manifests"].as_array().unwrap() {
        if entry["mediaType"] != manifest::MEDIA_TYPE_IMAGE_MANIFEST {
            continue;
        }
        let bytes = blob(entry["digest"].as_str().unwrap());
        let m: Value = serde_json::from_slice(&bytes).unwrap();
        if m["config"]["mediaType"] != manifest::ARTIFACT_TYPE_SIGNATURE {
            continue;
        }
        let layer = &m["layers"][0];
        out.push(FoundSignature {
            envelope: blob(layer["digest"].as_str().unwrap()),
            envelope_media_type: layer["mediaType"].as_str().unwrap().to_owned(),
            manifest: bytes,
            manifest_json: m,
        });
    }
    out
}

/// notation-core-go JWS conformance vector: our protected header and envelope are
/// byte-identical to the expected ones for the same attributes (spec §2.3).
#[test]
fn jws_conformance_vector_round_trips() {
    let v = json("notation-core-go/signature/jws/testdata/conformance.json");
    let raw = serde_json::to_vec(&v).unwrap();
    let parsed = jws::parse(&raw).unwrap();
    let info = &parsed.signer_info;
    assert_eq!(info.algorithm, SignatureAlgorithm::EcdsaSha256);
    let t = notation_core::timefmt::parse_rfc3339;
    assert_eq!(info.signing_time, t("2022-08-29T13:50:00Z"));
    assert_eq!(info.expiry, t("2099-08-30T13:50:00Z"));
    assert_eq!(info.extended.iter().filter(|e| e.critical).count(), 1);
    assert_eq!(
        info.signing_agent.as_deref(),
        Some("NotationConformanceTest/1.0.0")
    );
    let attrs = attributes_of(info);
    assert_eq!(
        URL_SAFE_NO_PAD.encode(jws::protected_header(&attrs)),
        v["protected"].as_str().unwrap()
    );
    let unsigned = envelope::prepare(SignatureFormat::Jws, &attrs, &parsed.payload).unwrap();
    assert_eq!(
        unsigned.to_be_signed(),
        format!(
            "{}.{}",
            v["protected"].as_str().unwrap(),
            v["payload"].as_str().unwrap()
        )
        .into_bytes()
    );
    let rebuilt = unsigned
        .finish(&info.signature, &[], "NotationConformanceTest/1.0.0")
        .unwrap();
    let rebuilt: Value = serde_json::from_slice(&rebuilt).unwrap();
    assert_eq!(rebuilt, v);
    let keys: Vec<&String> = rebuilt.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["payload", "protected", "header", "signature"]);
}

/// notation-core-go COSE conformance vector: protected header and the whole tagged
/// COSE_Sign1 are byte-identical (spec §2.4, canonical header order, tag-1 times).
#[test]
fn cose_conformance_vector_round_trips() {
    let v = json("notation-core-go/signature/cose/testdata/conformance.json");
    let expected = hex(v["expectedOutput"]["cborHex"].as_str().unwrap());
    assert_eq!(&expected[..2], &[0xd2, 0x84], "tag 18, array of 4");
    let parsed = cose::parse(&expected).unwrap();
    let info = &parsed.signer_info;
    assert_eq!(info.algorithm, SignatureAlgorithm::RsaPssSha384);
    assert_eq!(info.signing_time, v["signingTime"].as_i64());
    assert_eq!(info.expiry, v["expiry"].as_i64());
    assert_eq!(parsed.payload, hex(v["payload"].as_str().unwrap()));
    let attrs = attributes_of(info);
    assert_eq!(
        cose::encode_headers(&attrs).unwrap(),
        hex(v["protectedHeaders"]["cborHex"].as_str().unwrap())
    );
    let unsigned = envelope::prepare(SignatureFormat::Cose, &attrs, &parsed.payload).unwrap();
    let rebuilt = unsigned
        .finish(&info.signature, &[], "NotationConformanceTest/1.0.0")
        .unwrap();
    assert_eq!(hex_string(&rebuilt), hex_string(&expected));
}

/// The signed attributes an envelope was built from, to rebuild it.
fn attributes_of(info: &notation_core::envelope::SignerInfo) -> SignedAttributes {
    SignedAttributes {
        algorithm: info.algorithm,
        signing_time: info.signing_time.unwrap(),
        expiry: info.expiry,
        extended: info.extended.clone(),
    }
}

fn hex_string(b: &[u8]) -> String {
    notation_core::hex::encode(b)
}

/// notation's signature in e2e-valid-signature verifies with e2e.crt, and the
/// worked example of notary-spec.md §1.13a holds for its signing input.
#[test]
fn reference_signature_verifies_with_e2e_cert() {
    let sigs = signatures_in("e2e-valid-signature");
    assert_eq!(sigs.len(), 1);
    let s = &sigs[0];
    assert_eq!(s.envelope_media_type, "application/jose+json");
    let content = envelope::verify(SignatureFormat::Jws, &s.envelope).unwrap();
    let info = &content.signer_info;
    assert_eq!(info.certificate_chain, vec![e2e_cert()]);
    assert_eq!(info.algorithm, SignatureAlgorithm::RsaPssSha256);
    assert_eq!(info.signing_agent.as_deref(), Some("Notation/1.0.0"));
    let payload = Payload::parse(&content.payload).unwrap();
    assert_eq!(payload.target_artifact.digest.as_str(), ARTIFACT);
    assert_eq!(payload.target_artifact.size, 517);
    let env: Value = serde_json::from_slice(&s.envelope).unwrap();
    let input = format!(
        "{}.{}",
        env["protected"].as_str().unwrap(),
        env["payload"].as_str().unwrap()
    );
    assert_eq!(input.len(), 508);
    assert_eq!(
        hex_string(&notation_core::HashAlgorithm::Sha256.digest(input.as_bytes())),
        "fe6179bbc357ef3f19eed13f96620197729037fa8f64af231443edad801c4fce"
    );
}

/// Our manifest builder reproduces notation's signature manifest byte for byte
/// (form A, lowercase thumbprints, UTC created time; spec §3.1 A, §3.2).
#[test]
fn signature_manifest_matches_reference_bytes() {
    for layout in [
        "e2e-valid-signature",
        "e2e-valid-multiple-signatures",
        "e2e-with-timestamped-signature",
    ] {
        for s in signatures_in(layout) {
            let content = envelope::verify(SignatureFormat::Jws, &s.envelope).unwrap();
            let subject: Descriptor =
                serde_json::from_value(s.manifest_json["subject"].clone()).unwrap();
            let created = s.manifest_json["annotations"][manifest::ANNOTATION_CREATED]
                .as_str()
                .unwrap();
            let t = notation_core::timefmt::parse_rfc3339(created).unwrap();
            let m = manifest::build(
                ManifestForm::ConfigMediaType,
                &s.envelope_media_type,
                &s.envelope,
                &subject,
                &content.signer_info.certificate_chain,
                t,
                &Default::default(),
            );
            assert_eq!(
                String::from_utf8_lossy(&m.bytes),
                String::from_utf8_lossy(&s.manifest),
                "{layout}"
            );
            assert_eq!(m.descriptor.digest, Digest::sha256_of(&s.manifest));
        }
    }
}

/// Every notation signature in the e2e layouts passes the integrity check; expiry,
/// certificate expiry and timestamps are trust-policy matters checked elsewhere.
#[test]
fn all_reference_envelopes_pass_integrity() {
    let now = 1_790_000_000; // 2026-09
    let mut seen = 0;
    for layout in [
        "e2e-valid-signature",
        "e2e-valid-multiple-signatures",
        "e2e-expired-signature",
        "e2e-with-expired-cert",
        "e2e-with-timestamped-signature",
        "e2e-with-invalid-timestamped-signature",
    ] {
        for s in signatures_in(layout) {
            let format = SignatureFormat::from_media_type(&s.envelope_media_type).unwrap();
            let content =
                envelope::verify(format, &s.envelope).unwrap_or_else(|e| panic!("{layout}: {e}"));
            let info = content.signer_info;
            match layout {
                "e2e-expired-signature" => assert!(info.expiry.unwrap() < now),
                "e2e-with-expired-cert" => assert!(info.certificate_chain[0].not_after < now),
                "e2e-with-timestamped-signature" => {
                    assert!(info.timestamp_signature.is_some());
                    let p = Payload::parse(&content.payload).unwrap();
                    assert_eq!(p.target_artifact.annotations["purpose"], "e2e");
                }
                _ => {}
            }
            seen += 1;
        }
    }
    assert!(seen >= 7, "only {seen} signatures found");
}

/// The tampered layout's "envelope" is not an envelope: it has no envelope media type,
/// and read as JWS it is rejected.
#[test]
fn reference_invalid_signature_is_rejected() {
    let sigs = signatures_in("e2e-invalid-signature");
    assert_eq!(sigs.len(), 1);
    assert_eq!(
        SignatureFormat::from_media_type(&sigs[0].envelope_media_type),
        None
    );
    let e = envelope::verify(SignatureFormat::Jws, &sigs[0].envelope).unwrap_err();
    assert!(matches!(e, Error::MalformedEnvelope { .. }), "{e}");
}

/// Signing the e2e artifact with notation's own e2e key: the JWS payload bytes equal
/// the ones notation signed, and the result verifies with e2e.crt.
#[test]
fn signing_with_e2e_key_matches_reference_payload() {
    let key = LocalKey::from_pem(
        &read("notation/config/localkeys/e2e.key"),
        &read("notation/config/localkeys/e2e.crt"),
    )
    .unwrap();
    let target = Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        ARTIFACT.parse().unwrap(),
        517,
    );
    let opts = SignOptions {
        format: SignatureFormat::Jws,
        signing_time: 1_790_000_000,
        expiry_seconds: None,
        signing_agent: "test".into(),
    };
    let signed = sign_artifact(Signer::Raw(&key), &target, &opts).unwrap();
    let ours: Value = serde_json::from_slice(&signed.envelope).unwrap();
    let reference: Value =
        serde_json::from_slice(&signatures_in("e2e-valid-signature")[0].envelope).unwrap();
    assert_eq!(ours["payload"], reference["payload"]);
    assert_eq!(ours["header"]["x5c"], reference["header"]["x5c"]);
    let content = envelope::verify(SignatureFormat::Jws, &signed.envelope).unwrap();
    assert_eq!(content.signer_info.certificate_chain[0], e2e_cert());
    assert_eq!(e2e_cert().key_spec().unwrap(), KeySpec::Rsa2048);
    assert_eq!(
        e2e_cert().sha256_fingerprint(),
        "e38aea13f2b051f7183cca64a51ee676f4d4456f41d9fecf15eb367efc7343b9"
    );
}
