//! The switches read from `pluginConfig`. Keys other than the ones below are ignored,
//! so a host test may send any extra configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use plugin_protocol::wire::{Capability, PluginConfig, PluginError, command};

const ALL_COMMANDS: [&str; 4] = [
    command::GET_PLUGIN_METADATA,
    command::DESCRIBE_KEY,
    command::GENERATE_SIGNATURE,
    command::GENERATE_ENVELOPE,
];

/// A misbehaviour, chosen with `fault=<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer another keyId.
    ChangedKeyId,
    /// Flip a byte of the signature.
    BadSignature,
    /// signingAlgorithm of another key spec of the same family.
    WrongAlgorithm,
    /// A chain whose leaf is another, freshly generated, self-signed certificate.
    WrongChain,
    /// Answer the other envelope type.
    WrongEnvelopeType,
    /// Sign a payload whose targetArtifact digest is changed.
    TamperedPayload,
    /// Return a manifest annotation with the reserved prefix.
    AddedAnnotations,
    /// `not json` on stdout, exit 0.
    GarbageStdout,
    /// Exit 3, nothing on stderr.
    Crash,
    /// ACCESS_DENIED error JSON.
    ErrorJson,
    /// Sleep `sleep_seconds` before answering.
    Sleep,
    /// 65 MiB + 1 bytes on stdout, exit 0.
    HugeOutput,
    /// `println!` inside the handler, then answer normally.
    StrayPrint,
}

impl Fault {
    const ALL: [(Fault, &'static str); 13] = [
        (Fault::ChangedKeyId, "changed-key-id"),
        (Fault::BadSignature, "bad-signature"),
        (Fault::WrongAlgorithm, "wrong-algorithm"),
        (Fault::WrongChain, "wrong-chain"),
        (Fault::WrongEnvelopeType, "wrong-envelope-type"),
        (Fault::TamperedPayload, "tampered-payload"),
        (Fault::AddedAnnotations, "added-annotations"),
        (Fault::GarbageStdout, "garbage-stdout"),
        (Fault::Crash, "crash"),
        (Fault::ErrorJson, "error-json"),
        (Fault::Sleep, "sleep"),
        (Fault::HugeOutput, "huge-output"),
        (Fault::StrayPrint, "stray-print"),
    ];

    fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.iter().find(|(_, n)| *n == s).map(|(f, _)| *f)
    }

    /// The fault's name.
    pub fn name(self) -> &'static str {
        Fault::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("", |(_, n)| n)
    }

    /// The commands the fault has a meaning for; without `fault_command` it applies to
    /// all of them.
    pub fn commands(self) -> &'static [&'static str] {
        match self {
            Fault::ChangedKeyId => &[command::DESCRIBE_KEY, command::GENERATE_SIGNATURE],
            Fault::BadSignature | Fault::WrongChain => {
                &[command::GENERATE_SIGNATURE, command::GENERATE_ENVELOPE]
            }
            Fault::WrongAlgorithm => &[command::GENERATE_SIGNATURE],
            Fault::WrongEnvelopeType | Fault::TamperedPayload | Fault::AddedAnnotations => {
                &[command::GENERATE_ENVELOPE]
            }
            Fault::GarbageStdout
            | Fault::Crash
            | Fault::ErrorJson
            | Fault::Sleep
            | Fault::HugeOutput
            | Fault::StrayPrint => &ALL_COMMANDS,
        }
    }
}

/// Everything the test plugin reads from `pluginConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `capabilities`: advertised capabilities (default RAW).
    pub capabilities: Vec<Capability>,
    /// `annotations`: manifest annotations returned by generate-envelope.
    pub annotations: BTreeMap<String, String>,
    /// `fault`.
    pub fault: Option<Fault>,
    /// `fault_command`: restricts the fault to one command.
    pub fault_command: Option<String>,
    /// `sleep_seconds` (default 600).
    pub sleep_seconds: u64,
    /// `record`: append one JSON line per invocation to this file.
    pub record: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            capabilities: vec![Capability::SignatureGeneratorRaw],
            annotations: BTreeMap::new(),
            fault: None,
            fault_command: None,
            sleep_seconds: 600,
            record: None,
        }
    }
}

fn bad(key: &str, value: &str, expected: &str) -> PluginError {
    PluginError::validation(format!(
        "test-plugin: invalid pluginConfig {key}={value:?}: {expected}"
    ))
}

