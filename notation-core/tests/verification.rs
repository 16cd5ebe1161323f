//! The verification engine (spec §4.10): every validation, each level's handling
//! of a failure, overrides, trusted identities, both signing schemes, the pluggable
//! revocation step, and the artifact and metadata checks.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use notation_core::cert::Certificate;
use notation_core::envelope::{self, ExtendedAttribute, SignatureFormat, SignedAttributes};
use notation_core::payload::Payload;
use notation_core::policy::{Action, TrustPolicyDocument, ValidationType};
use notation_core::signer::RawSigner as _;
use notation_core::trust_store::StoreType;
use notation_core::verify::{
    Expected, Failure, NotImplemented, Outcome, RevocationChecker, RevocationStatus, Status,
    TrustAnchors, Verifier,
};
use notation_core::{Descriptor, KeySpec};
use rcgen::DnType;
use serde_json::{Value, json};

use crate::sign_roundtrip::{descriptor, local_key, sign};
use crate::support::*;

const WEEK: u64 = 7 * 24 * 3600;
const NOW: i64 = SIGNING_TIME + 3600;
const JWS: &str = "application/jose+json";
const COSE: &str = "application/cose";

fn statement_json(level: Value, stores: &[&str], identities: &[&str]) -> TrustPolicyDocument {
    let doc = json!({"version": "1.0", "trustPolicies": [{
        "name": "test",
        "registryScopes": ["*"],
        "signatureVerification": level,
        "trustStores": stores,
        "trustedIdentities": identities,
    }]});
    TrustPolicyDocument::parse(&serde_json::to_vec(&doc).unwrap()).unwrap()
}

fn policy(level: &str) -> TrustPolicyDocument {
    statement_json(json!({"level": level}), &["ca:test"], &["*"])
}

fn anchors(certs: &[Certificate]) -> TrustAnchors {
    let mut a = TrustAnchors::default();
    a.add(StoreType::Ca, certs.iter().cloned());
    a
}

struct Case<'a> {
    doc: &'a TrustPolicyDocument,
    anchors: &'a TrustAnchors,
    now: i64,
    metadata: BTreeMap<String, String>,
    artifact: Descriptor,
    revocation: &'a dyn RevocationChecker,
}

impl<'a> Case<'a> {
    fn new(doc: &'a TrustPolicyDocument, anchors: &'a TrustAnchors) -> Case<'a> {
        Case {
            doc,
            anchors,
            now: NOW,
            metadata: BTreeMap::new(),
            artifact: artifact(),
            revocation: &NotImplemented,
        }
    }

    fn verify(&self, media_type: &str, env: &[u8]) -> Outcome {
        let v = Verifier {
            statement: &self.doc.statements[0],
            anchors: self.anchors,
            revocation: self.revocation,
            now: self.now,
        };
        v.verify(
            media_type,
            env,
            &Expected {
                artifact: &self.artifact,
                user_metadata: &self.metadata,
            },
        )
    }
}

/// The signed descriptor without its user metadata: what a resolver returns.
fn artifact() -> Descriptor {
    let mut d = descriptor();
    d.annotations.clear();
    d
}

/// The root of the chain a signature carries.
fn root_of(signed: &notation_core::signer::SignedEnvelope) -> Certificate {
    signed
        .content
        .signer_info
        .certificate_chain
        .last()
        .unwrap()
        .clone()
}

fn status_of(o: &Outcome, t: ValidationType) -> Status {
    o.results
        .iter()
        .find(|r| r.validation == t)
        .map(|r| r.status.clone())
        .unwrap_or_else(|| panic!("no {t} result in {:?}", o.results))
}

#[track_caller]
fn assert_fails(o: &Outcome, t: ValidationType, needle: &str) {
    match &o.failure {
        Some(Failure::Validation { validation, reason }) if *validation == t => {
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
        }
        other => panic!("expected a {t} failure mentioning {needle:?}, got {other:?}"),
    }
}

