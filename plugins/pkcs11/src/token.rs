//! The token side: load the module, pick the token, log in, find the key, sign, and
//! read the certificate chain. Everything goes through cryptoki.
//!
//! Lifetimes: a [`Module`] is loaded and initialized once per plugin process (each
//! plugin command is one process) and finalized when it is dropped; sessions are
//! cryptoki `Session`s, closed when dropped. Callers keep sessions inside the scope
//! of the module (see `lib.rs`), so every path closes the session and then
//! finalizes the module.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::Ulong;
use notation_core::cert::Certificate;
use notation_core::{HashAlgorithm, KeySpec};
use plugin_protocol::wire::{ErrorCode, PluginError};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::error::pkcs11_error;
use crate::uri::{Pin, Pkcs11Uri};

/// DER of the named-curve OIDs in CKA_EC_PARAMS.
const EC_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const EC_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const EC_P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// Longest chain read from a token (leaf included).
const MAX_CHAIN: usize = 10;

/// A loaded and initialized PKCS#11 module; `C_Finalize` runs on drop.
pub struct Module {
    ctx: Option<Pkcs11>,
    path: PathBuf,
    /// False when the library was already initialized by someone else in this
    /// process (then it is theirs to finalize).
    finalize: bool,
}

impl Module {
    /// Loads and initializes the module at `path`. A missing file or a library that
    /// is not a PKCS#11 module is a `VALIDATION_ERROR` naming the path.
    pub fn load(path: &Path) -> Result<Module, PluginError> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(PluginError::validation(format!(
                "the PKCS#11 module {shown:?} does not exist: set module-path in the key id or --plugin-config module=<path> to the module of your HSM"
            )));
        }
        let ctx = Pkcs11::new(path).map_err(|e| {
            PluginError::validation(format!("cannot load the PKCS#11 module {shown:?}: {e}"))
        })?;
        let finalize = match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => true,
            Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
            Err(e) => {
                return Err(pkcs11_error(
                    &format!("cannot initialize the PKCS#11 module {shown:?}"),
                    e,
                ));
            }
        };
        Ok(Module {
            ctx: Some(ctx),
            path: path.to_path_buf(),
            finalize,
        })
    }

    fn ctx(&self) -> &Pkcs11 {
        self.ctx
            .as_ref()
            .expect("the module is loaded until it is dropped")
    }

    /// The module's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take()
            && self.finalize
        {
            // Nothing useful can be done if C_Finalize fails while exiting.
            let _ = ctx.finalize();
        }
    }
}

/// The token the URI selects.
pub struct Token {
    slot: Slot,
    info: TokenInfo,
}

impl Token {
    /// `token "label" (serial …)` for messages.
    pub fn describe(&self) -> String {
        describe_token(&self.info)
    }
}

fn describe_token(info: &TokenInfo) -> String {
    format!(
        "token {:?} (serial {:?})",
        info.label(),
        info.serial_number()
    )
}

fn eq(want: &Option<String>, have: &str) -> bool {
    want.as_deref().is_none_or(|w| w == have)
}

