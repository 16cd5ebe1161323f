//! Key ids: RFC 7512 PKCS#11 URIs.
//!
//! ```text
//! pkcs11:token=prod;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
//! ```
//!
//! The path (attributes separated by `;`) selects the token and the private key; the
//! query (separated by `&`) says how to reach them: the module and the PIN. Values are
//! percent-decoded (RFC 7512 §2.3: `%XX` is a byte, `+` is a plus sign, not a space);
//! `id` and `pin-value` are bytes, the other values must be UTF-8.
//!
//! Unknown attributes:
//!
//! * **path**: refused (`VALIDATION_ERROR` naming them). A path attribute narrows the
//!   match; ignoring one could sign with a key the user did not mean. Every path
//!   attribute of RFC 7512 is understood.
//! * **query**: vendor attributes (`x-…`, RFC 7512 §2.3) are ignored; any other unknown
//!   name, including RFC 7512's `module-name`, is refused, so a typo such as
//!   `pin-sorce=` does not silently turn into "no PIN".
//!
//! The PIN is never shown: [`Pkcs11Uri`]'s `Display` and `Debug` are the URI without
//! `pin-value`, and [`redact`] does the same for a key id that does not even parse.

use std::fmt;
use std::path::PathBuf;

use plugin_protocol::wire::PluginError;
use secrecy::{ExposeSecret as _, SecretBox};

/// The URI scheme, with its colon (matched case-insensitively).
pub const SCHEME: &str = "pkcs11:";

/// The path attributes this plugin matches on: all of RFC 7512's.
pub const PATH_ATTRIBUTES: &[&str] = &[
    "token",
    "manufacturer",
    "serial",
    "model",
    "library-manufacturer",
    "library-description",
    "library-version",
    "slot-description",
    "slot-manufacturer",
    "slot-id",
    "object",
    "type",
    "id",
];

/// The query attributes this plugin uses; others named `x-…` are ignored.
pub const QUERY_ATTRIBUTES: &[&str] = &["module-path", "pin-source", "pin-value"];

/// A PIN, kept in memory that is zeroed on drop and never printed.
pub type Pin = SecretBox<Vec<u8>>;

/// Where the PIN comes from.
pub enum PinSource {
    /// `pin-value=` (percent-decoded bytes).
    Value(Pin),
    /// `pin-source=file:<path>`: the first line of the file.
    File(PathBuf),
}

impl fmt::Debug for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinSource::Value(_) => f.write_str("PinSource::Value(<redacted>)"),
            PinSource::File(p) => f.debug_tuple("PinSource::File").field(p).finish(),
        }
    }
}

impl PinSource {
    /// The PIN bytes: the value, or the file's content without its trailing line
    /// break(s). Errors name the file, never the PIN.
    pub fn resolve(&self) -> Result<Pin, PluginError> {
        match self {
            PinSource::Value(v) => Ok(SecretBox::new(Box::new(v.expose_secret().clone()))),
            PinSource::File(path) => {
                let shown = path.display().to_string();
                let mut bytes = std::fs::read(path).map_err(|e| {
                    PluginError::validation(format!(
                        "cannot read the PIN file {shown:?} (pin-source): {e}"
                    ))
                })?;
                while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    bytes.pop();
                }
                let pin = SecretBox::new(Box::new(bytes));
                if pin.expose_secret().is_empty() {
                    return Err(PluginError::validation(format!(
                        "the PIN file {shown:?} (pin-source) is empty"
                    )));
                }
                Ok(pin)
            }
        }
    }
}

/// The `type` path attribute values of RFC 7512.
const OBJECT_TYPES: &[&str] = &["public", "private", "cert", "secret-key", "data"];

/// A parsed key id.
#[derive(Default)]
pub struct Pkcs11Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `manufacturer`: the token's manufacturer ID.
    pub manufacturer: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `model`: the token's model.
    pub model: Option<String>,
    /// `library-manufacturer`: the module's manufacturer ID.
    pub library_manufacturer: Option<String>,
    /// `library-description`: the module's description.
    pub library_description: Option<String>,
    /// `library-version`: `major[.minor]` of the module.
    pub library_version: Option<(u8, Option<u8>)>,
    /// `slot-description`.
    pub slot_description: Option<String>,
    /// `slot-manufacturer`.
    pub slot_manufacturer: Option<String>,
    /// `slot-id`: the decimal slot ID.
    pub slot_id: Option<u64>,
    /// `object`: the key's CKA_LABEL.
    pub object: Option<Vec<u8>>,
    /// `id`: the key's CKA_ID.
    pub id: Option<Vec<u8>>,
    /// `module-path`: the PKCS#11 module to load.
    pub module_path: Option<PathBuf>,
    /// `pin-value` or `pin-source`.
    pub pin: Option<PinSource>,
    redacted: String,
}

