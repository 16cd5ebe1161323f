//! Signing certificate chain rules (spec §2.7) through `validate_signing_chain`:
//! basicConstraints, keyUsage and extendedKeyUsage of the leaf and of CAs.

use notation_core::cert::Certificate;
use notation_core::chain::validate_signing_chain;
use notation_core::{Error, KeySpec};
use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose as Eku, IsCa, KeyUsagePurpose as Ku};

use crate::support::*;

fn self_signed(profile: &Profile, spec: KeySpec) -> Vec<Certificate> {
    vec![Issued::self_signed(profile, Key::shared(spec)).cert()]
}

fn leaf_chain(profile: &Profile) -> Vec<Certificate> {
    let [leaf, inter, root] = three_chain_with(KeySpec::Ec256, profile);
    certs(&[&leaf, &inter, &root])
}

/// Chain with intermediate `ca` (issued by a good root) and a good leaf below it.
fn ca_chain(ca: &Profile) -> Vec<Certificate> {
    let root = Issued::self_signed(
        &Profile::ca("Root CA"),
        Key::pooled(Pool::Ca, KeySpec::Ec384),
    );
    let inter = Issued::issued_by(ca, Key::pooled(Pool::Ca, KeySpec::Ec256), &root);
    let leaf = Issued::issued_by(&Profile::leaf("Leaf"), Key::shared(KeySpec::Ec256), &inter);
    certs(&[&leaf, &inter, &root])
}

// ---- leaf rules ----

/// §2.7 leaf: basicConstraints, if present, must have cA=false.
#[test]
fn leaf_with_ca_true_is_rejected() {
    let ca_leaf = Profile::leaf("Leaf").with_is_ca(IsCa::Ca(BasicConstraints::Unconstrained));
    for chain in [self_signed(&ca_leaf, KeySpec::Ec256), leaf_chain(&ca_leaf)] {
        assert_err!(
            validate_signing_chain(&chain, None),
            Error::InvalidChain(_),
            "the ca field must be set to false"
        );
    }
}

/// §2.7 leaf: basicConstraints is optional; cA=false present is fine.
#[test]
fn leaf_with_explicit_ca_false_is_valid() {
    let leaf = Profile::leaf("Leaf").with_is_ca(IsCa::ExplicitNoCa);
    assert_eq!(
        validate_signing_chain(&leaf_chain(&leaf), None).unwrap(),
        KeySpec::Ec256
    );
}

/// §2.7 leaf: keyUsage must be present.
#[test]
fn leaf_without_key_usage_is_rejected() {
    let leaf = Profile::leaf("Leaf").with_key_usages(vec![]);
    assert_err!(
        validate_signing_chain(&leaf_chain(&leaf), None),
        Error::InvalidChain(_),
        "key usage extension must be present"
    );
}

/// §2.7 leaf: keyUsage must have digitalSignature.
#[test]
fn leaf_key_usage_without_digital_signature_is_rejected() {
    let leaf = Profile::leaf("Leaf").with_key_usages(vec![Ku::ContentCommitment]);
    assert_err!(
        validate_signing_chain(&leaf_chain(&leaf), None),
        Error::InvalidChain(_),
        "bit positions for digital signature set"
    );
}

/// §2.7 leaf: keyUsage must be critical for code signing.
#[test]
fn leaf_key_usage_not_critical_is_rejected() {
    let leaf = Profile::leaf("Leaf")
        .with_key_usages(vec![])
        .with_extension(OID_KEY_USAGE, false, KU_DIGITAL_SIGNATURE_DER.to_vec());
    let chain = leaf_chain(&leaf);
    let ku = chain[0].key_usage.as_ref().expect("keyUsage written");
    assert!(!ku.critical, "fixture must carry a non-critical keyUsage");
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "key usage extension must be marked critical"
    );
}

