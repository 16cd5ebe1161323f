//! Golden tests of the wire types (notary-spec.md §1.3–§1.10, §1.13a): the exact JSON
//! notation emits, tolerant reading (unknown fields, unknown capability and error-code
//! strings), strict base64, and required response fields.

use std::collections::BTreeMap;
use std::fmt::Debug;

use ::base64::Engine as _;
use ::base64::engine::general_purpose::URL_SAFE_NO_PAD;
use notation_core::descriptor::Descriptor;
use notation_core::payload::Payload;
use notation_core::{Digest, HashAlgorithm};
use plugin_protocol::wire::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn config(pairs: &[(&str, &str)]) -> PluginConfig {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `value` serializes to exactly `golden`; `golden` reads back to `value`, also with an
/// unknown field added at the front and at the end.
fn golden<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T, golden: &str) {
    assert_eq!(serde_json::to_string(value).unwrap(), golden);
    assert_eq!(&serde_json::from_str::<T>(golden).unwrap(), value);
    assert!(golden.starts_with('{') && golden.ends_with('}'));
    let inner = &golden[1..golden.len() - 1];
    let sep = if inner.is_empty() { "" } else { "," };
    for extended in [
        format!(r#"{{"futureField":{{"nested":[1,"two",null]}}{sep}{inner}}}"#),
        format!(r#"{{{inner}{sep}"zzUnknown":"x"}}"#),
    ] {
        let read: T = serde_json::from_str(&extended).unwrap_or_else(|e| panic!("{extended}: {e}"));
        assert_eq!(&read, value, "{extended}");
    }
}

/// Removing any one of `required` from `golden` makes it unreadable as `T`; removing
/// any one of `optional` does not.
fn required_fields<T: DeserializeOwned + Debug>(
    golden: &str,
    required: &[&str],
    optional: &[&str],
) {
    for field in required.iter().chain(optional) {
        let mut v: Value = serde_json::from_str(golden).unwrap();
        assert!(
            v.as_object_mut().unwrap().remove(*field).is_some(),
            "{field} not in {golden}"
        );
        let r = serde_json::from_value::<T>(v);
        if required.contains(field) {
            let e = r.expect_err(&format!("{field} is required"));
            assert!(e.to_string().contains(field), "{e}");
        } else {
            r.unwrap_or_else(|e| panic!("{field} is optional: {e}"));
        }
    }
}

// ---- get-plugin-metadata (§1.7) ----

const METADATA: &str = r#"{"name":"com.example.kms","description":"Signs with Example KMS","version":"1.2.0","url":"https://example.com/kms","supportedContractVersions":["1.0"],"capabilities":["SIGNATURE_GENERATOR.RAW","SIGNATURE_GENERATOR.ENVELOPE"]}"#;

fn metadata() -> GetMetadataResponse {
    GetMetadataResponse {
        name: "com.example.kms".into(),
        description: "Signs with Example KMS".into(),
        version: "1.2.0".into(),
        url: "https://example.com/kms".into(),
        supported_contract_versions: vec!["1.0".into()],
        capabilities: vec![
            Capability::SignatureGeneratorRaw,
            Capability::SignatureGeneratorEnvelope,
        ],
    }
}

#[test]
fn get_metadata_request() {
    golden(&GetMetadataRequest::default(), "{}");
    golden(
        &GetMetadataRequest {
            plugin_config: config(&[("region", "eu"), ("k", "v=w")]),
        },
        r#"{"pluginConfig":{"k":"v=w","region":"eu"}}"#,
    );
}

#[test]
fn get_metadata_response() {
    golden(&metadata(), METADATA);
    required_fields::<GetMetadataResponse>(
        METADATA,
        &[
            "name",
            "description",
            "version",
            "url",
            "supportedContractVersions",
            "capabilities",
        ],
        &[],
    );
}

/// Breaks one field of a valid metadata response.
type Breaker = fn(&mut GetMetadataResponse);

#[test]
fn metadata_validation_messages() {
    assert_eq!(metadata().validate(), Ok(()));
    let cases: [(Breaker, &str); 6] = [
        (|m| m.name.clear(), "empty name"),
        (|m| m.description.clear(), "empty description"),
        (|m| m.version.clear(), "empty version"),
        (|m| m.url.clear(), "empty url"),
        (|m| m.capabilities.clear(), "empty capabilities"),
        (
            |m| m.supported_contract_versions.clear(),
            "supported contract versions not specified",
        ),
    ];
    for (break_it, msg) in cases {
        let mut m = metadata();
        break_it(&mut m);
        assert_eq!(m.validate(), Err(msg.to_owned()));
    }
    // notation-go checks in this order: name before everything else, capabilities
    // before contract versions.
    let mut m = metadata();
    m.name.clear();
    m.url.clear();
    assert_eq!(m.validate(), Err("empty name".to_owned()));
    let mut m = metadata();
    m.capabilities.clear();
    m.supported_contract_versions.clear();
    assert_eq!(m.validate(), Err("empty capabilities".to_owned()));

    let mut m = metadata();
    m.supported_contract_versions = vec!["2.0".into()];
    let e = m.validate().unwrap_err();
    assert!(
        e.starts_with(
            r#"contract version "1.0" is not in the list of the plugin supported versions ["#
        ),
        "{e}"
    );
    assert!(e.contains("2.0"), "{e}");
    // "1.0" among others is fine.
    m.supported_contract_versions = vec!["0.9".into(), "1.0".into()];
    assert_eq!(m.validate(), Ok(()));

    assert!(metadata().has(&Capability::SignatureGeneratorEnvelope));
    assert!(!metadata().has(&Capability::VerifierTrustedIdentity));
}

/// notation-go formats the list with Go's `%v`: `[2.0]`, `[0.9 2.0]` (no quotes, spaces).
#[test]
fn metadata_contract_version_message_is_notations() {
    let mut m = metadata();
    m.supported_contract_versions = vec!["0.9".into(), "2.0".into()];
    assert_eq!(
        m.validate(),
        Err(r#"contract version "1.0" is not in the list of the plugin supported versions [0.9 2.0]"#.to_owned())
    );
}

// ---- describe-key (§1.8) ----

#[test]
fn describe_key() {
    let mut req = DescribeKeyRequest {
        contract_version: "1.0".into(),
        key_id: "arn:aws:kms:eu-west-1:1:key/abc".into(),
        plugin_config: PluginConfig::new(),
    };
    golden(
        &req,
        r#"{"contractVersion":"1.0","keyId":"arn:aws:kms:eu-west-1:1:key/abc"}"#,
    );
    req.plugin_config = config(&[("k", "v")]);
    let with_config = r#"{"contractVersion":"1.0","keyId":"arn:aws:kms:eu-west-1:1:key/abc","pluginConfig":{"k":"v"}}"#;
    golden(&req, with_config);
    required_fields::<DescribeKeyRequest>(
        with_config,
        &["contractVersion", "keyId"],
        &["pluginConfig"],
    );

    let resp_json = r#"{"keyId":"arn:aws:kms:eu-west-1:1:key/abc","keySpec":"EC-384"}"#;
    golden(
        &DescribeKeyResponse {
            key_id: "arn:aws:kms:eu-west-1:1:key/abc".into(),
            key_spec: "EC-384".into(),
        },
        resp_json,
    );
    required_fields::<DescribeKeyResponse>(resp_json, &["keyId", "keySpec"], &[]);
}

// ---- generate-signature (§1.9) ----

#[test]
fn generate_signature() {
    let req_json = r#"{"contractVersion":"1.0","keyId":"k","keySpec":"RSA-3072","hashAlgorithm":"SHA-384","payload":"em9w","pluginConfig":{"k":"v"}}"#;
    golden(
        &GenerateSignatureRequest {
            contract_version: "1.0".into(),
            key_id: "k".into(),
            key_spec: "RSA-3072".into(),
            hash_algorithm: "SHA-384".into(),
            payload: Base64Bytes(b"zop".to_vec()),
            plugin_config: config(&[("k", "v")]),
        },
        req_json,
    );
    required_fields::<GenerateSignatureRequest>(
        req_json,
        &[
            "contractVersion",
            "keyId",
            "keySpec",
            "hashAlgorithm",
            "payload",
        ],
        &["pluginConfig"],
    );

    let resp_json = r#"{"keyId":"k","signature":"+/8=","signingAlgorithm":"RSASSA-PSS-SHA-384","certificateChain":["MIIB","MIIC"]}"#;
    golden(
        &GenerateSignatureResponse {
            key_id: "k".into(),
            signature: Base64Bytes(vec![0xfb, 0xff]),
            signing_algorithm: "RSASSA-PSS-SHA-384".into(),
            certificate_chain: vec![
                Base64Bytes(vec![0x30, 0x82, 0x01]),
                Base64Bytes(vec![0x30, 0x82, 0x02]),
            ],
        },
        resp_json,
    );
    required_fields::<GenerateSignatureResponse>(
        resp_json,
        &["keyId", "signature", "signingAlgorithm", "certificateChain"],
        &[],
    );
}

// ---- generate-envelope (§1.10) ----

#[test]
fn generate_envelope() {
    let mut req = GenerateEnvelopeRequest {
        contract_version: "1.0".into(),
        key_id: "k".into(),
        payload_type: "application/vnd.cncf.notary.payload.v1+json".into(),
        signature_envelope_type: "application/jose+json".into(),
        payload: Base64Bytes(b"{}".to_vec()),
        expiry_duration_in_seconds: None,
        plugin_config: PluginConfig::new(),
    };
    golden(
        &req,
        r#"{"contractVersion":"1.0","keyId":"k","payloadType":"application/vnd.cncf.notary.payload.v1+json","signatureEnvelopeType":"application/jose+json","payload":"e30="}"#,
    );
    req.expiry_duration_in_seconds = Some(86400);
    req.plugin_config = config(&[("k", "v")]);
    req.signature_envelope_type = "application/cose".into();
    let full = r#"{"contractVersion":"1.0","keyId":"k","payloadType":"application/vnd.cncf.notary.payload.v1+json","signatureEnvelopeType":"application/cose","payload":"e30=","expiryDurationInSeconds":86400,"pluginConfig":{"k":"v"}}"#;
    golden(&req, full);
    required_fields::<GenerateEnvelopeRequest>(
        full,
        &[
            "contractVersion",
            "keyId",
            "payloadType",
            "signatureEnvelopeType",
            "payload",
        ],
        &["expiryDurationInSeconds", "pluginConfig"],
    );
    // An unsigned integer.
    let negative = full.replace("86400", "-1");
    assert!(serde_json::from_str::<GenerateEnvelopeRequest>(&negative).is_err());

    let mut resp = GenerateEnvelopeResponse {
        signature_envelope: Base64Bytes(b"{\"payload\":\"\"}".to_vec()),
        signature_envelope_type: "application/jose+json".into(),
        annotations: None,
    };
    golden(
        &resp,
        r#"{"signatureEnvelope":"eyJwYXlsb2FkIjoiIn0=","signatureEnvelopeType":"application/jose+json"}"#,
    );
    resp.annotations = Some(BTreeMap::from([("key1".to_owned(), "value1".to_owned())]));
    let with_annotations = r#"{"signatureEnvelope":"eyJwYXlsb2FkIjoiIn0=","signatureEnvelopeType":"application/jose+json","annotations":{"key1":"value1"}}"#;
    golden(&resp, with_annotations);
    required_fields::<GenerateEnvelopeResponse>(
        with_annotations,
        &["signatureEnvelope", "signatureEnvelopeType"],
        &["annotations"],
    );
}

// ---- errors (§1.5) ----

#[test]
fn plugin_error() {
    golden(
        &PluginError {
            error_code: ErrorCode::AccessDenied,
            error_message: Some("human readable text".into()),
            error_metadata: Some(BTreeMap::from([(
                "anyKey".to_owned(),
                "anyStringValue".to_owned(),
            )])),
        },
        r#"{"errorCode":"ACCESS_DENIED","errorMessage":"human readable text","errorMetadata":{"anyKey":"anyStringValue"}}"#,
    );
    golden(
        &PluginError::validation("keyId is empty"),
        r#"{"errorCode":"VALIDATION_ERROR","errorMessage":"keyId is empty"}"#,
    );
    golden(
        &PluginError {
            error_code: ErrorCode::Generic,
            error_message: None,
            error_metadata: None,
        },
        r#"{"errorCode":"ERROR"}"#,
    );
    required_fields::<PluginError>(
        r#"{"errorCode":"ERROR","errorMessage":"m","errorMetadata":{}}"#,
        &["errorCode"],
        &["errorMessage", "errorMetadata"],
    );
    assert!(serde_json::from_str::<PluginError>("{}").is_err());
    assert_eq!(
        PluginError::new(ErrorCode::Throttled, "slow down").to_string(),
        "THROTTLED: slow down"
    );
}

#[test]
fn error_codes_known_and_unknown() {
    let known = [
        (ErrorCode::Validation, "VALIDATION_ERROR"),
        (
            ErrorCode::UnsupportedContractVersion,
            "UNSUPPORTED_CONTRACT_VERSION",
        ),
        (ErrorCode::AccessDenied, "ACCESS_DENIED"),
        (ErrorCode::Timeout, "TIMEOUT"),
        (ErrorCode::Throttled, "THROTTLED"),
        (ErrorCode::Generic, "ERROR"),
    ];
    for (code, s) in known {
        assert_eq!(serde_json::to_value(&code).unwrap(), json!(s));
        assert_eq!(serde_json::from_value::<ErrorCode>(json!(s)).unwrap(), code);
        assert_eq!(code.as_str(), s);
    }
    let e: PluginError =
        serde_json::from_str(r#"{"errorCode":"QUOTA_EXCEEDED","errorMessage":"m"}"#).unwrap();
    assert_eq!(e.error_code, ErrorCode::Unknown("QUOTA_EXCEEDED".into()));
    assert_eq!(
        serde_json::to_string(&e).unwrap(),
        r#"{"errorCode":"QUOTA_EXCEEDED","errorMessage":"m"}"#
    );
    // Exact match: case matters.
    assert_eq!(
        serde_json::from_value::<ErrorCode>(json!("access_denied")).unwrap(),
        ErrorCode::Unknown("access_denied".into())
    );
}

#[test]
fn capabilities_known_and_unknown() {
    let known = [
        (Capability::SignatureGeneratorRaw, "SIGNATURE_GENERATOR.RAW"),
        (
            Capability::SignatureGeneratorEnvelope,
            "SIGNATURE_GENERATOR.ENVELOPE",
        ),
        (
            Capability::VerifierTrustedIdentity,
            "SIGNATURE_VERIFIER.TRUSTED_IDENTITY",
        ),
        (
            Capability::VerifierRevocationCheck,
            "SIGNATURE_VERIFIER.REVOCATION_CHECK",
        ),
    ];
    for (cap, s) in known {
        assert_eq!(serde_json::to_value(&cap).unwrap(), json!(s));
        assert_eq!(serde_json::from_value::<Capability>(json!(s)).unwrap(), cap);
        assert_eq!(cap.to_string(), s);
    }
    let json = METADATA.replace(
        r#""SIGNATURE_GENERATOR.ENVELOPE""#,
        r#""SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB""#,
    );
    let m: GetMetadataResponse = serde_json::from_str(&json).unwrap();
    assert_eq!(
        m.capabilities,
        vec![
            Capability::SignatureGeneratorRaw,
            Capability::Unknown("SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB".into())
        ]
    );
    assert_eq!(serde_json::to_string(&m).unwrap(), json);
    assert_eq!(m.validate(), Ok(()));
}

// ---- base64 (§1.3) ----

#[test]
fn base64_is_standard_with_padding_both_ways() {
    for (bytes, text) in [
        (&b""[..], ""),
        (b"a", "YQ=="),
        (b"ab", "YWI="),
        (b"abc", "YWJj"),
        (&[0xfb, 0xff, 0xfe][..], "+//+"),
    ] {
        assert_eq!(
            serde_json::to_value(Base64Bytes(bytes.to_vec())).unwrap(),
            json!(text)
        );
        assert_eq!(
            serde_json::from_value::<Base64Bytes>(json!(text))
                .unwrap()
                .0,
            bytes
        );
    }
    for bad in [
        "YQ", "YQ=", "YWI", "-__-", "YQ==YQ==", "Y Q==", "!!!!", "em9",
    ] {
        assert!(
            serde_json::from_value::<Base64Bytes>(json!(bad)).is_err(),
            "{bad:?} accepted"
        );
    }
    assert!(serde_json::from_value::<Base64Bytes>(json!(12)).is_err());
    // Go's decoder skips line breaks and ignores unused trailing bits (wrapped output
    // of the `base64` tool, for example); so does ours.
    assert_eq!(
        serde_json::from_value::<Base64Bytes>(json!("YW\nJj\r\n"))
            .unwrap()
            .0,
        b"abc"
    );
    assert_eq!(
        serde_json::from_value::<Base64Bytes>(json!("YR=="))
            .unwrap()
            .0,
        b"a"
    );
    assert_eq!(
        format!("{:?}", Base64Bytes(vec![1, 2, 3])),
        "Base64Bytes(3 bytes)"
    );
}

#[test]
fn bad_base64_is_rejected_in_every_binary_field() {
    let cases = [
        r#"{"contractVersion":"1.0","keyId":"k","keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":"em9"}"#,
        r#"{"keyId":"k","signature":"-_8","signingAlgorithm":"ECDSA-SHA-256","certificateChain":["MIIB"]}"#,
        r#"{"keyId":"k","signature":"+/8=","signingAlgorithm":"ECDSA-SHA-256","certificateChain":["MIIB","MII"]}"#,
        r#"{"contractVersion":"1.0","keyId":"k","payloadType":"p","signatureEnvelopeType":"t","payload":"e30"}"#,
        r#"{"signatureEnvelope":"e30","signatureEnvelopeType":"application/jose+json"}"#,
    ];
    assert!(serde_json::from_str::<GenerateSignatureRequest>(cases[0]).is_err());
    assert!(serde_json::from_str::<GenerateSignatureResponse>(cases[1]).is_err());
    assert!(serde_json::from_str::<GenerateSignatureResponse>(cases[2]).is_err());
    assert!(serde_json::from_str::<GenerateEnvelopeRequest>(cases[3]).is_err());
    let e = serde_json::from_str::<GenerateEnvelopeResponse>(cases[4]).unwrap_err();
    assert!(
        e.to_string().contains("not standard base64 with padding"),
        "{e}"
    );
}

// ---- §1.13a: a real notation JWS signing input as a generate-signature request ----

const PROTECTED_B64URL: &str = "eyJhbGciOiJQUzI1NiIsImNyaXQiOlsiaW8uY25jZi5ub3Rhcnkuc2lnbmluZ1NjaGVtZSJdLCJjdHkiOiJhcHBsaWNhdGlvbi92bmQuY25jZi5ub3RhcnkucGF5bG9hZC52MStqc29uIiwiaW8uY25jZi5ub3Rhcnkuc2lnbmluZ1NjaGVtZSI6Im5vdGFyeS54NTA5IiwiaW8uY25jZi5ub3Rhcnkuc2lnbmluZ1RpbWUiOiIyMDIzLTA2LTI3VDEzOjMwOjMzKzA4OjAwIn0";
const PAYLOAD_B64URL: &str = "eyJ0YXJnZXRBcnRpZmFjdCI6eyJkaWdlc3QiOiJzaGEyNTY6Yjg0NzlkZTNmODhmYjI1OWEwYTllYTgyYTViMmEwNTJhMWVmM2M0ZWJiY2ZjNjE0ODJkNWFlNGM4MzFmOGFmOSIsIm1lZGlhVHlwZSI6ImFwcGxpY2F0aW9uL3ZuZC5vY2kuaW1hZ2UubWFuaWZlc3QudjEranNvbiIsInNpemUiOjUxN319";
const WORKED_REQUEST: &str = r#"{"contractVersion":"1.0","keyId":"<id>","keySpec":"RSA-2048","hashAlgorithm":"SHA-256","payload":"ZXlKaGJHY2lPaUpRVXpJMU5pSXNJbU55YVhRaU9sc2lhVzh1WTI1alppNXViM1JoY25rdWMybG5ibWx1WjFOamFHVnRaU0pkTENKamRIa2lPaUpoY0hCc2FXTmhkR2x2Ymk5MmJtUXVZMjVqWmk1dWIzUmhjbmt1Y0dGNWJHOWhaQzUyTVN0cWMyOXVJaXdpYVc4dVkyNWpaaTV1YjNSaGNua3VjMmxuYm1sdVoxTmphR1Z0WlNJNkltNXZkR0Z5ZVM1NE5UQTVJaXdpYVc4dVkyNWpaaTV1YjNSaGNua3VjMmxuYm1sdVoxUnBiV1VpT2lJeU1ESXpMVEEyTFRJM1ZERXpPak13T2pNekt6QTRPakF3SW4wLmV5SjBZWEpuWlhSQmNuUnBabUZqZENJNmV5SmthV2RsYzNRaU9pSnphR0V5TlRZNllqZzBOemxrWlRObU9EaG1ZakkxT1dFd1lUbGxZVGd5WVRWaU1tRXdOVEpoTVdWbU0yTTBaV0ppWTJaak5qRTBPREprTldGbE5HTTRNekZtT0dGbU9TSXNJbTFsWkdsaFZIbHdaU0k2SW1Gd2NHeHBZMkYwYVc5dUwzWnVaQzV2WTJrdWFXMWhaMlV1YldGdWFXWmxjM1F1ZGpFcmFuTnZiaUlzSW5OcGVtVWlPalV4TjMxOQ=="}"#;

#[test]
fn worked_example_round_trips_and_carries_the_jws_signing_input() {
    let req: GenerateSignatureRequest = serde_json::from_str(WORKED_REQUEST).unwrap();
    assert_eq!(serde_json::to_string(&req).unwrap(), WORKED_REQUEST);
    golden(&req, WORKED_REQUEST);
    assert_eq!(
        (req.key_spec.as_str(), req.hash_algorithm.as_str()),
        ("RSA-2048", "SHA-256")
    );

    let input = &req.payload.0;
    assert_eq!(input.len(), 508);
    assert_eq!(
        notation_core::hex::encode(&HashAlgorithm::Sha256.digest(input)),
        "fe6179bbc357ef3f19eed13f96620197729037fa8f64af231443edad801c4fce"
    );
    assert_eq!(
        *input,
        format!("{PROTECTED_B64URL}.{PAYLOAD_B64URL}").into_bytes()
    );

    // The two segments are notation's protected header and sorted-key payload.
    let header = URL_SAFE_NO_PAD.decode(PROTECTED_B64URL).unwrap();
    assert_eq!(
        String::from_utf8(header).unwrap(),
        r#"{"alg":"PS256","crit":["io.cncf.notary.signingScheme"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2023-06-27T13:30:33+08:00"}"#
    );
    let digest: Digest = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
        .parse()
        .unwrap();
    let payload = Payload::new(Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        digest,
        517,
    ));
    assert_eq!(
        URL_SAFE_NO_PAD.decode(PAYLOAD_B64URL).unwrap(),
        payload.to_sorted_json()
    );
}

#[test]
fn command_names() {
    assert_eq!(
        [
            command::GET_PLUGIN_METADATA,
            command::DESCRIBE_KEY,
            command::GENERATE_SIGNATURE,
            command::GENERATE_ENVELOPE
        ],
        [
            "get-plugin-metadata",
            "describe-key",
            "generate-signature",
            "generate-envelope"
        ]
    );
    assert_eq!(CONTRACT_VERSION, "1.0");
}
