//! What `sign_artifact` checks in an envelope signer's answer (spec §1.10 "caller
//! checks"): envelope type, integrity, chain, payload unchanged (annotations may only
//! be added), no unknown members; and that its annotations reach the result.

use std::collections::BTreeMap;

use notation_core::envelope::{self, SignatureFormat, SignedAttributes};
use notation_core::local_key::LocalKey;
use notation_core::signer::{EnvelopeSigner, GeneratedEnvelope, RawSigner, Signer, sign_artifact};
use notation_core::{Error, KeySpec};
use serde_json::Value;

use crate::sign_roundtrip::{descriptor, local_key, options};
use crate::support::*;

/// An ENVELOPE-style signer built on a local key, with a hook to alter the payload it
/// signs and the answer it gives.
struct Stub<'a> {
    key: &'a LocalKey,
    edit_payload: &'a dyn Fn(&mut Value),
    edit_answer: &'a dyn Fn(&mut GeneratedEnvelope),
}

impl EnvelopeSigner for Stub<'_> {
    fn generate_envelope(
        &self,
        payload: &[u8],
        format: SignatureFormat,
        expiry_seconds: Option<u64>,
    ) -> notation_core::Result<GeneratedEnvelope> {
        let mut v: Value = serde_json::from_slice(payload).unwrap();
        (self.edit_payload)(&mut v);
        let payload = serde_json::to_vec(&v).unwrap();
        let spec = self.key.key_spec()?;
        let attrs = SignedAttributes {
            algorithm: spec.signature_algorithm(),
            signing_time: SIGNING_TIME,
            expiry: expiry_seconds.map(|s| SIGNING_TIME + s as i64),
            extended: Vec::new(),
        };
        let unsigned = envelope::prepare(format, &attrs, &payload)?;
        let raw = self.key.sign(spec, &unsigned.to_be_signed())?;
        let mut answer = GeneratedEnvelope {
            envelope: unsigned.finish(&raw.signature, &raw.certificate_chain, "stub/1.0")?,
            media_type: format.media_type().into(),
            annotations: BTreeMap::from([("com.example.kms".to_owned(), "yes".to_owned())]),
        };
        (self.edit_answer)(&mut answer);
        Ok(answer)
    }
}

fn run(
    format: SignatureFormat,
    edit_payload: &dyn Fn(&mut Value),
    edit_answer: &dyn Fn(&mut GeneratedEnvelope),
) -> notation_core::Result<notation_core::signer::SignedEnvelope> {
    let (key, _) = local_key(KeySpec::Ec256);
    let stub = Stub {
        key: &key,
        edit_payload,
        edit_answer,
    };
    sign_artifact(
        Signer::Envelope(&stub),
        &descriptor(),
        &options(format, Some(3600)),
    )
}

const FORMATS: [SignatureFormat; 2] = [SignatureFormat::Jws, SignatureFormat::Cose];

/// A faithful envelope signer passes, and its manifest annotations are returned.
#[test]
fn faithful_envelope_is_accepted_with_annotations() {
    for f in FORMATS {
        let signed = run(f, &|_| {}, &|_| {}).unwrap();
        assert_eq!(signed.annotations["com.example.kms"], "yes");
        assert_eq!(signed.content.signer_info.expiry, Some(SIGNING_TIME + 3600));
    }
}

/// Adding an annotation to the signed descriptor is allowed (spec §1.10 check 4).
#[test]
fn added_payload_annotation_is_allowed() {
    let add = |v: &mut Value| {
        v["targetArtifact"]["annotations"]["extra"] = "1".into();
    };
    for f in FORMATS {
        run(f, &add, &|_| {}).unwrap();
    }
}

/// A different envelope type than requested is refused.
#[test]
fn wrong_envelope_type_is_refused() {
    let cose = |a: &mut GeneratedEnvelope| a.media_type = "application/cose".into();
    assert_err!(
        run(SignatureFormat::Jws, &|_| {}, &cose),
        Error::EnvelopeMismatch(_),
        "does not match request"
    );
}

/// Changing the digest, or dropping a user annotation, is refused (check 4).
#[test]
fn changed_descriptor_is_refused() {
    let digest = |v: &mut Value| {
        v["targetArtifact"]["digest"] =
            "sha256:0000000000000000000000000000000000000000000000000000000000000000".into();
    };
    let drop_meta = |v: &mut Value| {
        v["targetArtifact"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
    };
    for f in FORMATS {
        assert_err!(
            run(f, &digest, &|_| {}),
            Error::EnvelopeMismatch(_),
            "descriptor subject has changed"
        );
        assert_err!(
            run(f, &drop_meta, &|_| {}),
            Error::EnvelopeMismatch(_),
            "descriptor subject has changed"
        );
    }
}

/// Unknown members in the payload or the descriptor are refused (check 5).
#[test]
fn unknown_members_are_refused() {
    let top = |v: &mut Value| v["extra"] = 1.into();
    let inner = |v: &mut Value| v["targetArtifact"]["surprise"] = true.into();
    for f in FORMATS {
        assert_err!(
            run(f, &top, &|_| {}),
            Error::EnvelopeMismatch(_),
            "unknown attributes"
        );
        assert_err!(
            run(f, &inner, &|_| {}),
            Error::EnvelopeMismatch(_),
            "[\"surprise\"]"
        );
    }
}

/// An envelope whose signature does not verify is refused (check 2).
#[test]
fn broken_envelope_is_refused() {
    let flip = |a: &mut GeneratedEnvelope| {
        let n = a.envelope.len();
        a.envelope[n - 3] ^= 1;
    };
    let e = run(SignatureFormat::Cose, &|_| {}, &flip).unwrap_err();
    assert!(
        matches!(
            e,
            Error::SignatureFormat(_) | Error::MalformedEnvelope { .. }
        ),
        "{e}"
    );
    let garbage = |a: &mut GeneratedEnvelope| a.envelope = b"not an envelope".to_vec();
    for f in FORMATS {
        assert_err!(
            run(f, &|_| {}, &garbage),
            Error::MalformedEnvelope { .. },
            ""
        );
    }
}