/// §2.7 leaf: digitalSignature with nonRepudiation (not forbidden) is accepted.
#[test]
fn leaf_key_usage_with_content_commitment_is_valid() {
    let leaf =
        Profile::leaf("Leaf").with_key_usages(vec![Ku::DigitalSignature, Ku::ContentCommitment]);
    assert_eq!(
        validate_signing_chain(&leaf_chain(&leaf), None).unwrap(),
        KeySpec::Ec256
    );
}

/// §2.7 leaf: none of keyEncipherment, dataEncipherment, keyAgreement, keyCertSign,
/// cRLSign, encipherOnly, decipherOnly.
#[test]
fn leaf_key_usage_with_forbidden_bit_is_rejected() {
    let cases = [
        (Ku::KeyEncipherment, "[\"KeyEncipherment\"]"),
        (Ku::DataEncipherment, "[\"DataEncipherment\"]"),
        (Ku::KeyAgreement, "[\"KeyAgreement\"]"),
        (Ku::KeyCertSign, "[\"CertSign\"]"),
        (Ku::CrlSign, "[\"CRLSign\"]"),
        (Ku::EncipherOnly, "[\"EncipherOnly\"]"),
        (Ku::DecipherOnly, "[\"DecipherOnly\"]"),
    ];
    for (bit, name) in cases {
        let leaf = Profile::leaf("Leaf").with_key_usages(vec![Ku::DigitalSignature, bit]);
        assert_err!(
            validate_signing_chain(&leaf_chain(&leaf), None),
            Error::InvalidChain(_),
            name
        );
    }
}

/// §2.7 leaf EKU: must not contain serverAuth, clientAuth, emailProtection,
/// timeStamping, anyExtendedKeyUsage (spec; notation-go also OCSPSigning but not any).
#[test]
fn leaf_eku_with_forbidden_purpose_is_rejected() {
    let cases = [
        (Eku::ServerAuth, "must not contain ServerAuth eku"),
        (Eku::ClientAuth, "must not contain ClientAuth eku"),
        (Eku::EmailProtection, "must not contain EmailProtection eku"),
        (Eku::TimeStamping, "must not contain TimeStamping eku"),
        (Eku::OcspSigning, "must not contain OCSPSigning eku"),
        (Eku::Any, "must not contain AnyExtendedKeyUsage eku"),
    ];
    for (purpose, msg) in cases {
        let leaf = Profile::leaf("Leaf").with_ekus(vec![Eku::CodeSigning, purpose]);
        assert_err!(
            validate_signing_chain(&leaf_chain(&leaf), None),
            Error::InvalidChain(_),
            msg
        );
    }
}

/// §2.7 leaf EKU: optional; absent or with other (unlisted) purposes is accepted.
#[test]
fn leaf_eku_absent_or_with_other_purpose_is_valid() {
    for ekus in [
        vec![],
        vec![
            Eku::CodeSigning,
            Eku::Other(vec![1, 3, 6, 1, 4, 1, 311, 10, 3, 13]),
        ],
    ] {
        let leaf = Profile::leaf("Leaf").with_ekus(ekus);
        assert_eq!(
            validate_signing_chain(&leaf_chain(&leaf), None).unwrap(),
            KeySpec::Ec256
        );
    }
}

// ---- CA rules ----

/// §2.7 CA: basicConstraints must be present.
#[test]
fn ca_without_basic_constraints_is_rejected() {
    let ca = Profile::ca("Intermediate CA").with_is_ca(IsCa::NoCa);
    assert_err!(
        validate_signing_chain(&ca_chain(&ca), None),
        Error::InvalidChain(_),
        "\"CN=Intermediate CA\": ca field in basic constraints must be present, critical, and set to true"
    );
}

/// §2.7 CA: basicConstraints must have cA=true.
#[test]
fn ca_with_ca_false_is_rejected() {
    let ca = Profile::ca("Intermediate CA").with_is_ca(IsCa::ExplicitNoCa);
    assert_err!(
        validate_signing_chain(&ca_chain(&ca), None),
        Error::InvalidChain(_),
        "ca field in basic constraints must be present, critical, and set to true"
    );
}

