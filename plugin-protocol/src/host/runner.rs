//! Runs one plugin command as a process (notary-spec.md §1.2): argv is exactly
//! `[path, command]`, the request goes to stdin which is then closed, stdout and
//! stderr are drained concurrently and each capped, and a time-out kills the plugin.
//!
//! The plugin runs in its own process group, so a time-out or an output overflow
//! kills everything it started (a shell script's children too) and nothing keeps the
//! pipes open. The child is always reaped: no failure leaves a zombie.

use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// 64 MiB, the cap of notation-go ≥ 1.3 and the spec.
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// How long the output of an exited plugin may stay open (held by processes it
/// started) before its process group is killed.
pub const EXIT_GRACE: Duration = Duration::from_millis(500);

/// How to run plugins.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Kill a plugin that has not finished by then.
    pub timeout: Duration,
    /// The plugin's whole environment (the caller removes registry credentials).
    pub env: Vec<(OsString, OsString)>,
    /// Cap on each of stdout and stderr.
    pub max_output: usize,
}

/// A finished run.
#[derive(Debug)]
pub struct RunOutput {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
}

/// Why a run did not produce output.
#[derive(Debug)]
pub enum RunError {
    /// The process could not be started.
    Spawn(std::io::Error),
    /// It ran past the time-out and was killed.
    Timeout,
    /// It wrote more than the cap to this stream and was killed.
    TooLarge(&'static str),
}

fn drain(
    mut pipe: impl std::io::Read + Send + 'static,
    cap: usize,
    over: Arc<AtomicBool>,
    done: mpsc::Sender<()>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if buf.len() + n > cap {
                        over.store(true, Ordering::SeqCst);
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
        let _ = done.send(());
        buf
    })
}

impl Runner {
    /// Runs `path command` with `input` on stdin.
    pub fn run(&self, path: &Path, command: &str, input: &[u8]) -> Result<RunOutput, RunError> {
        let mut child = Command::new(path)
            .arg(command)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(RunError::Spawn)?;
        let group = Pid::from_raw(child.id() as i32);
        let kill_group = || {
            let _ = killpg(group, Signal::SIGKILL);
        };

        // Write the request from a thread: a plugin that never reads stdin must not
        // block us; closing stdin (dropping it) marks the end of the request.
        if let Some(mut stdin) = child.stdin.take() {
            let input = input.to_vec();
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        let over_out = Arc::new(AtomicBool::new(false));
        let over_err = Arc::new(AtomicBool::new(false));
        let (done_tx, done_rx) = mpsc::channel();
        let out = child
            .stdout
            .take()
            .map(|p| drain(p, self.max_output, over_out.clone(), done_tx.clone()));
        let err = child
            .stderr
            .take()
            .map(|p| drain(p, self.max_output, over_err.clone(), done_tx.clone()));
        drop(done_tx);

        let deadline = Instant::now() + self.timeout;
        let mut pause = Duration::from_micros(200);
        let outcome = loop {
            if over_out.load(Ordering::SeqCst) {
                break Err(RunError::TooLarge("stdout"));
            }
            if over_err.load(Ordering::SeqCst) {
                break Err(RunError::TooLarge("stderr"));
            }
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => break Err(RunError::Spawn(e)),
            }
            if Instant::now() >= deadline {
                break Err(RunError::Timeout);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        };
        let status = match outcome {
            Ok(status) => status,
            Err(e) => {
                kill_group();
                let _ = child.wait();
                return Err(e);
            }
        };
        // The plugin exited. Its pipes close unless something it started still holds
        // them: give the readers a short grace period, then kill the group.
        let grace = Instant::now() + EXIT_GRACE;
        let mut finished = 0;
        while finished < 2 {
            let left = grace.saturating_duration_since(Instant::now());
            match done_rx.recv_timeout(left) {
                Ok(()) => finished += 1,
                Err(_) => {
                    kill_group();
                    break;
                }
            }
        }
        let stdout = out
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = err
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        if over_out.load(Ordering::SeqCst) {
            return Err(RunError::TooLarge("stdout"));
        }
        if over_err.load(Ordering::SeqCst) {
            return Err(RunError::TooLarge("stderr"));
        }
        Ok(RunOutput {
            status,
            stdout,
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!(
            "runner-{}-{}",
            std::process::id(),
            script.len() + script.bytes().map(u32::from).sum::<u32>() as usize
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("plugin");
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn runner(timeout_ms: u64, cap: usize) -> Runner {
        Runner {
            timeout: Duration::from_millis(timeout_ms),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            max_output: cap,
        }
    }

    #[test]
    fn passes_argv_stdin_and_env() {
        let p = sh(r#"echo "$#:$1"; cat; echo; echo "${SECRET:-unset}" >&2"#);
        let out = runner(5_000, 1 << 20)
            .run(&p, "describe-key", b"{\"a\":1}")
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "1:describe-key\n{\"a\":1}\n"
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "unset\n");
    }

    #[test]
    fn time_out_kills_the_whole_group() {
        let p = sh("sleep 30 & sleep 30");
        let started = Instant::now();
        let r = runner(300, 1 << 20).run(&p, "x", b"");
        assert!(matches!(r, Err(RunError::Timeout)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn output_cap_kills() {
        let p = sh("head -c 3000000 /dev/zero");
        let r = runner(10_000, 1 << 20).run(&p, "x", b"");
        assert!(matches!(r, Err(RunError::TooLarge("stdout"))));
    }

    #[test]
    fn lingering_children_do_not_hang_us() {
        // The plugin exits but a background child keeps stdout open.
        let p = sh("(sleep 30) & echo done");
        let started = Instant::now();
        let out = runner(1_000, 1 << 20).run(&p, "x", b"").unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn missing_executable_is_a_spawn_error() {
        let r = runner(1_000, 1 << 20).run(Path::new("/nonexistent/plugin"), "x", b"");
        assert!(matches!(r, Err(RunError::Spawn(_))));
    }
}
