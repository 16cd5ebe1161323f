//! X.509 certificates as the signer needs them: parsed once into owned data, so the
//! chain rules (chain.rs) and the envelopes can look at them without lifetimes.

use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey as ParsedKey;

use crate::algorithm::KeySpec;
use crate::error::{Error, Result};

const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";

/// The kind and size of a certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA with this modulus length in bits.
    Rsa {
        /// Modulus length.
        bits: usize,
    },
    /// ECDSA on the named curve (OID), with its field size in bits.
    Ec {
        /// Curve OID, dotted.
        curve: String,
        /// Field size.
        bits: usize,
    },
    /// Any other key algorithm (OID), never accepted for signing.
    Other(String),
}

/// A flag of the keyUsage extension, in RFC 5280 bit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsageBit {
    /// digitalSignature (0)
    DigitalSignature = 0,
    /// contentCommitment / nonRepudiation (1)
    ContentCommitment = 1,
    /// keyEncipherment (2)
    KeyEncipherment = 2,
    /// dataEncipherment (3)
    DataEncipherment = 3,
    /// keyAgreement (4)
    KeyAgreement = 4,
    /// keyCertSign (5)
    KeyCertSign = 5,
    /// cRLSign (6)
    CrlSign = 6,
    /// encipherOnly (7)
    EncipherOnly = 7,
    /// decipherOnly (8)
    DecipherOnly = 8,
}

/// An extension's criticality and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension<T> {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// Its parsed value.
    pub value: T,
}

/// basicConstraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicConstraints {
    /// cA.
    pub ca: bool,
    /// pathLenConstraint.
    pub path_len: Option<u32>,
}

/// extendedKeyUsage purposes, by name where the chain rules name them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtendedKeyUsage {
    /// anyExtendedKeyUsage.
    pub any: bool,
    /// id-kp-serverAuth.
    pub server_auth: bool,
    /// id-kp-clientAuth.
    pub client_auth: bool,
    /// id-kp-codeSigning.
    pub code_signing: bool,
    /// id-kp-emailProtection.
    pub email_protection: bool,
    /// id-kp-timeStamping.
    pub time_stamping: bool,
    /// id-kp-OCSPSigning.
    pub ocsp_signing: bool,
    /// Other purposes (dotted OIDs).
    pub other: Vec<String>,
}

/// One attribute of a distinguished name: its type (dotted OID) and its value when
/// the value is a string (PrintableString, UTF8String, IA5String, NumericString).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAttribute {
    /// Attribute type, dotted OID (e.g. `2.5.4.3` for CN).
    pub oid: String,
    /// The value, if it is one of the string types above.
    pub value: Option<String>,
}

/// A parsed certificate. Holds its DER and everything the chain rules read.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    /// Subject DN, RFC 4514 style.
    pub subject: String,
    /// Issuer DN, RFC 4514 style.
    pub issuer: String,
    /// The subject as relative distinguished names, in certificate order (trusted
    /// identity matching, spec §4.10).
    pub subject_rdns: Vec<Vec<NameAttribute>>,
    raw_subject: Vec<u8>,
    raw_issuer: Vec<u8>,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    /// Public key kind and size.
    pub key_kind: KeyKind,
    /// The subjectPublicKey bits: PKCS#1 RSAPublicKey for RSA, the SEC1 point for EC.
    pub(crate) public_key: Vec<u8>,
    tbs: Vec<u8>,
    signature_oid: String,
    signature: Vec<u8>,
    /// basicConstraints, if present.
    pub basic_constraints: Option<Extension<BasicConstraints>>,
    /// keyUsage flags (bit i = RFC 5280 bit i), if present.
    pub key_usage: Option<Extension<u16>>,
    /// extendedKeyUsage, if present.
    pub extended_key_usage: Option<Extension<ExtendedKeyUsage>>,
}

