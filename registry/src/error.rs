//! Errors of the registry client. Each says what failed and, where the user can act,
//! what to do; the registry's own error message is kept when it sent one.

/// Result with [`RegistryError`].
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a registry or a credential store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A reference that is not `<registry>/<repository>[:<tag>|@<digest>]`.
    #[error("{0}")]
    InvalidReference(String),
    /// The registry could not be reached (DNS, connect, TLS, time-out).
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable {
        /// host[:port]
        registry: String,
        /// What the transport said.
        reason: String,
    },
    /// Credentials were sent and refused.
    #[error(
        "the credentials for {registry} were rejected (HTTP 401); check them, or run 'notation login {registry}'"
    )]
    CredentialsRejected {
        /// host[:port]
        registry: String,
    },
    /// The registry wants credentials and none were found.
    #[error("{registry} requires authentication; run 'notation login {registry}' or pass -u/-p")]
    AuthenticationRequired {
        /// host[:port]
        registry: String,
    },
    /// Credentials do not allow the operation.
    #[error("access to {what} on {registry} was denied: {message}")]
    Denied {
        /// host[:port]
        registry: String,
        /// What was being accessed.
        what: String,
        /// The registry's message.
        message: String,
    },
    /// The manifest, tag or digest does not exist.
    #[error("{reference}: not found in {registry}{detail}")]
    NotFound {
        /// host[:port]
        registry: String,
        /// What was looked up.
        reference: String,
        /// The registry's message, if any, prefixed with ": ".
        detail: String,
    },
    /// Any other unexpected answer, with the registry's message.
    #[error("{operation} on {registry} failed: HTTP {status}{detail}")]
    Status {
        /// host[:port]
        registry: String,
        /// What was being done.
        operation: String,
        /// HTTP status.
        status: u16,
        /// The registry's message, if any, prefixed with ": ".
        detail: String,
    },
    /// The registry answered something that breaks the distribution spec.
    #[error("{registry} sent an invalid response to {operation}: {reason}")]
    Protocol {
        /// host[:port]
        registry: String,
        /// What was being done.
        operation: String,
        /// What was wrong.
        reason: String,
    },
    /// The referrers tag index could not be brought to a state that lists the signature.
    #[error(
        "could not record the signature in the referrers index {tag} on {registry} after {attempts} attempts: other signers kept replacing it; retry"
    )]
    IndexContention {
        /// host[:port]
        registry: String,
        /// The index tag.
        tag: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A credential store or helper failed.
    #[error("{0}")]
    Credentials(String),
    /// Local I/O (config files, helpers).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
