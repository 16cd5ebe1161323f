//! The OCI trust policy document (spec §4.10): `version` `"1.0"` and a list of
//! statements, each naming registry scopes, a verification level, trust stores and
//! trusted identities. [`TrustPolicyDocument::parse`] applies every rule of the
//! spec and says which statement (index and name) breaks one;
//! [`TrustPolicyDocument::statement_for`] picks the statement for a repository
//! (exact scope first, else the global `*`).

pub mod level;
pub mod scope;
pub mod statement;

use serde_json::Value;

pub use level::{Action, Actions, Level, ValidationType};
pub use statement::{Statement, TrustedIdentities, TrustedSubject, VerifyTimestamp};

/// The only supported document version.
pub const VERSION: &str = "1.0";

/// Why a trust policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not JSON, or not the shape of a trust policy.
    #[error("malformed trust policy: {0}")]
    Malformed(String),
    /// A rule about the whole document.
    #[error("{0}")]
    Document(String),
    /// A rule about one statement.
    #[error("trust policy statement {label} {reason}")]
    Statement {
        /// `#<1-based index> "<name>"` (or only the index when the name is missing).
        label: String,
        /// What is wrong, notation's wording where it has one.
        reason: String,
    },
    /// No statement applies to a repository.
    #[error(
        "artifact {reference:?} has no applicable trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes; add a statement for {scope:?} or a global one (\"*\")"
    )]
    NoApplicableStatement {
        /// The artifact reference.
        reference: String,
        /// Its scope.
        scope: String,
    },
}

fn label(index: usize, name: &str) -> String {
    if name.is_empty() {
        format!("#{}", index + 1)
    } else {
        format!("#{} {name:?}", index + 1)
    }
}

/// A validated trust policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicyDocument {
    /// `version`.
    pub version: String,
    /// Statements, in document order.
    pub statements: Vec<Statement>,
}

impl TrustPolicyDocument {
    /// Parses and validates a trust policy document.
    pub fn parse(bytes: &[u8]) -> Result<TrustPolicyDocument, PolicyError> {
        let doc: Value =
            serde_json::from_slice(bytes).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        let Value::Object(top) = &doc else {
            return Err(PolicyError::Malformed(
                "the document is not a JSON object".into(),
            ));
        };
        if let Some(k) = top
            .keys()
            .find(|k| !matches!(k.as_str(), "version" | "trustPolicies"))
        {
            return Err(PolicyError::Malformed(format!(
                "unknown top-level field {k:?} (known fields: version, trustPolicies)"
            )));
        }
        let version = match top.get("version") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(PolicyError::Malformed(
                    "\"version\" must be a string".into(),
                ));
            }
        };
        if version.is_empty() {
            return Err(PolicyError::Document(
                "trust policy document has empty version, version must be specified".into(),
            ));
        }
        if version != VERSION {
            return Err(PolicyError::Document(format!(
                "trust policy document uses unsupported version {version:?} (supported: {VERSION:?})"
            )));
        }
        let raw = match top.get("trustPolicies") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(_) => {
                return Err(PolicyError::Malformed(
                    "\"trustPolicies\" must be an array".into(),
                ));
            }
        };
        if raw.is_empty() {
            return Err(PolicyError::Document(
                "trust policy document can not have zero trust policy statements".into(),
            ));
        }
        let mut statements: Vec<Statement> = Vec::new();
        for (i, v) in raw.iter().enumerate() {
            let s = statement::parse(v).map_err(|(name, reason)| PolicyError::Statement {
                label: label(i, &name),
                reason,
            })?;
            if let Some(j) = statements.iter().position(|o| o.name == s.name) {
                return Err(PolicyError::Statement {
                    label: label(i, &s.name),
                    reason: format!(
                        "uses the same name as statement #{}, statement names must be unique",
                        j + 1
                    ),
                });
            }
            for scope in &s.registry_scopes {
                if let Some(j) = statements
                    .iter()
                    .position(|o| o.registry_scopes.contains(scope))
                {
                    return Err(PolicyError::Statement {
                        label: label(i, &s.name),
                        reason: format!(
                            "uses registry scope {scope:?}, which statement {} already uses; one registry scope value can only be associated with one statement",
                            label(j, &statements[j].name)
                        ),
                    });
                }
            }
            statements.push(s);
        }
        Ok(TrustPolicyDocument {
            version,
            statements,
        })
    }

    /// The statement for the repository `scope` (`registry/repository`): the one
    /// listing it, else the global one. `reference` is only used in the error.
    pub fn statement_for(&self, scope: &str, reference: &str) -> Result<&Statement, PolicyError> {
        self.statements
            .iter()
            .find(|s| s.registry_scopes.iter().any(|r| r == scope))
            .or_else(|| self.statements.iter().find(|s| s.is_global()))
            .ok_or_else(|| PolicyError::NoApplicableStatement {
                reference: reference.to_owned(),
                scope: scope.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests;