impl fmt::Display for Pkcs11Uri {
    /// The URI as given, without `pin-value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Uri({:?})", self.redacted)
    }
}

fn has_scheme(key_id: &str) -> Option<&str> {
    let head = key_id.get(..SCHEME.len())?;
    head.eq_ignore_ascii_case(SCHEME)
        .then(|| &key_id[SCHEME.len()..])
}

/// Percent-decodes an RFC 7512 attribute value. `None` when a `%` is not followed by
/// two hex digits.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn is_pin_value(component: &str) -> bool {
    let name = component.split_once('=').map_or(component, |(n, _)| n);
    let decoded = percent_decode(name).unwrap_or_else(|| name.as_bytes().to_vec());
    String::from_utf8_lossy(&decoded)
        .trim()
        .eq_ignore_ascii_case("pin-value")
}

/// The key id as it may be shown in messages: a PKCS#11 URI without any `pin-value`
/// attribute (in the path or the query, however its name is spelled or encoded) and
/// without components that are not `name=value`. Anything that is not a PKCS#11 URI
/// is not shown at all.
pub fn redact(key_id: &str) -> String {
    let Some(rest) = has_scheme(key_id) else {
        return "(a key id that is not a PKCS#11 URI)".to_owned();
    };
    let keep = |c: &&str| !c.is_empty() && c.contains('=') && !is_pin_value(c);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path: Vec<&str> = path.split(';').filter(keep).collect();
    let query: Vec<&str> = query
        .map(|q| q.split('&').filter(keep).collect())
        .unwrap_or_default();
    let mut out = format!("pkcs11:{}", path.join(";"));
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

/// Splits `part` into `(name, decoded value)` pairs; `what` is "path" or "query".
fn attributes<'a>(
    part: &'a str,
    sep: char,
    what: &str,
    invalid: &dyn Fn(String) -> PluginError,
) -> Result<Vec<(&'a str, Vec<u8>)>, PluginError> {
    let mut out: Vec<(&str, Vec<u8>)> = Vec::new();
    for (i, component) in part.split(sep).filter(|c| !c.is_empty()).enumerate() {
        let Some((name, value)) = component.split_once('=') else {
            return Err(invalid(format!(
                "{what} component {} is not an attribute of the form name=value",
                i + 1
            )));
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(invalid(format!(
                "the {what} attribute {name:?} appears more than once"
            )));
        }
        let Some(value) = percent_decode(value) else {
            return Err(invalid(format!(
                "the value of the {what} attribute {name:?} is not correctly percent-encoded (a '%' must be followed by two hex digits)"
            )));
        };
        out.push((name, value));
    }
    Ok(out)
}

