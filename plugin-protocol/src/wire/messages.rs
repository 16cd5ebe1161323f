//! Requests and responses of the signing commands (notary-spec.md §1.7–§1.10). Field
//! order is the order notation emits. Optional fields are left out when empty:
//! `pluginConfig` when there is none, `expiryDurationInSeconds` when not set. Unknown
//! fields are ignored when reading, so newer peers keep working.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::base64::Base64Bytes;
use super::capability::Capability;

/// The only contract version.
pub const CONTRACT_VERSION: &str = "1.0";

/// Plugin configuration (`--plugin-config`, `pluginConfig` of a key).
pub type PluginConfig = BTreeMap<String, String>;

fn is_empty(c: &PluginConfig) -> bool {
    c.is_empty()
}

/// `get-plugin-metadata` request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetMetadataRequest {
    /// OPTIONAL. Plugin configuration.
    #[serde(rename = "pluginConfig", default, skip_serializing_if = "is_empty")]
    pub plugin_config: PluginConfig,
}

/// `get-plugin-metadata` response: every field is REQUIRED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetMetadataResponse {
    /// Must equal the plugin's directory name.
    pub name: String,
    /// Non-empty description.
    pub description: String,
    /// Version (SemVer).
    pub version: String,
    /// Project URL.
    pub url: String,
    /// Must contain "1.0".
    #[serde(rename = "supportedContractVersions")]
    pub supported_contract_versions: Vec<String>,
    /// Non-empty list of capabilities.
    pub capabilities: Vec<Capability>,
}

impl GetMetadataResponse {
    /// notation's metadata checks, with its messages (§1.7).
    pub fn validate(&self) -> Result<(), String> {
        let empty = [
            (self.name.is_empty(), "empty name"),
            (self.description.is_empty(), "empty description"),
            (self.version.is_empty(), "empty version"),
            (self.url.is_empty(), "empty url"),
            (self.capabilities.is_empty(), "empty capabilities"),
            (
                self.supported_contract_versions.is_empty(),
                "supported contract versions not specified",
            ),
        ];
        if let Some((_, msg)) = empty.iter().find(|(bad, _)| *bad) {
            return Err((*msg).to_owned());
        }
        if !self
            .supported_contract_versions
            .iter()
            .any(|v| v == CONTRACT_VERSION)
        {
            // Go's %v of a []string: [0.9 2.0]
            return Err(format!(
                "contract version \"{CONTRACT_VERSION}\" is not in the list of the plugin supported versions [{}]",
                self.supported_contract_versions.join(" ")
            ));
        }
        Ok(())
    }

    /// True when the plugin advertises `c`.
    pub fn has(&self, c: &Capability) -> bool {
        self.capabilities.contains(c)
    }
}

/// `describe-key` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribeKeyRequest {
    /// REQUIRED. "1.0".
    #[serde(rename = "contractVersion")]
    pub contract_version: String,
    /// REQUIRED. The key id.
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// OPTIONAL. Plugin configuration.
    #[serde(rename = "pluginConfig", default, skip_serializing_if = "is_empty")]
    pub plugin_config: PluginConfig,
}

/// `describe-key` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribeKeyResponse {
    /// REQUIRED. Must echo the request.
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// REQUIRED. One of the six key specs.
    #[serde(rename = "keySpec")]
    pub key_spec: String,
}

/// `generate-signature` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateSignatureRequest {
    /// REQUIRED. "1.0".
    #[serde(rename = "contractVersion")]
    pub contract_version: String,
    /// REQUIRED. The key id.
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// REQUIRED. Key spec from describe-key.
    #[serde(rename = "keySpec")]
    pub key_spec: String,
    /// REQUIRED. Hash the plugin must use.
    #[serde(rename = "hashAlgorithm")]
    pub hash_algorithm: String,
    /// REQUIRED. The complete bytes to sign (not a digest).
    pub payload: Base64Bytes,
    /// OPTIONAL. Plugin configuration.
    #[serde(rename = "pluginConfig", default, skip_serializing_if = "is_empty")]
    pub plugin_config: PluginConfig,
}

/// `generate-signature` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateSignatureResponse {
    /// REQUIRED. Must echo the request.
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// REQUIRED. RSASSA-PSS, or ECDSA r||s.
    pub signature: Base64Bytes,
    /// REQUIRED. Must be the key spec's algorithm.
    #[serde(rename = "signingAlgorithm")]
    pub signing_algorithm: String,
    /// REQUIRED. DER certificates, leaf first.
    #[serde(rename = "certificateChain")]
    pub certificate_chain: Vec<Base64Bytes>,
}

/// `generate-envelope` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateEnvelopeRequest {
    /// REQUIRED. "1.0".
    #[serde(rename = "contractVersion")]
    pub contract_version: String,
    /// REQUIRED. The key id.
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// REQUIRED. `application/vnd.cncf.notary.payload.v1+json`.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// REQUIRED. `application/jose+json` or `application/cose`.
    #[serde(rename = "signatureEnvelopeType")]
    pub signature_envelope_type: String,
    /// REQUIRED. The Notary payload JSON.
    pub payload: Base64Bytes,
    /// OPTIONAL. Present only with `--expiry`.
    #[serde(
        rename = "expiryDurationInSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiry_duration_in_seconds: Option<u64>,
    /// OPTIONAL. Plugin configuration.
    #[serde(rename = "pluginConfig", default, skip_serializing_if = "is_empty")]
    pub plugin_config: PluginConfig,
}

/// `generate-envelope` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateEnvelopeResponse {
    /// REQUIRED. The envelope.
    #[serde(rename = "signatureEnvelope")]
    pub signature_envelope: Base64Bytes,
    /// REQUIRED. Must equal the request's.
    #[serde(rename = "signatureEnvelopeType")]
    pub signature_envelope_type: String,
    /// OPTIONAL. Added to the signature manifest's annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}
