//! A plugin as a signer (notary-spec.md §1.9, §1.10, §1.13). It implements both
//! signer traits of notation-core, so plugin keys go through the same checked
//! signing path as the built-in key: `sign_artifact` then checks the algorithm, the
//! chain, the leaf key, the envelope and the payload. Here we check what only the
//! plugin exchange knows: metadata, the echoed keyId, known key specs and algorithm
//! names, base64, the envelope type, and reserved annotations.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use notation_core::envelope::SignatureFormat;
use notation_core::payload::PAYLOAD_CONTENT_TYPE;
use notation_core::signer::{EnvelopeSigner, GeneratedEnvelope, RawSignature, RawSigner, Signer};
use notation_core::{Error as CoreError, KeySpec, SignatureAlgorithm};

use super::client::PluginClient;
use super::error::HostError;
use crate::wire::*;

/// Which capability signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// describe-key + generate-signature.
    Raw,
    /// generate-envelope.
    Envelope,
}

/// A plugin key ready to sign.
pub struct PluginSigner {
    client: PluginClient,
    key_id: String,
    config: PluginConfig,
    metadata: GetMetadataResponse,
    mode: Mode,
    /// describe-key's outcome: asked once per signer, even by concurrent signings
    /// (a batch), and a failure is kept too, so it is reported for every artifact
    /// without running the plugin again.
    key_spec: Mutex<Option<Result<KeySpec, Arc<CoreError>>>>,
}

/// A describe-key failure shared by every signing that needs the key spec.
#[derive(Debug)]
struct SharedError(Arc<CoreError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            // The plugin's own error, as it would read unshared.
            CoreError::Signer(inner) => inner.fmt(f),
            other => other.fmt(f),
        }
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            CoreError::Signer(inner) => inner.source(),
            other => other.source(),
        }
    }
}

fn core(e: HostError) -> CoreError {
    CoreError::Signer(Box::new(e))
}

impl PluginSigner {
    /// Runs get-plugin-metadata (with `config`), validates it, and picks the
    /// capability: RAW when the plugin offers both, as notation does.
    pub fn new(
        client: PluginClient,
        key_id: &str,
        config: PluginConfig,
    ) -> Result<PluginSigner, HostError> {
        let metadata = client.metadata(&config)?;
        let mode = if metadata.has(&Capability::SignatureGeneratorRaw) {
            Mode::Raw
        } else if metadata.has(&Capability::SignatureGeneratorEnvelope) {
            Mode::Envelope
        } else {
            return Err(HostError::Metadata {
                name: client.name().to_owned(),
                reason: format!(
                    "the plugin has no signing capability (it offers {:?}); it needs SIGNATURE_GENERATOR.RAW or SIGNATURE_GENERATOR.ENVELOPE",
                    metadata
                        .capabilities
                        .iter()
                        .map(Capability::as_str)
                        .collect::<Vec<_>>()
                ),
            });
        };
        Ok(PluginSigner {
            client,
            key_id: key_id.to_owned(),
            config,
            metadata,
            mode,
            key_spec: Mutex::new(None),
        })
    }

    /// Signs with `mode` instead of the preferred one (for `plugin check`, which
    /// exercises every capability a plugin offers).
    pub fn with_mode(mut self, mode: Mode) -> Result<PluginSigner, HostError> {
        let cap = match mode {
            Mode::Raw => Capability::SignatureGeneratorRaw,
            Mode::Envelope => Capability::SignatureGeneratorEnvelope,
        };
        if !self.metadata.has(&cap) {
            return Err(HostError::Metadata {
                name: self.client.name().to_owned(),
                reason: format!("the plugin does not offer {cap}"),
            });
        }
        self.mode = mode;
        Ok(self)
    }

    /// The validated metadata.
    pub fn metadata(&self) -> &GetMetadataResponse {
        &self.metadata
    }

    /// The capability in use.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `<name>/<version>`, appended to the signing agent for RAW signatures.
    pub fn agent(&self) -> String {
        format!("{}/{}", self.metadata.name, self.metadata.version)
    }

