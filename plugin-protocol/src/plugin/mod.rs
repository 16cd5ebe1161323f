//! The plugin author's side: implement [`SignPlugin`] and call [`main`].
//!
//! ```no_run
//! use plugin_protocol::plugin::{self, SignPlugin};
//! use plugin_protocol::wire::*;
//!
//! struct MyKms;
//! impl SignPlugin for MyKms {
//!     fn metadata(&self, _: &GetMetadataRequest) -> GetMetadataResponse {
//!         GetMetadataResponse {
//!             name: "my-kms".into(),
//!             description: "Signs with My KMS".into(),
//!             version: "1.0.0".into(),
//!             url: "https://example.com/my-kms".into(),
//!             supported_contract_versions: vec![CONTRACT_VERSION.into()],
//!             capabilities: vec![Capability::SignatureGeneratorRaw],
//!         }
//!     }
//!     // describe_key and generate_signature: see plugins/local-key.
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     plugin::main(&MyKms)
//! }
//! ```
//!
//! [`main`] reads `argv[1]` and the whole of stdin, checks the contract version,
//! calls the method for the command, and writes exactly one JSON document to stdout
//! (exit 0) or the error JSON to stderr (exit 1). While the method runs, file
//! descriptor 1 points at stderr, so a stray `println!` in plugin code cannot corrupt
//! the response.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::*;

/// A signing plugin. Only `metadata` is required; the other methods answer
/// "unsupported" unless overridden. RAW plugins override `describe_key` and
/// `generate_signature`; ENVELOPE plugins override `generate_envelope`.
pub trait SignPlugin {
    /// `get-plugin-metadata`.
    fn metadata(&self, req: &GetMetadataRequest) -> GetMetadataResponse;

    /// `describe-key`.
    fn describe_key(&self, _req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        Err(unsupported(command::DESCRIBE_KEY))
    }

    /// `generate-signature`.
    fn generate_signature(
        &self,
        _req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        Err(unsupported(command::GENERATE_SIGNATURE))
    }

    /// `generate-envelope`.
    fn generate_envelope(
        &self,
        _req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        Err(unsupported(command::GENERATE_ENVELOPE))
    }
}

fn unsupported(cmd: &str) -> PluginError {
    PluginError::validation(format!("{cmd} is not supported by this plugin"))
}

/// What one invocation produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The response JSON (exit 0).
    pub stdout: Vec<u8>,
    /// The error JSON (exit 1).
    pub stderr: Vec<u8>,
    /// 0 or 1.
    pub exit_code: u8,
}

fn parse<T: DeserializeOwned>(stdin: &[u8]) -> Result<T, PluginError> {
    serde_json::from_slice(stdin)
        .map_err(|e| PluginError::validation(format!("Input is not a valid JSON: {e}")))
}

fn check_version(v: &str) -> Result<(), PluginError> {
    if v == CONTRACT_VERSION {
        Ok(())
    } else {
        Err(PluginError::new(
            ErrorCode::UnsupportedContractVersion,
            format!("{v:?} is not a supported notary plugin contract version"),
        ))
    }
}

fn respond<T: Serialize>(r: Result<T, PluginError>) -> Outcome {
    match r.and_then(|v| {
        serde_json::to_vec(&v).map_err(|e| PluginError::new(ErrorCode::Generic, e.to_string()))
    }) {
        Ok(stdout) => Outcome {
            stdout,
            stderr: Vec::new(),
            exit_code: 0,
        },
        Err(e) => Outcome {
            stdout: Vec::new(),
            stderr: serde_json::to_vec(&e).unwrap_or_default(),
            exit_code: 1,
        },
    }
}

