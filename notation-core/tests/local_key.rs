//! The built-in file key (spec §4.4): PEM private key encodings and the key/leaf match.

use notation_core::local_key::LocalKey;
use notation_core::signer::RawSigner;
use notation_core::{Error, KeySpec};

use crate::support::*;

/// Loads `key_pem` for a self-signed leaf of `key`, and proves the loaded key is the
/// leaf's by signing and verifying with the certificate's public key.
fn load_and_sign(spec: KeySpec, key_pem: impl Fn(&Key) -> String) {
    let leaf = Issued::self_signed(&Profile::leaf("Local"), Key::shared(spec));
    let local = LocalKey::from_pem(key_pem(&leaf.key).as_bytes(), leaf.pem.as_bytes())
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(local.key_spec().unwrap(), spec);
    assert_eq!(local.certificate_chain().len(), 1);
    let msg = b"to be signed";
    let raw = local.sign(spec, msg).unwrap();
    assert_eq!(raw.algorithm, spec.signature_algorithm());
    assert_eq!(raw.certificate_chain, vec![leaf.der.clone()]);
    assert!(
        verifies(spec, &leaf.der, msg, &raw.signature),
        "{spec}: signature does not verify"
    );
}

/// §4.4: PKCS#8 `PRIVATE KEY` RSA keys load (2048/3072/4096).
#[test]
fn pkcs8_rsa_keys_load() {
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
        load_and_sign(spec, Key::pkcs8_pem);
    }
}

/// §4.4: PKCS#1 `RSA PRIVATE KEY` keys load.
#[test]
fn pkcs1_rsa_keys_load() {
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072] {
        load_and_sign(spec, Key::pkcs1_pem);
    }
}

/// §4.4: PKCS#8 `PRIVATE KEY` EC keys load (P-256/P-384/P-521).
#[test]
fn pkcs8_ec_keys_load() {
    for spec in [KeySpec::Ec256, KeySpec::Ec384, KeySpec::Ec521] {
        load_and_sign(spec, Key::pkcs8_pem);
    }
}

/// §4.4: SEC1 `EC PRIVATE KEY` keys load (P-256/P-384/P-521).
#[test]
fn sec1_ec_keys_load() {
    for spec in [KeySpec::Ec256, KeySpec::Ec384, KeySpec::Ec521] {
        load_and_sign(spec, Key::sec1_pem);
    }
}

/// §4.4: the key block is found after other PEM blocks (a combined cert+key file).
#[test]
fn key_block_after_certificate_block_loads() {
    load_and_sign(KeySpec::Ec256, |k| {
        let cert = Issued::self_signed(
            &Profile::leaf("Other"),
            Key::pooled(Pool::Other, KeySpec::Ec256),
        );
        format!("{}{}", cert.pem, k.sec1_pem())
    });
}

/// §4.4: the chain PEM keeps every certificate, leaf first.
#[test]
fn chain_pem_with_three_certificates_keeps_order() {
    let [leaf, inter, root] = three_chain(KeySpec::Ec384);
    let local = LocalKey::from_pem(
        leaf.key.pkcs8_pem().as_bytes(),
        chain_pem(&[&leaf, &inter, &root]).as_bytes(),
    )
    .unwrap();
    let ders: Vec<&[u8]> = local.certificate_chain().iter().map(|c| c.der()).collect();
    assert_eq!(ders, vec![&leaf.der[..], &inter.der[..], &root.der[..]]);
}

fn mismatch(key_pem: String, leaf: &Issued) {
    assert_err!(
        LocalKey::from_pem(key_pem.as_bytes(), leaf.pem.as_bytes()),
        Error::KeyCertificateMismatch { .. },
        "does not match the public key of the leaf certificate \"CN=Local\""
    );
}

/// §4.4: a key of the same spec that is not the leaf's key is refused.
#[test]
fn key_of_another_certificate_same_spec_is_mismatch() {
    for spec in [KeySpec::Rsa2048, KeySpec::Ec256, KeySpec::Ec521] {
        let leaf = Issued::self_signed(&Profile::leaf("Local"), Key::shared(spec));
        mismatch(Key::pooled(Pool::Other, spec).pkcs8_pem(), &leaf);
    }
}

