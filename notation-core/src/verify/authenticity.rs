//! Authenticity (spec §4.10, §2.7): the certificate chain follows the chain rules
//! at the signing time, one of its certificates is in a trust store the statement
//! names for the signature's signing scheme (`ca` for `notary.x509`,
//! `signingAuthority` for `notary.x509.signingAuthority`), and the leaf's subject
//! matches a trusted identity.

use crate::cert::Certificate;
use crate::chain::validate_signing_chain;
use crate::dn::DistinguishedName;
use crate::envelope::{SCHEME_X509, SCHEME_X509_SIGNING_AUTHORITY, SignerInfo};
use crate::policy::{Statement, TrustedIdentities};
use crate::trust_store::StoreType;

use super::TrustAnchors;

/// The store type whose certificates anchor `scheme`.
pub fn store_type_for(scheme: &str) -> Option<StoreType> {
    match scheme {
        SCHEME_X509 => Some(StoreType::Ca),
        SCHEME_X509_SIGNING_AUTHORITY => Some(StoreType::SigningAuthority),
        _ => None,
    }
}

pub(super) fn check(
    statement: &Statement,
    anchors: &TrustAnchors,
    info: &SignerInfo,
) -> Result<(), String> {
    let chain = &info.certificate_chain;
    let signing_time = info.signing_time.or(info.authentic_signing_time);
    validate_signing_chain(chain, signing_time).map_err(|e| e.to_string())?;
    let store_type = store_type_for(&info.signing_scheme)
        .ok_or_else(|| format!("unsupported signing scheme {:?}", info.signing_scheme))?;
    let trusted = anchors.of(store_type);
    if trusted.is_empty() {
        return Err(format!(
            "trust policy statement {:?} names no trust store of type {store_type} with certificates, which the {} signing scheme needs",
            statement.name, info.signing_scheme
        ));
    }
    if !chain.iter().any(|c| trusted.contains(c)) {
        return Err("signature is not produced by a trusted signer".into());
    }
    check_identity(statement, chain)
}

fn check_identity(statement: &Statement, chain: &[Certificate]) -> Result<(), String> {
    let subjects = match &statement.trusted_identities {
        TrustedIdentities::Any => return Ok(()),
        TrustedIdentities::Subjects(s) => s,
    };
    let leaf = chain.first().ok_or("the certificate chain is empty")?;
    let leaf_dn = DistinguishedName::of_subject(leaf)?;
    if subjects.iter().any(|s| s.dn.is_subset_of(&leaf_dn)) {
        return Ok(());
    }
    let listed: Vec<&str> = subjects.iter().map(|s| s.raw.as_str()).collect();
    Err(format!(
        "signing certificate from the digital signature (subject {:?}) does not match the X.509 trusted identities {listed:?} defined in the trust policy {:?}",
        leaf.subject, statement.name
    ))
}
