//! Sandbox: a throwaway config directory, a copy of an OCI layout from the shared
//! vectors, and a way to run the binary and snapshot what is on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use notation_core::envelope::{self, EnvelopeContent, SignatureFormat};
use serde_json::Value;

/// Digest of the unsigned artifact in the `e2e` layout.
pub const ARTIFACT: &str =
    "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

/// The built binary next to this test executable.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("notation");
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --workspace --bins` before the spec tests",
        bin.display()
    );
    bin
}

/// The built plugin `notation-<name>` next to `notation`.
pub fn built_plugin(name: &str) -> PathBuf {
    let bin = binary().with_file_name(format!("notation-{name}"));
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --workspace --bins` before the spec tests",
        bin.display()
    );
    bin
}

/// Live processes (pid and command line) whose executable or `argv[0]` is `path`.
pub fn processes_of(path: &Path) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        let exe = std::fs::read_link(e.path().join("exe")).ok();
        if argv0 == path.as_os_str().as_encoded_bytes() || exe.as_deref() == Some(path) {
            let shown = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            out.push((pid, shown));
        }
    }
    out
}

/// `shared/vectors` beside the checkout.
pub fn vectors() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    assert!(p.is_dir(), "test vectors not found at {}", p.display());
    p
}

/// A finished run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts success and returns self.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the failure contract: exit 1, nothing on stdout, exactly one stderr
    /// line `Error: <message>` containing `needle`. Returns the message.
    #[track_caller]
    pub fn fails_with(self, needle: &str) -> String {
        self.fails_with_in(needle, "")
    }

    /// [`Run::fails_with`], with `what` (a case name) in every assertion message.
    #[track_caller]
    pub fn fails_with_in(self, needle: &str, what: &str) -> String {
        let what = if what.is_empty() {
            String::new()
        } else {
            format!("{what}: ")
        };
        assert_eq!(
            self.code, 1,
            "{what}expected exit 1\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "{what}a failed command printed to stdout: {:?}",
            self.stdout
        );
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.starts_with("Warning: "))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "{what}expected one error line, got: {:?}",
            self.stderr
        );
        let msg = lines[0].strip_prefix("Error: ").unwrap_or_else(|| {
            panic!("{what}error line must start with 'Error: ': {:?}", lines[0])
        });
        assert!(
            msg.contains(needle),
            "{what}error {msg:?} does not contain {needle:?}"
        );
        assert!(
            !self.stderr.contains("panicked"),
            "{what}panic: {}",
            self.stderr
        );
        msg.to_owned()
    }
}

/// The digests an image index (a referrers tag index or a Referrers API answer) lists.
pub fn index_digests(index: &serde_json::Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// The signature manifest digest from a registry sign's "Pushed the signature to" line.
pub fn pushed_digest(run: &Run) -> String {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Pushed the signature to "))
        .unwrap_or_else(|| panic!("no Pushed line in {:?}", run.stdout));
    line.rsplit_once('@').unwrap().1.to_owned()
}

/// An isolated user: config dir, home, and a working directory.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = vec![
            (
                "NOTATION_CONFIG".into(),
                dir.path().join("config").display().to_string(),
            ),
            ("HOME".into(), dir.path().join("home").display().to_string()),
        ];
        Sandbox { dir, env }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run notation"))
    }

    /// Points `DOCKER_CONFIG` at a directory in the sandbox holding `config_json`.
    pub fn docker_config(&mut self, config_json: &str) -> PathBuf {
        let dir = self.path("docker");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), config_json).unwrap();
        self.env.retain(|(k, _)| k != "DOCKER_CONFIG");
        self.env
            .push(("DOCKER_CONFIG".into(), dir.display().to_string()));
        dir
    }

    /// Installs `docker-credential-<name>` (a shell script) on the sandbox's PATH.
    pub fn credential_helper(&mut self, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let helper = bin.join(format!("docker-credential-{name}"));
        std::fs::write(&helper, script).unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        if !self
            .env
            .iter()
            .any(|(k, v)| k == "PATH" && v.starts_with(&bin.display().to_string()))
        {
            let path = format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            );
            self.env.retain(|(k, _)| k != "PATH");
            self.env.push(("PATH".into(), path));
        }
    }

    /// Runs with extra environment variables and, when `stdin` is given, that text on
    /// stdin (otherwise stdin is empty).
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        use std::io::Write as _;
        let mut c = self.command(args);
        c.envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if stdin.is_some() {
            c.stdin(std::process::Stdio::piped());
        }
        let mut child = c.spawn().expect("run notation");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let _ = pipe.write_all(text.as_bytes());
        }
        Run::from(child.wait_with_output().expect("wait for notation"))
    }

    /// Where plugin `name`'s executable goes: `<config>/plugins/<name>/notation-<name>`
    /// (NOTATION_LIBEXEC is unset, so the plugin root is the config directory).
    pub fn plugin_path(&self, name: &str) -> PathBuf {
        self.config()
            .join("plugins")
            .join(name)
            .join(format!("notation-{name}"))
    }

    /// Installs the built `notation-<name>` (a workspace plugin: `test-plugin`,
    /// `local-key`) as plugin `name`, mode 0755. Returns the executable's path.
    pub fn install_plugin(&self, name: &str) -> PathBuf {
        self.install_plugin_as(name, name)
    }

    /// Installs the built `notation-<built>` under another plugin name `name`
    /// (`<config>/plugins/<name>/notation-<name>`), mode 0755.
    pub fn install_plugin_as(&self, built: &str, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let src = built_plugin(built);
        let dst = self.plugin_path(name);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755)).unwrap();
        dst
    }

    /// The key id under which the file-key plugins (`local-key`, `test-plugin`) find
    /// the key of `cert generate-test <name>`: `<config>/localkeys/<name>`.
    pub fn key_prefix(&self, name: &str) -> String {
        self.config()
            .join("localkeys")
            .join(name)
            .display()
            .to_string()
    }

    /// `cert generate-test --default <name>`.
    pub fn test_key(&self, name: &str) {
        self.run(&["cert", "generate-test", "--default", name]).ok();
    }

    /// Copies a layout from shared/vectors into the sandbox; returns its path.
    pub fn layout(&self, name: &str) -> String {
        let src = vectors().join("notation/registry/oci_layout").join(name);
        let dst = self.path(&format!("layouts/{name}"));
        copy_dir(&src, &dst);
        dst.display().to_string()
    }
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
            let mut p = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            p.set_readonly(false);
            std::fs::set_permissions(&to, p).unwrap();
        }
    }
}

