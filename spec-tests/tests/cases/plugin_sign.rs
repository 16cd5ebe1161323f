//! `notation sign` with signing plugins (notary-spec.md §1: plugin contract; §1.2
//! process rules; §1.9/§1.10 RAW and ENVELOPE signing; §1.13 host checks).
//!
//! The plugins are the workspace's `notation-test-plugin` (switched by
//! `--plugin-config`: capabilities, annotations, faults, a record of every
//! invocation) and `notation-local-key`. Both use the key of `cert generate-test
//! <name>` through the key id `<config>/localkeys/<name>`.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use notation_core::SignatureAlgorithm;
use notation_core::payload::Payload;
use serde_json::{Value, json};

use crate::harness::{ARTIFACT, Sandbox, processes_of, signatures, snapshot};
use crate::registry::TestRegistry;

const PLUGIN: &str = "test-plugin";
const PAYLOAD_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

/// A sandbox with the test plugin installed and a generated key `k`; returns the key
/// id (path prefix) of that key.
fn plugin_sandbox() -> (Sandbox, String) {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "k"]).ok();
    sb.install_plugin(PLUGIN);
    let id = sb.key_prefix("k");
    (sb, id)
}

/// `sign --plugin test-plugin --id <id> [--plugin-config c]... <extra>... <target>`.
fn plugin_sign_args<'a>(id: &'a str, config: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["sign", "--plugin", PLUGIN, "--id", id];
    for c in config {
        args.extend(["--plugin-config", c]);
    }
    args.extend_from_slice(extra);
    args
}

/// The record file's lines (one per plugin invocation).
fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("record line is JSON"))
        .collect()
}

fn commands(recs: &[Value]) -> Vec<&str> {
    recs.iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect()
}

fn the_record<'a>(recs: &'a [Value], command: &str) -> &'a Value {
    let found: Vec<&Value> = recs.iter().filter(|r| r["command"] == command).collect();
    assert_eq!(found.len(), 1, "exactly one {command} process: {recs:#?}");
    found[0]
}

fn leaf_of(sb: &Sandbox, name: &str) -> notation_core::cert::Certificate {
    let pem = std::fs::read(sb.config().join(format!("localkeys/{name}.crt"))).unwrap();
    notation_core::cert::Certificate::parse_pem_or_der(&pem)
        .unwrap()
        .remove(0)
}

/// `(comm, state, ppid)` of a process, from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(String, char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let mut rest = stat[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((stat[open + 1..close].to_owned(), state, ppid))
}

/// Orphaned zombies of the test plugin (`comm` is cut to 15 bytes): zombies whose
/// parent is not a running `notation` (which reaps its plugins itself), seen in two
/// samples 300 ms apart. Another test's run that is about to reap does not count.
fn orphaned_plugin_zombies() -> Vec<u32> {
    fn sample() -> Vec<u32> {
        let pids = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok());
        pids.filter(|&pid| {
            matches!(proc_stat(pid), Some((comm, 'Z', ppid))
                if comm == "notation-test-p"
                    && proc_stat(ppid).is_none_or(|(parent, _, _)| parent != "notation"))
        })
        .collect()
    }
    let first = sample();
    if first.is_empty() {
        return first;
    }
    std::thread::sleep(Duration::from_millis(300));
    let second = sample();
    first.into_iter().filter(|p| second.contains(p)).collect()
}

/// No process of this sandbox's plugin is left (a killed plugin is killed with
/// everything it started and reaped: §1.2).
#[track_caller]
fn assert_no_plugin_process(sb: &Sandbox, what: &str) {
    let left = processes_of(&sb.plugin_path(PLUGIN));
    assert!(
        left.is_empty(),
        "{what}: plugin processes left behind: {left:?}"
    );
    let zombies = orphaned_plugin_zombies();
    assert!(
        zombies.is_empty(),
        "{what}: zombie plugin processes: {zombies:?}"
    );
}

