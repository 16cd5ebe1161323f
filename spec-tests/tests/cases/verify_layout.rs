//! `notation verify`, `list` and `inspect` on OCI image layouts (notary-spec.md
//! §3.1, §3.7, §4.10, §4.11): the reference implementation's layouts, signatures
//! made here with every key type, format and plugin, tampered copies, levels,
//! trusted identities, user metadata and flag errors.

use notation_core::manifest::{self, ManifestForm};
use serde_json::{Value, json};

use super::trust_store::root_ca;
use super::verify_support::*;
use crate::harness::{ARTIFACT, Run, Sandbox, signatures, vectors};

/// A sandbox that trusts `e2e.crt` with the reference trust policy.
fn trusting_e2e() -> Sandbox {
    let sb = Sandbox::new();
    trust_e2e(&sb);
    sb
}

fn success_line(layout: &str) -> String {
    format!("Successfully verified signature for {layout}@{ARTIFACT}")
}

/// The reference implementation's valid layouts verify with `e2e.crt` (the
/// multi-signature one by its `e2e` signature, whatever the other one is).
#[test]
fn reference_signatures_verify() {
    let sb = trusting_e2e();
    for name in ["e2e-valid-signature", "e2e-valid-multiple-signatures"] {
        let layout = sb.layout(name);
        let r = verify_layout(&sb, &layout, &[]).ok();
        assert_eq!(r.stdout.trim_end(), success_line(&layout));
        assert!(r.stderr.is_empty(), "{}", r.stderr);
    }
    // By tag: the same, with notation's tag warning.
    let layout = sb.layout("e2e-valid-signature");
    let r = sb
        .run(&[
            "verify",
            "--oci-layout",
            "--scope",
            SCOPE,
            &format!("{layout}:v1"),
        ])
        .ok();
    assert!(r.stderr.contains("Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1) because resolved digest may not point to the same signed artifact, as tags are mutable."));
    assert_eq!(r.stdout.trim_end(), success_line(&layout));
}

/// The reference's negative layouts fail, each for its own reason: a layer that is
/// no envelope (integrity), a past expiry (expiry), a certificate that expired
/// after signing (authenticTimestamp, once trusted; authenticity otherwise).
#[test]
fn reference_negative_layouts_fail_for_their_reason() {
    let sb = trusting_e2e();
    let r = verify_layout(&sb, &sb.layout("e2e-invalid-signature"), &[]);
    let msg = r.fails_with(
        "integrity validation failed: signature envelope format with media type \"application/vnd.oci.image.layer.v1.tar\" is not supported",
    );
    assert!(
        msg.starts_with("signature verification failed for all the signatures associated with"),
        "{msg}"
    );
    assert!(
        msg.contains("sha256:321fcc674d6771dd0e5bd21e599f2df3a482de99a400fd3a3fe371221b97a9c9"),
        "{msg}"
    );
    verify_layout(&sb, &sb.layout("e2e-expired-signature"), &[]).fails_with(
        "expiry validation failed: digital signature has expired on 2023-06-27T05:21:21Z",
    );
    let expired_cert = sb.layout("e2e-with-expired-cert");
    verify_layout(&sb, &expired_cert, &[]).fails_with(
        "authenticity validation failed: signature is not produced by a trusted signer",
    );
    let expired = vectors().join("notation/config/localkeys/expired_e2e.crt");
    sb.run(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "e2e",
        &expired.display().to_string(),
    ])
    .ok();
    verify_layout(&sb, &expired_cert, &[]).fails_with(
        "authenticTimestamp validation failed: certificate \"O=Internet Widgits Pty Ltd, ST=Some-State, C=AU\" is not valid anymore, it was expired at 2023-06-27T06:10:00Z",
    );
}

