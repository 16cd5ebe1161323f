//! `notation sign --oci-layout` success paths (spec §3.7, §3.1 A, §3.2, §4.6, §4.7).

use notation_core::payload::Payload;
use notation_core::{KeySpec, SignatureAlgorithm, SignatureFormat};

use crate::harness::{ARTIFACT, Sandbox, signatures, snapshot};

/// Signing by tag: success line, the tag warning on stderr, a form-A manifest listed
/// in index.json with notation's annotations, and an envelope that verifies with the
/// generated certificate.
#[test]
fn sign_jws_by_tag_stores_a_verifiable_signature() {
    let sb = Sandbox::new();
    sb.test_key("alice");
    let layout = sb.layout("e2e");
    let run = sb
        .run(&["sign", "--oci-layout", &format!("{layout}:v1")])
        .ok();
    assert_eq!(
        run.stdout,
        format!("Successfully signed {layout}@{ARTIFACT}\n")
    );
    assert!(run.stderr.contains(
        "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v1) because tags are mutable"
    ));
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 1);
    let s = &sigs[0];
    assert_eq!(s.format, SignatureFormat::Jws);
    let cert = std::fs::read(sb.config().join("localkeys/alice.crt")).unwrap();
    let leaf = notation_core::cert::Certificate::parse_pem_or_der(&cert)
        .unwrap()
        .remove(0);
    assert_eq!(s.content.signer_info.certificate_chain, vec![leaf.clone()]);
    assert_eq!(
        s.content.signer_info.algorithm,
        SignatureAlgorithm::RsaPssSha256
    );
    let payload = Payload::parse(&s.content.payload).unwrap();
    assert_eq!(payload.target_artifact.digest.as_str(), ARTIFACT);
    assert_eq!(payload.target_artifact.size, 517);
    assert!(payload.target_artifact.annotations.is_empty());
    // Manifest shape (form A) and annotations.
    let m = &s.manifest;
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.cncf.notary.signature"
    );
    assert_eq!(m["config"]["size"], 2);
    assert!(m.get("artifactType").is_none());
    assert_eq!(m["subject"]["digest"], ARTIFACT);
    assert_eq!(
        m["subject"].as_object().unwrap().len(),
        3,
        "subject is mediaType, digest, size only"
    );
    let thumbs = format!("[\"{}\"]", leaf.sha256_fingerprint());
    assert_eq!(
        m["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"],
        thumbs
    );
    let created = m["annotations"]["org.opencontainers.image.created"]
        .as_str()
        .unwrap();
    assert!(created.ends_with('Z'));
    assert_eq!(
        notation_core::timefmt::parse_rfc3339(created),
        s.content.signer_info.signing_time
    );
    // The index entry carries the manifest's annotations and no tag.
    assert_eq!(s.index_entry["annotations"], m["annotations"]);
    assert!(
        s.index_entry["annotations"]
            .get("org.opencontainers.image.ref.name")
            .is_none()
    );
    assert_eq!(
        s.content.signer_info.signing_agent.as_deref(),
        Some("notation-rs/0.1.0")
    );
}

/// COSE by digest: no tag warning; a tagged COSE_Sign1 that verifies.
#[test]
fn sign_cose_by_digest() {
    let sb = Sandbox::new();
    sb.test_key("bob");
    let layout = sb.layout("e2e");
    let run = sb
        .run(&[
            "sign",
            "--signature-format",
            "cose",
            "--oci-layout",
            &format!("{layout}@{ARTIFACT}"),
        ])
        .ok();
    assert!(!run.stderr.contains("Warning"), "{}", run.stderr);
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].format, SignatureFormat::Cose);
    assert_eq!(&sigs[0].envelope[..2], &[0xd2, 0x84]);
    assert_eq!(
        sigs[0].manifest["layers"][0]["mediaType"],
        "application/cose"
    );
}

