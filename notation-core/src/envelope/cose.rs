//! COSE_Sign1 envelope (spec §2.4) with coset.
//!
//! Tag 18; integer `alg`; `crit` with text labels; content type as text; times as
//! CBOR tag 1 over integer seconds; the certificate chain as an array of bstr under
//! label 33 (x5chain) in the unprotected header. Header maps are written in the
//! length-first canonical order go-cose uses, so the bytes match notation's.

use coset::cbor::value::Value;
use coset::iana::{self, EnumI64};
use coset::{
    CborSerializable, CoseSign1, CoseSign1Builder, Header, Label, RegisteredLabel,
    RegisteredLabelWithPrivate, TaggedCborSerializable,
};

use super::{
    EnvelopeContent, ExtendedAttribute, SCHEME_X509, SignedAttributes, SignerInfo, headers,
};
use crate::algorithm::SignatureAlgorithm;
use crate::cert::Certificate;
use crate::error::{Error, Result};
use crate::payload::PAYLOAD_CONTENT_TYPE;

/// COSE header label of x5chain (RFC 9360).
const X5CHAIN: i64 = 33;
/// CBOR tag for epoch-based date/time (RFC 8949 §3.4.2).
const EPOCH_TAG: u64 = 1;

/// A COSE_Sign1 whose signature is still to be made.
#[derive(Debug, Clone)]
pub struct UnsignedCose {
    msg: CoseSign1,
}

fn err(reason: impl Into<String>) -> Error {
    Error::cose(reason)
}

fn epoch(t: i64) -> Value {
    Value::Tag(EPOCH_TAG, Box::new(Value::Integer(t.into())))
}

/// Sorts a header's `rest` entries into length-first canonical order (RFC 7049 §3.9),
/// which puts them where go-cose writes them.
fn canonical_rest(rest: &mut [(Label, Value)]) {
    rest.sort_by_cached_key(|(label, _)| {
        let bytes = label.clone().to_vec().unwrap_or_default();
        (bytes.len(), bytes)
    });
}

/// The protected header for `attrs`: `crit` lists the signing scheme, then expiry,
/// then critical extended attributes (notation-core-go's COSE order).
pub fn protected_header(attrs: &SignedAttributes) -> Result<Header> {
    let alg = iana::Algorithm::from_i64(attrs.algorithm.cose_alg())
        .ok_or(Error::Crypto("COSE algorithm not registered"))?;
    let mut crit = vec![headers::SIGNING_SCHEME.to_owned()];
    if attrs.expiry.is_some() {
        crit.push(headers::EXPIRY.to_owned());
    }
    crit.extend(
        attrs
            .extended
            .iter()
            .filter(|e| e.critical)
            .map(|e| e.key.clone()),
    );
    let mut builder = coset::HeaderBuilder::new()
        .algorithm(alg)
        .content_type(PAYLOAD_CONTENT_TYPE.to_owned())
        .text_value(
            headers::SIGNING_SCHEME.to_owned(),
            Value::Text(SCHEME_X509.into()),
        )
        .text_value(headers::SIGNING_TIME.to_owned(), epoch(attrs.signing_time));
    for c in crit {
        builder = builder.add_critical_label(RegisteredLabelWithPrivate::Text(c));
    }
    if let Some(expiry) = attrs.expiry {
        builder = builder.text_value(headers::EXPIRY.to_owned(), epoch(expiry));
    }
    for ext in &attrs.extended {
        builder = builder.text_value(ext.key.clone(), Value::Text(ext.value.clone()));
    }
    let mut header = builder.build();
    canonical_rest(&mut header.rest);
    Ok(header)
}

pub(super) fn prepare(attrs: &SignedAttributes, payload: &[u8]) -> Result<UnsignedCose> {
    let header = protected_header(attrs)?;
    let bytes = header
        .clone()
        .to_vec()
        .map_err(|e| err(format!("cannot encode protected header: {e}")))?;
    let mut msg = CoseSign1Builder::new()
        .protected(header)
        .payload(payload.to_vec())
        .build();
    // Pin the protected bytes so the signed bytes and the written bytes are one.
    msg.protected.original_data = Some(bytes);
    Ok(UnsignedCose { msg })
}

