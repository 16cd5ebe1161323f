//! `notation key add|list|update|delete` and the signingkeys.json format (spec §4.4,
//! §4.5).

use std::os::unix::fs::PermissionsExt as _;

use serde_json::Value;

use crate::harness::{Sandbox, vectors};

fn e2e() -> (String, String) {
    let v = vectors().join("notation/config/localkeys");
    (
        v.join("e2e.key").display().to_string(),
        v.join("e2e.crt").display().to_string(),
    )
}

fn keys_json(sb: &Sandbox) -> Value {
    serde_json::from_slice(&std::fs::read(sb.config().join("signingkeys.json")).unwrap()).unwrap()
}

/// Registering an existing key writes notation's format, 0600 in a 0700 directory.
#[test]
fn add_local_key() {
    let sb = Sandbox::new();
    let (key, crt) = e2e();
    let r = sb
        .run(&[
            "key",
            "add",
            "--key-file",
            &key,
            "--cert-file",
            &crt,
            "--default",
            "e2e",
        ])
        .ok();
    assert_eq!(r.stdout, "e2e: marked as default\n");
    let j = keys_json(&sb);
    assert_eq!(j["default"], "e2e");
    assert_eq!(j["keys"][0]["name"], "e2e");
    assert_eq!(
        j["keys"][0]["keyPath"],
        std::fs::canonicalize(&key).unwrap().display().to_string()
    );
    assert_eq!(
        j["keys"][0]["certPath"],
        std::fs::canonicalize(&crt).unwrap().display().to_string()
    );
    let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(sb.config().join("signingkeys.json")), 0o600);
    assert_eq!(mode(sb.config()), 0o700);
    let text = std::fs::read_to_string(sb.config().join("signingkeys.json")).unwrap();
    assert!(
        text.contains("\n    \"keys\": ["),
        "4-space indentation: {text}"
    );
}

/// Mismatched key and certificate, an expired chain, a duplicate name, and
/// missing files are refused, and signingkeys.json is left as it was.
#[test]
fn add_local_key_errors() {
    let sb = Sandbox::new();
    let (key, crt) = e2e();
    sb.run(&["key", "add", "--key-file", &key, "--cert-file", &crt, "e2e"])
        .ok();
    let before = std::fs::read(sb.config().join("signingkeys.json")).unwrap();
    sb.run(&["key", "add", "--key-file", &key, "--cert-file", &crt, "e2e"])
        .fails_with("signing key with name \"e2e\" already exists");
    sb.test_key("other");
    let after_other = std::fs::read(sb.config().join("signingkeys.json")).unwrap();
    assert_ne!(before, after_other);
    let other_crt = sb
        .config()
        .join("localkeys/other.crt")
        .display()
        .to_string();
    sb.run(&[
        "key",
        "add",
        "--key-file",
        &key,
        "--cert-file",
        &other_crt,
        "mismatch",
    ])
    .fails_with("does not match");
    let (_, expired) = crate::harness::expired_e2e_cert(&sb);
    sb.run(&[
        "key",
        "add",
        "--key-file",
        &key,
        "--cert-file",
        &expired,
        "old",
    ])
    .fails_with("invalid at signing time");
    sb.run(&[
        "key",
        "add",
        "--key-file",
        "/nope.key",
        "--cert-file",
        &crt,
        "x",
    ])
    .fails_with("private key file /nope.key does not exist");
    sb.run(&["key", "add", "--key-file", &key, "x"])
        .fails_with("if any flags in the group [key-file cert-file] are set they must all be set; missing [cert-file]");
    sb.run(&["key", "add", "x"])
        .fails_with("at least one of the flags in the group [key-file plugin] is required");
    sb.run(&["key", "add", "--key-file", &key, "--cert-file", &crt])
        .fails_with("accepts 1 arg(s), received 0");
    assert_eq!(
        std::fs::read(sb.config().join("signingkeys.json")).unwrap(),
        after_other
    );
}