/// Under `permissive`, expiry and authenticTimestamp are logged: the expired
/// signature and the expired certificate verify, with notation's warning lines.
#[test]
fn permissive_logs_expiry_and_authentic_timestamp() {
    let sb = Sandbox::new();
    let expired = vectors().join("notation/config/localkeys/expired_e2e.crt");
    sb.run(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "e2e",
        &e2e_crt(),
        &expired.display().to_string(),
    ])
    .ok();
    set_policy(
        &sb,
        &policy(json!({"level": "permissive"}), &["ca:e2e"], &["*"]),
    );
    let layout = sb.layout("e2e-expired-signature");
    let r = verify_layout(&sb, &layout, &[]).ok();
    assert!(r.stderr.contains(
        "Warning: expiry was set to \"log\" and failed with error: digital signature has expired on 2023-06-27T05:21:21Z"
    ), "{}", r.stderr);
    assert!(
        r.stdout
            .ends_with(&format!("\n{}\n", success_line(&layout))),
        "{}",
        r.stdout
    );
    let r = verify_layout(&sb, &sb.layout("e2e-with-expired-cert"), &[]).ok();
    assert!(r.stderr.contains("Warning: authenticTimestamp was set to \"log\" and failed with error: certificate \"O=Internet Widgits Pty Ltd, ST=Some-State, C=AU\" is not valid anymore"), "{}", r.stderr);
    // An override enforces expiry again.
    set_policy(
        &sb,
        &policy(
            json!({"level": "permissive", "override": {"expiry": "enforce"}}),
            &["ca:e2e"],
            &["*"],
        ),
    );
    verify_layout(&sb, &layout, &[]).fails_with("expiry validation failed");
}

