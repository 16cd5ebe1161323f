//! # notation-pkcs11
//!
//! A `SIGNATURE_GENERATOR.RAW` plugin (name `pkcs11`, executable `notation-pkcs11`)
//! that signs with a private key held in a PKCS#11 token: an HSM, a smart card, a
//! cloud HSM's PKCS#11 library, or SoftHSM2. Written with the SDK of
//! `plugin-protocol`; cryptoki loads the vendor's module and wraps its C API.
//!
//! * **Key id**: an RFC 7512 PKCS#11 URI ([`uri`]), e.g.
//!   `pkcs11:token=prod;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin`.
//! * **Plugin config**: `module=<path>` names the module when the URI has no
//!   `module-path` (the URI wins when both are given); `chain=<PEM file>` is the
//!   certificate chain, leaf first. Without `chain`, the chain is read from the token
//!   ([`token::chain_from_token`]). Other keys are refused.
//! * **describe-key**: the key spec from the key's attributes (RSA modulus bits, EC
//!   curve OID).
//! * **generate-signature**: hashes on the host, signs the digest with
//!   CKM_RSA_PKCS_PSS or CKM_ECDSA ([`token::sign`]).
//!
//! Each command is one process: the module is loaded and initialized once, used,
//! and finalized when the command returns; the session is closed before that, on
//! every path.

pub mod error;
pub mod token;
pub mod uri;

use std::path::PathBuf;

use notation_core::KeySpec;
use notation_core::cert::Certificate;
use plugin_protocol::plugin::SignPlugin;
use plugin_protocol::wire::{
    Base64Bytes, CONTRACT_VERSION, Capability, DescribeKeyRequest, DescribeKeyResponse,
    GenerateSignatureRequest, GenerateSignatureResponse, GetMetadataRequest, GetMetadataResponse,
    PluginConfig, PluginError,
};

use crate::token::{Key, Module, Token};
use crate::uri::Pkcs11Uri;

/// The plugin name: the executable is `notation-pkcs11` in `plugins/pkcs11/`.
pub const NAME: &str = "pkcs11";

/// `pluginConfig` key naming the PKCS#11 module (when the URI has no `module-path`).
pub const CONFIG_MODULE: &str = "module";
/// `pluginConfig` key naming a PEM file with the certificate chain, leaf first.
pub const CONFIG_CHAIN: &str = "chain";

/// What a command needs before it touches the token.
struct Target {
    uri: Pkcs11Uri,
    module: PathBuf,
}

