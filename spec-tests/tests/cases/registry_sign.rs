//! `notation sign <registry>/<repo>` against real registries on loopback:
//! distribution 2.8 (no Referrers API: tag schema) and ferro-oci-server (OCI 1.1,
//! Referrers API). notary-spec.md §3.3–§3.6.

use notation_core::SignatureFormat;
use notation_core::envelope;
use notation_core::payload::Payload;
use serde_json::Value;

use crate::harness::{Run, Sandbox, index_digests, pushed_digest};
use crate::registry::{Fault, FaultProxy, TestRegistry};

/// A sandbox with a default test key.
fn signer() -> Sandbox {
    let sb = Sandbox::new();
    sb.test_key("reg");
    sb
}

fn sign(sb: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    sb.run(&all)
}

/// Fetches the signature manifest `sig` from the registry and checks it the way a
/// verifier would: form A, subject = `subject`, layer = an envelope that verifies
/// cryptographically and signs `subject`. Returns the payload.
fn check_signature(reg: &TestRegistry, repo: &str, subject: &str, sig: &str) -> Payload {
    let (ct, bytes) = reg.manifest(repo, sig).expect("signature manifest stored");
    assert_eq!(ct, "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(notation_core::Digest::sha256_of(&bytes).as_str(), sig);
    let m: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.cncf.notary.signature"
    );
    assert_eq!(m["subject"]["digest"], subject);
    let layer = &m["layers"][0];
    let format = SignatureFormat::from_media_type(layer["mediaType"].as_str().unwrap()).unwrap();
    let env = reg
        .blob(repo, layer["digest"].as_str().unwrap())
        .expect("envelope blob stored");
    let content = envelope::verify(format, &env).expect("envelope verifies");
    let payload = Payload::parse(&content.payload).unwrap();
    assert_eq!(payload.target_artifact.digest.as_str(), subject);
    assert!(
        reg.blob(repo, m["config"]["digest"].as_str().unwrap())
            .is_some(),
        "config blob present"
    );
    payload
}

/// distribution 2.8, tag reference, JWS: resolves the tag (warning on stderr),
/// prints both lines, and records the signature in the `sha256-<hex>` tag index.
#[test]
fn distribution_tag_reference_uses_tag_schema() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("net-monitor", "v1");
    let sb = signer();
    let run = sign(&sb, &[&format!("{}/net-monitor:v1", reg.host)]).ok();
    assert!(run.stderr.contains(
        "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v1)"
    ));
    let first = run.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!("Successfully signed {}/net-monitor@{digest}", reg.host)
    );
    let sig = pushed_digest(&run);
    check_signature(&reg, "net-monitor", &digest, &sig);
    let index = reg
        .tag_index("net-monitor", &digest)
        .expect("tag index written");
    assert_eq!(index_digests(&index), vec![sig.clone()]);
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"],
        "application/vnd.cncf.notary.signature"
    );
    assert!(entry["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"].is_string());
}

/// COSE by digest with user metadata; a second signature is appended to the index
/// and the outdated index manifest is deleted.
#[test]
fn distribution_digest_reference_cose_appends_and_cleans_up() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = signer();
    let r = format!("{}/app@{digest}", reg.host);
    let first = sign(&sb, &[&r]).ok();
    assert!(!first.stderr.contains("Warning"), "{}", first.stderr);
    let old_index = reg.tag_index("app", &digest).unwrap();
    let old_index_digest =
        notation_core::Digest::sha256_of(&serde_json::to_vec(&old_index).unwrap());
    let second = sign(&sb, &["--signature-format", "cose", "-m", "buildId=7", &r]).ok();
    let sig2 = pushed_digest(&second);
    let payload = check_signature(&reg, "app", &digest, &sig2);
    assert_eq!(payload.target_artifact.annotations["buildId"], "7");
    let index = reg.tag_index("app", &digest).unwrap();
    assert_eq!(index_digests(&index), vec![pushed_digest(&first), sig2]);
    // The replaced index manifest is gone (distribution has delete enabled).
    let deletes: Vec<String> = reg
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("DELETE "))
        .collect();
    assert_eq!(
        deletes,
        vec![format!("DELETE /v2/app/manifests/{old_index_digest}")]
    );
    assert!(
        reg.manifest("app", old_index_digest.as_str()).is_none(),
        "outdated index removed"
    );
    assert!(!second.stderr.contains("Warning"), "{}", second.stderr);
}

