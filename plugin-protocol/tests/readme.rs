//! Keeps README.md true: every ```json block preceded by a line
//! `<!-- wire: <TypeName> -->` must deserialize into that wire type and serialize back
//! to the same JSON (same fields, same values, same field order).

use plugin_protocol::wire::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const README: &str = include_str!("../README.md");

/// `(type name, json text, line number)` of every marked block.
fn marked_blocks(text: &str) -> Vec<(String, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(name) = line
            .strip_prefix("<!-- wire:")
            .and_then(|rest| rest.strip_suffix("-->"))
            .map(str::trim)
        {
            let marker_line = i + 1;
            assert_eq!(
                lines.get(i + 1).map(|l| l.trim()),
                Some("```json"),
                "README.md:{marker_line}: the marker must be followed directly by a ```json block"
            );
            let start = i + 2;
            let len = lines[start..]
                .iter()
                .position(|l| l.trim() == "```")
                .unwrap_or_else(|| panic!("README.md:{marker_line}: unterminated block"));
            blocks.push((
                name.to_owned(),
                lines[start..start + len].join("\n"),
                marker_line,
            ));
            i = start + len;
        }
        i += 1;
    }
    blocks
}

fn check<T: Serialize + DeserializeOwned>(json: &str) -> Result<(), String> {
    let original: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let typed: T = serde_json::from_str(json).map_err(|e| format!("does not deserialize: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if back != original {
        return Err(format!("re-serializes to a different value:\n{back:#}"));
    }
    let (a, b) = (original.to_string(), back.to_string());
    if a != b {
        return Err(format!("field order differs from what is emitted:\n{b}"));
    }
    Ok(())
}

fn check_named(name: &str, json: &str) -> Result<(), String> {
    match name {
        "GetMetadataRequest" => check::<GetMetadataRequest>(json),
        "GetMetadataResponse" => check::<GetMetadataResponse>(json),
        "DescribeKeyRequest" => check::<DescribeKeyRequest>(json),
        "DescribeKeyResponse" => check::<DescribeKeyResponse>(json),
        "GenerateSignatureRequest" => check::<GenerateSignatureRequest>(json),
        "GenerateSignatureResponse" => check::<GenerateSignatureResponse>(json),
        "GenerateEnvelopeRequest" => check::<GenerateEnvelopeRequest>(json),
        "GenerateEnvelopeResponse" => check::<GenerateEnvelopeResponse>(json),
        "PluginError" => check::<PluginError>(json),
        other => Err(format!("unknown wire type {other:?}")),
    }
}

#[test]
fn every_marked_json_block_is_a_valid_message() {
    let blocks = marked_blocks(README);
    let failures: Vec<String> = blocks
        .iter()
        .filter_map(|(name, json, line)| {
            check_named(name, json)
                .err()
                .map(|e| format!("README.md:{line} ({name}): {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_message_type_is_shown() {
    let shown: Vec<String> = marked_blocks(README)
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    for name in [
        "GetMetadataRequest",
        "GetMetadataResponse",
        "DescribeKeyRequest",
        "DescribeKeyResponse",
        "GenerateSignatureRequest",
        "GenerateSignatureResponse",
        "GenerateEnvelopeRequest",
        "GenerateEnvelopeResponse",
        "PluginError",
    ] {
        assert!(shown.iter().any(|s| s == name), "README.md shows no {name}");
    }
}

#[test]
fn the_checker_catches_mistakes() {
    let text = "x\n<!-- wire: DescribeKeyResponse -->\n```json\n{\"keyId\": \"k\"}\n```\n";
    let blocks = marked_blocks(text);
    assert_eq!(blocks.len(), 1);
    assert!(
        check_named(&blocks[0].0, &blocks[0].1).is_err(),
        "missing keySpec"
    );
    // Wrong order, empty pluginConfig (omitted when re-serialized), bad base64, unknown type.
    assert!(check_named("DescribeKeyResponse", r#"{"keySpec":"EC-256","keyId":"k"}"#).is_err());
    assert!(
        check_named(
            "DescribeKeyRequest",
            r#"{"contractVersion":"1.0","keyId":"k","pluginConfig":{}}"#
        )
        .is_err()
    );
    assert!(
        check_named(
            "GenerateEnvelopeResponse",
            r#"{"signatureEnvelope":"e30","signatureEnvelopeType":"t"}"#
        )
        .is_err()
    );
    assert!(check_named("Nope", "{}").is_err());
    assert!(check_named("DescribeKeyResponse", r#"{"keyId":"k","keySpec":"EC-256"}"#).is_ok());
}
