//! The test plugin as a process: every switch and fault, and what notation-core's
//! checked signing path makes of the faulty answers.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use notation_core::descriptor::Descriptor;
use notation_core::signer::{
    EnvelopeSigner, GeneratedEnvelope, RawSignature, RawSigner, SignOptions, SignedEnvelope,
    Signer, sign_artifact,
};
use notation_core::{KeySpec, SignatureFormat};
use plugin_protocol::wire::*;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_notation-test-plugin");

fn write_key(dir: &Path, name: &str, alg: &'static rcgen::SignatureAlgorithm) -> String {
    use rcgen::{
        CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    };
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

fn exec_env(cmd: &str, stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.arg(cmd)
        .env_remove("NOTATION_USERNAME")
        .env_remove("NOTATION_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // Write from a thread: a fault may answer before reading everything.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn exec(cmd: &str, req: &Value) -> Output {
    exec_env(cmd, req.to_string().as_bytes(), &[])
}

fn config(pairs: &[(&str, &str)]) -> PluginConfig {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn metadata_req(cfg: &PluginConfig) -> Value {
    serde_json::to_value(GetMetadataRequest {
        plugin_config: cfg.clone(),
    })
    .unwrap()
}

fn describe_req(id: &str, cfg: &PluginConfig) -> Value {
    serde_json::to_value(DescribeKeyRequest {
        contract_version: "1.0".into(),
        key_id: id.into(),
        plugin_config: cfg.clone(),
    })
    .unwrap()
}

fn sign_req(id: &str, spec: KeySpec, payload: &[u8], cfg: &PluginConfig) -> Value {
    serde_json::to_value(GenerateSignatureRequest {
        contract_version: "1.0".into(),
        key_id: id.into(),
        key_spec: spec.to_string(),
        hash_algorithm: spec.hash().to_string(),
        payload: Base64Bytes(payload.to_vec()),
        plugin_config: cfg.clone(),
    })
    .unwrap()
}

fn ok<T: serde::de::DeserializeOwned>(out: &Output) -> T {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn failed(out: &Output) -> PluginError {
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    serde_json::from_slice(&out.stderr).unwrap()
}

/// The plugin behind notation-core's signer traits, as a host would drive it.
struct Plugin {
    id: String,
    cfg: PluginConfig,
}

impl RawSigner for Plugin {
    fn key_spec(&self) -> notation_core::Result<KeySpec> {
        let d: DescribeKeyResponse = ok(&exec("describe-key", &describe_req(&self.id, &self.cfg)));
        Ok(d.key_spec.parse().unwrap())
    }

    fn sign(&self, spec: KeySpec, payload: &[u8]) -> notation_core::Result<RawSignature> {
        let r: GenerateSignatureResponse = ok(&exec(
            "generate-signature",
            &sign_req(&self.id, spec, payload, &self.cfg),
        ));
        Ok(RawSignature {
            signature: r.signature.0,
            algorithm: r.signing_algorithm.parse().unwrap(),
            certificate_chain: r.certificate_chain.into_iter().map(|c| c.0).collect(),
        })
    }
}

impl EnvelopeSigner for Plugin {
    fn generate_envelope(
        &self,
        payload: &[u8],
        format: SignatureFormat,
        expiry_seconds: Option<u64>,
    ) -> notation_core::Result<GeneratedEnvelope> {
        let req = GenerateEnvelopeRequest {
            contract_version: "1.0".into(),
            key_id: self.id.clone(),
            payload_type: "application/vnd.cncf.notary.payload.v1+json".into(),
            signature_envelope_type: format.media_type().into(),
            payload: Base64Bytes(payload.to_vec()),
            expiry_duration_in_seconds: expiry_seconds,
            plugin_config: self.cfg.clone(),
        };
        let r: GenerateEnvelopeResponse = ok(&exec(
            "generate-envelope",
            &serde_json::to_value(req).unwrap(),
        ));
        Ok(GeneratedEnvelope {
            envelope: r.signature_envelope.0,
            media_type: r.signature_envelope_type,
            annotations: r.annotations.unwrap_or_default(),
        })
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn target() -> Descriptor {
    let mut d = Descriptor::of("application/vnd.oci.image.manifest.v1+json", b"{}");
    d.annotations.insert("purpose".into(), "test".into());
    d
}

fn sign(
    p: &Plugin,
    envelope: bool,
    format: SignatureFormat,
) -> notation_core::Result<SignedEnvelope> {
    let opts = SignOptions {
        format,
        signing_time: now(),
        expiry_seconds: Some(3600),
        signing_agent: "notation-rs/0.1.0 test-plugin/1.0.0".into(),
    };
    let signer = if envelope {
        Signer::Envelope(p)
    } else {
        Signer::Raw(p)
    };
    sign_artifact(signer, &target(), &opts)
}

fn assert_err_contains(r: notation_core::Result<SignedEnvelope>, needle: &str) {
    match r {
        Ok(_) => panic!("expected an error mentioning {needle:?}"),
        Err(e) => assert!(
            e.to_string().contains(needle),
            "{e} does not mention {needle:?}"
        ),
    }
}

#[test]
fn metadata_capabilities() {
    let m: GetMetadataResponse = ok(&exec("get-plugin-metadata", &json!({})));
    m.validate().unwrap();
    assert_eq!(
        (m.name.as_str(), m.version.as_str()),
        ("test-plugin", "1.0.0")
    );
    assert_eq!(m.capabilities, vec![Capability::SignatureGeneratorRaw]);
    for (value, caps) in [
        ("ENVELOPE", vec![Capability::SignatureGeneratorEnvelope]),
        (
            "RAW,ENVELOPE",
            vec![
                Capability::SignatureGeneratorRaw,
                Capability::SignatureGeneratorEnvelope,
            ],
        ),
    ] {
        let m: GetMetadataResponse = ok(&exec(
            "get-plugin-metadata",
            &metadata_req(&config(&[("capabilities", value)])),
        ));
        assert_eq!(m.capabilities, caps);
    }
}

#[test]
fn bad_config_is_a_validation_error() {
    for pairs in [
        [("fault", "explode")],
        [("capabilities", "SIDEWAYS")],
        [("annotations", "no-equals-sign")],
    ] {
        let e = failed(&exec("get-plugin-metadata", &metadata_req(&config(&pairs))));
        assert_eq!(e.error_code, ErrorCode::Validation);
        assert!(
            e.error_message
                .unwrap()
                .starts_with("test-plugin: invalid pluginConfig")
        );
    }
}

#[test]
fn raw_signing_passes_the_checked_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = Plugin {
        id: write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256),
        cfg: config(&[("unrelated", "kept")]),
    };
    for format in [SignatureFormat::Jws, SignatureFormat::Cose] {
        sign(&p, false, format).unwrap();
    }
}

#[test]
fn envelope_signing_passes_the_checked_path_with_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let p = Plugin {
        id: write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P384_SHA384),
        cfg: config(&[("capabilities", "ENVELOPE"), ("annotations", "k1=v1;k2=v2")]),
    };
    for format in [SignatureFormat::Jws, SignatureFormat::Cose] {
        let s = sign(&p, true, format).unwrap();
        assert_eq!(
            s.annotations,
            [
                ("k1".to_owned(), "v1".to_owned()),
                ("k2".to_owned(), "v2".to_owned())
            ]
            .into()
        );
        let info = &s.content.signer_info;
        assert_eq!(info.signing_agent.as_deref(), Some("test-plugin/1.0.0"));
        assert_eq!(info.expiry, info.signing_time.map(|t| t + 3600));
    }
}

#[test]
fn changed_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    let cfg = config(&[("fault", "changed-key-id")]);
    let d: DescribeKeyResponse = ok(&exec("describe-key", &describe_req(&id, &cfg)));
    assert_eq!(d.key_id, format!("{id}-changed"));
    let r: GenerateSignatureResponse = ok(&exec(
        "generate-signature",
        &sign_req(&id, KeySpec::Ec256, b"x", &cfg),
    ));
    assert_eq!(r.key_id, format!("{id}-changed"));
    // Scoped to generate-signature, describe-key is honest.
    let cfg = config(&[
        ("fault", "changed-key-id"),
        ("fault_command", "generate-signature"),
    ]);
    let d: DescribeKeyResponse = ok(&exec("describe-key", &describe_req(&id, &cfg)));
    assert_eq!(d.key_id, id);
}

#[test]
fn raw_faults_are_caught_by_the_checked_path() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_RSA_SHA256);
    let p = |fault: &str| Plugin {
        id: id.clone(),
        cfg: config(&[("fault", fault)]),
    };
    assert_err_contains(
        sign(&p("bad-signature"), false, SignatureFormat::Jws),
        "failed verification",
    );
    assert_err_contains(
        sign(&p("wrong-chain"), false, SignatureFormat::Cose),
        "failed verification",
    );
    assert_err_contains(
        sign(&p("wrong-algorithm"), false, SignatureFormat::Jws),
        "RSASSA-PSS-SHA-384",
    );

    let r: GenerateSignatureResponse = ok(&exec(
        "generate-signature",
        &sign_req(
            &id,
            KeySpec::Rsa2048,
            b"x",
            &config(&[("fault", "wrong-algorithm")]),
        ),
    ));
    assert_eq!(r.signing_algorithm, "RSASSA-PSS-SHA-384");
    let r: GenerateSignatureResponse = ok(&exec(
        "generate-signature",
        &sign_req(
            &id,
            KeySpec::Rsa2048,
            b"x",
            &config(&[("fault", "wrong-chain")]),
        ),
    ));
    assert_eq!(r.certificate_chain.len(), 1);
    let leaf = notation_core::cert::Certificate::from_der(&r.certificate_chain[0].0).unwrap();
    assert_eq!(leaf.key_spec().unwrap(), KeySpec::Rsa2048);
    assert!(leaf.subject.contains("wrong-chain"));
}