/// ferro-oci-server has the Referrers API: the signature is found there and no tag
/// index is written; `--force-referrers-tag` writes the tag index anyway.
#[test]
fn ferro_uses_referrers_api_unless_forced() {
    let reg = TestRegistry::ferro();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = signer();
    let r = format!("{}/app@{digest}", reg.host);
    let run = sign(&sb, &[&r]).ok();
    let sig = pushed_digest(&run);
    check_signature(&reg, "app", &digest, &sig);
    let referrers = reg.referrers_api("app", &digest).expect("referrers API");
    assert_eq!(index_digests(&referrers), vec![sig.clone()]);
    assert!(
        reg.tag_index("app", &digest).is_none(),
        "no tag index with the Referrers API"
    );
    let forced = sign(&sb, &["--force-referrers-tag", &r]).ok();
    let index = reg.tag_index("app", &digest).expect("forced tag index");
    assert_eq!(index_digests(&index), vec![pushed_digest(&forced)]);
}

/// `--allow-referrers-api` is accepted with notation's deprecation warning.
#[test]
fn allow_referrers_api_is_deprecated() {
    let reg = TestRegistry::ferro();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = signer();
    let run = sign(
        &sb,
        &[
            "--allow-referrers-api",
            &format!("{}/app@{digest}", reg.host),
        ],
    )
    .ok();
    assert!(run.stderr.contains(
        "Warning: flag '--allow-referrers-api' is deprecated and will be removed in future versions, use '--force-referrers-tag=false' instead."
    ));
}

/// Eight processes sign one artifact at once on distribution: all eight end up in
/// the tag index (notation v1.3.2 kept 2 of 8 here).
#[test]
fn eight_concurrent_signers_all_land_in_the_tag_index() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("race", "v1");
    let sb = signer();
    let r = format!("{}/race@{digest}", reg.host);
    let children: Vec<_> = (0..8)
        .map(|_| {
            sb.command(&["sign", &r])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut sigs = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sigs.push(
            stdout
                .lines()
                .last()
                .unwrap()
                .rsplit_once('@')
                .unwrap()
                .1
                .to_owned(),
        );
    }
    let mut listed = index_digests(&reg.tag_index("race", &digest).unwrap());
    listed.sort();
    sigs.sort();
    assert_eq!(listed, sigs, "every signature is listed exactly once");
    for s in &sigs {
        assert!(reg.manifest("race", s).is_some(), "listed manifest exists");
    }
}

/// Missing tag or digest, and a digest that does not match: clear errors, nothing
/// pushed.
#[test]
fn missing_artifacts() {
    let reg = TestRegistry::distribution();
    reg.push_artifact("app", "v1");
    let baseline = reg.requests().len();
    let sb = signer();
    sign(&sb, &[&format!("{}/app:v2", reg.host)]).fails_with("app:v2: not found in");
    let absent = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    sign(&sb, &[&format!("{}/app@{absent}", reg.host)])
        .fails_with(&format!("app@{absent}: not found in {}", reg.host));
    sign(&sb, &[&format!("{}/nope@{absent}", reg.host)]).fails_with("not found");
    let after: Vec<String> = reg.requests().into_iter().skip(baseline).collect();
    assert!(!after.is_empty(), "the sign attempts reached the registry");
    assert!(
        after
            .iter()
            .all(|r| r.starts_with("HEAD ") || r.starts_with("GET ")),
        "nothing pushed: {after:?}"
    );
}

/// Basic auth with -u/-p, with NOTATION_USERNAME/NOTATION_PASSWORD, and with
/// Docker's config.json; wrong or missing credentials are named clearly.
#[test]
fn htpasswd_credentials_from_each_source() {
    let reg = TestRegistry::distribution_htpasswd("alice", "s3cret");
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let r = format!("{}/app@{digest}", reg.host);
    let sb = signer();
    sign(&sb, &[&r]).fails_with(&format!("{} requires authentication", reg.host));
    sign(&sb, &["-u", "alice", "-p", "wrong", &r])
        .fails_with(&format!("the credentials for {} were rejected", reg.host));
    let run = sign(&sb, &["-d", "-u", "alice", "-p", "s3cret", &r]).ok();
    assert!(
        !run.stderr.contains("s3cret") && !run.stderr.contains("YWxpY2U6czNjcmV0"),
        "secret in debug output"
    );
    let mut env_sb = signer();
    env_sb
        .env
        .push(("NOTATION_USERNAME".into(), "alice".into()));
    env_sb
        .env
        .push(("NOTATION_PASSWORD".into(), "s3cret".into()));
    sign(&env_sb, &[&r]).ok();
    let mut docker_sb = signer();
    docker_sb.docker_config(&format!(
        r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}}"#,
        reg.host
    ));
    sign(&docker_sb, &[&r]).ok();
    assert_eq!(
        index_digests(&reg.tag_index("app", &digest).unwrap()).len(),
        3
    );
}

