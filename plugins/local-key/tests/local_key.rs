//! The reference plugin through the SDK (`plugin::run`) and as a process.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use notation_core::cert::Certificate;
use notation_core::crypto::verify_signature;
use notation_core::descriptor::Descriptor;
use notation_core::signer::{RawSignature, RawSigner, SignOptions, Signer, sign_artifact};
use notation_core::{KeySpec, SignatureAlgorithm, SignatureFormat};
use notation_local_key::LocalKeyPlugin;
use plugin_protocol::plugin::{Outcome, run};
use plugin_protocol::wire::*;
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use serde_json::{Value, json};

/// Writes `<dir>/<name>.key` and `<dir>/<name>.crt` (the generate-test layout) and
/// returns the key id.
fn write_key(dir: &Path, name: &str, alg: &'static rcgen::SignatureAlgorithm) -> String {
    let key = if alg == &rcgen::PKCS_RSA_SHA256 {
        KeyPair::generate_rsa_for(alg, rcgen::RsaKeySize::_2048).unwrap()
    } else {
        KeyPair::generate_for(alg).unwrap()
    };
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.crt")), cert.pem()).unwrap();
    dir.join(name).to_str().unwrap().to_owned()
}

fn call(cmd: &str, req: Value) -> Outcome {
    let args = vec!["notation-local-key".to_owned(), cmd.to_owned()];
    run(&LocalKeyPlugin, &args, &serde_json::to_vec(&req).unwrap())
}

fn ok<T: serde::de::DeserializeOwned>(o: Outcome) -> T {
    assert_eq!(
        o.exit_code,
        0,
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stderr.is_empty());
    serde_json::from_slice(&o.stdout).unwrap()
}

fn err(o: Outcome) -> PluginError {
    assert_eq!(o.exit_code, 1);
    assert!(o.stdout.is_empty());
    serde_json::from_slice(&o.stderr).unwrap()
}

fn sign_request(key_id: &str, spec: &str, hash: &str, payload: &[u8]) -> Value {
    serde_json::to_value(GenerateSignatureRequest {
        contract_version: "1.0".into(),
        key_id: key_id.into(),
        key_spec: spec.into(),
        hash_algorithm: hash.into(),
        payload: Base64Bytes(payload.to_vec()),
        plugin_config: PluginConfig::new(),
    })
    .unwrap()
}

#[test]
fn metadata_is_valid_and_raw() {
    let m: GetMetadataResponse = ok(call("get-plugin-metadata", json!({})));
    m.validate().unwrap();
    assert_eq!(m.name, "local-key");
    assert_eq!(m.capabilities, vec![Capability::SignatureGeneratorRaw]);
}

#[test]
fn describe_and_sign_ec_and_rsa() {
    let dir = tempfile::tempdir().unwrap();
    for (alg, spec, hash, sig_alg) in [
        (
            &rcgen::PKCS_ECDSA_P256_SHA256,
            "EC-256",
            "SHA-256",
            SignatureAlgorithm::EcdsaSha256,
        ),
        (
            &rcgen::PKCS_ECDSA_P384_SHA384,
            "EC-384",
            "SHA-384",
            SignatureAlgorithm::EcdsaSha384,
        ),
        (
            &rcgen::PKCS_RSA_SHA256,
            "RSA-2048",
            "SHA-256",
            SignatureAlgorithm::RsaPssSha256,
        ),
    ] {
        let id = write_key(dir.path(), spec, alg);
        let d: DescribeKeyResponse = ok(call(
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": id}),
        ));
        assert_eq!(
            (d.key_id.as_str(), d.key_spec.as_str()),
            (id.as_str(), spec)
        );

        let payload = b"eyJhbGciOiJFUzI1NiJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319";
        let r: GenerateSignatureResponse = ok(call(
            "generate-signature",
            sign_request(&id, spec, hash, payload),
        ));
        assert_eq!(r.key_id, id);
        assert_eq!(r.signing_algorithm, sig_alg.as_str());
        let pem = std::fs::read(format!("{id}.crt")).unwrap();
        let chain = Certificate::parse_pem_or_der(&pem).unwrap();
        assert_eq!(r.certificate_chain.len(), 1);
        assert_eq!(r.certificate_chain[0].0, chain[0].der());
        verify_signature(sig_alg, &chain[0], payload, &r.signature.0).unwrap();
        // The signature is over the payload bytes, not anything else.
        assert!(verify_signature(sig_alg, &chain[0], b"other", &r.signature.0).is_err());
    }
}

/// A RawSigner that goes through the plugin's JSON interface, so notation-core's
/// checked signing path (chain rules, algorithm match, verification of the finished
/// envelope) runs on what the plugin answers.
struct ViaPlugin(String);

impl RawSigner for ViaPlugin {
    fn key_spec(&self) -> notation_core::Result<KeySpec> {
        let d: DescribeKeyResponse = ok(call(
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": self.0}),
        ));
        Ok(d.key_spec.parse().unwrap())
    }

    fn sign(&self, spec: KeySpec, payload: &[u8]) -> notation_core::Result<RawSignature> {
        let r: GenerateSignatureResponse = ok(call(
            "generate-signature",
            sign_request(&self.0, spec.as_str(), spec.hash().as_str(), payload),
        ));
        Ok(RawSignature {
            signature: r.signature.0,
            algorithm: r.signing_algorithm.parse().unwrap(),
            certificate_chain: r.certificate_chain.into_iter().map(|c| c.0).collect(),
        })
    }
}

