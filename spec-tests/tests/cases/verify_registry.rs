//! `notation verify`, `list` and `inspect` against real registries on loopback
//! (notary-spec.md §3.4, §4.10, §4.11): distribution 2.8 (referrers tag schema)
//! and ferro-oci-server (Referrers API), a pager in front of ferro (pagination,
//! unfiltered answers), form B manifests, tampered signatures and plugin keys.

use notation_core::manifest::{self, ManifestForm};
use serde_json::{Value, json};

use super::verify_support::{Tamper, policy, set_policy, tamper_jws};
use crate::harness::{Sandbox, pushed_digest};
use crate::registry::{OCI_INDEX, OCI_MANIFEST, ReferrersPager, TestRegistry};

/// A sandbox with a default key `reg` that its policy trusts (strict, `ca:reg`).
fn trusted_signer() -> Sandbox {
    let sb = Sandbox::new();
    sb.test_key("reg");
    set_policy(
        &sb,
        &policy(json!({"level": "strict"}), &["ca:reg"], &["*"]),
    );
    sb
}

fn tree_digests(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip(2)
        .map(|l| l.trim_start_matches([' ', '│', '├', '└', '─']).to_owned())
        .collect()
}

/// distribution 2.8 (tag schema): JWS and COSE signatures verify by digest and by
/// tag, `list` shows both, `inspect -o json` describes both.
#[test]
fn distribution_tag_schema() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("net-monitor", "v1");
    let sb = trusted_signer();
    let r = format!("{}/net-monitor@{digest}", reg.host);
    let jws = pushed_digest(&sb.run(&["sign", &r]).ok());
    let cose = pushed_digest(&sb.run(&["sign", "--signature-format", "cose", &r]).ok());
    let ok = sb.run(&["verify", &r]).ok();
    assert_eq!(
        ok.stdout,
        format!("Successfully verified signature for {r}\n")
    );
    let by_tag = sb
        .run(&["verify", &format!("{}/net-monitor:v1", reg.host)])
        .ok();
    assert!(
        by_tag.stderr.contains(
            "Always verify the artifact using digest(@sha256:...) rather than a tag(:v1)"
        )
    );
    assert_eq!(by_tag.stdout, ok.stdout);
    let list = sb.run(&["list", &r]).ok().stdout;
    assert!(
        list.starts_with(&format!("{r}\n└── application/vnd.cncf.notary.signature\n")),
        "{list}"
    );
    assert_eq!(tree_digests(&list), vec![jws.clone(), cose.clone()]);
    let v: Value =
        serde_json::from_str(&sb.run(&["inspect", "-o", "json", &r]).ok().stdout).unwrap();
    let types: Vec<&str> = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["application/jose+json", "application/cose"]);
    assert_eq!(v["signatures"][1]["digest"], cose.as_str());
    // The exact registry scope selects its own statement.
    let scoped = json!({"version": "1.0", "trustPolicies": [{
        "name": "net-monitor", "registryScopes": [format!("{}/net-monitor", reg.host)],
        "signatureVerification": {"level": "strict"}, "trustStores": ["ca:reg"], "trustedIdentities": ["*"]}]});
    set_policy(&sb, &scoped);
    sb.run(&["verify", &r]).ok();
    let (other, _, _) = reg.push_artifact("other", "v1");
    sb.run(&["verify", &format!("{}/other@{other}", reg.host)])
        .fails_with("has no applicable trust policy statement");
}

/// An unsigned artifact: verify fails, list and inspect say there is nothing.
#[test]
fn unsigned_artifact() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = trusted_signer();
    let r = format!("{}/app@{digest}", reg.host);
    sb.run(&["verify", &r]).fails_with(&format!(
        "no signature is associated with {r:?}, make sure the artifact was signed successfully"
    ));
    assert_eq!(
        sb.run(&["ls", &r]).ok().stdout,
        format!("{r} has no associated signatures\n")
    );
    assert_eq!(
        sb.run(&["inspect", &r]).ok().stdout,
        format!("{r} has no associated signature\n")
    );
    sb.run(&["verify", &format!("{}/app:missing", reg.host)])
        .fails_with("not found");
    let deprecated = sb.run(&["list", "--allow-referrers-api", &r]).ok();
    assert!(deprecated.stderr.contains(
        "Warning: flag '--allow-referrers-api' is deprecated and will be removed in future versions."
    ));
}