/// Runs one command without touching the process: `args` is argv, `stdin` the
/// request. [`main`] wraps this; tests call it directly.
pub fn run(plugin: &impl SignPlugin, args: &[String], stdin: &[u8]) -> Outcome {
    let valid = [
        command::GET_PLUGIN_METADATA,
        command::DESCRIBE_KEY,
        command::GENERATE_SIGNATURE,
        command::GENERATE_ENVELOPE,
    ];
    let cmd = match args {
        [_, cmd] if valid.contains(&cmd.as_str()) => cmd.as_str(),
        _ => {
            return respond::<()>(Err(PluginError::validation(format!(
                "Invalid command, valid commands are: {}",
                valid.join("|")
            ))));
        }
    };
    match cmd {
        command::GET_PLUGIN_METADATA => {
            respond(parse::<GetMetadataRequest>(stdin).map(|r| plugin.metadata(&r)))
        }
        command::DESCRIBE_KEY => respond(parse::<DescribeKeyRequest>(stdin).and_then(|r| {
            check_version(&r.contract_version)?;
            plugin.describe_key(r)
        })),
        command::GENERATE_SIGNATURE => {
            respond(parse::<GenerateSignatureRequest>(stdin).and_then(|r| {
                check_version(&r.contract_version)?;
                plugin.generate_signature(r)
            }))
        }
        _ => respond(parse::<GenerateEnvelopeRequest>(stdin).and_then(|r| {
            check_version(&r.contract_version)?;
            plugin.generate_envelope(r)
        })),
    }
}

/// The plugin's `main`: argv, stdin, one response, exit code.
pub fn main(plugin: &impl SignPlugin) -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mut stdin = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        eprintln!(
            "{}",
            serde_json::json!({"errorCode": "ERROR", "errorMessage": format!("cannot read stdin: {e}")})
        );
        return ExitCode::from(1);
    }
    // Point fd 1 at stderr while plugin code runs; keep the real stdout for the answer.
    let _ = std::io::stdout().flush();
    let real_stdout = nix::unistd::dup(std::io::stdout()).ok();
    if real_stdout.is_some() {
        let _ = nix::unistd::dup2_stdout(std::io::stderr());
    }
    let outcome = run(plugin, &args, &stdin);
    let _ = std::io::stdout().flush();
    if let Some(fd) = &real_stdout {
        let _ = nix::unistd::dup2_stdout(fd);
    }
    if outcome.exit_code == 0 {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&outcome.stdout);
        let _ = out.flush();
    } else {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(&outcome.stderr);
        let _ = err.flush();
    }
    ExitCode::from(outcome.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Meta;
    impl SignPlugin for Meta {
        fn metadata(&self, _: &GetMetadataRequest) -> GetMetadataResponse {
            GetMetadataResponse {
                name: "m".into(),
                description: "d".into(),
                version: "1.0.0".into(),
                url: "u".into(),
                supported_contract_versions: vec![CONTRACT_VERSION.into()],
                capabilities: vec![Capability::SignatureGeneratorRaw],
            }
        }
    }

    fn args(cmd: &str) -> Vec<String> {
        vec!["notation-m".into(), cmd.into()]
    }

    #[test]
    fn dispatches_and_validates() {
        let ok = run(&Meta, &args("get-plugin-metadata"), b"{}");
        assert_eq!(ok.exit_code, 0);
        let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
        assert_eq!(v["capabilities"][0], "SIGNATURE_GENERATOR.RAW");

        let bad = run(&Meta, &args("sign"), b"{}");
        assert_eq!(bad.exit_code, 1);
        assert!(String::from_utf8_lossy(&bad.stderr).contains("Invalid command"));

        let unsupported = run(
            &Meta,
            &args("describe-key"),
            br#"{"contractVersion":"1.0","keyId":"k"}"#,
        );
        let e: PluginError = serde_json::from_slice(&unsupported.stderr).unwrap();
        assert_eq!(e.error_code, ErrorCode::Validation);
        assert!(e.error_message.unwrap().contains("not supported"));

        let version = run(
            &Meta,
            &args("describe-key"),
            br#"{"contractVersion":"2.0","keyId":"k"}"#,
        );
        let e: PluginError = serde_json::from_slice(&version.stderr).unwrap();
        assert_eq!(e.error_code, ErrorCode::UnsupportedContractVersion);

        let garbage = run(&Meta, &args("describe-key"), b"not json");
        let e: PluginError = serde_json::from_slice(&garbage.stderr).unwrap();
        assert!(
            e.error_message
                .unwrap()
                .starts_with("Input is not a valid JSON")
        );
        assert!(garbage.stdout.is_empty());
    }
}