/// Every key spec, JWS and COSE, verifies under strict with a trusted root; the
/// revocation step reports "not checked".
#[test]
fn signatures_verify_under_strict() {
    let doc = policy("strict");
    for spec in KeySpec::ALL {
        for (format, mt) in [(SignatureFormat::Jws, JWS), (SignatureFormat::Cose, COSE)] {
            let signed = sign(spec, format, Some(WEEK));
            let a = anchors(&[root_of(&signed)]);
            let o = Case::new(&doc, &a).verify(mt, &signed.envelope);
            assert!(o.is_verified(), "{spec:?} {format:?}: {:?}", o.failure);
            assert_eq!(status_of(&o, ValidationType::Authenticity), Status::Passed);
            assert!(matches!(
                status_of(&o, ValidationType::Revocation),
                Status::NotChecked(_)
            ));
            assert_eq!(o.logged_failures().count(), 0);
            let meta: Vec<_> = o.user_metadata().collect();
            assert_eq!(meta, [(&"buildId".to_owned(), &"42".to_owned())]);
        }
    }
}

/// The trust store may hold the leaf, the intermediate or the root.
#[test]
fn any_chain_certificate_anchors() {
    let doc = policy("strict");
    let signed = sign(KeySpec::Ec256, SignatureFormat::Jws, None);
    for c in &signed.content.signer_info.certificate_chain {
        let a = anchors(std::slice::from_ref(c));
        assert!(
            Case::new(&doc, &a)
                .verify(JWS, &signed.envelope)
                .is_verified()
        );
    }
}

/// An untrusted signer fails authenticity under strict and permissive, and is only
/// logged under audit (spec §4.10 level table).
#[test]
fn untrusted_signer_per_level() {
    let signed = sign(KeySpec::Ec256, SignatureFormat::Jws, None);
    let other = anchors(&[Issued::self_signed(
        &Profile::leaf("Other"),
        Key::pooled(Pool::Other, KeySpec::Ec256),
    )
    .cert()]);
    for level in ["strict", "permissive"] {
        let doc = policy(level);
        let o = Case::new(&doc, &other).verify(JWS, &signed.envelope);
        assert_fails(
            &o,
            ValidationType::Authenticity,
            "signature is not produced by a trusted signer",
        );
    }
    let doc = policy("audit");
    let o = Case::new(&doc, &other).verify(JWS, &signed.envelope);
    assert!(o.is_verified());
    let logged: Vec<_> = o.logged_failures().collect();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].0, ValidationType::Authenticity);
    assert_eq!(logged[0].1, Action::Log);
    // An override makes audit enforce authenticity.
    let doc = statement_json(
        json!({"level": "audit", "override": {"authenticity": "enforce"}}),
        &["ca:test"],
        &["*"],
    );
    assert!(
        !Case::new(&doc, &other)
            .verify(JWS, &signed.envelope)
            .is_verified()
    );
}

/// A broken chain (the intermediate missing) fails authenticity with the chain rule.
#[test]
fn chain_rules_are_part_of_authenticity() {
    let (key, chain) = local_key(KeySpec::Ec256);
    let payload = Payload::new(descriptor()).to_sorted_json();
    let attrs = SignedAttributes {
        algorithm: KeySpec::Ec256.signature_algorithm(),
        signing_time: SIGNING_TIME,
        expiry: None,
        extended: Vec::new(),
    };
    let unsigned = envelope::prepare(SignatureFormat::Jws, &attrs, &payload).unwrap();
    let sig = key.sign(KeySpec::Ec256, &unsigned.to_be_signed()).unwrap();
    let env = unsigned
        .finish(
            &sig.signature,
            &[chain[0].der.clone(), chain[2].der.clone()],
            "t",
        )
        .unwrap();
    let doc = policy("strict");
    let a = anchors(&[chain[2].cert()]);
    let o = Case::new(&doc, &a).verify(JWS, &env);
    assert_fails(
        &o,
        ValidationType::Authenticity,
        "certificate-chain is invalid",
    );
}

