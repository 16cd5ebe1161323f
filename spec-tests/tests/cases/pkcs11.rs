//! The PKCS#11 plugin (`plugins/pkcs11`, executable `notation-pkcs11`, plugin name
//! `pkcs11`) against SoftHSM2: every key spec in JWS and COSE, OCI layouts and
//! registries (distribution 2.8 and ferro-oci-server), `--plugin/--id` and stored
//! keys, the certificate chain from `chain=` and from the token, `plugin install` and
//! `plugin check`, and the error contract (ACCESS_DENIED for a wrong PIN,
//! VALIDATION_ERROR naming the URI without its PIN, the PIN in no output).
//!
//! Each test gets its own token: a softhsm2.conf in a temporary directory
//! (`SOFTHSM2_CONF`, set for softhsm2-util and in the sandbox so the plugin sees it)
//! and keys imported with `softhsm2-util --import`. softhsm2-util cannot store
//! certificates, so [`pkcs11_token_helper`] does that with cryptoki, in a child
//! process of this test binary: SoftHSM reads SOFTHSM2_CONF when the module is
//! initialized, and that differs per test and cannot be set in this multi-threaded
//! process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use notation_core::cert::Certificate;
use notation_core::envelope::{self, EnvelopeContent};
use notation_core::{KeySpec, SignatureFormat};
use serde_json::{Value, json};

use crate::harness::{ARTIFACT, Run, Sandbox, built_plugin, signatures};
use crate::registry::TestRegistry;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PLUGIN: &str = "pkcs11";
/// The user PIN of every test token: distinctive, so finding it in output is a leak
/// and never a coincidence.
const PIN: &str = "hsm-PIN-5678";
const SO_PIN: &str = "1234";
const AGENT: &str = "notation-rs/0.1.0 pkcs11/0.1.0";
/// Environment variable naming the job file of [`pkcs11_token_helper`].
const JOB_VAR: &str = "NOTATION_PKCS11_TEST_JOB";

/// A key and its self-signed (or CA-issued) code-signing certificate.
struct TestKey {
    key: rcgen::KeyPair,
    der: Vec<u8>,
    pem: String,
    spec: KeySpec,
}

impl TestKey {
    fn cert(&self) -> Certificate {
        Certificate::from_der(&self.der).unwrap()
    }
}

fn leaf_params(cn: &str) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    params
}

fn ca_params(cn: &str) -> rcgen::CertificateParams {
    let mut params = leaf_params(cn);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    params.extended_key_usages = Vec::new();
    params
}

fn key_pair(spec: KeySpec) -> rcgen::KeyPair {
    use rcgen::{KeyPair, RsaKeySize};
    let rsa = |size| KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size);
    match spec {
        KeySpec::Rsa2048 => rsa(RsaKeySize::_2048),
        KeySpec::Rsa3072 => rsa(RsaKeySize::_3072),
        KeySpec::Rsa4096 => rsa(RsaKeySize::_4096),
        KeySpec::Ec256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeySpec::Ec384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeySpec::Ec521 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512),
    }
    .unwrap()
}

/// A key of `spec` with a self-signed code-signing certificate `CN=<cn>`.
fn self_signed(spec: KeySpec, cn: &str) -> TestKey {
    let key = key_pair(spec);
    let cert = leaf_params(cn).self_signed(&key).unwrap();
    TestKey {
        der: cert.der().to_vec(),
        pem: cert.pem(),
        key,
        spec,
    }
}

/// A SoftHSM2 token in a temporary directory, user PIN [`PIN`], with a PIN file.
struct Hsm {
    dir: tempfile::TempDir,
    label: String,
}