/// Lists names as `"a", "b"`.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Pkcs11Uri {
    /// Parses a key id. Every error is a `VALIDATION_ERROR` that shows the URI
    /// without its PIN.
    pub fn parse(key_id: &str) -> Result<Pkcs11Uri, PluginError> {
        let Some(rest) = has_scheme(key_id) else {
            return Err(PluginError::validation(
                "the key id is not a PKCS#11 URI (RFC 7512): it must start with \"pkcs11:\", e.g. pkcs11:token=prod;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin",
            ));
        };
        let redacted = redact(key_id);
        let invalid = |msg: String| {
            PluginError::validation(format!("invalid PKCS#11 URI {redacted:?}: {msg}"))
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, q),
            None => (rest, ""),
        };
        let mut uri = Pkcs11Uri {
            redacted: redacted.clone(),
            ..Pkcs11Uri::default()
        };

        let path = attributes(path, ';', "path", &invalid)?;
        let unknown: Vec<&str> = path
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !PATH_ATTRIBUTES.contains(n))
            .collect();
        if !unknown.is_empty() {
            return Err(PluginError::validation(format!(
                "unsupported PKCS#11 URI path attribute{} {} in {redacted:?}: this plugin matches on {}",
                if unknown.len() == 1 { "" } else { "s" },
                quoted(&unknown),
                PATH_ATTRIBUTES.join(", ")
            )));
        }
        let text = |name: &str, v: Vec<u8>| {
            String::from_utf8(v)
                .map_err(|_| invalid(format!("the value of {name:?} is not UTF-8 text")))
        };
        for (name, value) in path {
            match name {
                "token" => uri.token = Some(text(name, value)?),
                "manufacturer" => uri.manufacturer = Some(text(name, value)?),
                "serial" => uri.serial = Some(text(name, value)?),
                "model" => uri.model = Some(text(name, value)?),
                "library-manufacturer" => uri.library_manufacturer = Some(text(name, value)?),
                "library-description" => uri.library_description = Some(text(name, value)?),
                "slot-description" => uri.slot_description = Some(text(name, value)?),
                "slot-manufacturer" => uri.slot_manufacturer = Some(text(name, value)?),
                "library-version" => {
                    let v = text(name, value)?;
                    uri.library_version = Some(parse_version(&v).ok_or_else(|| {
                        invalid(format!(
                            "library-version {v:?} is not of the form <major>[.<minor>]"
                        ))
                    })?);
                }
                "slot-id" => {
                    let v = text(name, value)?;
                    let id = (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| v.parse::<u64>().ok())
                        .flatten()
                        .ok_or_else(|| {
                            invalid(format!("slot-id {v:?} is not a decimal slot number"))
                        })?;
                    uri.slot_id = Some(id);
                }
                "object" => uri.object = Some(value),
                "id" => uri.id = Some(value),
                _ => {
                    // "type"
                    let v = text(name, value)?;
                    if v != "private" {
                        let known = if OBJECT_TYPES.contains(&v.as_str()) {
                            ""
                        } else {
                            " (not an RFC 7512 object type)"
                        };
                        return Err(invalid(format!(
                            "type={v}{known} does not name a private key: the key id names the private key to sign with (type=private, or leave type out)"
                        )));
                    }
                }
            }
        }

        let query = attributes(query, '&', "query", &invalid)?;
        let unknown: Vec<&str> = query
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !QUERY_ATTRIBUTES.contains(n) && !n.starts_with("x-"))
            .collect();
        if !unknown.is_empty() {
            let hint = if unknown.contains(&"module-name") {
                "; name the module by its path with module-path=<path> (or --plugin-config module=<path>)"
            } else {
                ""
            };
            return Err(PluginError::validation(format!(
                "unsupported PKCS#11 URI query attribute{} {} in {redacted:?}: this plugin uses {} (vendor attributes x-… are ignored){hint}",
                if unknown.len() == 1 { "" } else { "s" },
                quoted(&unknown),
                QUERY_ATTRIBUTES.join(", ")
            )));
        }
        for (name, value) in query {
            match name {
                "module-path" => {
                    let v = text(name, value)?;
                    if v.is_empty() {
                        return Err(invalid("module-path is empty".into()));
                    }
                    uri.module_path = Some(PathBuf::from(v));
                }
                "pin-value" => {
                    if uri.pin.is_some() {
                        return Err(invalid(
                            "pin-value and pin-source are both given: use one".into(),
                        ));
                    }
                    uri.pin = Some(PinSource::Value(SecretBox::new(Box::new(value))));
                }
                "pin-source" => {
                    if uri.pin.is_some() {
                        return Err(invalid(
                            "pin-value and pin-source are both given: use one".into(),
                        ));
                    }
                    let v = text(name, value)?;
                    uri.pin = Some(PinSource::File(parse_pin_source(&v).ok_or_else(|| {
                        invalid(format!(
                            "pin-source {v:?} is not supported: use pin-source=file:<path> (a file holding the PIN)"
                        ))
                    })?));
                }
                _ => {} // x-… vendor attributes
            }
        }
        Ok(uri)
    }
}

fn parse_version(v: &str) -> Option<(u8, Option<u8>)> {
    let digits = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u8>().ok())
            .flatten()
    };
    match v.split_once('.') {
        Some((major, minor)) => Some((digits(major)?, Some(digits(minor)?))),
        None => Some((digits(v)?, None)),
    }
}