#[test]
fn signs_jws_and_cose_through_the_checked_path() {
    let dir = tempfile::tempdir().unwrap();
    let signer = ViaPlugin(write_key(dir.path(), "e2e", &rcgen::PKCS_ECDSA_P256_SHA256));
    let target = Descriptor::of("application/vnd.oci.image.manifest.v1+json", b"{}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for format in [SignatureFormat::Jws, SignatureFormat::Cose] {
        let opts = SignOptions {
            format,
            signing_time: now,
            expiry_seconds: Some(3600),
            signing_agent: "notation-rs/0.1.0 local-key/0.1.0".into(),
        };
        let signed = sign_artifact(Signer::Raw(&signer), &target, &opts).unwrap();
        assert_eq!(signed.content.signer_info.expiry, Some(now + 3600));
    }
}

#[test]
fn errors_name_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope").to_str().unwrap().to_owned();
    let e = err(call(
        "describe-key",
        json!({"contractVersion": "1.0", "keyId": missing}),
    ));
    assert_eq!(e.error_code, ErrorCode::Validation);
    let msg = e.error_message.unwrap();
    assert!(msg.contains(&format!("{missing}.key")), "{msg}");

    // Key present, chain missing.
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    std::fs::remove_file(format!("{id}.crt")).unwrap();
    let e = err(call(
        "describe-key",
        json!({"contractVersion": "1.0", "keyId": id}),
    ));
    assert_eq!(e.error_code, ErrorCode::Validation);
    assert!(e.error_message.unwrap().contains(&format!("{id}.crt")));

    // A key that is not PEM.
    let id = write_key(dir.path(), "bad", &rcgen::PKCS_ECDSA_P256_SHA256);
    std::fs::write(format!("{id}.key"), "garbage").unwrap();
    let e = err(call(
        "generate-signature",
        sign_request(&id, "EC-256", "SHA-256", b"x"),
    ));
    assert_eq!(e.error_code, ErrorCode::Validation);
    let msg = e.error_message.unwrap();
    assert!(
        msg.contains(&format!("{id}.key")) && msg.contains("private key"),
        "{msg}"
    );

    // A key that is not the certificate's.
    let a = write_key(dir.path(), "a", &rcgen::PKCS_ECDSA_P256_SHA256);
    let b = write_key(dir.path(), "b", &rcgen::PKCS_ECDSA_P256_SHA256);
    std::fs::copy(format!("{b}.key"), format!("{a}.key")).unwrap();
    let e = err(call(
        "describe-key",
        json!({"contractVersion": "1.0", "keyId": a}),
    ));
    assert_eq!(e.error_code, ErrorCode::Validation);
    assert!(e.error_message.unwrap().contains("does not match"));

    // Empty key id.
    let e = err(call(
        "describe-key",
        json!({"contractVersion": "1.0", "keyId": ""}),
    ));
    assert_eq!(e.error_code, ErrorCode::Validation);
}

#[test]
fn refuses_key_spec_and_hash_that_are_not_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    for (spec, hash, needle) in [
        ("EC-384", "SHA-384", "keySpec \"EC-384\" does not match"),
        ("RSA-1024", "SHA-256", "unsupported keySpec"),
        (
            "EC-256",
            "SHA-384",
            "hashAlgorithm \"SHA-384\" does not match",
        ),
    ] {
        let e = err(call(
            "generate-signature",
            sign_request(&id, spec, hash, b"x"),
        ));
        assert_eq!(e.error_code, ErrorCode::Validation);
        let msg = e.error_message.unwrap();
        assert!(msg.contains(needle), "{msg}");
    }
}

fn exec(cmd: &str, stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notation-local-key"))
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn binary_answers_on_stdout_and_fails_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "bin", &rcgen::PKCS_ECDSA_P256_SHA256);
    let out = exec(
        "describe-key",
        json!({"contractVersion": "1.0", "keyId": id})
            .to_string()
            .as_bytes(),
    );
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        json!({"keyId": id, "keySpec": "EC-256"}).to_string()
    );

    let out = exec(
        "describe-key",
        br#"{"contractVersion":"1.0","keyId":"/nonexistent/k"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let e: PluginError = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e.error_code, ErrorCode::Validation);
    assert!(e.error_message.unwrap().contains("/nonexistent/k.key"));
}

/// The exchange in README.md is a real one: every block is a wire message, and the
/// signature verifies over the payload with the returned certificate.
#[test]
fn readme_exchange_is_real() {
    let readme = include_str!("../README.md");
    let blocks: Vec<&str> = readme
        .split("```json\n")
        .skip(1)
        .map(|b| b.split("\n```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 5);
    let dk_req: DescribeKeyRequest = serde_json::from_str(blocks[0]).unwrap();
    let dk_resp: DescribeKeyResponse = serde_json::from_str(blocks[1]).unwrap();
    assert_eq!(dk_req.key_id, dk_resp.key_id);
    let gs_req: GenerateSignatureRequest = serde_json::from_str(blocks[2]).unwrap();
    let gs_resp: GenerateSignatureResponse = serde_json::from_str(blocks[3]).unwrap();
    let _: PluginError = serde_json::from_str(blocks[4]).unwrap();
    assert_eq!(
        (gs_req.key_spec.as_str(), dk_resp.key_spec.as_str()),
        ("RSA-2048", "RSA-2048")
    );
    assert_eq!(gs_req.payload.0.len(), 508);
    let leaf = Certificate::from_der(&gs_resp.certificate_chain[0].0).unwrap();
    assert_eq!(leaf.key_spec().unwrap(), KeySpec::Rsa2048);
    let alg: SignatureAlgorithm = gs_resp.signing_algorithm.parse().unwrap();
    verify_signature(alg, &leaf, &gs_req.payload.0, &gs_resp.signature.0).unwrap();
}