/// A credential helper (a real executable on PATH) configured as Docker's
/// credsStore, and as notation's per-registry credHelpers.
#[test]
fn credential_helpers() {
    let reg = TestRegistry::distribution_htpasswd("bob", "pw-bob");
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let r = format!("{}/app@{digest}", reg.host);
    let mut sb = signer();
    sb.credential_helper(
        "fake",
        "#!/bin/sh\nread server\necho \"{\\\"ServerURL\\\":\\\"$server\\\",\\\"Username\\\":\\\"bob\\\",\\\"Secret\\\":\\\"pw-bob\\\"}\"\n",
    );
    let docker = sb.docker_config(r#"{"credsStore":"fake"}"#);
    sign(&sb, &[&r]).ok();
    // notation's own credHelpers win over Docker's config.
    std::fs::write(
        docker.join("config.json"),
        r#"{"auths":{"x":{"auth":"eDp5"}}}"#,
    )
    .unwrap();
    std::fs::write(
        sb.config().join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"fake"}}}}"#, reg.host),
    )
    .unwrap();
    sign(&sb, &[&r]).ok();
    assert_eq!(
        index_digests(&reg.tag_index("app", &digest).unwrap()).len(),
        2
    );
}

/// Token auth: basic credentials at the realm, and an identity token (refresh
/// grant) from -p with an empty user name or from Docker's config. One token per
/// registry and scope per process.
#[test]
fn token_auth_and_identity_tokens() {
    let (reg, tokens) = TestRegistry::distribution_token("carol", "pw-carol", "refresh-xyz");
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let r = format!("{}/app@{digest}", reg.host);
    let sb = signer();
    let before = tokens.requests().len();
    sign(&sb, &["-u", "carol", "-p", "pw-carol", &r]).ok();
    let fetched: Vec<_> = tokens
        .requests()
        .into_iter()
        .skip(before)
        .filter(|t| t.status == 200)
        .collect();
    assert_eq!(
        fetched.len(),
        1,
        "one token for the whole signing run: {fetched:?}"
    );
    assert!(
        fetched[0]
            .scopes
            .iter()
            .any(|s| s == "repository:app:pull,push"),
        "{fetched:?}"
    );
    let second = sign(&sb, &["-u", "", "-p", "refresh-xyz", &r]).ok();
    assert!(
        !second.stderr.contains("Warning"),
        "outdated index deleted with a token: {}",
        second.stderr
    );
    let last = tokens.requests().last().cloned().unwrap();
    assert_eq!(
        (last.method.as_str(), last.grant_type.as_deref()),
        ("POST", Some("refresh_token"))
    );
    assert_eq!(last.client_id.as_deref(), Some("notation"));
    let mut docker_sb = signer();
    docker_sb.docker_config(&format!(
        r#"{{"auths":{{"{}":{{"identitytoken":"refresh-xyz"}}}}}}"#,
        reg.host
    ));
    sign(&docker_sb, &[&r]).ok();
    sign(&sb, &["-u", "", "-p", "wrong-token", &r])
        .fails_with(&format!("the credentials for {} were rejected", reg.host));
    assert_eq!(
        index_digests(&reg.tag_index("app", &digest).unwrap()).len(),
        3
    );
}

/// A token that does not grant push: the registry's refusal is reported as denied,
/// with its own message, and nothing is indexed.
#[test]
fn insufficient_scope_is_reported_with_the_registry_message() {
    let (reg, tokens) = TestRegistry::distribution_token("dan", "pw", "rt");
    let (digest, _, _) = reg.push_artifact("app", "v1");
    tokens.restrict_actions(&["pull"]);
    let sb = signer();
    let msg = sign(
        &sb,
        &[
            "-u",
            "dan",
            "-p",
            "pw",
            &format!("{}/app@{digest}", reg.host),
        ],
    )
    .fails_with("was denied");
    assert!(
        msg.contains("UNAUTHORIZED"),
        "registry's own code/message: {msg}"
    );
    assert!(reg.tag_index("app", &digest).is_none());
}

