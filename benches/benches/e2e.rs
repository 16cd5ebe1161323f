//! The end-to-end benchmark: `scripts/bench.sh` (which builds the release binaries
//! first), or `cargo bench -p notation-benches --bench e2e -- [--refs N]
//! [--singles M] [--out FILE]`.
//!
//! It starts a CNCF distribution 2.8 registry (Debian's `docker-registry`, with its
//! access log) and a `ferro-oci-server` (OCI 1.1, Referrers API) on loopback, a fresh
//! one for each measurement, pushes artifacts, and signs them with the release
//! `notation` and a test key (RSA-2048, as `cert generate-test` makes), always after
//! the first signature in the repository:
//!
//! - registry requests per signature: distribution's access log (every request the
//!   registry served); for ferro, which has no access log, notation's own count
//!   (`-d`), which counts every attempt it sends;
//! - the registry's CPU per bare request (`GET /v2/`) and notation's own CPU per
//!   process: the floors under the time of one process per reference;
//! - ms per signature, one process per reference (`--singles`, default 50, half
//!   before and half after the batch), and one call for a batch (`--refs`, default
//!   1000, default `--max-concurrency`), in the same registry; the CPU time of
//!   notation and of the registry during the batch, and the most a batch could gain
//!   from it over the machine's cores; the batch's peak RSS (`/usr/bin/time -f %M`);
//! - the plugin path through the workspace's Rust test plugin: plugin processes per
//!   signature (its `record=` log) and ms per signature beside the local key.
//!
//! The reference notation CLI needs a Go toolchain and is not built here; the table
//! compares with the figures of issue 7 (notation v1.3.2 against distribution 2.8:
//! 7 requests and about 19 ms per signature).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

struct Options {
    refs: usize,
    singles: usize,
    out: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        refs: 1000,
        singles: 50,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--refs" => o.refs = value().parse().unwrap_or_else(|_| die("--refs: a number")),
            "--singles" => {
                o.singles = value()
                    .parse()
                    .unwrap_or_else(|_| die("--singles: a number"))
            }
            "--out" => o.out = Some(value().into()),
            // cargo bench passes --bench; criterion-style filters are ignored.
            _ => {}
        }
    }
    o.singles = o.singles.max(2);
    o.refs = o.refs.max(2);
    o
}

fn die(msg: &str) -> ! {
    eprintln!("e2e benchmark: {msg}");
    std::process::exit(2)
}

