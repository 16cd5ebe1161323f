//! `notation sign` failures: one `Error:` line, exit 1, and the layout untouched
//! (spec §4.1, §4.6, §4.7; issue: "nothing partial is written").

use crate::harness::{ARTIFACT, Sandbox, snapshot};

/// Runs `sign` with `args` (the layout reference is appended unless `reference` is
/// given) and checks the failure contract and that the layout did not change.
#[track_caller]
fn fails(sb: &Sandbox, layout: &str, args: &[&str], needle: &str) -> String {
    let before = snapshot(layout);
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    let msg = sb.run(&all).fails_with(needle);
    assert_eq!(
        snapshot(layout),
        before,
        "layout changed after a failed sign"
    );
    msg
}

fn setup() -> (Sandbox, String, String) {
    let sb = Sandbox::new();
    sb.test_key("k");
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    (sb, layout, target)
}

/// Unknown formats are refused with notation's message.
#[test]
fn bad_signature_format() {
    let (sb, layout, t) = setup();
    let m = fails(
        &sb,
        &layout,
        &["--signature-format", "pgp", "--oci-layout", &t],
        "signature format \"pgp\" not supported",
    );
    assert!(m.contains("\"jws\" and \"cose\""));
}

/// `--expiry` takes Go durations only, whole seconds, not negative.
#[test]
fn bad_expiry() {
    let (sb, layout, t) = setup();
    fails(
        &sb,
        &layout,
        &["-e", "2d", "--oci-layout", &t],
        "invalid argument \"2d\" for \"-e, --expiry\" flag: time: unknown unit \"d\" in duration \"2d\"",
    );
    fails(
        &sb,
        &layout,
        &["--expiry", "3h 20m", "--oci-layout", &t],
        "time: unknown unit",
    );
    fails(
        &sb,
        &layout,
        &["-e", "-1h", "--oci-layout", &t],
        "expiry duration cannot be a negative value",
    );
    fails(
        &sb,
        &layout,
        &["-e", "1500ms", "--oci-layout", &t],
        "expiry duration supports minimum granularity of seconds",
    );
}

/// User metadata: `k=v` syntax and the reserved prefix.
#[test]
fn bad_user_metadata() {
    let (sb, layout, t) = setup();
    fails(
        &sb,
        &layout,
        &["-m", "novalue", "--oci-layout", &t],
        "could not parse flag user-metadata: key-value pair requires \"=\" as separator",
    );
    fails(
        &sb,
        &layout,
        &["-m", "io.cncf.notary.x=1", "--oci-layout", &t],
        "metadata key io.cncf.notary.x has reserved prefix io.cncf.notary",
    );
    fails(
        &sb,
        &layout,
        &["--plugin-config", "x", "--oci-layout", &t],
        "could not parse flag plugin-config",
    );
}

/// Key resolution errors use notation's messages.
#[test]
fn key_resolution_errors() {
    let (sb, layout, t) = setup();
    fails(
        &sb,
        &layout,
        &["--key", "nope", "--oci-layout", &t],
        "signing key nope not found",
    );
    fails(
        &sb,
        &layout,
        &["--key", "", "--oci-layout", &t],
        "key name cannot be empty",
    );
    let fresh = Sandbox::new();
    let layout2 = fresh.layout("e2e");
    fails(
        &fresh,
        &layout2,
        &["--oci-layout", &format!("{layout2}@{ARTIFACT}")],
        "default signing key not set. Please set default signing key or specify a key name",
    );
}

/// A registered key whose file has gone away: clear error naming the file.
#[test]
fn missing_key_file() {
    let (sb, layout, t) = setup();
    std::fs::remove_file(sb.config().join("localkeys/k.key")).unwrap();
    fails(&sb, &layout, &["--oci-layout", &t], "private key file");
}

/// A key file that is not a key, and a certificate that is not the key's.
#[test]
fn corrupt_key_material() {
    let (sb, layout, t) = setup();
    std::fs::write(sb.config().join("localkeys/k.key"), "not a key").unwrap();
    fails(
        &sb,
        &layout,
        &["--oci-layout", &t],
        "cannot load signing key k",
    );
    let sb2 = Sandbox::new();
    sb2.test_key("a");
    sb2.run(&["cert", "generate-test", "b"]).ok();
    std::fs::copy(
        sb2.config().join("localkeys/b.crt"),
        sb2.config().join("localkeys/a.crt"),
    )
    .unwrap();
    let layout2 = sb2.layout("e2e");
    fails(
        &sb2,
        &layout2,
        &["--oci-layout", &format!("{layout2}@{ARTIFACT}")],
        "does not match",
    );
}