/// §4.4: a key of another spec or type than the leaf's is refused.
#[test]
fn key_of_other_spec_is_mismatch() {
    let cases = [
        (KeySpec::Ec256, KeySpec::Ec384),
        (KeySpec::Ec384, KeySpec::Ec256),
        (KeySpec::Rsa2048, KeySpec::Rsa3072),
        (KeySpec::Rsa2048, KeySpec::Ec256),
        (KeySpec::Ec256, KeySpec::Rsa2048),
    ];
    for (cert_spec, key_spec) in cases {
        let leaf = Issued::self_signed(&Profile::leaf("Local"), Key::shared(cert_spec));
        mismatch(Key::pooled(Pool::Other, key_spec).pkcs8_pem(), &leaf);
    }
}

fn leaf_pem() -> String {
    Issued::self_signed(&Profile::leaf("Local"), Key::shared(KeySpec::Ec256)).pem
}

/// §4.4: a file without a private key block is refused.
#[test]
fn garbage_key_pem_is_private_key_error() {
    assert_err!(
        LocalKey::from_pem(b"not a key at all", leaf_pem().as_bytes()),
        Error::PrivateKey(_),
        "no PEM private key block found"
    );
}

/// §4.4: a `PRIVATE KEY` block holding no RSA or supported EC key is refused.
#[test]
fn private_key_block_with_garbage_is_private_key_error() {
    let bad = pem("PRIVATE KEY", b"\x30\x03\x02\x01\x00 definitely not PKCS#8");
    assert_err!(
        LocalKey::from_pem(bad.as_bytes(), leaf_pem().as_bytes()),
        Error::PrivateKey(_),
        "not an RSA or P-256/P-384/P-521 EC key"
    );
}

/// §4.4: an `RSA PRIVATE KEY` block that is not PKCS#1 is refused.
#[test]
fn rsa_private_key_block_with_ec_key_is_private_key_error() {
    let bad = pem("RSA PRIVATE KEY", &Key::shared(KeySpec::Ec256).pkcs8);
    assert_err!(
        LocalKey::from_pem(bad.as_bytes(), leaf_pem().as_bytes()),
        Error::PrivateKey(_),
        "malformed PKCS#1 RSA key"
    );
}

/// §4.4: encrypted PKCS#8 keys are not supported and say so.
#[test]
fn encrypted_private_key_is_private_key_error() {
    assert_err!(
        LocalKey::from_pem(
            crate::fixtures::ENCRYPTED_PKCS8_KEY.as_bytes(),
            leaf_pem().as_bytes()
        ),
        Error::PrivateKey(_),
        "encrypted private keys are not supported"
    );
}

/// §4.4: other PEM private key types (e.g. DSA) are refused by name.
#[test]
fn dsa_private_key_block_is_unsupported() {
    let bad = pem("DSA PRIVATE KEY", b"\x30\x00");
    assert_err!(
        LocalKey::from_pem(bad.as_bytes(), leaf_pem().as_bytes()),
        Error::PrivateKey(_),
        "unsupported PEM block \"DSA PRIVATE KEY\""
    );
}

/// §4.4: the certificate file must hold a certificate.
#[test]
fn chain_without_certificate_is_certificate_error() {
    let key = Key::shared(KeySpec::Ec256).pkcs8_pem();
    assert_err!(
        LocalKey::from_pem(key.as_bytes(), key.as_bytes()),
        Error::Certificate(_),
        "no CERTIFICATE block found"
    );
}

/// §2.7/§1.4: a leaf whose key is not one of the six key specs cannot back a key.
#[test]
fn rsa_1024_leaf_is_unsupported() {
    let (leaf, _root) = rsa_1024_leaf();
    let leaf = pem("CERTIFICATE", &leaf);
    assert_err!(
        LocalKey::from_pem(
            Key::shared(KeySpec::Rsa2048).pkcs8_pem().as_bytes(),
            leaf.as_bytes()
        ),
        Error::Unsupported { .. },
        "RSA 1024-bit"
    );
}

/// §1.4: a local key signs only with its own key spec.
#[test]
fn local_key_refuses_other_key_spec() {
    let leaf = Issued::self_signed(&Profile::leaf("Local"), Key::shared(KeySpec::Ec256));
    let local = LocalKey::from_pem(leaf.key.pkcs8_pem().as_bytes(), leaf.pem.as_bytes()).unwrap();
    assert_err!(
        local.sign(KeySpec::Ec384, b"x"),
        Error::Unsupported { .. },
        "\"EC-384\""
    );
}
