//! Shared by the benchmarks: a signing key of every key spec with a certificate in
//! the profile of `notation cert generate-test` (self-signed, keyUsage
//! digitalSignature, EKU codeSigning), so that each one passes the signing-time
//! chain rules.

use notation_core::KeySpec;
use notation_core::local_key::LocalKey;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, RsaKeySize,
};

/// The six key specs of the Notary Project signature specification.
pub const KEY_SPECS: [KeySpec; 6] = [
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::Ec256,
    KeySpec::Ec384,
    KeySpec::Ec521,
];

/// A generated key: PEMs, and the PKCS#8 DER of the private key.
pub struct BenchKey {
    /// Its key spec.
    pub spec: KeySpec,
    /// PKCS#8 `PRIVATE KEY` PEM.
    pub key_pem: String,
    /// `CERTIFICATE` PEM.
    pub cert_pem: String,
    /// PKCS#8 DER.
    pub pkcs8: Vec<u8>,
}

impl BenchKey {
    /// A fresh key of `spec` and its certificate, valid from an hour ago for a day.
    pub fn generate(spec: KeySpec) -> BenchKey {
        let key = match spec {
            KeySpec::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
            }
            KeySpec::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072)
            }
            KeySpec::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096)
            }
            KeySpec::Ec256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeySpec::Ec384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeySpec::Ec521 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512),
        }
        .expect("key generation");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("bench {spec}"));
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(1);
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        let cert = params.self_signed(&key).expect("certificate");
        BenchKey {
            spec,
            key_pem: key.serialize_pem(),
            cert_pem: cert.pem(),
            pkcs8: key.serialize_der(),
        }
    }

    /// The key as notation's local signer.
    pub fn local_key(&self) -> LocalKey {
        LocalKey::from_pem(self.key_pem.as_bytes(), self.cert_pem.as_bytes()).expect("local key")
    }
}
