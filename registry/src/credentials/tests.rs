//! Credential lookup, login storage and logout against real files and real helper
//! executables (shell scripts in a temporary directory found through `helper_path`).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::{Credential, CredentialConfig, CredentialStore, StoredIn};
use crate::error::RegistryError;
use crate::secret::Secret;

/// A sandbox: `docker/` for Docker's config dir, `bin/` for helpers.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("bin")).unwrap();
        Sandbox { dir }
    }

    fn docker_dir(&self) -> PathBuf {
        self.dir.path().join("docker")
    }

    fn docker_file(&self) -> PathBuf {
        self.docker_dir().join("config.json")
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// Writes Docker's config.json.
    fn docker(&self, config: &Value) -> &Sandbox {
        fs::create_dir_all(self.docker_dir()).unwrap();
        fs::write(
            self.docker_file(),
            serde_json::to_vec_pretty(config).unwrap(),
        )
        .unwrap();
        self
    }

    /// Installs `docker-credential-<name>` running `body` under /bin/sh, mode 0755.
    fn helper(&self, name: &str, body: &str) -> &Sandbox {
        let path = self.bin().join(format!("docker-credential-{name}"));
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    /// A file a helper wrote next to itself.
    fn recorded(&self, name: &str) -> String {
        fs::read_to_string(self.bin().join(name)).unwrap()
    }

    fn config(&self) -> CredentialConfig {
        CredentialConfig {
            docker_config_dir: Some(self.docker_dir()),
            notation_creds_store: None,
            notation_cred_helpers: BTreeMap::new(),
            helper_path: Some(self.bin().into_os_string()),
        }
    }

    fn store(&self) -> CredentialStore {
        CredentialStore::new(self.config())
    }

    fn docker_json(&self) -> Value {
        serde_json::from_slice(&fs::read(self.docker_file()).unwrap()).unwrap()
    }
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn basic(username: &str, password: &str) -> Credential {
    Credential::Basic {
        username: username.to_owned(),
        password: Secret::new(password),
    }
}

fn token(t: &str) -> Credential {
    Credential::IdentityToken(Secret::new(t))
}

fn message(e: RegistryError) -> String {
    let m = e.to_string();
    assert!(!m.contains('\n'), "multi-line error: {m:?}");
    m
}

/// A helper answering `get` with a fixed credential, recording what it was asked.
const GET_ALICE: &str = r#"cat > "$(dirname "$0")/get-stdin"
printf '{"ServerURL":"x","Username":"alice","Secret":"from-helper"}'"#;

// ---- Docker config.json auths -------------------------------------------------------

#[test]
fn auths_basic_splits_at_the_first_colon() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"reg.example:5000": {"auth": b64("alice:pa:ss")}}}));
    assert_eq!(
        sb.store().get("reg.example:5000").unwrap(),
        basic("alice", "pa:ss")
    );
    // The port is part of the name.
    assert_eq!(
        sb.store().get("reg.example").unwrap(),
        Credential::Anonymous
    );
}

#[test]
fn auths_keys_are_normalised() {
    for key in [
        "https://Reg.Example/v1/",
        "http://reg.example",
        "REG.EXAMPLE",
        "reg.example/v2/",
    ] {
        let sb = Sandbox::new();
        sb.docker(&json!({"auths": {key: {"auth": b64("bob:pw")}}}));
        assert_eq!(
            sb.store().get("reg.example").unwrap(),
            basic("bob", "pw"),
            "key {key}"
        );
        assert_eq!(
            sb.store().get("reg.example:443").unwrap(),
            Credential::Anonymous
        );
    }
}

#[test]
fn auths_exact_key_is_preferred_over_normalised_ones() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {
        "https://reg.example/v1/": {"auth": b64("old:old")},
        "reg.example": {"auth": b64("new:new")},
    }}));
    assert_eq!(sb.store().get("reg.example").unwrap(), basic("new", "new"));
}

#[test]
fn auths_identity_token() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"reg.example": {"auth": b64("<token>:"), "identitytoken": "refresh-123"}}}));
    assert_eq!(sb.store().get("reg.example").unwrap(), token("refresh-123"));
}

#[test]
fn auths_username_and_password_fields() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"reg.example": {"username": "carol", "password": "pw2"}}}));
    assert_eq!(
        sb.store().get("reg.example").unwrap(),
        basic("carol", "pw2")
    );
}

#[test]
fn docker_hub_aliases() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:pw")}}}));
    for name in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
        assert_eq!(sb.store().get(name).unwrap(), basic("hub", "pw"), "{name}");
    }
}