/// Picks the one initialized token that matches the URI's token, slot and library
/// attributes. None or several is a `VALIDATION_ERROR` listing the tokens seen.
pub fn select_token(module: &Module, uri: &Pkcs11Uri) -> Result<Token, PluginError> {
    let ctx = module.ctx();
    let module_shown = module.path().display().to_string();
    let lib_wanted = uri.library_manufacturer.is_some()
        || uri.library_description.is_some()
        || uri.library_version.is_some();
    if lib_wanted {
        let info = ctx.get_library_info().map_err(|e| {
            pkcs11_error(
                &format!("cannot read the library information of {module_shown:?}"),
                e,
            )
        })?;
        let version = info.library_version();
        let version_ok = uri.library_version.is_none_or(|(major, minor)| {
            version.major() == major && minor.is_none_or(|m| version.minor() == m)
        });
        if !eq(&uri.library_manufacturer, info.manufacturer_id())
            || !eq(&uri.library_description, info.library_description())
            || !version_ok
        {
            return Err(PluginError::validation(format!(
                "the PKCS#11 module {module_shown:?} (manufacturer {:?}, description {:?}, version {}.{}) does not match the library attributes of {uri}",
                info.manufacturer_id(),
                info.library_description(),
                version.major(),
                version.minor()
            )));
        }
    }
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| pkcs11_error(&format!("cannot list the slots of {module_shown:?}"), e))?;
    let mut seen = Vec::new();
    let mut matches = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue; // removed meanwhile, or unreadable: not a candidate
        };
        if !info.token_initialized() {
            continue;
        }
        seen.push(format!("{} in slot {}", describe_token(&info), slot.id()));
        let slot_ok = if uri.slot_description.is_some() || uri.slot_manufacturer.is_some() {
            ctx.get_slot_info(slot).is_ok_and(|s| {
                eq(&uri.slot_description, s.slot_description())
                    && eq(&uri.slot_manufacturer, s.manufacturer_id())
            })
        } else {
            true
        };
        if slot_ok
            && uri.slot_id.is_none_or(|id| id == slot.id())
            && eq(&uri.token, info.label())
            && eq(&uri.serial, info.serial_number())
            && eq(&uri.manufacturer, info.manufacturer_id())
            && eq(&uri.model, info.model())
        {
            matches.push(Token { slot, info });
        }
    }
    let found = if seen.is_empty() {
        "it has no initialized token".to_owned()
    } else {
        format!("its tokens: {}", seen.join(", "))
    };
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(PluginError::validation(format!(
            "no token of the PKCS#11 module {module_shown:?} matches {uri} ({found})"
        ))),
        n => Err(PluginError::validation(format!(
            "{n} tokens of the PKCS#11 module {module_shown:?} match {uri}: add token= or serial= to the key id ({found})"
        ))),
    }
}

/// Opens a read-only session on the token and logs the user in: with `pin`, or
/// through the token's protected authentication path (PIN pad) when it has one. A
/// token that needs a PIN and got none is `ACCESS_DENIED`; so is a wrong PIN.
pub fn open_session(
    module: &Module,
    token: &Token,
    pin: Option<&Pin>,
) -> Result<Session, PluginError> {
    let session = module
        .ctx()
        .open_ro_session(token.slot)
        .map_err(|e| pkcs11_error(&format!("cannot open a session on {}", token.describe()), e))?;
    let login = match pin {
        Some(pin) => session.login_with_raw(UserType::User, pin),
        None if token.info.protected_authentication_path() => session.login(UserType::User, None),
        None if token.info.login_required() => {
            return Err(PluginError::new(
                ErrorCode::AccessDenied,
                format!(
                    "{} requires a login and no PIN was given: add pin-source=file:<path> (or pin-value=) to the key id",
                    token.describe()
                ),
            ));
        }
        None => Ok(()),
    };
    match login {
        Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => Err(pkcs11_error(
            &format!("login to {} failed", token.describe()),
            e,
        )),
    }
}

/// The private key the URI names, with what signing needs.
pub struct Key {
    handle: ObjectHandle,
    /// CKA_ID (may be empty).
    pub id: Vec<u8>,
    /// CKA_LABEL (may be empty).
    pub label: Vec<u8>,
    /// Derived from CKA_KEY_TYPE and CKA_MODULUS / CKA_EC_PARAMS.
    pub spec: KeySpec,
}

