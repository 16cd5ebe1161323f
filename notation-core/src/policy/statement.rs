//! One trust policy statement (spec §4.10): its name, registry scopes, signature
//! verification (level, overrides, `verifyTimestamp`), trust stores and trusted
//! identities, parsed from JSON and checked against every rule of the spec. Errors
//! are reasons; the document adds which statement (by index and name) they are about.

use serde_json::{Map, Value};

use super::level::{Action, Actions, Level, ValidationType};
use super::scope::{WILDCARD, validate_scope};
use crate::dn::DistinguishedName;
use crate::trust_store::{StoreRef, StoreType};

/// When a timestamp countersignature is verified (spec §2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyTimestamp {
    /// Always (the default).
    Always,
    /// Only when a certificate of the signing chain has expired.
    AfterCertExpiry,
}

/// An `x509.subject:` trusted identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSubject {
    /// The entry as written in the policy.
    pub raw: String,
    /// Its parsed DN.
    pub dn: DistinguishedName,
}

/// Whose signatures a statement trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedIdentities {
    /// `*`: any signer whose chain ends in a trusted store.
    Any,
    /// Signers whose leaf subject includes one of these DNs.
    Subjects(Vec<TrustedSubject>),
}

/// A validated trust policy statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Unique name.
    pub name: String,
    /// Registry scopes, or `*` alone.
    pub registry_scopes: Vec<String>,
    /// Level and overrides.
    pub actions: Actions,
    /// `verifyTimestamp`.
    pub verify_timestamp: VerifyTimestamp,
    /// Named trust stores (empty for `skip`).
    pub trust_stores: Vec<StoreRef>,
    /// Trusted identities (`Subjects(vec![])` for `skip`).
    pub trusted_identities: TrustedIdentities,
}

impl Statement {
    /// True for the global statement (`registryScopes: ["*"]`).
    pub fn is_global(&self) -> bool {
        self.registry_scopes.iter().any(|s| s == WILDCARD)
    }

    /// The named stores of `store_type` this statement lists.
    pub fn stores_of(&self, store_type: StoreType) -> impl Iterator<Item = &StoreRef> {
        self.trust_stores
            .iter()
            .filter(move |s| s.store_type == store_type)
    }
}

fn strings(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("has a non-string entry in {key:?}"))
            })
            .collect(),
        Some(_) => Err(format!(
            "has an invalid {key:?}: it must be an array of strings"
        )),
    }
}

fn only_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "has an unknown field {k:?} in {what} (known fields: {})",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

/// Parses the `signatureVerification` object.
fn signature_verification(v: Option<&Value>) -> Result<(Actions, VerifyTimestamp), String> {
    let prefix = "has invalid signatureVerification:";
    let Some(Value::Object(sv)) = v else {
        return Err(format!(
            "{prefix} signature verification level is empty or missing in the trust policy statement"
        ));
    };
    only_keys(
        sv,
        &["level", "override", "verifyTimestamp"],
        "signatureVerification",
    )?;
    let level_name = sv.get("level").and_then(Value::as_str).unwrap_or_default();
    if level_name.is_empty() {
        return Err(format!(
            "{prefix} signature verification level is empty or missing in the trust policy statement"
        ));
    }
    let level = Level::from_name(level_name).ok_or_else(|| {
        format!(
            "{prefix} invalid signature verification level {level_name:?} (levels are strict, permissive, audit and skip)"
        )
    })?;
    let mut overrides = Vec::new();
    match sv.get("override") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) if o.is_empty() => {}
        Some(Value::Object(_)) if level == Level::Skip => {
            return Err(format!(
                "{prefix} signature verification level \"skip\" can't be used to customize signature verification"
            ));
        }
        Some(Value::Object(o)) => {
            for (key, value) in o {
                let t = ValidationType::from_name(key).ok_or_else(|| {
                    format!(
                        "{prefix} verification type {key:?} in custom signature verification is not supported, supported values are [\"integrity\" \"authenticity\" \"authenticTimestamp\" \"expiry\" \"revocation\"]"
                    )
                })?;
                let name = value.as_str().unwrap_or_default();
                let a = Action::from_name(name).ok_or_else(|| {
                    format!(
                        "{prefix} verification action {value} in custom signature verification is not supported, supported values are [\"enforce\" \"log\" \"skip\"]"
                    )
                })?;
                if t == ValidationType::Integrity {
                    return Err(format!(
                        "{prefix} \"integrity\" verification can not be overridden in custom signature verification"
                    ));
                }
                if t != ValidationType::Revocation && a == Action::Skip {
                    return Err(format!(
                        "{prefix} {key:?} verification can not be skipped in custom signature verification"
                    ));
                }
                overrides.push((t, a));
            }
        }
        Some(_) => return Err(format!("{prefix} \"override\" must be an object")),
    }
    let verify_timestamp = match sv.get("verifyTimestamp") {
        None | Some(Value::Null) => VerifyTimestamp::Always,
        Some(Value::String(s)) if s.is_empty() || s == "always" => VerifyTimestamp::Always,
        Some(Value::String(s)) if s == "afterCertExpiry" => VerifyTimestamp::AfterCertExpiry,
        Some(other) => {
            return Err(format!(
                "{prefix} verifyTimestamp {other} is not supported, supported values are \"always\" and \"afterCertExpiry\""
            ));
        }
    };
    Ok((Actions::new(level, overrides), verify_timestamp))
}