impl Hsm {
    fn new(label: &str) -> Hsm {
        assert!(
            Path::new(MODULE).is_file(),
            "{MODULE} not found: install the Debian package softhsm2 (scripts/test.sh does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("pin"), format!("{PIN}\n")).unwrap();
        let hsm = Hsm {
            dir,
            label: label.into(),
        };
        hsm.util(&[
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            SO_PIN,
            "--pin",
            PIN,
        ]);
        hsm
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn conf(&self) -> String {
        self.path("softhsm2.conf").display().to_string()
    }

    fn pin_file(&self) -> String {
        self.path("pin").display().to_string()
    }

    fn util(&self, args: &[&str]) {
        let out = Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .expect("run softhsm2-util (Debian package softhsm2; scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "softhsm2-util {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Imports the private key (PKCS#8 PEM) as `object` with CKA_ID `id` (hex).
    fn import(&self, key: &TestKey, object: &str, id: &str) {
        let pem = self.path(&format!("{id}.key.pem"));
        std::fs::write(&pem, key.key.serialize_pem()).unwrap();
        self.util(&[
            "--import",
            &pem.display().to_string(),
            "--token",
            &self.label,
            "--label",
            object,
            "--id",
            id,
            "--pin",
            PIN,
        ]);
        std::fs::remove_file(&pem).unwrap();
    }

    /// Stores X.509 certificate objects `(CKA_ID hex, CKA_LABEL, DER)`.
    fn store_certificates(&self, certs: &[(&str, &str, &[u8])]) {
        let certs: Vec<Value> = certs
            .iter()
            .map(|(id, label, der)| json!({"id": id, "label": label, "der": STANDARD.encode(der)}))
            .collect();
        self.helper(json!({"certs": certs}));
    }

    /// Generates a key pair on the token: `("rsa", "<bits>")` or `("ec", "<hex of
    /// CKA_EC_PARAMS>")`.
    fn generate(&self, kind: &str, param: &str, object: &str, id: &str) {
        self.helper(
            json!({"generate": [{"kind": kind, "param": param, "label": object, "id": id}]}),
        );
    }

    /// Runs [`pkcs11_token_helper`] in a child process with this token's config.
    fn helper(&self, mut job: Value) {
        static N: AtomicU64 = AtomicU64::new(0);
        let file = self.path(&format!("job-{}.json", N.fetch_add(1, Ordering::SeqCst)));
        let done = file.with_extension("done");
        job["token"] = self.label.clone().into();
        job["done"] = done.display().to_string().into();
        std::fs::write(&file, job.to_string()).unwrap();
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "cases::pkcs11::pkcs11_token_helper",
                "--exact",
                "--ignored",
                "--test-threads=1",
                "--nocapture",
            ])
            .env("SOFTHSM2_CONF", self.conf())
            .env(JOB_VAR, &file)
            .output()
            .unwrap();
        assert!(
            out.status.success() && done.is_file(),
            "the token helper failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pkcs11:token=<label>;<path>?module-path=<softhsm>&pin-source=file:<pin file>`.
    fn uri(&self, path: &str) -> String {
        format!(
            "pkcs11:token={};{path}?module-path={MODULE}&pin-source=file:{}",
            self.label,
            self.pin_file()
        )
    }

    /// The URI without module-path (for `--plugin-config module=`).
    fn uri_without_module(&self, path: &str) -> String {
        format!(
            "pkcs11:token={};{path}?pin-source=file:{}",
            self.label,
            self.pin_file()
        )
    }

    /// A sandbox that sees this token, with the plugin installed.
    fn sandbox(&self) -> Sandbox {
        let sb = self.bare_sandbox();
        sb.install_plugin(PLUGIN);
        sb
    }

    /// A sandbox that sees this token, without the plugin.
    fn bare_sandbox(&self) -> Sandbox {
        let mut sb = Sandbox::new();
        sb.env.push(("SOFTHSM2_CONF".into(), self.conf()));
        sb
    }

    /// Writes `pem` to a file in the token's directory; returns the path.
    fn file(&self, name: &str, pem: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, pem).unwrap();
        p.display().to_string()
    }
}

/// Not a test: the pkcs11 tests run it in a child process with their
/// `SOFTHSM2_CONF` to store certificates (`create_object` with CKO_CERTIFICATE,
/// CKC_X_509, CKA_ID, CKA_SUBJECT, CKA_VALUE) and generate key pairs on a token.
/// Without the job variable it does nothing.
#[test]
#[ignore = "helper process of the pkcs11 tests"]
fn pkcs11_token_helper() {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::mechanism::Mechanism;
    use cryptoki::object::{Attribute, CertificateType, ObjectClass};
    use cryptoki::session::UserType;
    use cryptoki::types::{RawAuthPin, Ulong};

    let Some(file) = std::env::var_os(JOB_VAR) else {
        return;
    };
    let job: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let hex = |v: &Value| notation_core::hex::decode(v.as_str().unwrap()).unwrap();
    let label = job["token"].as_str().unwrap();
    let ctx = Pkcs11::new(MODULE).unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).is_ok_and(|i| i.label() == label))
        .expect("the test token");
    let session = ctx.open_rw_session(slot).unwrap();
    session
        .login_with_raw(
            UserType::User,
            &RawAuthPin::new(Box::new(PIN.as_bytes().to_vec())),
        )
        .unwrap();
    for c in job["certs"].as_array().into_iter().flatten() {
        let der = STANDARD.decode(c["der"].as_str().unwrap()).unwrap();
        let (_, x509) = x509_parser::parse_x509_certificate(&der).unwrap();
        session
            .create_object(&[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Id(hex(&c["id"])),
                Attribute::Label(c["label"].as_str().unwrap().as_bytes().to_vec()),
                Attribute::Subject(x509.subject().as_raw().to_vec()),
                Attribute::Issuer(x509.issuer().as_raw().to_vec()),
                Attribute::Value(der.clone()),
            ])
            .unwrap();
    }
    for g in job["generate"].as_array().into_iter().flatten() {
        let id = hex(&g["id"]);
        let label = g["label"].as_str().unwrap().as_bytes().to_vec();
        let param = g["param"].as_str().unwrap();
        let (mechanism, mut public) = match g["kind"].as_str().unwrap() {
            "rsa" => (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(Ulong::new(param.parse().unwrap())),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                ],
            ),
            _ => (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(
                    notation_core::hex::decode(param).unwrap(),
                )],
            ),
        };
        public.extend([
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::Id(id.clone()),
            Attribute::Label(label.clone()),
        ]);
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
            Attribute::Id(id),
            Attribute::Label(label),
        ];
        session
            .generate_key_pair(&mechanism, &public, &private)
            .unwrap();
    }
    drop(session);
    ctx.finalize().unwrap();
    std::fs::write(job["done"].as_str().unwrap(), "done").unwrap();
}