/// Checks the plugin config and parses the key id.
fn target(key_id: &str, config: &PluginConfig) -> Result<Target, PluginError> {
    let unknown: Vec<&str> = config
        .keys()
        .map(String::as_str)
        .filter(|k| *k != CONFIG_MODULE && *k != CONFIG_CHAIN)
        .collect();
    if !unknown.is_empty() {
        return Err(PluginError::validation(format!(
            "unknown pluginConfig key{} {}: the pkcs11 plugin takes {CONFIG_MODULE}=<module path> and {CONFIG_CHAIN}=<PEM file>",
            if unknown.len() == 1 { "" } else { "s" },
            unknown
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let uri = Pkcs11Uri::parse(key_id)?;
    let module = match (&uri.module_path, config.get(CONFIG_MODULE)) {
        (Some(p), _) => p.clone(),
        (None, Some(m)) if !m.is_empty() => PathBuf::from(m),
        _ => {
            return Err(PluginError::validation(format!(
                "no PKCS#11 module for {uri}: add module-path=<path> to the key id or pass --plugin-config {CONFIG_MODULE}=<path>"
            )));
        }
    };
    Ok(Target { uri, module })
}

/// Loads the module, selects the token, logs in and finds the key, then runs `f`.
/// The session is closed before the module is finalized, whatever `f` returns.
fn with_key<T>(
    target: &Target,
    f: impl FnOnce(&cryptoki::session::Session, &Token, &Key) -> Result<T, PluginError>,
) -> Result<T, PluginError> {
    // The PIN file is read first: a missing file is reported without touching the token.
    let pin = target.uri.pin.as_ref().map(|p| p.resolve()).transpose()?;
    let module = Module::load(&target.module)?;
    let token = token::select_token(&module, &target.uri)?;
    let session = token::open_session(&module, &token, pin.as_ref())?;
    drop(pin);
    let result =
        token::find_key(&session, &token, &target.uri).and_then(|key| f(&session, &token, &key));
    drop(session); // C_CloseSession (logs out) ...
    drop(module); // ... then C_Finalize.
    result
}

/// Reads `chain=<PEM file>`: DER certificates, leaf first.
fn chain_from_file(path: &str) -> Result<Vec<Vec<u8>>, PluginError> {
    let data = std::fs::read(path).map_err(|e| {
        PluginError::validation(format!(
            "cannot read the certificate chain file {path:?} ({CONFIG_CHAIN}): {e}"
        ))
    })?;
    let certs = Certificate::parse_pem_or_der(&data).map_err(|e| {
        PluginError::validation(format!(
            "the certificate chain file {path:?} ({CONFIG_CHAIN}) is not PEM or DER certificates: {e}"
        ))
    })?;
    Ok(certs.iter().map(|c| c.der().to_vec()).collect())
}

/// `describe-key`: the key spec of the key the URI names.
pub fn describe_key(req: &DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
    let target = target(&req.key_id, &req.plugin_config)?;
    let spec = with_key(&target, |_, _, key| Ok(key.spec))?;
    Ok(DescribeKeyResponse {
        key_id: req.key_id.clone(),
        key_spec: spec.to_string(),
    })
}

/// `generate-signature`: checks `keySpec` and `hashAlgorithm` against the key, hashes
/// and signs on the token, and returns the signature with the key spec's signing
/// algorithm and the DER chain (from `chain=` or from the token).
pub fn generate_signature(
    req: &GenerateSignatureRequest,
) -> Result<GenerateSignatureResponse, PluginError> {
    let target = target(&req.key_id, &req.plugin_config)?;
    let requested: KeySpec = req
        .key_spec
        .parse()
        .map_err(|_| PluginError::validation(format!("unsupported keySpec {:?}", req.key_spec)))?;
    if req.hash_algorithm != requested.hash().as_str() {
        return Err(PluginError::validation(format!(
            "hashAlgorithm {:?} does not match keySpec {:?}, which signs with {:?}",
            req.hash_algorithm,
            requested.as_str(),
            requested.hash().as_str()
        )));
    }
    let file_chain = req
        .plugin_config
        .get(CONFIG_CHAIN)
        .map(|p| chain_from_file(p))
        .transpose()?;
    let uri = &target.uri;
    let (signature, chain) = with_key(&target, |session, token, key| {
        if key.spec != requested {
            return Err(PluginError::validation(format!(
                "keySpec {:?} does not match the key {uri}, whose key spec is {:?}",
                req.key_spec,
                key.spec.as_str()
            )));
        }
        let signature = token::sign(session, key, uri, &req.payload.0)?;
        let chain = match file_chain {
            Some(chain) => chain,
            None => token::chain_from_token(session, token, key, uri)?,
        };
        Ok((signature, chain))
    })?;
    Ok(GenerateSignatureResponse {
        key_id: req.key_id.clone(),
        signature: Base64Bytes(signature),
        signing_algorithm: requested.signature_algorithm().to_string(),
        certificate_chain: chain.into_iter().map(Base64Bytes).collect(),
    })
}

/// The plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pkcs11Plugin;

impl SignPlugin for Pkcs11Plugin {
    fn metadata(&self, _: &GetMetadataRequest) -> GetMetadataResponse {
        GetMetadataResponse {
            name: NAME.into(),
            description: "Signs with a private key in a PKCS#11 token or HSM: keyId is an RFC 7512 PKCS#11 URI (pkcs11:token=…;object=…?module-path=…&pin-source=file:…)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            url: "https://www.rfc-editor.org/rfc/rfc7512".into(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_protocol::plugin::run;
    use plugin_protocol::wire::ErrorCode;

    fn call(cmd: &str, body: serde_json::Value) -> (u8, serde_json::Value) {
        let out = run(
            &Pkcs11Plugin,
            &["notation-pkcs11".into(), cmd.into()],
            body.to_string().as_bytes(),
        );
        let bytes = if out.exit_code == 0 {
            out.stdout
        } else {
            out.stderr
        };
        (out.exit_code, serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn metadata() {
        let (code, v) = call("get-plugin-metadata", serde_json::json!({}));
        assert_eq!(code, 0);
        assert_eq!(v["name"], "pkcs11");
        assert_eq!(
            v["capabilities"],
            serde_json::json!(["SIGNATURE_GENERATOR.RAW"])
        );
        let m: GetMetadataResponse = serde_json::from_value(v).unwrap();
        m.validate().unwrap();
    }

    #[test]
    fn request_errors_are_validation_errors_without_the_pin() {
        let cases = [
            ("not-a-uri", serde_json::json!({}), "not a PKCS#11 URI"),
            (
                "pkcs11:token=t;object=o?pin-value=hunter2",
                serde_json::json!({}),
                "no PKCS#11 module for pkcs11:token=t;object=o: add module-path",
            ),
            (
                "pkcs11:token=t?pin-value=hunter2",
                serde_json::json!({"modul": "/x.so"}),
                "unknown pluginConfig key \"modul\"",
            ),
            (
                "pkcs11:token=t?pin-value=hunter2&module-path=/nonexistent/libp11.so",
                serde_json::json!({}),
                "the PKCS#11 module \"/nonexistent/libp11.so\" does not exist",
            ),
            (
                "pkcs11:token=t?pin-value=hunter2",
                serde_json::json!({"module": "/nonexistent/other.so"}),
                "the PKCS#11 module \"/nonexistent/other.so\" does not exist",
            ),
            (
                "pkcs11:token=t?pin-source=file:/nonexistent/pin&module-path=/nonexistent/m.so",
                serde_json::json!({}),
                "cannot read the PIN file \"/nonexistent/pin\" (pin-source)",
            ),
        ];
        for (key_id, config, needle) in cases {
            let (code, v) = call(
                "describe-key",
                serde_json::json!({"contractVersion": "1.0", "keyId": key_id, "pluginConfig": config}),
            );
            assert_eq!(code, 1, "{key_id}");
            let e: PluginError = serde_json::from_value(v).unwrap();
            assert_eq!(e.error_code, ErrorCode::Validation, "{key_id}");
            let m = e.error_message.unwrap();
            assert!(m.contains(needle), "{key_id}: {m}");
            assert!(!m.contains("hunter2"), "{key_id}: {m}");
        }
    }

    #[test]
    fn a_library_that_is_not_a_pkcs11_module_is_named() {
        // Any shared library without C_GetFunctionList.
        let Some(lib) = [
            "/lib/x86_64-linux-gnu/libm.so.6",
            "/lib/aarch64-linux-gnu/libm.so.6",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists()) else {
            return;
        };
        let (code, v) = call(
            "describe-key",
            serde_json::json!({"contractVersion": "1.0", "keyId": format!("pkcs11:?module-path={lib}")}),
        );
        assert_eq!(code, 1);
        let e: PluginError = serde_json::from_value(v).unwrap();
        assert_eq!(e.error_code, ErrorCode::Validation);
        let m = e.error_message.unwrap();
        assert!(
            m.contains(&format!("cannot load the PKCS#11 module {lib:?}")),
            "{m}"
        );
    }

    #[test]
    fn generate_signature_checks_the_request_first() {
        let base = serde_json::json!({
            "contractVersion": "1.0",
            "keyId": "pkcs11:token=t?module-path=/nonexistent/m.so",
            "keySpec": "EC-256",
            "hashAlgorithm": "SHA-384",
            "payload": "AA==",
        });
        let (code, v) = call("generate-signature", base.clone());
        assert_eq!(code, 1);
        let e: PluginError = serde_json::from_value(v).unwrap();
        assert!(
            e.error_message
                .unwrap()
                .contains("hashAlgorithm \"SHA-384\" does not match keySpec \"EC-256\"")
        );
        let mut bad_spec = base.clone();
        bad_spec["keySpec"] = "RSA-1024".into();
        let (_, v) = call("generate-signature", bad_spec);
        let e: PluginError = serde_json::from_value(v).unwrap();
        assert_eq!(e.error_message.unwrap(), "unsupported keySpec \"RSA-1024\"");
        let mut chain = base;
        chain["hashAlgorithm"] = "SHA-256".into();
        chain["pluginConfig"] = serde_json::json!({"chain": "/nonexistent/chain.pem"});
        let (_, v) = call("generate-signature", chain);
        let e: PluginError = serde_json::from_value(v).unwrap();
        assert_eq!(e.error_code, ErrorCode::Validation);
        assert!(
            e.error_message
                .unwrap()
                .contains("cannot read the certificate chain file \"/nonexistent/chain.pem\"")
        );
    }
}
