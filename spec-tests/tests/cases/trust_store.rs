//! `notation cert add|list|show|delete` and `notation policy import|show`
//! (notary-spec.md §4.9, §4.10).

use std::os::unix::fs::PermissionsExt as _;

use crate::harness::{Sandbox, snapshot, vectors};

fn e2e_crt() -> String {
    vectors()
        .join("notation/config/localkeys/e2e.crt")
        .display()
        .to_string()
}

fn e2e_policy() -> String {
    vectors()
        .join("notation/config/trustpolicies/trustpolicy.json")
        .display()
        .to_string()
}

/// A self-signed CA certificate (a root) written into the sandbox.
pub fn root_ca(sb: &Sandbox, name: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let path = sb.path(&format!("{name}.pem"));
    std::fs::write(&path, p.self_signed(&key).unwrap().pem()).unwrap();
    path.display().to_string()
}

/// A leaf that is neither a CA nor self-signed (issued by a throwaway CA).
fn issued_leaf(sb: &Sandbox) -> String {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["leaf".to_owned()]).unwrap();
    let path = sb.path("leaf.pem");
    std::fs::write(&path, leaf.signed_by(&key, &issuer).unwrap().pem()).unwrap();
    path.display().to_string()
}

/// `cert add` copies the files into `truststore/x509/<type>/<store>/` (0600 in
/// 0700 directories) and lists them; `cert list` shows every store, filtered by
/// type and store.
#[test]
fn add_and_list() {
    let sb = Sandbox::new();
    let ca = root_ca(&sb, "root");
    let r = sb
        .run(&[
            "cert",
            "add",
            "--type",
            "ca",
            "--store",
            "acme",
            &e2e_crt(),
            &ca,
        ])
        .ok();
    assert_eq!(
        r.stdout,
        "Successfully added following certificates to named store acme of type ca:\ne2e.crt\nroot.pem\n"
    );
    sb.run(&["cert", "add", "-t", "tsa", "-s", "tsa1", &ca])
        .ok();
    sb.run(&[
        "cert",
        "add",
        "-t",
        "signingAuthority",
        "-s",
        "sa",
        &e2e_crt(),
    ])
    .ok();
    let dir = sb.config().join("truststore/x509/ca/acme");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("e2e.crt")), 0o600);
    assert_eq!(
        std::fs::read(dir.join("e2e.crt")).unwrap(),
        std::fs::read(e2e_crt()).unwrap()
    );
    let all = sb.run(&["cert", "list"]).ok().stdout;
    assert_eq!(
        all,
        "STORE TYPE         STORE NAME   CERTIFICATE\n\
         ca                 acme         e2e.crt\n\
         ca                 acme         root.pem\n\
         signingAuthority   sa           e2e.crt\n\
         tsa                tsa1         root.pem\n"
    );
    let tsa = sb.run(&["cert", "ls", "--type", "tsa"]).ok().stdout;
    assert_eq!(tsa.lines().count(), 2, "{tsa}");
    let acme = sb.run(&["cert", "list", "--store", "acme"]).ok().stdout;
    assert_eq!(acme.lines().count(), 3, "{acme}");
}

