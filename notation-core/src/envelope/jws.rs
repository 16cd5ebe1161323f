//! JWS envelope, flattened JSON serialization (spec §2.3), built by hand with
//! serde_json and base64 (crates.md §3: josekit ignores `crit` in this form).
//!
//! Exactly four top-level members, in notation's order: `payload`, `protected`,
//! `header`, `signature`. The protected header is compact JSON with sorted keys, as
//! Go writes a map. `x5c` entries are standard base64; the other fields base64url
//! without padding.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use super::{
    EnvelopeContent, ExtendedAttribute, SCHEME_X509, SignedAttributes, SignerInfo, headers,
};
use crate::algorithm::SignatureAlgorithm;
use crate::cert::Certificate;
use crate::error::{Error, Result};
use crate::payload::PAYLOAD_CONTENT_TYPE;
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// A JWS whose signature is still to be made.
#[derive(Debug, Clone)]
pub struct UnsignedJws {
    protected: String,
    payload: String,
}

/// The protected header JSON for `attrs`, as notation writes it: `crit` lists the
/// signing scheme, then critical extended attributes, then expiry.
pub fn protected_header(attrs: &SignedAttributes) -> Vec<u8> {
    let mut crit = vec![headers::SIGNING_SCHEME.to_owned()];
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for ext in &attrs.extended {
        if ext.critical {
            crit.push(ext.key.clone());
        }
        map.insert(ext.key.clone(), Value::String(ext.value.clone()));
    }
    map.insert("alg".into(), attrs.algorithm.jws_alg().into());
    map.insert("cty".into(), PAYLOAD_CONTENT_TYPE.into());
    map.insert(headers::SIGNING_SCHEME.into(), SCHEME_X509.into());
    map.insert(
        headers::SIGNING_TIME.into(),
        format_rfc3339(attrs.signing_time).into(),
    );
    if let Some(expiry) = attrs.expiry {
        crit.push(headers::EXPIRY.to_owned());
        map.insert(headers::EXPIRY.into(), format_rfc3339(expiry).into());
    }
    map.insert("crit".into(), crit.into());
    crate::gojson::to_vec(&map, true)
}

pub(super) fn prepare(attrs: &SignedAttributes, payload: &[u8]) -> UnsignedJws {
    UnsignedJws {
        protected: URL_SAFE_NO_PAD.encode(protected_header(attrs)),
        payload: URL_SAFE_NO_PAD.encode(payload),
    }
}

impl UnsignedJws {
    /// `BASE64URL(protected) "." BASE64URL(payload)`, the JWS signing input.
    pub fn signing_input(&self) -> String {
        format!("{}.{}", self.protected, self.payload)
    }

    pub(super) fn finish(
        self,
        signature: &[u8],
        chain: &[Vec<u8>],
        signing_agent: &str,
    ) -> Vec<u8> {
        let mut header = Map::new();
        // Always present for real signatures; omitted only for chainless test vectors.
        if !chain.is_empty() {
            let x5c: Vec<Value> = chain.iter().map(|c| STANDARD.encode(c).into()).collect();
            header.insert("x5c".into(), x5c.into());
        }
        if !signing_agent.is_empty() {
            header.insert(headers::SIGNING_AGENT.into(), signing_agent.into());
        }
        let mut env = Map::new();
        env.insert("payload".into(), self.payload.into());
        env.insert("protected".into(), self.protected.into());
        env.insert("header".into(), header.into());
        env.insert("signature".into(), URL_SAFE_NO_PAD.encode(signature).into());
        crate::gojson::to_vec(&env, false)
    }
}

fn err(reason: impl Into<String>) -> Error {
    Error::jws(reason)
}

fn b64url(field: &str, s: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| err(format!("{field} is not base64url without padding: {e}")))
}

struct Parts {
    top: Map<String, Value>,
    protected: String,
    payload: String,
}

