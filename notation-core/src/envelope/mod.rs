//! Signature envelopes (spec §2.2–§2.4): the format-independent model, and
//! dispatch to JWS (`application/jose+json`) and COSE (`application/cose`).
//!
//! Building is split in two so that any signer, local or remote, signs the exact
//! bytes an envelope needs: [`prepare`] returns the to-be-signed bytes, and
//! [`Unsigned::finish`] adds the signature and certificate chain.

pub mod cose;
pub mod jws;

use std::fmt;
use std::str::FromStr;

use crate::algorithm::SignatureAlgorithm;
use crate::cert::Certificate;
use crate::error::{Error, Result};
use crate::payload::PAYLOAD_CONTENT_TYPE;

/// Header names of the Notary Project (spec §2.2).
pub mod headers {
    /// Signing scheme (critical).
    pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
    /// Signing time (`notary.x509`).
    pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
    /// Authentic signing time (`notary.x509.signingAuthority`, critical).
    pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
    /// Expiry (critical when present).
    pub const EXPIRY: &str = "io.cncf.notary.expiry";
    /// Signing agent (unprotected).
    pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";
    /// RFC 3161 timestamp countersignature (unprotected).
    pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
}

/// The only signing scheme this signer produces.
pub const SCHEME_X509: &str = "notary.x509";
/// The signing-authority scheme, accepted when reading.
pub const SCHEME_X509_SIGNING_AUTHORITY: &str = "notary.x509.signingAuthority";

/// Envelope format, chosen by `--signature-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureFormat {
    /// JWS JSON serialization, `application/jose+json`.
    Jws,
    /// COSE_Sign1, `application/cose`.
    Cose,
}

impl SignatureFormat {
    /// Media type of the envelope (manifest layer and `signatureEnvelopeType`).
    pub fn media_type(self) -> &'static str {
        match self {
            SignatureFormat::Jws => "application/jose+json",
            SignatureFormat::Cose => "application/cose",
        }
    }

    /// The format for an envelope media type.
    pub fn from_media_type(mt: &str) -> Option<SignatureFormat> {
        match mt {
            "application/jose+json" => Some(SignatureFormat::Jws),
            "application/cose" => Some(SignatureFormat::Cose),
            _ => None,
        }
    }

    /// `jws` or `cose`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureFormat::Jws => "jws",
            SignatureFormat::Cose => "cose",
        }
    }
}

impl fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignatureFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<SignatureFormat> {
        match s {
            "jws" => Ok(SignatureFormat::Jws),
            "cose" => Ok(SignatureFormat::Cose),
            _ => Err(Error::Unsupported {
                what: "signature format",
                value: s.to_owned(),
            }),
        }
    }
}

/// A signed attribute beyond the ones the spec names ("extended attributes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedAttribute {
    /// Header name.
    pub key: String,
    /// String value.
    pub value: String,
    /// Listed in `crit`.
    pub critical: bool,
}

/// The protected attributes a signer sets (spec §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAttributes {
    /// Signing algorithm (from the key spec).
    pub algorithm: SignatureAlgorithm,
    /// Signing time, Unix seconds.
    pub signing_time: i64,
    /// Expiry, Unix seconds.
    pub expiry: Option<i64>,
    /// Extra signed attributes, in the order they are listed.
    pub extended: Vec<ExtendedAttribute>,
}

/// Everything read back from an envelope.
#[derive(Debug, Clone)]
pub struct SignerInfo {
    /// Algorithm named by the envelope (`alg`).
    pub algorithm: SignatureAlgorithm,
    /// Content type (`cty` / label 3).
    pub content_type: String,
    /// Signing scheme.
    pub signing_scheme: String,
    /// Signing time (`notary.x509`), Unix seconds.
    pub signing_time: Option<i64>,
    /// Authentic signing time (`notary.x509.signingAuthority`), Unix seconds.
    pub authentic_signing_time: Option<i64>,
    /// Expiry, Unix seconds.
    pub expiry: Option<i64>,
    /// Extended attributes.
    pub extended: Vec<ExtendedAttribute>,
    /// Certificate chain, leaf first.
    pub certificate_chain: Vec<Certificate>,
    /// Signing agent, if any.
    pub signing_agent: Option<String>,
    /// Timestamp countersignature (DER `TimeStampToken`), if any.
    pub timestamp_signature: Option<Vec<u8>>,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
}

/// A parsed envelope: the signed payload bytes and what was signed with them.
#[derive(Debug, Clone)]
pub struct EnvelopeContent {
    /// The payload exactly as signed.
    pub payload: Vec<u8>,
    /// Attributes, chain and signature.
    pub signer_info: SignerInfo,
}

/// An envelope waiting for its signature.
#[derive(Debug, Clone)]
pub enum Unsigned {
    /// A JWS: the two base64url segments.
    Jws(jws::UnsignedJws),
    /// A COSE_Sign1 without signature and chain.
    Cose(Box<cose::UnsignedCose>),
}

/// Builds the protected part of an envelope for `payload` and returns it with the
/// bytes a signer must sign (JWS signing input, or COSE `Sig_structure`).
pub fn prepare(
    format: SignatureFormat,
    attrs: &SignedAttributes,
    payload: &[u8],
) -> Result<Unsigned> {
    if let Some(expiry) = attrs.expiry
        && expiry <= attrs.signing_time
    {
        return Err(Error::InvalidOptions(
            "expiry must be later than the signing time".into(),
        ));
    }
    Ok(match format {
        SignatureFormat::Jws => Unsigned::Jws(jws::prepare(attrs, payload)),
        SignatureFormat::Cose => Unsigned::Cose(Box::new(cose::prepare(attrs, payload)?)),
    })
}