#[test]
fn malformed_auth_names_file_and_registry_not_the_secret() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"reg.example": {"auth": "%%%not-base64%%%"}}}));
    let err = message(sb.store().get("reg.example").unwrap_err());
    assert_eq!(
        err,
        format!(
            "malformed auth for reg.example in {}: not valid base64",
            sb.docker_file().display()
        )
    );

    sb.docker(&json!({"auths": {"reg.example": {"auth": b64("nocolonsecret")}}}));
    let err = message(sb.store().get("reg.example").unwrap_err());
    assert_eq!(
        err,
        format!(
            "malformed auth for reg.example in {}: expected base64 of 'username:password'",
            sb.docker_file().display()
        )
    );
    assert!(!err.contains("nocolonsecret"));
}

#[test]
fn missing_docker_config_is_anonymous() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.store().get("reg.example").unwrap(),
        Credential::Anonymous
    );
    let none = CredentialStore::new(CredentialConfig::default());
    assert_eq!(none.get("reg.example").unwrap(), Credential::Anonymous);
}

#[test]
fn unparsable_docker_config_is_an_error() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.docker_dir()).unwrap();
    fs::write(
        sb.docker_file(),
        "{\"auths\": {\"reg.example\": {\"auth\": \"c2VjcmV0\"",
    )
    .unwrap();
    let err = message(sb.store().get("reg.example").unwrap_err());
    assert!(
        err.starts_with(&format!(
            "cannot parse {}: EOF while parsing",
            sb.docker_file().display()
        )),
        "{err}"
    );
    assert!(!err.contains("c2VjcmV0"));
}

// ---- precedence ---------------------------------------------------------------------

#[test]
fn notation_cred_helpers_beat_docker_auths() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"reg.example": {"auth": b64("docker:pw")}}}))
        .helper("notn", GET_ALICE);
    let mut config = sb.config();
    config
        .notation_cred_helpers
        .insert("reg.example".into(), "notn".into());
    let store = CredentialStore::new(config);
    assert_eq!(
        store.get("reg.example").unwrap(),
        basic("alice", "from-helper")
    );
    assert_eq!(sb.recorded("get-stdin"), "reg.example");
    // Other registries still come from Docker's file.
    sb.docker(&json!({"auths": {"other.example": {"auth": b64("docker:pw")}}}));
    assert_eq!(store.get("other.example").unwrap(), basic("docker", "pw"));
}

#[test]
fn notation_creds_store_beats_docker_config() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"reg.example": {"auth": b64("docker:pw")}}, "credHelpers": {"reg.example": "missing"}}))
        .helper("notn", GET_ALICE);
    let mut config = sb.config();
    config.notation_creds_store = Some("notn".into());
    assert_eq!(
        CredentialStore::new(config).get("reg.example").unwrap(),
        basic("alice", "from-helper")
    );
}

#[test]
fn docker_cred_helpers_beat_auths_and_creds_store_is_last() {
    let sb = Sandbox::new();
    sb.docker(&json!({
        "auths": {"reg.example": {"auth": b64("docker:pw")}, "plain.example": {"auth": b64("plain:pw")}},
        "credHelpers": {"reg.example": "perreg"},
        "credsStore": "global",
    }))
    .helper("perreg", GET_ALICE)
    .helper("global", r#"printf '{"ServerURL":"x","Username":"glob","Secret":"gpw"}'"#);
    let store = sb.store();
    assert_eq!(
        store.get("reg.example").unwrap(),
        basic("alice", "from-helper")
    );
    assert_eq!(store.get("plain.example").unwrap(), basic("plain", "pw"));
    assert_eq!(store.get("else.example").unwrap(), basic("glob", "gpw"));
}

#[test]
fn empty_auths_entry_falls_through_to_creds_store() {
    let sb = Sandbox::new();
    sb.docker(&json!({"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "desktop"}))
        .helper("desktop", GET_ALICE);
    assert_eq!(
        sb.store().get("docker.io").unwrap(),
        basic("alice", "from-helper")
    );
    assert_eq!(sb.recorded("get-stdin"), "https://index.docker.io/v1/");
}

// ---- helper get ---------------------------------------------------------------------

#[test]
fn helper_get_sends_the_server_and_parses_the_answer() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credHelpers": {"reg.example:5000": "echo"}}))
        .helper(
            "echo",
            r#"echo "$1" > "$(dirname "$0")/args"
url=$(cat)
printf '{"ServerURL":"%s","Username":"u-%s","Secret":"s3cret"}' "$url" "$url""#,
        );
    assert_eq!(
        sb.store().get("reg.example:5000").unwrap(),
        basic("u-reg.example:5000", "s3cret")
    );
    assert_eq!(sb.recorded("args"), "get\n");
}

#[test]
fn helper_token_username_is_an_identity_token() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "tok"}))
        .helper("tok", r#"cat >/dev/null; printf '{"ServerURL":"reg.example","Username":"<token>","Secret":"idt-9"}'"#);
    assert_eq!(sb.store().get("reg.example").unwrap(), token("idt-9"));
}