/// A RAW plugin signs an OCI layout in JWS and COSE: the envelopes verify, the leaf
/// is the generated certificate, and the signing agent names notation and the plugin.
#[test]
fn plugin_raw_signs_a_layout_in_jws_and_cose() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    for format in ["jws", "cose"] {
        let run = sb
            .run(&plugin_sign_args(
                &id,
                &[],
                &["--signature-format", format, "--oci-layout", &target],
            ))
            .ok();
        assert_eq!(run.stdout, format!("Successfully signed {target}\n"));
    }
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 2);
    let mut formats: Vec<_> = sigs.iter().map(|s| s.format.as_str()).collect();
    formats.sort();
    assert_eq!(formats, ["cose", "jws"]);
    let leaf = leaf_of(&sb, "k");
    for s in &sigs {
        let info = &s.content.signer_info;
        assert_eq!(info.certificate_chain, vec![leaf.clone()]);
        assert_eq!(info.algorithm, SignatureAlgorithm::RsaPssSha256);
        assert_eq!(
            info.signing_agent.as_deref(),
            Some("notation-rs/0.1.0 test-plugin/1.0.0"),
            "{} signing agent",
            s.format.as_str()
        );
        let p = Payload::parse(&s.content.payload).unwrap();
        assert_eq!(p.target_artifact.digest.as_str(), ARTIFACT);
        assert_eq!(
            s.manifest["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"],
            format!("[\"{}\"]", leaf.sha256_fingerprint())
        );
    }
}

/// The reference plugin `local-key` signs too, with its own name and version in the
/// signing agent.
#[test]
fn plugin_local_key_signs_a_layout() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "lk"]).ok();
    sb.install_plugin("local-key");
    let layout = sb.layout("e2e");
    let id = sb.key_prefix("lk");
    sb.run(&[
        "sign",
        "--plugin",
        "local-key",
        "--id",
        &id,
        "--oci-layout",
        &format!("{layout}@{ARTIFACT}"),
    ])
    .ok();
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 1);
    assert_eq!(
        sigs[0].content.signer_info.certificate_chain,
        vec![leaf_of(&sb, "lk")]
    );
    assert_eq!(
        sigs[0].content.signer_info.signing_agent.as_deref(),
        Some("notation-rs/0.1.0 local-key/0.1.0")
    );
}

/// An ENVELOPE plugin: the envelope it made verifies; its annotations are on the
/// signature manifest and the index.json entry, next to notation's own.
#[test]
fn plugin_envelope_signs_with_its_annotations() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    for format in ["jws", "cose"] {
        sb.run(&plugin_sign_args(
            &id,
            &["capabilities=ENVELOPE", "annotations=com.example.a=1"],
            &["--signature-format", format, "--oci-layout", &target],
        ))
        .ok();
    }
    let sigs = signatures(&layout, ARTIFACT);
    assert_eq!(sigs.len(), 2);
    let leaf = leaf_of(&sb, "k");
    for s in &sigs {
        let what = s.format.as_str();
        assert_eq!(s.content.signer_info.certificate_chain, vec![leaf.clone()]);
        // The plugin made the envelope, so the agent is the plugin's.
        assert_eq!(
            s.content.signer_info.signing_agent.as_deref(),
            Some("test-plugin/1.0.0"),
            "{what}"
        );
        let a = &s.manifest["annotations"];
        assert_eq!(a["com.example.a"], "1", "{what} manifest: {a}");
        assert_eq!(
            a["io.cncf.notary.x509chain.thumbprint#S256"],
            format!("[\"{}\"]", leaf.sha256_fingerprint()),
            "{what}"
        );
        let created = a["org.opencontainers.image.created"].as_str().unwrap();
        assert_eq!(
            notation_core::timefmt::parse_rfc3339(created),
            s.content.signer_info.signing_time,
            "{what}"
        );
        assert_eq!(s.index_entry["annotations"], *a, "{what} index entry");
        assert_eq!(s.index_entry["annotations"]["com.example.a"], "1");
    }
}