/// HTTPS with a private CA: trusted through SSL_CERT_FILE, refused without it.
#[test]
fn tls_with_ssl_cert_file() {
    let reg = TestRegistry::distribution_tls();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let r = format!("{}/app@{digest}", reg.host);
    let sb = signer();
    let msg = sign(&sb, &[&r]).fails_with(&format!("cannot reach registry {}", reg.host));
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");
    let mut trusted = signer();
    trusted.env.push((
        "SSL_CERT_FILE".into(),
        reg.ca_pem.as_ref().unwrap().display().to_string(),
    ));
    let run = sign(&trusted, &[&r]).ok();
    check_signature(&reg, "app", &digest, &pushed_digest(&run));
}

/// Plain HTTP only when asked: `--insecure-registry`, or config.json
/// `insecureRegistries` (localhost is plain automatically).
#[test]
fn insecure_registry_rules() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let port = reg.host.rsplit_once(':').unwrap().1;
    let by_ip = format!("127.0.0.1:{port}/app@{digest}");
    let sb = signer();
    sign(&sb, &[&by_ip]).fails_with(&format!("cannot reach registry 127.0.0.1:{port}"));
    sign(&sb, &["--insecure-registry", &by_ip]).ok();
    std::fs::write(
        sb.config().join("config.json"),
        format!(r#"{{"insecureRegistries":["127.0.0.1:{port}"]}}"#),
    )
    .unwrap();
    sign(&sb, &[&by_ip]).ok();
}

/// 503 with Retry-After and a dropped connection are retried; the signature lands.
#[test]
fn transient_faults_are_retried() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let proxy = FaultProxy::new(
        &reg,
        vec![
            (
                "HEAD".into(),
                "/manifests/".into(),
                Fault::Status503Once {
                    retry_after: Some(1),
                },
            ),
            (
                "PUT".into(),
                "/manifests/sha256:".into(),
                Fault::DropConnectionOnce,
            ),
        ],
    );
    let sb = signer();
    let run = sign(&sb, &[&format!("{}/app@{digest}", proxy.host)]).ok();
    check_signature(&reg, "app", &digest, &pushed_digest(&run));
    let hits = proxy.hits();
    assert!(
        hits.iter().filter(|h| h.starts_with("HEAD")).count() >= 2,
        "{hits:?}"
    );
}

/// Faults that persist: the run fails with one line and the tag index is never
/// written (it must not point at a manifest that is not there); a missing
/// Location header is a clear protocol error, not a panic.
#[test]
fn persistent_faults_leave_no_index() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = signer();
    let rules = (0..6)
        .map(|_| {
            (
                "PUT".to_owned(),
                "/manifests/sha256:".to_owned(),
                Fault::Status503Once { retry_after: None },
            )
        })
        .collect();
    let proxy = FaultProxy::new(&reg, rules);
    sign(&sb, &[&format!("{}/app@{digest}", proxy.host)]).fails_with("HTTP 503");
    assert!(
        reg.tag_index("app", &digest).is_none(),
        "index written after a failed manifest push"
    );
    let no_location = FaultProxy::new(
        &reg,
        vec![(
            "POST".into(),
            "/blobs/uploads/".into(),
            Fault::StripLocationHeader,
        )],
    );
    sign(&sb, &[&format!("{}/app@{digest}", no_location.host)]).fails_with("no Location header");
    assert!(reg.tag_index("app", &digest).is_none());
}