/// Every file under `dir` with its content, for "nothing changed" checks.
pub fn snapshot(dir: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(p).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), out);
            } else {
                out.insert(e.path(), std::fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if Path::new(dir).exists() {
        walk(Path::new(dir), &mut out);
    }
    out
}

/// A signature stored in a layout, read back and verified cryptographically.
pub struct StoredSignature {
    pub index_entry: Value,
    pub manifest: Value,
    pub format: SignatureFormat,
    pub envelope: Vec<u8>,
    pub content: EnvelopeContent,
}

/// Signature manifests in `layout` whose subject is `subject`, each verified with
/// the leaf certificate of its envelope (integrity, spec §2.3/§2.4).
pub fn signatures(layout: &str, subject: &str) -> Vec<StoredSignature> {
    let root = Path::new(layout);
    let index: Value =
        serde_json::from_slice(&std::fs::read(root.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        let (alg, hex) = d.split_once(':').unwrap();
        let bytes = std::fs::read(root.join("blobs").join(alg).join(hex)).unwrap();
        assert_eq!(
            notation_core::Digest::sha256_of(&bytes).as_str(),
            d,
            "blob content matches its digest"
        );
        bytes
    };
    let mut out = Vec::new();
    for entry in index["manifests"].as_array().unwrap() {
        let manifest: Value =
            serde_json::from_slice(&blob(entry["digest"].as_str().unwrap())).unwrap();
        if manifest["subject"]["digest"] != subject
            || manifest["config"]["mediaType"] != "application/vnd.cncf.notary.signature"
        {
            continue;
        }
        let layer = &manifest["layers"][0];
        let format =
            SignatureFormat::from_media_type(layer["mediaType"].as_str().unwrap()).unwrap();
        let envelope = blob(layer["digest"].as_str().unwrap());
        assert_eq!(layer["size"].as_u64().unwrap(), envelope.len() as u64);
        let content = envelope::verify(format, &envelope).expect("stored envelope verifies");
        out.push(StoredSignature {
            index_entry: entry.clone(),
            manifest,
            format,
            envelope,
            content,
        });
    }
    out
}

/// Writes a certificate for notation's e2e.key that expired in 2021, with the
/// code-signing profile, so that only its validity is wrong. Returns (key, cert) paths.
pub fn expired_e2e_cert(sb: &Sandbox) -> (String, String) {
    let key_path = vectors().join("notation/config/localkeys/e2e.key");
    let key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "expired");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    let cert = params.self_signed(&key).unwrap();
    let out = sb.path("expired.crt");
    std::fs::write(&out, cert.pem()).unwrap();
    (key_path.display().to_string(), out.display().to_string())
}