/// `sign --plugin pkcs11 --id <id> [--plugin-config c]... <extra>...`.
fn sign_args<'a>(id: &'a str, config: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["sign", "--plugin", PLUGIN, "--id", id];
    for c in config {
        args.extend(["--plugin-config", c]);
    }
    args.extend_from_slice(extra);
    args
}

/// Checks what a signature carries: the expected chain, the key spec's algorithm,
/// notation's and the plugin's signing agent.
#[track_caller]
fn check_content(content: &EnvelopeContent, chain: &[Certificate], spec: KeySpec, what: &str) {
    let info = &content.signer_info;
    assert_eq!(info.certificate_chain, chain, "{what}: chain");
    assert_eq!(
        info.algorithm,
        spec.signature_algorithm(),
        "{what}: algorithm"
    );
    assert_eq!(info.signing_agent.as_deref(), Some(AGENT), "{what}: agent");
    let payload = notation_core::payload::Payload::parse(&content.payload).unwrap();
    assert!(
        payload
            .target_artifact
            .digest
            .as_str()
            .starts_with("sha256:"),
        "{what}"
    );
}

/// Every signature of `subject` in the registry (Referrers API where there is one,
/// else the tag index), each fetched and verified cryptographically.
fn registry_signatures(reg: &TestRegistry, repo: &str, subject: &str) -> Vec<EnvelopeContent> {
    let index = reg
        .referrers_api(repo, subject)
        .or_else(|| reg.tag_index(repo, subject))
        .expect("the signatures are listed");
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let digest = entry["digest"].as_str().unwrap();
            let (_, bytes) = reg.manifest(repo, digest).expect("signature manifest");
            let m: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(m["subject"]["digest"], subject);
            assert_eq!(
                m["config"]["mediaType"],
                "application/vnd.cncf.notary.signature"
            );
            let layer = &m["layers"][0];
            let format =
                SignatureFormat::from_media_type(layer["mediaType"].as_str().unwrap()).unwrap();
            let env = reg
                .blob(repo, layer["digest"].as_str().unwrap())
                .expect("envelope blob");
            let content = envelope::verify(format, &env).expect("the envelope verifies");
            let payload = notation_core::payload::Payload::parse(&content.payload).unwrap();
            assert_eq!(payload.target_artifact.digest.as_str(), subject);
            content
        })
        .collect()
}