impl Unsigned {
    /// The exact bytes to sign.
    pub fn to_be_signed(&self) -> Vec<u8> {
        match self {
            Unsigned::Jws(u) => u.signing_input().into_bytes(),
            Unsigned::Cose(u) => u.to_be_signed(),
        }
    }

    /// The finished envelope bytes.
    pub fn finish(
        self,
        signature: &[u8],
        chain: &[Vec<u8>],
        signing_agent: &str,
    ) -> Result<Vec<u8>> {
        match self {
            Unsigned::Jws(u) => Ok(u.finish(signature, chain, signing_agent)),
            Unsigned::Cose(u) => (*u).finish(signature, chain, signing_agent),
        }
    }
}

/// Parses an envelope of the given format without checking its signature.
pub fn parse(format: SignatureFormat, envelope: &[u8]) -> Result<EnvelopeContent> {
    match format {
        SignatureFormat::Jws => jws::parse(envelope),
        SignatureFormat::Cose => cose::parse(envelope),
    }
}

/// Parses an envelope and checks its integrity (spec §2.3/§2.4 "Verification"):
/// a certificate chain is present, `alg` is the algorithm of the leaf key, the
/// signature verifies with the leaf key, and the content type is the Notary payload.
/// Trust (which roots, identities, revocation) is not decided here.
pub fn verify(format: SignatureFormat, envelope: &[u8]) -> Result<EnvelopeContent> {
    let content = parse(format, envelope)?;
    let info = &content.signer_info;
    let Some(leaf) = info.certificate_chain.first() else {
        return Err(Error::MalformedEnvelope {
            format: format_name(format),
            reason: "certificate chain is not present".into(),
        });
    };
    let from_leaf = leaf.key_spec()?.signature_algorithm();
    if from_leaf != info.algorithm {
        return Err(Error::AlgorithmMismatch {
            from_cert: from_leaf.to_string(),
            specified: info.algorithm.to_string(),
        });
    }
    let signed = match format {
        SignatureFormat::Jws => jws::signing_input_of(envelope)?,
        SignatureFormat::Cose => cose::to_be_signed_of(envelope)?,
    };
    crate::crypto::verify_signature(info.algorithm, leaf, &signed, &info.signature)?;
    if info.content_type != PAYLOAD_CONTENT_TYPE {
        return Err(Error::Payload(format!(
            "payload content type {:?} not supported",
            info.content_type
        )));
    }
    Ok(content)
}

fn format_name(format: SignatureFormat) -> &'static str {
    match format {
        SignatureFormat::Jws => "JWS",
        SignatureFormat::Cose => "COSE",
    }
}

/// Checks the header rules shared by both formats (spec §2.3 "Verification"):
/// scheme known and critical; expiry critical when present; the scheme's time
/// present and the other absent; every `crit` entry present.
pub(crate) fn check_attribute_rules(
    fmt_err: fn(String) -> Error,
    crit: &[String],
    present: &dyn Fn(&str) -> bool,
    info: &SignerInfo,
) -> Result<()> {
    if crit.is_empty() {
        return Err(fmt_err("missing \"crit\" header".into()));
    }
    let mut must_be_critical = vec![headers::SIGNING_SCHEME];
    if info.expiry.is_some() {
        must_be_critical.push(headers::EXPIRY);
    }
    match info.signing_scheme.as_str() {
        SCHEME_X509 => {
            if info.signing_time.is_none() {
                return Err(fmt_err(format!(
                    "{:?} header is required for the notary.x509 signing scheme",
                    headers::SIGNING_TIME
                )));
            }
            if info.authentic_signing_time.is_some() {
                return Err(fmt_err(format!(
                    "{:?} header must not be present for notary.x509 signing scheme",
                    headers::AUTHENTIC_SIGNING_TIME
                )));
            }
        }
        SCHEME_X509_SIGNING_AUTHORITY => {
            must_be_critical.push(headers::AUTHENTIC_SIGNING_TIME);
            if info.authentic_signing_time.is_none() {
                return Err(fmt_err(format!(
                    "{:?} header is required for the notary.x509.signingAuthority signing scheme",
                    headers::AUTHENTIC_SIGNING_TIME
                )));
            }
            if info.signing_time.is_some() {
                return Err(fmt_err(format!(
                    "{:?} header must not be present for notary.x509.signingAuthority signing scheme",
                    headers::SIGNING_TIME
                )));
            }
        }
        other => return Err(fmt_err(format!("unsupported SigningScheme: {other:?}"))),
    }
    let missing: Vec<&str> = must_be_critical
        .into_iter()
        .filter(|h| !crit.iter().any(|c| c == h))
        .collect();
    if !missing.is_empty() {
        return Err(fmt_err(format!(
            "these required headers are not marked as critical: {missing:?}"
        )));
    }
    if let Some(absent) = crit.iter().find(|c| !present(c)) {
        return Err(fmt_err(format!(
            "{absent:?} header is marked critical but not present"
        )));
    }
    if let (Some(st), Some(exp)) = (
        info.signing_time.or(info.authentic_signing_time),
        info.expiry,
    ) && exp <= st
    {
        return Err(fmt_err("expiry must be later than the signing time".into()));
    }
    Ok(())
}