/// `target/release/<name>` beside this benchmark (`target/release/deps/e2e-…`).
fn built(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let p = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join(name);
    if !p.is_file() {
        die(&format!(
            "{} not found: run `cargo build --release --bins` first (scripts/bench.sh does)",
            p.display()
        ));
    }
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn sha256(data: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Distribution,
    Ferro,
}

struct Registry {
    kind: Kind,
    host: String,
    dir: PathBuf,
    child: Child,
    http: reqwest::blocking::Client,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    fn start(kind: Kind, dir: PathBuf) -> Registry {
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let log = File::create(dir.join("registry.log")).unwrap();
        let mut cmd = match kind {
            Kind::Distribution => {
                let config = dir.join("config.yml");
                std::fs::write(
                    &config,
                    format!(
                        "version: 0.1\nlog:\n  level: warn\n  formatter: text\n  accesslog:\n    disabled: false\n\
                         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  \
                         maintenance:\n    uploadpurging:\n      enabled: false\n\
                         http:\n  addr: 127.0.0.1:{port}\n  secret: notation-bench\n",
                        dir.join("data").display()
                    ),
                )
                .unwrap();
                let mut c = Command::new(
                    std::env::var_os("DOCKER_REGISTRY")
                        .unwrap_or("/usr/bin/docker-registry".into()),
                );
                // The access log goes to stdout.
                c.arg("serve")
                    .arg(&config)
                    .stdout(File::create(dir.join("access.log")).unwrap())
                    .stderr(log);
                c
            }
            Kind::Ferro => {
                let bin = std::env::var_os("FERRO_OCI_SERVER")
                    .map(PathBuf::from)
                    .or_else(|| {
                        let p = Path::new(&std::env::var_os("HOME")?)
                            .join(".cargo/bin/ferro-oci-server");
                        p.is_file().then_some(p)
                    })
                    .unwrap_or_else(|| "ferro-oci-server".into());
                let mut c = Command::new(bin);
                c.env("FERRO_OCI_LISTEN", format!("127.0.0.1:{port}"))
                    .env("FERRO_OCI_STORAGE_DIR", dir.join("data"))
                    .env("NO_COLOR", "1")
                    .stdout(log.try_clone().unwrap())
                    .stderr(log);
                c
            }
        };
        cmd.env_remove("REGISTRY_HTTP_ADDR")
            .stdin(Stdio::null())
            .current_dir(&dir);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start the registry: {e}")));
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(16)
            .build()
            .unwrap();
        let reg = Registry {
            kind,
            host: format!("localhost:{port}"),
            dir,
            child,
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(r) = reg.http.get(format!("http://{}/v2/", reg.host)).send()
                && r.status().is_success()
            {
                return reg;
            }
            if Instant::now() > deadline {
                die(&format!(
                    "the registry did not start: {}",
                    std::fs::read_to_string(reg.dir.join("registry.log")).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// CPU time (user + system) the registry process has used, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(") ")
            .map_or(Vec::new(), |(_, rest)| rest.split(' ').collect());
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per
        // second on Linux).
        (ticks(11) + ticks(12)) / 100.0
    }

    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Distribution => "distribution 2.8 (tag schema)",
            Kind::Ferro => "ferro-oci-server (Referrers API)",
        }
    }

    fn upload(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let r = self
            .http
            .post(format!("http://{}/v2/{repo}/blobs/uploads/", self.host))
            .send()
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload Location")
            .to_owned();
        let url = if loc.starts_with("http") {
            loc
        } else {
            format!("http://{}{loc}", self.host)
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let r = self
            .http
            .put(format!("{url}{sep}digest={digest}"))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "blob upload");
        digest
    }

    /// Pushes `n` artifacts (one config and one layer blob shared, a manifest each,
    /// made unique by an annotation) concurrently; returns their digests.
    fn push_artifacts(&self, repo: &str, n: usize) -> Vec<String> {
        let config = br#"{"architecture":"amd64","os":"linux"}"#;
        let layer = b"notation benchmark layer\n";
        let config_digest = self.upload(repo, config);
        let layer_digest = self.upload(repo, layer);
        let next = AtomicUsize::new(0);
        let out = std::sync::Mutex::new(vec![String::new(); n]);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let manifest = json!({
                            "schemaVersion": 2,
                            "mediaType": MANIFEST,
                            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
                            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
                            "annotations": {"org.example.bench": format!("{repo}-{i}")},
                        })
                        .to_string()
                        .into_bytes();
                        let digest = sha256(&manifest);
                        let r = self
                            .http
                            .put(format!("http://{}/v2/{repo}/manifests/{digest}", self.host))
                            .header("content-type", MANIFEST)
                            .body(manifest)
                            .send()
                            .unwrap();
                        assert_eq!(r.status().as_u16(), 201, "manifest push");
                        out.lock().unwrap()[i] = digest;
                    }
                });
            }
        });
        out.into_inner().unwrap()
    }

    /// Requests in distribution's access log so far (`METHOD /path`).
    fn access_log(&self) -> Vec<String> {
        if self.kind != Kind::Distribution {
            return Vec::new();
        }
        // A line is written as its response completes: wait for the log to settle.
        let path = self.dir.join("access.log");
        let mut last = std::fs::read_to_string(&path).unwrap_or_default();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(25));
            let now = std::fs::read_to_string(&path).unwrap_or_default();
            if now == last {
                break;
            }
            last = now;
        }
        last.lines()
            .filter_map(|l| {
                let rest = &l[l.find("] \"")? + 3..];
                let mut parts = rest[..rest.find('"')?].split(' ');
                Some(format!("{} {}", parts.next()?, parts.next()?))
            })
            .collect()
    }
}

struct Env {
    notation: PathBuf,
    config: PathBuf,
    work: PathBuf,
}

impl Env {
    /// `program args…` with notation's environment: the benchmark's own config.
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.work.join("home"))
            .env("NOTATION_CONFIG", &self.config)
            .stdin(Stdio::null());
        c
    }

    /// Runs notation; stops the benchmark with its output unless it succeeded.
    fn run(&self, args: &[&str]) -> std::process::Output {
        let out = self
            .command(&self.notation, args)
            .output()
            .expect("run notation");
        check(&out, args);
        out
    }

    /// Runs notation under `/usr/bin/time`; returns its output, its peak RSS in
    /// KiB and its CPU time (user + system) in seconds.
    fn run_measured(&self, args: &[&str]) -> (std::process::Output, f64, f64) {
        let report = self.work.join("time.txt");
        let mut all = vec![
            "-f".to_owned(),
            "%M %U %S".to_owned(),
            "-o".to_owned(),
            report.display().to_string(),
            self.notation.display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = self
            .command(Path::new("/usr/bin/time"), &all)
            .output()
            .expect("run notation under /usr/bin/time");
        check(&out, args);
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        let fields: Vec<f64> = text
            .lines()
            .next_back()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        match fields.as_slice() {
            [kib, user, sys] => (out, *kib, user + sys),
            _ => die(&format!("cannot read /usr/bin/time's report: {text:?}")),
        }
    }
}

