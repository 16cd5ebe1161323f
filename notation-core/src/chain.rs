//! Certificate chain rules for signing (spec §2.7, "code-signing chain").
//!
//! The chain is ordered leaf → intermediates → root, each issued by the next, and
//! ends in a self-signed root; a single self-signed certificate is a whole chain and
//! is then checked as a leaf. Only basicConstraints, keyUsage and extendedKeyUsage are
//! evaluated. Where notation-go is laxer than the spec (CA basicConstraints
//! criticality, `anyExtendedKeyUsage` on the leaf), the spec wins.

use crate::algorithm::KeySpec;
use crate::cert::{Certificate, KeyKind, KeyUsageBit};
use crate::error::{Error, Result};
use crate::timefmt::format_rfc3339;

fn invalid(msg: String) -> Error {
    Error::InvalidChain(msg)
}

/// Validates a signing certificate chain. With `signing_time` (Unix seconds), every
/// certificate must be valid at that time. Returns the leaf's key spec.
pub fn validate_signing_chain(chain: &[Certificate], signing_time: Option<i64>) -> Result<KeySpec> {
    let Some(leaf) = chain.first() else {
        return Err(invalid("the certificate chain is empty".into()));
    };
    for cert in chain {
        if let Some(t) = signing_time {
            check_validity_at(cert, t)?;
        }
        check_key_size(cert)?;
    }
    if chain.len() == 1 {
        if !leaf.is_self_issued() {
            return Err(invalid(format!(
                "invalid self-signed certificate. subject: {:?}. Error: issuer ({}) and subject ({}) are not the same",
                leaf.subject, leaf.issuer, leaf.subject
            )));
        }
        if !leaf.is_signed_by(leaf)? {
            return Err(invalid(format!(
                "invalid self-signed certificate. subject: {:?}. Error: the certificate's signature does not verify with its own key",
                leaf.subject
            )));
        }
        return validate_leaf(leaf);
    }
    for (i, pair) in chain.windows(2).enumerate() {
        let (cert, parent) = (&pair[0], &pair[1]);
        if cert.is_self_issued() && cert.is_signed_by(cert)? {
            let role = if i == 0 { "leaf" } else { "intermediate" };
            return Err(invalid(format!(
                "{role} certificate with subject {:?} is self-signed. Certificate chain must not contain self-signed {role} certificate",
                cert.subject
            )));
        }
        if !cert.names_issuer(parent) || !cert.is_signed_by(parent)? {
            return Err(invalid(format!(
                "invalid certificates or certificate with subject {:?} is not issued by {:?}. Certificates must be ordered leaf first, each issued by the next",
                cert.subject, parent.subject
            )));
        }
    }
    let root = &chain[chain.len() - 1];
    if !root.is_self_issued() || !root.is_signed_by(root)? {
        return Err(invalid(format!(
            "root certificate with subject {:?} is not self-signed. Certificate chain must end with a valid self-signed root certificate",
            root.subject
        )));
    }
    for (i, ca) in chain.iter().enumerate().skip(1) {
        validate_ca(ca, i - 1)?;
    }
    validate_leaf(leaf)
}

fn check_validity_at(cert: &Certificate, t: i64) -> Result<()> {
    if t < cert.not_before || t > cert.not_after {
        return Err(invalid(format!(
            "certificate with subject {:?} was invalid at signing time of {}. Certificate is valid from [{}] to [{}]",
            cert.subject,
            format_rfc3339(t),
            format_rfc3339(cert.not_before),
            format_rfc3339(cert.not_after)
        )));
    }
    Ok(())
}

fn check_key_size(cert: &Certificate) -> Result<()> {
    let too_small = match &cert.key_kind {
        KeyKind::Rsa { bits } => {
            (*bits < 2048).then(|| format!("RSA key of {bits} bits is below 2048 bits"))
        }
        KeyKind::Ec { bits, .. } => {
            (*bits < 256).then(|| format!("EC key of {bits} bits is below 256 bits"))
        }
        KeyKind::Other(oid) => Some(format!("key algorithm {oid} is not RSA or EC")),
    };
    match too_small {
        Some(why) => Err(invalid(format!(
            "certificate with subject {:?}: {why}",
            cert.subject
        ))),
        None => Ok(()),
    }
}