/// The timestamped layouts carry an RFC 3161 countersignature, which this version
/// does not verify: they never verify on it. Trusting their (expired) signing
/// certificate, they fail because the certificate expired; with a tsa store in the
/// policy, because the timestamp cannot be verified; under permissive both are
/// only logged, and `-m purpose=e2e` matches their user metadata.
#[test]
fn timestamped_signatures_never_verify_on_an_unverified_timestamp() {
    let sb = Sandbox::new();
    let layout = sb.layout("e2e-with-timestamped-signature");
    let sig = &signatures(
        &layout,
        "sha256:53b0191218aed9a3c1f7c661736ac40cfc8eb928642348fd843ba3f0483c0c20",
    )[0];
    let leaf = sig.content.signer_info.certificate_chain[0].to_pem();
    let leaf_path = sb.path("testcert7.crt");
    std::fs::write(&leaf_path, leaf).unwrap();
    sb.run(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "ts",
        &leaf_path.display().to_string(),
    ])
    .ok();
    let tsa_root = root_ca(&sb, "tsa-root");
    sb.run(&["cert", "add", "-t", "tsa", "-s", "tsa", &tsa_root])
        .ok();
    let target = format!("{layout}:v1");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--oci-layout", "--scope", SCOPE];
        args.extend_from_slice(extra);
        args.push(&target);
        sb.run(&args)
    };
    set_policy(&sb, &policy(json!({"level": "strict"}), &["ca:ts"], &["*"]));
    verify(&[]).fails_with(
        "expiry validation failed: digital signature has expired on 2025-01-21T12:39:46Z",
    );
    set_policy(
        &sb,
        &policy(
            json!({"level": "strict", "override": {"expiry": "log"}}),
            &["ca:ts"],
            &["*"],
        ),
    );
    verify(&[]).fails_with("authenticTimestamp validation failed: certificate \"C=US, ST=WA, L=Seattle, O=Notary, CN=testcert7\" is not valid anymore");
    set_policy(
        &sb,
        &policy(
            json!({"level": "strict", "override": {"expiry": "log"}}),
            &["ca:ts", "tsa:tsa"],
            &["*"],
        ),
    );
    verify(&[]).fails_with("timestamp verification is not supported by this version");
    set_policy(
        &sb,
        &policy(
            json!({"level": "permissive"}),
            &["ca:ts", "tsa:tsa"],
            &["*"],
        ),
    );
    let r = verify(&["-m", "purpose=e2e"]).ok();
    assert!(r.stderr.contains("Warning: authenticTimestamp was set to \"log\" and failed with error: the RFC 3161 timestamp countersignature"), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("The artifact was signed with the following user metadata.")
    );
    assert!(
        r.stdout.lines().any(|l| l == "purpose   e2e"),
        "{}",
        r.stdout
    );
    verify(&["-m", "purpose=prod"]).fails_with(
        "unable to find specified metadata in the signature: purpose=prod was asked for, the signature has purpose=e2e",
    );
    // The invalid timestamped layout fails the same way under strict.
    set_policy(
        &sb,
        &policy(json!({"level": "strict"}), &["ca:ts", "tsa:tsa"], &["*"]),
    );
    let other = sb.layout("e2e-with-invalid-timestamped-signature");
    let r = sb.run(&[
        "verify",
        "--oci-layout",
        "--scope",
        SCOPE,
        &format!("{other}:v1"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// A layout copy, signed here with `args`; returns its path.
fn signed_layout(sb: &Sandbox, name: &str, args: &[&str]) -> String {
    let layout = sb.layout("e2e");
    let dst = sb.path(&format!("layouts/{name}"));
    std::fs::rename(&layout, &dst).unwrap();
    let dst = dst.display().to_string();
    let target = format!("{dst}@{ARTIFACT}");
    let mut all = vec!["sign", "--oci-layout"];
    all.extend_from_slice(args);
    all.push(&target);
    sb.run(&all).ok();
    dst
}

fn ec_key(sb: &Sandbox, name: &str, alg: &'static rcgen::SignatureAlgorithm) {
    let key = rcgen::KeyPair::generate_for(alg).unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    let (kp, cp) = (
        sb.path(&format!("{name}.key")),
        sb.path(&format!("{name}.crt")),
    );
    std::fs::write(&kp, key.serialize_pem()).unwrap();
    std::fs::write(&cp, p.self_signed(&key).unwrap().pem()).unwrap();
    let (kp, cp) = (kp.display().to_string(), cp.display().to_string());
    sb.run(&["key", "add", "--key-file", &kp, "--cert-file", &cp, name])
        .ok();
    sb.run(&["cert", "add", "-t", "ca", "-s", name, &cp]).ok();
}

/// Signatures made here verify: RSA-2048/3072/4096 (generate-test) and EC
/// P-256/384/521 (key add), JWS and COSE, user metadata shown on success.
#[test]
fn own_signatures_verify_for_every_key_spec_and_format() {
    let sb = Sandbox::new();
    let mut stores = Vec::new();
    for bits in ["2048", "3072", "4096"] {
        let name = format!("rsa{bits}");
        sb.run(&["cert", "generate-test", "--bits", bits, &name])
            .ok();
        stores.push(format!("ca:{name}"));
    }
    for (name, alg) in [
        ("ec256", &rcgen::PKCS_ECDSA_P256_SHA256),
        ("ec384", &rcgen::PKCS_ECDSA_P384_SHA384),
        ("ec521", &rcgen::PKCS_ECDSA_P521_SHA512),
    ] {
        ec_key(&sb, name, alg);
        stores.push(format!("ca:{name}"));
    }
    let store_refs: Vec<&str> = stores.iter().map(String::as_str).collect();
    set_policy(
        &sb,
        &policy(json!({"level": "strict"}), &store_refs, &["*"]),
    );
    for store in &stores {
        let key = store.trim_start_matches("ca:");
        for format in ["jws", "cose"] {
            let layout = signed_layout(
                &sb,
                &format!("{key}-{format}"),
                &[
                    "--key",
                    key,
                    "--signature-format",
                    format,
                    "-e",
                    "1h",
                    "-m",
                    "buildId=42",
                ],
            );
            let r = verify_layout(&sb, &layout, &["-m", "buildId=42"]).ok();
            assert_eq!(
                r.stdout,
                format!(
                    "{}\n\nThe artifact was signed with the following user metadata.\n\nKEY       VALUE\nbuildId   42\n",
                    success_line(&layout)
                ),
                "{key} {format}"
            );
            verify_layout(&sb, &layout, &["-m", "buildId=43"])
                .fails_with("unable to find specified metadata in the signature: buildId=43");
        }
    }
}

/// Signatures made through plugins verify: the test plugin's RAW and ENVELOPE
/// modes and the local-key reference plugin, in JWS and COSE.
#[test]
fn plugin_signatures_verify() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "k"]).ok();
    sb.install_plugin("test-plugin");
    sb.install_plugin("local-key");
    set_policy(&sb, &policy(json!({"level": "strict"}), &["ca:k"], &["*"]));
    let id = sb.key_prefix("k");
    for (plugin, config) in [
        ("test-plugin", "capabilities=RAW"),
        ("test-plugin", "capabilities=ENVELOPE"),
        ("local-key", "unused=1"),
    ] {
        for format in ["jws", "cose"] {
            let name = format!("{plugin}-{}-{format}", config.replace('=', "-"));
            let layout = signed_layout(
                &sb,
                &name,
                &[
                    "--plugin",
                    plugin,
                    "--id",
                    &id,
                    "--plugin-config",
                    config,
                    "--signature-format",
                    format,
                ],
            );
            let r = verify_layout(&sb, &layout, &[]).ok();
            assert_eq!(r.stdout.trim_end(), success_line(&layout), "{name}");
        }
    }
}

