//! Shared helpers: keys of every key spec, certificates with chosen extensions made
//! with rcgen at test time, PEM encodings, and error assertions.

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair};
use base64::Engine as _;
use notation_core::KeySpec;
use notation_core::cert::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, RsaKeySize, SignatureAlgorithm,
};
use time::OffsetDateTime;

/// Asserts that `$res` is `Err` of the pattern `$pat` whose message contains `$needle`;
/// evaluates to the error.
macro_rules! assert_err {
    ($res:expr, $pat:pat, $needle:expr) => {{
        match $res {
            Err(e @ $pat) => {
                let msg = e.to_string();
                assert!(
                    msg.contains($needle),
                    "error {msg:?} does not mention {:?}",
                    $needle
                );
                e
            }
            other => panic!(
                "expected Err({}) mentioning {:?}, got {other:?}",
                stringify!($pat),
                $needle
            ),
        }
    }};
}

/// A signing time inside rcgen's default validity (1975 – 4096): 2027-01-15T08:00:00Z.
pub const SIGNING_TIME: i64 = 1_800_000_000;

/// Unix seconds of midnight UTC on a date.
pub fn ymd(year: i32, month: u8, day: u8) -> i64 {
    rcgen::date_time_ymd(year, month, day).unix_timestamp()
}

fn odt(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("time in range")
}

/// Pools of shared keys, so that a chain never reuses one key for two certificates.
#[derive(Clone, Copy)]
pub enum Pool {
    Leaf = 0,
    Ca = 1,
    Other = 2,
}

/// A private key of one key spec, kept as PKCS#8 DER.
pub struct Key {
    pub spec: KeySpec,
    pub pkcs8: Vec<u8>,
}

fn generate_pkcs8(spec: KeySpec) -> Vec<u8> {
    let pair = match spec {
        KeySpec::Rsa2048 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048),
        KeySpec::Rsa3072 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072),
        KeySpec::Rsa4096 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096),
        KeySpec::Ec256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeySpec::Ec384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeySpec::Ec521 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512),
    };
    pair.expect("key generation").serialize_der()
}

impl Key {
    /// One leaf key per spec shared by all tests (RSA-4096 generation is slow).
    pub fn shared(spec: KeySpec) -> Key {
        Key::pooled(Pool::Leaf, spec)
    }

    /// A shared key from `pool`; keys of different pools are different keys.
    pub fn pooled(pool: Pool, spec: KeySpec) -> Key {
        static CACHE: [[OnceLock<Vec<u8>>; 6]; 3] = [const { [const { OnceLock::new() }; 6] }; 3];
        let i = KeySpec::ALL.iter().position(|s| *s == spec).unwrap();
        Key {
            spec,
            pkcs8: CACHE[pool as usize][i]
                .get_or_init(|| generate_pkcs8(spec))
                .clone(),
        }
    }

    /// The rcgen key pair (RSA keys sign certificates with PKCS#1 v1.5 SHA-256).
    pub fn pair(&self) -> KeyPair {
        KeyPair::try_from(self.pkcs8.as_slice()).expect("rcgen reads its own PKCS#8")
    }

    /// `PRIVATE KEY` PEM (PKCS#8).
    pub fn pkcs8_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8)
    }

    /// `RSA PRIVATE KEY` PEM (PKCS#1), cut out of the PKCS#8 `privateKey` octet string.
    pub fn pkcs1_pem(&self) -> String {
        assert!(self.spec.is_rsa());
        pem("RSA PRIVATE KEY", &pkcs8_inner_key(&self.pkcs8))
    }

    /// `EC PRIVATE KEY` PEM (SEC1 / RFC 5915, with the curve parameters).
    pub fn sec1_pem(&self) -> String {
        let pair =
            EcdsaKeyPair::from_pkcs8(ec_signing_alg(self.spec), &self.pkcs8).expect("EC PKCS#8");
        let der = pair.private_key().as_der().expect("RFC 5915 export");
        pem("EC PRIVATE KEY", der.as_ref())
    }
}

/// The fixed-width (r||s) aws-lc-rs signing algorithm of an EC key spec.
pub fn ec_signing_alg(spec: KeySpec) -> &'static sig::EcdsaSigningAlgorithm {
    match spec {
        KeySpec::Ec256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
        KeySpec::Ec384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
        KeySpec::Ec521 => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
        other => panic!("{other} is not an EC key spec"),
    }
}

