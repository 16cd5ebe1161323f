//! Tests of the registry harness itself: each server starts, pushes and reads
//! work, auth is enforced, and the fault proxy injects what it promises.

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use super::{Fault, FaultProxy, OCI_MANIFEST, TestRegistry, sha256};

/// A client with no extra trust and no proxy.
fn plain() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `key="value"` parameters of a `WWW-Authenticate` challenge.
fn challenge_param(header: &str, key: &str) -> Option<String> {
    let at = header.find(&format!("{key}=\""))? + key.len() + 2;
    let rest = &header[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

fn www_authenticate(r: &reqwest::blocking::Response) -> String {
    r.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn json_body(r: reqwest::blocking::Response) -> Value {
    serde_json::from_slice(&r.bytes().unwrap()).unwrap()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn distribution_push_read_delete_and_access_log() {
    let reg = TestRegistry::distribution();
    assert!(reg.host.starts_with("localhost:"), "{}", reg.host);
    let (digest, size, media_type) = reg.push_artifact("self/plain", "v1");
    assert_eq!(media_type, OCI_MANIFEST);

    let (ct, body) = reg.manifest("self/plain", "v1").expect("tagged manifest");
    assert_eq!(ct, OCI_MANIFEST);
    assert_eq!(body.len() as u64, size);
    assert_eq!(sha256(&body), digest);
    assert_eq!(reg.manifest("self/plain", &digest).unwrap().1, body);
    let m: Value = serde_json::from_slice(&body).unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    assert!(reg.blob("self/plain", layer).is_some());

    // Unique content per call.
    let (digest2, _, _) = reg.push_artifact("self/plain", "v2");
    assert_ne!(digest, digest2);

    // No Referrers API in distribution 2.8, and no tag index yet.
    assert_eq!(reg.referrers_api("self/plain", &digest), None);
    assert_eq!(reg.tag_index("self/plain", &digest), None);
    assert_eq!(reg.manifest("self/plain", "missing"), None);

    // distribution 2.8 stores a signature manifest with `subject` and
    // `artifactType`, and an index under the referrers tag schema tag.
    let config = reg.upload_blob("self/plain", b"{}");
    let layer = reg.upload_blob("self/plain", b"sig");
    let sig = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.cncf.notary.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/jose+json", "digest": layer, "size": 3}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": digest, "size": size},
    })
    .to_string();
    let sig_digest = sha256(sig.as_bytes());
    reg.put_manifest("self/plain", &sig_digest, OCI_MANIFEST, sig.as_bytes());
    let index = json!({
        "schemaVersion": 2,
        "mediaType": super::OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.cncf.notary.signature",
            "digest": sig_digest,
            "size": sig.len(),
        }],
    });
    let tag = digest.replacen(':', "-", 1);
    reg.put_manifest(
        "self/plain",
        &tag,
        super::OCI_INDEX,
        index.to_string().as_bytes(),
    );
    assert_eq!(reg.tag_index("self/plain", &digest), Some(index));
    assert_eq!(reg.referrers_api("self/plain", &digest), None);

    // storage.delete.enabled: manifests can be deleted.
    let r = plain()
        .delete(format!("{}/v2/self/plain/manifests/{digest2}", reg.url()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(reg.manifest("self/plain", &digest2), None);

    let log = reg.requests();
    assert!(log.contains(&"GET /v2/".to_owned()), "{log:?}");
    assert!(
        log.contains(&"PUT /v2/self/plain/manifests/v1".to_owned()),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("PUT /v2/self/plain/blobs/uploads/") && l.contains("?_state=")),
        "{log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("POST /v2/self/plain/blobs/uploads/"))
            .count(),
        6,
        "{log:?}"
    );
    assert_eq!(
        log.last().unwrap(),
        &format!("GET /v2/self/plain/manifests/{digest2}")
    );
}

#[test]
fn ferro_push_and_referrers_api() {
    let reg = TestRegistry::ferro();
    let (digest, size, _) = reg.push_artifact("self/ferro", "v1");
    let (ct, body) = reg.manifest("self/ferro", "v1").expect("manifest");
    assert_eq!(ct, OCI_MANIFEST);
    assert_eq!((sha256(&body), body.len() as u64), (digest.clone(), size));

    let empty = reg
        .referrers_api("self/ferro", &digest)
        .expect("referrers API");
    assert_eq!(empty["manifests"], json!([]));

    // A referrer shows up in the Referrers API.
    let config = reg.upload_blob("self/ferro", b"{}");
    let layer = reg.upload_blob("self/ferro", b"signature bytes");
    let referrer = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.cncf.notary.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/jose+json", "digest": layer, "size": 15}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": digest, "size": size},
    })
    .to_string();
    let rdigest = reg.put_manifest(
        "self/ferro",
        &sha256(referrer.as_bytes()),
        OCI_MANIFEST,
        referrer.as_bytes(),
    );
    let index = reg.referrers_api("self/ferro", &digest).unwrap();
    let listed = index["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{index}");
    assert_eq!(listed[0]["digest"], rdigest.as_str());
    assert_eq!(
        listed[0]["artifactType"],
        "application/vnd.cncf.notary.signature"
    );
    assert!(reg.requests().is_empty());
}