/// Asserts the PIN (and any other `secrets`) appear nowhere in a run's output.
#[track_caller]
fn assert_no_secret(run: &Run, secrets: &[&str], what: &str) {
    for s in [PIN].iter().chain(secrets) {
        assert!(
            !run.stdout.contains(s) && !run.stderr.contains(s),
            "{what}: {s:?} leaked:\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
    }
}

/// All six key specs, each in JWS and COSE, in an OCI layout: RSA-2048/4096 and
/// EC-256/521 with the certificate on the token, RSA-3072 and EC-384 with
/// `--plugin-config chain=<PEM>`. Every envelope verifies, its leaf is the key's
/// certificate, and the algorithm is the key spec's.
#[test]
fn pkcs11_signs_layouts_with_every_key_spec_in_jws_and_cose() {
    let hsm = Hsm::new("layouts");
    let sb = hsm.sandbox();
    let cases = [
        (KeySpec::Rsa2048, "rsa2048", "01", false),
        (KeySpec::Rsa3072, "rsa3072", "02", true),
        (KeySpec::Rsa4096, "rsa4096", "03", false),
        (KeySpec::Ec256, "ec256", "11", false),
        (KeySpec::Ec384, "ec384", "12", true),
        (KeySpec::Ec521, "ec521", "13", false),
    ];
    let keys: Vec<TestKey> = cases
        .iter()
        .map(|(spec, name, _, _)| self_signed(*spec, name))
        .collect();
    let mut on_token = Vec::new();
    for ((_, name, id, file), key) in cases.iter().zip(&keys) {
        hsm.import(key, name, id);
        if !file {
            on_token.push((*id, *name, key.der.as_slice()));
        }
    }
    hsm.store_certificates(&on_token);
    for ((spec, name, _, file), key) in cases.iter().zip(&keys) {
        let layout = sb.layout("e2e");
        let target = format!("{layout}@{ARTIFACT}");
        let id = hsm.uri(&format!("object={name}"));
        let chain_cfg = format!("chain={}", hsm.file(&format!("{name}.crt"), &key.pem));
        let config: Vec<&str> = if *file { vec![&chain_cfg] } else { vec![] };
        for format in ["jws", "cose"] {
            let run = sb
                .run(&sign_args(
                    &id,
                    &config,
                    &["--signature-format", format, "--oci-layout", &target],
                ))
                .ok();
            assert_eq!(run.stdout, format!("Successfully signed {target}\n"));
            assert_no_secret(&run, &[], name);
        }
        let sigs = signatures(&layout, ARTIFACT);
        assert_eq!(sigs.len(), 2, "{name}");
        let mut formats: Vec<_> = sigs.iter().map(|s| s.format.as_str()).collect();
        formats.sort();
        assert_eq!(formats, ["cose", "jws"], "{name}");
        for s in &sigs {
            check_content(&s.content, &[key.cert()], *spec, name);
            assert_eq!(
                s.manifest["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"],
                format!("[\"{}\"]", key.cert().sha256_fingerprint()),
                "{name}"
            );
        }
        std::fs::remove_dir_all(&layout).unwrap();
    }
}

/// Without `chain=`, the chain comes from the token: the certificate with the key's
/// CKA_ID, then its issuers by CKA_SUBJECT up to the self-signed root, so the
/// envelope carries leaf, intermediate and root. The key is named by a
/// percent-encoded `id` and, separately, by an `object` label with a space. An
/// issuer that is not on the token is a VALIDATION_ERROR naming it.
#[test]
fn pkcs11_reads_the_chain_from_the_token() {
    let hsm = Hsm::new("chain");
    let root_key = key_pair(KeySpec::Ec384);
    let root_params = ca_params("PKCS11 Test Root");
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = rcgen::Issuer::new(root_params, root_key);
    let inter_key = key_pair(KeySpec::Ec256);
    let inter_params = ca_params("PKCS11 Test Intermediate");
    let inter = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
    let inter_issuer = rcgen::Issuer::new(inter_params, inter_key);
    let leaf_key = key_pair(KeySpec::Ec256);
    let leaf = leaf_params("PKCS11 chained signer")
        .signed_by(&leaf_key, &inter_issuer)
        .unwrap();
    let leaf = TestKey {
        der: leaf.der().to_vec(),
        pem: leaf.pem(),
        key: leaf_key,
        spec: KeySpec::Ec256,
    };
    hsm.import(&leaf, "signing key", "21");
    // A second leaf under a CA that is not on the token.
    let other_ca_key = key_pair(KeySpec::Ec256);
    let other_ca = rcgen::Issuer::new(ca_params("Absent CA"), other_ca_key);
    let orphan_key = key_pair(KeySpec::Ec256);
    let orphan = leaf_params("orphan")
        .signed_by(&orphan_key, &other_ca)
        .unwrap();
    let orphan = TestKey {
        der: orphan.der().to_vec(),
        pem: orphan.pem(),
        key: orphan_key,
        spec: KeySpec::Ec256,
    };
    hsm.import(&orphan, "orphan", "22");
    hsm.store_certificates(&[
        ("21", "signing key", &leaf.der),
        ("a1", "intermediate", inter.der()),
        ("a2", "root", root.der()),
        ("22", "orphan", &orphan.der),
    ]);

    let sb = hsm.sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let expected = vec![
        leaf.cert(),
        Certificate::from_der(inter.der()).unwrap(),
        Certificate::from_der(root.der()).unwrap(),
    ];
    for (path, format) in [("id=%21", "jws"), ("object=signing%20key", "cose")] {
        let id = hsm.uri(path);
        sb.run(&sign_args(
            &id,
            &[],
            &["--signature-format", format, "--oci-layout", &target],
        ))
        .ok();
    }
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 2);
    for s in &sigs {
        check_content(&s.content, &expected, KeySpec::Ec256, s.format.as_str());
    }

    let id = hsm.uri("object=orphan");
    let msg = sb
        .run(&sign_args(&id, &[], &["--oci-layout", &target]))
        .fails_with("generate-signature failed: VALIDATION_ERROR");
    assert!(
        msg.contains(
            "the issuer \"CN=Absent CA\" of the certificate \"CN=orphan\" is not on token \"chain\""
        ),
        "{msg}"
    );
    assert!(msg.contains("--plugin-config chain=<PEM file>"), "{msg}");
    assert_eq!(signatures(&layout, ARTIFACT).len(), 2, "nothing added");
}

