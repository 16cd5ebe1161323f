//! `cargo bench -p notation-benches --bench plugin_call`
//!
//! The plugin host's own cost per plugin call: one `describe-key` and one
//! `generate-signature` through `PluginClient` (spawn in a process group, request on
//! stdin, drain stdout and stderr, wait, parse and check the answer), beside the
//! same plugin run bare with `std::process::Command` (spawn, write stdin, read
//! stdout, wait), and an empty process (`/bin/true`) as the operating system's floor.
//! Host overhead = host call − bare run.
//!
//! The plugin is the workspace's Rust test plugin (`notation-test-plugin`), which
//! must be built first: `cargo build --release -p notation-test-plugin`
//! (`scripts/bench.sh` does).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use notation_benches::BenchKey;
use notation_core::KeySpec;
use plugin_protocol::host::{MAX_OUTPUT, PluginClient, Runner};
use plugin_protocol::wire::{
    CONTRACT_VERSION, DescribeKeyRequest, DescribeKeyResponse, GenerateSignatureRequest,
    GenerateSignatureResponse, command,
};

/// `target/<profile>/notation-test-plugin` beside this benchmark's executable
/// (`target/<profile>/deps/plugin_call-…`).
fn test_plugin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("notation-test-plugin");
    p.is_file().then_some(p)
}

fn all(c: &mut Criterion) {
    let Some(plugin) = test_plugin() else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "notation-test-plugin is not built: run `cargo build --release -p notation-test-plugin` first; skipping"
            );
        }
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = BenchKey::generate(KeySpec::Ec256);
    let key_id = dir.path().join("bench").display().to_string();
    std::fs::write(format!("{key_id}.key"), &key.key_pem).unwrap();
    std::fs::write(format!("{key_id}.crt"), &key.cert_pem).unwrap();
    let runner = Runner {
        timeout: Duration::from_secs(30),
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        max_output: MAX_OUTPUT,
    };
    let client = PluginClient::new("test-plugin", plugin.clone(), runner);
    let describe = DescribeKeyRequest {
        contract_version: CONTRACT_VERSION.into(),
        key_id: key_id.clone(),
        plugin_config: Default::default(),
    };
    let generate = GenerateSignatureRequest {
        contract_version: CONTRACT_VERSION.into(),
        key_id: key_id.clone(),
        key_spec: "EC-256".into(),
        hash_algorithm: "SHA-256".into(),
        payload: vec![0x5au8; 600].into(),
        plugin_config: Default::default(),
    };
    let describe_body = serde_json::to_vec(&describe).unwrap();

    let mut group = c.benchmark_group("plugin");
    group.bench_function("os_floor/bin_true", |b| {
        b.iter(|| {
            let status = Command::new("/bin/true").status().unwrap();
            assert!(status.success());
        })
    });
    group.bench_function("bare_process/describe-key", |b| {
        b.iter(|| {
            let mut child = Command::new(&plugin)
                .arg(command::DESCRIBE_KEY)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(&describe_body)
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
            out.stdout
        })
    });
    group.bench_function("host_call/describe-key", |b| {
        b.iter(|| {
            let r: DescribeKeyResponse = client.call(command::DESCRIBE_KEY, &describe).unwrap();
            r
        })
    });
    group.bench_function("host_call/generate-signature", |b| {
        b.iter(|| {
            let r: GenerateSignatureResponse =
                client.call(command::GENERATE_SIGNATURE, &generate).unwrap();
            r
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(benches);
