//! The one error type of this crate. Messages are lowercase, say what failed, and
//! where the spec or notation has a fixed text, use it.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building, parsing or checking a signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name outside the closed sets of spec §1.4.
    #[error("unsupported {what} {value:?}")]
    Unsupported {
        /// Which kind of name (key spec, signing algorithm, ...).
        what: &'static str,
        /// The value that was given.
        value: String,
    },
    /// A digest that is not `<algorithm>:<hex>` with a known algorithm.
    #[error("invalid digest {0:?}: expected sha256:<64 lowercase hex> (or sha384/sha512)")]
    InvalidDigest(String),
    /// User metadata with a key in the reserved namespace (spec §2.1).
    #[error("error adding user metadata: metadata key {0} has reserved prefix io.cncf.notary")]
    ReservedMetadataKey(String),
    /// User metadata that would overwrite an annotation of the artifact.
    #[error(
        "error adding user metadata: metadata key {0} is already present in the target artifact"
    )]
    MetadataKeyPresent(String),
    /// A certificate that cannot be parsed.
    #[error("invalid certificate: {0}")]
    Certificate(String),
    /// A chain that breaks the rules of spec §2.7.
    #[error("certificate-chain is invalid, {0}")]
    InvalidChain(String),
    /// A private key that cannot be used.
    #[error("invalid private key: {0}")]
    PrivateKey(String),
    /// A private key that does not belong to the leaf certificate.
    #[error("the private key does not match the public key of the leaf certificate {subject:?}")]
    KeyCertificateMismatch {
        /// Subject of the leaf certificate.
        subject: String,
    },
    /// The algorithm a signer used differs from the one its key spec implies.
    #[error(
        "mismatch between signature algorithm derived from signing certificate ({from_cert}) and signing algorithm specified ({specified})"
    )]
    AlgorithmMismatch {
        /// Algorithm implied by the leaf certificate.
        from_cert: String,
        /// Algorithm the signer named.
        specified: String,
    },
    /// A signer said it used an algorithm other than the one its key spec requires
    /// (notation-go does not check this; spec §1.9 says the caller must).
    #[error(
        "the signer returned signing algorithm {returned}, but its key spec {key_spec} requires {required}"
    )]
    SignerAlgorithmMismatch {
        /// Key spec from describe-key.
        key_spec: String,
        /// Algorithm the key spec requires.
        required: String,
        /// Algorithm the signer named.
        returned: String,
    },
    /// An envelope that is not well formed.
    #[error("malformed {format} envelope: {reason}")]
    MalformedEnvelope {
        /// `JWS` or `COSE`.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The cryptographic signature does not verify.
    #[error(
        "signature is invalid: the signature does not verify with the leaf certificate's public key"
    )]
    SignatureInvalid,
    /// A signature value of the wrong shape for its algorithm (e.g. DER instead of r||s).
    #[error("signature is invalid: {0}")]
    SignatureFormat(String),
    /// A payload that is not a Notary payload.
    #[error("invalid payload: {0}")]
    Payload(String),
    /// Signer options that cannot be honoured (e.g. a negative expiry).
    #[error("{0}")]
    InvalidOptions(String),
    /// A failure reported by a signer (a local key, or a plugin), kept as its source.
    #[error(transparent)]
    Signer(Box<dyn std::error::Error + Send + Sync>),
    /// What an envelope signer returned differs from what was asked for.
    #[error("{0}")]
    EnvelopeMismatch(String),
    /// A crypto operation that failed unexpectedly.
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

impl Error {
    pub(crate) fn jws(reason: impl Into<String>) -> Error {
        Error::MalformedEnvelope {
            format: "JWS",
            reason: reason.into(),
        }
    }
    pub(crate) fn cose(reason: impl Into<String>) -> Error {
        Error::MalformedEnvelope {
            format: "COSE",
            reason: reason.into(),
        }
    }
}