/// The unprotected header: x5chain (always an array) and the signing agent.
pub fn unprotected_header(chain: &[Vec<u8>], signing_agent: &str) -> Header {
    let mut builder = coset::HeaderBuilder::new();
    if !chain.is_empty() {
        let certs = chain.iter().map(|c| Value::Bytes(c.clone())).collect();
        builder = builder.value(X5CHAIN, Value::Array(certs));
    }
    if !signing_agent.is_empty() {
        builder = builder.text_value(
            headers::SIGNING_AGENT.to_owned(),
            Value::Text(signing_agent.into()),
        );
    }
    let mut header = builder.build();
    canonical_rest(&mut header.rest);
    header
}

impl UnsignedCose {
    /// The CBOR `Sig_structure` `["Signature1", protected, h'', payload]`.
    pub fn to_be_signed(&self) -> Vec<u8> {
        self.msg.tbs_data(b"")
    }

    pub(super) fn finish(
        mut self,
        signature: &[u8],
        chain: &[Vec<u8>],
        signing_agent: &str,
    ) -> Result<Vec<u8>> {
        self.msg.unprotected = unprotected_header(chain, signing_agent);
        self.msg.signature = signature.to_vec();
        self.msg
            .to_tagged_vec()
            .map_err(|e| err(format!("cannot encode COSE_Sign1: {e}")))
    }
}

fn decode(envelope: &[u8]) -> Result<CoseSign1> {
    if envelope.first() != Some(&0xd2) {
        return Err(err("not a tagged COSE_Sign1 (CBOR tag 18)"));
    }
    CoseSign1::from_tagged_slice(envelope).map_err(|e| err(format!("invalid COSE_Sign1: {e}")))
}

/// The `Sig_structure` of a serialized envelope, over its protected bytes as received.
pub(super) fn to_be_signed_of(envelope: &[u8]) -> Result<Vec<u8>> {
    Ok(decode(envelope)?.tbs_data(b""))
}

fn label_name(label: &Label) -> String {
    match label {
        Label::Int(i) => i.to_string(),
        Label::Text(t) => t.clone(),
    }
}