#[test]
fn helper_credentials_not_found_is_anonymous() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "none"})).helper(
        "none",
        "cat >/dev/null; echo 'credentials not found in native keychain'; exit 1",
    );
    assert_eq!(
        sb.store().get("reg.example").unwrap(),
        Credential::Anonymous
    );
    // Said on stderr counts too.
    sb.helper(
        "none",
        "cat >/dev/null; echo 'Credentials not found' >&2; exit 1",
    );
    assert_eq!(
        sb.store().get("reg.example").unwrap(),
        Credential::Anonymous
    );
}

#[test]
fn missing_helper_names_it_and_its_config() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "nosuch"}));
    assert_eq!(
        message(sb.store().get("reg.example").unwrap_err()),
        format!(
            "credential helper docker-credential-nosuch not found in PATH (configured in {} credsStore)",
            sb.docker_file().display()
        )
    );
    let mut config = sb.config();
    config
        .notation_cred_helpers
        .insert("reg.example".into(), "gone".into());
    assert_eq!(
        message(CredentialStore::new(config).get("reg.example").unwrap_err()),
        "credential helper docker-credential-gone not found in PATH (configured in notation config.json credHelpers)"
    );
}

#[test]
fn non_executable_helper_is_not_found() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "noexec"}))
        .helper("noexec", GET_ALICE);
    let path = sb.bin().join("docker-credential-noexec");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let err = message(sb.store().get("reg.example").unwrap_err());
    assert!(
        err.starts_with("credential helper docker-credential-noexec not found in PATH"),
        "{err}"
    );
}

#[test]
fn helper_failure_reports_status_and_first_stderr_line() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "broken"})).helper(
        "broken",
        "cat >/dev/null; echo 'keychain is locked' >&2; echo 'second line' >&2; exit 3",
    );
    assert_eq!(
        message(sb.store().get("reg.example").unwrap_err()),
        "credential helper docker-credential-broken get failed for reg.example (exit status 3): keychain is locked"
    );
    // Long messages are cut at 200 characters.
    sb.helper("broken", &format!("echo '{}' >&2; exit 1", "x".repeat(300)));
    assert_eq!(
        message(sb.store().get("reg.example").unwrap_err()),
        format!(
            "credential helper docker-credential-broken get failed for reg.example (exit status 1): {}...",
            "x".repeat(200)
        )
    );
}

#[test]
fn helper_invalid_output_is_an_error_without_the_output() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "junk"}))
        .helper("junk", "echo 'Secret: hunter2'");
    let err = message(sb.store().get("reg.example").unwrap_err());
    assert_eq!(
        err,
        "credential helper docker-credential-junk get for reg.example returned output that is not the expected JSON"
    );
}

#[test]
fn hanging_helper_is_killed() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "slow"}))
        .helper("slow", "exec sleep 20");
    let mut store = sb.store();
    store.helper_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = message(store.get("reg.example").unwrap_err());
    assert_eq!(
        err,
        "credential helper docker-credential-slow get for reg.example did not finish within 0.3 s and was stopped"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

// ---- store --------------------------------------------------------------------------

#[test]
fn store_to_file_preserves_other_fields_atomically_with_mode_0600() {
    let sb = Sandbox::new();
    let original = r#"{
  "psFormat": "table {{.ID}}",
  "auths": {
    "other.example": {"auth": "b3RoZXI6cHc="},
    "reg.example": {"auth": "b2xkOm9sZA==", "identitytoken": "stale"}
  },
  "HttpHeaders": {"User-Agent": "x"},
  "currentContext": "default"
}"#;
    fs::create_dir_all(sb.docker_dir()).unwrap();
    fs::write(sb.docker_file(), original).unwrap();
    fs::set_permissions(sb.docker_file(), fs::Permissions::from_mode(0o644)).unwrap();

    let stored = sb
        .store()
        .store("reg.example", &basic("alice", "s3cret"))
        .unwrap();
    assert_eq!(stored, StoredIn::PlainFile(sb.docker_file()));

    let text = fs::read_to_string(sb.docker_file()).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value,
        json!({
            "psFormat": "table {{.ID}}",
            "auths": {
                "other.example": {"auth": "b3RoZXI6cHc="},
                "reg.example": {"auth": "YWxpY2U6czNjcmV0"},
            },
            "HttpHeaders": {"User-Agent": "x"},
            "currentContext": "default",
        })
    );
    assert_eq!(b64("alice:s3cret"), "YWxpY2U6czNjcmV0");
    // Field order kept.
    let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["psFormat", "auths", "HttpHeaders", "currentContext"]);
    let mode = fs::metadata(sb.docker_file()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<String> = fs::read_dir(sb.docker_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["config.json"]);
    // And it reads back.
    assert_eq!(
        sb.store().get("reg.example").unwrap(),
        basic("alice", "s3cret")
    );
}

