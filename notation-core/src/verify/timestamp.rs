//! Authentic signing time (spec §2.5, §2.8, §4.10 "authenticTimestamp").
//!
//! * `notary.x509.signingAuthority`: the authentic signing time must lie within
//!   every chain certificate's validity.
//! * `notary.x509`: when the statement names a `tsa` store and `verifyTimestamp`
//!   asks for it (`always`, or `afterCertExpiry` with an expired certificate), the
//!   RFC 3161 countersignature must be verified. This version does not implement
//!   RFC 3161 verification, so that case always fails (a signature is never
//!   accepted on an unverified timestamp). Otherwise every chain certificate must be
//!   valid now.

use crate::envelope::{SCHEME_X509_SIGNING_AUTHORITY, SignerInfo};
use crate::policy::{Statement, VerifyTimestamp};
use crate::timefmt::format_rfc3339;
use crate::trust_store::StoreType;

pub(super) fn check(statement: &Statement, info: &SignerInfo, now: i64) -> Result<(), String> {
    let chain = &info.certificate_chain;
    if info.signing_scheme == SCHEME_X509_SIGNING_AUTHORITY {
        let t = info
            .authentic_signing_time
            .ok_or("the signature has no authentic signing time")?;
        if let Some(c) = chain.iter().find(|c| t < c.not_before || t > c.not_after) {
            return Err(format!(
                "certificate {:?} was not valid when the digital signature was produced at {}",
                c.subject,
                format_rfc3339(t)
            ));
        }
        return Ok(());
    }
    let tsa_configured = statement.stores_of(StoreType::Tsa).next().is_some();
    let expired = chain.iter().any(|c| now > c.not_after);
    let verify_timestamp =
        tsa_configured && (statement.verify_timestamp == VerifyTimestamp::Always || expired);
    if verify_timestamp {
        return match &info.timestamp_signature {
            None => Err("no timestamp countersignature was found in the signature envelope".into()),
            Some(token) => Err(format!(
                "the RFC 3161 timestamp countersignature ({} bytes) cannot be verified: timestamp verification is not supported by this version; without a tsa trust store in trust policy statement {:?} the signing certificates must instead be valid now",
                token.len(),
                statement.name
            )),
        };
    }
    for c in chain {
        if now < c.not_before {
            return Err(format!(
                "verification time is before certificate {:?} validity period, it will be valid from {}",
                c.subject,
                format_rfc3339(c.not_before)
            ));
        }
        if now > c.not_after {
            return Err(format!(
                "certificate {:?} is not valid anymore, it was expired at {}",
                c.subject,
                format_rfc3339(c.not_after)
            ));
        }
    }
    Ok(())
}