/// Registries: distribution 2.8 (tag index) and ferro-oci-server (Referrers API).
/// An RSA-2048 and an EC-256 key, each in JWS and COSE, each through
/// `sign --plugin pkcs11 --id <uri>` and through `key add --plugin pkcs11 --id <uri
/// without module-path> --plugin-config module=<path>` + `sign --key`: eight
/// signatures per registry, each fetched back and verified, with the key's leaf.
#[test]
fn pkcs11_signs_registry_artifacts_by_id_and_with_stored_keys() {
    let hsm = Hsm::new("registry");
    let rsa = self_signed(KeySpec::Rsa2048, "registry rsa");
    let ec = self_signed(KeySpec::Ec256, "registry ec");
    hsm.import(&rsa, "rsa", "31");
    hsm.import(&ec, "ec", "32");
    hsm.store_certificates(&[("31", "rsa", &rsa.der), ("32", "ec", &ec.der)]);
    let sb = hsm.sandbox();
    let module_cfg = format!("module={MODULE}");
    for name in ["rsa", "ec"] {
        let id = hsm.uri_without_module(&format!("object={name}"));
        sb.run(&[
            "key",
            "add",
            "--plugin",
            PLUGIN,
            "--id",
            &id,
            "--plugin-config",
            &module_cfg,
            &format!("hsm-{name}"),
        ])
        .ok();
    }
    let list = sb.run(&["key", "list"]).ok().stdout;
    assert!(
        list.contains("hsm-rsa") && list.contains("hsm-ec"),
        "{list}"
    );
    for (kind, reg) in [
        ("distribution", TestRegistry::distribution()),
        ("ferro", TestRegistry::ferro()),
    ] {
        let (digest, _, _) = reg.push_artifact("hsm", "v1");
        let reference = format!("{}/hsm@{digest}", reg.host);
        for name in ["rsa", "ec"] {
            let id = hsm.uri(&format!("object={name}"));
            let key_name = format!("hsm-{name}");
            for format in ["jws", "cose"] {
                let run = sb
                    .run(&sign_args(
                        &id,
                        &[],
                        &["--signature-format", format, &reference],
                    ))
                    .ok();
                assert!(
                    run.stdout
                        .starts_with(&format!("Successfully signed {reference}\n")),
                    "{kind}: {}",
                    run.stdout
                );
                assert_no_secret(&run, &[], kind);
                let run = sb
                    .run(&[
                        "sign",
                        "--key",
                        &key_name,
                        "--signature-format",
                        format,
                        &reference,
                    ])
                    .ok();
                assert_no_secret(&run, &[], kind);
            }
        }
        let sigs = registry_signatures(&reg, "hsm", &digest);
        assert_eq!(sigs.len(), 8, "{kind}");
        for (key, n) in [(&rsa, 4), (&ec, 4)] {
            let mine: Vec<&EnvelopeContent> = sigs
                .iter()
                .filter(|c| c.signer_info.certificate_chain == [key.cert()])
                .collect();
            assert_eq!(
                mine.len(),
                n,
                "{kind}: signatures with the {:?} leaf",
                key.spec
            );
            for c in mine {
                check_content(c, &[key.cert()], key.spec, kind);
            }
        }
        match kind {
            "ferro" => assert!(reg.tag_index("hsm", &digest).is_none()),
            _ => assert!(reg.referrers_api("hsm", &digest).is_none()),
        }
    }
}