/// Expiry: enforced under strict, a warning under permissive; the message names
/// the expiry time.
#[test]
fn expired_signature_per_level() {
    let signed = sign(KeySpec::Rsa2048, SignatureFormat::Cose, Some(WEEK));
    let a = anchors(&[root_of(&signed)]);
    let doc = policy("strict");
    let mut case = Case::new(&doc, &a);
    case.now = SIGNING_TIME + WEEK as i64;
    assert_fails(
        &case.verify(COSE, &signed.envelope),
        ValidationType::Expiry,
        "digital signature has expired on 2027-01-22T08:00:00Z",
    );
    let doc = policy("permissive");
    let mut case = Case::new(&doc, &a);
    case.now = SIGNING_TIME + WEEK as i64;
    let o = case.verify(COSE, &signed.envelope);
    assert!(o.is_verified());
    assert_eq!(
        o.logged_failures().next().unwrap().0,
        ValidationType::Expiry
    );
}

/// authenticTimestamp without a tsa store: every certificate must be valid now.
/// With a tsa store the RFC 3161 timestamp would have to be verified, which this
/// version cannot do, so the signature never passes on it.
#[test]
fn certificates_must_be_valid_now_without_timestamp_verification() {
    let signed = sign(KeySpec::Ec384, SignatureFormat::Jws, None);
    let a = anchors(&[root_of(&signed)]);
    let doc = policy("strict");
    let mut case = Case::new(&doc, &a);
    case.now = ymd(2101, 1, 1);
    assert_fails(
        &case.verify(JWS, &signed.envelope),
        ValidationType::AuthenticTimestamp,
        "is not valid anymore, it was expired at 2100-01-01T00:00:00Z",
    );
    case.now = ymd(1999, 1, 1);
    assert_fails(
        &case.verify(JWS, &signed.envelope),
        ValidationType::AuthenticTimestamp,
        "verification time is before certificate",
    );
    let with_tsa = statement_json(json!({"level": "strict"}), &["ca:test", "tsa:t"], &["*"]);
    let o = Case::new(&with_tsa, &a).verify(JWS, &signed.envelope);
    assert_fails(
        &o,
        ValidationType::AuthenticTimestamp,
        "no timestamp countersignature was found",
    );
    // afterCertExpiry: the timestamp only matters once a certificate expired.
    let after = statement_json(
        json!({"level": "strict", "verifyTimestamp": "afterCertExpiry"}),
        &["ca:test", "tsa:t"],
        &["*"],
    );
    assert!(
        Case::new(&after, &a)
            .verify(JWS, &signed.envelope)
            .is_verified()
    );
    let mut case = Case::new(&after, &a);
    case.now = ymd(2101, 1, 1);
    assert!(!case.verify(JWS, &signed.envelope).is_verified());
}

fn subject_leaf_signature() -> (Vec<u8>, Certificate) {
    let leaf_profile = Profile::leaf("Leaf").with_dn_prefix(&[
        (DnType::CountryName, "US"),
        (DnType::StateOrProvinceName, "WA"),
        (DnType::OrganizationName, "acme-rockets.io"),
    ]);
    let chain = three_chain_with(KeySpec::Ec256, &leaf_profile);
    let key = notation_core::local_key::LocalKey::from_pem(
        chain[0].key.pkcs8_pem().as_bytes(),
        chain_pem(&[&chain[0], &chain[1], &chain[2]]).as_bytes(),
    )
    .unwrap();
    let signed = notation_core::signer::sign_artifact(
        notation_core::signer::Signer::Raw(&key),
        &descriptor(),
        &crate::sign_roundtrip::options(SignatureFormat::Jws, None),
    )
    .unwrap();
    (signed.envelope, chain[2].cert())
}

/// Trusted identities: a DN that is a subset of the leaf subject matches; another
/// organisation does not.
#[test]
fn trusted_identities_subset_match() {
    let (env, root) = subject_leaf_signature();
    let a = anchors(&[root]);
    let ok = statement_json(
        json!({"level": "strict"}),
        &["ca:test"],
        &["x509.subject: C=US, ST=WA, O=acme-rockets.io"],
    );
    assert!(Case::new(&ok, &a).verify(JWS, &env).is_verified());
    let other = statement_json(
        json!({"level": "strict"}),
        &["ca:test"],
        &[
            "x509.subject: C=US, ST=WA, O=wabbit-networks.io",
            "x509.subject: C=US, ST=OR, O=acme-rockets.io",
        ],
    );
    assert_fails(
        &Case::new(&other, &a).verify(JWS, &env),
        ValidationType::Authenticity,
        "does not match the X.509 trusted identities",
    );
}