/// SSL_CERT_DIR works like SSL_CERT_FILE; HTTPS_PROXY is used (a dead proxy makes
/// the live registry unreachable) and NO_PROXY bypasses it. Loopback only.
#[test]
fn ssl_cert_dir_and_proxies() {
    let reg = TestRegistry::distribution_tls();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let r = format!("{}/app@{digest}", reg.host);
    let mut sb = signer();
    let certs = sb.path("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(reg.ca_pem.as_ref().unwrap(), certs.join("ca.pem")).unwrap();
    sb.env
        .push(("SSL_CERT_DIR".into(), certs.display().to_string()));
    sign(&sb, &[&r]).ok();
    sb.env
        .push(("HTTPS_PROXY".into(), "http://127.0.0.1:1".into()));
    sign(&sb, &[&r]).fails_with(&format!("cannot reach registry {}", reg.host));
    sb.env.push(("NO_PROXY".into(), "127.0.0.1".into()));
    sign(&sb, &[&r]).ok();
    assert_eq!(
        index_digests(&reg.tag_index("app", &digest).unwrap()).len(),
        2
    );
}

/// A blob upload that keeps failing: no manifest is pushed and no index written.
#[test]
fn failed_blob_upload_pushes_nothing_else() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let baseline = reg.requests().len();
    let rules = (0..6)
        .map(|_| {
            (
                "POST".to_owned(),
                "/blobs/uploads/".to_owned(),
                Fault::Status503Once { retry_after: None },
            )
        })
        .collect();
    let proxy = FaultProxy::new(&reg, rules);
    let sb = signer();
    sign(&sb, &[&format!("{}/app@{digest}", proxy.host)]).fails_with("HTTP 503");
    let after: Vec<String> = reg.requests().into_iter().skip(baseline).collect();
    assert!(
        after.iter().all(|r| !r.starts_with("PUT ")),
        "something was pushed: {after:?}"
    );
    assert!(reg.tag_index("app", &digest).is_none());
}

/// A tag `sha256-<hex>` that holds something other than an image index is never
/// overwritten or deleted: signing fails with one line and the manifest survives.
#[test]
fn non_index_at_the_referrers_tag_is_left_alone() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let (other, _, _) = reg.push_artifact("app", "other");
    let (_, body) = reg.manifest("app", &other).unwrap();
    let tag = format!("sha256-{}", digest.trim_start_matches("sha256:"));
    reg.put_manifest(
        "app",
        &tag,
        "application/vnd.oci.image.manifest.v1+json",
        &body,
    );
    let sb = signer();
    sign(&sb, &[&format!("{}/app@{digest}", reg.host)]).fails_with("is not an image index");
    assert!(
        reg.manifest("app", &other).is_some(),
        "the other artifact still exists"
    );
    assert!(reg.manifest("app", "other").is_some(), "and keeps its tag");
    assert!(!reg.requests().iter().any(|r| r.starts_with("DELETE ")));
}

/// A signer whose index write fails transiently (503 with Retry-After) does not
/// replay that write later from a stale read: a second signer that finished in the
/// meantime keeps its entry.
#[test]
fn a_delayed_index_write_does_not_drop_another_signature() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let proxy = FaultProxy::new(
        &reg,
        vec![(
            "PUT".into(),
            "/manifests/sha256-".into(),
            Fault::Status503Once {
                retry_after: Some(2),
            },
        )],
    );
    let sb = signer();
    let slow = sb
        .command(&["sign", &format!("{}/app@{digest}", proxy.host)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let fast = sign(&sb, &[&format!("{}/app@{digest}", reg.host)]).ok();
    let slow = slow.wait_with_output().unwrap();
    assert!(
        slow.status.success(),
        "{}",
        String::from_utf8_lossy(&slow.stderr)
    );
    let slow_sig = String::from_utf8_lossy(&slow.stdout)
        .lines()
        .last()
        .unwrap()
        .rsplit_once('@')
        .unwrap()
        .1
        .to_owned();
    let mut listed = index_digests(&reg.tag_index("app", &digest).unwrap());
    listed.sort();
    let mut want = vec![pushed_digest(&fast), slow_sig];
    want.sort();
    assert_eq!(listed, want);
}

/// An upload Location on another origin gets the blob without the registry's
/// credentials: here the real registry then refuses it (401), so signing fails
/// rather than leaking the password to whatever host the Location names.
#[test]
fn credentials_do_not_follow_a_foreign_upload_location() {
    let reg = TestRegistry::distribution_htpasswd("ivy", "pw-ivy");
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let proxy = FaultProxy::new(
        &reg,
        vec![(
            "POST".into(),
            "/blobs/uploads/".into(),
            Fault::KeepUpstreamLocation,
        )],
    );
    let sb = signer();
    let msg = sign(
        &sb,
        &[
            "-u",
            "ivy",
            "-p",
            "pw-ivy",
            &format!("{}/app@{digest}", proxy.host),
        ],
    )
    .fails_with("failed to push the signature");
    assert!(
        msg.contains("401") || msg.contains("rejected") || msg.contains("authentication"),
        "{msg}"
    );
    // Through the registry's own origin the same credentials work.
    sign(
        &sb,
        &[
            "-u",
            "ivy",
            "-p",
            "pw-ivy",
            &format!("{}/app@{digest}", reg.host),
        ],
    )
    .ok();
}