/// Bad input is refused before anything is written: missing flags, an unknown
/// type, a bad store name, a file that is no certificate, a leaf that is neither
/// CA nor self-signed, a non-root in a tsa store, a file already in the store.
#[test]
fn add_refuses_bad_input() {
    let sb = Sandbox::new();
    let cfg = sb.config().display().to_string();
    sb.run(&["cert", "add", &e2e_crt()])
        .fails_with("required flag(s) \"store\", \"type\" not set");
    sb.run(&["cert", "add", "--type", "ca", &e2e_crt()])
        .fails_with("required flag(s) \"store\" not set");
    sb.run(&["cert", "add", "--type", "x509", "--store", "s", &e2e_crt()])
        .fails_with("unsupported trust store type \"x509\"");
    sb.run(&["cert", "add", "--type", "ca", "--store", "a/b", &e2e_crt()])
        .fails_with("[a-zA-Z0-9_.-]+");
    sb.run(&["cert", "add", "--type", "ca", "--store", "s"])
        .fails_with("requires at least 1 arg(s)");
    let junk = sb.path("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    sb.run(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "s",
        &e2e_crt(),
        &junk.display().to_string(),
    ])
    .fails_with("cannot read certificates from");
    sb.run(&["cert", "add", "-t", "ca", "-s", "s", &issued_leaf(&sb)])
        .fails_with("is not a CA certificate or self-signed signing certificate");
    sb.run(&["cert", "add", "-t", "tsa", "-s", "t", &e2e_crt()])
        .fails_with("is not a root certificate");
    let with_key = sb.path("with-key.pem");
    let key = vectors().join("notation/config/localkeys/e2e.key");
    let mut both = std::fs::read(&key).unwrap();
    both.extend(std::fs::read(e2e_crt()).unwrap());
    std::fs::write(&with_key, both).unwrap();
    sb.run(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "s",
        &with_key.display().to_string(),
    ])
    .fails_with("holds a PEM block \"PRIVATE KEY\": only certificates belong in a trust store");
    assert!(
        !sb.config().join("truststore").exists(),
        "nothing written: {:?}",
        snapshot(&cfg).keys()
    );
    sb.run(&["cert", "add", "-t", "ca", "-s", "s", &e2e_crt()])
        .ok();
    let before = snapshot(&cfg);
    let ca = root_ca(&sb, "root");
    sb.run(&["cert", "add", "-t", "ca", "-s", "s", &ca, &e2e_crt()])
        .fails_with("certificate \"e2e.crt\" already exists in the trust store \"s\"");
    assert_eq!(snapshot(&cfg), before, "a failed add writes nothing");
}

/// `cert show` prints each certificate's details; `cert delete` removes one file
/// or (`--all`) the store, asking first unless `-y`.
#[test]
fn show_and_delete() {
    let sb = Sandbox::new();
    let ca = root_ca(&sb, "root");
    sb.run(&["cert", "add", "-t", "ca", "-s", "acme", &e2e_crt(), &ca])
        .ok();
    let show = sb
        .run(&["cert", "show", "-t", "ca", "-s", "acme", "e2e.crt"])
        .ok()
        .stdout;
    for line in [
        "Certificate details",
        "Issuer: C=US, ST=WA, L=Seattle, O=Notary, CN=e2e",
        "Subject: C=US, ST=WA, L=Seattle, O=Notary, CN=e2e",
        "Valid from: 2022-12-19T02:43:39Z",
        "Valid to: 2122-12-19T02:43:39Z",
        "IsCA: false",
        "SHA256 Thumbprint: e38aea13f2b051f7183cca64a51ee676f4d4456f41d9fecf15eb367efc7343b9",
    ] {
        assert!(
            show.lines().any(|l| l == line),
            "{line:?} missing in {show}"
        );
    }
    sb.run(&["cert", "show", "-t", "ca", "-s", "acme", "nope.crt"])
        .fails_with("certificate \"nope.crt\" does not exist in the trust store \"acme\"");
    sb.run(&["cert", "show", "-t", "ca", "-s", "acme", "../x"])
        .fails_with("is not a certificate file name");
    let store = sb.config().join("truststore/x509/ca/acme");
    let no = sb.run_with(
        &["cert", "delete", "-t", "ca", "-s", "acme", "e2e.crt"],
        &[],
        Some("n\n"),
    );
    assert_eq!(no.code, 0);
    assert!(
        no.stderr.contains(
            "Are you sure you want to delete \"e2e.crt\" in \"acme\" of type \"ca\"? [y/N]"
        )
    );
    assert!(no.stdout.contains("Operation cancelled."));
    assert!(store.join("e2e.crt").exists());
    let r = sb
        .run(&["cert", "delete", "-t", "ca", "-s", "acme", "-y", "e2e.crt"])
        .ok();
    assert_eq!(
        r.stdout,
        "Successfully deleted e2e.crt from trust store acme of type ca\n"
    );
    assert!(!store.join("e2e.crt").exists() && store.join("root.pem").exists());
    sb.run(&["cert", "delete", "-t", "ca", "-s", "acme"])
        .fails_with("missing certificate file name");
    sb.run(&[
        "cert", "delete", "-t", "ca", "-s", "acme", "--all", "root.pem",
    ])
    .fails_with("--all deletes the whole store");
    let yes = sb.run_with(
        &["cert", "delete", "-t", "ca", "-s", "acme", "--all"],
        &[],
        Some("y\n"),
    );
    assert_eq!(yes.code, 0, "{}", yes.stderr);
    assert_eq!(yes.stdout, "Successfully deleted acme\n");
    assert!(!store.exists());
    sb.run(&["cert", "delete", "-t", "ca", "-s", "acme", "--all", "-y"])
        .fails_with("the trust store \"acme\" of type \"ca\" does not exist");
}

