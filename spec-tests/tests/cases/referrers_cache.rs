//! What one process remembers for the next about registries without the Referrers
//! API (issue 7: "after the first signature in a repository", one process per
//! reference should not probe before every signature). The entry lives in
//! `{NOTATION_CACHE}/referrers-api/` (notary-spec.md §4.2), says only "no Referrers
//! API", holds for a day, and never overrides a push answered with `OCI-Subject`.
//! The cache never makes a signature fail.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::harness::Sandbox;
use crate::registry::TestRegistry;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The entry for `host` in the sandbox's default cache (`$HOME/.cache/notation`).
fn entry_path(sb: &Sandbox, host: &str) -> PathBuf {
    sb.path("home/.cache/notation/referrers-api")
        .join(format!("{}.json", host.replace(':', "%3A")))
}

fn plant(sb: &Sandbox, host: &str, body: &str) -> PathBuf {
    let path = entry_path(sb, host);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, body).unwrap();
    path
}

fn entry(host: &str, checked_at: i64) -> String {
    format!(r#"{{"registry":"{host}","referrersApi":false,"checkedAt":{checked_at}}}"#)
}

fn checked_at(path: &PathBuf) -> i64 {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(v["referrersApi"], false);
    v["checkedAt"].as_i64().unwrap()
}

/// `GET /v2/<repo>/referrers/...` requests in a `-d` trace.
fn probes(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains("HTTP GET") && l.contains("/referrers/"))
        .count()
}

/// The first signature probes and remembers (a private file in a private
/// directory); the next process does not probe, and still keeps the tag index.
#[test]
fn a_probe_is_remembered_for_the_next_process() {
    let reg = TestRegistry::distribution();
    let (a, _, _) = reg.push_artifact("app", "a");
    let (b, _, _) = reg.push_artifact("app", "b");
    let sb = Sandbox::new();
    sb.test_key("cache");
    let first = sb
        .run(&["sign", "-d", &format!("{}/app@{a}", reg.host)])
        .ok();
    assert_eq!(probes(&first.stderr), 1, "{}", first.stderr);
    let path = entry_path(&sb, &reg.host);
    assert!((now() - checked_at(&path)).abs() < 60);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let dir = path.parent().unwrap();
    assert_eq!(
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let second = sb
        .run(&["sign", "-d", &format!("{}/app@{b}", reg.host)])
        .ok();
    assert_eq!(probes(&second.stderr), 0, "{}", second.stderr);
    assert!(
        second.stderr.contains("not probing it again"),
        "{}",
        second.stderr
    );
    let index = reg.tag_index("app", &b).expect("tag index");
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
}

/// An entry older than a day, or one that is not an entry, is probed again and
/// rewritten; signing goes on as if there were no cache.
#[test]
fn stale_and_malformed_entries_are_probed_again() {
    let reg = TestRegistry::distribution();
    let sb = Sandbox::new();
    sb.test_key("cache");
    let stale = now() - 2 * 24 * 60 * 60;
    for (tag, body) in [
        ("old", entry(&reg.host, stale)),
        ("torn", "{\"registry\":".to_owned()),
        ("future", entry(&reg.host, now() + 3600)),
        ("other", entry("elsewhere:1", now())),
    ] {
        let (digest, _, _) = reg.push_artifact("app", tag);
        let path = plant(&sb, &reg.host, &body);
        let run = sb
            .run(&["sign", "-d", &format!("{}/app@{digest}", reg.host)])
            .ok();
        assert_eq!(probes(&run.stderr), 1, "{tag}: {}", run.stderr);
        assert!((now() - checked_at(&path)).abs() < 60, "{tag}: rewritten");
        assert!(reg.tag_index("app", &digest).is_some(), "{tag}");
    }
    // A symlinked entry is not followed: probed again, and replaced by a file.
    let (digest, _, _) = reg.push_artifact("app", "linked");
    let path = entry_path(&sb, &reg.host);
    let target = sb.path("planted.json");
    let planted = entry(&reg.host, now());
    std::fs::write(&target, &planted).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let run = sb
        .run(&["sign", "-d", &format!("{}/app@{digest}", reg.host)])
        .ok();
    assert_eq!(probes(&run.stderr), 1, "{}", run.stderr);
    assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        planted,
        "the link's target is untouched"
    );
}