/// A plugin offering RAW and ENVELOPE signs with RAW, as notation does.
#[test]
fn plugin_raw_is_preferred_over_envelope() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let rec = sb.path("record.jsonl");
    let rec_cfg = format!("record={}", rec.display());
    sb.run(&plugin_sign_args(
        &id,
        &["capabilities=RAW,ENVELOPE", &rec_cfg],
        &["--oci-layout", &format!("{layout}@{ARTIFACT}")],
    ))
    .ok();
    let recs = records(&rec);
    let cmds = commands(&recs);
    assert!(cmds.contains(&"generate-signature"), "{cmds:?}");
    assert!(!cmds.contains(&"generate-envelope"), "{cmds:?}");
    assert_eq!(
        signatures(&layout, ARTIFACT)[0]
            .content
            .signer_info
            .signing_agent
            .as_deref(),
        Some("notation-rs/0.1.0 test-plugin/1.0.0")
    );
}

/// A stored plugin key: its pluginConfig is sent, and `--plugin-config` on the
/// command line wins over it key by key.
#[test]
fn plugin_stored_key_config_and_command_line_override() {
    let (sb, id) = plugin_sandbox();
    let rec = sb.path("record.jsonl");
    let rec_cfg = format!("record={}", rec.display());
    sb.run(&[
        "key",
        "add",
        "--plugin",
        PLUGIN,
        "--id",
        &id,
        "--plugin-config",
        "capabilities=ENVELOPE",
        "--plugin-config",
        &rec_cfg,
        "kms",
    ])
    .ok();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    // The command line wins: RAW.
    sb.run(&[
        "sign",
        "--key",
        "kms",
        "--plugin-config",
        "capabilities=RAW",
        "--oci-layout",
        &target,
    ])
    .ok();
    let recs = records(&rec);
    assert_eq!(
        commands(&recs),
        ["get-plugin-metadata", "describe-key", "generate-signature"]
    );
    assert_eq!(
        the_record(&recs, "generate-signature")["stdin"]["pluginConfig"],
        json!({"capabilities": "RAW", "record": rec.display().to_string()}),
        "merged config: the stored record path kept, capabilities overridden"
    );
    // Without the override the stored configuration applies: ENVELOPE.
    std::fs::remove_file(&rec).unwrap();
    sb.run(&["sign", "--key", "kms", "--oci-layout", &target])
        .ok();
    let recs = records(&rec);
    assert_eq!(
        commands(&recs),
        ["get-plugin-metadata", "generate-envelope"]
    );
    assert_eq!(
        the_record(&recs, "generate-envelope")["stdin"]["pluginConfig"],
        json!({"capabilities": "ENVELOPE", "record": rec.display().to_string()})
    );
    let agents: Vec<String> = signatures(&layout, ARTIFACT)
        .iter()
        .map(|s| s.content.signer_info.signing_agent.clone().unwrap())
        .collect();
    assert_eq!(agents.len(), 2);
    assert!(agents.contains(&"notation-rs/0.1.0 test-plugin/1.0.0".to_owned()));
    assert!(agents.contains(&"test-plugin/1.0.0".to_owned()));
}

