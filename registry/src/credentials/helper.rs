//! The docker-credential-helpers protocol: `docker-credential-<name> get|store|erase`,
//! with the request on stdin and the answer (JSON, or an error message) on stdout.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Credential;
use crate::error::{RegistryError, Result};
use crate::secret::Secret;

/// The user name helpers use for identity tokens.
const TOKEN_USERNAME: &str = "<token>";
/// What helpers say when they have nothing for a server.
const NOT_FOUND: &str = "credentials not found";
/// Longest helper message excerpt put in an error.
const EXCERPT_CHARS: usize = 200;
/// Most output kept from a helper stream.
const MAX_OUTPUT: u64 = 1 << 20;

/// A configured helper: its name and which setting named it.
#[derive(Debug, Clone)]
pub(crate) struct Helper {
    /// `<name>` in `docker-credential-<name>`.
    pub(crate) name: String,
    /// Where it was configured, e.g. `notation config.json credHelpers`.
    pub(crate) origin: String,
}

/// How to find and run helpers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Runner<'a> {
    /// The search path; None = the process PATH.
    pub(crate) path: Option<&'a OsStr>,
    /// Longest a helper may run.
    pub(crate) timeout: Duration,
}

/// The helper's JSON (`get` answer and `store` request).
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct HelperCredential {
    #[serde(rename = "ServerURL")]
    server_url: String,
    username: String,
    secret: String,
}

/// What a finished helper produced.
struct RawOutput {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl RawOutput {
    fn says_not_found(&self) -> bool {
        [&self.stdout, &self.stderr].iter().any(|b| {
            String::from_utf8_lossy(b)
                .to_ascii_lowercase()
                .contains(NOT_FOUND)
        })
    }
}

impl Helper {
    fn executable_name(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// The helper executable in the search path.
    fn find(&self, runner: Runner<'_>) -> Result<PathBuf> {
        let exe = self.executable_name();
        if self.name.is_empty() || self.name.contains(['/', '\\', '\0']) {
            return Err(RegistryError::Credentials(format!(
                "invalid credential helper name {:?} (configured in {})",
                self.name, self.origin
            )));
        }
        let path: OsString = match runner.path {
            Some(p) => p.to_owned(),
            None => std::env::var_os("PATH").unwrap_or_default(),
        };
        let mut names = vec![OsString::from(&exe)];
        if cfg!(windows) {
            names.push(OsString::from(format!("{exe}.exe")));
        }
        std::env::split_paths(&path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
            .find(|candidate| is_executable(candidate))
            .ok_or_else(|| {
                RegistryError::Credentials(format!(
                    "credential helper {exe} not found in PATH (configured in {})",
                    self.origin
                ))
            })
    }

    /// `get`: the credential for `server`, or Anonymous when the helper has none.
    pub(crate) fn get(
        &self,
        runner: Runner<'_>,
        server: &str,
        registry: &str,
    ) -> Result<Credential> {
        let out = self.run(runner, "get", server.as_bytes().to_vec(), registry)?;
        let parsed = serde_json::from_slice::<HelperCredential>(&out.stdout);
        if !out.status.success() {
            if out.says_not_found() {
                return Ok(Credential::Anonymous);
            }
            // Whatever secret the helper printed must not reach the message.
            let leaked = parsed.map(|c| c.secret).unwrap_or_default();
            return Err(self.failure("get", registry, &out, &[&leaked]));
        }
        let answer = parsed.map_err(|_| {
            RegistryError::Credentials(format!(
                "credential helper {} get for {registry} returned output that is not the expected JSON",
                self.executable_name()
            ))
        })?;
        Ok(match (answer.username.as_str(), answer.secret.is_empty()) {
            (_, true) if answer.username.is_empty() => Credential::Anonymous,
            (TOKEN_USERNAME, _) => Credential::IdentityToken(Secret::new(answer.secret)),
            _ => Credential::Basic {
                username: answer.username,
                password: Secret::new(answer.secret),
            },
        })
    }

    /// `store`: saves the credential for `server`.
    pub(crate) fn store(
        &self,
        runner: Runner<'_>,
        server: &str,
        registry: &str,
        credential: &Credential,
    ) -> Result<()> {
        let (username, secret) = match credential {
            Credential::Basic { username, password } => (username.as_str(), password),
            Credential::IdentityToken(token) => (TOKEN_USERNAME, token),
            Credential::Anonymous => {
                return Err(RegistryError::Credentials(format!(
                    "no credentials to store for {registry}"
                )));
            }
        };
        let request = HelperCredential {
            server_url: server.to_owned(),
            username: username.to_owned(),
            secret: secret.expose().to_owned(),
        };
        let input = serde_json::to_vec(&request).map_err(|e| {
            RegistryError::Credentials(format!("cannot encode the credential request: {e}"))
        })?;
        let out = self.run(runner, "store", input, registry)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.failure("store", registry, &out, &[secret.expose()]))
        }
    }