/// Finds the one private key matching `object` and `id`, and derives its key spec.
pub fn find_key(session: &Session, token: &Token, uri: &Pkcs11Uri) -> Result<Key, PluginError> {
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.clone()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let found = session
        .find_objects(&template)
        .map_err(|e| pkcs11_error(&format!("cannot search {} for {uri}", token.describe()), e))?;
    let handle = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(PluginError::validation(format!(
                "no private key on {} matches {uri}",
                token.describe()
            )));
        }
        many => {
            return Err(PluginError::validation(format!(
                "{} private keys on {} match {uri}: add object= or id= to the key id to name one",
                many.len(),
                token.describe()
            )));
        }
    };
    let attrs = session
        .get_attributes(
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::Id,
                AttributeType::Label,
            ],
        )
        .map_err(|e| pkcs11_error(&format!("cannot read the key {uri}"), e))?;
    let (mut key_type, mut id, mut label) = (None, Vec::new(), Vec::new());
    for a in attrs {
        match a {
            Attribute::KeyType(t) => key_type = Some(t),
            Attribute::Id(v) => id = v,
            Attribute::Label(v) => label = v,
            _ => {}
        }
    }
    let Some(key_type) = key_type else {
        return Err(PluginError::validation(format!(
            "the key {uri} on {} has no readable CKA_KEY_TYPE",
            token.describe()
        )));
    };
    let spec = if key_type == KeyType::RSA {
        let modulus = key_attribute(session, handle, &id, AttributeType::Modulus)?;
        let bits = modulus.map(|m| bit_length(&m)).unwrap_or(0);
        KeySpec::from_rsa_bits(bits).ok_or_else(|| {
            PluginError::validation(format!(
                "the key {uri} on {} is an RSA key of {bits} bits, which is not supported: use RSA 2048, 3072 or 4096, or EC P-256, P-384 or P-521",
                token.describe()
            ))
        })?
    } else if key_type == KeyType::EC {
        let params =
            key_attribute(session, handle, &id, AttributeType::EcParams)?.unwrap_or_default();
        match params.as_slice() {
            EC_P256 => KeySpec::Ec256,
            EC_P384 => KeySpec::Ec384,
            EC_P521 => KeySpec::Ec521,
            other => {
                return Err(PluginError::validation(format!(
                    "the key {uri} on {} is an EC key on curve {}, which is not supported: use P-256, P-384 or P-521, or RSA 2048, 3072 or 4096",
                    token.describe(),
                    describe_ec_params(other)
                )));
            }
        }
    } else {
        return Err(PluginError::validation(format!(
            "the key {uri} on {} is of type {key_type}, which is not supported: use RSA 2048, 3072 or 4096, or EC P-256, P-384 or P-521",
            token.describe()
        )));
    };
    Ok(Key {
        handle,
        id,
        label,
        spec,
    })
}