/// The exchange (§1.2, §1.9, §1.10): argv is `[path, command]`, one process per
/// command in the contract's order, requests carry the contract version, key id, key
/// spec and hash, the plugin config as given, and the payload to sign: the JWS
/// signing input for RAW, the Notary payload for ENVELOPE (with the expiry only when
/// `-e` is given).
#[test]
fn plugin_protocol_exchange_is_as_specified() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let exe = sb.plugin_path(PLUGIN).display().to_string();
    let check_argv = |recs: &[Value]| {
        for r in recs {
            assert_eq!(r["argv"], json!([exe, r["command"]]), "argv of {r}");
        }
    };

    // RAW, JWS.
    let rec = sb.path("raw.jsonl");
    let rec_cfg = format!("record={}", rec.display());
    let config = json!({"record": rec.display().to_string(), "color": "blue"});
    sb.run(&plugin_sign_args(
        &id,
        &[&rec_cfg, "color=blue"],
        &["--oci-layout", &target],
    ))
    .ok();
    let recs = records(&rec);
    check_argv(&recs);
    assert_eq!(
        commands(&recs),
        ["get-plugin-metadata", "describe-key", "generate-signature"]
    );
    assert_eq!(
        the_record(&recs, "get-plugin-metadata")["stdin"],
        json!({"pluginConfig": config})
    );
    assert_eq!(
        the_record(&recs, "describe-key")["stdin"],
        json!({"contractVersion": "1.0", "keyId": id, "pluginConfig": config})
    );
    let gs = &the_record(&recs, "generate-signature")["stdin"];
    assert_eq!(gs["contractVersion"], "1.0");
    assert_eq!(gs["keyId"], id.as_str());
    assert_eq!(gs["keySpec"], "RSA-2048");
    assert_eq!(gs["hashAlgorithm"], "SHA-256");
    assert_eq!(gs["pluginConfig"], config);
    let signing_input = STANDARD.decode(gs["payload"].as_str().unwrap()).unwrap();
    let signing_input = String::from_utf8(signing_input).expect("JWS signing input is text");
    let sigs = signatures(&layout, ARTIFACT);
    let jws: Value = serde_json::from_slice(&sigs[0].envelope).unwrap();
    assert_eq!(
        signing_input,
        format!(
            "{}.{}",
            jws["protected"].as_str().unwrap(),
            jws["payload"].as_str().unwrap()
        ),
        "generate-signature payload is BASE64URL(protected) '.' BASE64URL(payload)"
    );
    let (_, body) = signing_input.split_once('.').unwrap();
    let p = Payload::parse(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
    assert_eq!(p.target_artifact.digest.as_str(), ARTIFACT);

    // ENVELOPE, COSE, without and with -e.
    for (expiry, want) in [(None, None), (Some("2h"), Some(7200))] {
        let rec = sb.path(&format!("env-{}.jsonl", expiry.unwrap_or("none")));
        let rec_cfg = format!("record={}", rec.display());
        let mut extra = vec!["--signature-format", "cose", "--oci-layout", &target];
        if let Some(e) = expiry {
            extra.extend(["-e", e]);
        }
        sb.run(&plugin_sign_args(
            &id,
            &["capabilities=ENVELOPE", &rec_cfg],
            &extra,
        ))
        .ok();
        let recs = records(&rec);
        check_argv(&recs);
        assert_eq!(
            commands(&recs),
            ["get-plugin-metadata", "generate-envelope"],
            "ENVELOPE signing needs no describe-key"
        );
        let ge = &the_record(&recs, "generate-envelope")["stdin"];
        assert_eq!(ge["contractVersion"], "1.0");
        assert_eq!(ge["keyId"], id.as_str());
        assert_eq!(ge["payloadType"], PAYLOAD_TYPE);
        assert_eq!(ge["signatureEnvelopeType"], "application/cose");
        assert_eq!(
            ge["pluginConfig"],
            json!({"capabilities": "ENVELOPE", "record": rec.display().to_string()})
        );
        match want {
            None => assert!(
                ge.get("expiryDurationInSeconds").is_none(),
                "no expiry without -e: {ge}"
            ),
            Some(s) => assert_eq!(ge["expiryDurationInSeconds"], s),
        }
        let payload = STANDARD.decode(ge["payload"].as_str().unwrap()).unwrap();
        assert!(
            payload.starts_with(b"{"),
            "ENVELOPE gets the payload JSON itself, not a signing input"
        );
        let p = Payload::parse(&payload).expect("a Notary payload");
        assert_eq!(p.target_artifact.digest.as_str(), ARTIFACT);
        assert_eq!(p.target_artifact.size, 517);
    }
}

