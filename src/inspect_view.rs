//! What `notation inspect` shows of one signature (notary-spec.md §4.11), and its
//! two renderings: a tree (text) and notation's JSON shape. Times are RFC 3339 UTC
//! in both (notation's text output uses Go's ANSIC format in local time).

use notation_core::envelope::{EnvelopeContent, SCHEME_X509_SIGNING_AUTHORITY};
use notation_core::payload::Payload;
use notation_core::timefmt::format_rfc3339;
use notation_core::{Descriptor, Digest};
use serde_json::{Map, Value, json};

use crate::tree::Node;

/// One inspected signature.
pub struct InspectedSignature {
    /// Signature manifest digest.
    pub digest: Digest,
    /// Envelope media type.
    pub media_type: String,
    /// The parsed envelope.
    pub content: EnvelopeContent,
    /// The signed payload.
    pub payload: Payload,
}

impl InspectedSignature {
    fn signed_attributes(&self) -> Vec<(String, String)> {
        let info = &self.content.signer_info;
        let mut out = vec![
            ("content type".to_owned(), info.content_type.clone()),
            ("signing scheme".to_owned(), info.signing_scheme.clone()),
        ];
        let (label, time) = if info.signing_scheme == SCHEME_X509_SIGNING_AUTHORITY {
            ("authentic signing time", info.authentic_signing_time)
        } else {
            ("signing time", info.signing_time)
        };
        if let Some(t) = time {
            out.push((label.to_owned(), format_rfc3339(t)));
        }
        if let Some(e) = info.expiry {
            out.push(("expiry".to_owned(), format_rfc3339(e)));
        }
        for a in &info.extended {
            out.push((a.key.clone(), a.value.clone()));
        }
        out
    }

    fn signed_artifact(&self) -> Descriptor {
        let t = &self.payload.target_artifact;
        Descriptor::new(t.media_type.clone(), t.digest.clone(), t.size)
    }

    /// The signature as a node of the text tree.
    pub fn tree(&self) -> Node {
        let info = &self.content.signer_info;
        let mut node = Node::new(self.digest.as_str());
        node.pair("signature algorithm", info.algorithm.as_str());
        node.pair("signature envelope type", &self.media_type);
        let signed = node.add("signed attributes");
        for (k, v) in self.signed_attributes() {
            signed.pair(&k, v);
        }
        let user = node.add("user defined attributes");
        if self.payload.target_artifact.annotations.is_empty() {
            user.add("(empty)");
        }
        for (k, v) in &self.payload.target_artifact.annotations {
            user.pair(k, v);
        }
        let unsigned = node.add("unsigned attributes");
        if let Some(agent) = &info.signing_agent {
            unsigned.pair("signing agent", agent);
        }
        if let Some(token) = &info.timestamp_signature {
            unsigned
                .add("timestamp signature")
                .pair("error", timestamp_note(token.len()));
        }
        let certs = node.add("certificates");
        for c in &info.certificate_chain {
            let n = certs.pair("SHA256 fingerprint", c.sha256_fingerprint());
            n.pair("issued to", &c.subject);
            n.pair("issued by", &c.issuer);
            n.pair("expiry", format_rfc3339(c.not_after));
        }
        let artifact = self.signed_artifact();
        let a = node.add("signed artifact");
        a.pair("media type", &artifact.media_type);
        a.pair("digest", &artifact.digest);
        a.pair("size", artifact.size);
        node
    }

    /// The signature in notation's JSON shape.
    pub fn json(&self) -> Value {
        let info = &self.content.signer_info;
        let mut signed = Map::new();
        signed.insert("contentType".into(), info.content_type.clone().into());
        signed.insert("signingScheme".into(), info.signing_scheme.clone().into());
        if let Some(t) = info.signing_time.or(info.authentic_signing_time) {
            signed.insert("signingTime".into(), format_rfc3339(t).into());
        }
        if let Some(e) = info.expiry {
            signed.insert("expiry".into(), format_rfc3339(e).into());
        }
        for a in &info.extended {
            signed.insert(a.key.clone(), a.value.clone().into());
        }
        let mut unsigned = Map::new();
        if let Some(agent) = &info.signing_agent {
            unsigned.insert("signingAgent".into(), agent.clone().into());
        }
        if let Some(token) = &info.timestamp_signature {
            unsigned.insert(
                "timestampSignature".into(),
                json!({"error": timestamp_note(token.len())}),
            );
        }
        let certs: Vec<Value> = info
            .certificate_chain
            .iter()
            .map(|c| {
                json!({
                    "SHA256Fingerprint": c.sha256_fingerprint(),
                    "issuedTo": c.subject,
                    "issuedBy": c.issuer,
                    "expiry": format_rfc3339(c.not_after),
                })
            })
            .collect();
        json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "signatureAlgorithm": info.algorithm.as_str(),
            "signedAttributes": signed,
            "userDefinedAttributes": self.payload.target_artifact.annotations,
            "unsignedAttributes": unsigned,
            "certificates": certs,
            "signedArtifact": self.signed_artifact(),
        })
    }
}

fn timestamp_note(len: usize) -> String {
    format!(
        "an RFC 3161 timestamp countersignature of {len} bytes is present; this version does not decode or verify it"
    )
}
