//! `notation-test-plugin`: a signing plugin for host tests (plugin name `test-plugin`).
//!
//! It signs like `notation-local-key` (key id = path prefix of `<keyId>.key` and
//! `<keyId>.crt`) and is switched by `pluginConfig` (see README.md beside this crate):
//! `capabilities`, `annotations`, `fault`, `fault_command`, `sleep_seconds`, `record`.
//!
//! This file reads the request itself, so it can record it and inject the faults that
//! act on the process (`garbage-stdout`, `crash`, `huge-output`, `sleep`, and
//! `error-json` for `get-plugin-metadata`). It then hands the same bytes to the SDK's
//! `main` through a fresh stdin pipe, so everything else goes through the SDK exactly
//! as in a real plugin (including its stdout guard, which `stray-print` tests).

mod config;
mod plugin;

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use plugin_protocol::wire::{ErrorCode, PluginConfig, PluginError, command};
use serde_json::{Value, json};

use crate::config::{Config, Fault};
use crate::plugin::TestPlugin;

/// `fault=huge-output` writes this many bytes: one more than 65 MiB, past the 64 MiB cap.
const HUGE_OUTPUT_LEN: usize = 65 * 1024 * 1024 + 1;

/// Writes the error JSON to stderr and exits 1, as the SDK would.
fn fail(e: &PluginError) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(&serde_json::to_vec(e).unwrap_or_default());
    let _ = err.flush();
    ExitCode::from(1)
}

/// Appends one JSON line describing this invocation. Environment variables are recorded
/// as set / not set, never with their values.
fn record(
    path: &str,
    args: &[String],
    stdin: &[u8],
    request: Option<&Value>,
) -> std::io::Result<()> {
    let set = |name: &str| std::env::var_os(name).is_some();
    let line = json!({
        "argv": args,
        "command": args.get(1),
        "stdin": request.cloned().unwrap_or_else(|| Value::String(String::from_utf8_lossy(stdin).into_owned())),
        "env": {
            "NOTATION_USERNAME": set("NOTATION_USERNAME"),
            "NOTATION_PASSWORD": set("NOTATION_PASSWORD"),
            "HOME": set("HOME"),
        },
    });
    let mut bytes = serde_json::to_vec(&line)?;
    bytes.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write per line, so concurrent invocations do not interleave.
    f.write_all(&bytes)
}

/// Makes `bytes` the process's stdin again: a pipe on fd 0, fed by a thread (so a
/// request larger than the pipe buffer cannot block).
fn refeed_stdin(bytes: Vec<u8>) -> std::io::Result<()> {
    let (reader, mut writer) = std::io::pipe()?;
    nix::unistd::dup2_stdin(&reader).map_err(std::io::Error::from)?;
    drop(reader);
    std::thread::spawn(move || {
        let _ = writer.write_all(&bytes);
        // Dropping the writer closes the pipe: the SDK sees end of input.
    });
    Ok(())
}

fn huge_output() {
    let chunk = vec![b'x'; 1024 * 1024];
    let mut out = std::io::stdout().lock();
    let mut left = HUGE_OUTPUT_LEN;
    while left > 0 {
        let n = left.min(chunk.len());
        if out.write_all(&chunk[..n]).is_err() {
            break; // the host stopped reading at its cap
        }
        left -= n;
    }
    let _ = out.flush();
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mut stdin = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        return fail(&PluginError::new(
            ErrorCode::Generic,
            format!("cannot read stdin: {e}"),
        ));
    }
    let request: Option<Value> = serde_json::from_slice(&stdin).ok();
    let plugin_config: PluginConfig = request
        .as_ref()
        .and_then(|r| r.get("pluginConfig"))
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    if let Some(path) = plugin_config.get("record")
        && let Err(e) = record(path, &args, &stdin, request.as_ref())
    {
        return fail(&PluginError::new(
            ErrorCode::Generic,
            format!("test-plugin: cannot append to the record file {path:?}: {e}"),
        ));
    }
    let config = match Config::parse(&plugin_config) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    // Only a well-formed invocation gets a fault; anything else is the SDK's to reject.
    let cmd = match args.as_slice() {
        [_, cmd] => cmd.as_str(),
        _ => "",
    };
    match config.fault_for(cmd) {
        Some(Fault::GarbageStdout) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"not json");
            let _ = out.flush();
            return ExitCode::SUCCESS;
        }
        Some(Fault::Crash) => return ExitCode::from(3),
        Some(Fault::HugeOutput) => {
            huge_output();
            return ExitCode::SUCCESS;
        }
        Some(Fault::Sleep) => {
            std::thread::sleep(std::time::Duration::from_secs(config.sleep_seconds))
        }
        Some(Fault::ErrorJson) if cmd == command::GET_PLUGIN_METADATA => {
            return fail(&plugin::access_denied());
        }
        _ => {}
    }
    if let Err(e) = refeed_stdin(stdin) {
        return fail(&PluginError::new(
            ErrorCode::Generic,
            format!("test-plugin: cannot reopen stdin: {e}"),
        ));
    }
    plugin_protocol::plugin::main(&TestPlugin { config })
}
