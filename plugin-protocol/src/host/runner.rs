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

/// What the helper threads of one run report, as it happens.
enum Event {
    /// A pipe reached its end (or the cap): everything read from it.
    Drained(Stream, Vec<u8>),
    /// A pipe went over the cap.
    Overflow(Stream),
    /// The plugin exited (and was reaped).
    Exited(std::io::Result<ExitStatus>),
}

/// Reads a pipe to its end (or the cap) on its own thread and sends the bytes back.
/// The thread is never joined: if something keeps the pipe open past the deadline,
/// the host stops waiting and the thread ends whenever the pipe closes.
fn drain(
    mut pipe: impl std::io::Read + Send + 'static,
    stream: Stream,
    cap: usize,
    over: Arc<AtomicBool>,
    events: mpsc::Sender<Event>,
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
                        let _ = events.send(Event::Overflow(stream));
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
        let _ = events.send(Event::Drained(stream, buf));
    });
}

impl Runner {
    /// Runs `path command` with `input` on stdin.
    ///
    /// Nothing polls: a thread waits for the process and two threads drain its
    /// pipes, and each reports the moment it is done, so the host adds no latency of
    /// its own to a plugin's answer.
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
        let (events, received) = mpsc::channel();
        if let Some(p) = child.stdout.take() {
            drain(
                p,
                Stream::Out,
                self.max_output,
                over_out.clone(),
                events.clone(),
            );
        }
        if let Some(p) = child.stderr.take() {
            drain(
                p,
                Stream::Err,
                self.max_output,
                over_err.clone(),
                events.clone(),
            );
        }
        // The waiter reaps the child whatever happens: after an exit, a time-out kill
        // or an overflow kill, so no failure leaves a zombie.
        {
            let events = events.clone();
            std::thread::spawn(move || {
                let _ = events.send(Event::Exited(child.wait()));
            });
        }
        drop(events);

        // A huge time-out means "no deadline", never an overflow.
        let deadline = Instant::now().checked_add(self.timeout);
        // stdout, stderr
        let mut drained: [Option<Vec<u8>>; 2] = [None, None];
        let keep = |drained: &mut [Option<Vec<u8>>; 2], stream: Stream, bytes: Vec<u8>| {
            drained[usize::from(stream == Stream::Err)] = Some(bytes);
        };
        let next = |until: Option<Instant>| match until {
            Some(t) => received
                .recv_timeout(t.saturating_duration_since(Instant::now()))
                .map_err(|e| matches!(e, mpsc::RecvTimeoutError::Timeout)),
            None => received.recv().map_err(|_| false),
        };
        let outcome = loop {
            match next(deadline) {
                Ok(Event::Exited(Ok(status))) => break Ok(status),
                Ok(Event::Exited(Err(e))) => break Err(RunError::Spawn(e)),
                Ok(Event::Overflow(Stream::Out)) => break Err(RunError::TooLarge("stdout")),
                Ok(Event::Overflow(Stream::Err)) => break Err(RunError::TooLarge("stderr")),
                Ok(Event::Drained(stream, bytes)) => keep(&mut drained, stream, bytes),
                Err(true) => break Err(RunError::Timeout),
                // Every sender is gone without an exit: cannot happen (the waiter
                // always reports), but never wait forever on it.
                Err(false) => break Err(RunError::OutputHeldOpen),
            }
        };
        let status = match outcome {
            Ok(status) => status,
            Err(e) => {
                kill_group();
                // Wait for the waiter to reap it (the kill makes that immediate).
                while let Ok(event) = received.recv() {
                    if matches!(event, Event::Exited(_)) {
                        break;
                    }
                }
                return Err(e);
            }
        };
        // The plugin exited. Its pipes close unless something it started still holds
        // them: wait a short grace period, kill the group, wait a little more, and
        // then give up on output that a process outside the group keeps open.
        let mut killed = false;
        let mut until = Instant::now() + EXIT_GRACE;
        while drained.iter().any(Option::is_none) {
            match received.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(Event::Drained(stream, bytes)) => keep(&mut drained, stream, bytes),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) if !killed => {
                    kill_group();
                    killed = true;
                    until = Instant::now() + EXIT_GRACE;
                }
                Err(_) => return Err(RunError::OutputHeldOpen),
            }
        }
        let [stdout, stderr] = drained.map(Option::unwrap_or_default);
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