/// `signatureFormat` in config.json sets the default; the flag still wins.
#[test]
fn config_json_signature_format_is_the_default() {
    let sb = Sandbox::new();
    sb.test_key("carol");
    std::fs::write(
        sb.config().join("config.json"),
        r#"{"signatureFormat":"cose"}"#,
    )
    .unwrap();
    let layout = sb.layout("e2e");
    sb.run(&["sign", "--oci-layout", &format!("{layout}@{ARTIFACT}")])
        .ok();
    sb.run(&[
        "sign",
        "--signature-format",
        "jws",
        "--oci-layout",
        &format!("{layout}@{ARTIFACT}"),
    ])
    .ok();
    let mut formats: Vec<_> = signatures(&layout, ARTIFACT)
        .iter()
        .map(|s| s.format)
        .collect();
    formats.sort_by_key(|f| f.as_str());
    assert_eq!(formats, vec![SignatureFormat::Cose, SignatureFormat::Jws]);
}

/// `--expiry` sets `io.cncf.notary.expiry` = signing time + duration, in both formats,
/// and `-m` puts user metadata in the payload annotations.
#[test]
fn expiry_and_user_metadata_are_signed() {
    let sb = Sandbox::new();
    sb.test_key("dave");
    let layout = sb.layout("e2e");
    for format in ["jws", "cose"] {
        sb.run(&[
            "sign",
            "-e",
            "3h20m",
            "-m",
            "buildId=42",
            "--user-metadata",
            "team=a=b",
            "--signature-format",
            format,
            "--oci-layout",
            &format!("{layout}@{ARTIFACT}"),
        ])
        .ok();
    }
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 2);
    for s in sigs {
        let info = &s.content.signer_info;
        assert_eq!(info.expiry.unwrap() - info.signing_time.unwrap(), 12_000);
        let p = Payload::parse(&s.content.payload).unwrap();
        assert_eq!(p.target_artifact.annotations["buildId"], "42");
        assert_eq!(p.target_artifact.annotations["team"], "a=b");
        // The subject of the manifest stays the plain descriptor.
        assert!(s.manifest["subject"].get("annotations").is_none());
    }
}

/// `--bits 3072` and `--bits 4096` keys sign with PS384 and PS512.
#[test]
fn rsa_key_sizes_pick_their_algorithm() {
    let sb = Sandbox::new();
    let layout = sb.layout("e2e");
    for (bits, alg) in [
        ("3072", SignatureAlgorithm::RsaPssSha384),
        ("4096", SignatureAlgorithm::RsaPssSha512),
    ] {
        let name = format!("k{bits}");
        sb.run(&["cert", "generate-test", "--bits", bits, &name])
            .ok();
        sb.run(&[
            "sign",
            "-k",
            &name,
            "--oci-layout",
            &format!("{layout}@{ARTIFACT}"),
        ])
        .ok();
        let found = signatures(&layout, ARTIFACT)
            .into_iter()
            .any(|s| s.content.signer_info.algorithm == alg);
        assert!(found, "no {alg} signature");
        assert_eq!(
            notation_core::cert::Certificate::parse_pem_or_der(
                &std::fs::read(sb.config().join(format!("localkeys/{name}.crt"))).unwrap()
            )
            .unwrap()[0]
                .key_spec()
                .unwrap(),
            if bits == "3072" {
                KeySpec::Rsa3072
            } else {
                KeySpec::Rsa4096
            }
        );
    }
}

/// notation's own e2e key, registered with `key add`, signs and the thumbprint is
/// the one in notation's layouts.
#[test]
fn registered_e2e_key_signs() {
    let sb = Sandbox::new();
    let v = crate::harness::vectors().join("notation/config/localkeys");
    let key = v.join("e2e.key").display().to_string();
    let crt = v.join("e2e.crt").display().to_string();
    sb.run(&["key", "add", "--key-file", &key, "--cert-file", &crt, "e2e"])
        .ok();
    let layout = sb.layout("e2e");
    sb.run(&[
        "sign",
        "--key",
        "e2e",
        "--oci-layout",
        &format!("{layout}@{ARTIFACT}"),
    ])
    .ok();
    let s = &signatures(&layout, ARTIFACT)[0];
    assert_eq!(
        s.manifest["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"],
        "[\"e38aea13f2b051f7183cca64a51ee676f4d4456f41d9fecf15eb367efc7343b9\"]"
    );
}