impl Certificate {
    /// Parses one DER certificate; trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        let (rest, c) = X509Certificate::from_der(der)
            .map_err(|e| Error::Certificate(format!("x509: malformed certificate: {e}")))?;
        if !rest.is_empty() {
            return Err(Error::Certificate(
                "x509: trailing data after certificate".into(),
            ));
        }
        let bad = |e: x509_parser::error::X509Error| Error::Certificate(e.to_string());
        let spki = c.public_key();
        let key_kind = match spki.parsed() {
            Ok(ParsedKey::RSA(rsa)) => KeyKind::Rsa {
                bits: rsa.key_size(),
            },
            Ok(ParsedKey::EC(point)) => KeyKind::Ec {
                curve: spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string())
                    .unwrap_or_default(),
                bits: point.key_size(),
            },
            _ => KeyKind::Other(spki.algorithm.algorithm.to_id_string()),
        };
        let basic_constraints = c.basic_constraints().map_err(bad)?.map(|e| Extension {
            critical: e.critical,
            value: BasicConstraints {
                ca: e.value.ca,
                path_len: e.value.path_len_constraint,
            },
        });
        let key_usage = c.key_usage().map_err(bad)?.map(|e| Extension {
            critical: e.critical,
            value: e.value.flags,
        });
        let extended_key_usage = c.extended_key_usage().map_err(bad)?.map(|e| Extension {
            critical: e.critical,
            value: ExtendedKeyUsage {
                any: e.value.any,
                server_auth: e.value.server_auth,
                client_auth: e.value.client_auth,
                code_signing: e.value.code_signing,
                email_protection: e.value.email_protection,
                time_stamping: e.value.time_stamping,
                ocsp_signing: e.value.ocsp_signing,
                other: e.value.other.iter().map(|o| o.to_id_string()).collect(),
            },
        });
        Ok(Certificate {
            der: der.to_vec(),
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            subject_rdns: c
                .subject()
                .iter()
                .map(|rdn| {
                    rdn.iter()
                        .map(|a| NameAttribute {
                            oid: a.attr_type().to_id_string(),
                            value: a.as_str().ok().map(str::to_owned),
                        })
                        .collect()
                })
                .collect(),
            raw_subject: c.subject().as_raw().to_vec(),
            raw_issuer: c.issuer().as_raw().to_vec(),
            not_before: c.validity().not_before.timestamp(),
            not_after: c.validity().not_after.timestamp(),
            key_kind,
            public_key: spki.subject_public_key.data.to_vec(),
            tbs: c.tbs_certificate.as_ref().to_vec(),
            signature_oid: c.signature_algorithm.algorithm.to_id_string(),
            signature: c.signature_value.data.to_vec(),
            basic_constraints,
            key_usage,
            extended_key_usage,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM file, in file order. A file with no
    /// PEM block is tried as a single DER certificate.
    pub fn parse_pem_or_der(data: &[u8]) -> Result<Vec<Certificate>> {
        if !data.starts_with(b"-----") && !data.windows(11).any(|w| w == b"-----BEGIN ") {
            return Ok(vec![Certificate::from_der(data)?]);
        }
        let mut certs = Vec::new();
        for pem in x509_parser::pem::Pem::iter_from_buffer(data) {
            let pem = pem.map_err(|e| Error::Certificate(format!("invalid PEM: {e}")))?;
            if pem.label == "CERTIFICATE" {
                certs.push(Certificate::from_der(&pem.contents)?);
            }
        }
        if certs.is_empty() {
            return Err(Error::Certificate(
                "no CERTIFICATE block found in the PEM data".into(),
            ));
        }
        Ok(certs)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the DER, lowercase hex (the thumbprint annotation, spec §3.2).
    pub fn sha256_fingerprint(&self) -> String {
        crate::hex::encode(&crate::algorithm::HashAlgorithm::Sha256.digest(&self.der))
    }

    /// PEM encoding of this certificate.
    pub fn to_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// The key spec of this certificate's public key, or an error naming the key.
    pub fn key_spec(&self) -> Result<KeySpec> {
        let unsupported = |value: String| Error::Unsupported {
            what: "certificate public key",
            value,
        };
        match &self.key_kind {
            KeyKind::Rsa { bits } => KeySpec::from_rsa_bits(*bits).ok_or_else(|| {
                unsupported(format!(
                    "RSA {bits}-bit (RSA keys must be 2048, 3072 or 4096 bits)"
                ))
            }),
            KeyKind::Ec { curve, bits } => match curve.as_str() {
                OID_P256 => Ok(KeySpec::Ec256),
                OID_P384 => Ok(KeySpec::Ec384),
                OID_P521 => Ok(KeySpec::Ec521),
                _ => Err(unsupported(format!(
                    "EC {bits}-bit curve {curve} (EC keys must use P-256, P-384 or P-521)"
                ))),
            },
            KeyKind::Other(oid) => Err(unsupported(format!("key algorithm {oid}"))),
        }
    }

    /// True when subject and issuer are byte-for-byte the same name.
    pub fn is_self_issued(&self) -> bool {
        self.raw_subject == self.raw_issuer
    }

    /// True when `issuer`'s subject is this certificate's issuer name.
    pub fn names_issuer(&self, issuer: &Certificate) -> bool {
        self.raw_issuer == issuer.raw_subject
    }

    /// Checks that `issuer`'s key signed this certificate. SHA-1 signatures are
    /// refused (spec §2.7).
    pub fn is_signed_by(&self, issuer: &Certificate) -> Result<bool> {
        crate::crypto::verify_certificate_signature(
            &self.signature_oid,
            issuer,
            &self.tbs,
            &self.signature,
        )
    }

    /// True when basicConstraints is present with cA=true.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints
            .as_ref()
            .is_some_and(|bc| bc.value.ca)
    }

    /// True when the certificate is self-issued and its signature verifies with its
    /// own key (a root, or a self-signed leaf).
    pub fn is_self_signed(&self) -> bool {
        self.is_self_issued() && self.is_signed_by(self).unwrap_or(false)
    }

    /// True when the keyUsage extension has `bit` set.
    pub fn has_key_usage(&self, bit: KeyUsageBit) -> bool {
        self.key_usage
            .as_ref()
            .is_some_and(|ku| ku.value & (1 << bit as u16) != 0)
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Certificate) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}