#[test]
fn htpasswd_enforces_basic_auth() {
    let reg = TestRegistry::distribution_htpasswd("alice", "s3cret");
    let (digest, _, _) = reg.push_artifact("self/basic", "v1");
    assert!(reg.manifest("self/basic", &digest).is_some());

    let url = format!("{}/v2/self/basic/manifests/v1", reg.url());
    let none = plain().get(&url).send().unwrap();
    assert_eq!(none.status(), 401);
    assert!(
        www_authenticate(&none).starts_with("Basic "),
        "{}",
        www_authenticate(&none)
    );
    let wrong = plain()
        .get(&url)
        .basic_auth("alice", Some("nope"))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = plain()
        .get(&url)
        .header("accept", OCI_MANIFEST)
        .basic_auth("alice", Some("s3cret"))
        .send()
        .unwrap();
    assert_eq!(right.status(), 200);
}

#[test]
fn tls_needs_the_ca() {
    let reg = TestRegistry::distribution_tls();
    assert!(reg.host.starts_with("127.0.0.1:"), "{}", reg.host);
    assert!(reg.url().starts_with("https://127.0.0.1:"));
    let ca = reg.ca_pem.clone().expect("ca_pem");
    let (digest, _, _) = reg.push_artifact("self/tls", "v1");
    assert!(reg.manifest("self/tls", &digest).is_some());

    let url = format!("{}/v2/", reg.url());
    let err = plain().get(&url).send().expect_err("untrusted server cert");
    assert!(err.is_connect() || err.is_request(), "{err:?}");

    let cert = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let trusting = Client::builder()
        .no_proxy()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    assert_eq!(trusting.get(&url).send().unwrap().status(), 200);
}

#[test]
fn token_auth_flow() {
    let (reg, tokens) = TestRegistry::distribution_token("bob", "pa55", "identity-xyz");
    // The harness mints its own tokens: no token-service traffic.
    let (digest, _, _) = reg.push_artifact("self/token", "v1");
    assert!(reg.manifest("self/token", "v1").is_some());
    assert!(tokens.requests().is_empty());

    // Challenge → token (GET with Basic) → retry.
    let http = plain();
    let url = format!("{}/v2/self/token/manifests/{digest}", reg.url());
    let r = http.get(&url).send().unwrap();
    assert_eq!(r.status(), 401);
    let ch = www_authenticate(&r);
    assert!(ch.starts_with("Bearer "), "{ch}");
    let realm = challenge_param(&ch, "realm").unwrap();
    let service = challenge_param(&ch, "service").unwrap();
    let scope = challenge_param(&ch, "scope").unwrap();
    assert_eq!(realm, tokens.realm);
    assert_eq!(service, "notation-test");
    assert_eq!(scope, "repository:self/token:pull");

    let t = http
        .get(format!(
            "{realm}?service={service}&scope={}&scope=repository%3Aother%3Apull%2Cpush",
            scope.replace(':', "%3A")
        ))
        .basic_auth("bob", Some("pa55"))
        .send()
        .unwrap();
    assert_eq!(t.status(), 200);
    let t: Value = json_body(t);
    let jwt = t["token"].as_str().unwrap().to_owned();
    assert_eq!(t["access_token"], jwt.as_str());
    assert_eq!(t["expires_in"], 300);
    let c = claims(&jwt);
    assert_eq!(c["aud"], "notation-test");
    assert_eq!(c["sub"], "bob");
    assert_eq!(
        c["access"],
        json!([
            {"type": "repository", "name": "self/token", "actions": ["pull"]},
            {"type": "repository", "name": "other", "actions": ["pull", "push"]},
        ])
    );
    let ok = http
        .get(&url)
        .header("accept", OCI_MANIFEST)
        .bearer_auth(&jwt)
        .send()
        .unwrap();
    assert_eq!(ok.status(), 200);
    // A pull-only token cannot push.
    let push = http
        .post(format!("{}/v2/self/token/blobs/uploads/", reg.url()))
        .bearer_auth(&jwt)
        .send()
        .unwrap();
    assert_eq!(push.status(), 401);

    // Identity token: OAuth2 refresh-token grant.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "identity-xyz"),
        ("service", "notation-test"),
        ("scope", "repository:self/token:pull,push"),
        ("client_id", "notation"),
    ];
    let body: String = form
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace(':', "%3A")
                    .replace('/', "%2F")
                    .replace(',', "%2C")
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let post = |body: String| {
        http.post(&realm)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap()
    };
    let r = post(body.clone());
    assert_eq!(r.status(), 200);
    let r: Value = json_body(r);
    assert!(r.get("token").is_none());
    let access = r["access_token"].as_str().unwrap();
    let up = http
        .post(format!("{}/v2/self/token/blobs/uploads/", reg.url()))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(up.status(), 202);

    // Wrong secrets.
    let wrong = http
        .get(format!("{realm}?service=notation-test"))
        .basic_auth("bob", Some("bad"))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(http.get(&realm).send().unwrap().status(), 401);
    assert_eq!(post(body.replace("identity-xyz", "other")).status(), 401);

    let log = tokens.requests();
    let summary: Vec<(String, Option<String>, u16)> = log
        .iter()
        .map(|r| (r.method.clone(), r.grant_type.clone(), r.status))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("GET".to_owned(), None, 200),
            ("POST".to_owned(), Some("refresh_token".to_owned()), 200),
            ("GET".to_owned(), None, 401),
            ("GET".to_owned(), None, 401),
            ("POST".to_owned(), Some("refresh_token".to_owned()), 401),
        ]
    );
    assert_eq!(log[0].user.as_deref(), Some("bob"));
    assert_eq!(
        log[0].scopes,
        vec!["repository:self/token:pull", "repository:other:pull,push"]
    );
    assert_eq!(log[1].client_id.as_deref(), Some("notation"));
    assert_eq!(log[1].scopes, vec!["repository:self/token:pull,push"]);

    // restrict_actions narrows what is granted.
    tokens.restrict_actions(&["pull"]);
    let r: Value = json_body(post(body));
    let c = claims(r["access_token"].as_str().unwrap());
    assert_eq!(c["access"][0]["actions"], json!(["pull"]));
}