/// Tampered copies of signatures made here fail integrity, JWS and COSE: a flipped
/// signature byte, a changed payload, a swapped (trusted) certificate, and a
/// re-signed envelope with a critical header dropped or an unknown one added.
#[test]
fn tampered_signatures_fail() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "k"]).ok();
    sb.run(&["cert", "add", "-t", "ca", "-s", "k", &e2e_crt()])
        .ok();
    set_policy(&sb, &policy(json!({"level": "audit"}), &["ca:k"], &["*"]));
    let key = sb.config().join("localkeys/k.key");
    for format in ["jws", "cose"] {
        for how in Tamper::ALL {
            let layout = signed_layout(
                &sb,
                &format!("{format}-{how:?}"),
                &["--key", "k", "--signature-format", format, "-e", "24h"],
            );
            verify_layout(&sb, &layout, &[]).ok();
            let sig = &signatures(&layout, ARTIFACT)[0];
            let tampered = match format {
                "jws" => tamper_jws(&sig.envelope, how, &key),
                _ => tamper_cose(&sig.envelope, how, &key),
            };
            replace_envelope(
                &layout,
                sig.index_entry["digest"].as_str().unwrap(),
                &tampered,
            );
            let msg = verify_layout(&sb, &layout, &[]).fails_with(how.expected_error());
            assert!(
                msg.contains("integrity validation failed"),
                "{format} {how:?}: {msg}"
            );
        }
    }
}

/// `audit` only logs an untrusted signer; `skip` checks nothing; trusted
/// identities select signers by subject.
#[test]
fn levels_and_trusted_identities() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "other"]).ok();
    let layout = sb.layout("e2e-valid-signature");
    set_policy(
        &sb,
        &policy(json!({"level": "audit"}), &["ca:other"], &["*"]),
    );
    let r = verify_layout(&sb, &layout, &[]).ok();
    assert!(r.stderr.contains("Warning: authenticity was set to \"log\" and failed with error: signature is not produced by a trusted signer"), "{}", r.stderr);
    assert!(r.stdout.ends_with(&format!("{}\n", success_line(&layout))));
    set_policy(
        &sb,
        &policy(json!({"level": "strict"}), &["ca:other"], &["*"]),
    );
    verify_layout(&sb, &layout, &[]).fails_with("signature is not produced by a trusted signer");
    let skip = json!({"version": "1.0", "trustPolicies": [{"name": "skip", "registryScopes": [SCOPE], "signatureVerification": {"level": "skip"}}]});
    set_policy(&sb, &skip);
    let r = verify_layout(&sb, &sb.layout("e2e-invalid-signature"), &[]).ok();
    assert!(
        r.stdout
            .starts_with("Trust policy is configured to skip signature verification for "),
        "{}",
        r.stdout
    );
    sb.run(&["cert", "add", "-t", "ca", "-s", "e2e", &e2e_crt()])
        .ok();
    set_policy(
        &sb,
        &policy(
            json!({"level": "strict"}),
            &["ca:e2e"],
            &["x509.subject: C=US, ST=WA, O=Notary"],
        ),
    );
    verify_layout(&sb, &layout, &[]).ok();
    set_policy(
        &sb,
        &policy(
            json!({"level": "strict"}),
            &["ca:e2e"],
            &["x509.subject: C=US, ST=WA, O=Notary, CN=someone-else"],
        ),
    );
    verify_layout(&sb, &layout, &[]).fails_with("does not match the X.509 trusted identities [\"x509.subject: C=US, ST=WA, O=Notary, CN=someone-else\"] defined in the trust policy \"test\"");
}

