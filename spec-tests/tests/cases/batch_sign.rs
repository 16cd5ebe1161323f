//! `notation sign <reference>...` (issue 7): several references in one call, signed
//! concurrently with one key and one registry client. Each reference gets the lines
//! it would get alone, or its own `Error:` line; the exit code is 1 if any failed,
//! with the others still signed. A plugin key runs get-plugin-metadata and
//! describe-key once per call. And what one signature costs in registry requests,
//! counted by the registry (distribution's access log) or by a proxy in front of it
//! (ferro-oci-server): which requests are sent, not how long they take.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::harness::{ARTIFACT, Run, Sandbox, index_digests, signatures, snapshot};
use crate::registry::{FaultProxy, TestRegistry};

fn signer() -> Sandbox {
    let sb = Sandbox::new();
    sb.test_key("batch");
    sb
}

fn sign(sb: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    sb.run(&all)
}

/// stdout as (signed reference, pushed signature) pairs: every `Successfully
/// signed` line of a registry signature is followed by its `Pushed` line.
fn pairs(stdout: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len() % 2, 0, "{stdout}");
    lines
        .chunks(2)
        .map(|p| {
            let signed = p[0]
                .strip_prefix("Successfully signed ")
                .unwrap_or_else(|| panic!("unexpected line {:?} in {stdout}", p[0]));
            let pushed = p[1]
                .strip_prefix("Pushed the signature to ")
                .unwrap_or_else(|| panic!("unexpected line {:?} in {stdout}", p[1]));
            (signed.to_owned(), pushed.to_owned())
        })
        .collect()
}

fn errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("Error: "))
        .collect()
}