/// `plugin install --file target/debug/notation-pkcs11` installs it (name pkcs11,
/// the crate's version), `plugin list` shows it, and `plugin check` passes with the
/// module in the URI and with `--plugin-config module=`. A stored key then signs.
#[test]
fn pkcs11_plugin_installs_and_passes_plugin_check() {
    let hsm = Hsm::new("check");
    let key = self_signed(KeySpec::Ec384, "check");
    hsm.import(&key, "signer", "41");
    hsm.store_certificates(&[("41", "signer", &key.der)]);
    let sb = hsm.bare_sandbox();
    let src = built_plugin(PLUGIN);
    let run = sb
        .run(&["plugin", "install", "--file", src.to_str().unwrap()])
        .ok();
    assert_eq!(
        run.stdout,
        "Successfully installed plugin pkcs11, version 0.1.0\n"
    );
    assert!(sb.plugin_path(PLUGIN).is_file());
    let list = sb.run(&["plugin", "list"]).ok().stdout;
    assert!(
        list.lines()
            .any(|l| l.starts_with("pkcs11") && l.contains("SIGNATURE_GENERATOR.RAW")),
        "{list}"
    );

    let labels = [
        "get-plugin-metadata",
        "describe-key",
        "SIGNATURE_GENERATOR.RAW jws",
        "SIGNATURE_GENERATOR.RAW cose",
    ];
    let with_module = hsm.uri("object=signer");
    let without_module = hsm.uri_without_module("object=signer");
    let module_cfg = format!("module={MODULE}");
    let checks: [Vec<&str>; 2] = [
        vec!["plugin", "check", PLUGIN, "--id", &with_module],
        vec![
            "plugin",
            "check",
            PLUGIN,
            "--id",
            &without_module,
            "--plugin-config",
            &module_cfg,
        ],
    ];
    for args in checks {
        let run = sb.run(&args).ok();
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), labels.len() + 1, "{}", run.stdout);
        for (line, label) in lines.iter().zip(labels) {
            assert!(
                line.starts_with(&format!("PASS  {label}:")),
                "{label}: {line:?}"
            );
        }
        assert!(lines[0].contains("pkcs11 0.1.0"), "{}", lines[0]);
        assert!(lines[1].contains("EC-384"), "{}", lines[1]);
        assert!(lines[2].contains("ECDSA-SHA-384"), "{}", lines[2]);
        assert_eq!(lines[4], "plugin pkcs11 follows the contract");
        assert_no_secret(&run, &[], "plugin check");
    }

    sb.run(&[
        "key",
        "add",
        "--plugin",
        PLUGIN,
        "--id",
        &without_module,
        "--plugin-config",
        &module_cfg,
        "hsmkey",
    ])
    .ok();
    let layout = sb.layout("e2e");
    sb.run(&[
        "sign",
        "--key",
        "hsmkey",
        "--oci-layout",
        &format!("{layout}@{ARTIFACT}"),
    ])
    .ok();
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 1);
    check_content(&sigs[0].content, &[key.cert()], KeySpec::Ec384, "hsmkey");
}