#[test]
fn envelope_faults_are_caught_by_the_checked_path() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    let p = |fault: &str| Plugin {
        id: id.clone(),
        cfg: config(&[("capabilities", "ENVELOPE"), ("fault", fault)]),
    };
    for format in [SignatureFormat::Jws, SignatureFormat::Cose] {
        assert_err_contains(
            sign(&p("bad-signature"), true, format),
            "failed verification",
        );
        assert_err_contains(sign(&p("wrong-chain"), true, format), "failed verification");
        assert_err_contains(
            sign(&p("wrong-envelope-type"), true, format),
            "does not match request",
        );
        assert_err_contains(
            sign(&p("tampered-payload"), true, format),
            "descriptor subject has changed",
        );
        // Reserved-prefix annotations are for the host's manifest step to refuse.
        let s = sign(&p("added-annotations"), true, format).unwrap();
        assert_eq!(
            s.annotations
                .get("io.cncf.notary.forged")
                .map(String::as_str),
            Some("1")
        );
    }
}

#[test]
fn garbage_stdout() {
    let out = exec(
        "get-plugin-metadata",
        &metadata_req(&config(&[("fault", "garbage-stdout")])),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"not json");
    assert!(out.stderr.is_empty());
}

#[test]
fn crash_exits_3_silently_and_can_be_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    let cfg = config(&[("fault", "crash"), ("fault_command", "describe-key")]);
    let _: GetMetadataResponse = ok(&exec("get-plugin-metadata", &metadata_req(&cfg)));
    let out = exec("describe-key", &describe_req(&id, &cfg));
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn error_json_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    let cfg = config(&[("fault", "error-json")]);
    for out in [
        exec("get-plugin-metadata", &metadata_req(&cfg)),
        exec("describe-key", &describe_req(&id, &cfg)),
        exec(
            "generate-signature",
            &sign_req(&id, KeySpec::Ec256, b"x", &cfg),
        ),
    ] {
        let e = failed(&out);
        assert_eq!(e.error_code, ErrorCode::AccessDenied);
        assert_eq!(
            e.error_message.as_deref(),
            Some("the key vault refused access")
        );
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            r#"{"errorCode":"ACCESS_DENIED","errorMessage":"the key vault refused access"}"#
        );
    }
}