/// An attribute of the private key, or else of the public key with the same CKA_ID
/// (some tokens keep CKA_MODULUS or CKA_EC_PARAMS on the public key only).
fn key_attribute(
    session: &Session,
    key: ObjectHandle,
    id: &[u8],
    which: AttributeType,
) -> Result<Option<Vec<u8>>, PluginError> {
    let read = |h: ObjectHandle| -> Result<Option<Vec<u8>>, PluginError> {
        let attrs = session
            .get_attributes(h, &[which])
            .map_err(|e| pkcs11_error(&format!("cannot read {which} of the key"), e))?;
        Ok(attrs.into_iter().find_map(|a| match a {
            Attribute::Modulus(v) | Attribute::EcParams(v) if !v.is_empty() => Some(v),
            _ => None,
        }))
    };
    if let Some(v) = read(key)? {
        return Ok(Some(v));
    }
    if id.is_empty() {
        return Ok(None);
    }
    let publics = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Id(id.to_vec()),
        ])
        .map_err(|e| pkcs11_error("cannot search for the public key", e))?;
    for h in publics {
        if let Some(v) = read(h)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Bits of a big-endian unsigned integer.
pub fn bit_length(n: &[u8]) -> usize {
    let n = &n[n.iter().take_while(|b| **b == 0).count()..];
    match n.first() {
        Some(first) => (n.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

/// A CKA_EC_PARAMS value for messages: the dotted OID of a named curve, else hex.
pub fn describe_ec_params(params: &[u8]) -> String {
    if let [0x06, len, rest @ ..] = params
        && usize::from(*len) == rest.len()
        && !rest.is_empty()
    {
        let mut arcs: Vec<u64> = Vec::new();
        let mut acc: u64 = 0;
        for b in rest {
            acc = (acc << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                if arcs.is_empty() {
                    let first = (acc / 40).min(2);
                    arcs.push(first);
                    arcs.push(acc - first * 40);
                } else {
                    arcs.push(acc);
                }
                acc = 0;
            }
        }
        return arcs
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".");
    }
    if params.is_empty() {
        return "(no CKA_EC_PARAMS)".to_owned();
    }
    format!("with parameters {}", notation_core::hex::encode(params))
}

/// Hashes `payload` on the host with the key spec's hash and signs the digest on the
/// token: RSASSA-PSS (CKM_RSA_PKCS_PSS, MGF1 with the same hash, salt = hash length)
/// or ECDSA (CKM_ECDSA, returned as fixed-width r||s).
pub fn sign(
    session: &Session,
    key: &Key,
    uri: &Pkcs11Uri,
    payload: &[u8],
) -> Result<Vec<u8>, PluginError> {
    let hash = key.spec.hash();
    let digest = hash.digest(payload);
    let mechanism = if key.spec.is_rsa() {
        let (hash_alg, mgf) = match hash {
            HashAlgorithm::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
            HashAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
            HashAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
        };
        let s_len = Ulong::try_from(digest.len())
            .map_err(|e| PluginError::new(ErrorCode::Generic, e.to_string()))?;
        Mechanism::RsaPkcsPss(PkcsPssParams {
            hash_alg,
            mgf,
            s_len,
        })
    } else {
        Mechanism::Ecdsa
    };
    let signature = session
        .sign(&mechanism, key.handle, &digest)
        .map_err(|e| pkcs11_error(&format!("signing with the key {uri} failed"), e))?;
    if key.spec.is_rsa() {
        return Ok(signature);
    }
    let width = match key.spec {
        KeySpec::Ec256 => 32,
        KeySpec::Ec384 => 48,
        _ => 66,
    };
    ecdsa_fixed_width(&signature, width).ok_or_else(|| {
        PluginError::new(
            ErrorCode::Generic,
            format!(
                "the token returned an ECDSA signature of {} bytes for the key {uri}; expected r||s of 2×{width} bytes",
                signature.len()
            ),
        )
    })
}

/// PKCS#11 ECDSA output is `r || s`, each as long as the curve order. Some tokens
/// drop leading zero bytes or answer DER `SEQUENCE { r, s }`; both become `r || s`
/// of `2 * width` bytes. `None` if it is neither.
pub fn ecdsa_fixed_width(sig: &[u8], width: usize) -> Option<Vec<u8>> {
    if sig.len() == 2 * width {
        return Some(sig.to_vec());
    }
    let (r, s) = match der_ecdsa(sig) {
        Some(rs) => rs,
        None if sig.len().is_multiple_of(2) && !sig.is_empty() => sig.split_at(sig.len() / 2),
        None => return None,
    };
    let mut out = Vec::with_capacity(2 * width);
    for half in [r, s] {
        let half = &half[half.iter().take_while(|b| **b == 0).count()..];
        if half.len() > width {
            return None;
        }
        out.extend(std::iter::repeat_n(0, width - half.len()));
        out.extend_from_slice(half);
    }
    Some(out)
}

/// `SEQUENCE { INTEGER r, INTEGER s }` with nothing after it.
fn der_ecdsa(der: &[u8]) -> Option<(&[u8], &[u8])> {
    fn tlv(tag: u8, data: &[u8]) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = data.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            n if n < 0x80 => (usize::from(n), rest),
            0x81 => {
                let (&n, rest) = rest.split_first()?;
                (usize::from(n), rest)
            }
            0x82 => {
                let (bytes, rest) = (rest.get(..2)?, rest.get(2..)?);
                (usize::from(bytes[0]) << 8 | usize::from(bytes[1]), rest)
            }
            _ => return None,
        };
        Some((rest.get(..len)?, rest.get(len..)?))
    }
    let (body, trailing) = tlv(0x30, der)?;
    if !trailing.is_empty() {
        return None;
    }
    let (r, rest) = tlv(0x02, body)?;
    let (s, rest) = tlv(0x02, rest)?;
    rest.is_empty().then_some((r, s))
}

/// Reads the certificate chain from the token: the X.509 certificate object with the
/// key's CKA_ID (or, for a key without one, its CKA_LABEL), then each issuer, found
/// by CKA_SUBJECT = the certificate's issuer name (or, when no object carries that
/// CKA_SUBJECT, by the subject in CKA_VALUE), up to a self-issued certificate.
/// Returns DER, leaf first.
pub fn chain_from_token(
    session: &Session,
    token: &Token,
    key: &Key,
    uri: &Pkcs11Uri,
) -> Result<Vec<Vec<u8>>, PluginError> {
    let hint = "store the certificates on the token or set --plugin-config chain=<PEM file>";
    let mut template = vec![
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
    ];
    let which = if !key.id.is_empty() {
        template.push(Attribute::Id(key.id.clone()));
        format!("CKA_ID {}", notation_core::hex::encode(&key.id))
    } else if !key.label.is_empty() {
        template.push(Attribute::Label(key.label.clone()));
        format!("CKA_LABEL {:?}", String::from_utf8_lossy(&key.label))
    } else {
        return Err(PluginError::validation(format!(
            "the key {uri} has neither CKA_ID nor CKA_LABEL, so its certificate cannot be found on {}: set --plugin-config chain=<PEM file>",
            token.describe()
        )));
    };
    let leaves = certificate_values(session, &template)?;
    let leaf = match leaves.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(PluginError::validation(format!(
                "no X.509 certificate on {} has the {which} of the key {uri}: {hint}",
                token.describe()
            )));
        }
        many => {
            return Err(PluginError::validation(format!(
                "{} X.509 certificates on {} have the {which} of the key {uri}: remove the stale ones or set --plugin-config chain=<PEM file>",
                many.len(),
                token.describe()
            )));
        }
    };
    let mut chain = vec![leaf];
    let mut seen: HashSet<Vec<u8>> = chain.iter().cloned().collect();
    let mut all_certs: Option<Vec<Vec<u8>>> = None;
    loop {
        let current_der = chain
            .last()
            .expect("the chain starts with the leaf")
            .clone();
        let current = parse_cert(&current_der, token)?;
        if current.is_self_issued() {
            break;
        }
        if chain.len() >= MAX_CHAIN {
            return Err(PluginError::validation(format!(
                "the certificate chain on {} is longer than {MAX_CHAIN} certificates: set --plugin-config chain=<PEM file>",
                token.describe()
            )));
        }
        let issuer_name = raw_issuer(&current_der, token)?;
        let mut candidates = certificate_values(
            session,
            &[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                Attribute::Subject(issuer_name.clone()),
            ],
        )?;
        if candidates.is_empty() {
            // Objects without (or with a differently encoded) CKA_SUBJECT.
            if all_certs.is_none() {
                all_certs = Some(certificate_values(
                    session,
                    &[
                        Attribute::Class(ObjectClass::CERTIFICATE),
                        Attribute::CertificateType(CertificateType::X_509),
                    ],
                )?);
            }
            candidates = all_certs
                .iter()
                .flatten()
                .filter(|der| raw_subject(der).is_some_and(|s| s == issuer_name))
                .cloned()
                .collect();
        }
        let issuer = candidates.into_iter().find(|der| {
            Certificate::from_der(der).is_ok_and(|c| current.is_signed_by(&c).unwrap_or(false))
        });
        let Some(issuer) = issuer else {
            return Err(PluginError::validation(format!(
                "the issuer {:?} of the certificate {:?} is not on {}: {hint}",
                current.issuer,
                current.subject,
                token.describe()
            )));
        };
        if !seen.insert(issuer.clone()) {
            break;
        }
        chain.push(issuer);
    }
    Ok(chain)
}

