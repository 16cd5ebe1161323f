//! Trust store vocabulary (spec §4.10 "Trust store"): the store types, named-store
//! references `<type>:<name>` as trust policies write them, and the rule every
//! certificate in a store must satisfy. Reading the directories is the CLI's job.

use std::fmt;

use crate::cert::Certificate;

/// The three kinds of named trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreType {
    /// Roots for the `notary.x509` signing scheme.
    Ca,
    /// Roots for the `notary.x509.signingAuthority` signing scheme.
    SigningAuthority,
    /// Roots of timestamping authorities.
    Tsa,
}

impl StoreType {
    /// Every type, in the order notation lists them.
    pub const ALL: [StoreType; 3] = [StoreType::Ca, StoreType::SigningAuthority, StoreType::Tsa];

    /// The directory and policy name.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreType::Ca => "ca",
            StoreType::SigningAuthority => "signingAuthority",
            StoreType::Tsa => "tsa",
        }
    }

    /// The type with this name.
    pub fn from_name(name: &str) -> Option<StoreType> {
        StoreType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for StoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True for a valid named-store (or file) name: `[a-zA-Z0-9_.-]+`, and not `.`/`..`.
pub fn valid_store_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A named store: `<type>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreRef {
    /// Store type.
    pub store_type: StoreType,
    /// Store name.
    pub name: String,
}

impl StoreRef {
    /// Parses `<type>:<name>`; the error says what is wrong, in notation's words.
    pub fn parse(value: &str) -> Result<StoreRef, String> {
        let Some((t, name)) = value.split_once(':') else {
            return Err(format!(
                "has malformed trust store value {value:?}. The required format is <TrustStoreType>:<TrustStoreName>"
            ));
        };
        let Some(store_type) = StoreType::from_name(t) else {
            return Err(format!(
                "uses an unsupported trust store type {t:?} in trust store value {value:?} (types are ca, signingAuthority and tsa)"
            ));
        };
        if !valid_store_name(name) {
            return Err(format!(
                "uses an unsupported trust store name {name:?} in trust store value {value:?}. Named store name needs to follow [a-zA-Z0-9_.-]+ format"
            ));
        }
        Ok(StoreRef {
            store_type,
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for StoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.store_type, self.name)
    }
}

/// Checks that `cert` may be in a store of `store_type`: a CA certificate or a
/// self-signed certificate for `ca` and `signingAuthority`, a self-signed root for
/// `tsa` (notation-go's trust store rules).
pub fn check_store_certificate(store_type: StoreType, cert: &Certificate) -> Result<(), String> {
    match store_type {
        StoreType::Tsa if !(cert.is_self_signed() && cert.is_ca()) => Err(format!(
            "certificate with subject {:?} is not a root certificate. Only self-signed root CA certificates are allowed in a tsa trust store",
            cert.subject
        )),
        StoreType::Ca | StoreType::SigningAuthority if !cert.is_ca() && !cert.is_self_signed() => {
            Err(format!(
                "certificate with subject {:?} is not a CA certificate or self-signed signing certificate",
                cert.subject
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_refs() {
        let r = StoreRef::parse("signingAuthority:acme.io_1").unwrap();
        assert_eq!(r.store_type, StoreType::SigningAuthority);
        assert_eq!(r.to_string(), "signingAuthority:acme.io_1");
        assert!(StoreRef::parse("ca").unwrap_err().contains("malformed"));
        assert!(
            StoreRef::parse("x509:a")
                .unwrap_err()
                .contains("type \"x509\"")
        );
        assert!(
            StoreRef::parse("ca:a/b")
                .unwrap_err()
                .contains("[a-zA-Z0-9_.-]+")
        );
        assert!(StoreRef::parse("ca:..").is_err());
    }
}