    /// `erase`: removes the credential for `server`; false when there was none.
    pub(crate) fn erase(&self, runner: Runner<'_>, server: &str, registry: &str) -> Result<bool> {
        let out = self.run(runner, "erase", server.as_bytes().to_vec(), registry)?;
        if out.status.success() {
            Ok(true)
        } else if out.says_not_found() {
            Ok(false)
        } else {
            Err(self.failure("erase", registry, &out, &[]))
        }
    }

    fn run(
        &self,
        runner: Runner<'_>,
        action: &str,
        input: Vec<u8>,
        registry: &str,
    ) -> Result<RawOutput> {
        let exe = self.find(runner)?;
        run_with_timeout(&exe, action, input, runner.timeout).map_err(|failure| {
            let what = format!(
                "credential helper {} {action} for {registry}",
                self.executable_name()
            );
            RegistryError::Credentials(match failure {
                RunFailure::Io(e) => format!("{what} could not be run: {e}"),
                RunFailure::TimedOut => format!(
                    "{what} did not finish within {} s and was stopped",
                    runner.timeout.as_secs_f64()
                ),
            })
        })
    }

    fn failure(
        &self,
        action: &str,
        registry: &str,
        out: &RawOutput,
        secrets: &[&str],
    ) -> RegistryError {
        let status = match out.status.code() {
            Some(code) => format!("exit status {code}"),
            None => "terminated by a signal".to_owned(),
        };
        let excerpt = excerpt(out, secrets);
        let detail = if excerpt.is_empty() {
            String::new()
        } else {
            format!(": {excerpt}")
        };
        RegistryError::Credentials(format!(
            "credential helper {} {action} failed for {registry} ({status}){detail}",
            self.executable_name()
        ))
    }
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The first line of what the helper said (stderr, else stdout) with every secret
/// replaced by `<redacted>`, control characters removed, at most 200 characters.
fn excerpt(out: &RawOutput, secrets: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = if stderr.trim().is_empty() {
        String::from_utf8_lossy(&out.stdout)
    } else {
        stderr
    };
    // Redact before cutting anything, so no part of a secret survives a cut.
    let text = redact(&text, secrets);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let clean: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > EXCERPT_CHARS {
        let cut: String = clean.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}...")
    } else {
        clean
    }
}

/// `text` with each non-empty secret (raw, and as escaped inside JSON) replaced.
fn redact(text: &str, secrets: &[&str]) -> String {
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        forms.push((*secret).to_owned());
        if let Ok(json) = serde_json::to_string(secret) {
            forms.push(json[1..json.len() - 1].to_owned());
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut text = text.to_owned();
    for form in &forms {
        text = text.replace(form.as_str(), "<redacted>");
    }
    text
}

enum RunFailure {
    Io(std::io::Error),
    TimedOut,
}

/// Runs `exe action` with `input` on stdin (then closed), collecting stdout and stderr;
/// the helper is killed once `timeout` has passed.
fn run_with_timeout(
    exe: &Path,
    action: &str,
    input: Vec<u8>,
    timeout: Duration,
) -> std::result::Result<RawOutput, RunFailure> {
    let deadline = Instant::now() + timeout;
    let mut child = spawn(exe, action, deadline).map_err(RunFailure::Io)?;
    // Threads for every pipe, so that nothing here blocks past the deadline.
    if let Some(mut stdin) = child.stdin.take() {
        std::thread::spawn(move || {
            // A helper that exits without reading gives a broken pipe: not our concern.
            let _ = stdin.write_all(&input);
        });
    }
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunFailure::Io(e));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunFailure::TimedOut);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    // The pipes close when the helper exits, unless something it started keeps them.
    let grace = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(1));
    let until = Instant::now() + grace;
    let receive = |rx: mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(until.saturating_duration_since(Instant::now()))
            .map_err(|_| RunFailure::TimedOut)
    };
    Ok(RawOutput {
        status,
        stdout: receive(stdout)?,
        stderr: receive(stderr)?,
    })
}

/// Starts `exe action` with piped stdio. An executable that is still open for writing
/// somewhere (ETXTBSY: just installed, or written by a thread while another forked)
/// is retried briefly.
fn spawn(exe: &Path, action: &str, deadline: Instant) -> std::io::Result<std::process::Child> {
    /// Linux's ETXTBSY.
    const TEXT_FILE_BUSY: i32 = 26;
    let mut attempts = 0;
    loop {
        let result = Command::new(exe)
            .arg(action)
            // Registry credentials given to notation are not the helper's business.
            .env_remove("NOTATION_USERNAME")
            .env_remove("NOTATION_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match result {
            Err(e)
                if cfg!(target_os = "linux")
                    && e.raw_os_error() == Some(TEXT_FILE_BUSY)
                    && attempts < 50
                    && Instant::now() < deadline =>
            {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Reads a pipe to its end on a thread (keeping at most 1 MiB).
fn collect<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.by_ref().take(MAX_OUTPUT).read_to_end(&mut buf);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        }
        let _ = tx.send(buf);
    });
    rx
}