fn split(envelope: &[u8]) -> Result<Parts> {
    let top: Map<String, Value> =
        serde_json::from_slice(envelope).map_err(|e| err(format!("not a JSON object: {e}")))?;
    for key in top.keys() {
        if !matches!(
            key.as_str(),
            "payload" | "protected" | "header" | "signature"
        ) {
            return Err(err(format!(
                "unexpected top-level member {key:?}: a Notary JWS has only payload, protected, header and signature"
            )));
        }
    }
    let text = |k: &str| -> Result<String> {
        match top.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(err(format!("{k:?} must be a string"))),
            None => Err(err(format!("missing {k:?}"))),
        }
    };
    let protected = text("protected")?;
    let payload = text("payload")?;
    text("signature")?;
    if !matches!(top.get("header"), Some(Value::Object(_))) {
        return Err(err(
            "\"header\" must be an object holding the certificate chain (x5c)",
        ));
    }
    Ok(Parts {
        top,
        protected,
        payload,
    })
}

/// The signing input of a serialized JWS, from the bytes as received.
pub(super) fn signing_input_of(envelope: &[u8]) -> Result<Vec<u8>> {
    let p = split(envelope)?;
    Ok(format!("{}.{}", p.protected, p.payload).into_bytes())
}

/// Parses a JWS envelope and checks its header rules, without verifying the signature.
pub fn parse(envelope: &[u8]) -> Result<EnvelopeContent> {
    let Parts {
        top,
        protected,
        payload,
    } = split(envelope)?;
    let protected_json = b64url("protected", &protected)?;
    let header: Map<String, Value> = serde_json::from_slice(&protected_json)
        .map_err(|e| err(format!("protected header is not a JSON object: {e}")))?;
    let text = |k: &str| -> Result<Option<String>> {
        match header.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(err(format!("header {k:?} must be a string"))),
        }
    };
    let time = |k: &str| -> Result<Option<i64>> {
        text(k)?
            .map(|s| {
                parse_rfc3339(&s)
                    .ok_or_else(|| err(format!("header {k:?} is not an RFC 3339 time: {s:?}")))
            })
            .transpose()
    };
    let alg_name = text("alg")?.ok_or_else(|| err("missing \"alg\" header"))?;
    let algorithm = SignatureAlgorithm::from_jws_alg(&alg_name)
        .ok_or_else(|| err(format!("signature algorithm {alg_name:?} is not supported")))?;
    let crit: Vec<String> = match header.get("crit") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| err("\"crit\" entries must be strings"))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(err("\"crit\" must be an array")),
    };
    // Registered JOSE headers a Notary protected header must not carry: a second
    // chain or key reference here could be trusted by other verifiers over `x5c`.
    const FORBIDDEN: [&str; 10] = [
        "typ", "kid", "x5c", "x5u", "x5t", "x5t#S256", "jku", "jwk", "b64", "zip",
    ];
    if let Some(bad) = FORBIDDEN.iter().find(|h| header.contains_key(**h)) {
        return Err(err(format!("protected header must not contain {bad:?}")));
    }
    if let Some(reg) = crit
        .iter()
        .find(|c| matches!(c.as_str(), "alg" | "cty" | "crit"))
    {
        return Err(err(format!(
            "registered header {reg:?} must not be listed in \"crit\""
        )));
    }
    let known = [
        "alg",
        "cty",
        "crit",
        headers::SIGNING_SCHEME,
        headers::SIGNING_TIME,
        headers::AUTHENTIC_SIGNING_TIME,
        headers::EXPIRY,
    ];
    let extended = header
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| ExtendedAttribute {
            key: k.clone(),
            value: v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string()),
            critical: crit.contains(k),
        })
        .collect();

    let unprotected = top
        .get("header")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let certificate_chain = match unprotected.get("x5c") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                let s = v
                    .as_str()
                    .ok_or_else(|| err("x5c entries must be strings"))?;
                let der = STANDARD
                    .decode(s)
                    .map_err(|e| err(format!("x5c entry is not standard base64: {e}")))?;
                Certificate::from_der(&der)
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(err("\"x5c\" must be an array")),
    };
    let signing_agent = match unprotected.get(headers::SIGNING_AGENT) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(err("signing agent must be a string")),
    };
    let timestamp_signature = match unprotected.get(headers::TIMESTAMP_SIGNATURE) {
        None => None,
        Some(Value::String(s)) => Some(
            STANDARD
                .decode(s)
                .map_err(|e| err(format!("timestamp signature is not standard base64: {e}")))?,
        ),
        Some(_) => return Err(err("timestamp signature must be a string")),
    };
    let signature = b64url("signature", top["signature"].as_str().unwrap_or_default())?;
    let info = SignerInfo {
        algorithm,
        content_type: text("cty")?.ok_or_else(|| err("missing \"cty\" header"))?,
        signing_scheme: text(headers::SIGNING_SCHEME)?
            .ok_or_else(|| err(format!("missing {:?} header", headers::SIGNING_SCHEME)))?,
        signing_time: time(headers::SIGNING_TIME)?,
        authentic_signing_time: time(headers::AUTHENTIC_SIGNING_TIME)?,
        expiry: time(headers::EXPIRY)?,
        extended,
        certificate_chain,
        signing_agent,
        timestamp_signature,
        signature,
    };
    super::check_attribute_rules(err, &crit, &|k| header.contains_key(k), &info)?;
    let payload = b64url("payload", &payload)?;
    if !matches!(
        serde_json::from_slice::<Value>(&payload),
        Ok(Value::Object(_))
    ) {
        return Err(err("payload is not a JSON object"));
    }
    Ok(EnvelopeContent {
        payload,
        signer_info: info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Map<String, Value> {
        let attrs = SignedAttributes {
            algorithm: SignatureAlgorithm::EcdsaSha256,
            signing_time: 1_700_000_000,
            expiry: None,
            extended: Vec::new(),
        };
        let u = prepare(&attrs, br#"{"targetArtifact":{}}"#);
        serde_json::from_slice(&u.finish(&[0; 64], &[], "")).unwrap()
    }

    /// A Notary JWS has exactly four top-level members (spec §2.3).
    #[test]
    fn extra_top_level_member_is_refused() {
        let mut env = sample();
        assert!(parse(&serde_json::to_vec(&env).unwrap()).is_ok());
        env.insert("unprotected".into(), Value::Null);
        let e = parse(&serde_json::to_vec(&env).unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .contains("unexpected top-level member \"unprotected\""),
            "{e}"
        );
    }

    /// No `header` member, or a second chain in the protected header, is refused.
    #[test]
    fn missing_header_and_protected_x5c_are_refused() {
        let mut env = sample();
        env.remove("header");
        let e = parse(&serde_json::to_vec(&env).unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("\"header\" must be an object"),
            "{e}"
        );
        let mut env = sample();
        let p = URL_SAFE_NO_PAD
            .decode(env["protected"].as_str().unwrap())
            .unwrap();
        let mut h: Map<String, Value> = serde_json::from_slice(&p).unwrap();
        h.insert("x5c".into(), Value::Array(vec![]));
        env.insert(
            "protected".into(),
            URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&h).unwrap())
                .into(),
        );
        let e = parse(&serde_json::to_vec(&env).unwrap()).unwrap_err();
        assert!(e.to_string().contains("must not contain \"x5c\""), "{e}");
    }

    /// `alg: none` and HMAC are never accepted.
    #[test]
    fn none_and_hmac_are_refused() {
        for alg in ["none", "HS256"] {
            let mut env = sample();
            let p = URL_SAFE_NO_PAD
                .decode(env["protected"].as_str().unwrap())
                .unwrap();
            let mut h: Map<String, Value> = serde_json::from_slice(&p).unwrap();
            h.insert("alg".into(), alg.into());
            env.insert(
                "protected".into(),
                URL_SAFE_NO_PAD
                    .encode(serde_json::to_vec(&h).unwrap())
                    .into(),
            );
            let e = parse(&serde_json::to_vec(&env).unwrap()).unwrap_err();
            assert!(e.to_string().contains("is not supported"), "{e}");
        }
    }
}
