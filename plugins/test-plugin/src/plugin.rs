//! The handlers: the local-key signing of `notation-local-key`, plus the faults that
//! live inside a handler (the ones that corrupt an answer). The faults that act on the
//! process itself are in main.rs.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use notation_core::envelope::{self, SignatureFormat, SignedAttributes};
use notation_core::payload::{PAYLOAD_CONTENT_TYPE, Payload};
use notation_core::signer::RawSigner as _;
use notation_core::{Digest, KeySpec, SignatureAlgorithm};
use notation_local_key as local;
use plugin_protocol::plugin::SignPlugin;
use plugin_protocol::wire::{
    Base64Bytes, CONTRACT_VERSION, DescribeKeyRequest, DescribeKeyResponse, ErrorCode,
    GenerateEnvelopeRequest, GenerateEnvelopeResponse, GenerateSignatureRequest,
    GenerateSignatureResponse, GetMetadataRequest, GetMetadataResponse, PluginError, command,
};

use crate::config::{Config, Fault};

/// The plugin name (directory `plugins/test-plugin/`).
pub const NAME: &str = "test-plugin";
/// The version in metadata and in the signing agent of generated envelopes.
pub const VERSION: &str = "1.0.0";
/// The message of `fault=error-json`.
pub const ACCESS_DENIED_MESSAGE: &str = "the key vault refused access";
/// The annotation of `fault=added-annotations`.
pub const FORGED_ANNOTATION: (&str, &str) = ("io.cncf.notary.forged", "1");

/// The test plugin, with the switches of this invocation.
pub struct TestPlugin {
    /// Parsed from the request's `pluginConfig`.
    pub config: Config,
}

/// The `ACCESS_DENIED` error of `fault=error-json`.
pub fn access_denied() -> PluginError {
    PluginError::new(ErrorCode::AccessDenied, ACCESS_DENIED_MESSAGE)
}

fn generic(e: impl std::fmt::Display) -> PluginError {
    PluginError::new(ErrorCode::Generic, e.to_string())
}

/// The key id answered by `fault=changed-key-id`.
pub fn changed_key_id(key_id: &str) -> String {
    format!("{key_id}-changed")
}

/// The signing algorithm of another key spec of the same family (`fault=wrong-algorithm`).
pub fn other_algorithm(spec: KeySpec) -> SignatureAlgorithm {
    match spec {
        KeySpec::Rsa2048 => SignatureAlgorithm::RsaPssSha384,
        KeySpec::Rsa3072 => SignatureAlgorithm::RsaPssSha512,
        KeySpec::Rsa4096 => SignatureAlgorithm::RsaPssSha256,
        KeySpec::Ec256 => SignatureAlgorithm::EcdsaSha384,
        KeySpec::Ec384 => SignatureAlgorithm::EcdsaSha512,
        KeySpec::Ec521 => SignatureAlgorithm::EcdsaSha256,
    }
}

/// Flips every bit of the middle byte (`fault=bad-signature`).
pub fn flip(signature: &mut [u8]) {
    if let Some(b) = signature.get_mut(signature.len() / 2) {
        *b ^= 0xff;
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A self-signed code-signing certificate (the profile of `cert generate-test`) for a
/// fresh key of `spec`, valid from a minute ago for a day: a well-formed chain that
/// satisfies the chain rules but is not the signing key's (`fault=wrong-chain`).
pub fn other_certificate(spec: KeySpec) -> Result<Vec<u8>, PluginError> {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, RsaKeySize,
    };
    let key = match spec {
        KeySpec::Rsa2048 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048),
        KeySpec::Rsa3072 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072),
        KeySpec::Rsa4096 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096),
        KeySpec::Ec256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeySpec::Ec384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeySpec::Ec521 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512),
    }
    .map_err(generic)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Notary");
    params
        .distinguished_name
        .push(DnType::CommonName, "test-plugin wrong-chain");
    let start = time::OffsetDateTime::from_unix_timestamp(now() - 60).map_err(generic)?;
    params.not_before = start;
    params.not_after = start + time::Duration::days(1);
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    let cert = params.self_signed(&key).map_err(generic)?;
    Ok(cert.der().to_vec())
}

fn response_annotations(
    base: &BTreeMap<String, String>,
    forged: bool,
) -> Option<BTreeMap<String, String>> {
    let mut a = base.clone();
    if forged {
        a.insert(FORGED_ANNOTATION.0.into(), FORGED_ANNOTATION.1.into());
    }
    (!a.is_empty()).then_some(a)
}

impl TestPlugin {
    /// `fault=stray-print` and `fault=error-json`, shared by every handler.
    #[allow(clippy::print_stdout)] // the point of stray-print: the SDK must keep this off the real stdout
    fn common_faults(&self, cmd: &str) -> Result<(), PluginError> {
        if self.config.is(cmd, Fault::StrayPrint) {
            println!("stray");
        }
        if self.config.is(cmd, Fault::ErrorJson) {
            return Err(access_denied());
        }
        Ok(())
    }
}