/// CPU time (user + system) of this process's waited-for children, in seconds:
/// cutime and cstime, fields 16 and 17 of stat(5), in clock ticks.
fn children_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<f64> = stat.rsplit_once(") ").map_or(Vec::new(), |(_, rest)| {
        rest.split(' ').map(|f| f.parse().unwrap_or(0.0)).collect()
    });
    (fields.get(13).unwrap_or(&0.0) + fields.get(14).unwrap_or(&0.0)) / 100.0
}

fn check(out: &std::process::Output, args: &[&str]) {
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("[debug]") && !l.starts_with("[info]"))
            .take(20)
            .collect();
        die(&format!(
            "notation {} failed: {}",
            args.first().unwrap_or(&""),
            errors.join("\n")
        ));
    }
}

/// References `<host>/<repo>@<digest>` to `n` freshly pushed artifacts in `repo`,
/// whose first signature was already made (so the counts are "after the first
/// signature in a repository").
fn fresh(env: &Env, reg: &Registry, repo: &str, n: usize) -> Vec<String> {
    let mut refs: Vec<String> = reg
        .push_artifacts(repo, n + 1)
        .iter()
        .map(|d| format!("{}/{repo}@{d}", reg.host))
        .collect();
    let first = refs.remove(0);
    env.run(&["sign", &first]);
    refs
}