/// Integrity failures are enforced at every level but skip: a flipped signature
/// byte, an unknown envelope media type, a critical attribute nobody processes.
#[test]
fn integrity_is_always_enforced() {
    let signed = sign(KeySpec::Ec256, SignatureFormat::Jws, None);
    let a = anchors(&[root_of(&signed)]);
    let mut env: Value = serde_json::from_slice(&signed.envelope).unwrap();
    let mut sig = URL_SAFE_NO_PAD
        .decode(env["signature"].as_str().unwrap())
        .unwrap();
    sig[3] ^= 1;
    env["signature"] = URL_SAFE_NO_PAD.encode(&sig).into();
    let tampered = serde_json::to_vec(&env).unwrap();
    for level in ["strict", "permissive", "audit"] {
        let doc = policy(level);
        let o = Case::new(&doc, &a).verify(JWS, &tampered);
        assert_fails(&o, ValidationType::Integrity, "signature is invalid");
    }
    let doc = policy("audit");
    assert_fails(
        &Case::new(&doc, &a).verify("application/vnd.oci.image.layer.v1.tar", b"x"),
        ValidationType::Integrity,
        "signature envelope format with media type \"application/vnd.oci.image.layer.v1.tar\" is not supported",
    );
    assert_fails(
        &Case::new(&doc, &a).verify(COSE, &signed.envelope),
        ValidationType::Integrity,
        "COSE",
    );
    let skip = json!({"version": "1.0", "trustPolicies": [{"name": "s", "registryScopes": ["*"], "signatureVerification": {"level": "skip"}}]});
    let skip = TrustPolicyDocument::parse(&serde_json::to_vec(&skip).unwrap()).unwrap();
    let o = Case::new(&skip, &a).verify(JWS, &tampered);
    assert!(o.skipped && o.is_verified() && o.results.is_empty());
}

/// A correctly signed envelope with a critical extended attribute this verifier
/// does not process (spec §2.2), or naming a verification plugin, fails integrity.
#[test]
fn unprocessed_critical_attributes_fail() {
    let (key, chain) = local_key(KeySpec::Ec256);
    let a = anchors(&[chain[2].cert()]);
    let doc = policy("strict");
    for (name, needle) in [
        (
            "io.example.policy",
            "critical attribute \"io.example.policy\"",
        ),
        ("io.cncf.notary.verificationPlugin", "verification plugin"),
    ] {
        for (format, mt) in [(SignatureFormat::Jws, JWS), (SignatureFormat::Cose, COSE)] {
            let payload = match format {
                SignatureFormat::Jws => Payload::new(descriptor()).to_sorted_json(),
                SignatureFormat::Cose => Payload::new(descriptor()).to_struct_order_json(),
            };
            let attrs = SignedAttributes {
                algorithm: KeySpec::Ec256.signature_algorithm(),
                signing_time: SIGNING_TIME,
                expiry: None,
                extended: vec![ExtendedAttribute {
                    key: name.into(),
                    value: "v".into(),
                    critical: true,
                }],
            };
            let unsigned = envelope::prepare(format, &attrs, &payload).unwrap();
            let sig = key.sign(KeySpec::Ec256, &unsigned.to_be_signed()).unwrap();
            let chain_der: Vec<Vec<u8>> = chain.iter().map(|c| c.der.clone()).collect();
            let env = unsigned.finish(&sig.signature, &chain_der, "t").unwrap();
            let o = Case::new(&doc, &a).verify(mt, &env);
            assert_fails(&o, ValidationType::Integrity, needle);
        }
    }
}