/// The statement is chosen by scope: the exact scope wins over `*`; a scope no
/// statement covers is an error.
#[test]
fn statement_selection_by_scope() {
    let sb = Sandbox::new();
    sb.run(&["cert", "add", "-t", "ca", "-s", "e2e", &e2e_crt()])
        .ok();
    sb.run(&["cert", "generate-test", "other"]).ok();
    let doc = json!({"version": "1.0", "trustPolicies": [
        {"name": "exact", "registryScopes": [SCOPE], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:e2e"], "trustedIdentities": ["*"]},
        {"name": "global", "registryScopes": ["*"], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:other"], "trustedIdentities": ["*"]}
    ]});
    set_policy(&sb, &doc);
    let layout = sb.layout("e2e-valid-signature");
    verify_layout(&sb, &layout, &[]).ok();
    let target = format!("{layout}@{ARTIFACT}");
    sb.run(&[
        "verify",
        "--oci-layout",
        "--scope",
        "localhost:5000/other",
        &target,
    ])
    .fails_with("signature is not produced by a trusted signer");
    let doc = json!({"version": "1.0", "trustPolicies": [
        {"name": "exact", "registryScopes": [SCOPE], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:e2e"], "trustedIdentities": ["*"]}
    ]});
    set_policy(&sb, &doc);
    sb.run(&[
        "verify",
        "--oci-layout",
        "--scope",
        "localhost:5000/other",
        &target,
    ])
    .fails_with("has no applicable trust policy statement");
}

/// Flag and set-up errors, with notation's messages where it has them.
#[test]
fn verify_errors() {
    let sb = Sandbox::new();
    let layout = sb.layout("e2e-valid-signature");
    let target = format!("{layout}@{ARTIFACT}");
    sb.run(&["verify", "--oci-layout", &target])
        .fails_with("if any flags in the group [oci-layout scope] are set they must all be set; missing [scope]");
    sb.run(&["verify", "--scope", SCOPE, "localhost:5000/e2e@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"])
        .fails_with("missing [oci-layout]");
    sb.run(&["verify", "--oci-layout", "--scope", "r.io/App", &target])
        .fails_with("invalid --scope: registry scope \"r.io/App\" is not valid");
    for n in ["0", "-1"] {
        verify_layout(&sb, &layout, &["--max-signatures", n]).fails_with(&format!(
            "max-signatures value {n} must be a positive number"
        ));
    }
    verify_layout(&sb, &layout, &["-m", "novalue"]).fails_with(
        "could not parse flag user-metadata: key-value pair requires \"=\" as separator",
    );
    sb.run(&["verify"]).fails_with(
        "missing reference to the artifact: use `notation verify --help` to see what parameters are required",
    );
    verify_layout(&sb, &layout, &[]).fails_with("trust policy is not present");
    set_policy(
        &sb,
        &policy(json!({"level": "strict"}), &["ca:e2e"], &["*"]),
    );
    verify_layout(&sb, &layout, &[])
        .fails_with("the trust store \"e2e\" of type \"ca\" does not exist");
    std::fs::create_dir_all(sb.config().join("truststore/x509/ca/e2e")).unwrap();
    verify_layout(&sb, &layout, &[])
        .fails_with("no x509 certificates were found in trust store \"e2e\" of type \"ca\"");
    std::fs::create_dir_all(sb.config().join("truststore/x509/ca/e2e/sub")).unwrap();
    verify_layout(&sb, &layout, &[]).fails_with("is not a regular file (directories or symlinks");
    std::fs::remove_dir(sb.config().join("truststore/x509/ca/e2e/sub")).unwrap();
    sb.run(&["cert", "add", "-t", "ca", "-s", "e2e", &e2e_crt()])
        .ok();
    verify_layout(&sb, &sb.layout("e2e"), &[]).fails_with("no signature is associated with");
    // --plugin-config is accepted (for verification plugins) and checked.
    verify_layout(&sb, &layout, &["--plugin-config", "a=b"]).ok();
    verify_layout(&sb, &layout, &["--plugin-config", "a"])
        .fails_with("could not parse flag plugin-config");
}

/// `--max-signatures` bounds how many signatures are evaluated: with an untrusted
/// signature first, a limit of 1 fails and says the limit was reached.
#[test]
fn max_signatures_bounds_evaluation() {
    let sb = trusting_e2e();
    sb.run(&["cert", "generate-test", "untrusted"]).ok();
    let e2e_key = vectors().join("notation/config/localkeys/e2e.key");
    sb.run(&[
        "key",
        "add",
        "--key-file",
        &e2e_key.display().to_string(),
        "--cert-file",
        &e2e_crt(),
        "e2e",
    ])
    .ok();
    let layout = signed_layout(&sb, "two", &["--key", "untrusted"]);
    let target = format!("{layout}@{ARTIFACT}");
    sb.run(&["sign", "--oci-layout", "--key", "e2e", &target])
        .ok();
    verify_layout(&sb, &layout, &[]).ok();
    let msg = verify_layout(&sb, &layout, &["--max-signatures", "1"])
        .fails_with("only the first 1 signatures were evaluated");
    assert!(
        msg.contains("signature is not produced by a trusted signer"),
        "{msg}"
    );
}

/// Form B signature manifests (artifactType + empty config) are read like form A.
#[test]
fn artifact_type_form_verifies() {
    let sb = trusting_e2e();
    let layout = sb.layout("e2e-valid-signature");
    let sig = &signatures(&layout, ARTIFACT)[0];
    let subject = notation_core::Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        ARTIFACT.parse().unwrap(),
        517,
    );
    let m = manifest::build(
        ManifestForm::ArtifactType,
        "application/jose+json",
        &sig.envelope,
        &subject,
        &sig.content.signer_info.certificate_chain,
        0,
        &Default::default(),
    );
    // Only the form B manifest is listed.
    let root = std::path::Path::new(&layout);
    let write = |d: &notation_core::Digest, bytes: &[u8]| {
        std::fs::write(root.join("blobs/sha256").join(d.hex()), bytes).unwrap();
    };
    write(&m.descriptor.digest, &m.bytes);
    write(&m.config.digest, manifest::EMPTY_CONFIG);
    let index = json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ARTIFACT, "size": 517, "annotations": {"org.opencontainers.image.ref.name": "v1"}},
        serde_json::to_value(&m.descriptor).unwrap()
    ]});
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    verify_layout(&sb, &layout, &[]).ok();
    let listed = sb
        .run(&["list", "--oci-layout", &format!("{layout}@{ARTIFACT}")])
        .ok();
    assert!(listed.stdout.contains(m.descriptor.digest.as_str()));
}

