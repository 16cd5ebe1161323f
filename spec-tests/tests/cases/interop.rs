//! Signatures made by this binary, checked by an independent implementation:
//! `spec-tests/independent_verify.py` (Python `cryptography` on OpenSSL, and `cbor2`)
//! shares no code with notation-rs. Every key spec, JWS and COSE.

use std::process::Command;

use crate::harness::{ARTIFACT, Sandbox};

/// Writes a key of `alg` and a self-signed code-signing certificate into the sandbox
/// and registers it with `key add`; returns the certificate path.
fn add_ec_key(sb: &Sandbox, name: &str, alg: &'static rcgen::SignatureAlgorithm) -> String {
    let key = rcgen::KeyPair::generate_for(alg).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    let cert = params.self_signed(&key).unwrap();
    let (kp, cp) = (
        sb.path(&format!("{name}.key")),
        sb.path(&format!("{name}.crt")),
    );
    std::fs::write(&kp, key.serialize_pem()).unwrap();
    std::fs::write(&cp, cert.pem()).unwrap();
    sb.run(&[
        "key",
        "add",
        "--key-file",
        &kp.display().to_string(),
        "--cert-file",
        &cp.display().to_string(),
        name,
    ])
    .ok();
    cp.display().to_string()
}

fn independent_verify(layout: &str, cert: &str) -> Vec<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/independent_verify.py");
    let out = Command::new("python3")
        .args([script, layout, ARTIFACT, cert])
        .output()
        .expect("python3 is needed for the interoperability tests (scripts/test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "independent verifier rejected a signature:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// RSA (2048/3072/4096 from generate-test) and EC (P-256/384/521 from key add),
/// each in JWS and COSE: all twelve verify independently.
#[test]
fn every_key_spec_and_format_verifies_independently() {
    let sb = Sandbox::new();
    let mut keys: Vec<(String, String, &str)> = Vec::new();
    for (bits, alg) in [("2048", "PS256"), ("3072", "PS384"), ("4096", "PS512")] {
        let name = format!("rsa{bits}");
        sb.run(&["cert", "generate-test", "--bits", bits, &name])
            .ok();
        let crt = sb
            .config()
            .join(format!("localkeys/{name}.crt"))
            .display()
            .to_string();
        keys.push((name, crt, alg));
    }
    for (name, alg, jws) in [
        ("ec256", &rcgen::PKCS_ECDSA_P256_SHA256, "ES256"),
        ("ec384", &rcgen::PKCS_ECDSA_P384_SHA384, "ES384"),
        ("ec521", &rcgen::PKCS_ECDSA_P521_SHA512, "ES512"),
    ] {
        let crt = add_ec_key(&sb, name, alg);
        keys.push((name.into(), crt, jws));
    }
    for (name, crt, alg) in keys {
        let layout = sb.layout("e2e");
        for format in ["jws", "cose"] {
            sb.run(&[
                "sign",
                "-k",
                &name,
                "--signature-format",
                format,
                "-e",
                "1h",
                "-m",
                "k=v",
                "--oci-layout",
                &format!("{layout}@{ARTIFACT}"),
            ])
            .ok();
        }
        let lines = independent_verify(&layout, &crt);
        assert_eq!(
            lines,
            vec![
                format!("ok application/jose+json {alg}"),
                format!("ok application/cose {alg}")
            ],
            "{name}"
        );
        std::fs::remove_dir_all(&layout).unwrap();
    }
}

/// The verifier is not a rubber stamp: a flipped signature byte is rejected, in COSE
/// (last bytes of the CBOR) and in JWS (a character of the base64url signature).
#[test]
fn independent_verifier_rejects_tampered_signatures() {
    for format in ["cose", "jws"] {
        let sb = Sandbox::new();
        sb.test_key("t");
        let layout = sb.layout("e2e");
        sb.run(&[
            "sign",
            "--signature-format",
            format,
            "--oci-layout",
            &format!("{layout}@{ARTIFACT}"),
        ])
        .ok();
        let sig = &crate::harness::signatures(&layout, ARTIFACT)[0];
        let digest = sig.manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_owned();
        let path = format!("{layout}/blobs/sha256/{digest}");
        let mut bytes = std::fs::read(&path).unwrap();
        if format == "cose" {
            let n = bytes.len();
            bytes[n - 5] ^= 0x01;
        } else {
            let mut env: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let mut s = env["signature"].as_str().unwrap().to_owned();
            let c = if s.starts_with('A') { "B" } else { "A" };
            s.replace_range(0..1, c);
            env["signature"] = s.into();
            bytes = serde_json::to_vec(&env).unwrap();
        }
        std::fs::write(&path, &bytes).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/independent_verify.py");
        let crt = sb.config().join("localkeys/t.crt").display().to_string();
        let out = Command::new("python3")
            .args([script, &layout, ARTIFACT, &crt])
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "tampered {format} signature accepted"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("InvalidSignature"), "{format}: {err}");
    }
}
