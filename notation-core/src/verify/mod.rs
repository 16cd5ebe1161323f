//! The verification engine (spec §4.10 "Verification algorithm"): one signature
//! envelope, checked against a resolved trust policy statement, the trust store
//! certificates it names, the resolved artifact and the user metadata asked for,
//! at a given time. No I/O: the caller reads files and registries.
//!
//! Order: integrity (always enforced) → authenticity (chain rules, trust store,
//! trusted identity) → expiry → authentic timestamp → revocation (pluggable) →
//! the payload's descriptor against the artifact → user metadata. Each validation
//! is enforced, logged or skipped as the statement's level and overrides say; the
//! artifact and metadata checks are always enforced. The first enforced failure
//! ends verification.

mod authenticity;
mod integrity;
mod outcome;
pub mod revocation;
mod timestamp;

use std::collections::BTreeMap;

use crate::cert::Certificate;
use crate::descriptor::Descriptor;
use crate::envelope::SignerInfo;
use crate::payload::Payload;
use crate::policy::{Action, Level, Statement, ValidationType};
use crate::timefmt::format_rfc3339;
use crate::trust_store::StoreType;

pub use authenticity::store_type_for;
pub use integrity::VERIFICATION_PLUGIN;
pub use outcome::{Failure, Outcome, Status, ValidationResult};
pub use revocation::{NotImplemented, RevocationChecker, RevocationStatus};

/// The trust store certificates of one statement, by store type.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    /// Certificates of the statement's `ca` stores.
    pub ca: Vec<Certificate>,
    /// Certificates of its `signingAuthority` stores.
    pub signing_authority: Vec<Certificate>,
    /// Certificates of its `tsa` stores.
    pub tsa: Vec<Certificate>,
}

impl TrustAnchors {
    /// The certificates of `store_type`.
    pub fn of(&self, store_type: StoreType) -> &[Certificate] {
        match store_type {
            StoreType::Ca => &self.ca,
            StoreType::SigningAuthority => &self.signing_authority,
            StoreType::Tsa => &self.tsa,
        }
    }

    /// Adds certificates of a store of `store_type`.
    pub fn add(&mut self, store_type: StoreType, certs: impl IntoIterator<Item = Certificate>) {
        let list = match store_type {
            StoreType::Ca => &mut self.ca,
            StoreType::SigningAuthority => &mut self.signing_authority,
            StoreType::Tsa => &mut self.tsa,
        };
        list.extend(certs);
    }
}

/// What the signature must be about.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The resolved artifact (media type, digest, size).
    pub artifact: &'a Descriptor,
    /// `-m k=v` pairs that must be in the signed user metadata.
    pub user_metadata: &'a BTreeMap<String, String>,
}

/// Verifies signatures for one trust policy statement.
pub struct Verifier<'a> {
    /// The statement that applies to the artifact.
    pub statement: &'a Statement,
    /// The certificates of the stores it names.
    pub anchors: &'a TrustAnchors,
    /// The revocation step.
    pub revocation: &'a dyn RevocationChecker,
    /// The time of verification, Unix seconds.
    pub now: i64,
}

impl Verifier<'_> {
    /// Verifies one envelope of `media_type` (the signature manifest's layer type).
    pub fn verify(&self, media_type: &str, envelope: &[u8], expected: &Expected<'_>) -> Outcome {
        let mut out = Outcome::new();
        let actions = &self.statement.actions;
        if actions.level() == Level::Skip {
            out.skipped = true;
            return out;
        }
        let (content, payload) = match integrity::check(media_type, envelope) {
            Ok(ok) => ok,
            Err(reason) => {
                out.record(
                    ValidationType::Integrity,
                    Action::Enforce,
                    Status::Failed(reason),
                );
                return out;
            }
        };
        out.record(ValidationType::Integrity, Action::Enforce, Status::Passed);
        let info = &content.signer_info;
        let mut stopped = false;
        for validation in [
            ValidationType::Authenticity,
            ValidationType::Expiry,
            ValidationType::AuthenticTimestamp,
            ValidationType::Revocation,
        ] {
            let action = actions.get(validation);
            let result = if action == Action::Skip {
                Status::Skipped
            } else {
                self.run(validation, info)
            };
            if out.record(validation, action, result) {
                stopped = true;
                break;
            }
        }
        if !stopped && let Err(reason) = check_artifact(&payload, expected) {
            out.failure = Some(Failure::Artifact(reason));
        }
        out.content = Some(content);
        out.payload = Some(payload);
        out
    }

    fn run(&self, validation: ValidationType, info: &SignerInfo) -> Status {
        match validation {
            ValidationType::Authenticity => {
                status(authenticity::check(self.statement, self.anchors, info))
            }
            ValidationType::Expiry => status(check_expiry(info.expiry, self.now)),
            ValidationType::AuthenticTimestamp => {
                status(timestamp::check(self.statement, info, self.now))
            }
            ValidationType::Revocation => {
                match self.revocation.check(&info.certificate_chain, self.now) {
                    RevocationStatus::Good => Status::Passed,
                    RevocationStatus::Revoked(r) | RevocationStatus::Unknown(r) => {
                        Status::Failed(r)
                    }
                    RevocationStatus::NotChecked(r) => Status::NotChecked(r),
                }
            }
            ValidationType::Integrity => Status::Passed,
        }
    }
}

fn status(r: Result<(), String>) -> Status {
    match r {
        Ok(()) => Status::Passed,
        Err(reason) => Status::Failed(reason),
    }
}

/// Expiry: the signature is expired from its expiry time on.
fn check_expiry(expiry: Option<i64>, now: i64) -> Result<(), String> {
    match expiry {
        Some(e) if now >= e => Err(format!(
            "digital signature has expired on {}",
            format_rfc3339(e)
        )),
        _ => Ok(()),
    }
}

/// The signed descriptor must be the artifact's (media type, digest, size), and the
/// signed user metadata must contain every pair asked for.
fn check_artifact(payload: &Payload, expected: &Expected<'_>) -> Result<(), String> {
    let signed = &payload.target_artifact;
    let a = expected.artifact;
    if signed.digest != a.digest || signed.media_type != a.media_type || signed.size != a.size {
        return Err(format!(
            "the signature is not for this artifact: it signs {} {} ({} bytes), the artifact is {} {} ({} bytes)",
            signed.media_type, signed.digest, signed.size, a.media_type, a.digest, a.size
        ));
    }
    for (k, v) in expected.user_metadata {
        match signed.annotations.get(k) {
            Some(have) if have == v => {}
            Some(have) => {
                return Err(format!(
                    "unable to find specified metadata in the signature: {k}={v} was asked for, the signature has {k}={have}"
                ));
            }
            None => {
                return Err(format!(
                    "unable to find specified metadata in the signature: {k}={v} was asked for, the signature has no {k:?}"
                ));
            }
        }
    }
    Ok(())
}
