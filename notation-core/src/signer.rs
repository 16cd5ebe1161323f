//! The signer abstraction and the one signing path every key goes through.
//!
//! Two kinds of signer exist, mirroring the plugin capabilities (spec §1.4):
//! a [`RawSigner`] signs bytes (describe-key + generate-signature; local keys and
//! RAW plugins), and an [`EnvelopeSigner`] returns a finished envelope
//! (generate-envelope; ENVELOPE plugins). [`sign_artifact`] drives either one and
//! checks everything it gets back, so the built-in key has no shortcut that a plugin
//! would not have. A signature that fails any check is never returned.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::algorithm::{KeySpec, SignatureAlgorithm};
use crate::cert::Certificate;
use crate::chain::validate_signing_chain;
use crate::descriptor::Descriptor;
use crate::envelope::{self, EnvelopeContent, SignatureFormat, SignedAttributes};
use crate::error::{Error, Result};
use crate::payload::Payload;

/// What a raw signer returns for one `generate-signature`.
#[derive(Debug, Clone)]
pub struct RawSignature {
    /// Signature bytes: RSASSA-PSS, or ECDSA r||s.
    pub signature: Vec<u8>,
    /// The algorithm the signer says it used.
    pub algorithm: SignatureAlgorithm,
    /// DER certificates, leaf first, up to the root.
    pub certificate_chain: Vec<Vec<u8>>,
}

/// A signer of raw bytes.
pub trait RawSigner {
    /// The key's spec (`describe-key`).
    fn key_spec(&self) -> Result<KeySpec>;
    /// Hashes `payload` with the key spec's hash and signs it (`generate-signature`).
    fn sign(&self, key_spec: KeySpec, payload: &[u8]) -> Result<RawSignature>;
}

/// An envelope returned whole by a signer.
#[derive(Debug, Clone)]
pub struct GeneratedEnvelope {
    /// Envelope bytes.
    pub envelope: Vec<u8>,
    /// Envelope media type the signer says it produced.
    pub media_type: String,
    /// Annotations for the signature manifest.
    pub annotations: BTreeMap<String, String>,
}

/// A signer that builds the whole envelope.
pub trait EnvelopeSigner {
    /// Signs `payload` (the Notary payload JSON) into an envelope of `format`.
    fn generate_envelope(
        &self,
        payload: &[u8],
        format: SignatureFormat,
        expiry_seconds: Option<u64>,
    ) -> Result<GeneratedEnvelope>;
}