/// ferro-oci-server: signatures are found through the Referrers API; a plugin
/// key's COSE signature verifies too.
#[test]
fn ferro_referrers_api() {
    let reg = TestRegistry::ferro();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = trusted_signer();
    sb.install_plugin("test-plugin");
    let r = format!("{}/app@{digest}", reg.host);
    let first = pushed_digest(&sb.run(&["sign", &r]).ok());
    let id = sb.key_prefix("reg");
    let second = pushed_digest(
        &sb.run(&[
            "sign",
            "--plugin",
            "test-plugin",
            "--id",
            &id,
            "--signature-format",
            "cose",
            &r,
        ])
        .ok(),
    );
    assert!(
        reg.tag_index("app", &digest).is_none(),
        "no tag schema used"
    );
    let v = sb.run(&["verify", "-v", &r]).ok();
    assert!(
        v.stderr.contains("through the Referrers API"),
        "{}",
        v.stderr
    );
    let mut listed = tree_digests(&sb.run(&["list", &r]).ok().stdout);
    listed.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(listed, expected);
}

/// A Referrers API that pages (one entry per page) and ignores the artifactType
/// filter: every page is read, the SBOM referrer is filtered out here, and the one
/// trusted signature among untrusted ones is found.
#[test]
fn paginated_unfiltered_referrers() {
    let reg = TestRegistry::ferro();
    let (digest, size, media_type) = reg.push_artifact("app", "v1");
    // A referrer of another artifact type.
    let sbom = reg.upload_blob("app", b"{\"sbom\":true}");
    let empty = reg.upload_blob("app", b"{}");
    let sbom_manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": sbom, "size": 13}],
        "subject": {"mediaType": media_type, "digest": digest, "size": size},
    });
    let bytes = serde_json::to_vec(&sbom_manifest).unwrap();
    let sbom_digest = notation_core::Digest::sha256_of(&bytes);
    reg.put_manifest("app", sbom_digest.as_str(), OCI_MANIFEST, &bytes);
    let pager = ReferrersPager::new(&reg, 1);
    let sb = trusted_signer();
    sb.run(&["cert", "generate-test", "untrusted"]).ok();
    let r = format!("{}/app@{digest}", pager.host);
    let mut sigs = Vec::new();
    for key in ["untrusted", "untrusted", "reg"] {
        sigs.push(pushed_digest(&sb.run(&["sign", "--key", key, &r]).ok()));
    }
    let mut listed = tree_digests(&sb.run(&["list", &r]).ok().stdout);
    listed.sort();
    sigs.sort();
    assert_eq!(listed, sigs, "three signatures, no SBOM");
    let pages: Vec<String> = pager
        .hits()
        .into_iter()
        .filter(|h| h.contains("/referrers/") && h.contains("page=3"))
        .collect();
    assert!(
        !pages.is_empty(),
        "the fourth page was read: {:?}",
        pager.hits()
    );
    sb.run(&["verify", &r]).ok();
}