#[test]
fn fault_proxy_503_once_then_success() {
    let reg = TestRegistry::distribution();
    let proxy = FaultProxy::new(
        &reg,
        vec![(
            "GET".into(),
            "/v2/".into(),
            Fault::Status503Once {
                retry_after: Some(1),
            },
        )],
    );
    assert!(proxy.host.starts_with("localhost:"));
    let http = plain();
    let url = format!("{}/v2/", proxy.url());
    let first = http.get(&url).send().unwrap();
    assert_eq!(first.status(), 503);
    assert_eq!(first.headers()["retry-after"], "1");
    drop(first.bytes().unwrap());
    // Same client, so the kept-alive connection is reused.
    assert_eq!(http.get(&url).send().unwrap().status(), 200);
    assert_eq!(proxy.hits(), vec!["GET /v2/", "GET /v2/"]);
    assert_eq!(reg.requests(), vec!["GET /v2/", "GET /v2/"]);
}

#[test]
fn fault_proxy_drop_once_then_success_and_relays_pushes() {
    let reg = TestRegistry::distribution();
    let (digest, _, _) = reg.push_artifact("self/proxy", "v1");
    let proxy = FaultProxy::new(
        &reg,
        vec![(
            "HEAD".into(),
            "/manifests/".into(),
            Fault::DropConnectionOnce,
        )],
    );
    let http = plain();
    let url = format!("{}/v2/self/proxy/manifests/v1", proxy.url());
    let head = |http: &Client| http.head(&url).header("accept", OCI_MANIFEST).send();
    assert!(head(&http).is_err(), "dropped connection is an error");
    let r = head(&http).unwrap();
    assert_eq!(r.status(), 200);
    // HEAD keeps the upstream's Content-Length and digest.
    assert_eq!(r.headers()["docker-content-digest"], digest.as_str());
    assert!(
        r.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(proxy.hits(), vec!["HEAD /v2/self/proxy/manifests/v1"; 2]);

    // Uploads through the proxy, including a chunked request body.
    let up = http
        .post(format!("{}/v2/self/proxy/blobs/uploads/", proxy.url()))
        .send()
        .unwrap();
    assert_eq!(up.status(), 202);
    let loc = up.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        loc.starts_with(&format!("{}/v2/", proxy.url())),
        "Location rewritten: {loc}"
    );
    let data = b"chunked blob".to_vec();
    let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(data.clone()));
    let put = http
        .put(format!("{loc}&digest={}", sha256(&data)))
        .body(reqwest::blocking::Body::new(reader))
        .send()
        .unwrap();
    assert_eq!(put.status(), 201, "{}", put.text().unwrap_or_default());
    assert_eq!(reg.blob("self/proxy", &sha256(&data)).unwrap(), data);
}

#[test]
fn fault_proxy_strips_location() {
    let reg = TestRegistry::distribution();
    let proxy = FaultProxy::new(
        &reg,
        vec![(
            "POST".into(),
            "/blobs/uploads/".into(),
            Fault::StripLocationHeader,
        )],
    );
    let http = plain();
    for _ in 0..2 {
        let r = http
            .post(format!("{}/v2/self/strip/blobs/uploads/", proxy.url()))
            .send()
            .unwrap();
        assert_eq!(r.status(), 202);
        assert!(r.headers().get("location").is_none());
        assert!(r.headers().get("docker-upload-uuid").is_some());
    }
    assert_eq!(proxy.hits().len(), 2);
}
