//! Distinguished names as trusted identities use them (spec §4.10
//! "trustedIdentities"): `x509.subject: <RFC 4514 DN>` in a trust policy, matched
//! against the subject of the signing (leaf) certificate.
//!
//! A trusted DN must have `C`, `ST` (or its alias `S`) and `O`, no multi-valued
//! RDNs, no repeated attribute type and no `#`-encoded (BER) values. It matches a
//! certificate when every one of its attributes is in the certificate's subject
//! with the same value ("subset match", as notation-go's `IsSubsetDN`).

use std::fmt;

use crate::cert::{Certificate, NameAttribute};

/// A distinguished name reduced to unique attribute types (upper case, `S` → `ST`)
/// and their values, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    attributes: Vec<(String, String)>,
}

/// Why a DN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("distinguished name (DN) {dn:?} {reason}")]
pub struct DnError {
    /// The DN as written.
    pub dn: String,
    /// What is wrong with it.
    pub reason: String,
}

const MANDATORY: [&str; 3] = ["C", "ST", "O"];

/// Short names of the attribute types Go's `pkix.Name.String()` writes; any other
/// type is written as its dotted OID.
const SHORT_NAMES: [(&str, &str); 9] = [
    ("2.5.4.6", "C"),
    ("2.5.4.8", "ST"),
    ("2.5.4.7", "L"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.17", "POSTALCODE"),
    ("2.5.4.5", "SERIALNUMBER"),
];

fn normalize_type(t: &str) -> String {
    let upper = t.trim().to_ascii_uppercase();
    if upper == "S" { "ST".to_owned() } else { upper }
}

impl DistinguishedName {
    /// Parses the DN of a trusted identity and applies the trust-policy rules.
    pub fn parse_trusted(dn: &str) -> Result<DistinguishedName, DnError> {
        let bad = |reason: String| DnError {
            dn: dn.to_owned(),
            reason,
        };
        let rdns = parse_rfc4514(dn).map_err(|why| {
            bad(format!(
                "is not valid ({why}), it must contain 'C', 'ST', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard"
            ))
        })?;
        let mut attributes: Vec<(String, String)> = Vec::new();
        for rdn in rdns {
            if rdn.len() > 1 {
                return Err(bad(
                    "has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported".into(),
                ));
            }
            for (t, v) in rdn {
                let t = normalize_type(&t);
                if attributes.iter().any(|(have, _)| *have == t) {
                    return Err(bad(format!(
                        "has duplicate RDN attribute for {t:?}, DN can only have unique RDN attributes"
                    )));
                }
                attributes.push((t, v));
            }
        }
        for field in MANDATORY {
            if !attributes.iter().any(|(t, v)| t == field && !v.is_empty()) {
                return Err(bad(format!(
                    "has no mandatory RDN attribute for {field:?}, it must contain 'C', 'ST', and 'O' RDN attributes at a minimum"
                )));
            }
        }
        Ok(DistinguishedName { attributes })
    }

    /// The subject of `cert` as a DN. Refused when it has multi-valued RDNs or a
    /// repeated attribute type (as notation-go refuses them), since a subset match
    /// against it would be ambiguous.
    pub fn of_subject(cert: &Certificate) -> Result<DistinguishedName, String> {
        let mut attributes: Vec<(String, String)> = Vec::new();
        for rdn in &cert.subject_rdns {
            if rdn.len() > 1 {
                return Err(format!(
                    "the subject {:?} of the signing certificate has a multi-valued RDN",
                    cert.subject
                ));
            }
            for NameAttribute { oid, value } in rdn {
                let t = SHORT_NAMES
                    .iter()
                    .find(|(o, _)| o == oid)
                    .map_or_else(|| oid.clone(), |(_, n)| (*n).to_owned());
                if attributes.iter().any(|(have, _)| *have == t) {
                    return Err(format!(
                        "the subject {:?} of the signing certificate has more than one {t:?} attribute",
                        cert.subject
                    ));
                }
                // A value that is not a string can never equal a trusted value
                // (trusted DNs cannot carry `#` BER values).
                attributes.push((t, value.clone().unwrap_or_else(|| "\u{0}#".into())));
            }
        }
        Ok(DistinguishedName { attributes })
    }

    /// True when every attribute of `self` is in `other` with the same value.
    pub fn is_subset_of(&self, other: &DistinguishedName) -> bool {
        self.attributes
            .iter()
            .all(|(t, v)| other.attributes.iter().any(|(ot, ov)| ot == t && ov == v))
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .attributes
            .iter()
            .map(|(t, v)| format!("{t}={v}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Parses an RFC 4514 string into RDNs of (type, value). Accepts `,` (and `;`)
/// between RDNs, `+` inside one, backslash escapes (`\,`, `\2C`, ...), quoted
/// values, and spaces around types and values. `#` hex values are refused.
fn parse_rfc4514(s: &str) -> Result<Vec<Vec<(String, String)>>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut rdns = Vec::new();
    let mut rdn = Vec::new();
    if s.trim().is_empty() {
        return Err("it is empty".into());
    }
    loop {
        // Attribute type.
        let start = i;
        while i < chars.len() && chars[i] != '=' {
            if matches!(chars[i], ',' | '+' | ';' | '"' | '\\') {
                return Err(format!("unexpected {:?} in an attribute type", chars[i]));
            }
            i += 1;
        }
        if i >= chars.len() {
            return Err("an attribute has no '='".into());
        }
        let t: String = chars[start..i].iter().collect::<String>().trim().to_owned();
        let valid_type = !t.is_empty()
            && (t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && t.starts_with(|c: char| c.is_ascii_alphabetic())
                || t.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
        if !valid_type {
            return Err(format!("invalid attribute type {t:?}"));
        }
        i += 1;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        // Attribute value.
        let mut value = String::new();
        if i < chars.len() && chars[i] == '#' {
            return Err(format!(
                "the value of {t:?} is #-encoded (BER), which is not supported"
            ));
        }
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated quoted value".into()),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        let (c, next) = unescape(&chars, i)?;
                        value.push_str(&c);
                        i = next;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
        } else {
            // Unescaped trailing spaces are not part of the value.
            let mut trailing = 0;
            while i < chars.len() && !matches!(chars[i], ',' | '+' | ';') {
                match chars[i] {
                    '\\' => {
                        let (c, next) = unescape(&chars, i)?;
                        value.push_str(&c);
                        i = next;
                        trailing = 0;
                    }
                    '"' => return Err(format!("unescaped '\"' in the value of {t:?}")),
                    c => {
                        value.push(c);
                        trailing = if c == ' ' { trailing + 1 } else { 0 };
                        i += 1;
                    }
                }
            }
            value.truncate(value.len() - trailing);
        }
        rdn.push((t, value));
        match chars.get(i) {
            None => {
                rdns.push(std::mem::take(&mut rdn));
                return Ok(rdns);
            }
            Some('+') => i += 1,
            Some(',' | ';') => {
                rdns.push(std::mem::take(&mut rdn));
                i += 1;
            }
            Some(c) => return Err(format!("unexpected {c:?} after a value")),
        }
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        if i >= chars.len() {
            return Err("it ends with a separator".into());
        }
    }
}

/// Decodes the escape at `chars[i] == '\\'`: a special character, or a run of hex
/// pairs forming UTF-8. Returns the text and the index after the escape.
fn unescape(chars: &[char], i: usize) -> Result<(String, usize), String> {
    let hex = |c: Option<&char>| c.and_then(|c| c.to_digit(16));
    let mut bytes = Vec::new();
    let mut j = i;
    while chars.get(j) == Some(&'\\') {
        match (hex(chars.get(j + 1)), hex(chars.get(j + 2))) {
            (Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                j += 3;
            }
            _ => break,
        }
    }
    if !bytes.is_empty() {
        let text = String::from_utf8(bytes).map_err(|_| "an escaped value is not UTF-8")?;
        return Ok((text, j));
    }
    match chars.get(i + 1) {
        Some(c @ ('"' | '+' | ',' | ';' | '<' | '>' | '\\' | ' ' | '#' | '=')) => {
            Ok((c.to_string(), i + 2))
        }
        Some(c) => Err(format!("invalid escape \\{c}")),
        None => Err("a value ends with a lone backslash".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> DistinguishedName {
        DistinguishedName::parse_trusted(s).unwrap()
    }

    #[test]
    fn parses_and_normalizes() {
        let d = dn("C=US, S=WA, O=acme-rockets.io, CN=a\\, b");
        assert_eq!(d.to_string(), "C=US, ST=WA, O=acme-rockets.io, CN=a, b");
        let d = dn(r#"c=US;st=WA;o="Acme, Inc.";OU=\41\42"#);
        assert_eq!(d.to_string(), "C=US, ST=WA, O=Acme, Inc., OU=AB");
        assert_eq!(dn("C=US,ST=WA,O=x  ").to_string(), "C=US, ST=WA, O=x");
    }

    #[test]
    fn trust_policy_rules() {
        let err = |s: &str| DistinguishedName::parse_trusted(s).unwrap_err().to_string();
        assert!(err("C=US, ST=WA").contains("no mandatory RDN attribute for \"O\""));
        assert!(err("C=US+ST=WA, O=x").contains("multi-valued RDN"));
        assert!(err("C=US, ST=WA, O=x, O=y").contains("duplicate RDN attribute for \"O\""));
        assert!(err("C=US, ST=WA, O=#04024869").contains("#-encoded"));
        assert!(err("C=US, ST=WA, O=x,").contains("follow RFC 4514"));
        assert!(err("C=US, ST=WA, =x").contains("invalid attribute type"));
        assert!(err("").contains("follow RFC 4514"));
    }

    #[test]
    fn subset_match() {
        let trusted = dn("C=US, ST=WA, O=Notary");
        let leaf = dn("C=US, ST=WA, L=Seattle, O=Notary, CN=e2e");
        assert!(trusted.is_subset_of(&leaf));
        assert!(!leaf.is_subset_of(&trusted));
        assert!(!dn("C=US, ST=WA, O=notary").is_subset_of(&leaf));
        assert!(!dn("C=US, ST=WA, O=Notary, OU=x").is_subset_of(&leaf));
    }
}