#[test]
fn store_to_file_creates_the_directory_0700() {
    let sb = Sandbox::new();
    let stored = sb.store().store("reg.example:5000", &token("idt")).unwrap();
    assert_eq!(stored, StoredIn::PlainFile(sb.docker_file()));
    assert_eq!(
        sb.docker_json(),
        json!({"auths": {"reg.example:5000": {"identitytoken": "idt"}}})
    );
    let dir_mode = fs::metadata(sb.docker_dir()).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    let mode = fs::metadata(sb.docker_file()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(sb.store().get("reg.example:5000").unwrap(), token("idt"));
}

#[test]
fn store_docker_hub_uses_the_legacy_key() {
    let sb = Sandbox::new();
    sb.store().store("docker.io", &basic("hub", "pw")).unwrap();
    assert_eq!(
        sb.docker_json(),
        json!({"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:pw")}}})
    );
}

#[test]
fn store_through_a_symlinked_config_keeps_the_link() {
    let sb = Sandbox::new();
    let real = sb.dir.path().join("real-config.json");
    fs::write(&real, r#"{"auths": {}}"#).unwrap();
    fs::create_dir_all(sb.docker_dir()).unwrap();
    std::os::unix::fs::symlink(&real, sb.docker_file()).unwrap();
    sb.store().store("reg.example", &basic("a", "b")).unwrap();
    assert!(
        fs::symlink_metadata(sb.docker_file())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let value: Value = serde_json::from_slice(&fs::read(&real).unwrap()).unwrap();
    assert_eq!(
        value,
        json!({"auths": {"reg.example": {"auth": b64("a:b")}}})
    );
}

#[test]
fn store_anonymous_is_an_error() {
    let sb = Sandbox::new();
    assert_eq!(
        message(
            sb.store()
                .store("reg.example", &Credential::Anonymous)
                .unwrap_err()
        ),
        "no credentials to store for reg.example"
    );
    assert!(!sb.docker_file().exists());
}

/// Records its argument and stdin next to itself.
const RECORDER: &str = r#"d=$(dirname "$0")
echo "$1" > "$d/args"
cat > "$d/stdin""#;

#[test]
fn store_via_helper_sends_the_json() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "rec", "auths": {}}))
        .helper("rec", RECORDER);
    let stored = sb
        .store()
        .store("reg.example", &basic("alice", "s3cret"))
        .unwrap();
    assert_eq!(stored, StoredIn::Helper("rec".into()));
    assert_eq!(sb.recorded("args"), "store\n");
    assert_eq!(
        sb.recorded("stdin"),
        r#"{"ServerURL":"reg.example","Username":"alice","Secret":"s3cret"}"#
    );
    // Docker's file is left alone.
    assert_eq!(sb.docker_json(), json!({"credsStore": "rec", "auths": {}}));

    sb.store().store("docker.io", &token("idt-1")).unwrap();
    assert_eq!(
        sb.recorded("stdin"),
        r#"{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"idt-1"}"#
    );
}

#[test]
fn store_helper_precedence() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "dstore", "credHelpers": {"reg.example": "dhelper"}}))
        .helper("nhelper", RECORDER)
        .helper("nstore", RECORDER)
        .helper("dhelper", RECORDER)
        .helper("dstore", RECORDER);
    let mut config = sb.config();
    config.notation_creds_store = Some("nstore".into());
    config
        .notation_cred_helpers
        .insert("reg.example".into(), "nhelper".into());
    let cred = basic("u", "p");
    assert_eq!(
        CredentialStore::new(config.clone())
            .store("reg.example", &cred)
            .unwrap(),
        StoredIn::Helper("nhelper".into())
    );
    assert_eq!(
        CredentialStore::new(config.clone())
            .store("other.example", &cred)
            .unwrap(),
        StoredIn::Helper("nstore".into())
    );
    config.notation_creds_store = None;
    assert_eq!(
        CredentialStore::new(config.clone())
            .store("other.example", &cred)
            .unwrap(),
        StoredIn::Helper("dstore".into())
    );
    config.notation_cred_helpers.clear();
    assert_eq!(
        CredentialStore::new(config)
            .store("reg.example", &cred)
            .unwrap(),
        StoredIn::Helper("dhelper".into())
    );
}

