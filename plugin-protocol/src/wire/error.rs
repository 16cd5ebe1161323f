//! The error a plugin writes to stderr with a non-zero exit (notary-spec.md §1.5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Error codes (§1.4); unknown codes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ErrorCode {
    /// A request field is missing or malformed, or the key is not found.
    Validation,
    /// The contract version is not supported.
    UnsupportedContractVersion,
    /// Authentication or authorization failed.
    AccessDenied,
    /// A call timed out (retryable).
    Timeout,
    /// Throttled (retryable).
    Throttled,
    /// Anything else.
    Generic,
    /// A code this version does not know.
    Unknown(String),
}

impl ErrorCode {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Validation => "VALIDATION_ERROR",
            ErrorCode::UnsupportedContractVersion => "UNSUPPORTED_CONTRACT_VERSION",
            ErrorCode::AccessDenied => "ACCESS_DENIED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Throttled => "THROTTLED",
            ErrorCode::Generic => "ERROR",
            ErrorCode::Unknown(s) => s,
        }
    }
}

impl From<String> for ErrorCode {
    fn from(s: String) -> ErrorCode {
        match s.as_str() {
            "VALIDATION_ERROR" => ErrorCode::Validation,
            "UNSUPPORTED_CONTRACT_VERSION" => ErrorCode::UnsupportedContractVersion,
            "ACCESS_DENIED" => ErrorCode::AccessDenied,
            "TIMEOUT" => ErrorCode::Timeout,
            "THROTTLED" => ErrorCode::Throttled,
            "ERROR" => ErrorCode::Generic,
            _ => ErrorCode::Unknown(s),
        }
    }
}

impl From<ErrorCode> for String {
    fn from(c: ErrorCode) -> String {
        c.as_str().to_owned()
    }
}

/// The error JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginError {
    /// REQUIRED. The code.
    #[serde(rename = "errorCode")]
    pub error_code: ErrorCode,
    /// OPTIONAL. Human-readable message.
    #[serde(
        rename = "errorMessage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_message: Option<String>,
    /// OPTIONAL. Extra detail.
    #[serde(
        rename = "errorMetadata",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_metadata: Option<BTreeMap<String, String>>,
}

impl PluginError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> PluginError {
        PluginError {
            error_code: code,
            error_message: Some(message.into()),
            error_metadata: None,
        }
    }

    /// `VALIDATION_ERROR` with a message.
    pub fn validation(message: impl Into<String>) -> PluginError {
        PluginError::new(ErrorCode::Validation, message)
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error_message {
            Some(m) => write!(f, "{}: {m}", self.error_code.as_str()),
            None => f.write_str(self.error_code.as_str()),
        }
    }
}