/// Flag groups, checked in cobra's order with cobra's messages.
#[test]
fn flag_conflicts() {
    let (sb, layout, t) = setup();
    fails(
        &sb,
        &layout,
        &["--key", "k", "--id", "x", "--oci-layout", &t],
        "if any flags in the group [id plugin] are set they must all be set; missing [plugin]",
    );
    fails(
        &sb,
        &layout,
        &[
            "--key",
            "k",
            "--id",
            "x",
            "--plugin",
            "p",
            "--oci-layout",
            &t,
        ],
        "if any flags in the group [key id] are set none of the others can be; [id key] were all set",
    );
    fails(
        &sb,
        &layout,
        &["--oci-layout", "--force-referrers-tag", &t],
        "if any flags in the group [oci-layout force-referrers-tag allow-referrers-api] are set none of the others can be; [force-referrers-tag oci-layout] were all set",
    );
    fails(
        &sb,
        &layout,
        &["--bogus", "--oci-layout", &t],
        "unknown flag: --bogus",
    );
}

/// References: missing, malformed, or naming nothing in the layout. (Several
/// references are a batch: `batch_sign.rs`.)
#[test]
fn bad_references() {
    let (sb, layout, t) = setup();
    fails(
        &sb,
        &layout,
        &["--oci-layout"],
        "missing reference to the artifact: use `notation sign --help` to see what parameters are required",
    );
    fails(
        &sb,
        &layout,
        &["--oci-layout", &layout],
        "invalid reference: missing tag or digest. Expecting <file_path>:<tag> or <file_path>@<digest>",
    );
    fails(
        &sb,
        &layout,
        &["--oci-layout", &format!("{layout}@sha256:1234")],
        "invalid digest \"sha256:1234\"",
    );
    fails(
        &sb,
        &layout,
        &["--oci-layout", &format!("{layout}:v2")],
        "tag \"v2\" not found in the OCI layout",
    );
    let absent = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    fails(
        &sb,
        &layout,
        &["--oci-layout", &format!("{layout}@{absent}")],
        "not found in the OCI layout",
    );
    fails(
        &sb,
        &layout,
        &["--oci-layout", "/nonexistent/dir:v1"],
        "is not a directory",
    );
    std::fs::remove_file(format!("{layout}/oci-layout")).unwrap();
    fails(
        &sb,
        &layout,
        &["--oci-layout", &t],
        "the oci-layout file is missing",
    );
}

/// A manifest blob whose content does not match its digest is not signed.
#[test]
fn corrupt_artifact_blob() {
    let (sb, layout, t) = setup();
    let blob = format!(
        "{layout}/blobs/sha256/{}",
        ARTIFACT.trim_start_matches("sha256:")
    );
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    fails(&sb, &layout, &["--oci-layout", &t], "is corrupt");
}

/// A signing certificate that has expired cannot sign (chain rules at signing time).
#[test]
fn expired_certificate_cannot_sign() {
    let (sb, layout, t) = setup();
    let (key, crt) = crate::harness::expired_e2e_cert(&sb);
    std::fs::copy(key, sb.config().join("localkeys/k.key")).unwrap();
    std::fs::copy(crt, sb.config().join("localkeys/k.crt")).unwrap();
    fails(
        &sb,
        &layout,
        &["--oci-layout", &t],
        "was invalid at signing time",
    );
}

/// An unreachable registry fails within seconds with one clear line, and a plugin
/// that is not installed is named.
#[test]
fn unreachable_registry_and_plugin_signing() {
    let (sb, layout, t) = setup();
    let started = std::time::Instant::now();
    fails(
        &sb,
        &layout,
        &[&format!("localhost:1/repo@{ARTIFACT}")],
        "cannot reach registry localhost:1",
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    fails(
        &sb,
        &layout,
        &["--plugin", "p", "--id", "x", "--oci-layout", &t],
        "plugin \"p\" is not installed",
    );
    fails(&sb, &layout, &["localhost:5000/repo"], "no tag or digest");
    fails(&sb, &layout, &["repo:v1"], "missing registry or repository");
}

/// Clears the immutable flag again when dropped, so the temp dir can be removed.
struct Immutable(String);

impl Immutable {
    fn set(path: String) -> Immutable {
        let ok = std::process::Command::new("chattr")
            .args(["+i", &path])
            .status()
            .map(|s| s.success());
        assert_eq!(
            ok.ok(),
            Some(true),
            "chattr +i {path} failed: this test needs an ext4-like /tmp and root"
        );
        Immutable(path)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .args(["-i", &self.0])
            .status();
    }
}

/// A failure after the blobs are written (index.json cannot be replaced: immutable,
/// which stops even root) leaves the layout exactly as it was: index untouched and
/// this signature's envelope and manifest blobs removed again.
#[test]
fn index_write_failure_leaves_nothing_behind() {
    let (sb, layout, t) = setup();
    let _guard = Immutable::set(format!("{layout}/index.json"));
    fails(
        &sb,
        &layout,
        &["--oci-layout", &t],
        "Operation not permitted",
    );
}

/// A reader that closed stdout does not turn a finished signing into a panic.
#[test]
fn closed_stdout_is_not_a_crash() {
    let (sb, layout, t) = setup();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = sb
        .command(&["sign", "--oci-layout", &t])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(crate::harness::signatures(&layout, ARTIFACT).len(), 1);
}