/// Form B manifests (artifactType + empty config) in a registry verify.
#[test]
fn artifact_type_form_in_registry() {
    let reg = TestRegistry::ferro();
    let (digest, size, media_type) = reg.push_artifact("src", "v1");
    let sb = trusted_signer();
    let src = format!("{}/src@{digest}", reg.host);
    let sig = pushed_digest(&sb.run(&["sign", &src]).ok());
    let (_, m) = reg.manifest("src", &sig).unwrap();
    let m: Value = serde_json::from_slice(&m).unwrap();
    let envelope = reg
        .blob("src", m["layers"][0]["digest"].as_str().unwrap())
        .unwrap();
    // The same artifact in another repository, signed only with a form B manifest.
    let (_, art) = reg.manifest("src", &digest).unwrap();
    let art_json: Value = serde_json::from_slice(&art).unwrap();
    for d in [
        &art_json["config"]["digest"],
        &art_json["layers"][0]["digest"],
    ] {
        let blob = reg.blob("src", d.as_str().unwrap()).unwrap();
        reg.upload_blob("dst", &blob);
    }
    reg.put_manifest("dst", &digest, OCI_MANIFEST, &art);
    reg.upload_blob("dst", &envelope);
    reg.upload_blob("dst", manifest::EMPTY_CONFIG);
    let subject = notation_core::Descriptor::new(media_type, digest.parse().unwrap(), size);
    let chain = notation_core::envelope::parse(notation_core::SignatureFormat::Jws, &envelope)
        .unwrap()
        .signer_info
        .certificate_chain;
    let b = manifest::build(
        ManifestForm::ArtifactType,
        "application/jose+json",
        &envelope,
        &subject,
        &chain,
        0,
        &Default::default(),
    );
    reg.put_manifest("dst", b.descriptor.digest.as_str(), OCI_MANIFEST, &b.bytes);
    let dst = format!("{}/dst@{digest}", reg.host);
    sb.run(&["verify", &dst]).ok();
    assert_eq!(
        tree_digests(&sb.run(&["list", &dst]).ok().stdout),
        vec![b.descriptor.digest.to_string()]
    );
}

/// A tampered envelope pushed to the registry (flipped signature byte) fails
/// integrity; the tag index is rewritten to list only the tampered manifest.
#[test]
fn tampered_signature_in_registry() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("app", "v1");
    let sb = trusted_signer();
    let r = format!("{}/app@{digest}", reg.host);
    let sig = pushed_digest(&sb.run(&["sign", &r]).ok());
    let (_, m) = reg.manifest("app", &sig).unwrap();
    let mut m: Value = serde_json::from_slice(&m).unwrap();
    let env = reg
        .blob("app", m["layers"][0]["digest"].as_str().unwrap())
        .unwrap();
    let key = sb.config().join("localkeys/reg.key");
    let bad = tamper_jws(&env, Tamper::FlipSignatureByte, &key);
    let bad_digest = reg.upload_blob("app", &bad);
    m["layers"][0]["digest"] = bad_digest.into();
    m["layers"][0]["size"] = bad.len().into();
    let mb = serde_json::to_vec(&m).unwrap();
    let md = reg.put_manifest(
        "app",
        &notation_core::Digest::sha256_of(&mb).to_string(),
        OCI_MANIFEST,
        &mb,
    );
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": md, "size": mb.len(), "artifactType": "application/vnd.cncf.notary.signature"}
    ]});
    reg.put_manifest(
        "app",
        &digest.replacen(':', "-", 1),
        OCI_INDEX,
        &serde_json::to_vec(&index).unwrap(),
    );
    sb.run(&["verify", &r])
        .fails_with("integrity validation failed: signature is invalid");
}

/// Reading works with credentials: HTTP Basic and bearer tokens (pull scope).
#[test]
fn authenticated_registries() {
    let sb = trusted_signer();
    let basic = TestRegistry::distribution_htpasswd("alice", "s3cret");
    let (token, _tokens) = TestRegistry::distribution_token("bob", "pa55", "refresh-token");
    for (reg, user, pass) in [(&basic, "alice", "s3cret"), (&token, "bob", "pa55")] {
        let (digest, _, _) = reg.push_artifact("app", "v1");
        let r = format!("{}/app@{digest}", reg.host);
        sb.run(&["sign", "-u", user, "-p", pass, &r]).ok();
        sb.run(&["verify", &r])
            .fails_with("requires authentication");
        sb.run(&["verify", "-u", user, "-p", pass, &r]).ok();
        sb.run(&["list", "-u", user, "-p", pass, &r]).ok();
        sb.run(&["inspect", "-u", user, "-p", pass, &r]).ok();
    }
}