impl Config {
    /// Reads the switches; a malformed one is a `VALIDATION_ERROR`, so a typo in a test
    /// fails loudly instead of silently signing.
    pub fn parse(c: &PluginConfig) -> Result<Config, PluginError> {
        let mut cfg = Config::default();
        if let Some(v) = c.get("capabilities") {
            cfg.capabilities = v
                .split(',')
                .map(str::trim)
                .map(|item| match item {
                    "RAW" => Ok(Capability::SignatureGeneratorRaw),
                    "ENVELOPE" => Ok(Capability::SignatureGeneratorEnvelope),
                    // Full capability strings pass through, so a test can advertise a
                    // verifier-only or an unknown capability.
                    full if full.contains('.') => Ok(Capability::from(full.to_owned())),
                    _ => Err(bad(
                        "capabilities",
                        v,
                        "expected RAW, ENVELOPE or RAW,ENVELOPE (or full capability strings)",
                    )),
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = c.get("annotations") {
            for pair in v.split(';').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some((k, val)) if !k.is_empty() => {
                        cfg.annotations.insert(k.to_owned(), val.to_owned());
                    }
                    _ => return Err(bad("annotations", v, "expected k1=v1;k2=v2")),
                }
            }
        }
        if let Some(v) = c.get("fault") {
            let names: Vec<&str> = Fault::ALL.iter().map(|(_, n)| *n).collect();
            cfg.fault =
                Some(Fault::parse(v).ok_or_else(|| {
                    bad("fault", v, &format!("expected one of {}", names.join("|")))
                })?);
        }
        if let Some(v) = c.get("fault_command") {
            let Some(fault) = cfg.fault else {
                return Err(bad("fault_command", v, "needs a fault"));
            };
            if !fault.commands().contains(&v.as_str()) {
                return Err(bad(
                    "fault_command",
                    v,
                    &format!(
                        "fault {} applies to {}",
                        fault.name(),
                        fault.commands().join("|")
                    ),
                ));
            }
            cfg.fault_command = Some(v.clone());
        }
        if let Some(v) = c.get("sleep_seconds") {
            cfg.sleep_seconds = v
                .parse()
                .map_err(|_| bad("sleep_seconds", v, "expected a whole number of seconds"))?;
        }
        cfg.record = c.get("record").map(PathBuf::from);
        Ok(cfg)
    }

    /// The fault to inject into `command`, if any.
    pub fn fault_for(&self, command: &str) -> Option<Fault> {
        let fault = self.fault?;
        let applies = match &self.fault_command {
            Some(only) => only == command,
            None => fault.commands().contains(&command),
        };
        applies.then_some(fault)
    }

    /// True when `fault` is injected into `command`.
    pub fn is(&self, command: &str, fault: Fault) -> bool {
        self.fault_for(command) == Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, PluginError> {
        Config::parse(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults() {
        let c = cfg(&[("unrelated", "x")]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.fault_for(command::GENERATE_SIGNATURE), None);
    }

    #[test]
    fn capabilities_and_annotations() {
        let c = cfg(&[
            ("capabilities", "RAW,ENVELOPE"),
            ("annotations", "k1=v1;k2=a=b;"),
        ])
        .unwrap();
        assert_eq!(
            c.capabilities,
            vec![
                Capability::SignatureGeneratorRaw,
                Capability::SignatureGeneratorEnvelope
            ]
        );
        assert_eq!(c.annotations["k1"], "v1");
        assert_eq!(c.annotations["k2"], "a=b");
        let c = cfg(&[("capabilities", "SIGNATURE_VERIFIER.TRUSTED_IDENTITY")]).unwrap();
        assert_eq!(c.capabilities, vec![Capability::VerifierTrustedIdentity]);
        assert!(cfg(&[("capabilities", "RAWR")]).is_err());
        assert!(cfg(&[("annotations", "novalue")]).is_err());
    }

    #[test]
    fn fault_scoping() {
        let c = cfg(&[("fault", "crash")]).unwrap();
        for cmd in ALL_COMMANDS {
            assert_eq!(c.fault_for(cmd), Some(Fault::Crash));
        }
        let c = cfg(&[("fault", "crash"), ("fault_command", "describe-key")]).unwrap();
        assert_eq!(c.fault_for("describe-key"), Some(Fault::Crash));
        assert_eq!(c.fault_for("get-plugin-metadata"), None);
        let c = cfg(&[("fault", "wrong-algorithm")]).unwrap();
        assert!(c.is("generate-signature", Fault::WrongAlgorithm));
        assert!(!c.is("describe-key", Fault::WrongAlgorithm));
        assert!(
            cfg(&[
                ("fault", "wrong-algorithm"),
                ("fault_command", "describe-key")
            ])
            .is_err()
        );
        assert!(cfg(&[("fault_command", "describe-key")]).is_err());
        assert!(cfg(&[("fault", "nope")]).is_err());
        assert_eq!(
            cfg(&[("fault", "sleep"), ("sleep_seconds", "2")])
                .unwrap()
                .sleep_seconds,
            2
        );
        assert!(cfg(&[("sleep_seconds", "-1")]).is_err());
        for (f, n) in Fault::ALL {
            assert_eq!(Fault::parse(n), Some(f));
            assert_eq!(f.name(), n);
        }
    }
}
