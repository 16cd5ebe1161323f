//! The key and certificate of `notation cert generate-test` (spec §4.9): an RSA key
//! and a self-signed leaf with subject `C=US, ST=WA, L=Seattle, O=Notary, CN=<name>`,
//! valid for one day, keyUsage digitalSignature (critical), EKU codeSigning, no
//! basicConstraints, signed with SHA-256 RSA. As a single self-signed leaf it
//! satisfies the chain rules on its own.

use anyhow::{Context as _, Result, bail};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize, SerialNumber,
};
use time::OffsetDateTime;

/// A generated key (PKCS#8 PEM) and certificate (PEM).
pub struct TestCertificate {
    /// PKCS#8 `PRIVATE KEY` PEM.
    pub key_pem: String,
    /// `CERTIFICATE` PEM.
    pub cert_pem: String,
    /// notAfter, Unix seconds.
    pub not_after: i64,
}

/// The RSA key size for `--bits`; only the sizes of the RSA key specs are allowed.
pub fn rsa_key_size(bits: u32) -> Result<RsaKeySize> {
    Ok(match bits {
        2048 => RsaKeySize::_2048,
        3072 => RsaKeySize::_3072,
        4096 => RsaKeySize::_4096,
        other => bail!("RSA key size {other} bits is not supported: use 2048, 3072 or 4096"),
    })
}

/// Generates the key pair and certificate for `name` with `bits` RSA bits.
pub fn generate(name: &str, bits: u32, now: i64) -> Result<TestCertificate> {
    let size = rsa_key_size(bits)?;
    let key =
        KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, size).context("cannot generate an RSA key")?;
    let mut params = CertificateParams::default();
    // The default carries a placeholder CN; notation's subject is exactly these five.
    params.distinguished_name = DistinguishedName::new();
    for (ty, value) in [
        (DnType::CountryName, "US"),
        (DnType::StateOrProvinceName, "WA"),
        (DnType::LocalityName, "Seattle"),
        (DnType::OrganizationName, "Notary"),
        (DnType::CommonName, name),
    ] {
        params.distinguished_name.push(ty, value);
    }
    let start =
        OffsetDateTime::from_unix_timestamp(now).context("the system clock is out of range")?;
    params.not_before = start;
    params.not_after = start + time::Duration::days(1);
    let mut serial = [0u8; 8];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| anyhow::anyhow!("cannot read random bytes"))?;
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from(serial.to_vec()));
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    let cert = params
        .self_signed(&key)
        .context("cannot create the certificate")?;
    Ok(TestCertificate {
        key_pem: key.serialize_pem(),
        cert_pem: cert.pem(),
        not_after: params.not_after.unix_timestamp(),
    })
}

#[cfg(test)]
mod tests {
    use notation_core::KeySpec;
    use notation_core::cert::Certificate;
    use notation_core::chain::validate_signing_chain;
    use notation_core::local_key::LocalKey;

    #[test]
    fn profile_satisfies_chain_rules_and_key_matches() {
        let now = 1_800_000_000;
        let t = super::generate("unit", 2048, now).unwrap();
        let chain = Certificate::parse_pem_or_der(t.cert_pem.as_bytes()).unwrap();
        assert_eq!(chain.len(), 1);
        let c = &chain[0];
        assert_eq!(c.subject, "C=US, ST=WA, L=Seattle, O=Notary, CN=unit");
        assert_eq!(c.not_after - c.not_before, 86_400);
        assert!(c.basic_constraints.is_none());
        assert!(c.key_usage.as_ref().unwrap().critical);
        assert!(c.extended_key_usage.as_ref().unwrap().value.code_signing);
        assert_eq!(
            validate_signing_chain(&chain, Some(now + 10)).unwrap(),
            KeySpec::Rsa2048
        );
        assert!(t.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        LocalKey::from_pem(t.key_pem.as_bytes(), t.cert_pem.as_bytes()).unwrap();
    }

    #[test]
    fn refuses_other_sizes() {
        assert!(super::generate("x", 1024, 0).is_err());
    }
}