#[test]
fn sleep_then_answer() {
    let start = Instant::now();
    let out = exec(
        "get-plugin-metadata",
        &metadata_req(&config(&[("fault", "sleep"), ("sleep_seconds", "1")])),
    );
    assert!(start.elapsed() >= Duration::from_secs(1));
    let _: GetMetadataResponse = ok(&out);
}

#[test]
fn huge_output() {
    let out = exec(
        "get-plugin-metadata",
        &metadata_req(&config(&[("fault", "huge-output")])),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), 65 * 1024 * 1024 + 1);
}

#[test]
fn stray_print_stays_off_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    let cfg = config(&[("fault", "stray-print")]);
    let out = exec("describe-key", &describe_req(&id, &cfg));
    let d: DescribeKeyResponse = ok(&out);
    assert_eq!(d.key_spec, "EC-256");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        json!({"keyId": id, "keySpec": "EC-256"}).to_string()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stray"));
    let out = exec("get-plugin-metadata", &metadata_req(&cfg));
    let _: GetMetadataResponse = ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("stray"));
}

#[test]
fn record_argv_request_and_env_presence_only() {
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    let log = dir.path().join("record.jsonl");
    let cfg = config(&[("record", log.to_str().unwrap())]);
    let req = describe_req(&id, &cfg);
    let out = exec_env(
        "describe-key",
        req.to_string().as_bytes(),
        &[
            ("NOTATION_USERNAME", "user-secret"),
            ("NOTATION_PASSWORD", "pass-secret"),
        ],
    );
    let _: DescribeKeyResponse = ok(&out);
    let _: GetMetadataResponse = ok(&exec("get-plugin-metadata", &metadata_req(&cfg)));

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("secret"));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["argv"], json!([BIN, "describe-key"]));
    assert_eq!(lines[0]["command"], "describe-key");
    assert_eq!(lines[0]["stdin"], req);
    assert_eq!(
        lines[0]["env"],
        json!({"NOTATION_USERNAME": true, "NOTATION_PASSWORD": true, "HOME": std::env::var_os("HOME").is_some()})
    );
    assert_eq!(lines[1]["command"], "get-plugin-metadata");
    assert_eq!(lines[1]["env"]["NOTATION_USERNAME"], false);
    assert_eq!(lines[1]["env"]["NOTATION_PASSWORD"], false);
}