// ---- erase --------------------------------------------------------------------------

#[test]
fn erase_from_file_removes_every_matching_key() {
    let sb = Sandbox::new();
    sb.docker(&json!({
        "auths": {
            "reg.example": {"auth": b64("a:b")},
            "other.example": {"auth": b64("c:d")},
            "https://reg.example/v1/": {"auth": b64("e:f")},
        },
        "psFormat": "x",
    }));
    sb.store().erase("reg.example").unwrap();
    assert_eq!(
        sb.docker_json(),
        json!({"auths": {"other.example": {"auth": b64("c:d")}}, "psFormat": "x"})
    );
    let mode = fs::metadata(sb.docker_file()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        message(sb.store().erase("reg.example").unwrap_err()),
        "not logged in to reg.example"
    );
}

#[test]
fn erase_when_not_logged_in() {
    let sb = Sandbox::new();
    assert_eq!(
        message(sb.store().erase("reg.example").unwrap_err()),
        "not logged in to reg.example"
    );
    assert!(!sb.docker_dir().exists());
}

#[test]
fn erase_via_helper() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credHelpers": {"reg.example": "rec"}, "auths": {"reg.example": {}}}))
        .helper("rec", RECORDER);
    sb.store().erase("reg.example").unwrap();
    assert_eq!(sb.recorded("args"), "erase\n");
    assert_eq!(sb.recorded("stdin"), "reg.example");

    sb.helper(
        "rec",
        "cat >/dev/null; echo 'credentials not found in native keychain'; exit 1",
    );
    assert_eq!(
        message(sb.store().erase("reg.example").unwrap_err()),
        "not logged in to reg.example"
    );
}

// ---- secrets never reach messages ---------------------------------------------------

#[test]
fn failing_store_helper_echoing_the_secret_is_redacted() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "leaky"}))
        .helper("leaky", r#"echo "cannot save $(cat)" >&2; exit 1"#);
    let secret = "Pa\"ss/w0rd!";
    let err = message(
        sb.store()
            .store("reg.example", &basic("alice", secret))
            .unwrap_err(),
    );
    assert_eq!(
        err,
        r#"credential helper docker-credential-leaky store failed for reg.example (exit status 1): cannot save {"ServerURL":"reg.example","Username":"alice","Secret":"<redacted>"}"#
    );
    assert!(!err.contains("w0rd"));
}

#[test]
fn failing_get_helper_printing_a_secret_is_redacted() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "half"})).helper(
        "half",
        r#"cat >/dev/null; printf '{"ServerURL":"r","Username":"u","Secret":"topsecret-42"}'; exit 2"#,
    );
    let err = message(sb.store().get("reg.example").unwrap_err());
    assert_eq!(
        err,
        r#"credential helper docker-credential-half get failed for reg.example (exit status 2): {"ServerURL":"r","Username":"u","Secret":"<redacted>"}"#
    );
}

#[test]
fn secret_spanning_lines_is_redacted_before_cutting() {
    let sb = Sandbox::new();
    sb.docker(&json!({"credsStore": "leaky"}))
        .helper("leaky", r#"printf 'first %s\n' "$(cat)" >&2; exit 1"#);
    let secret = format!("{}\nline2", "s".repeat(250));
    let err = message(
        sb.store()
            .store("reg.example", &basic("alice", &secret))
            .unwrap_err(),
    );
    assert!(!err.contains("sss"), "{err}");
    assert!(!err.contains("line2"), "{err}");
}

#[test]
fn debug_of_credentials_is_redacted() {
    let c = basic("alice", "s3cret");
    assert_eq!(
        format!("{c:?}"),
        r#"Basic { username: "alice", password: Secret(<redacted>) }"#
    );
}

#[test]
fn empty_registry_is_rejected() {
    let sb = Sandbox::new();
    assert_eq!(
        message(sb.store().get("  ").unwrap_err()),
        "the registry name is empty"
    );
}
