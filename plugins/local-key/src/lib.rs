//! # notation-local-key
//!
//! The reference `SIGNATURE_GENERATOR.RAW` plugin, written with the SDK of
//! `plugin-protocol`. It signs with a key held in files, so it needs no KMS and shows
//! the whole contract end to end.
//!
//! The key id is a path prefix: the private key is `<keyId>.key` (PEM: PKCS#8,
//! SEC1 or PKCS#1) and the certificate chain `<keyId>.crt` (PEM, leaf first). That is
//! the layout `notation cert generate-test <name>` writes to
//! `$NOTATION_CONFIG/localkeys/<name>.{key,crt}`, so
//! `--id $NOTATION_CONFIG/localkeys/<name>` signs with such a key. A relative key id
//! is relative to the working directory notation runs in (plugins inherit it).
//!
//! The functions here are public so other plugins (the test plugin) sign the same
//! way.

use std::path::PathBuf;

use notation_core::KeySpec;
use notation_core::local_key::LocalKey;
use notation_core::signer::RawSigner as _;
use plugin_protocol::plugin::SignPlugin;
use plugin_protocol::wire::{
    Base64Bytes, CONTRACT_VERSION, Capability, DescribeKeyRequest, DescribeKeyResponse, ErrorCode,
    GenerateSignatureRequest, GenerateSignatureResponse, GetMetadataRequest, GetMetadataResponse,
    PluginError,
};

/// The plugin name: the executable is `notation-local-key` in `plugins/local-key/`.
pub const NAME: &str = "local-key";

/// The private key and certificate chain files of a key id: `<keyId>.key`,
/// `<keyId>.crt`.
pub fn key_paths(key_id: &str) -> (PathBuf, PathBuf) {
    (
        PathBuf::from(format!("{key_id}.key")),
        PathBuf::from(format!("{key_id}.crt")),
    )
}

/// Loads the key of `key_id`. Every failure is a `VALIDATION_ERROR` (the key for the
/// key id is not usable) naming the file.
pub fn load_key(key_id: &str) -> Result<LocalKey, PluginError> {
    if key_id.is_empty() {
        return Err(PluginError::validation(
            "keyId is empty: expected the path prefix of <keyId>.key and <keyId>.crt",
        ));
    }
    let (key_path, crt_path) = key_paths(key_id);
    let read = |p: &PathBuf, what: &str| {
        std::fs::read(p).map_err(|e| {
            PluginError::validation(format!(
                "cannot read the {what} {:?}: {e}",
                p.display().to_string()
            ))
        })
    };
    let key_pem = read(&key_path, "private key")?;
    let crt_pem = read(&crt_path, "certificate chain")?;
    LocalKey::from_pem(&key_pem, &crt_pem).map_err(|e| {
        PluginError::validation(format!(
            "cannot load the key {:?} with the certificate chain {:?}: {e}",
            key_path.display().to_string(),
            crt_path.display().to_string()
        ))
    })
}

/// The key spec of a loaded key.
pub fn key_spec_of(key: &LocalKey) -> Result<KeySpec, PluginError> {
    key.key_spec()
        .map_err(|e| PluginError::new(ErrorCode::Generic, e.to_string()))
}

/// `describe-key`: the key's spec, echoing the key id.
pub fn describe_key(req: &DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
    let key = load_key(&req.key_id)?;
    Ok(DescribeKeyResponse {
        key_id: req.key_id.clone(),
        key_spec: key_spec_of(&key)?.to_string(),
    })
}

/// Checks that `keySpec` and `hashAlgorithm` of a `generate-signature` request are the
/// key's; returns the key spec.
pub fn check_signature_request(
    key: &LocalKey,
    req: &GenerateSignatureRequest,
) -> Result<KeySpec, PluginError> {
    let actual = key_spec_of(key)?;
    let requested: KeySpec = req
        .key_spec
        .parse()
        .map_err(|_| PluginError::validation(format!("unsupported keySpec {:?}", req.key_spec)))?;
    if requested != actual {
        let (key_path, _) = key_paths(&req.key_id);
        return Err(PluginError::validation(format!(
            "keySpec {:?} does not match the key {:?}, whose key spec is {:?}",
            req.key_spec,
            key_path.display().to_string(),
            actual.as_str()
        )));
    }
    if req.hash_algorithm != actual.hash().as_str() {
        return Err(PluginError::validation(format!(
            "hashAlgorithm {:?} does not match keySpec {:?}, which signs with {:?}",
            req.hash_algorithm,
            actual.as_str(),
            actual.hash().as_str()
        )));
    }
    Ok(actual)
}

/// `generate-signature`: hashes and signs the payload with the key, and returns the
/// signature, the key spec's signing algorithm and the DER chain (leaf first).
pub fn generate_signature(
    req: &GenerateSignatureRequest,
) -> Result<GenerateSignatureResponse, PluginError> {
    let key = load_key(&req.key_id)?;
    let spec = check_signature_request(&key, req)?;
    let raw = key
        .sign(spec, &req.payload.0)
        .map_err(|e| PluginError::new(ErrorCode::Generic, format!("signing failed: {e}")))?;
    Ok(GenerateSignatureResponse {
        key_id: req.key_id.clone(),
        signature: Base64Bytes(raw.signature),
        signing_algorithm: raw.algorithm.to_string(),
        certificate_chain: raw.certificate_chain.into_iter().map(Base64Bytes).collect(),
    })
}

/// The plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalKeyPlugin;

impl SignPlugin for LocalKeyPlugin {
    fn metadata(&self, _: &GetMetadataRequest) -> GetMetadataResponse {
        GetMetadataResponse {
            name: NAME.into(),
            description: "Signs with a PEM private key and certificate chain in files: keyId is the path prefix of <keyId>.key and <keyId>.crt".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            url: "https://github.com/notaryproject/specifications/blob/main/specs/plugin-extensibility.md".into(),
            supported_contract_versions: vec![CONTRACT_VERSION.into()],
            capabilities: vec![Capability::SignatureGeneratorRaw],
        }
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        describe_key(&req)
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        generate_signature(&req)
    }
}