/// The aws-lc-rs verifier for the envelope algorithm of a key spec (spec §1.4 table:
/// RSASSA-PSS with salt = hash length, ECDSA r||s), chosen independently of the crate.
pub fn envelope_verifier(spec: KeySpec) -> &'static dyn sig::VerificationAlgorithm {
    match spec {
        KeySpec::Rsa2048 => &sig::RSA_PSS_2048_8192_SHA256,
        KeySpec::Rsa3072 => &sig::RSA_PSS_2048_8192_SHA384,
        KeySpec::Rsa4096 => &sig::RSA_PSS_2048_8192_SHA512,
        KeySpec::Ec256 => &sig::ECDSA_P256_SHA256_FIXED,
        KeySpec::Ec384 => &sig::ECDSA_P384_SHA384_FIXED,
        KeySpec::Ec521 => &sig::ECDSA_P521_SHA512_FIXED,
    }
}

/// Reads one DER TLV at the start of `der`: (tag, contents, rest). Short and long
/// definite lengths only, which is all PKCS#8 uses.
pub fn der_tlv(der: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = der[0];
    let (len, hdr) = if der[1] < 0x80 {
        (der[1] as usize, 2)
    } else {
        let n = (der[1] & 0x7f) as usize;
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    (tag, &der[hdr..hdr + len], &der[hdr + len..])
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo`.
fn pkcs8_inner_key(pkcs8: &[u8]) -> Vec<u8> {
    let (tag, seq, _) = der_tlv(pkcs8);
    assert_eq!(tag, 0x30);
    let (tag, _version, rest) = der_tlv(seq);
    assert_eq!(tag, 0x02);
    let (tag, _alg, rest) = der_tlv(rest);
    assert_eq!(tag, 0x30);
    let (tag, key, _) = der_tlv(rest);
    assert_eq!(tag, 0x04);
    key.to_vec()
}

/// PEM with 64-column base64.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// What goes into a certificate.
#[derive(Clone)]
pub struct Profile {
    pub cn: String,
    /// Attributes written before CN (e.g. C, ST, O for trusted identities).
    pub dn_prefix: Vec<(DnType, String)>,
    pub is_ca: IsCa,
    pub key_usages: Vec<KeyUsagePurpose>,
    pub ekus: Vec<ExtendedKeyUsagePurpose>,
    pub custom: Vec<CustomExtension>,
    pub not_before: i64,
    pub not_after: i64,
}

impl Profile {
    /// A conforming code-signing leaf: no basicConstraints, keyUsage digitalSignature
    /// (critical), EKU codeSigning.
    pub fn leaf(cn: &str) -> Profile {
        Profile {
            cn: cn.into(),
            dn_prefix: Vec::new(),
            is_ca: IsCa::NoCa,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            ekus: vec![ExtendedKeyUsagePurpose::CodeSigning],
            custom: Vec::new(),
            not_before: ymd(2000, 1, 1),
            not_after: ymd(2100, 1, 1),
        }
    }

    /// A conforming CA: basicConstraints cA=true (critical), keyUsage keyCertSign and
    /// cRLSign (critical).
    pub fn ca(cn: &str) -> Profile {
        Profile {
            is_ca: IsCa::Ca(BasicConstraints::Unconstrained),
            key_usages: vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
            ekus: Vec::new(),
            ..Profile::leaf(cn)
        }
    }

    /// Puts `attrs` before the CN in the subject.
    pub fn with_dn_prefix(mut self, attrs: &[(DnType, &str)]) -> Profile {
        self.dn_prefix = attrs
            .iter()
            .map(|(t, v)| (t.clone(), (*v).to_owned()))
            .collect();
        self
    }

    pub fn with_key_usages(mut self, ku: Vec<KeyUsagePurpose>) -> Profile {
        self.key_usages = ku;
        self
    }

    pub fn with_ekus(mut self, ekus: Vec<ExtendedKeyUsagePurpose>) -> Profile {
        self.ekus = ekus;
        self
    }

    pub fn with_is_ca(mut self, is_ca: IsCa) -> Profile {
        self.is_ca = is_ca;
        self
    }

    pub fn with_validity(mut self, not_before: i64, not_after: i64) -> Profile {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Adds an extension written verbatim (OID, criticality, DER value).
    pub fn with_extension(mut self, oid: &[u64], critical: bool, der: Vec<u8>) -> Profile {
        let mut ext = CustomExtension::from_oid_content(oid, der);
        ext.set_criticality(critical);
        self.custom.push(ext);
        self
    }

    fn params(&self) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        for (t, v) in &self.dn_prefix {
            p.distinguished_name.push(t.clone(), v.clone());
        }
        p.distinguished_name
            .push(DnType::CommonName, self.cn.clone());
        p.is_ca = self.is_ca;
        p.key_usages = self.key_usages.clone();
        p.extended_key_usages = self.ekus.clone();
        p.custom_extensions = self.custom.clone();
        p.not_before = odt(self.not_before);
        p.not_after = odt(self.not_after);
        p
    }
}

/// keyUsage (2.5.29.15) with only digitalSignature, as a DER BIT STRING.
pub const KU_DIGITAL_SIGNATURE_DER: [u8; 4] = [0x03, 0x02, 0x07, 0x80];
/// keyUsage with only keyCertSign (bit 5), as a DER BIT STRING.
pub const KU_KEY_CERT_SIGN_DER: [u8; 4] = [0x03, 0x02, 0x02, 0x04];
/// basicConstraints (2.5.29.19) with cA=true and no pathLen.
pub const BC_CA_TRUE_DER: [u8; 5] = [0x30, 0x03, 0x01, 0x01, 0xff];
pub const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
pub const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];

/// A certificate with its key and the parameters it was made from.
pub struct Issued {
    pub der: Vec<u8>,
    pub pem: String,
    pub key: Key,
    params: CertificateParams,
}

impl Issued {
    /// A self-signed certificate.
    pub fn self_signed(profile: &Profile, key: Key) -> Issued {
        let params = profile.params();
        let cert = params.self_signed(&key.pair()).expect("self-sign");
        Issued {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            key,
            params,
        }
    }

    /// A certificate for `key` signed by `issuer`.
    pub fn issued_by(profile: &Profile, key: Key, issuer: &Issued) -> Issued {
        let params = profile.params();
        let cert = params
            .signed_by(&key.pair(), &issuer.as_issuer())
            .expect("sign");
        Issued {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            key,
            params,
        }
    }

    /// A certificate for an arbitrary public key signed by `issuer` (DER only).
    pub fn der_for_public_key(
        profile: &Profile,
        public: &impl PublicKeyData,
        issuer: &Issued,
    ) -> Vec<u8> {
        profile
            .params()
            .signed_by(public, &issuer.as_issuer())
            .expect("sign")
            .der()
            .to_vec()
    }

    fn as_issuer(&self) -> Issuer<'_, KeyPair> {
        Issuer::from_params(&self.params, self.key.pair())
    }

    /// Parsed with notation-core.
    pub fn cert(&self) -> Certificate {
        Certificate::from_der(&self.der).expect("notation-core parses the certificate")
    }
}

/// A public key given as raw bits, for keys rcgen cannot generate (e.g. RSA-1024).
pub struct RawPublicKey {
    /// The subjectPublicKey bits (PKCS#1 RSAPublicKey for RSA).
    pub bits: Vec<u8>,
    pub alg: &'static SignatureAlgorithm,
}

impl PublicKeyData for RawPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.alg
    }
}

/// Parses a list of issued certificates with notation-core, in the given order.
pub fn certs(items: &[&Issued]) -> Vec<Certificate> {
    items.iter().map(|i| i.cert()).collect()
}

/// Concatenated PEM of the given certificates, in order.
pub fn chain_pem(items: &[&Issued]) -> String {
    items.iter().map(|i| i.pem.as_str()).collect()
}

/// A conforming three-certificate chain: leaf (key `leaf_spec`) ← intermediate
/// (RSA-2048) ← root (EC P-384). Returned leaf first.
pub fn three_chain(leaf_spec: KeySpec) -> [Issued; 3] {
    three_chain_with(leaf_spec, &Profile::leaf("Leaf"))
}

/// [`three_chain`] with a chosen leaf profile.
pub fn three_chain_with(leaf_spec: KeySpec, leaf: &Profile) -> [Issued; 3] {
    let root = Issued::self_signed(
        &Profile::ca("Root CA"),
        Key::pooled(Pool::Ca, KeySpec::Ec384),
    );
    let inter = Issued::issued_by(
        &Profile::ca("Intermediate CA"),
        Key::pooled(Pool::Ca, KeySpec::Rsa2048),
        &root,
    );
    let leaf = Issued::issued_by(leaf, Key::shared(leaf_spec), &inter);
    [leaf, inter, root]
}

/// The subjectPublicKey bits of a DER certificate, read with x509-parser.
pub fn public_key_bits(cert_der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) =
        X509Certificate::from_der(cert_der).expect("x509-parser parses the certificate");
    cert.public_key().subject_public_key.data.to_vec()
}

/// Verifies an envelope-style signature (spec §1.9 byte format) over `message` with
/// the key of `cert_der`, using the algorithm the test expects for `spec`.
pub fn verifies(spec: KeySpec, cert_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    sig::UnparsedPublicKey::new(envelope_verifier(spec), public_key_bits(cert_der))
        .verify(message, signature)
        .is_ok()
}

/// A leaf with an RSA-1024 key (which no tool here can generate) issued by a P-384
/// root: returns (leaf DER, root).
pub fn rsa_1024_leaf() -> (Vec<u8>, Issued) {
    let root = Issued::self_signed(
        &Profile::ca("Root CA"),
        Key::pooled(Pool::Ca, KeySpec::Ec384),
    );
    let public = RawPublicKey {
        bits: crate::fixtures::rsa_1024_public_key(),
        alg: &rcgen::PKCS_RSA_SHA256,
    };
    (
        Issued::der_for_public_key(&Profile::leaf("Weak"), &public, &root),
        root,
    )
}