/// The payload must describe the resolved artifact, and `-m` pairs must be signed.
#[test]
fn artifact_and_metadata_checks() {
    let signed = sign(KeySpec::Ec256, SignatureFormat::Cose, None);
    let a = anchors(&[root_of(&signed)]);
    let doc = policy("audit");
    let mut case = Case::new(&doc, &a);
    case.artifact = Descriptor::of("application/vnd.oci.image.manifest.v1+json", b"other");
    match case.verify(COSE, &signed.envelope).failure {
        Some(Failure::Artifact(r)) => assert!(r.contains("the signature is not for this artifact")),
        other => panic!("{other:?}"),
    }
    let mut case = Case::new(&doc, &a);
    case.artifact.size += 1;
    assert!(!case.verify(COSE, &signed.envelope).is_verified());
    let mut case = Case::new(&doc, &a);
    case.metadata.insert("buildId".into(), "42".into());
    assert!(case.verify(COSE, &signed.envelope).is_verified());
    case.metadata.insert("buildId".into(), "43".into());
    match case.verify(COSE, &signed.envelope).failure {
        Some(Failure::Artifact(r)) => assert!(r.contains("buildId=43"), "{r}"),
        other => panic!("{other:?}"),
    }
    let mut case = Case::new(&doc, &a);
    case.metadata.insert("team".into(), "x".into());
    assert!(!case.verify(COSE, &signed.envelope).is_verified());
}

struct Revoked;
impl RevocationChecker for Revoked {
    fn check(&self, chain: &[Certificate], _now: i64) -> RevocationStatus {
        RevocationStatus::Revoked(format!("certificate {:?} is revoked", chain[0].subject))
    }
}

/// Revocation is a pluggable step: a revoked chain fails under strict, is logged
/// with `override: revocation: log`, and is not asked under `revocation: skip`.
#[test]
fn revocation_is_pluggable() {
    let signed = sign(KeySpec::Ec256, SignatureFormat::Jws, None);
    let a = anchors(&[root_of(&signed)]);
    let doc = policy("strict");
    let mut case = Case::new(&doc, &a);
    case.revocation = &Revoked;
    assert_fails(
        &case.verify(JWS, &signed.envelope),
        ValidationType::Revocation,
        "is revoked",
    );
    for (action, verified, status_is_skip) in [("log", true, false), ("skip", true, true)] {
        let doc = statement_json(
            json!({"level": "strict", "override": {"revocation": action}}),
            &["ca:test"],
            &["*"],
        );
        let mut case = Case::new(&doc, &a);
        case.revocation = &Revoked;
        let o = case.verify(JWS, &signed.envelope);
        assert_eq!(o.is_verified(), verified);
        assert_eq!(
            status_of(&o, ValidationType::Revocation) == Status::Skipped,
            status_is_skip
        );
    }
}

/// A `notary.x509.signingAuthority` JWS (built by hand; notation never writes one)
/// is anchored in `signingAuthority` stores, not `ca`, and its authentic signing
/// time must be inside every certificate's validity.
#[test]
fn signing_authority_scheme() {
    let (key, chain) = local_key(KeySpec::Rsa2048);
    let build = |t: i64| {
        let header = json!({
            "alg": "PS256",
            "crit": ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime"],
            "cty": "application/vnd.cncf.notary.payload.v1+json",
            "io.cncf.notary.authenticSigningTime": notation_core::timefmt::format_rfc3339(t),
            "io.cncf.notary.signingScheme": "notary.x509.signingAuthority",
        });
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        let b = URL_SAFE_NO_PAD.encode(Payload::new(descriptor()).to_sorted_json());
        let sig = key
            .sign(KeySpec::Rsa2048, format!("{p}.{b}").as_bytes())
            .unwrap();
        let x5c: Vec<String> = chain.iter().map(|c| STANDARD.encode(&c.der)).collect();
        serde_json::to_vec(&json!({"payload": b, "protected": p, "header": {"x5c": x5c}, "signature": URL_SAFE_NO_PAD.encode(&sig.signature)})).unwrap()
    };
    let env = build(SIGNING_TIME);
    let root = chain[2].cert();
    let ca_only = anchors(std::slice::from_ref(&root));
    let doc = statement_json(json!({"level": "strict"}), &["ca:test"], &["*"]);
    assert_fails(
        &Case::new(&doc, &ca_only).verify(JWS, &env),
        ValidationType::Authenticity,
        "no trust store of type signingAuthority",
    );
    let mut sa = TrustAnchors::default();
    sa.add(StoreType::SigningAuthority, [root]);
    let doc = statement_json(
        json!({"level": "strict"}),
        &["signingAuthority:test"],
        &["*"],
    );
    assert!(Case::new(&doc, &sa).verify(JWS, &env).is_verified());
}