/// Registry credentials never reach the plugin: NOTATION_USERNAME/PASSWORD (and
/// -u/-p) are not in its environment, in a registry and in a layout; HOME is.
#[test]
fn plugin_never_sees_registry_credentials() {
    let (mut sb, id) = plugin_sandbox();
    sb.env.push(("NOTATION_USERNAME".into(), "env-user".into()));
    sb.env
        .push(("NOTATION_PASSWORD".into(), "env-pass-s3cret".into()));
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("creds", "v1");
    let layout = sb.layout("e2e");
    let rec = sb.path("record.jsonl");
    let rec_cfg = format!("record={}", rec.display());
    let reg_target = format!("{}/creds@{digest}", reg.host);
    let layout_target = format!("{layout}@{ARTIFACT}");
    let targets: [&[&str]; 2] = [
        &["-u", "flag-user", "-p", "flag-pass-s3cret", &reg_target],
        &["--oci-layout", &layout_target],
    ];
    for extra in targets {
        sb.run(&plugin_sign_args(&id, &[&rec_cfg], extra)).ok();
    }
    let recs = records(&rec);
    assert_eq!(recs.len(), 6, "three commands per signing: {recs:#?}");
    for r in &recs {
        assert_eq!(
            r["env"],
            json!({"NOTATION_USERNAME": false, "NOTATION_PASSWORD": false, "HOME": true}),
            "{}",
            r["command"]
        );
    }
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(!text.contains("s3cret"), "a password reached the plugin");
    assert!(reg.tag_index("creds", &digest).is_some(), "registry signed");
}

/// One misbehaviour of the plugin and what the error must say.
struct FaultCase {
    /// Shown when the case fails.
    name: &'static str,
    config: &'static [&'static str],
    extra: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    needle: &'static str,
}

const NAMED: &str = "plugin \"test-plugin\"";

const FAULTS: &[FaultCase] = &[
    FaultCase {
        name: "changed-key-id",
        config: &["fault=changed-key-id"],
        extra: &[],
        env: &[],
        needle: "describe-key: keyID in describe-key response",
    },
    FaultCase {
        name: "changed-key-id (generate-signature)",
        config: &["fault=changed-key-id", "fault_command=generate-signature"],
        extra: &[],
        env: &[],
        needle: "generate-signature: keyID in generate-signature response",
    },
    FaultCase {
        name: "bad-signature",
        config: &["fault=bad-signature"],
        extra: &[],
        env: &[],
        needle: "does not verify with the leaf certificate's public key",
    },
    FaultCase {
        name: "bad-signature (ENVELOPE)",
        config: &["fault=bad-signature", "capabilities=ENVELOPE"],
        extra: &[],
        env: &[],
        needle: "does not verify with the leaf certificate's public key",
    },
    FaultCase {
        name: "wrong-algorithm",
        config: &["fault=wrong-algorithm"],
        extra: &[],
        env: &[],
        needle: "signing algorithm RSASSA-PSS-SHA-384, but its key spec RSA-2048 requires RSASSA-PSS-SHA-256",
    },
    FaultCase {
        name: "wrong-chain",
        config: &["fault=wrong-chain"],
        extra: &[],
        env: &[],
        needle: "does not verify with the leaf certificate's public key",
    },
    FaultCase {
        name: "wrong-chain (ENVELOPE)",
        config: &["fault=wrong-chain", "capabilities=ENVELOPE"],
        extra: &[],
        env: &[],
        needle: "does not verify with the leaf certificate's public key",
    },
    FaultCase {
        name: "wrong-envelope-type",
        config: &["fault=wrong-envelope-type", "capabilities=ENVELOPE"],
        extra: &[],
        env: &[],
        needle: "signatureEnvelopeType in generateEnvelope response \"application/cose\" does not match request \"application/jose+json\"",
    },
    FaultCase {
        name: "tampered-payload",
        config: &["fault=tampered-payload", "capabilities=ENVELOPE"],
        extra: &[],
        env: &[],
        needle: "subject has changed",
    },
    FaultCase {
        name: "added-annotations",
        config: &["fault=added-annotations", "capabilities=ENVELOPE"],
        extra: &[],
        env: &[],
        needle: "generate-envelope: annotation \"io.cncf.notary.forged\" uses the reserved prefix",
    },
    FaultCase {
        name: "garbage-stdout",
        config: &["fault=garbage-stdout"],
        extra: &[],
        env: &[],
        needle: "get-plugin-metadata returned a malformed response",
    },
    FaultCase {
        name: "crash",
        config: &["fault=crash"],
        extra: &[],
        env: &[],
        needle: "get-plugin-metadata failed: exited with status 3 and wrote nothing to stderr",
    },
    FaultCase {
        name: "crash (generate-signature)",
        config: &["fault=crash", "fault_command=generate-signature"],
        extra: &[],
        env: &[],
        needle: "generate-signature failed: exited with status 3 and wrote nothing to stderr",
    },
    FaultCase {
        name: "error-json",
        config: &["fault=error-json"],
        extra: &[],
        env: &[],
        needle: "get-plugin-metadata failed: ACCESS_DENIED: the key vault refused access",
    },
    FaultCase {
        name: "error-json (generate-signature)",
        config: &["fault=error-json", "fault_command=generate-signature"],
        extra: &[],
        env: &[],
        needle: "generate-signature failed: ACCESS_DENIED: the key vault refused access",
    },
    FaultCase {
        name: "sleep, --plugin-timeout 2s",
        config: &["fault=sleep", "sleep_seconds=30"],
        extra: &["--plugin-timeout", "2s"],
        env: &[],
        needle: "get-plugin-metadata failed: no answer within 2s, so it was killed",
    },
    FaultCase {
        name: "sleep, NOTATION_PLUGIN_TIMEOUT=2",
        config: &["fault=sleep", "sleep_seconds=30"],
        extra: &[],
        env: &[("NOTATION_PLUGIN_TIMEOUT", "2")],
        needle: "get-plugin-metadata failed: no answer within 2s, so it was killed",
    },
    FaultCase {
        name: "huge-output",
        config: &["fault=huge-output"],
        extra: &[],
        env: &[],
        needle: "get-plugin-metadata failed: it wrote more than 67108864 bytes to stdout, so it was killed",
    },
];

