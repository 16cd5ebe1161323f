//! `--oci-layout` references: `<dir>:<tag>` or `<dir>@<digest>` (spec §3.7), split at
//! the last `@`, else the last `:`.

use anyhow::{Result, bail};
use notation_core::Digest;

/// What to look up in the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A tag (`org.opencontainers.image.ref.name`).
    Tag(String),
    /// A manifest digest.
    Digest(Digest),
}

/// A parsed layout reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutRef {
    /// The layout directory as the user wrote it.
    pub path: String,
    /// Tag or digest.
    pub selector: Selector,
}

/// OCI distribution-spec tag grammar.
fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

impl LayoutRef {
    /// Parses a layout reference with notation's messages.
    pub fn parse(raw: &str) -> Result<LayoutRef> {
        let expect = "Expecting <file_path>:<tag> or <file_path>@<digest>";
        let (path, selector) = if let Some((path, digest)) = raw.rsplit_once('@') {
            let d: Digest = match digest.parse() {
                Ok(d) => d,
                Err(_) => bail!(
                    "{raw:?}: invalid reference: invalid digest {digest:?}: a digest is sha256:<64 lowercase hex>. {expect}"
                ),
            };
            (path, Selector::Digest(d))
        } else if let Some((path, tag)) = raw.rsplit_once(':') {
            if !valid_tag(tag) {
                bail!("{raw:?}: invalid reference: invalid tag {tag:?}. {expect}");
            }
            (path, Selector::Tag(tag.to_owned()))
        } else {
            bail!("{raw:?}: invalid reference: missing tag or digest. {expect}");
        };
        if path.is_empty() {
            bail!("{raw:?}: invalid reference: missing oci-layout file path. {expect}");
        }
        Ok(LayoutRef {
            path: path.to_owned(),
            selector,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

    #[test]
    fn parses_both_forms() {
        let r = LayoutRef::parse("./dir:v1").unwrap();
        assert_eq!(
            (r.path.as_str(), r.selector),
            ("./dir", Selector::Tag("v1".into()))
        );
        let r = LayoutRef::parse(&format!("/a:b/dir@{D}")).unwrap();
        assert_eq!(r.path, "/a:b/dir");
        assert_eq!(r.selector, Selector::Digest(D.parse().unwrap()));
    }

    #[test]
    fn errors() {
        let e = LayoutRef::parse("./dir").unwrap_err().to_string();
        assert_eq!(
            e,
            "\"./dir\": invalid reference: missing tag or digest. Expecting <file_path>:<tag> or <file_path>@<digest>"
        );
        let e = LayoutRef::parse(&format!("@{D}")).unwrap_err().to_string();
        assert!(e.contains("missing oci-layout file path"), "{e}");
        let e = LayoutRef::parse("dir@sha256:abc").unwrap_err().to_string();
        assert!(e.contains("invalid digest \"sha256:abc\""), "{e}");
        let e = LayoutRef::parse("dir:-bad").unwrap_err().to_string();
        assert!(e.contains("invalid tag"), "{e}");
    }
}
