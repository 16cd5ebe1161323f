//! Every validation rule of spec §4.10, one case each, and statement selection.

use serde_json::{Value, json};

use super::*;
use crate::trust_store::StoreType;

fn statement(name: &str, scopes: &[&str]) -> Value {
    json!({
        "name": name,
        "registryScopes": scopes,
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:acme"],
        "trustedIdentities": ["*"]
    })
}

fn doc(statements: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"version": "1.0", "trustPolicies": statements})).unwrap()
}

fn err(statements: Vec<Value>) -> String {
    TrustPolicyDocument::parse(&doc(statements))
        .unwrap_err()
        .to_string()
}

fn with(mut s: Value, key: &str, v: Value) -> Value {
    s[key] = v;
    s
}

#[test]
fn the_e2e_policy_parses() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/notation/config/trustpolicies/trustpolicy.json"
    ))
    .unwrap();
    let d = TrustPolicyDocument::parse(&bytes).unwrap();
    let s = &d.statements[0];
    assert_eq!(s.name, "e2e");
    assert!(s.is_global());
    assert_eq!(s.actions.level(), Level::Strict);
    assert_eq!(s.trusted_identities, TrustedIdentities::Any);
    assert_eq!(s.stores_of(StoreType::Ca).next().unwrap().name, "e2e");
    assert_eq!(s.verify_timestamp, VerifyTimestamp::Always);
}

#[test]
fn document_rules() {
    let parse = |v: Value| {
        TrustPolicyDocument::parse(&serde_json::to_vec(&v).unwrap())
            .unwrap_err()
            .to_string()
    };
    assert!(parse(json!({"trustPolicies": [statement("a", &["*"])]})).contains("empty version"));
    assert!(
        parse(json!({"version": "2.0", "trustPolicies": [statement("a", &["*"])]}))
            .contains("unsupported version \"2.0\"")
    );
    assert!(parse(json!({"version": "1.0", "trustPolicies": []})).contains("zero trust policy"));
    assert!(parse(json!({"version": "1.0", "policies": []})).contains("unknown top-level field"));
    assert!(
        TrustPolicyDocument::parse(b"{not json")
            .unwrap_err()
            .to_string()
            .starts_with("malformed trust policy")
    );
}

#[test]
fn statement_errors_name_index_and_statement() {
    let e = err(vec![
        statement("a", &["*"]),
        with(statement("b", &["r.io/x"]), "trustStores", json!([])),
    ]);
    assert_eq!(
        e,
        "trust policy statement #2 \"b\" is either missing trust stores or trusted identities, both must be specified"
    );
    let e = err(vec![with(statement("", &["*"]), "name", json!(""))]);
    assert_eq!(
        e,
        "trust policy statement #1 is missing a name, every statement requires a name"
    );
    assert!(
        err(vec![statement("a", &["*"]), statement("a", &["r.io/x"])])
            .contains("#2 \"a\" uses the same name as statement #1")
    );
    assert!(
        err(vec![with(
            statement("a", &["*"]),
            "trustedIdentity",
            json!(["*"])
        )])
        .contains("unknown field \"trustedIdentity\"")
    );
}

#[test]
fn level_and_override_rules() {
    let sv = |v: Value| {
        err(vec![with(
            statement("a", &["*"]),
            "signatureVerification",
            v,
        )])
    };
    assert!(sv(json!({})).contains("level is empty or missing"));
    assert!(
        sv(json!({"level": "lenient"}))
            .contains("invalid signature verification level \"lenient\"")
    );
    assert!(
        sv(json!({"level": "strict", "override": {"integrity": "log"}}))
            .contains("\"integrity\" verification can not be overridden")
    );
    assert!(
        sv(json!({"level": "strict", "override": {"expiry": "skip"}}))
            .contains("\"expiry\" verification can not be skipped")
    );
    assert!(
        sv(json!({"level": "strict", "override": {"age": "log"}}))
            .contains("verification type \"age\"")
    );
    assert!(
        sv(json!({"level": "strict", "override": {"expiry": "warn"}}))
            .contains("verification action \"warn\"")
    );
    assert!(sv(json!({"level": "strict", "verifyTimestamp": "never"})).contains("verifyTimestamp"));
    let skip = json!({"name": "s", "registryScopes": ["*"], "signatureVerification": {"level": "skip", "override": {"expiry": "log"}}});
    assert!(err(vec![skip]).contains("\"skip\" can't be used to customize"));
    let ok = doc(vec![with(
        statement("a", &["*"]),
        "signatureVerification",
        json!({"level": "audit", "override": {"revocation": "skip", "authenticity": "enforce"}, "verifyTimestamp": "afterCertExpiry"}),
    )]);
    let d = TrustPolicyDocument::parse(&ok).unwrap();
    let a = &d.statements[0].actions;
    assert_eq!(a.get(ValidationType::Revocation), Action::Skip);
    assert_eq!(a.get(ValidationType::Authenticity), Action::Enforce);
    assert_eq!(a.get(ValidationType::Expiry), Action::Log);
    assert_eq!(
        d.statements[0].verify_timestamp,
        VerifyTimestamp::AfterCertExpiry
    );
}

