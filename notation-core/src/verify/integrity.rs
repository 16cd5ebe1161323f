//! Integrity (spec §2.3/§2.4 "Verification", §4.10): the envelope parses with the
//! signature manifest layer's media type, the signature verifies with the leaf key,
//! the algorithm is the leaf key's, the content type is the Notary payload, the
//! critical headers follow the rules, and every critical extended attribute is one
//! this verifier processes (spec §2.2; notation-go only enforces this for plugin
//! attributes).

use crate::envelope::{self, EnvelopeContent, SignatureFormat};
use crate::payload::Payload;

/// Extended attribute naming a verification plugin (spec §1.11).
pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";

/// Checks integrity; returns the content and the parsed payload.
pub(super) fn check(media_type: &str, bytes: &[u8]) -> Result<(EnvelopeContent, Payload), String> {
    let format = SignatureFormat::from_media_type(media_type).ok_or_else(|| {
        format!("signature envelope format with media type {media_type:?} is not supported")
    })?;
    let content = envelope::verify(format, bytes).map_err(|e| e.to_string())?;
    let info = &content.signer_info;
    if let Some(plugin) = info.extended.iter().find(|a| a.key == VERIFICATION_PLUGIN) {
        return Err(format!(
            "the signature requires the verification plugin {:?} ({VERIFICATION_PLUGIN}); verification plugins are not supported by this version",
            plugin.value
        ));
    }
    if let Some(unknown) = info.extended.iter().find(|a| a.critical) {
        return Err(format!(
            "the signature has the critical attribute {:?}, which this verifier does not process",
            unknown.key
        ));
    }
    let payload = Payload::parse(&content.payload)
        .map_err(|e| format!("the signed payload is not a Notary payload: {e}"))?;
    Ok((content, payload))
}