/// Parses a COSE envelope and checks its header rules, without verifying the signature.
pub fn parse(envelope: &[u8]) -> Result<EnvelopeContent> {
    let msg = decode(envelope)?;
    let p = &msg.protected.header;
    let algorithm = match &p.alg {
        Some(RegisteredLabelWithPrivate::Assigned(a)) => {
            SignatureAlgorithm::from_cose_alg(a.to_i64())
        }
        Some(RegisteredLabelWithPrivate::PrivateUse(i)) => SignatureAlgorithm::from_cose_alg(*i),
        _ => None,
    }
    .ok_or_else(|| err("missing or unsupported \"alg\" (label 1)"))?;
    let content_type = match &p.content_type {
        Some(RegisteredLabel::Text(t)) => t.clone(),
        Some(RegisteredLabel::Assigned(_)) => {
            return Err(err("content type must be a text string"));
        }
        None => return Err(err("missing content type (label 3)")),
    };
    let mut crit = Vec::new();
    for c in &p.crit {
        let n = match c {
            RegisteredLabelWithPrivate::Text(t) => {
                crit.push(t.clone());
                continue;
            }
            RegisteredLabelWithPrivate::Assigned(h) => h.to_i64(),
            RegisteredLabelWithPrivate::PrivateUse(i) => *i,
        };
        if (0..=8).contains(&n) {
            return Err(err(format!(
                "\"crit\" must not list the registered label {n}"
            )));
        }
        crit.push(n.to_string());
    }
    let get = |name: &str| {
        p.rest
            .iter()
            .find(|(l, _)| matches!(l, Label::Text(t) if t == name))
            .map(|(_, v)| v)
    };
    let time = |name: &str| -> Result<Option<i64>> {
        match get(name) {
            None => Ok(None),
            Some(Value::Tag(EPOCH_TAG, inner)) => match inner.as_ref() {
                Value::Integer(i) => i64::try_from(*i)
                    .map(Some)
                    .map_err(|_| err(format!("{name:?} is out of range"))),
                _ => Err(err(format!("{name:?} must be an integer under CBOR tag 1"))),
            },
            Some(_) => Err(err(format!("{name:?} must carry CBOR tag 1"))),
        }
    };
    let signing_scheme = match get(headers::SIGNING_SCHEME) {
        Some(Value::Text(t)) => t.clone(),
        Some(_) => return Err(err("signing scheme must be a text string")),
        None => return Err(err(format!("missing {:?} header", headers::SIGNING_SCHEME))),
    };
    let known = [
        headers::SIGNING_SCHEME,
        headers::SIGNING_TIME,
        headers::AUTHENTIC_SIGNING_TIME,
        headers::EXPIRY,
    ];
    let extended = p
        .rest
        .iter()
        .filter(|(l, _)| !matches!(l, Label::Text(t) if known.contains(&t.as_str())))
        .map(|(l, v)| {
            let key = label_name(l);
            ExtendedAttribute {
                critical: crit.contains(&key),
                value: match v {
                    Value::Text(t) => t.clone(),
                    other => format!("{other:?}"),
                },
                key,
            }
        })
        .collect();

    let u = &msg.unprotected;
    if let Some((dup, _)) = u
        .rest
        .iter()
        .find(|(l, _)| p.rest.iter().any(|(pl, _)| pl == l))
    {
        return Err(err(format!(
            "header label {} appears in both the protected and unprotected headers",
            label_name(dup)
        )));
    }
    if u.alg.is_some() || !u.crit.is_empty() || u.content_type.is_some() {
        return Err(err(
            "alg, crit and content type belong in the protected header only",
        ));
    }
    let certificate_chain = match u.rest.iter().find(|(l, _)| *l == Label::Int(X5CHAIN)) {
        None => Vec::new(),
        Some((_, Value::Array(items))) => items
            .iter()
            .map(|v| match v {
                Value::Bytes(der) => Certificate::from_der(der),
                _ => Err(err("x5chain entries must be byte strings")),
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(err("x5chain (label 33) must be an array of certificates")),
    };
    let text_label = |name: &str| {
        u.rest
            .iter()
            .find(|(l, _)| matches!(l, Label::Text(t) if t == name))
    };
    let signing_agent = match text_label(headers::SIGNING_AGENT) {
        None => None,
        Some((_, Value::Text(t))) => Some(t.clone()),
        Some(_) => return Err(err("signing agent must be a text string")),
    };
    let timestamp_signature = match text_label(headers::TIMESTAMP_SIGNATURE) {
        None => None,
        Some((_, Value::Bytes(b))) => Some(b.clone()),
        Some(_) => return Err(err("timestamp signature must be a byte string")),
    };
    let info = SignerInfo {
        algorithm,
        content_type,
        signing_scheme,
        signing_time: time(headers::SIGNING_TIME)?,
        authentic_signing_time: time(headers::AUTHENTIC_SIGNING_TIME)?,
        expiry: time(headers::EXPIRY)?,
        extended,
        certificate_chain,
        signing_agent,
        timestamp_signature,
        signature: msg.signature.clone(),
    };
    let present = |k: &str| p.rest.iter().any(|(l, _)| label_name(l) == k);
    super::check_attribute_rules(err, &crit, &present, &info)?;
    let payload = msg
        .payload
        .clone()
        .ok_or_else(|| err("payload is detached; a Notary COSE envelope carries its payload"))?;
    Ok(EnvelopeContent {
        payload,
        signer_info: info,
    })
}

/// Re-encodes a parsed envelope's headers (used by golden tests to show the
/// encoding round-trips).
pub fn encode_headers(attrs: &SignedAttributes) -> Result<Vec<u8>> {
    protected_header(attrs)?
        .to_vec()
        .map_err(|e| err(format!("cannot encode protected header: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(extra_unprotected: Option<(Label, Value)>) -> Vec<u8> {
        let attrs = SignedAttributes {
            algorithm: SignatureAlgorithm::EcdsaSha256,
            signing_time: 1_700_000_000,
            expiry: None,
            extended: Vec::new(),
        };
        let mut msg = prepare(&attrs, b"{}").unwrap().msg;
        msg.signature = vec![0; 64];
        msg.unprotected.rest.extend(extra_unprotected);
        msg.to_tagged_vec().unwrap()
    }

    /// A label may not appear in both header buckets (RFC 9052 §3): a second signing
    /// scheme in the unprotected header is refused.
    #[test]
    fn label_in_both_headers_is_refused() {
        assert!(parse(&sample(None)).is_ok());
        let dup = (
            Label::Text(headers::SIGNING_SCHEME.into()),
            Value::Text("other".into()),
        );
        let e = parse(&sample(Some(dup))).unwrap_err();
        assert!(e.to_string().contains("appears in both"), "{e}");
    }

    /// Untagged COSE_Sign1 is refused, as notation's parser does.
    #[test]
    fn untagged_message_is_refused() {
        let tagged = sample(None);
        let e = parse(&tagged[1..]).unwrap_err();
        assert!(e.to_string().contains("tag 18"), "{e}");
    }
}