/// Signing a layout that already holds notation's signatures adds one entry and
/// keeps every existing entry and its fields.
#[test]
fn existing_index_entries_are_kept() {
    let sb = Sandbox::new();
    sb.test_key("erin");
    let layout = sb.layout("e2e-valid-multiple-signatures");
    let before: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{layout}/index.json")).unwrap()).unwrap();
    sb.run(&["sign", "--oci-layout", &format!("{layout}@{ARTIFACT}")])
        .ok();
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{layout}/index.json")).unwrap()).unwrap();
    let (b, a) = (
        before["manifests"].as_array().unwrap(),
        after["manifests"].as_array().unwrap(),
    );
    assert_eq!(a.len(), b.len() + 1);
    assert_eq!(&a[..b.len()], &b[..]);
}

/// Eight signers at once on one layout: all eight signatures end up in index.json.
#[test]
fn concurrent_signers_lose_no_entries() {
    let sb = Sandbox::new();
    sb.test_key("frank");
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let fmt = if i % 2 == 0 { "jws" } else { "cose" };
            sb.command(&[
                "sign",
                "--signature-format",
                fmt,
                "-m",
                &format!("n={i}"),
                "--oci-layout",
                &target,
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 8);
    let mut ns: Vec<String> = sigs
        .iter()
        .map(|s| {
            Payload::parse(&s.content.payload)
                .unwrap()
                .target_artifact
                .annotations["n"]
                .clone()
        })
        .collect();
    ns.sort();
    assert_eq!(ns, (0..8).map(|i| i.to_string()).collect::<Vec<_>>());
    assert!(
        !snapshot(&layout)
            .keys()
            .any(|p| p.to_string_lossy().contains(".notation-tmp-")),
        "temporary files left behind"
    );
}

/// `NOTATION_EXPERIMENTAL=1` is accepted but not needed for --oci-layout.
#[test]
fn experimental_variable_is_accepted() {
    let mut sb = Sandbox::new();
    sb.test_key("gina");
    sb.env.push(("NOTATION_EXPERIMENTAL".into(), "1".into()));
    let layout = sb.layout("e2e");
    sb.run(&["sign", "--oci-layout", &format!("{layout}@{ARTIFACT}")])
        .ok();
    assert_eq!(signatures(&layout, ARTIFACT).len(), 1);
}

/// `-v` says which key, which envelope and where the signature went; `-d` adds the
/// files written. Neither shows key material.
#[test]
fn verbose_and_debug_output() {
    let sb = Sandbox::new();
    sb.test_key("hank");
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let v = sb.run(&["sign", "-v", "--oci-layout", &target]).ok();
    assert!(
        v.stderr.contains("using local signing key hank"),
        "{}",
        v.stderr
    );
    assert!(v.stderr.contains("signing with a JWS envelope"));
    assert!(v.stderr.contains("stored signature manifest sha256:"));
    assert!(!v.stderr.contains("[debug]"));
    let d = sb.run(&["sign", "-d", "--oci-layout", &target]).ok();
    assert!(d.stderr.contains("[debug] wrote "), "{}", d.stderr);
    assert!(d.stderr.contains("index.json"));
    let key = std::fs::read_to_string(sb.config().join("localkeys/hank.key")).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    for out in [&v.stderr, &v.stdout, &d.stderr, &d.stdout] {
        assert!(!out.contains("PRIVATE KEY") && !out.contains(key_body));
    }
}

/// `notation sign --help` shows the synopsis, the flags and examples.
#[test]
fn sign_help() {
    let sb = Sandbox::new();
    let h = sb.run(&["sign", "--help"]).ok();
    let short = sb.run(&["sign", "-h"]).ok();
    for needle in [
        "notation sign [flags] <reference>...",
        "--max-concurrency",
        "--signature-format",
        "--expiry",
        "--user-metadata",
        "--oci-layout",
        "--key",
        "--plugin-config",
        "Examples:",
    ] {
        assert!(
            h.stdout.contains(needle),
            "help lacks {needle}:\n{}",
            h.stdout
        );
        assert!(short.stdout.contains(needle), "-h lacks {needle}");
    }
}
