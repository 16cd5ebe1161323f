//! Typed calls to one plugin, with notation's reading of a plugin run
//! (notary-spec.md §1.6): exit 0 → the response JSON on stdout; non-zero → the error
//! JSON on stderr if there is one, else the exit status and a short stderr excerpt.

use std::path::PathBuf;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::HostError;
use super::runner::{RunError, Runner};
use crate::wire::{PluginError, command};

/// Receives `-d` lines (`Plugin <command> request: …`), with plugin config values
/// redacted.
pub type Trace = dyn Fn(&str) + Send + Sync;

/// One plugin executable.
pub struct PluginClient {
    name: String,
    path: PathBuf,
    runner: Runner,
    trace: Option<Box<Trace>>,
}

/// A one-line excerpt of stderr for messages.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut s: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        s.push('…');
    }
    s
}

/// The plugin's error JSON: the whole of stderr, or else its last non-empty line
/// (a plugin may log before answering). Like notation-go, any one of errorCode,
/// errorMessage and errorMetadata makes it an error JSON; a missing code is ERROR.
fn error_json(stderr: &[u8]) -> Option<PluginError> {
    let parse = |b: &[u8]| -> Option<PluginError> {
        let v: Value = serde_json::from_slice(b).ok()?;
        let obj = v.as_object()?;
        if !["errorCode", "errorMessage", "errorMetadata"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            return None;
        }
        let mut obj = obj.clone();
        obj.entry("errorCode")
            .or_insert_with(|| Value::String("ERROR".into()));
        serde_json::from_value(Value::Object(obj)).ok()
    };
    parse(stderr).or_else(|| {
        let text = String::from_utf8_lossy(stderr);
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| parse(l.as_bytes()))
    })
}

/// The request as logged: `pluginConfig` values replaced, since they may be secrets.
pub fn redacted(request: &impl Serialize) -> String {
    let mut v = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Some(Value::Object(cfg)) = v.get_mut("pluginConfig") {
        for value in cfg.values_mut() {
            *value = Value::String("<redacted>".into());
        }
    }
    v.to_string()
}

impl PluginClient {
    /// A client for the executable at `path` of plugin `name`.
    pub fn new(name: &str, path: PathBuf, runner: Runner) -> PluginClient {
        PluginClient {
            name: name.to_owned(),
            path,
            runner,
            trace: None,
        }
    }

    /// Sets the `-d` trace.
    pub fn with_trace(mut self, trace: Box<Trace>) -> PluginClient {
        self.trace = Some(trace);
        self
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn log(&self, line: String) {
        if let Some(t) = &self.trace {
            t(&line);
        }
    }

    /// Runs `command` with `request` and reads the response.
    pub fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        cmd: &str,
        request: &Req,
    ) -> Result<Resp, HostError> {
        let body = serde_json::to_vec(request).map_err(|e| HostError::Malformed {
            name: self.name.clone(),
            command: cmd.to_owned(),
            reason: format!("cannot encode the request: {e}"),
        })?;
        self.log(format!("Plugin {cmd} request: {}", redacted(request)));
        let out = self
            .runner
            .run(&self.path, cmd, &body)
            .map_err(|e| match e {
                RunError::Spawn(source) => HostError::Spawn {
                    name: self.name.clone(),
                    command: cmd.to_owned(),
                    path: self.path.clone(),
                    source,
                },
                RunError::Timeout => HostError::Timeout {
                    name: self.name.clone(),
                    command: cmd.to_owned(),
                    after: self.runner.timeout,
                },
                RunError::OutputHeldOpen => HostError::Failed {
                name: self.name.clone(),
                command: cmd.to_owned(),
                detail: "it exited but left a process holding its output open; the answer may be incomplete".into(),
            },
            RunError::TooLarge(stream) => HostError::OutputTooLarge {
                    name: self.name.clone(),
                    command: cmd.to_owned(),
                    stream,
                    limit: self.runner.max_output,
                },
            })?;
        if !out.status.success() {
            let status = match out.status.code() {
                Some(c) => format!("exited with status {c}"),
                None => "was killed by a signal".to_owned(),
            };
            if let Some(error) = error_json(&out.stderr) {
                return Err(HostError::Plugin {
                    name: self.name.clone(),
                    command: cmd.to_owned(),
                    error: Box::new(error),
                });
            }
            let detail = if out.stderr.iter().all(u8::is_ascii_whitespace) {
                format!("{status} and wrote nothing to stderr")
            } else {
                format!("{status}: {}", excerpt(&out.stderr))
            };
            return Err(HostError::Failed {
                name: self.name.clone(),
                command: cmd.to_owned(),
                detail,
            });
        }
        let resp: Resp = serde_json::from_slice(&out.stdout).map_err(|e| HostError::Malformed {
            name: self.name.clone(),
            command: cmd.to_owned(),
            reason: if out.stdout.is_empty() {
                "stdout is empty".to_owned()
            } else {
                format!(
                    "stdout is not the expected JSON ({e}): {}",
                    excerpt(&out.stdout)
                )
            },
        })?;
        self.log(format!(
            "Plugin {cmd} response: {}",
            String::from_utf8_lossy(&out.stdout)
        ));
        Ok(resp)
    }

    /// `get-plugin-metadata`, validated, and the name checked against the directory.
    pub fn metadata(
        &self,
        config: &crate::wire::PluginConfig,
    ) -> Result<crate::wire::GetMetadataResponse, HostError> {
        let req = crate::wire::GetMetadataRequest {
            plugin_config: config.clone(),
        };
        let meta: crate::wire::GetMetadataResponse =
            self.call(command::GET_PLUGIN_METADATA, &req)?;
        meta.validate().map_err(|reason| HostError::Metadata {
            name: self.name.clone(),
            reason,
        })?;
        if meta.name != self.name {
            return Err(HostError::Metadata {
                name: self.name.clone(),
                reason: format!(
                    "plugin executable file name must be \"notation-{}\" instead of \"notation-{}\"",
                    meta.name, self.name
                ),
            });
        }
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_config_values() {
        let req = crate::wire::DescribeKeyRequest {
            contract_version: "1.0".into(),
            key_id: "k".into(),
            plugin_config: [("token".to_owned(), "hunter2".to_owned())].into(),
        };
        let line = redacted(&req);
        assert!(!line.contains("hunter2"));
        assert!(line.contains("\"token\":\"<redacted>\""));
        assert!(line.contains("\"keyId\":\"k\""));
    }

    #[test]
    fn error_json_forms() {
        let e = error_json(br#"{"errorCode":"ACCESS_DENIED","errorMessage":"no"}"#).unwrap();
        assert_eq!(e.to_string(), "ACCESS_DENIED: no");
        let e = error_json(
            b"log line\n{\"errorCode\":\"VALIDATION_ERROR\",\"errorMessage\":\"bad key\"}\n",
        )
        .unwrap();
        assert_eq!(e.to_string(), "VALIDATION_ERROR: bad key");
        assert_eq!(
            error_json(br#"{"errorMessage":"x"}"#).unwrap().to_string(),
            "ERROR: x"
        );
        assert!(error_json(b"{}").is_none());
        assert!(error_json(b"panic: boom").is_none());
    }

    #[test]
    fn excerpts() {
        assert_eq!(excerpt(b"\n  boom: it broke\nmore"), "boom: it broke");
        assert_eq!(excerpt(&[b'x'; 300]).chars().count(), 201);
    }
}