/// The error contract. Every failure is exit 1 with one `Error:` line naming the
/// plugin, the command and the plugin's error code; nothing is written to the
/// layout; no PIN (right or wrong) appears in any output.
#[test]
fn pkcs11_errors_name_the_problem_and_never_the_pin() {
    let hsm = Hsm::new("errors");
    let key = self_signed(KeySpec::Ec256, "errors");
    hsm.import(&key, "ec", "51");
    hsm.store_certificates(&[("51", "ec", &key.der)]);
    hsm.generate("rsa", "1024", "rsa1024", "52");
    let sb = hsm.sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let extra = ["--oci-layout", target.as_str()];
    let label = &hsm.label;
    let wrong = "wrong-PIN-0000";
    let wrong_file = hsm.file("wrong-pin", &format!("{wrong}\n"));

    // A wrong PIN: ACCESS_DENIED from C_Login, in the URI or in the PIN file.
    let by_value = format!("pkcs11:token={label};object=ec?module-path={MODULE}&pin-value={wrong}");
    let by_file =
        format!("pkcs11:token={label};object=ec?module-path={MODULE}&pin-source=file:{wrong_file}");
    for id in [&by_value, &by_file] {
        let run = sb.run(&sign_args(id, &[], &extra));
        assert_no_secret(&run, &[wrong], "wrong PIN");
        let msg = run.fails_with("plugin \"pkcs11\" describe-key failed: ACCESS_DENIED: ");
        assert!(
            msg.contains(&format!("login to token \"{label}\""))
                && msg.contains("CKR_PIN_INCORRECT"),
            "{msg}"
        );
    }
    // No PIN at all for a token that needs one.
    let no_pin = format!("pkcs11:token={label};object=ec?module-path={MODULE}");
    let msg = sb
        .run(&sign_args(&no_pin, &[], &extra))
        .fails_with("ACCESS_DENIED: ");
    assert!(
        msg.contains("requires a login and no PIN was given"),
        "{msg}"
    );

    // A missing object, with the PIN in the URI: VALIDATION_ERROR with the URI,
    // whose pin-value is removed.
    let missing = format!("pkcs11:token={label};object=nope?module-path={MODULE}&pin-value={PIN}");
    let run = sb.run(&sign_args(&missing, &[], &extra));
    assert_no_secret(&run, &[], "missing object");
    let msg = run.fails_with("describe-key failed: VALIDATION_ERROR: ");
    assert!(
        msg.contains(&format!("no private key on token \"{label}\" (serial "))
            && msg.ends_with(&format!(
                "matches pkcs11:token={label};object=nope?module-path={MODULE}"
            )),
        "{msg}"
    );
    // A missing token.
    let id = hsm
        .uri("object=ec")
        .replace(&format!("token={label}"), "token=absent");
    let msg = sb
        .run(&sign_args(&id, &[], &extra))
        .fails_with("VALIDATION_ERROR: no token of the PKCS#11 module");
    assert!(
        msg.contains("pkcs11:token=absent;object=ec")
            && msg.contains(&format!("token \"{label}\"")),
        "{msg}"
    );
    // A key of an unsupported size, generated on the token.
    let id = hsm.uri("object=rsa1024");
    let msg = sb
        .run(&sign_args(&id, &[], &extra))
        .fails_with("describe-key failed: VALIDATION_ERROR: ");
    assert!(
        msg.contains("is an RSA key of 1024 bits, which is not supported")
            && msg.contains("pkcs11:token=errors;object=rsa1024"),
        "{msg}"
    );
    // An unknown path attribute is refused by name.
    let id = hsm.uri("object=ec;colour=blue");
    let msg = sb
        .run(&sign_args(&id, &[], &extra))
        .fails_with("VALIDATION_ERROR: unsupported PKCS#11 URI path attribute \"colour\"");
    assert!(!msg.contains(PIN), "{msg}");

    // The PIN file is missing.
    let gone = hsm.path("no-such-pin").display().to_string();
    let id = format!("pkcs11:token={label};object=ec?module-path={MODULE}&pin-source=file:{gone}");
    sb.run(&sign_args(&id, &[], &extra)).fails_with(&format!(
        "describe-key failed: VALIDATION_ERROR: cannot read the PIN file {gone:?} (pin-source)"
    ));

    // The module is missing: in the URI, and in --plugin-config module= of a stored key.
    let absent = "/nonexistent/lib/libabsent-pkcs11.so";
    let id = hsm.uri("object=ec").replace(
        &format!("module-path={MODULE}"),
        &format!("module-path={absent}"),
    );
    sb.run(&sign_args(&id, &[], &extra)).fails_with(&format!(
        "VALIDATION_ERROR: the PKCS#11 module \"{absent}\" does not exist"
    ));
    sb.run(&[
        "key",
        "add",
        "--plugin",
        PLUGIN,
        "--id",
        &hsm.uri_without_module("object=ec"),
        "--plugin-config",
        &format!("module={absent}"),
        "absent-module",
    ])
    .ok();
    let mut args = vec!["sign", "--key", "absent-module"];
    args.extend(extra);
    sb.run(&args).fails_with(&format!(
        "VALIDATION_ERROR: the PKCS#11 module \"{absent}\" does not exist"
    ));
    // No module anywhere.
    let msg = sb
        .run(&sign_args(
            &hsm.uri_without_module("object=ec"),
            &[],
            &extra,
        ))
        .fails_with("VALIDATION_ERROR: no PKCS#11 module for ");
    assert!(msg.contains("--plugin-config module=<path>"), "{msg}");

    // A chain file that is not the key's: the host refuses the signature. Same key
    // spec: it does not verify; another key spec: the algorithms differ.
    let id = hsm.uri("object=ec");
    let other = self_signed(KeySpec::Ec256, "someone else");
    let cfg = format!("chain={}", hsm.file("other.crt", &other.pem));
    sb.run(&sign_args(&id, &[&cfg], &extra))
        .fails_with("does not verify with the leaf certificate's public key");
    let p384 = self_signed(KeySpec::Ec384, "p384");
    let cfg = format!("chain={}", hsm.file("p384.crt", &p384.pem));
    sb.run(&sign_args(&id, &[&cfg], &extra)).fails_with(
        "mismatch between signature algorithm derived from signing certificate (ECDSA-SHA-384) and signing algorithm specified (ECDSA-SHA-256)",
    );
    // A chain file that does not exist.
    let cfg = format!("chain={}", hsm.path("none.crt").display());
    sb.run(&sign_args(&id, &[&cfg], &extra)).fails_with(
        "generate-signature failed: VALIDATION_ERROR: cannot read the certificate chain file",
    );

    assert!(
        signatures(&layout, ARTIFACT).is_empty(),
        "nothing was signed"
    );
    // And the same key signs once the request is right.
    sb.run(&sign_args(&id, &[], &extra)).ok();
    assert_eq!(signatures(&layout, ARTIFACT).len(), 1);
}