    /// This plugin as a notation-core signer.
    pub fn signer(&self) -> Signer<'_> {
        match self.mode {
            Mode::Raw => Signer::Raw(self),
            Mode::Envelope => Signer::Envelope(self),
        }
    }

    /// Runs describe-key and checks its answer.
    fn describe_key(&self) -> Result<KeySpec, CoreError> {
        let req = DescribeKeyRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: self.key_id.clone(),
            plugin_config: self.config.clone(),
        };
        let resp: DescribeKeyResponse = self
            .client
            .call(command::DESCRIBE_KEY, &req)
            .map_err(core)?;
        self.check_key_id(command::DESCRIBE_KEY, &resp.key_id)?;
        resp.key_spec.parse().map_err(|_| {
            self.mismatch(
                command::DESCRIBE_KEY,
                format!("unknown key spec {:?}", resp.key_spec),
            )
        })
    }

    fn mismatch(&self, command: &str, what: String) -> CoreError {
        core(HostError::Mismatch {
            name: self.client.name().to_owned(),
            command: command.to_owned(),
            what,
        })
    }

    fn check_key_id(&self, command: &str, got: &str) -> Result<(), CoreError> {
        if got != self.key_id {
            return Err(self.mismatch(
                command,
                format!(
                    "keyID in {command} response {got:?} does not match request {:?}",
                    self.key_id
                ),
            ));
        }
        Ok(())
    }
}

impl RawSigner for PluginSigner {
    fn key_spec(&self) -> notation_core::Result<KeySpec> {
        let mut known = self.key_spec.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = match &*known {
            Some(outcome) => outcome.clone(),
            None => {
                let outcome = self.describe_key().map_err(Arc::new);
                *known = Some(outcome.clone());
                outcome
            }
        };
        outcome.map_err(|e| CoreError::Signer(Box::new(SharedError(e))))
    }

    fn sign(&self, key_spec: KeySpec, payload: &[u8]) -> notation_core::Result<RawSignature> {
        let req = GenerateSignatureRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: self.key_id.clone(),
            key_spec: key_spec.to_string(),
            hash_algorithm: key_spec.hash().to_string(),
            payload: payload.to_vec().into(),
            plugin_config: self.config.clone(),
        };
        let resp: GenerateSignatureResponse = self
            .client
            .call(command::GENERATE_SIGNATURE, &req)
            .map_err(core)?;
        self.check_key_id(command::GENERATE_SIGNATURE, &resp.key_id)?;
        let algorithm: SignatureAlgorithm = resp.signing_algorithm.parse().map_err(|_| {
            self.mismatch(
                command::GENERATE_SIGNATURE,
                format!("unknown signing algorithm {:?}", resp.signing_algorithm),
            )
        })?;
        if resp.certificate_chain.is_empty() {
            return Err(self.mismatch(
                command::GENERATE_SIGNATURE,
                "the certificate chain is empty".into(),
            ));
        }
        Ok(RawSignature {
            signature: resp.signature.0,
            algorithm,
            certificate_chain: resp.certificate_chain.into_iter().map(|c| c.0).collect(),
        })
    }
}

impl EnvelopeSigner for PluginSigner {
    fn generate_envelope(
        &self,
        payload: &[u8],
        format: SignatureFormat,
        expiry_seconds: Option<u64>,
    ) -> notation_core::Result<GeneratedEnvelope> {
        let req = GenerateEnvelopeRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: self.key_id.clone(),
            payload_type: PAYLOAD_CONTENT_TYPE.into(),
            signature_envelope_type: format.media_type().into(),
            payload: payload.to_vec().into(),
            expiry_duration_in_seconds: expiry_seconds,
            plugin_config: self.config.clone(),
        };
        let resp: GenerateEnvelopeResponse = self
            .client
            .call(command::GENERATE_ENVELOPE, &req)
            .map_err(core)?;
        let annotations: BTreeMap<String, String> = resp.annotations.unwrap_or_default();
        if let Some(k) = annotations
            .keys()
            .find(|k| k.starts_with(notation_core::descriptor::RESERVED_ANNOTATION_PREFIX))
        {
            return Err(self.mismatch(
                command::GENERATE_ENVELOPE,
                format!("annotation {k:?} uses the reserved prefix io.cncf.notary, which only notation may set"),
            ));
        }
        Ok(GeneratedEnvelope {
            envelope: resp.signature_envelope.0,
            media_type: resp.signature_envelope_type,
            annotations,
        })
    }
}
