//! `notation login` / `logout`: credentials are checked against the registry before
//! they are stored, and stored where docker would store them.

use std::os::unix::fs::PermissionsExt as _;

use serde_json::Value;

use crate::harness::Sandbox;
use crate::registry::TestRegistry;

fn docker_sandbox() -> (Sandbox, std::path::PathBuf) {
    let mut sb = Sandbox::new();
    let docker = sb.path("docker");
    sb.env
        .push(("DOCKER_CONFIG".into(), docker.display().to_string()));
    (sb, docker)
}

/// A good login is checked, stored 0600 in Docker's config.json with a warning, and
/// then used by sign; logout removes it. A bad one is refused and nothing stored.
#[test]
fn login_check_store_use_logout() {
    let reg = TestRegistry::distribution_htpasswd("erin", "pw-erin");
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let (sb, docker) = docker_sandbox();
    sb.run(&["login", "-u", "erin", "-p", "nope", &reg.host])
        .fails_with(&format!(
            "login to {} refused; nothing was stored",
            reg.host
        ));
    assert!(!docker.join("config.json").exists());
    let ok = sb
        .run(&["login", "-u", "erin", "-p", "pw-erin", &reg.host])
        .ok();
    assert_eq!(ok.stdout, "Login Succeeded\n");
    assert!(
        ok.stderr
            .contains("Warning: Your password will be stored unencrypted in"),
        "{}",
        ok.stderr
    );
    let file = docker.join("config.json");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let j: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(j["auths"][&reg.host]["auth"], "ZXJpbjpwdy1lcmlu");
    sb.test_key("k");
    sb.run(&["sign", &format!("{}/app@{digest}", reg.host)])
        .ok();
    assert_eq!(
        sb.run(&["logout", &reg.host]).ok().stdout,
        "Logout Succeeded\n"
    );
    sb.run(&["logout", &reg.host]).fails_with("not logged in");
    sb.run(&["sign", &format!("{}/app@{digest}", reg.host)])
        .fails_with("requires authentication");
}

/// --password-stdin, and the flag rules.
#[test]
fn login_password_stdin_and_errors() {
    use std::io::Write as _;
    let reg = TestRegistry::distribution_htpasswd("finn", "pw-finn");
    let (sb, docker) = docker_sandbox();
    let mut child = sb
        .command(&["login", "-u", "finn", "--password-stdin", &reg.host])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"pw-finn\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(docker.join("config.json").exists());
    sb.run(&["login", "-u", "finn", &reg.host])
        .fails_with("a password is required");
    sb.run(&[
        "login",
        "-u",
        "finn",
        "-p",
        "x",
        "--password-stdin",
        &reg.host,
    ])
    .fails_with("[password password-stdin]");
    sb.run(&["login", "-u", "finn", "-p", "x", "localhost:1"])
        .fails_with("cannot reach registry localhost:1");
}

/// With a credential helper configured, login stores through it (the helper is a
/// real executable that records what it was given) and not in the file.
#[test]
fn login_stores_through_a_credential_helper() {
    let reg = TestRegistry::distribution_htpasswd("gus", "pw-gus");
    let (mut sb, docker) = docker_sandbox();
    let record = sb.path("stored.json");
    sb.credential_helper(
        "rec",
        &format!(
            "#!/bin/sh\n[ \"$1\" = store ] && cat > {}\nexit 0\n",
            record.display()
        ),
    );
    std::fs::create_dir_all(sb.config()).unwrap();
    std::fs::write(sb.config().join("config.json"), r#"{"credsStore":"rec"}"#).unwrap();
    let run = sb
        .run(&["login", "-u", "gus", "-p", "pw-gus", &reg.host])
        .ok();
    assert!(!run.stderr.contains("unencrypted"));
    let stored: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(stored["ServerURL"], reg.host.as_str());
    assert_eq!(stored["Username"], "gus");
    assert_eq!(stored["Secret"], "pw-gus");
    assert!(!docker.join("config.json").exists());
}
