//! Flag rules with notation's (cobra's) exact messages (spec §4.1): key-value
//! flags, required-together and mutually exclusive groups. clap can express the
//! groups, but not with the messages notation users and scripts know.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

/// Parses repeated `k=v` flags. Splits at the first `=`; key and value must be
/// non-empty; a later duplicate wins (spec §1.12 `ParseFlagMap`).
pub fn parse_key_values(flag: &str, items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for item in items {
        match item.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                map.insert(k.to_owned(), v.to_owned());
            }
            _ => bail!("could not parse flag {flag}: key-value pair requires \"=\" as separator"),
        }
    }
    Ok(map)
}

/// Flag groups of one command, checked in cobra's order: required-together groups,
/// then one-required groups, then exclusive groups, each kind in sorted order of
/// their joined names; only the first violation is reported.
#[derive(Default)]
pub struct FlagGroups {
    together: Vec<Vec<&'static str>>,
    one_required: Vec<Vec<&'static str>>,
    exclusive: Vec<Vec<&'static str>>,
}

impl FlagGroups {
    /// Flags that must all be set if any is.
    pub fn required_together(mut self, group: &[&'static str]) -> Self {
        self.together.push(group.to_vec());
        self
    }

    /// At least one of these flags must be set.
    pub fn one_required(mut self, group: &[&'static str]) -> Self {
        self.one_required.push(group.to_vec());
        self
    }

    /// At most one of these flags may be set.
    pub fn exclusive(mut self, group: &[&'static str]) -> Self {
        self.exclusive.push(group.to_vec());
        self
    }

    /// Checks the groups against the flags that were given on the command line.
    pub fn check(&self, is_set: impl Fn(&str) -> bool) -> Result<()> {
        let sorted = |groups: &[Vec<&'static str>]| {
            let mut g = groups.to_vec();
            g.sort_by_key(|g| g.join(" "));
            g
        };
        for g in sorted(&self.together) {
            let mut missing: Vec<&str> = g.iter().copied().filter(|f| !is_set(f)).collect();
            if missing.len() != g.len() && !missing.is_empty() {
                missing.sort_unstable();
                bail!(
                    "if any flags in the group [{}] are set they must all be set; missing [{}]",
                    g.join(" "),
                    missing.join(" ")
                );
            }
        }
        for g in sorted(&self.one_required) {
            if !g.iter().any(|f| is_set(f)) {
                bail!(
                    "at least one of the flags in the group [{}] is required",
                    g.join(" ")
                );
            }
        }
        for g in sorted(&self.exclusive) {
            let mut set: Vec<&str> = g.iter().copied().filter(|f| is_set(f)).collect();
            if set.len() > 1 {
                set.sort_unstable();
                bail!(
                    "if any flags in the group [{}] are set none of the others can be; [{}] were all set",
                    g.join(" "),
                    set.join(" ")
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_groups() -> FlagGroups {
        FlagGroups::default()
            .required_together(&["id", "plugin"])
            .exclusive(&["key", "id"])
            .exclusive(&["key", "plugin"])
    }

    #[test]
    fn cobra_messages_and_order() {
        let g = sign_groups();
        let e = g
            .check(|f| f == "key" || f == "id")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "if any flags in the group [id plugin] are set they must all be set; missing [plugin]"
        );
        let e = g
            .check(|f| ["key", "id", "plugin"].contains(&f))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "if any flags in the group [key id] are set none of the others can be; [id key] were all set"
        );
        assert!(g.check(|f| f == "key").is_ok());
        assert!(g.check(|f| f == "id" || f == "plugin").is_ok());
        let e = FlagGroups::default()
            .one_required(&["file", "url"])
            .check(|_| false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "at least one of the flags in the group [file url] is required"
        );
    }

    #[test]
    fn key_values() {
        let m = parse_key_values(
            "user-metadata",
            &["a=1".into(), "b=x=y".into(), "a=2".into()],
        )
        .unwrap();
        assert_eq!(m["a"], "2");
        assert_eq!(m["b"], "x=y");
        for bad in ["a", "=1", "a="] {
            let e = parse_key_values("user-metadata", &[bad.into()])
                .unwrap_err()
                .to_string();
            assert_eq!(
                e,
                "could not parse flag user-metadata: key-value pair requires \"=\" as separator"
            );
        }
    }
}
