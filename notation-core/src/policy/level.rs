//! Verification levels and what each does with each validation (spec §4.10
//! "Levels"): `strict` enforces everything; `permissive` enforces integrity and
//! authenticity and logs the rest; `audit` enforces integrity only; `skip` checks
//! nothing. `override` changes single validations of a non-skip level.

use std::fmt;

/// The validations a signature goes through, in the spec's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationType {
    /// The envelope is intact (signature, content type, critical headers).
    Integrity,
    /// The signer is trusted (trust store, chain rules, trusted identity).
    Authenticity,
    /// The signing time is authentic (certificates valid now, or a verified
    /// timestamp, or the signing authority's time).
    AuthenticTimestamp,
    /// The signature has not expired.
    Expiry,
    /// No certificate of the chain is revoked.
    Revocation,
}

impl ValidationType {
    /// Every validation type, in verification order.
    pub const ALL: [ValidationType; 5] = [
        ValidationType::Integrity,
        ValidationType::Authenticity,
        ValidationType::AuthenticTimestamp,
        ValidationType::Expiry,
        ValidationType::Revocation,
    ];

    /// The name used in trust policies and in notation's messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationType::Integrity => "integrity",
            ValidationType::Authenticity => "authenticity",
            ValidationType::AuthenticTimestamp => "authenticTimestamp",
            ValidationType::Expiry => "expiry",
            ValidationType::Revocation => "revocation",
        }
    }

    /// The type with this policy name.
    pub fn from_name(name: &str) -> Option<ValidationType> {
        ValidationType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for ValidationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failed validation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The signature fails.
    Enforce,
    /// A warning is printed and verification goes on.
    Log,
    /// The validation is not performed.
    Skip,
}

impl Action {
    /// The policy name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Log => "log",
            Action::Skip => "skip",
        }
    }

    /// The action with this policy name.
    pub fn from_name(name: &str) -> Option<Action> {
        [Action::Enforce, Action::Log, Action::Skip]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verification level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Everything enforced.
    Strict,
    /// Integrity and authenticity enforced, the rest logged.
    Permissive,
    /// Integrity enforced, the rest logged.
    Audit,
    /// No verification.
    Skip,
}

impl Level {
    /// The policy name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Strict => "strict",
            Level::Permissive => "permissive",
            Level::Audit => "audit",
            Level::Skip => "skip",
        }
    }

    /// The level with this policy name.
    pub fn from_name(name: &str) -> Option<Level> {
        [Level::Strict, Level::Permissive, Level::Audit, Level::Skip]
            .into_iter()
            .find(|l| l.as_str() == name)
    }

    /// The level's action for a validation.
    pub fn action(self, t: ValidationType) -> Action {
        use ValidationType as T;
        match (self, t) {
            (Level::Skip, _) => Action::Skip,
            (_, T::Integrity) => Action::Enforce,
            (Level::Strict, _) => Action::Enforce,
            (Level::Permissive, T::Authenticity) => Action::Enforce,
            (Level::Permissive | Level::Audit, _) => Action::Log,
        }
    }
}

/// The action of every validation for one trust policy statement: its level with
/// the overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actions {
    level: Level,
    overrides: Vec<(ValidationType, Action)>,
}

impl Actions {
    /// The actions of `level` with `overrides` (already validated).
    pub fn new(level: Level, overrides: Vec<(ValidationType, Action)>) -> Actions {
        Actions { level, overrides }
    }

    /// The level the statement names.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The action for `t`.
    pub fn get(&self, t: ValidationType) -> Action {
        self.overrides
            .iter()
            .find(|(o, _)| *o == t)
            .map_or_else(|| self.level.action(t), |(_, a)| *a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_table() {
        use Action::*;
        use ValidationType as T;
        let table = [
            (Level::Strict, [Enforce, Enforce, Enforce, Enforce, Enforce]),
            (Level::Permissive, [Enforce, Enforce, Log, Log, Log]),
            (Level::Audit, [Enforce, Log, Log, Log, Log]),
            (Level::Skip, [Skip, Skip, Skip, Skip, Skip]),
        ];
        for (level, actions) in table {
            for (t, a) in T::ALL.into_iter().zip(actions) {
                assert_eq!(level.action(t), a, "{level:?} {t}");
            }
        }
        let custom = Actions::new(Level::Strict, vec![(T::Expiry, Log), (T::Revocation, Skip)]);
        assert_eq!(custom.get(T::Expiry), Log);
        assert_eq!(custom.get(T::Revocation), Skip);
        assert_eq!(custom.get(T::Authenticity), Enforce);
    }
}