/// A batch over two registries, one remembered and one not, probes only the other,
/// once, and remembers it too.
#[test]
fn a_batch_probes_only_registries_it_does_not_know() {
    let known = TestRegistry::distribution();
    let unknown = TestRegistry::distribution();
    let sb = Sandbox::new();
    sb.test_key("cache");
    plant(&sb, &known.host, &entry(&known.host, now()));
    let mut refs = Vec::new();
    for i in 0..3 {
        for reg in [&known, &unknown] {
            let (digest, _, _) = reg.push_artifact("app", &format!("v{i}"));
            refs.push(format!("{}/app@{digest}", reg.host));
        }
    }
    let mut args = vec!["sign", "-d"];
    args.extend(refs.iter().map(String::as_str));
    let run = sb.run(&args).ok();
    let probed: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("HTTP GET") && l.contains("/referrers/"))
        .collect();
    assert_eq!(probed.len(), 1, "{}", run.stderr);
    assert!(probed[0].contains(&unknown.host), "{probed:?}");
    assert!((now() - checked_at(&entry_path(&sb, &unknown.host))).abs() < 60);
    for r in &refs {
        let (host, digest) = r.split_once("/app@").unwrap();
        let reg = if host == known.host { &known } else { &unknown };
        assert!(reg.tag_index("app", digest).is_some(), "{r}");
    }
}

/// A registry that answers the push with `OCI-Subject` has the Referrers API,
/// whatever the cache says: no tag index is written, and the entry is dropped.
#[test]
fn oci_subject_overrides_a_cached_absence() {
    let reg = TestRegistry::ferro();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = Sandbox::new();
    sb.test_key("cache");
    let path = plant(&sb, &reg.host, &entry(&reg.host, now()));
    let run = sb
        .run(&["sign", "-d", &format!("{}/app@{digest}", reg.host)])
        .ok();
    assert!(
        run.stderr.contains("not probing it again"),
        "the entry was read: {}",
        run.stderr
    );
    assert!(!path.exists(), "the contradicted entry is removed");
    let listed = reg.referrers_api("app", &digest).expect("Referrers API");
    assert_eq!(listed["manifests"].as_array().unwrap().len(), 1);
    assert!(reg.tag_index("app", &digest).is_none(), "no tag index");
}

/// `NOTATION_CACHE` moves the cache; a cache that cannot be written (here a file
/// where the directory should be) costs a probe per process, never a signature.
#[test]
fn notation_cache_is_honoured_and_never_fails_signing() {
    let reg = TestRegistry::distribution();
    let mut sb = Sandbox::new();
    sb.test_key("cache");
    let moved = sb.path("elsewhere");
    sb.env
        .push(("NOTATION_CACHE".into(), moved.display().to_string()));
    let (a, _, _) = reg.push_artifact("app", "a");
    sb.run(&["sign", &format!("{}/app@{a}", reg.host)]).ok();
    assert!(
        moved
            .join("referrers-api")
            .join(format!("{}.json", reg.host.replace(':', "%3A")))
            .is_file()
    );
    assert!(!entry_path(&sb, &reg.host).exists());

    let blocked = sb.path("blocked");
    std::fs::write(&blocked, "not a directory").unwrap();
    sb.env.retain(|(k, _)| k != "NOTATION_CACHE");
    sb.env
        .push(("NOTATION_CACHE".into(), blocked.display().to_string()));
    for tag in ["b", "c"] {
        let (digest, _, _) = reg.push_artifact("app", tag);
        let run = sb
            .run(&["sign", "-d", &format!("{}/app@{digest}", reg.host)])
            .ok();
        assert_eq!(probes(&run.stderr), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("cannot update the cache"),
            "{}",
            run.stderr
        );
        assert!(reg.tag_index("app", &digest).is_some());
    }
    assert_eq!(
        std::fs::read_to_string(&blocked).unwrap(),
        "not a directory"
    );
}