/// Five references on distribution, two of them bad (a tag that does not exist, a
/// reference without tag or digest): the three good ones are signed and each
/// prints its two lines, each bad one gets its own error line naming it, and the
/// call exits 1 after saying how many failed.
#[test]
fn each_reference_gets_its_lines_and_a_failure_exits_1() {
    let reg = TestRegistry::distribution();
    let a = reg.push_artifact("app", "a").0;
    let b = reg.push_artifact("app", "b").0;
    let c = reg.push_artifact("app", "c").0;
    let sb = signer();
    let host = &reg.host;
    let absent = format!("{host}/app:absent");
    let malformed = format!("{host}/app");
    let run = sign(
        &sb,
        &[
            &format!("{host}/app@{a}"),
            &absent,
            &format!("{host}/app@{b}"),
            &malformed,
            &format!("{host}/app:c"),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let mut signed = pairs(&run.stdout);
    signed.sort();
    let mut want: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|d| format!("{host}/app@{d}"))
        .collect();
    want.sort();
    assert_eq!(
        signed.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(),
        want
    );
    for (subject, pushed) in &signed {
        let subject = subject.rsplit_once('@').unwrap().1;
        let sig = pushed.rsplit_once('@').unwrap().1;
        assert!(pushed.starts_with(&format!("{host}/app@sha256:")));
        assert_eq!(
            index_digests(&reg.tag_index("app", subject).expect("tag index")),
            vec![sig.to_owned()],
            "each signature is recorded in its subject's index"
        );
    }
    let errs = errors(&run.stderr);
    assert_eq!(errs.len(), 3, "{}", run.stderr);
    assert!(
        errs.iter()
            .any(|e| e.contains(&absent) && e.contains("not found")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains(&malformed) && e.contains("invalid reference")),
        "{errs:?}"
    );
    assert_eq!(
        errs.last().unwrap(),
        &"2 of 5 references could not be signed (see the errors above); the others were signed"
    );
    assert!(
        run.stderr.contains(
            "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:c)"
        ),
        "the tag warning, per reference: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

/// Layout references too: three references to one layout, all signed concurrently
/// (`--max-concurrency 3`), and every signature is listed in `index.json`; a bad
/// one among good ones fails alone.
#[test]
fn a_batch_in_an_oci_layout() {
    let sb = signer();
    let layout = sb.layout("e2e");
    let by_digest = format!("{layout}@{ARTIFACT}");
    let by_tag = format!("{layout}:v1");
    let run = sign(
        &sb,
        &[
            "--oci-layout",
            "--max-concurrency",
            "3",
            &by_digest,
            &by_tag,
            &by_digest,
        ],
    )
    .ok();
    assert_eq!(
        run.stdout,
        format!("Successfully signed {by_digest}\n").repeat(3)
    );
    assert_eq!(signatures(&layout, ARTIFACT).len(), 3);
    let missing = format!("{layout}:nope");
    let run = sign(&sb, &["--oci-layout", &missing, &by_digest]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, format!("Successfully signed {by_digest}\n"));
    let errs = errors(&run.stderr);
    assert_eq!(errs.len(), 2, "{}", run.stderr);
    assert!(
        errs[0].contains(&missing) && errs[0].contains("not found"),
        "{errs:?}"
    );
    assert_eq!(signatures(&layout, ARTIFACT).len(), 4);
}

/// The record file's commands, counted.
fn plugin_commands(path: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        *out.entry(v["command"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    out
}

/// A plugin key signs a batch with one get-plugin-metadata and one describe-key
/// for the whole call, and one generate-signature per reference. When describe-key
/// fails, it is still run once, every reference reports the failure, and nothing
/// is stored.
#[test]
fn plugin_metadata_and_describe_key_run_once_per_call() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "k"]).ok();
    sb.install_plugin("test-plugin");
    let id = sb.key_prefix("k");
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let record = sb.path("record.jsonl");
    let rec = format!("record={}", record.display());
    let mut args = vec![
        "--oci-layout",
        "--plugin",
        "test-plugin",
        "--id",
        &id,
        "--plugin-config",
        &rec,
    ];
    args.extend([target.as_str(); 4]);
    let run = sign(&sb, &args).ok();
    assert_eq!(run.stdout.lines().count(), 4);
    assert_eq!(signatures(&layout, ARTIFACT).len(), 4);
    assert_eq!(
        plugin_commands(&record),
        BTreeMap::from([
            ("get-plugin-metadata".to_owned(), 1),
            ("describe-key".to_owned(), 1),
            ("generate-signature".to_owned(), 4),
        ])
    );

    std::fs::remove_file(&record).unwrap();
    let before = snapshot(&layout);
    let mut args = vec![
        "--oci-layout",
        "--plugin",
        "test-plugin",
        "--id",
        &id,
        "--plugin-config",
        &rec,
        "--plugin-config",
        "fault=error-json",
        "--plugin-config",
        "fault_command=describe-key",
    ];
    args.extend([target.as_str(); 3]);
    let run = sign(&sb, &args);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let errs = errors(&run.stderr);
    assert_eq!(errs.len(), 4, "{}", run.stderr);
    for e in &errs[..3] {
        assert!(
            e.contains("describe-key failed: ACCESS_DENIED: the key vault refused access"),
            "{e}"
        );
    }
    assert_eq!(
        plugin_commands(&record),
        BTreeMap::from([
            ("get-plugin-metadata".to_owned(), 1),
            ("describe-key".to_owned(), 1),
        ])
    );
    assert_eq!(snapshot(&layout), before, "nothing stored");
}

/// `--max-concurrency` takes a whole number from 1 to 256; anything else is refused
/// before anything is signed.
#[test]
fn max_concurrency_is_validated() {
    let sb = signer();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let before = snapshot(&layout);
    for bad in ["0", "257", "four", "2.5", ""] {
        sign(
            &sb,
            &["--oci-layout", "--max-concurrency", bad, &target, &target],
        )
        .fails_with(&format!(
            "--max-concurrency must be a whole number from 1 to 256, not {bad:?}"
        ));
    }
    assert_eq!(snapshot(&layout), before);
    sign(
        &sb,
        &["--oci-layout", "--max-concurrency", "1", &target, &target],
    )
    .ok();
    sign(&sb, &["--oci-layout", "--max-concurrency=256", &target]).ok();
    assert_eq!(signatures(&layout, ARTIFACT).len(), 3);
}

/// A batch against a registry with token auth asks the token service once, even
/// with four references signed at once.
#[test]
fn a_batch_fetches_one_token() {
    let (reg, tokens) = TestRegistry::distribution_token("tim", "pw-tim", "rt");
    let refs: Vec<String> = (0..4)
        .map(|i| {
            let d = reg.push_artifact("app", &format!("t{i}")).0;
            format!("{}/app@{d}", reg.host)
        })
        .collect();
    let sb = signer();
    let before = tokens.requests().len();
    let mut args = vec!["-u", "tim", "-p", "pw-tim"];
    args.extend(refs.iter().map(String::as_str));
    let run = sign(&sb, &args).ok();
    assert_eq!(pairs(&run.stdout).len(), 4);
    let fetched: Vec<_> = tokens
        .requests()
        .into_iter()
        .skip(before)
        .filter(|t| t.status == 200)
        .collect();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
}

/// `METHOD /v2/<repo>/…` as what it is: `HEAD manifest`, `POST blob`, `PUT index`, …
fn kind(request: &str) -> String {
    let (method, path) = request.split_once(' ').unwrap();
    let what = if path.contains("/blobs/") {
        "blob"
    } else if path.contains("/referrers/") {
        "referrers"
    } else if path.contains("/manifests/sha256-") {
        "index"
    } else if path.contains("/manifests/") {
        "manifest"
    } else {
        path
    };
    format!("{method} {what}")
}

fn counted(requests: &[String]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in requests {
        *out.entry(kind(r)).or_default() += 1;
    }
    out
}

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

/// Runs `attempt` up to three times until it returns true. A signer that was
/// descheduled between reading and writing the referrers index reads it again (a
/// legitimate extra GET, see `referrers::SEND_DEADLINE`); on a busy test machine
/// that can happen to any one run, not to three in a row.
fn within_three_tries(mut attempt: impl FnMut() -> bool) {
    for _ in 0..3 {
        if attempt() {
            return;
        }
    }
    panic!("three runs in a row sent other requests than expected");
}

/// Registry requests per signature on distribution 2.8 (tag schema), counted in its
/// access log, after the first signature in the repository: HEAD; POST + PUT of the
/// envelope (distribution has no single-request upload); PUT of the manifest; GET +
/// PUT of the index; one GET to confirm the index write after a pause (the race
/// safety of issue 3). The Referrers API is probed by the first signature only: its
/// answer (none) is kept in `{NOTATION_CACHE}` for later processes. No DELETE when
/// the subject had no index yet; a second signature of a subject also deletes the
/// outdated index.
#[test]
fn requests_per_signature_on_distribution() {
    let reg = TestRegistry::distribution();
    let digests: Vec<String> = (0..20)
        .map(|i| reg.push_artifact("app", &format!("v{i}")).0)
        .collect();
    let mut unsigned = digests.iter().map(|d| format!("{}/app@{d}", reg.host));
    let sb = signer();
    // The first signature in the repository also uploads the `{}` config blob, and
    // probes the Referrers API.
    let before = reg.requests().len();
    sign(&sb, &[&unsigned.next().unwrap()]).ok();
    assert_eq!(
        counted(&reg.requests()[before..]).get("GET referrers"),
        Some(&1),
        "the first signature probes the Referrers API"
    );

    let per_signature = [
        ("HEAD manifest", 1),
        ("POST blob", 1),
        ("PUT blob", 1),
        ("PUT manifest", 1),
        ("GET index", 2),
        ("PUT index", 1),
    ];
    within_three_tries(|| {
        let before = reg.requests().len();
        sign(&sb, &[&unsigned.next().unwrap()]).ok();
        let sent = counted(&reg.requests()[before..]);
        let want = expect(&per_signature);
        sent == want || {
            eprintln!("one process: {sent:?}");
            false
        }
    });
    within_three_tries(|| {
        let batch: Vec<String> = unsigned.by_ref().take(4).collect();
        let before = reg.requests().len();
        let args: Vec<&str> = batch.iter().map(String::as_str).collect();
        sign(&sb, &args).ok();
        let sent = counted(&reg.requests()[before..]);
        let want: BTreeMap<String, usize> = per_signature
            .iter()
            .map(|(k, n)| ((*k).to_owned(), n * 4))
            .collect();
        sent == want || {
            eprintln!("batch of 4: {sent:?}");
            false
        }
    });
    // 7 per signature, one process per reference or in a batch, the confirming
    // read included (the floor of 6 leaves it out; issue 3 requires it).
    within_three_tries(|| {
        let again = digests[1].clone();
        let before = reg.requests().len();
        sign(&sb, &[&format!("{}/app@{again}", reg.host)]).ok();
        let sent = counted(&reg.requests()[before..]);
        let mut want = expect(&per_signature);
        want.insert("DELETE manifest".into(), 1);
        sent == want || {
            eprintln!("second signature: {sent:?}");
            false
        }
    });
}

/// Registry requests per signature on ferro-oci-server (Referrers API), counted by
/// a proxy in front of it: HEAD, one single-request (monolithic) upload of the
/// envelope, and the manifest PUT, which the registry answers with `OCI-Subject`:
/// 3, one process per reference or in a batch. No probe, no index.
#[test]
fn requests_per_signature_on_ferro() {
    let reg = TestRegistry::ferro();
    let digests: Vec<String> = (0..6)
        .map(|i| reg.push_artifact("app", &format!("v{i}")).0)
        .collect();
    let proxy = FaultProxy::new(&reg, Vec::new());
    let refs: Vec<String> = digests
        .iter()
        .map(|d| format!("{}/app@{d}", proxy.host))
        .collect();
    let sb = signer();
    sign(&sb, &[&refs[0]]).ok();
    let before = proxy.hits().len();
    sign(&sb, &[&refs[1]]).ok();
    let sent = proxy.hits()[before..].to_vec();
    assert_eq!(
        counted(&sent),
        expect(&[("HEAD manifest", 1), ("POST blob", 1), ("PUT manifest", 1)]),
        "{sent:?}"
    );
    assert!(
        sent[1].contains("?digest=sha256%3A") || sent[1].contains("?digest=sha256:"),
        "a monolithic upload: {sent:?}"
    );
    let before = proxy.hits().len();
    let run = sign(&sb, &[&refs[2], &refs[3], &refs[4], &refs[5]]).ok();
    assert_eq!(pairs(&run.stdout).len(), 4);
    let sent = proxy.hits()[before..].to_vec();
    assert_eq!(
        counted(&sent),
        expect(&[("HEAD manifest", 4), ("POST blob", 4), ("PUT manifest", 4)]),
        "{sent:?}"
    );
    for d in &digests[1..] {
        assert_eq!(
            reg.referrers_api("app", d).map(|i| index_digests(&i).len()),
            Some(1),
            "signature listed by the Referrers API"
        );
    }
}
