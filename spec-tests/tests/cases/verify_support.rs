//! Helpers of the verification tests: trust set-up (trust store and policy),
//! running `verify` on layouts, and tampering with envelopes (JWS and COSE),
//! including re-signing with the signer's key so that only one rule is broken.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use coset::cbor::value::Value as Cbor;
use coset::{CoseSign1, Label, RegisteredLabelWithPrivate, TaggedCborSerializable as _};
use serde_json::{Value, json};

use crate::harness::{ARTIFACT, Run, Sandbox, vectors};

/// The registry scope layouts are verified under.
pub const SCOPE: &str = "localhost:5000/e2e";

pub fn e2e_crt() -> String {
    vectors()
        .join("notation/config/localkeys/e2e.crt")
        .display()
        .to_string()
}

/// `e2e.crt` in trust store `ca:e2e` and the reference implementation's policy
/// (`*`, strict, `ca:e2e`, any identity).
pub fn trust_e2e(sb: &Sandbox) {
    sb.run(&["cert", "add", "--type", "ca", "--store", "e2e", &e2e_crt()])
        .ok();
    let policy = vectors().join("notation/config/trustpolicies/trustpolicy.json");
    sb.run(&["policy", "import", "--force", &policy.display().to_string()])
        .ok();
}

/// A one-statement global policy.
pub fn policy(level: Value, stores: &[&str], identities: &[&str]) -> Value {
    json!({"version": "1.0", "trustPolicies": [{
        "name": "test",
        "registryScopes": ["*"],
        "signatureVerification": level,
        "trustStores": stores,
        "trustedIdentities": identities,
    }]})
}

/// Imports `policy` (replacing any).
pub fn set_policy(sb: &Sandbox, policy: &Value) {
    let path = sb.path("policy.json");
    std::fs::write(&path, serde_json::to_vec_pretty(policy).unwrap()).unwrap();
    sb.run(&["policy", "import", "--force", &path.display().to_string()])
        .ok();
}

/// `verify --oci-layout --scope <SCOPE> [extra...] <layout>@<ARTIFACT>`.
pub fn verify_layout(sb: &Sandbox, layout: &str, extra: &[&str]) -> Run {
    let target = format!("{layout}@{ARTIFACT}");
    let mut args = vec!["verify", "--oci-layout", "--scope", SCOPE];
    args.extend_from_slice(extra);
    args.push(&target);
    sb.run(&args)
}

fn sha256(data: &[u8]) -> String {
    notation_core::Digest::sha256_of(data).as_str().to_owned()
}

fn blob_path(layout: &str, digest: &str) -> std::path::PathBuf {
    let (alg, hex) = digest.split_once(':').unwrap();
    std::path::Path::new(layout)
        .join("blobs")
        .join(alg)
        .join(hex)
}

/// Replaces the envelope of signature manifest `manifest_digest` in `layout`: a new
/// envelope blob, a new manifest naming it, and the index entry moved to it.
pub fn replace_envelope(layout: &str, manifest_digest: &str, envelope: &[u8]) {
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(blob_path(layout, manifest_digest)).unwrap())
            .unwrap();
    let env_digest = sha256(envelope);
    std::fs::write(blob_path(layout, &env_digest), envelope).unwrap();
    manifest["layers"][0]["digest"] = env_digest.into();
    manifest["layers"][0]["size"] = envelope.len().into();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let new_digest = sha256(&bytes);
    std::fs::write(blob_path(layout, &new_digest), &bytes).unwrap();
    let index_path = std::path::Path::new(layout).join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    for e in index["manifests"].as_array_mut().unwrap() {
        if e["digest"] == manifest_digest {
            e["digest"] = new_digest.clone().into();
            e["size"] = bytes.len().into();
        }
    }
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
}

/// RSASSA-PSS SHA-256 with the PKCS#8 PEM key at `key_pem` (RSA-2048 keys of
/// `cert generate-test`).
pub fn rsa_pss_sha256(key_pem: &std::path::Path, message: &[u8]) -> Vec<u8> {
    let pem = std::fs::read(key_pem).unwrap();
    let der = x509_parser::pem::Pem::iter_from_buffer(&pem)
        .next()
        .unwrap()
        .unwrap()
        .contents;
    let kp = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let mut sig = vec![0; kp.public_modulus_len()];
    kp.sign(
        &aws_lc_rs::signature::RSA_PSS_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message,
        &mut sig,
    )
    .unwrap();
    sig
}

/// Ways to damage an envelope.
#[derive(Clone, Copy, Debug)]
pub enum Tamper {
    /// One bit of the signature flipped.
    FlipSignatureByte,
    /// The signed payload names another digest (signature left as is).
    ChangePayload,
    /// The leaf certificate replaced by `e2e.crt` (a trusted certificate).
    SwapCertificate,
    /// `io.cncf.notary.expiry` removed from `crit`, then re-signed with the key.
    DropCriticalHeader,
    /// A critical extended attribute nobody processes added, then re-signed.
    AddUnknownCriticalHeader,
}

