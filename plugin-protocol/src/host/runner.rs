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
    /// It exited, but a process it started outside its process group kept its output
    /// open, so the answer may be incomplete.
    OutputHeldOpen,
}

/// Which pipe a reader drained.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// Reads a pipe to its end (or the cap) on its own thread and sends the bytes back.
/// The thread is never joined: if something keeps the pipe open past the deadline,
/// the host stops waiting and the thread ends whenever the pipe closes.
fn drain(
    mut pipe: impl std::io::Read + Send + 'static,
    stream: Stream,
    cap: usize,
    over: Arc<AtomicBool>,
    done: mpsc::Sender<(Stream, Vec<u8>)>,
) {
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
        let _ = done.send((stream, buf));
    });
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
        if let Some(p) = child.stdout.take() {
            drain(
                p,
                Stream::Out,
                self.max_output,
                over_out.clone(),
                done_tx.clone(),
            );
        }
        if let Some(p) = child.stderr.take() {
            drain(
                p,
                Stream::Err,
                self.max_output,
                over_err.clone(),
                done_tx.clone(),
            );
        }
        drop(done_tx);

        // A huge time-out means "no deadline", never an overflow.
        let deadline = Instant::now().checked_add(self.timeout);
        let past = |t: Option<Instant>| t.is_some_and(|t| Instant::now() >= t);
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
            if past(deadline) {
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
        // them: wait a short grace period, kill the group, wait a little more, and
        // then give up on output that a process outside the group keeps open.
        let mut stdout = None;
        let mut stderr = None;
        let mut killed = false;
        let mut until = Instant::now() + EXIT_GRACE;
        while stdout.is_none() || stderr.is_none() {
            match done_rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok((Stream::Out, b)) => stdout = Some(b),
                Ok((Stream::Err, b)) => stderr = Some(b),
                Err(mpsc::RecvTimeoutError::Timeout) if !killed => {
                    kill_group();
                    killed = true;
                    until = Instant::now() + EXIT_GRACE;
                }
                Err(_) => return Err(RunError::OutputHeldOpen),
            }
        }
        let (stdout, stderr) = (stdout.unwrap_or_default(), stderr.unwrap_or_default());
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
            timeout: if timeout_ms == u64::MAX {
                Duration::MAX
            } else {
                Duration::from_millis(timeout_ms)
            },
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

    fn alive(pid: &str) -> bool {
        // A reaped process has no /proc entry; a zombie would show state Z.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    }

    #[test]
    fn time_out_kills_the_whole_group() {
        let pidfile = std::env::temp_dir().join(format!("runner-bg-{}", std::process::id()));
        let p = sh(&format!(
            "sleep 30 & echo $! > {}; sleep 30",
            pidfile.display()
        ));
        let started = Instant::now();
        let r = runner(300, 1 << 20).run(&p, "x", b"");
        assert!(matches!(r, Err(RunError::Timeout)));
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !alive(pid.trim()),
            "the plugin's background child survived the time-out"
        );
    }

    #[test]
    fn a_child_outside_the_group_cannot_hang_us() {
        // setsid leaves the process group and keeps stdout open.
        let p = sh("setsid sleep 20 & echo partial");
        let started = Instant::now();
        let r = runner(60_000, 1 << 20).run(&p, "x", b"");
        assert!(matches!(r, Err(RunError::OutputHeldOpen)), "{r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_huge_time_out_does_not_overflow() {
        let p = sh("echo ok");
        let out = runner(u64::MAX, 1 << 20).run(&p, "x", b"").unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
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