/// CKA_VALUE of every object matching `template`.
fn certificate_values(
    session: &Session,
    template: &[Attribute],
) -> Result<Vec<Vec<u8>>, PluginError> {
    let handles = session
        .find_objects(template)
        .map_err(|e| pkcs11_error("cannot search the token for certificates", e))?;
    let mut out = Vec::new();
    for h in handles {
        let attrs = session
            .get_attributes(h, &[AttributeType::Value])
            .map_err(|e| pkcs11_error("cannot read a certificate from the token", e))?;
        out.extend(attrs.into_iter().find_map(|a| match a {
            Attribute::Value(v) if !v.is_empty() => Some(v),
            _ => None,
        }));
    }
    Ok(out)
}

fn parse_cert(der: &[u8], token: &Token) -> Result<Certificate, PluginError> {
    Certificate::from_der(der).map_err(|e| {
        PluginError::validation(format!(
            "a certificate object on {} is not a valid X.509 certificate: {e}",
            token.describe()
        ))
    })
}

fn raw_subject(der: &[u8]) -> Option<Vec<u8>> {
    X509Certificate::from_der(der)
        .ok()
        .map(|(_, c)| c.subject().as_raw().to_vec())
}

fn raw_issuer(der: &[u8], token: &Token) -> Result<Vec<u8>, PluginError> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c.issuer().as_raw().to_vec())
        .map_err(|e| {
            PluginError::validation(format!(
                "a certificate object on {} is not a valid X.509 certificate: {e}",
                token.describe()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        let mut m = vec![0xc5u8];
        m.extend(vec![0u8; 255]);
        assert_eq!(bit_length(&m), 2048);
    }

    #[test]
    fn ec_params_are_named() {
        assert_eq!(describe_ec_params(EC_P256), "1.2.840.10045.3.1.7");
        assert_eq!(describe_ec_params(EC_P521), "1.3.132.0.35");
        // secp256k1
        assert_eq!(
            describe_ec_params(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a]),
            "1.3.132.0.10"
        );
        assert_eq!(describe_ec_params(&[0x05, 0x00]), "with parameters 0500");
        assert_eq!(describe_ec_params(&[]), "(no CKA_EC_PARAMS)");
    }

    #[test]
    fn ecdsa_signatures_become_fixed_width() {
        let raw: Vec<u8> = (1..=64).collect();
        assert_eq!(ecdsa_fixed_width(&raw, 32), Some(raw.clone()));
        // Short halves are left-padded.
        let short: Vec<u8> = (1..=62).collect();
        let fixed = ecdsa_fixed_width(&short, 32).unwrap();
        assert_eq!(fixed.len(), 64);
        assert_eq!(&fixed[..2], &[0, 1]);
        assert_eq!(&fixed[32..34], &[0, 32]);
        // DER SEQUENCE { r, s } with a sign byte on r and a short s.
        let mut r = vec![0x00, 0x80];
        r.extend(vec![0x11; 31]);
        let s = vec![0x22; 31];
        let mut body = vec![0x02, r.len() as u8];
        body.extend(&r);
        body.extend([0x02, s.len() as u8]);
        body.extend(&s);
        let mut der = vec![0x30, body.len() as u8];
        der.extend(&body);
        let fixed = ecdsa_fixed_width(&der, 32).unwrap();
        assert_eq!(fixed[0], 0x80);
        assert_eq!(&fixed[1..32], &[0x11; 31][..]);
        assert_eq!(fixed[32], 0);
        assert_eq!(&fixed[33..], &[0x22; 31][..]);
        // P-521: 66-byte halves, DER with a long-form length.
        let r = vec![0x01; 66];
        let s = vec![0x01; 66];
        let mut body = vec![0x02, 66];
        body.extend(&r);
        body.extend([0x02, 66]);
        body.extend(&s);
        let mut der = vec![0x30, 0x81, body.len() as u8];
        der.extend(&body);
        assert_eq!(ecdsa_fixed_width(&der, 66).unwrap(), [r, s].concat());
        // Too long, odd garbage.
        assert_eq!(ecdsa_fixed_width(&[1u8; 70], 32), None);
        assert_eq!(ecdsa_fixed_width(&[1u8; 7], 32), None);
    }
}