fn validate_ca(cert: &Certificate, expected_path_len: usize) -> Result<()> {
    let subject = &cert.subject;
    match &cert.basic_constraints {
        Some(bc) if bc.critical && bc.value.ca => {
            if let Some(max) = bc.value.path_len
                && expected_path_len > max as usize
            {
                return Err(invalid(format!(
                    "certificate with subject {subject:?}: expected path length of {expected_path_len} but certificate has maximum path length {max}"
                )));
            }
        }
        _ => {
            return Err(invalid(format!(
                "certificate with subject {subject:?}: ca field in basic constraints must be present, critical, and set to true"
            )));
        }
    }
    match &cert.key_usage {
        Some(ku) if ku.critical => {}
        Some(_) => {
            return Err(invalid(format!(
                "certificate with subject {subject:?}: key usage extension must be marked critical"
            )));
        }
        None => {
            return Err(invalid(format!(
                "certificate with subject {subject:?}: key usage extension must be present"
            )));
        }
    }
    if !cert.has_key_usage(KeyUsageBit::KeyCertSign) {
        return Err(invalid(format!(
            "certificate with subject {subject:?}: key usage must have the bit positions for key cert sign set"
        )));
    }
    Ok(())
}

fn validate_leaf(cert: &Certificate) -> Result<KeySpec> {
    let subject = &cert.subject;
    if cert
        .basic_constraints
        .as_ref()
        .is_some_and(|bc| bc.value.ca)
    {
        return Err(invalid(format!(
            "certificate with subject {subject:?}: if the basic constraints extension is present, the ca field must be set to false"
        )));
    }
    match &cert.key_usage {
        Some(ku) if ku.critical => {}
        Some(_) => {
            return Err(invalid(format!(
                "certificate with subject {subject:?}: key usage extension must be marked critical"
            )));
        }
        None => {
            return Err(invalid(format!(
                "certificate with subject {subject:?}: key usage extension must be present with the digital signature bit set"
            )));
        }
    }
    if !cert.has_key_usage(KeyUsageBit::DigitalSignature) {
        return Err(invalid(format!(
            "certificate with subject {subject:?}: key usage must have the bit positions for digital signature set"
        )));
    }
    let forbidden_ku = [
        (KeyUsageBit::KeyEncipherment, "KeyEncipherment"),
        (KeyUsageBit::DataEncipherment, "DataEncipherment"),
        (KeyUsageBit::KeyAgreement, "KeyAgreement"),
        (KeyUsageBit::KeyCertSign, "CertSign"),
        (KeyUsageBit::CrlSign, "CRLSign"),
        (KeyUsageBit::EncipherOnly, "EncipherOnly"),
        (KeyUsageBit::DecipherOnly, "DecipherOnly"),
    ];
    let set: Vec<&str> = forbidden_ku
        .iter()
        .filter(|(bit, _)| cert.has_key_usage(*bit))
        .map(|(_, name)| *name)
        .collect();
    if !set.is_empty() {
        return Err(invalid(format!(
            "certificate with subject {subject:?}: key usage must not have the bit positions for {set:?} set"
        )));
    }
    if let Some(eku) = &cert.extended_key_usage {
        let e = &eku.value;
        let forbidden = [
            (e.any, "AnyExtendedKeyUsage"),
            (e.server_auth, "ServerAuth"),
            (e.client_auth, "ClientAuth"),
            (e.email_protection, "EmailProtection"),
            (e.time_stamping, "TimeStamping"),
            (e.ocsp_signing, "OCSPSigning"),
        ];
        if let Some((_, name)) = forbidden.iter().find(|(present, _)| *present) {
            return Err(invalid(format!(
                "certificate with subject {subject:?}: extended key usage must not contain {name} eku"
            )));
        }
    }
    cert.key_spec().map_err(|e| {
        invalid(format!(
            "certificate with subject {subject:?}: unsupported signing key: {e}"
        ))
    })
}
