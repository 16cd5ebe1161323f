//! A private key and certificate chain held in files: the built-in signer behind
//! `--key` for keys made by `cert generate-test` or registered with `key add`.
//! It is a [`RawSigner`], so it goes through the same checks as a RAW plugin.
//!
//! Accepted key encodings (spec §4.4): PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`
//! and PKCS#1 `RSA PRIVATE KEY`, all PEM.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair as _};

use crate::algorithm::KeySpec;
use crate::cert::Certificate;
use crate::error::{Error, Result};
use crate::signer::{RawSignature, RawSigner};

enum PrivateKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, KeySpec),
}

/// A local key pair with its certificate chain (leaf first).
pub struct LocalKey {
    key: PrivateKey,
    chain: Vec<Certificate>,
    key_spec: KeySpec,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("LocalKey")
            .field("key_spec", &self.key_spec)
            .field("leaf", &self.chain.first().map(|c| &c.subject))
            .finish_non_exhaustive()
    }
}

const EC_ALGS: [(&EcdsaSigningAlgorithm, KeySpec); 3] = [
    (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, KeySpec::Ec256),
    (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, KeySpec::Ec384),
    (&signature::ECDSA_P521_SHA512_FIXED_SIGNING, KeySpec::Ec521),
];

fn parse_private_key(pem: &[u8]) -> Result<PrivateKey> {
    let block = x509_parser::pem::Pem::iter_from_buffer(pem)
        .filter_map(|p| p.ok())
        .find(|p| p.label.ends_with("PRIVATE KEY"))
        .ok_or_else(|| Error::PrivateKey("no PEM private key block found".into()))?;
    let der = &block.contents;
    match block.label.as_str() {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(der)
            .map(PrivateKey::Rsa)
            .map_err(|e| Error::PrivateKey(format!("malformed PKCS#1 RSA key: {e}"))),
        "EC PRIVATE KEY" | "PRIVATE KEY" => {
            if block.label == "PRIVATE KEY"
                && let Ok(k) = RsaKeyPair::from_pkcs8(der)
            {
                return Ok(PrivateKey::Rsa(k));
            }
            EC_ALGS
                .iter()
                .find_map(|(alg, spec)| {
                    EcdsaKeyPair::from_private_key_der(alg, der)
                        .ok()
                        .map(|k| PrivateKey::Ec(k, *spec))
                })
                .ok_or_else(|| {
                    Error::PrivateKey(format!(
                        "the {} block is not an RSA or P-256/P-384/P-521 EC key",
                        block.label
                    ))
                })
        }
        "ENCRYPTED PRIVATE KEY" => Err(Error::PrivateKey(
            "encrypted private keys are not supported; decrypt it first (openssl pkcs8 -nocrypt)"
                .into(),
        )),
        other => Err(Error::PrivateKey(format!(
            "unsupported PEM block {other:?}"
        ))),
    }
}

impl LocalKey {
    /// Loads a key and its chain from PEM. The leaf must carry a supported key and the
    /// private key must be the leaf's.
    pub fn from_pem(key_pem: &[u8], chain_pem: &[u8]) -> Result<LocalKey> {
        let chain = Certificate::parse_pem_or_der(chain_pem)?;
        let leaf = &chain[0];
        let key_spec = leaf.key_spec()?;
        let key = parse_private_key(key_pem)?;
        let (public, spec_of_key) = match &key {
            PrivateKey::Rsa(k) => (
                k.public_key().as_ref().to_vec(),
                KeySpec::from_rsa_bits(k.public_modulus_len() * 8),
            ),
            PrivateKey::Ec(k, spec) => (k.public_key().as_ref().to_vec(), Some(*spec)),
        };
        if spec_of_key != Some(key_spec) || public != leaf.public_key {
            return Err(Error::KeyCertificateMismatch {
                subject: leaf.subject.clone(),
            });
        }
        Ok(LocalKey {
            key,
            chain,
            key_spec,
        })
    }

    /// The certificate chain, leaf first.
    pub fn certificate_chain(&self) -> &[Certificate] {
        &self.chain
    }
}

impl RawSigner for LocalKey {
    fn key_spec(&self) -> Result<KeySpec> {
        Ok(self.key_spec)
    }

    fn sign(&self, key_spec: KeySpec, payload: &[u8]) -> Result<RawSignature> {
        if key_spec != self.key_spec {
            return Err(Error::Unsupported {
                what: "key spec for this key",
                value: key_spec.to_string(),
            });
        }
        let rng = SystemRandom::new();
        let signature = match &self.key {
            PrivateKey::Rsa(k) => {
                let enc = match key_spec {
                    KeySpec::Rsa2048 => &signature::RSA_PSS_SHA256,
                    KeySpec::Rsa3072 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(enc, &rng, payload, &mut sig)
                    .map_err(|_| Error::Crypto("RSA-PSS signing failed"))?;
                sig
            }
            PrivateKey::Ec(k, _) => k
                .sign(&rng, payload)
                .map_err(|_| Error::Crypto("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
        };
        Ok(RawSignature {
            signature,
            algorithm: key_spec.signature_algorithm(),
            certificate_chain: self.chain.iter().map(|c| c.der().to_vec()).collect(),
        })
    }
}