/// `policy import` validates first and writes `trustpolicy.oci.json` (0600);
/// an existing policy is only replaced after a yes or with `--force`; `policy
/// show` prints the policy in use.
#[test]
fn policy_import_and_show() {
    let sb = Sandbox::new();
    sb.run(&["policy", "show"])
        .fails_with("failed to show trust policy as the trust policy file does not exist");
    let r = sb.run(&["policy", "import", &e2e_policy()]).ok();
    assert_eq!(
        r.stdout,
        "Trust policy configuration imported successfully.\n"
    );
    let written = sb.config().join("trustpolicy.oci.json");
    assert_eq!(
        std::fs::read(&written).unwrap(),
        std::fs::read(e2e_policy()).unwrap()
    );
    assert_eq!(
        std::fs::metadata(&written).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let shown = sb.run(&["policy", "show"]).ok().stdout;
    assert_eq!(
        shown.trim_end(),
        std::fs::read_to_string(e2e_policy()).unwrap().trim_end()
    );
    let other = sb.path("other.json");
    std::fs::write(
        &other,
        r#"{"version":"1.0","trustPolicies":[{"name":"skip-all","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}"#,
    )
    .unwrap();
    let other = other.display().to_string();
    let no = sb.run_with(&["policy", "import", &other], &[], Some("n\n"));
    assert!(
        no.stderr
            .contains("The trust policy file already exists, do you want to overwrite it? [y/N]")
    );
    assert!(no.stdout.contains("Operation cancelled."));
    assert!(
        std::fs::read_to_string(&written)
            .unwrap()
            .contains("\"e2e\"")
    );
    sb.run(&["policy", "import", "--force", &other]).ok();
    assert!(
        std::fs::read_to_string(&written)
            .unwrap()
            .contains("skip-all")
    );
}

/// An invalid policy is refused with an error naming the statement (index and
/// name) and nothing is written; `policy show` prints an invalid policy and fails.
#[test]
fn invalid_policies_name_the_statement() {
    let sb = Sandbox::new();
    let bad = sb.path("bad.json");
    std::fs::write(
        &bad,
        r#"{"version":"1.0","trustPolicies":[
            {"name":"ok","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:a"],"trustedIdentities":["*"]},
            {"name":"prod","registryScopes":["r.io/app"],"signatureVerification":{"level":"strict","override":{"integrity":"log"}},"trustStores":["ca:a"],"trustedIdentities":["*"]}
        ]}"#,
    )
    .unwrap();
    let msg = sb
        .run(&["policy", "import", &bad.display().to_string()])
        .fails_with("trust policy statement #2 \"prod\" has invalid signatureVerification");
    assert!(
        msg.contains("\"integrity\" verification can not be overridden"),
        "{msg}"
    );
    assert!(!sb.config().join("trustpolicy.oci.json").exists());
    // A hand-edited invalid policy: shown, then an error.
    std::fs::create_dir_all(sb.config()).unwrap();
    std::fs::copy(&bad, sb.config().join("trustpolicy.json")).unwrap();
    let r = sb.run(&["policy", "show"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("\"prod\""));
    assert!(
        r.stderr
            .contains("Error: existing trust policy configuration is invalid")
    );
}

/// `trustpolicy.oci.json` wins over `trustpolicy.json`, which is read when the
/// first is absent; symlinked policy files are refused.
#[test]
fn policy_file_fallback_and_symlinks() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config()).unwrap();
    std::fs::copy(e2e_policy(), sb.config().join("trustpolicy.json")).unwrap();
    assert!(sb.run(&["policy", "show"]).ok().stdout.contains("\"e2e\""));
    std::fs::write(
        sb.config().join("trustpolicy.oci.json"),
        r#"{"version":"1.0","trustPolicies":[{"name":"oci","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}"#,
    )
    .unwrap();
    assert!(sb.run(&["policy", "show"]).ok().stdout.contains("\"oci\""));
    std::fs::remove_file(sb.config().join("trustpolicy.oci.json")).unwrap();
    std::os::unix::fs::symlink(e2e_policy(), sb.config().join("trustpolicy.oci.json")).unwrap();
    sb.run(&["policy", "show"])
        .fails_with("is not a regular file (symlinks are not supported)");
}
