//! Revocation (spec §4.10 "revocation"; OCSP preferred, CRL as fallback). The
//! check is a trait so that OCSP and CRL clients (which need network I/O, so they
//! live outside this crate) can be plugged in. This version ships only
//! [`NotImplemented`], which reports every chain as "not checked": neither a pass
//! nor a failure, shown in `--debug` output.

use crate::cert::Certificate;

/// What a revocation check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// No certificate of the chain is revoked.
    Good,
    /// A certificate is revoked (the reason names it).
    Revoked(String),
    /// The status could not be determined (a failure under `enforce`).
    Unknown(String),
    /// No check was made (the reason says why).
    NotChecked(String),
}

/// Checks a signing chain (leaf first) for revocation.
pub trait RevocationChecker {
    /// The status of `chain` at `now` (Unix seconds).
    fn check(&self, chain: &[Certificate], now: i64) -> RevocationStatus;
}

/// The revocation step of this version: nothing is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotImplemented;

/// The reason [`NotImplemented`] gives.
pub const NOT_IMPLEMENTED: &str = "revocation checking (OCSP and CRL) is not implemented in this version; the certificates were not checked for revocation";

impl RevocationChecker for NotImplemented {
    fn check(&self, _chain: &[Certificate], _now: i64) -> RevocationStatus {
        RevocationStatus::NotChecked(NOT_IMPLEMENTED.into())
    }
}