impl SignPlugin for TestPlugin {
    fn metadata(&self, _: &GetMetadataRequest) -> GetMetadataResponse {
        // error-json for get-plugin-metadata is answered in main.rs: this method cannot fail.
        let _ = self.common_faults(command::GET_PLUGIN_METADATA);
        GetMetadataResponse {
            name: NAME.into(),
            description: "Test plugin for notation hosts: signs with local files; capabilities and faults set by pluginConfig".into(),
            version: VERSION.into(),
            url: "https://github.com/notaryproject/notation".into(),
            supported_contract_versions: vec![CONTRACT_VERSION.into()],
            capabilities: self.config.capabilities.clone(),
        }
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        let cmd = command::DESCRIBE_KEY;
        self.common_faults(cmd)?;
        let mut resp = local::describe_key(&req)?;
        if self.config.is(cmd, Fault::ChangedKeyId) {
            resp.key_id = changed_key_id(&req.key_id);
        }
        Ok(resp)
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        let cmd = command::GENERATE_SIGNATURE;
        self.common_faults(cmd)?;
        let mut resp = local::generate_signature(&req)?;
        let spec: KeySpec = req.key_spec.parse().map_err(generic)?;
        match self.config.fault_for(cmd) {
            Some(Fault::ChangedKeyId) => resp.key_id = changed_key_id(&req.key_id),
            Some(Fault::BadSignature) => flip(&mut resp.signature.0),
            Some(Fault::WrongAlgorithm) => {
                resp.signing_algorithm = other_algorithm(spec).to_string()
            }
            Some(Fault::WrongChain) => {
                resp.certificate_chain = vec![Base64Bytes(other_certificate(spec)?)]
            }
            _ => {}
        }
        Ok(resp)
    }

    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        let cmd = command::GENERATE_ENVELOPE;
        self.common_faults(cmd)?;
        if req.payload_type != PAYLOAD_CONTENT_TYPE {
            return Err(PluginError::validation(format!(
                "unsupported payloadType {:?}: expected {PAYLOAD_CONTENT_TYPE:?}",
                req.payload_type
            )));
        }
        let format = SignatureFormat::from_media_type(&req.signature_envelope_type).ok_or_else(|| {
            PluginError::validation(format!(
                "unsupported signatureEnvelopeType {:?}: expected \"application/jose+json\" or \"application/cose\"",
                req.signature_envelope_type
            ))
        })?;
        let mut payload = Payload::parse(&req.payload.0).map_err(|e| {
            PluginError::validation(format!("payload is not a Notary payload: {e}"))
        })?;
        let key = local::load_key(&req.key_id)?;
        let spec = local::key_spec_of(&key)?;
        let fault = self.config.fault_for(cmd);

        let payload_bytes = if fault == Some(Fault::TamperedPayload) {
            let d = &payload.target_artifact.digest;
            payload.target_artifact.digest = Digest::sha256_of(d.as_str().as_bytes());
            payload.to_struct_order_json()
        } else {
            req.payload.0.clone()
        };
        let signing_time = now();
        let expiry = req
            .expiry_duration_in_seconds
            .map(|s| {
                i64::try_from(s)
                    .ok()
                    .and_then(|s| signing_time.checked_add(s))
            })
            .map(|e| {
                e.ok_or_else(|| PluginError::validation("expiryDurationInSeconds is too large"))
            })
            .transpose()?;
        let attrs = SignedAttributes {
            algorithm: spec.signature_algorithm(),
            signing_time,
            expiry,
            extended: vec![],
        };
        let unsigned = envelope::prepare(format, &attrs, &payload_bytes).map_err(generic)?;
        let mut raw = key
            .sign(spec, &unsigned.to_be_signed())
            .map_err(|e| generic(format!("signing failed: {e}")))?;
        if fault == Some(Fault::BadSignature) {
            flip(&mut raw.signature);
        }
        let chain = if fault == Some(Fault::WrongChain) {
            vec![other_certificate(spec)?]
        } else {
            raw.certificate_chain
        };
        let envelope = unsigned
            .finish(&raw.signature, &chain, &format!("{NAME}/{VERSION}"))
            .map_err(generic)?;
        let envelope_type = if fault == Some(Fault::WrongEnvelopeType) {
            match format {
                SignatureFormat::Jws => SignatureFormat::Cose,
                SignatureFormat::Cose => SignatureFormat::Jws,
            }
            .media_type()
        } else {
            format.media_type()
        };
        Ok(GenerateEnvelopeResponse {
            signature_envelope: Base64Bytes(envelope),
            signature_envelope_type: envelope_type.into(),
            annotations: response_annotations(
                &self.config.annotations,
                fault == Some(Fault::AddedAnnotations),
            ),
        })
    }
}