fn trusted_identities(values: &[String]) -> Result<TrustedIdentities, String> {
    if values.len() > 1 && values.iter().any(|v| v == WILDCARD) {
        return Err("uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values".into());
    }
    if values.len() == 1 && values[0] == WILDCARD {
        return Ok(TrustedIdentities::Any);
    }
    let mut subjects: Vec<TrustedSubject> = Vec::new();
    for identity in values {
        if identity.is_empty() {
            return Err("has an empty trusted identity".into());
        }
        let Some((prefix, value)) = identity.split_once(':') else {
            return Err(format!(
                "has trusted identity {identity:?} missing separator"
            ));
        };
        if prefix.trim() != "x509.subject" {
            return Err(format!(
                "has trusted identity {identity:?} of unsupported type {prefix:?}: only x509.subject identities (or '*') are supported"
            ));
        }
        if value.trim().is_empty() {
            return Err(format!(
                "has trusted identity {identity:?} without an identity value"
            ));
        }
        let dn = DistinguishedName::parse_trusted(value).map_err(|e| {
            format!("has trusted identity {identity:?} with invalid identity value: {e}")
        })?;
        if let Some(other) = subjects
            .iter()
            .find(|s| s.dn.is_subset_of(&dn) || dn.is_subset_of(&s.dn))
        {
            return Err(format!(
                "has overlapping x509 trustedIdentities, {identity:?} overlaps with {:?}",
                other.raw
            ));
        }
        subjects.push(TrustedSubject {
            raw: identity.clone(),
            dn,
        });
    }
    Ok(TrustedIdentities::Subjects(subjects))
}

/// Parses and checks one statement (everything but uniqueness across statements).
/// Returns the statement, or its name (possibly empty) and the reason.
pub(super) fn parse(v: &Value) -> Result<Statement, (String, String)> {
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let fail = |reason: String| (name.clone(), reason);
    let Value::Object(obj) = v else {
        return Err(fail("is not a JSON object".into()));
    };
    if name.is_empty() {
        return Err(fail(
            "is missing a name, every statement requires a name".into(),
        ));
    }
    only_keys(
        obj,
        &[
            "name",
            "registryScopes",
            "signatureVerification",
            "trustStores",
            "trustedIdentities",
        ],
        "the statement",
    )
    .map_err(&fail)?;
    let (actions, verify_timestamp) =
        signature_verification(obj.get("signatureVerification")).map_err(&fail)?;
    let stores = strings(obj, "trustStores").map_err(&fail)?;
    let identities = strings(obj, "trustedIdentities").map_err(&fail)?;
    let (trust_stores, trusted_identities) = if actions.level() == Level::Skip {
        if !stores.is_empty() || !identities.is_empty() {
            return Err(fail("is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped".into()));
        }
        (Vec::new(), TrustedIdentities::Subjects(Vec::new()))
    } else {
        if stores.is_empty() || identities.is_empty() {
            return Err(fail(
                "is either missing trust stores or trusted identities, both must be specified"
                    .into(),
            ));
        }
        let refs = stores
            .iter()
            .map(|s| StoreRef::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(&fail)?;
        if !refs
            .iter()
            .any(|r| matches!(r.store_type, StoreType::Ca | StoreType::SigningAuthority))
        {
            return Err(fail("has no trust store of type ca or signingAuthority, so no signature could ever be trusted; add one".into()));
        }
        (refs, trusted_identities(&identities).map_err(&fail)?)
    };
    let registry_scopes = strings(obj, "registryScopes").map_err(&fail)?;
    if registry_scopes.is_empty() {
        return Err(fail(
            "has zero registry scopes, it must specify registry scopes with at least one value"
                .into(),
        ));
    }
    if registry_scopes.len() > 1 && registry_scopes.iter().any(|s| s == WILDCARD) {
        return Err(fail("uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values".into()));
    }
    for scope in registry_scopes.iter().filter(|s| *s != WILDCARD) {
        validate_scope(scope).map_err(&fail)?;
    }
    Ok(Statement {
        name,
        registry_scopes,
        actions,
        verify_timestamp,
        trust_stores,
        trusted_identities,
    })
}