impl Tamper {
    pub const ALL: [Tamper; 5] = [
        Tamper::FlipSignatureByte,
        Tamper::ChangePayload,
        Tamper::SwapCertificate,
        Tamper::DropCriticalHeader,
        Tamper::AddUnknownCriticalHeader,
    ];

    /// What the verify error must say.
    pub fn expected_error(self) -> &'static str {
        match self {
            Tamper::FlipSignatureByte | Tamper::ChangePayload | Tamper::SwapCertificate => {
                "integrity validation failed: signature is invalid"
            }
            Tamper::DropCriticalHeader => {
                "these required headers are not marked as critical: [\"io.cncf.notary.expiry\"]"
            }
            Tamper::AddUnknownCriticalHeader => {
                "the signature has the critical attribute \"io.example.unknown\""
            }
        }
    }
}

fn e2e_der() -> Vec<u8> {
    let pem = std::fs::read(e2e_crt()).unwrap();
    x509_parser::pem::Pem::iter_from_buffer(&pem)
        .next()
        .unwrap()
        .unwrap()
        .contents
}

/// Tampers with a JWS; `key` is the signer's PEM key (for re-signing).
pub fn tamper_jws(env: &[u8], how: Tamper, key: &std::path::Path) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(env).unwrap();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap();
    let mut resign_with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut header: serde_json::Map<String, Value> =
            serde_json::from_slice(&b64(&v["protected"])).unwrap();
        edit(&mut header);
        let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        let input = format!("{protected}.{}", v["payload"].as_str().unwrap());
        v["protected"] = protected.into();
        v["signature"] = URL_SAFE_NO_PAD
            .encode(rsa_pss_sha256(key, input.as_bytes()))
            .into();
    };
    match how {
        Tamper::FlipSignatureByte => {
            let mut sig = b64(&v["signature"]);
            sig[10] ^= 0x01;
            v["signature"] = URL_SAFE_NO_PAD.encode(sig).into();
        }
        Tamper::ChangePayload => {
            let payload = String::from_utf8(b64(&v["payload"])).unwrap();
            let changed = payload.replace("b8479de3", "b8479de4");
            assert_ne!(payload, changed);
            v["payload"] = URL_SAFE_NO_PAD.encode(changed).into();
        }
        Tamper::SwapCertificate => {
            v["header"]["x5c"] = json!([STANDARD.encode(e2e_der())]);
        }
        Tamper::DropCriticalHeader => resign_with(&|h| {
            let crit: Vec<Value> = h["crit"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| *c != "io.cncf.notary.expiry")
                .cloned()
                .collect();
            h.insert("crit".into(), crit.into());
        }),
        Tamper::AddUnknownCriticalHeader => resign_with(&|h| {
            h["crit"]
                .as_array_mut()
                .unwrap()
                .push("io.example.unknown".into());
            h.insert("io.example.unknown".into(), "x".into());
        }),
    }
    serde_json::to_vec(&v).unwrap()
}

/// Tampers with a COSE_Sign1; `key` is the signer's PEM key (for re-signing).
pub fn tamper_cose(env: &[u8], how: Tamper, key: &std::path::Path) -> Vec<u8> {
    let mut msg = CoseSign1::from_tagged_slice(env).unwrap();
    let resign = |msg: &mut CoseSign1| {
        msg.protected.original_data = None;
        let tbs = msg.tbs_data(b"");
        msg.signature = rsa_pss_sha256(key, &tbs);
    };
    match how {
        Tamper::FlipSignatureByte => msg.signature[10] ^= 0x01,
        Tamper::ChangePayload => {
            let payload = String::from_utf8(msg.payload.clone().unwrap()).unwrap();
            msg.payload = Some(payload.replace("b8479de3", "b8479de4").into_bytes());
        }
        Tamper::SwapCertificate => {
            for (label, value) in msg.unprotected.rest.iter_mut() {
                if *label == Label::Int(33) {
                    *value = Cbor::Array(vec![Cbor::Bytes(e2e_der())]);
                }
            }
        }
        Tamper::DropCriticalHeader => {
            msg.protected
                .header
                .crit
                .retain(|c| *c != RegisteredLabelWithPrivate::Text("io.cncf.notary.expiry".into()));
            resign(&mut msg);
        }
        Tamper::AddUnknownCriticalHeader => {
            msg.protected
                .header
                .crit
                .push(RegisteredLabelWithPrivate::Text(
                    "io.example.unknown".into(),
                ));
            msg.protected.header.rest.push((
                Label::Text("io.example.unknown".into()),
                Cbor::Text("x".into()),
            ));
            resign(&mut msg);
        }
    }
    msg.to_tagged_vec().unwrap()
}