fn run_list(sb: &Sandbox, layout: &str) -> Run {
    sb.run(&["list", "--oci-layout", &format!("{layout}@{ARTIFACT}")])
}

/// `list` prints notation's tree, or says there are no signatures.
#[test]
fn list_layouts() {
    let sb = Sandbox::new();
    let layout = sb.layout("e2e-valid-multiple-signatures");
    assert_eq!(
        run_list(&sb, &layout).ok().stdout,
        format!(
            "{layout}@{ARTIFACT}\n└── application/vnd.cncf.notary.signature\n    ├── sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f\n    └── sha256:c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf\n"
        )
    );
    let empty = sb.layout("e2e");
    assert_eq!(
        run_list(&sb, &empty).ok().stdout,
        format!("{empty}@{ARTIFACT} has no associated signatures\n")
    );
    let r = sb
        .run(&[
            "ls",
            "--oci-layout",
            "--max-signatures",
            "1",
            &format!("{layout}@{ARTIFACT}"),
        ])
        .ok();
    assert_eq!(r.stdout.lines().count(), 3);
    assert!(r.stderr.contains("only the first 1 signatures are listed"));
    let r = sb
        .run(&["list", "--oci-layout", &format!("{layout}:v1")])
        .ok();
    assert!(
        r.stderr
            .contains("Always list the artifact using digest(@sha256:...) rather than a tag(:v1)")
    );
}

