//! Signing certificate chain rules (spec §2.7) through `validate_signing_chain`:
//! structure and order, key size and signature hash, validity at signing time.

use notation_core::cert::Certificate;
use notation_core::chain::validate_signing_chain;
use notation_core::{Error, KeySpec};

use crate::support::*;

fn self_signed(profile: &Profile, spec: KeySpec) -> Vec<Certificate> {
    vec![Issued::self_signed(profile, Key::shared(spec)).cert()]
}

fn leaf_chain(profile: &Profile) -> Vec<Certificate> {
    let [leaf, inter, root] = three_chain_with(KeySpec::Ec256, profile);
    certs(&[&leaf, &inter, &root])
}

// ---- structure ----

/// §2.7: a single self-signed certificate is a whole chain, validated as a leaf.
#[test]
fn single_self_signed_rsa_leaf_is_valid_chain() {
    let chain = self_signed(&Profile::leaf("Solo"), KeySpec::Rsa2048);
    assert_eq!(
        validate_signing_chain(&chain, Some(SIGNING_TIME)).unwrap(),
        KeySpec::Rsa2048
    );
}

/// §2.7/§1.4: the leaf key decides the key spec (EC P-256/P-384/P-521).
#[test]
fn single_self_signed_ec_leaves_report_their_curve() {
    for spec in [KeySpec::Ec256, KeySpec::Ec384, KeySpec::Ec521] {
        let chain = self_signed(&Profile::leaf("Solo"), spec);
        assert_eq!(validate_signing_chain(&chain, None).unwrap(), spec);
    }
}

/// §2.7: leaf → intermediate → root, each issued by the next, ending self-signed.
#[test]
fn three_certificate_chain_returns_leaf_key_spec_for_every_spec() {
    for spec in KeySpec::ALL {
        let [leaf, inter, root] = three_chain(spec);
        let chain = certs(&[&leaf, &inter, &root]);
        assert_eq!(
            validate_signing_chain(&chain, Some(SIGNING_TIME)).unwrap(),
            spec
        );
    }
}

/// §2.7: leaf issued directly by the self-signed root.
#[test]
fn two_certificate_chain_leaf_and_root_is_valid() {
    let root = Issued::self_signed(
        &Profile::ca("Root CA"),
        Key::pooled(Pool::Ca, KeySpec::Ec384),
    );
    let leaf = Issued::issued_by(&Profile::leaf("Leaf"), Key::shared(KeySpec::Ec521), &root);
    let chain = certs(&[&leaf, &root]);
    assert_eq!(
        validate_signing_chain(&chain, None).unwrap(),
        KeySpec::Ec521
    );
}

/// §2.7: a chain needs at least the signing certificate.
#[test]
fn empty_chain_is_rejected() {
    assert_err!(
        validate_signing_chain(&[], None),
        Error::InvalidChain(_),
        "chain is empty"
    );
}

/// §2.7: strictly ordered leaf → root; root first is refused.
#[test]
fn reversed_chain_root_first_is_rejected() {
    let [leaf, inter, root] = three_chain(KeySpec::Ec256);
    let chain = certs(&[&root, &inter, &leaf]);
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "leaf certificate with subject \"CN=Root CA\" is self-signed"
    );
}

/// §2.7: each certificate must be issued by the next one.
#[test]
fn intermediate_before_leaf_is_rejected() {
    let [leaf, inter, root] = three_chain(KeySpec::Ec256);
    let chain = certs(&[&inter, &leaf, &root]);
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "\"CN=Intermediate CA\" is not issued by \"CN=Leaf\""
    );
}

/// §2.7: no gaps — a missing intermediate breaks the issuer link.
#[test]
fn missing_intermediate_is_rejected() {
    let [leaf, _inter, root] = three_chain(KeySpec::Ec256);
    let chain = certs(&[&leaf, &root]);
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "\"CN=Leaf\" is not issued by \"CN=Root CA\""
    );
}

/// §2.7: the issuer name must match and the issuer's key must have signed the certificate.
#[test]
fn issuer_with_same_name_but_other_key_is_rejected() {
    let [leaf, _inter, root] = three_chain(KeySpec::Ec256);
    let impostor = Issued::self_signed(
        &Profile::ca("Intermediate CA"),
        Key::pooled(Pool::Other, KeySpec::Rsa2048),
    );
    let chain = certs(&[&leaf, &impostor, &root]);
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "\"CN=Leaf\" is not issued by \"CN=Intermediate CA\""
    );
}

/// §2.7: a self-signed leaf must be alone; nothing may follow it.
#[test]
fn self_signed_leaf_followed_by_more_certificates_is_rejected() {
    let solo = Issued::self_signed(&Profile::leaf("Solo"), Key::shared(KeySpec::Ec256));
    let [_, _, root] = three_chain(KeySpec::Ec256);
    let chain = certs(&[&solo, &root]);
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "leaf certificate with subject \"CN=Solo\" is self-signed"
    );
}

/// §2.7: no unrelated or extra certificates after the root.
#[test]
fn extra_certificate_after_root_is_rejected() {
    let [leaf, inter, root] = three_chain(KeySpec::Ec256);
    let other = Issued::self_signed(
        &Profile::ca("Other Root"),
        Key::pooled(Pool::Other, KeySpec::Ec384),
    );
    let chain = certs(&[&leaf, &inter, &root, &other]);
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "intermediate certificate with subject \"CN=Root CA\" is self-signed"
    );
}