/// `file:<path>`, `file:///<path>`, `file://localhost/<path>`, or a bare absolute path
/// (as OpenSC/libp11 accept).
fn parse_pin_source(v: &str) -> Option<PathBuf> {
    let path = if let Some(rest) = v.strip_prefix("file:") {
        match rest.strip_prefix("//") {
            Some(auth_and_path) => {
                let slash = auth_and_path.find('/')?;
                let (authority, path) = auth_and_path.split_at(slash);
                if !(authority.is_empty() || authority.eq_ignore_ascii_case("localhost")) {
                    return None;
                }
                path
            }
            None => rest,
        }
    } else if v.starts_with('/') {
        v
    } else {
        return None;
    };
    (!path.is_empty()).then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_protocol::wire::ErrorCode;

    fn err(key_id: &str) -> String {
        let e = Pkcs11Uri::parse(key_id).unwrap_err();
        assert_eq!(e.error_code, ErrorCode::Validation, "{key_id}");
        e.error_message.unwrap()
    }

    #[test]
    fn parses_the_example_of_the_issue() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=prod;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("prod"));
        assert_eq!(u.object.as_deref(), Some(&b"signer"[..]));
        assert_eq!(
            u.module_path,
            Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"))
        );
        match &u.pin {
            Some(PinSource::File(p)) => assert_eq!(p, &PathBuf::from("/run/secrets/pin")),
            other => panic!("{other:?}"),
        }
        assert_eq!(u.id, None);
        assert_eq!(u.slot_id, None);
    }

    #[test]
    fn percent_decoding_follows_rfc_7512() {
        let u = Pkcs11Uri::parse(
            "PKCS11:token=My%20Token;object=a+b%3Bc;id=%01%Ab%ff;serial=0123%2d45;slot-id=42?pin-value=12%2634",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("My Token"));
        // '+' is a plus sign, not a space; %3B is a literal ';'.
        assert_eq!(u.object.as_deref(), Some(&b"a+b;c"[..]));
        assert_eq!(u.id.as_deref(), Some(&[0x01, 0xab, 0xff][..]));
        assert_eq!(u.serial.as_deref(), Some("0123-45"));
        assert_eq!(u.slot_id, Some(42));
        match &u.pin {
            Some(PinSource::Value(p)) => assert_eq!(p.expose_secret(), b"12&34"),
            other => panic!("{other:?}"),
        }
        // UTF-8 in percent-encoding.
        let u = Pkcs11Uri::parse("pkcs11:token=J%C3%BCrgen").unwrap();
        assert_eq!(u.token.as_deref(), Some("Jürgen"));
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%%41"), None);
        assert_eq!(percent_decode("a%41"), Some(b"aA".to_vec()));
        assert!(err("pkcs11:object=50%").contains("not correctly percent-encoded"));
        assert!(err("pkcs11:token=%ff").contains("not UTF-8"));
    }

    #[test]
    fn all_rfc_path_attributes_are_understood() {
        let u = Pkcs11Uri::parse(
            "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=ab12;token=t;library-manufacturer=L;library-description=D;library-version=2.6;slot-description=S;slot-manufacturer=M;slot-id=7;object=o;type=private;id=%00",
        )
        .unwrap();
        assert_eq!(u.model.as_deref(), Some("SoftHSM v2"));
        assert_eq!(u.manufacturer.as_deref(), Some("SoftHSM project"));
        assert_eq!(u.library_version, Some((2, Some(6))));
        assert_eq!(u.slot_description.as_deref(), Some("S"));
        assert_eq!(u.slot_manufacturer.as_deref(), Some("M"));
        assert_eq!(u.library_manufacturer.as_deref(), Some("L"));
        assert_eq!(u.library_description.as_deref(), Some("D"));
        assert_eq!(u.id.as_deref(), Some(&[0u8][..]));
        assert_eq!(
            Pkcs11Uri::parse("pkcs11:library-version=3")
                .unwrap()
                .library_version,
            Some((3, None))
        );
        // The empty URI is valid: any token, any key (ambiguity is decided on the token).
        let u = Pkcs11Uri::parse("pkcs11:").unwrap();
        assert!(u.token.is_none() && u.object.is_none() && u.pin.is_none());
        assert_eq!(u.to_string(), "pkcs11:");
    }

    #[test]
    fn unknown_path_attributes_are_refused_by_name() {
        let m = err("pkcs11:token=t;colour=blue;x-vendor=1?pin-value=9999");
        assert!(
            m.contains("unsupported PKCS#11 URI path attributes \"colour\", \"x-vendor\""),
            "{m}"
        );
        assert!(m.contains("pkcs11:token=t;colour=blue;x-vendor=1"), "{m}");
        assert!(!m.contains("9999"), "{m}");
        let m = err("pkcs11:type=cert");
        assert!(m.contains("type=cert does not name a private key"), "{m}");
        assert!(err("pkcs11:slot-id=-1").contains("not a decimal slot number"));
        assert!(err("pkcs11:library-version=1.x").contains("library-version"));
        assert!(err("pkcs11:token=a;token=b").contains("\"token\" appears more than once"));
        assert!(err("pkcs11:token").contains("path component 1 is not an attribute"));
    }

    #[test]
    fn vendor_query_attributes_are_ignored_others_refused() {
        let u = Pkcs11Uri::parse("pkcs11:token=t?x-vendor-flag=on&module-path=/m.so").unwrap();
        assert_eq!(u.module_path, Some(PathBuf::from("/m.so")));
        let m = err("pkcs11:token=t?pin-sorce=file:/p");
        assert!(
            m.contains("unsupported PKCS#11 URI query attribute \"pin-sorce\""),
            "{m}"
        );
        let m = err("pkcs11:token=t?module-name=softhsm2");
        assert!(
            m.contains("\"module-name\"") && m.contains("module-path=<path>"),
            "{m}"
        );
        let m = err("pkcs11:?pin-value=1&pin-source=file:/p");
        assert!(m.contains("both given"), "{m}");
        assert!(err("pkcs11:?module-path=").contains("module-path is empty"));
    }

    #[test]
    fn pin_sources() {
        for (v, path) in [
            ("file:/run/secrets/pin", "/run/secrets/pin"),
            ("file:///run/secrets/pin", "/run/secrets/pin"),
            ("file://localhost/run/pin", "/run/pin"),
            ("file:pin.txt", "pin.txt"),
            ("/abs/pin", "/abs/pin"),
            ("file:/with%20space", "/with space"),
        ] {
            let u = Pkcs11Uri::parse(&format!("pkcs11:?pin-source={v}")).unwrap();
            match u.pin {
                Some(PinSource::File(p)) => assert_eq!(p, PathBuf::from(path), "{v}"),
                other => panic!("{v}: {other:?}"),
            }
        }
        for v in [
            "env:PIN",
            "|/bin/getpin",
            "file://host/p",
            "file:",
            "relative",
        ] {
            let m = err(&format!("pkcs11:?pin-source={v}"));
            assert!(m.contains("use pin-source=file:<path>"), "{v}: {m}");
        }
    }

    #[test]
    fn pin_file_is_read_without_line_break_and_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("pkcs11-uri-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pin");
        std::fs::write(&file, "s3cr3t\r\n").unwrap();
        let pin = PinSource::File(file.clone()).resolve().unwrap();
        assert_eq!(pin.expose_secret(), b"s3cr3t");
        std::fs::write(&file, "\n").unwrap();
        let e = PinSource::File(file.clone()).resolve().unwrap_err();
        assert!(e.error_message.unwrap().contains("is empty"));
        let missing = dir.join("missing");
        let e = PinSource::File(missing.clone()).resolve().unwrap_err();
        assert_eq!(e.error_code, ErrorCode::Validation);
        let m = e.error_message.unwrap();
        assert!(m.contains(&missing.display().to_string()), "{m}");
        assert!(m.contains("cannot read the PIN file"), "{m}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_pin_is_redacted_everywhere() {
        let id = "pkcs11:token=t;object=o?module-path=/m.so&pin-value=hunter2&x-a=1";
        let u = Pkcs11Uri::parse(id).unwrap();
        assert_eq!(
            u.to_string(),
            "pkcs11:token=t;object=o?module-path=/m.so&x-a=1"
        );
        assert!(!format!("{u:?}").contains("hunter2"));
        assert!(!format!("{:?}", u.pin).contains("hunter2"));
        assert_eq!(redact("pkcs11:token=t?pin-value=hunter2"), "pkcs11:token=t");
        // In the path, encoded, upper case, or in a URI that does not parse.
        for id in [
            "pkcs11:pin-value=hunter2;token=t",
            "pkcs11:token=t?PIN-VALUE=hunter2",
            "pkcs11:token=t?pin%2Dvalue=hunter2",
            "pkcs11:token=t?pin-value=hunter2%zz",
            "pkcs11:token=t;bogus=1?pin-value=hunter2",
            "pkcs11:token=t?pin-value=hunter2&pin-value=hunter2",
            "pkcs11:hunter2?pin-value=hunter2",
        ] {
            assert!(!redact(id).contains("hunter2"), "{id}: {}", redact(id));
            if let Err(e) = Pkcs11Uri::parse(id) {
                let m = e.error_message.unwrap();
                assert!(!m.contains("hunter2"), "{id}: {m}");
            }
        }
        assert_eq!(
            redact("not a uri with pin-value=hunter2"),
            "(a key id that is not a PKCS#11 URI)"
        );
        let m = err("hunter2");
        assert!(
            m.contains("not a PKCS#11 URI") && !m.contains("hunter2"),
            "{m}"
        );
    }
}