/// Either kind of signer.
#[derive(Clone, Copy)]
pub enum Signer<'a> {
    /// Signs bytes; the envelope is built here.
    Raw(&'a dyn RawSigner),
    /// Returns a finished envelope, which is checked here.
    Envelope(&'a dyn EnvelopeSigner),
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Envelope format.
    pub format: SignatureFormat,
    /// Signing time, Unix seconds (the caller's clock; whole seconds, spec §2.2).
    pub signing_time: i64,
    /// Validity after the signing time, in seconds.
    pub expiry_seconds: Option<u64>,
    /// `io.cncf.notary.signingAgent`.
    pub signing_agent: String,
}

/// A checked signature ready to store.
#[derive(Debug, Clone)]
pub struct SignedEnvelope {
    /// Envelope bytes.
    pub envelope: Vec<u8>,
    /// Its format.
    pub format: SignatureFormat,
    /// The envelope as parsed back and verified.
    pub content: EnvelopeContent,
    /// Annotations an envelope signer asked for (empty for raw signers).
    pub annotations: BTreeMap<String, String>,
}

/// Signs `target` and returns an envelope that has been parsed back, verified with
/// its leaf certificate, and checked against the chain rules at signing time.
pub fn sign_artifact(
    signer: Signer<'_>,
    target: &Descriptor,
    opts: &SignOptions,
) -> Result<SignedEnvelope> {
    let payload = Payload::new(target.clone());
    let expiry = opts
        .expiry_seconds
        .map(|s| {
            i64::try_from(s)
                .ok()
                .and_then(|s| opts.signing_time.checked_add(s))
                .ok_or_else(|| Error::InvalidOptions("expiry duration is too large".into()))
        })
        .transpose()?;
    match signer {
        Signer::Raw(raw) => {
            let key_spec = raw.key_spec()?;
            let payload_bytes = match opts.format {
                SignatureFormat::Jws => payload.to_sorted_json(),
                SignatureFormat::Cose => payload.to_struct_order_json(),
            };
            let attrs = SignedAttributes {
                algorithm: key_spec.signature_algorithm(),
                signing_time: opts.signing_time,
                expiry,
                extended: Vec::new(),
            };
            let unsigned = envelope::prepare(opts.format, &attrs, &payload_bytes)?;
            let raw_sig = raw.sign(key_spec, &unsigned.to_be_signed())?;
            if raw_sig.algorithm != attrs.algorithm {
                return Err(Error::SignerAlgorithmMismatch {
                    key_spec: key_spec.to_string(),
                    required: attrs.algorithm.to_string(),
                    returned: raw_sig.algorithm.to_string(),
                });
            }
            let chain = raw_sig
                .certificate_chain
                .iter()
                .map(|der| Certificate::from_der(der))
                .collect::<Result<Vec<_>>>()?;
            let leaf_spec = validate_signing_chain(&chain, Some(opts.signing_time))?;
            if leaf_spec != key_spec {
                return Err(Error::AlgorithmMismatch {
                    from_cert: leaf_spec.signature_algorithm().to_string(),
                    specified: key_spec.signature_algorithm().to_string(),
                });
            }
            let bytes = unsigned.finish(
                &raw_sig.signature,
                &raw_sig.certificate_chain,
                &opts.signing_agent,
            )?;
            let content = verify_generated(opts.format, &bytes)?;
            if content.payload != payload_bytes {
                return Err(Error::EnvelopeMismatch(
                    "the signed payload differs from the payload that was built".into(),
                ));
            }
            Ok(SignedEnvelope {
                envelope: bytes,
                format: opts.format,
                content,
                annotations: BTreeMap::new(),
            })
        }
        Signer::Envelope(env_signer) => {
            let generated = env_signer.generate_envelope(
                &payload.to_struct_order_json(),
                opts.format,
                opts.expiry_seconds,
            )?;
            if generated.media_type != opts.format.media_type() {
                return Err(Error::EnvelopeMismatch(format!(
                    "signatureEnvelopeType in generateEnvelope response {:?} does not match request {:?}",
                    generated.media_type,
                    opts.format.media_type()
                )));
            }
            let content = verify_generated(opts.format, &generated.envelope)?;
            validate_signing_chain(&content.signer_info.certificate_chain, None)?;
            check_payload_unchanged(target, &content.payload)?;
            Ok(SignedEnvelope {
                envelope: generated.envelope,
                format: opts.format,
                content,
                annotations: generated.annotations,
            })
        }
    }
}

fn verify_generated(format: SignatureFormat, bytes: &[u8]) -> Result<EnvelopeContent> {
    envelope::verify(format, bytes).map_err(|e| match e {
        Error::SignatureInvalid => Error::SignatureFormat(
            "generated signature failed verification: the signature does not verify with the leaf certificate's public key".into(),
        ),
        other => other,
    })
}

/// An envelope signer may add annotations to the signed descriptor, but may not
/// change or drop anything, nor add members (spec §1.10, caller checks 4–5).
pub fn check_payload_unchanged(original: &Descriptor, signed: &[u8]) -> Result<()> {
    let value: Value = serde_json::from_slice(signed).map_err(|e| Error::Payload(e.to_string()))?;
    let top = value
        .as_object()
        .ok_or_else(|| Error::Payload("payload is not a JSON object".into()))?;
    let unknown: Vec<&String> = top.keys().filter(|k| *k != "targetArtifact").collect();
    let desc = top
        .get("targetArtifact")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::Payload("payload has no targetArtifact object".into()))?;
    let allowed = [
        "mediaType",
        "digest",
        "size",
        "urls",
        "annotations",
        "data",
        "platform",
        "artifactType",
    ];
    let mut unknown: Vec<String> = unknown.into_iter().cloned().collect();
    unknown.extend(
        desc.keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .cloned(),
    );
    if !unknown.is_empty() {
        return Err(Error::EnvelopeMismatch(format!(
            "during signing, following unknown attributes were added to subject descriptor: {unknown:?}"
        )));
    }
    let signed = Payload::parse(signed)?.target_artifact;
    let kept = signed.media_type == original.media_type
        && signed.digest == original.digest
        && signed.size == original.size
        && original
            .annotations
            .iter()
            .all(|(k, v)| signed.annotations.get(k) == Some(v));
    if !kept {
        return Err(Error::EnvelopeMismatch(format!(
            "during signing descriptor subject has changed from {} to {}",
            serde_json::to_string(original).unwrap_or_default(),
            serde_json::to_string(&signed).unwrap_or_default()
        )));
    }
    Ok(())
}
