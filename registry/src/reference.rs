//! Registry references (notary-spec.md §3.6): `<registry>/<repository>:<tag>` or
//! `<registry>/<repository>@<digest>`. The registry host is required (no Docker Hub
//! defaulting), as in notation.

use std::fmt;

use notation_core::Digest;

use crate::error::{RegistryError, Result};

/// Tag or digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A tag.
    Tag(String),
    /// A digest.
    Digest(Digest),
}

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag or digest.
    pub selector: Selector,
}

const EXPECT: &str = "Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>";

fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Distribution-spec repository grammar: lowercase path components separated by
/// `/`, each `[a-z0-9]+` joined by `.`, `_`, `__` or `-`s.
fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.split('/').all(|comp| {
            let b = comp.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
                })
        })
}

fn valid_registry(host: &str) -> bool {
    let (name, port) = if host.starts_with('[') {
        // [IPv6] or [IPv6]:port
        match host.split_once(']') {
            Some((_, "")) => (host, None),
            Some((addr, rest)) => match rest.strip_prefix(':') {
                Some(p) => (&host[..addr.len() + 1], Some(p)),
                None => return false,
            },
            None => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|c| c.is_ascii_digit()));
    let name_ok = !name.is_empty()
        && (name.starts_with('[') && name.ends_with(']')
            || name.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            }));
    name_ok && port_ok
}

impl Reference {
    /// Parses a reference with notation's messages.
    pub fn parse(raw: &str) -> Result<Reference> {
        let bad = |why: String| {
            RegistryError::InvalidReference(format!("{raw:?}: invalid reference: {why}"))
        };
        let (name, selector) = if let Some((name, digest)) = raw.split_once('@') {
            let d: Digest = digest.parse().map_err(|_| {
                bad(format!(
                    "invalid digest {digest:?}: a digest is sha256:<64 lowercase hex>. {EXPECT}"
                ))
            })?;
            (name, Selector::Digest(d))
        } else {
            // The tag separator is a ':' after the last '/' (a ':' before it is a port).
            let slash = raw.rfind('/').unwrap_or(0);
            match raw[slash..].rfind(':') {
                Some(i) => {
                    let (name, tag) = (&raw[..slash + i], &raw[slash + i + 1..]);
                    if !valid_tag(tag) {
                        return Err(bad(format!("invalid tag {tag:?}. {EXPECT}")));
                    }
                    (name, Selector::Tag(tag.to_owned()))
                }
                None => return Err(bad(format!("no tag or digest. {EXPECT}"))),
            }
        };
        let Some((registry, repository)) = name.split_once('/') else {
            return Err(bad(format!("missing registry or repository. {EXPECT}")));
        };
        if !valid_registry(registry) {
            return Err(bad(format!("invalid registry {registry:?}. {EXPECT}")));
        }
        if !valid_repository(repository) {
            return Err(bad(format!(
                "invalid repository {repository:?}: repository names are lowercase letters, digits and separators (. _ -). {EXPECT}"
            )));
        }
        Ok(Reference {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            selector,
        })
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag or digest as the path segment of `/manifests/<...>`.
    pub fn selector_str(&self) -> &str {
        match &self.selector {
            Selector::Tag(t) => t,
            Selector::Digest(d) => d.as_str(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            Selector::Tag(t) => write!(f, "{}:{t}", self.name()),
            Selector::Digest(d) => write!(f, "{}@{d}", self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

    #[test]
    fn parses() {
        let r = Reference::parse(&format!("localhost:5000/a/b@{D}")).unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost:5000", "a/b")
        );
        assert_eq!(r.selector, Selector::Digest(D.parse().unwrap()));
        let r = Reference::parse("registry.example.com/net-monitor:v1").unwrap();
        assert_eq!(r.selector, Selector::Tag("v1".into()));
        assert_eq!(r.to_string(), "registry.example.com/net-monitor:v1");
        let r = Reference::parse("localhost:5000/app:1.0").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(Reference::parse("[::1]/app:v1").unwrap().registry, "[::1]");
        assert_eq!(
            Reference::parse("[::1]:5000/app:v1").unwrap().registry,
            "[::1]:5000"
        );
    }

    #[test]
    fn errors() {
        let msg = |r: &str| Reference::parse(r).unwrap_err().to_string();
        assert_eq!(
            msg("localhost:5000/app"),
            "\"localhost:5000/app\": invalid reference: no tag or digest. Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>"
        );
        assert!(msg("app:v1").contains("missing registry or repository"));
        assert!(msg("localhost:5000/App:v1").contains("invalid repository"));
        assert!(msg("localhost:5000/app@sha256:12").contains("invalid digest"));
        assert!(msg("localhost:5000/app:-x").contains("invalid tag"));
        assert!(msg("bad host/app:v1").contains("invalid registry"));
    }
}
