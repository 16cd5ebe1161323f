//! `notation cert generate-test` (spec §4.9).

use std::os::unix::fs::PermissionsExt as _;

use notation_core::KeySpec;
use notation_core::cert::Certificate;

use crate::harness::{Sandbox, snapshot};

/// Outputs, files, modes, the trust-store copy and the key entry.
#[test]
fn generate_test_creates_key_cert_and_trust_store_entry() {
    let sb = Sandbox::new();
    let r = sb
        .run(&["cert", "generate-test", "--default", "wabbit-networks.io"])
        .ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "generating RSA Key with 2048 bits");
    assert!(lines[1].starts_with("generated certificate expiring on "));
    let cfg = sb.config();
    assert_eq!(
        lines[2],
        format!(
            "wrote key: {}",
            cfg.join("localkeys/wabbit-networks.io.key").display()
        )
    );
    assert_eq!(
        lines[3],
        format!(
            "wrote certificate: {}",
            cfg.join("localkeys/wabbit-networks.io.crt").display()
        )
    );
    assert_eq!(
        lines[4],
        "Successfully added wabbit-networks.io.crt to named store wabbit-networks.io of type ca"
    );
    assert_eq!(lines[5], "wabbit-networks.io: added to the key list");
    assert_eq!(
        lines[6],
        "wabbit-networks.io: marked as default signing key"
    );
    let mode = |p: &str| std::fs::metadata(cfg.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("localkeys/wabbit-networks.io.key"), 0o600);
    assert_eq!(mode("localkeys"), 0o700);
    let crt = std::fs::read(cfg.join("localkeys/wabbit-networks.io.crt")).unwrap();
    assert_eq!(
        std::fs::read(cfg.join("truststore/x509/ca/wabbit-networks.io/wabbit-networks.io.crt"))
            .unwrap(),
        crt
    );
    let c = Certificate::parse_pem_or_der(&crt).unwrap().remove(0);
    assert_eq!(
        c.subject,
        "C=US, ST=WA, L=Seattle, O=Notary, CN=wabbit-networks.io"
    );
    assert_eq!(c.issuer, c.subject);
    assert_eq!(c.key_spec().unwrap(), KeySpec::Rsa2048);
    assert_eq!(c.not_after - c.not_before, 86_400);
    assert!(lines[1].ends_with(&notation_core::timefmt::format_rfc3339(c.not_after)));
}

/// Bad names, sizes and duplicates are refused before anything is written.
#[test]
fn generate_test_errors_write_nothing() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "bad/name"])
        .fails_with("name needs to follow [a-zA-Z0-9_.-]+ format");
    sb.run(&["cert", "generate-test", "--bits", "1024", "small"])
        .fails_with("RSA key size 1024 bits is not supported");
    sb.run(&["cert", "generate-test"])
        .fails_with("accepts 1 arg(s), received 0");
    assert!(
        snapshot(&sb.config().display().to_string()).is_empty(),
        "nothing written"
    );
    sb.test_key("dup");
    let before = snapshot(&sb.config().display().to_string());
    sb.run(&["certificate", "generate-test", "dup"])
        .fails_with("signing key with name \"dup\" already exists");
    assert_eq!(snapshot(&sb.config().display().to_string()), before);
}

/// Four generate-test runs with one name at once: one wins, the others fail cleanly,
/// and the winner's key, certificate and key-list entry are intact and match.
#[test]
fn concurrent_generate_test_with_one_name() {
    let sb = Sandbox::new();
    let children: Vec<_> = (0..4)
        .map(|_| {
            sb.command(&["cert", "generate-test", "race"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outcomes: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| o.status.success()).count(), 1);
    for o in outcomes.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("Error: ") && err.contains("already exists"),
            "{err}"
        );
    }
    let cfg = sb.config();
    let key = std::fs::read(cfg.join("localkeys/race.key")).unwrap();
    let crt = std::fs::read(cfg.join("localkeys/race.crt")).unwrap();
    notation_core::local_key::LocalKey::from_pem(&key, &crt).expect("key and certificate match");
    assert_eq!(
        std::fs::read(cfg.join("truststore/x509/ca/race/race.crt")).unwrap(),
        crt
    );
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.join("signingkeys.json")).unwrap()).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
}