#[test]
fn skip_statements_have_no_stores_or_identities() {
    let skip = json!({"name": "s", "registryScopes": ["*"], "signatureVerification": {"level": "skip"}, "trustStores": ["ca:x"]});
    assert!(err(vec![skip]).contains("is set to skip signature verification but configured"));
    let skip =
        json!({"name": "s", "registryScopes": ["*"], "signatureVerification": {"level": "skip"}});
    assert!(TrustPolicyDocument::parse(&doc(vec![skip])).is_ok());
}

#[test]
fn trust_store_rules() {
    let ts = |v: Value| err(vec![with(statement("a", &["*"]), "trustStores", v)]);
    assert!(ts(json!(["acme"])).contains("malformed trust store value \"acme\""));
    assert!(ts(json!(["pem:acme"])).contains("unsupported trust store type \"pem\""));
    assert!(ts(json!(["ca:a b"])).contains("unsupported trust store name \"a b\""));
    assert!(ts(json!(["tsa:t"])).contains("no trust store of type ca or signingAuthority"));
    assert!(ts(json!("ca:acme")).contains("must be an array of strings"));
}

#[test]
fn trusted_identity_rules() {
    let ti = |v: Value| err(vec![with(statement("a", &["*"]), "trustedIdentities", v)]);
    assert!(
        ti(json!(["*", "x509.subject: C=US, ST=WA, O=a"])).contains("wildcard trusted identity")
    );
    assert!(ti(json!([""])).contains("empty trusted identity"));
    assert!(ti(json!(["C=US"])).contains("missing separator"));
    assert!(ti(json!(["x509.subject:"])).contains("without an identity value"));
    assert!(ti(json!(["x509.subject: C=US, ST=WA"])).contains("mandatory RDN attribute for \"O\""));
    assert!(ti(json!(["email: a@b.c"])).contains("unsupported type \"email\""));
    assert!(
        ti(json!([
            "x509.subject: C=US, ST=WA, O=a",
            "x509.subject: C=US, ST=WA, O=a, CN=b"
        ]))
        .contains("overlapping x509 trustedIdentities")
    );
    let ok = doc(vec![with(
        statement("a", &["*"]),
        "trustedIdentities",
        json!([
            "x509.subject: C=US, ST=WA, O=a",
            "x509.subject: C=US, S=WA, O=b"
        ]),
    )]);
    let d = TrustPolicyDocument::parse(&ok).unwrap();
    match &d.statements[0].trusted_identities {
        TrustedIdentities::Subjects(s) => assert_eq!(s.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn registry_scope_rules() {
    assert!(err(vec![statement("a", &[])]).contains("zero registry scopes"));
    assert!(err(vec![statement("a", &["*", "r.io/x"])]).contains("wildcard registry scope"));
    assert!(
        err(vec![statement("a", &["r.io/x:v1"])])
            .contains("registry scope \"r.io/x:v1\" is not valid")
    );
    assert!(err(vec![statement("a", &["r.io/*"])]).contains("with wild card(s)"));
    let e = err(vec![
        statement("a", &["r.io/x"]),
        statement("b", &["r.io/y", "r.io/x"]),
    ]);
    assert!(
        e.contains(
            "#2 \"b\" uses registry scope \"r.io/x\", which statement #1 \"a\" already uses"
        ),
        "{e}"
    );
    assert!(
        err(vec![statement("a", &["*"]), statement("b", &["*"])]).contains("registry scope \"*\"")
    );
}

#[test]
fn selection_prefers_the_exact_scope() {
    let d = TrustPolicyDocument::parse(&doc(vec![
        statement("global", &["*"]),
        statement("app", &["r.io/app", "r.io/other"]),
    ]))
    .unwrap();
    assert_eq!(d.statement_for("r.io/app", "r").unwrap().name, "app");
    assert_eq!(d.statement_for("r.io/x", "r").unwrap().name, "global");
    let only = TrustPolicyDocument::parse(&doc(vec![statement("app", &["r.io/app"])])).unwrap();
    assert!(
        only.statement_for("r.io/x", "r.io/x@sha256:1")
            .unwrap_err()
            .to_string()
            .contains("has no applicable trust policy statement")
    );
}