/// Runs one fault case against `target` (`--oci-layout` included in `target_args`)
/// and checks the failure contract, the plugin's name in the message, the time it
/// took and that no plugin process is left.
fn run_fault(sb: &Sandbox, id: &str, case: &FaultCase, target_args: &[&str], kind: &str) {
    let mut extra: Vec<&str> = case.extra.to_vec();
    extra.extend_from_slice(target_args);
    let args = plugin_sign_args(id, case.config, &extra);
    let started = Instant::now();
    let run = sb.run_with(&args, case.env, None);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "fault {} ({kind}): took {took:?}; a plugin must be killed at the time-out",
        case.name
    );
    let msg = run.fails_with_in(case.needle, &format!("fault {} ({kind})", case.name));
    assert!(
        msg.contains(NAMED),
        "fault {} ({kind}): the error does not name {NAMED}: {msg:?}",
        case.name
    );
    assert_no_plugin_process(sb, &format!("fault {} ({kind})", case.name));
}

/// Every fault in an OCI layout fails the signing with one error naming the plugin
/// and the cause, the layout is left byte for byte as it was, a plugin past its
/// time-out is killed (the run ends long before the plugin's 30 s sleep), and no
/// plugin process is left behind.
#[test]
fn plugin_faults_in_a_layout_store_nothing() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let before = snapshot(&layout);
    for case in FAULTS {
        run_fault(&sb, &id, case, &["--oci-layout", &target], "layout");
        assert!(
            snapshot(&layout) == before,
            "fault {} (layout): the layout changed",
            case.name
        );
    }
}