/// Requests per signature by method and kind, from access-log lines.
fn breakdown(lines: &[String], signatures: usize) -> String {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for l in lines {
        let (method, path) = l.split_once(' ').unwrap_or((l, ""));
        let what = if path.contains("/blobs/") {
            "blob"
        } else if path.contains("/referrers/") {
            "referrers"
        } else if path.contains("/manifests/sha256-") {
            "index"
        } else {
            "manifest"
        };
        *by.entry(format!("{method} {what}")).or_default() += 1;
    }
    by.iter()
        .map(|(k, v)| format!("{k} {:.2}", *v as f64 / signatures as f64))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[debug] <n> registry requests` of a `-d` run.
fn debug_requests(stderr: &[u8]) -> usize {
    String::from_utf8_lossy(stderr)
        .lines()
        .find_map(|l| {
            l.strip_prefix("[debug] ")?
                .split_once(" registry requests")?
                .0
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

struct Row {
    what: String,
    value: String,
}

fn main() {
    let o = options();
    let notation = built("notation");
    let plugin = built("notation-test-plugin");
    for tool in ["/usr/bin/time"] {
        if !Path::new(tool).is_file() {
            die(&format!("{tool} is needed (apt-get install time)"));
        }
    }
    let work = tempfile::Builder::new()
        .prefix("notation-bench-")
        .tempdir()
        .unwrap();
    let env = Env {
        notation,
        config: work.path().join("config"),
        work: work.path().to_owned(),
    };
    env.run(&["cert", "generate-test", "--default", "bench"]);
    // The test plugin, installed, signing with the same key files.
    let plugin_dir = env.config.join("plugins/test-plugin");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::fs::copy(&plugin, plugin_dir.join("notation-test-plugin")).unwrap();
    let key_id = env.config.join("localkeys/bench").display().to_string();
    let record = work.path().join("plugin-record.jsonl");
    let record_cfg = format!("record={}", record.display());

    let mut rows: Vec<Row> = Vec::new();
    let mut row = |what: String, value: String| {
        println!("{what}: {value}");
        rows.push(Row { what, value });
    };
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name\t: ").map(str::to_owned))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    for kind in [Kind::Distribution, Kind::Ferro] {
        // A fresh registry for each measurement: ferro-oci-server keeps all metadata
        // in one JSON file that it rewrites on every write, so it slows down as it
        // fills up.
        let fresh_registry =
            || Registry::start(kind, work.path().join(format!("registry-{}", free_port())));
        let mut reg = fresh_registry();
        let label = reg.name();
        let dist = kind == Kind::Distribution;
        eprintln!("== {label}");

        // What the registry itself costs: CPU per bare request on one kept-alive
        // connection. Requests per signature times this is a floor no client can
        // go under, one process per reference.
        let n = 500;
        let cpu = reg.cpu_seconds();
        for _ in 0..n {
            let r = reg
                .http
                .get(format!("http://{}/v2/", reg.host))
                .send()
                .unwrap();
            assert!(r.status().is_success());
        }
        row(
            format!("{label}: registry CPU per bare request (GET /v2/, {n} on one connection)"),
            format!(
                "{:.2} ms",
                (reg.cpu_seconds() - cpu) * 1000.0 / f64::from(n)
            ),
        );

        // Requests per signature, one process per reference.
        let counted = fresh(&env, &reg, "count", 5);
        let before = reg.access_log().len();
        let mut client_count = 0;
        for r in &counted {
            client_count += debug_requests(&env.run(&["sign", "-d", r]).stderr);
        }
        let served: Vec<String> = reg.access_log().into_iter().skip(before).collect();
        row(
            format!(
                "{label}: registry requests per signature, one process per reference ({})",
                if dist { "access log" } else { "notation -d" }
            ),
            if dist {
                format!(
                    "{:.2} ({})",
                    served.len() as f64 / counted.len() as f64,
                    breakdown(&served, counted.len())
                )
            } else {
                format!("{:.2}", client_count as f64 / counted.len() as f64)
            },
        );

        // ms per signature, one process per reference, in a registry that holds little.
        let small = fresh(&env, &reg, "small", o.singles);
        let started = Instant::now();
        for r in &small {
            env.run(&["sign", r]);
        }
        row(
            format!(
                "{label}: ms per signature, one process per reference, registry holding {} artifacts",
                o.singles + 7
            ),
            format!(
                "{:.1}",
                started.elapsed().as_secs_f64() * 1000.0 / small.len() as f64
            ),
        );

        // notation's own CPU per signature, one process per reference: the CPU time
        // of this process's finished children (clock ticks, so over many runs).
        let measured = fresh(&env, &reg, "cpu", 40);
        let own_cpu = children_cpu_seconds();
        for r in &measured {
            env.run(&["sign", r]);
        }
        row(
            format!("{label}: notation's own CPU per signature, one process per reference"),
            format!(
                "{:.1} ms",
                (children_cpu_seconds() - own_cpu) * 1000.0 / measured.len() as f64
            ),
        );

        // One process per reference, then one batch, then one process per reference
        // again, in the same registry: the singles bracket the batch, so that both
        // meet a registry of the same size on average (ferro-oci-server slows down as
        // it fills up).
        reg = fresh_registry();
        let mut refs = fresh(&env, &reg, "bench", o.singles + o.refs);
        let batch = refs.split_off(o.singles);
        let after = refs.split_off(o.singles / 2);
        let singles_before = refs;
        let run_singles = |refs: &[String]| -> (Duration, f64) {
            let cpu = reg.cpu_seconds();
            let started = Instant::now();
            for r in refs {
                env.run(&["sign", r]);
            }
            (started.elapsed(), reg.cpu_seconds() - cpu)
        };
        let (time_before, cpu_before) = run_singles(&singles_before);
        let before = reg.access_log().len();
        let registry_cpu = reg.cpu_seconds();
        let mut args: Vec<&str> = vec!["sign"];
        args.extend(batch.iter().map(String::as_str));
        let started = Instant::now();
        let (out, rss_kib, cpu) = env.run_measured(&args);
        let batch_ms = started.elapsed().as_secs_f64() * 1000.0 / batch.len() as f64;
        let registry_cpu = reg.cpu_seconds() - registry_cpu;
        let served: Vec<String> = reg.access_log().into_iter().skip(before).collect();
        let (time_after, cpu_after) = run_singles(&after);
        let n_singles = (singles_before.len() + after.len()) as f64;
        let single_ms = (time_before + time_after).as_secs_f64() * 1000.0 / n_singles;
        let registry_single_ms = (cpu_before + cpu_after) * 1000.0 / n_singles;
        row(
            format!(
                "{label}: ms per signature, one process per reference, {} before and {} after the batch",
                singles_before.len(),
                after.len()
            ),
            format!(
                "{single_ms:.1} (the registry's own CPU: {registry_single_ms:.1} ms per signature)"
            ),
        );
        let signed = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("Successfully signed "))
            .count();
        assert_eq!(
            signed,
            batch.len(),
            "every reference of the batch is signed"
        );
        row(
            format!(
                "{label}: ms per signature, one batch of {} (--max-concurrency 4)",
                batch.len()
            ),
            format!(
                "{batch_ms:.2} ({:.1}× one process per reference; the CPU that notation and the registry burn per signature, spread over {cores} cores, allows at most {:.1}×)",
                single_ms / batch_ms,
                single_ms / ((cpu + registry_cpu) * 1000.0 / batch.len() as f64 / cores as f64)
            ),
        );
        row(
            format!("{label}: CPU per signature in the batch, notation / registry"),
            format!(
                "{:.2} ms / {:.2} ms",
                cpu * 1000.0 / batch.len() as f64,
                registry_cpu * 1000.0 / batch.len() as f64
            ),
        );
        row(
            format!("{label}: peak RSS of one batch of {}", batch.len()),
            format!("{:.1} MiB", rss_kib / 1024.0),
        );
        if dist {
            row(
                format!(
                    "{label}: registry requests per signature, one batch of {} (access log)",
                    batch.len()
                ),
                format!(
                    "{:.3} ({})",
                    served.len() as f64 / batch.len() as f64,
                    breakdown(&served, batch.len())
                ),
            );
        } else {
            let counted = fresh(&env, &reg, "count-batch", 20);
            let mut args: Vec<&str> = vec!["sign", "-d"];
            args.extend(counted.iter().map(String::as_str));
            let out = env.run(&args);
            row(
                format!(
                    "{label}: registry requests per signature, one batch of {} (notation -d)",
                    counted.len()
                ),
                format!(
                    "{:.2}",
                    debug_requests(&out.stderr) as f64 / counted.len() as f64
                ),
            );
        }

        if !dist {
            // The plugin path: processes per signature, and time beside the local key.
            reg = fresh_registry();
            let refs = fresh(&env, &reg, "plugin", 2 * o.singles + 21);
            let plugin_args = |targets: &[String]| -> Vec<String> {
                let mut a: Vec<String> = [
                    "sign",
                    "--plugin",
                    "test-plugin",
                    "--id",
                    &key_id,
                    "--plugin-config",
                    &record_cfg,
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                a.extend(targets.iter().cloned());
                a
            };
            let run_plugin = |targets: &[String]| {
                let a = plugin_args(targets);
                env.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
                let log = std::fs::read_to_string(&record).unwrap_or_default();
                let _ = std::fs::remove_file(&record);
                log
            };
            let count = |log: &str, cmd: &str| {
                log.lines()
                    .filter(|l| l.contains(&format!("\"command\":\"{cmd}\"")))
                    .count()
            };
            let _ = std::fs::remove_file(&record);
            let single = run_plugin(&refs[..1]);
            let batch = run_plugin(&refs[1..21]);
            row(
                "plugin processes (test plugin)".into(),
                format!(
                    "one reference: {} (get-plugin-metadata, describe-key, generate-signature); batch of 20: get-plugin-metadata {}, describe-key {}, generate-signature {}",
                    single.lines().count(),
                    count(&batch, "get-plugin-metadata"),
                    count(&batch, "describe-key"),
                    count(&batch, "generate-signature")
                ),
            );
            // The local key and the plugin, one process per reference, alternating,
            // in the same registry.
            let (mut local, mut plugin) = (Duration::ZERO, Duration::ZERO);
            for pair in refs[21..].chunks(2) {
                let started = Instant::now();
                env.run(&["sign", &pair[0]]);
                local += started.elapsed();
                if let Some(r) = pair.get(1) {
                    let started = Instant::now();
                    run_plugin(std::slice::from_ref(r));
                    plugin += started.elapsed();
                }
            }
            let n = o.singles as f64;
            let (local_ms, plugin_ms) = (
                local.as_secs_f64() * 1000.0 / n,
                plugin.as_secs_f64() * 1000.0 / n,
            );
            row(
                format!(
                    "{label}: ms per signature, one process per reference, local key / test plugin"
                ),
                format!(
                    "{local_ms:.1} / {plugin_ms:.1} (the plugin's 3 processes add {:.1} ms)",
                    plugin_ms - local_ms
                ),
            );
        }
    }

    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut md = format!(
        "Machine: {machine}, {cores} cores; date {date}; release build; {} references per batch, {} single runs.\n\n| measure | value |\n|---|---|\n",
        o.refs, o.singles
    );
    for r in &rows {
        md.push_str(&format!("| {} | {} |\n", r.what, r.value));
    }
    md.push_str("| notation v1.3.2 against distribution 2.8 (issue 7; not built here: no Go toolchain) | 7 requests and about 19 ms per signature; 3 plugin processes per signature |\n");
    println!("\n{md}");
    if let Some(out) = o.out {
        std::fs::write(&out, &md).unwrap();
        eprintln!("written to {}", out.display());
    }
}