/// §2.7: the chain must end in a self-signed root.
#[test]
fn chain_ending_at_intermediate_is_rejected() {
    let [leaf, inter, _root] = three_chain(KeySpec::Ec256);
    let chain = certs(&[&leaf, &inter]);
    assert_err!(
        validate_signing_chain(&chain, None),
        Error::InvalidChain(_),
        "root certificate with subject \"CN=Intermediate CA\" is not self-signed"
    );
}

/// §2.7: a lone certificate must be self-issued (subject == issuer).
#[test]
fn lone_certificate_issued_by_a_ca_is_rejected() {
    let [leaf, _, _] = three_chain(KeySpec::Ec256);
    assert_err!(
        validate_signing_chain(&[leaf.cert()], None),
        Error::InvalidChain(_),
        "issuer (CN=Intermediate CA) and subject (CN=Leaf) are not the same"
    );
}

/// §2.7: a lone self-issued certificate must verify with its own key.
#[test]
fn lone_self_issued_certificate_signed_by_another_key_is_rejected() {
    let namesake = Issued::self_signed(&Profile::ca("Solo"), Key::pooled(Pool::Ca, KeySpec::Ec256));
    let solo = Issued::issued_by(
        &Profile::leaf("Solo"),
        Key::shared(KeySpec::Ec256),
        &namesake,
    );
    assert_err!(
        validate_signing_chain(&[solo.cert()], None),
        Error::InvalidChain(_),
        "does not verify with its own key"
    );
}

// ---- key size and signature hash ----

/// §2.7 key length: RSA keys below 2048 bits are refused.
#[test]
fn rsa_1024_leaf_is_rejected() {
    let (leaf, root) = rsa_1024_leaf();
    let leaf = Certificate::from_der(&leaf).unwrap();
    assert_eq!(
        leaf.key_kind,
        notation_core::cert::KeyKind::Rsa { bits: 1024 }
    );
    assert_err!(
        validate_signing_chain(&[leaf, root.cert()], None),
        Error::InvalidChain(_),
        "RSA key of 1024 bits is below 2048 bits"
    );
}

/// §2.7: certificates signed with SHA-1 are not allowed.
#[test]
fn sha1_signed_certificate_is_rejected() {
    let cert =
        Certificate::parse_pem_or_der(crate::fixtures::SHA1_SELF_SIGNED_LEAF.as_bytes()).unwrap();
    assert_err!(
        validate_signing_chain(&cert, None),
        Error::InvalidChain(_),
        "signed with SHA-1 are not allowed"
    );
}

// ---- validity at signing time ----

fn dated_leaf_chain() -> Vec<Certificate> {
    leaf_chain(&Profile::leaf("Leaf").with_validity(ymd(2030, 1, 1), ymd(2031, 1, 1)))
}

/// §2.7: every certificate must be valid at signing time — before notBefore fails.
#[test]
fn signing_time_before_leaf_not_before_is_rejected() {
    assert_err!(
        validate_signing_chain(&dated_leaf_chain(), Some(ymd(2029, 12, 31))),
        Error::InvalidChain(_),
        "\"CN=Leaf\" was invalid at signing time of 2029-12-31T00:00:00Z"
    );
}

/// §2.7: every certificate must be valid at signing time — after notAfter fails.
#[test]
fn signing_time_after_leaf_not_after_is_rejected() {
    assert_err!(
        validate_signing_chain(&dated_leaf_chain(), Some(ymd(2031, 1, 1) + 1)),
        Error::InvalidChain(_),
        "was invalid at signing time of 2031-01-01T00:00:01Z. Certificate is valid from [2030-01-01T00:00:00Z] to [2031-01-01T00:00:00Z]"
    );
}

/// §2.7: validity bounds are inclusive (notation-go: `t < notBefore || t > notAfter`).
#[test]
fn signing_time_on_validity_bounds_is_valid() {
    for t in [ymd(2030, 1, 1), ymd(2031, 1, 1)] {
        assert_eq!(
            validate_signing_chain(&dated_leaf_chain(), Some(t)).unwrap(),
            KeySpec::Ec256
        );
    }
}

/// §2.7: without a signing time the validity period is not checked here.
#[test]
fn no_signing_time_skips_validity_check() {
    assert_eq!(
        validate_signing_chain(&dated_leaf_chain(), None).unwrap(),
        KeySpec::Ec256
    );
}

/// §2.7: the rule applies to CA certificates too (no nesting requirement).
#[test]
fn expired_root_at_signing_time_is_rejected() {
    let root = Issued::self_signed(
        &Profile::ca("Root CA").with_validity(ymd(2000, 1, 1), ymd(2020, 1, 1)),
        Key::pooled(Pool::Ca, KeySpec::Ec384),
    );
    let leaf = Issued::issued_by(&Profile::leaf("Leaf"), Key::shared(KeySpec::Ec256), &root);
    let chain = certs(&[&leaf, &root]);
    assert_eq!(
        validate_signing_chain(&chain, Some(ymd(2019, 6, 1))).unwrap(),
        KeySpec::Ec256
    );
    assert_err!(
        validate_signing_chain(&chain, Some(SIGNING_TIME)),
        Error::InvalidChain(_),
        "\"CN=Root CA\" was invalid at signing time"
    );
}