#[test]
fn large_requests_pass_through_the_refed_stdin() {
    // Far larger than a pipe buffer: main.rs reads stdin, then feeds it to the SDK again.
    let dir = tempfile::tempdir().unwrap();
    let id = write_key(dir.path(), "k", &rcgen::PKCS_ECDSA_P256_SHA256);
    let payload = vec![b'a'; 1 << 20];
    let r: GenerateSignatureResponse = ok(&exec(
        "generate-signature",
        &sign_req(&id, KeySpec::Ec256, &payload, &PluginConfig::new()),
    ));
    let chain = notation_core::cert::Certificate::from_der(&r.certificate_chain[0].0).unwrap();
    notation_core::crypto::verify_signature(
        notation_core::SignatureAlgorithm::EcdsaSha256,
        &chain,
        &payload,
        &r.signature.0,
    )
    .unwrap();
}

#[test]
fn sdk_still_rejects_bad_invocations() {
    let out = exec_env("sign", b"{}", &[]);
    let e = failed(&out);
    assert!(e.error_message.unwrap().starts_with("Invalid command"));
    let out = exec_env("describe-key", b"not json", &[]);
    let e = failed(&out);
    assert!(
        e.error_message
            .unwrap()
            .starts_with("Input is not a valid JSON")
    );
}