/// `inspect` shows every field of §4.11 in text and JSON; a signature that cannot
/// be read is skipped with a warning and the command then fails.
#[test]
fn inspect_layouts() {
    let sb = Sandbox::new();
    let layout = sb.layout("e2e-with-timestamped-signature");
    let target = format!("{layout}:v1");
    let text = sb.run(&["inspect", "--oci-layout", &target]).ok().stdout;
    for needle in [
        "└── application/vnd.cncf.notary.signature",
        "    └── sha256:6a5cd3a886707a317935dcaf13954fc80ef9aeb665262b6ae4fe469ad7ea3aea",
        "        ├── signature algorithm: RSASSA-PSS-SHA-256",
        "        ├── signature envelope type: application/jose+json",
        "        │   ├── signing scheme: notary.x509",
        "        │   ├── signing time: 2025-01-21T09:17:46Z",
        "        │   └── expiry: 2025-01-21T12:39:46Z",
        "        │   └── purpose: e2e",
        "        │   ├── signing agent: notation-go/1.3.0+unreleased",
        "        │   └── timestamp signature",
        "        │   └── SHA256 fingerprint: 1717fa9d18f7e9c0f609499474adfe2b8e44172454f1d6e2183d5d04f79af475",
        "        │       ├── issued to: C=US, ST=WA, L=Seattle, O=Notary, CN=testcert7",
        "        │       └── expiry: 2025-01-22T08:36:26Z",
        "            ├── digest: sha256:53b0191218aed9a3c1f7c661736ac40cfc8eb928642348fd843ba3f0483c0c20",
        "            └── size: 582",
    ] {
        assert!(
            text.lines().any(|l| l == needle),
            "{needle:?} missing in\n{text}"
        );
    }
    let json_out = sb
        .run(&["inspect", "-o", "json", "--oci-layout", &target])
        .ok()
        .stdout;
    let v: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(v["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let s = &v["signatures"][0];
    assert_eq!(s["mediaType"], "application/jose+json");
    assert_eq!(s["signatureAlgorithm"], "RSASSA-PSS-SHA-256");
    assert_eq!(s["signedAttributes"]["signingScheme"], "notary.x509");
    assert_eq!(s["signedAttributes"]["expiry"], "2025-01-21T12:39:46Z");
    assert_eq!(s["userDefinedAttributes"]["purpose"], "e2e");
    assert_eq!(
        s["unsignedAttributes"]["signingAgent"],
        "notation-go/1.3.0+unreleased"
    );
    assert!(s["unsignedAttributes"]["timestampSignature"]["error"].is_string());
    assert_eq!(
        s["certificates"][0]["issuedTo"],
        "C=US, ST=WA, L=Seattle, O=Notary, CN=testcert7"
    );
    assert_eq!(s["signedArtifact"]["size"], 582);
    sb.run(&["inspect", "-o", "yaml", "--oci-layout", &target])
        .fails_with("unrecognized output format \"yaml\"");
    let bad = sb.layout("e2e-invalid-signature");
    let r = sb.run(&["inspect", "--oci-layout", &format!("{bad}:v1")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Warning: skipping signature sha256:321fcc674d6771dd0e5bd21e599f2df3a482de99a400fd3a3fe371221b97a9c9"));
    assert!(
        r.stderr
            .contains("Error: at least one signature was skipped and not displayed")
    );
    let empty = sb.layout("e2e");
    assert_eq!(
        sb.run(&["inspect", "--oci-layout", &format!("{empty}@{ARTIFACT}")])
            .ok()
            .stdout,
        format!("{empty}@{ARTIFACT} has no associated signature\n")
    );
}