/// §2.7 CA: basicConstraints must be critical (spec; notation-go does not check).
#[test]
fn ca_basic_constraints_not_critical_is_rejected() {
    let ca = Profile::ca("Intermediate CA")
        .with_is_ca(IsCa::NoCa)
        .with_extension(OID_BASIC_CONSTRAINTS, false, BC_CA_TRUE_DER.to_vec());
    let chain = ca_chain(&ca);
    let bc = chain[1]
        .basic_constraints
        .as_ref()
        .expect("basicConstraints written");
    assert!(
        bc.value.ca && !bc.critical,
        "fixture must be cA=true, non-critical"
    );
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "ca field in basic constraints must be present, critical, and set to true"
    );
}

/// §2.7 CA: keyUsage must be present.
#[test]
fn ca_without_key_usage_is_rejected() {
    let ca = Profile::ca("Intermediate CA").with_key_usages(vec![]);
    assert_err!(
        validate_signing_chain(&ca_chain(&ca), None),
        Error::InvalidChain(_),
        "\"CN=Intermediate CA\": key usage extension must be present"
    );
}

/// §2.7 CA: keyUsage must be critical for code signing.
#[test]
fn ca_key_usage_not_critical_is_rejected() {
    let ca = Profile::ca("Intermediate CA")
        .with_key_usages(vec![])
        .with_extension(OID_KEY_USAGE, false, KU_KEY_CERT_SIGN_DER.to_vec());
    assert_err!(
        validate_signing_chain(&ca_chain(&ca), None),
        Error::InvalidChain(_),
        "\"CN=Intermediate CA\": key usage extension must be marked critical"
    );
}

/// §2.7 CA: keyUsage must have keyCertSign.
#[test]
fn ca_without_key_cert_sign_is_rejected() {
    let ca =
        Profile::ca("Intermediate CA").with_key_usages(vec![Ku::DigitalSignature, Ku::CrlSign]);
    assert_err!(
        validate_signing_chain(&ca_chain(&ca), None),
        Error::InvalidChain(_),
        "bit positions for key cert sign set"
    );
}

/// §2.7 CA: pathLenConstraint is honoured — root pathLen=0 cannot have an intermediate.
#[test]
fn root_path_len_zero_with_intermediate_below_is_rejected() {
    let root = Issued::self_signed(
        &Profile::ca("Root CA").with_is_ca(IsCa::Ca(BasicConstraints::Constrained(0))),
        Key::pooled(Pool::Ca, KeySpec::Ec384),
    );
    let inter = Issued::issued_by(
        &Profile::ca("Intermediate CA"),
        Key::pooled(Pool::Ca, KeySpec::Ec256),
        &root,
    );
    let leaf = Issued::issued_by(&Profile::leaf("Leaf"), Key::shared(KeySpec::Ec256), &inter);
    assert_err!(
        validate_signing_chain(&certs(&[&leaf, &inter, &root]), None),
        Error::InvalidChain(_),
        "\"CN=Root CA\": expected path length of 1 but certificate has maximum path length 0"
    );
}

/// §2.7 CA: pathLen=0 on the issuing CA and pathLen=1 on the root are satisfied.
#[test]
fn path_len_constraints_that_fit_are_valid() {
    let root = Issued::self_signed(
        &Profile::ca("Root CA").with_is_ca(IsCa::Ca(BasicConstraints::Constrained(1))),
        Key::pooled(Pool::Ca, KeySpec::Ec384),
    );
    let inter = Issued::issued_by(
        &Profile::ca("Intermediate CA").with_is_ca(IsCa::Ca(BasicConstraints::Constrained(0))),
        Key::pooled(Pool::Ca, KeySpec::Ec256),
        &root,
    );
    let leaf = Issued::issued_by(
        &Profile::leaf("Leaf"),
        Key::shared(KeySpec::Rsa3072),
        &inter,
    );
    assert_eq!(
        validate_signing_chain(&certs(&[&leaf, &inter, &root]), None).unwrap(),
        KeySpec::Rsa3072
    );
}