/// Plugin keys: the plugin must be installed as a regular file; names with path
/// separators are refused; symlinked executables are refused.
#[test]
fn add_plugin_key() {
    let sb = Sandbox::new();
    sb.run(&["key", "add", "--plugin", "acme", "--id", "k1", "kms"])
        .fails_with("plugin \"acme\" is not installed");
    sb.run(&["key", "add", "--plugin", "../x", "--id", "k1", "kms"])
        .fails_with("invalid plugin name");
    sb.run(&["key", "add", "--plugin", "acme", "--id", "", "kms"])
        .fails_with("missing key id");
    let dir = sb.config().join("plugins/acme");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink("/bin/true", dir.join("notation-acme")).unwrap();
    sb.run(&["key", "add", "--plugin", "acme", "--id", "k1", "kms"])
        .fails_with("is a symlink");
    std::fs::remove_file(dir.join("notation-acme")).unwrap();
    std::fs::write(dir.join("notation-acme"), "#!/bin/sh\n").unwrap();
    sb.run(&["key", "add", "--plugin", "acme", "--id", "k1", "kms"])
        .fails_with("is not a regular executable file");
    std::fs::set_permissions(
        dir.join("notation-acme"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let r = sb
        .run(&[
            "key",
            "add",
            "--plugin",
            "acme",
            "--id",
            "k1",
            "--plugin-config",
            "region=eu",
            "kms",
        ])
        .ok();
    assert_eq!(r.stdout, "kms\n");
    let j = keys_json(&sb);
    assert_eq!(j["keys"][0]["id"], "k1");
    assert_eq!(j["keys"][0]["pluginName"], "acme");
    assert_eq!(j["keys"][0]["pluginConfig"]["region"], "eu");
    assert!(j.get("default").is_none());
}

/// list, update --default and delete, with notation's outputs.
#[test]
fn list_update_delete() {
    let sb = Sandbox::new();
    sb.test_key("one");
    sb.run(&["cert", "generate-test", "two"]).ok();
    let list = sb.run(&["key", "ls"]).ok().stdout;
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with("NAME")
            && lines[0].contains("KEY PATH")
            && lines[0].ends_with("PLUGIN NAME")
    );
    assert!(lines[1].starts_with("* one "), "{list}");
    assert!(lines[2].starts_with("two "), "{list}");
    assert_eq!(
        sb.run(&["key", "update", "--default", "two"]).ok().stdout,
        "two: marked as default\n"
    );
    assert_eq!(keys_json(&sb)["default"], "two");
    sb.run(&["key", "update", "--default", "nope"])
        .fails_with("signing key nope not found");
    sb.run(&["key", "delete", "one", "nope"])
        .fails_with("signing key nope not found; nothing was removed");
    assert_eq!(keys_json(&sb)["keys"].as_array().unwrap().len(), 2);
    let out = sb.run(&["key", "delete", "two", "one"]).ok().stdout;
    assert_eq!(
        out,
        "Removed default key two from Notation signing key list. The source key still exists.\n\
         Removed one from Notation signing key list. The source key still exists.\n"
    );
    let j = keys_json(&sb);
    assert!(j.get("default").is_none());
    assert!(j["keys"].as_array().unwrap().is_empty());
    assert!(
        sb.config().join("localkeys/one.key").exists(),
        "key files stay"
    );
}

/// A malformed signingkeys.json is reported, not overwritten.
#[test]
fn malformed_signing_keys() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config()).unwrap();
    std::fs::write(
        sb.config().join("signingkeys.json"),
        r#"{"default":"x","keys":[]}"#,
    )
    .unwrap();
    sb.run(&["key", "ls"])
        .fails_with("malformed signingkeys.json: default key 'x' not found");
    sb.run(&["cert", "generate-test", "y"])
        .fails_with("malformed signingkeys.json");
    assert_eq!(
        std::fs::read_to_string(sb.config().join("signingkeys.json")).unwrap(),
        r#"{"default":"x","keys":[]}"#
    );
    std::fs::remove_file(sb.config().join("signingkeys.json")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", sb.config().join("signingkeys.json")).unwrap();
    sb.run(&["key", "ls"])
        .fails_with("is not a regular file (symlinks are not supported)");
}