/// An EC key on a curve outside the six key specs (secp256k1, generated on the token)
/// is a VALIDATION_ERROR that names the curve.
#[test]
fn pkcs11_refuses_keys_on_other_curves() {
    let hsm = Hsm::new("curves");
    // CKA_EC_PARAMS of secp256k1: OID 1.3.132.0.10.
    hsm.generate("ec", "06052b8104000a", "k1", "61");
    let sb = hsm.sandbox();
    let layout = sb.layout("e2e");
    let msg = sb
        .run(&sign_args(
            &hsm.uri("object=k1"),
            &[],
            &["--oci-layout", &format!("{layout}@{ARTIFACT}")],
        ))
        .fails_with("describe-key failed: VALIDATION_ERROR: ");
    assert!(
        msg.contains("is an EC key on curve 1.3.132.0.10, which is not supported"),
        "{msg}"
    );
}

/// `-d` traces every plugin request and response (pluginConfig redacted), and the
/// PIN read through `pin-source` is in none of it, on success and on failure.
#[test]
fn pkcs11_pin_never_appears_in_debug_output() {
    let hsm = Hsm::new("debug");
    let key = self_signed(KeySpec::Rsa2048, "debug");
    hsm.import(&key, "rsa", "71");
    hsm.store_certificates(&[("71", "rsa", &key.der)]);
    let sb = hsm.sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let id = hsm.uri("object=rsa");
    let module_cfg = format!("module={MODULE}");
    let run = sb
        .run(&sign_args(
            &id,
            &[&module_cfg],
            &["-d", "--oci-layout", &target],
        ))
        .ok();
    for line in [
        "Plugin describe-key request",
        "Plugin generate-signature request",
        "Plugin generate-signature response",
    ] {
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
    }
    assert_no_secret(&run, &[], "-d sign");

    let wrong = "wrong-PIN-4321";
    std::fs::write(hsm.path("pin"), format!("{wrong}\n")).unwrap();
    let run = sb.run(&sign_args(&id, &[], &["-d", "--oci-layout", &target]));
    assert_no_secret(&run, &[wrong], "-d wrong PIN");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("ACCESS_DENIED"), "{}", run.stderr);
    assert_eq!(signatures(&layout, ARTIFACT).len(), 1);
}

/// A PIN given in the URI itself (`pin-value=`) is redacted wherever notation echoes
/// the key id: `-v` and `-d` lines and errors; `key add` warns that it is stored in
/// plain text.
#[test]
fn pkcs11_pin_value_in_the_uri_is_redacted_from_output() {
    let hsm = Hsm::new("pinvalue");
    let key = self_signed(KeySpec::Ec256, "pinvalue");
    hsm.import(&key, "ec", "72");
    hsm.store_certificates(&[("72", "ec", &key.der)]);
    let sb = hsm.sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let pin = PIN;
    let id = format!(
        "pkcs11:token={};object=ec?module-path={MODULE}&pin-value={pin}",
        hsm.label
    );
    let run = sb
        .run(&sign_args(&id, &[], &["-v", "-d", "--oci-layout", &target]))
        .ok();
    assert!(
        run.stderr.contains("pin-value=<redacted>"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run, &[pin], "-v -d with pin-value");
    let bad = id.replace("object=ec", "object=missing");
    let failed = sb.run(&sign_args(&bad, &[], &["-d", "--oci-layout", &target]));
    assert_eq!(failed.code, 1);
    assert_no_secret(&failed, &[pin], "error with pin-value");
    let added = sb
        .run(&["key", "add", "--plugin", "pkcs11", "--id", &id, "hsm"])
        .ok();
    assert!(added.stderr.contains("carries a PIN"), "{}", added.stderr);
}