/// The same faults against a registry (distribution 2.8): nothing is uploaded (no
/// blob or manifest PUT, no POST, PATCH or DELETE) and no referrers tag index appears.
#[test]
fn plugin_faults_in_a_registry_store_nothing() {
    let (sb, id) = plugin_sandbox();
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("faults", "v1");
    let target = format!("{}/faults@{digest}", reg.host);
    for case in FAULTS {
        let baseline = reg.requests().len();
        run_fault(&sb, &id, case, &[&target], "registry");
        let new = reg.requests()[baseline..].to_vec();
        if !case.needle.contains("get-plugin-metadata") {
            // The artifact was resolved before the plugin signed: the log is live.
            assert!(
                !new.is_empty(),
                "fault {} (registry): no registry request seen",
                case.name
            );
        }
        let writes: Vec<String> = new
            .iter()
            .filter(|r| !r.starts_with("GET ") && !r.starts_with("HEAD "))
            .cloned()
            .collect();
        assert!(
            writes.is_empty(),
            "fault {} (registry): the registry was written to: {writes:?}",
            case.name
        );
        assert!(
            reg.tag_index("faults", &digest).is_none(),
            "fault {} (registry): a tag index was written",
            case.name
        );
    }
}

/// A plugin that prints a stray line inside its handler still signs: the SDK keeps
/// the print off the response.
#[test]
fn plugin_stray_print_still_signs() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let run = sb
        .run(&plugin_sign_args(
            &id,
            &["fault=stray-print"],
            &["--oci-layout", &target],
        ))
        .ok();
    assert_eq!(run.stdout, format!("Successfully signed {target}\n"));
    assert_eq!(signatures(&layout, ARTIFACT).len(), 1);
}

/// `-d` logs each plugin request with the pluginConfig values redacted: a secret
/// passed with --plugin-config appears nowhere in the output.
#[test]
fn plugin_debug_log_redacts_plugin_config() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let run = sb
        .run(&plugin_sign_args(
            &id,
            &["secret=hunter2"],
            &["-d", "--oci-layout", &format!("{layout}@{ARTIFACT}")],
        ))
        .ok();
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("Plugin describe-key request:"))
        .unwrap_or_else(|| panic!("no describe-key request logged: {}", run.stderr));
    assert!(
        line.contains("\"secret\":\"<redacted>\""),
        "config key kept, value redacted: {line}"
    );
    assert!(
        run.stderr.contains("Plugin generate-signature request:"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"),
        "the secret was logged: {}",
        run.stderr
    );
}

/// Plugins that cannot be used: not installed, a name that leaves the plugin
/// directory, a symlinked executable (the spec's MUST NOT follow), a file that is not
/// executable. Each is one clear error, nothing is written and nothing runs.
#[test]
fn plugin_unusable_plugins_are_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let (sb, id) = plugin_sandbox();
    // A symlink to a working plugin: `linked` → the test plugin, under its own name.
    let real = sb.install_plugin_as(PLUGIN, "real");
    let link = sb.plugin_path("linked");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    // A plugin file without the execute bits.
    let plain = sb.install_plugin_as(PLUGIN, "plain");
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();

    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let rec = sb.path("record.jsonl");
    let rec_cfg = format!("record={}", rec.display());
    let before = snapshot(&layout);
    let cases = [
        ("nope", "plugin \"nope\" is not installed".to_owned()),
        (
            "../test-plugin",
            "invalid plugin name \"../test-plugin\"".to_owned(),
        ),
        ("a/b", "invalid plugin name \"a/b\"".to_owned()),
        ("..", "invalid plugin name \"..\"".to_owned()),
        (
            "linked",
            format!("plugin \"linked\": {} is a symlink", link.display()),
        ),
        (
            "plain",
            format!(
                "plugin \"plain\" executable {} is not a regular executable file",
                plain.display()
            ),
        ),
    ];
    for (name, needle) in &cases {
        let run = sb.run(&[
            "sign",
            "--plugin",
            name,
            "--id",
            &id,
            "--plugin-config",
            &rec_cfg,
            "--oci-layout",
            &target,
        ]);
        run.fails_with_in(needle, &format!("plugin name {name:?}"));
        assert!(
            snapshot(&layout) == before,
            "plugin name {name:?}: the layout changed"
        );
        assert!(
            !rec.exists(),
            "plugin name {name:?}: a plugin ran: {:?}",
            records(&rec)
        );
    }
    // `key add` refuses the same plugins and leaves signingkeys.json as it was.
    let keys = sb.config().join("signingkeys.json");
    let keys_before = std::fs::read(&keys).ok();
    for (name, needle) in &cases {
        let run = sb.run(&["key", "add", "--plugin", name, "--id", &id, "kms"]);
        run.fails_with_in(needle, &format!("key add --plugin {name:?}"));
        assert!(
            std::fs::read(&keys).ok() == keys_before,
            "key add --plugin {name:?} changed signingkeys.json"
        );
    }
}

