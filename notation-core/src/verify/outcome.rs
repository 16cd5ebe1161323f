//! What verifying one signature found: a result per validation (with the action the
//! policy gave it), the failure that stopped it if any, and what was read from the
//! envelope. Logged failures become `Warning:` lines (spec §4.10).

use crate::envelope::EnvelopeContent;
use crate::payload::Payload;
use crate::policy::{Action, ValidationType};

/// How one validation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It passed.
    Passed,
    /// It failed, for this reason.
    Failed(String),
    /// It was not performed because the policy skips it.
    Skipped,
    /// It could not be performed (e.g. revocation checking is not available); this
    /// is neither a pass nor a failure.
    NotChecked(String),
}

/// One validation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationResult {
    /// Which validation.
    pub validation: ValidationType,
    /// What the policy does when it fails.
    pub action: Action,
    /// How it ended.
    pub status: Status,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// An enforced validation failed.
    Validation {
        /// Which one.
        validation: ValidationType,
        /// Why.
        reason: String,
    },
    /// The signature is valid but not for this artifact, or lacks the user metadata
    /// asked for (never subject to the verification level).
    Artifact(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Validation { validation, reason } => {
                write!(f, "{validation} validation failed: {reason}")
            }
            Failure::Artifact(reason) => f.write_str(reason),
        }
    }
}

/// The outcome of verifying one signature.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Results, in the order the validations ran.
    pub results: Vec<ValidationResult>,
    /// The failure that stopped verification, if any.
    pub failure: Option<Failure>,
    /// True when the policy level is `skip` (nothing was checked).
    pub skipped: bool,
    /// The envelope's content, once integrity passed.
    pub content: Option<EnvelopeContent>,
    /// The signed payload, once integrity passed.
    pub payload: Option<Payload>,
}

impl Outcome {
    pub(super) fn new() -> Outcome {
        Outcome {
            results: Vec::new(),
            failure: None,
            skipped: false,
            content: None,
            payload: None,
        }
    }

    /// True when the signature verified (or the level is `skip`).
    pub fn is_verified(&self) -> bool {
        self.failure.is_none()
    }

    /// Failed validations the policy only logs: `(validation, action, reason)`.
    pub fn logged_failures(&self) -> impl Iterator<Item = (ValidationType, Action, &str)> {
        self.results.iter().filter_map(|r| match &r.status {
            Status::Failed(reason) if r.action == Action::Log => {
                Some((r.validation, r.action, reason.as_str()))
            }
            _ => None,
        })
    }

    /// The user metadata of the signed payload (empty before integrity passed).
    pub fn user_metadata(&self) -> impl Iterator<Item = (&String, &String)> {
        self.payload
            .iter()
            .flat_map(|p| p.target_artifact.annotations.iter())
    }

    /// Records a validation; returns true when it stops verification (an enforced
    /// failure).
    pub(super) fn record(
        &mut self,
        validation: ValidationType,
        action: Action,
        status: Status,
    ) -> bool {
        let stop = match &status {
            Status::Failed(reason) if action == Action::Enforce => {
                self.failure = Some(Failure::Validation {
                    validation,
                    reason: reason.clone(),
                });
                true
            }
            _ => false,
        };
        self.results.push(ValidationResult {
            validation,
            action,
            status,
        });
        stop
    }
}