/// A plugin that never answers is killed at the time-out and
/// reaped, on the first command as on a later one; no process of it remains.
#[test]
fn plugin_timeout_leaves_no_process() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let before = snapshot(&layout);
    for fault_command in ["get-plugin-metadata", "generate-signature"] {
        let what = format!("sleep in {fault_command}");
        let cfg = format!("fault_command={fault_command}");
        let started = Instant::now();
        let run = sb.run(&plugin_sign_args(
            &id,
            &["fault=sleep", "sleep_seconds=30", &cfg],
            &[
                "--plugin-timeout",
                "1500ms",
                "--oci-layout",
                &format!("{layout}@{ARTIFACT}"),
            ],
        ));
        let took = started.elapsed();
        let msg = run.fails_with_in(
            &format!("{fault_command} failed: no answer within 1.5s, so it was killed"),
            &what,
        );
        assert!(msg.contains(NAMED), "{what}: {msg}");
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_secs(10),
            "{what}: took {took:?}"
        );
        assert_no_plugin_process(&sb, &what);
        assert!(snapshot(&layout) == before, "{what}: the layout changed");
    }
}

/// A stray print on the failure path does not hide the plugin's error: the host
/// reads the error JSON from the last line of stderr.
#[test]
fn plugin_stray_print_does_not_hide_the_error() {
    let (sb, _) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let missing = sb.path("no-such-key").display().to_string();
    let msg = sb
        .run(&plugin_sign_args(
            &missing,
            &["fault=stray-print"],
            &["--oci-layout", &format!("{layout}@{ARTIFACT}")],
        ))
        .fails_with("plugin \"test-plugin\" describe-key failed: VALIDATION_ERROR");
    assert!(msg.contains("no-such-key"), "{msg}");
}

/// A symlinked plugin directory is refused (it would run a binary that `plugin list`
/// does not show), and so is relative NOTATION_LIBEXEC trickery: argv[0] is absolute.
#[test]
fn plugin_directory_symlink_refused_and_argv0_absolute() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    let target = format!("{layout}@{ARTIFACT}");
    let outside = sb.path("outside/evil");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(sb.plugin_path(PLUGIN), outside.join("notation-evil")).unwrap();
    std::os::unix::fs::symlink(&outside, sb.config().join("plugins/evil")).unwrap();
    sb.run(&[
        "sign",
        "--plugin",
        "evil",
        "--id",
        &id,
        "--oci-layout",
        &target,
    ])
    .fails_with("is a symlink, which is not allowed");
    // A relative NOTATION_CONFIG still gives the plugin an absolute argv[0].
    let rec = sb.path("rec.jsonl");
    let record = format!("record={}", rec.display());
    let run = sb.run_with(
        &plugin_sign_args(&id, &[&record], &["--oci-layout", &target]),
        &[("NOTATION_CONFIG", "config")],
        None,
    );
    run.ok();
    for r in records(&rec) {
        let argv0 = r["argv"][0].as_str().unwrap();
        assert!(argv0.starts_with('/'), "argv[0] {argv0:?} is not absolute");
    }
}

/// A huge NOTATION_PLUGIN_TIMEOUT is no deadline, not a crash.
#[test]
fn plugin_huge_timeout_value_is_not_a_crash() {
    let (sb, id) = plugin_sandbox();
    let layout = sb.layout("e2e");
    sb.run_with(
        &plugin_sign_args(&id, &[], &["--oci-layout", &format!("{layout}@{ARTIFACT}")]),
        &[("NOTATION_PLUGIN_TIMEOUT", "18446744073709551615")],
        None,
    )
    .ok();
}
