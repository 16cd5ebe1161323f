//! Real registries on loopback for the tests, plus two test-only servers.
//!
//! - [`TestRegistry`]: a CNCF distribution 2.8 process (`docker-registry serve`;
//!   plain, htpasswd basic auth, TLS with a throwaway CA, or bearer-token auth)
//!   or a `ferro-oci-server` process (OCI 1.1 with the Referrers API). Each one
//!   gets a free loopback port and a temporary directory holding its config,
//!   storage and logs; drop kills it.
//! - [`TokenServer`]: the token service distribution's token auth needs.
//! - [`FaultProxy`]: a reverse proxy that injects 503s, dropped connections
//!   and missing `Location` headers.
//! - [`ReferrersPager`]: a reverse proxy that serves the Referrers API in pages
//!   and ignores its `artifactType` filter.
//!
//! Plain registries are addressed as `localhost:<port>` (notation talks plain
//! HTTP to localhost); on this machine `localhost` resolves only to 127.0.0.1,
//! where the registries listen. TLS registries are `127.0.0.1:<port>`.
//!
//! The harness's own requests (`push_artifact`, `manifest`, ...) authenticate
//! by themselves: Basic credentials are sent up front, and bearer tokens are
//! minted directly with the token service's key, so they never appear in
//! [`TokenServer::requests`]. They do appear in [`TestRegistry::requests`];
//! take `requests().len()` before the step under test and look past it.

#![allow(dead_code)]

mod http;
mod pager;
mod proxy;
mod token;

mod selftest;

pub use pager::ReferrersPager;
pub use proxy::{Fault, FaultProxy};
#[allow(unused_imports)]
pub use token::{TokenRequest, TokenServer};

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::blocking::{Client, Response};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// OCI image manifest media type (what [`TestRegistry::push_artifact`] pushes).
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

const READY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Distribution,
    Ferro,
}

enum Auth {
    None,
    Basic(String),
    Token(Arc<token::Minter>),
}

/// A running registry. Drop kills and reaps the process.
pub struct TestRegistry {
    /// `localhost:<port>` for plain HTTP, `127.0.0.1:<port>` for TLS.
    pub host: String,
    /// The CA certificate (PEM file) that signed the TLS server certificate.
    pub ca_pem: Option<PathBuf>,
    kind: Kind,
    auth: Auth,
    child: Child,
    client: Client,
    dir: tempfile::TempDir,
}

impl TestRegistry {
    /// distribution over plain HTTP, no auth, `storage.delete.enabled: true`.
    pub fn distribution() -> TestRegistry {
        let dir = tempdir();
        start(dir, Kind::Distribution, None, String::new(), Auth::None)
    }

    /// distribution with HTTP Basic auth (`auth.htpasswd`, bcrypt entry from
    /// `htpasswd -Bbn`).
    pub fn distribution_htpasswd(user: &str, pass: &str) -> TestRegistry {
        let dir = tempdir();
        let out = Command::new("htpasswd")
            .args(["-Bbn", user, pass])
            .output()
            .expect("run htpasswd (apache2-utils)");
        assert!(out.status.success(), "htpasswd failed");
        let file = dir.path().join("htpasswd");
        std::fs::write(&file, &out.stdout).unwrap();
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: notation-test\n    path: {}\n",
            file.display()
        );
        let basic = STANDARD.encode(format!("{user}:{pass}"));
        start(dir, Kind::Distribution, None, auth, Auth::Basic(basic))
    }

    /// distribution over HTTPS. The server certificate (SANs `IP:127.0.0.1`
    /// and `DNS:localhost`) is issued by a throwaway CA written to `ca_pem`;
    /// `host` is `127.0.0.1:<port>`.
    pub fn distribution_tls() -> TestRegistry {
        let dir = tempdir();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name = rcgen::DistinguishedName::new();
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "notation-test registry CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf.subject_alt_names
            .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "127.0.0.1");
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = leaf
            .signed_by(&key, &rcgen::Issuer::new(ca, ca_key))
            .unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
        start(
            dir,
            Kind::Distribution,
            Some(ca_file),
            String::new(),
            Auth::None,
        )
    }

    /// distribution with bearer-token auth backed by a [`TokenServer`] that
    /// accepts Basic `user:pass` (GET) and the refresh token `identity_token`
    /// (POST). Keep the server alive as long as the registry.
    pub fn distribution_token(
        user: &str,
        pass: &str,
        identity_token: &str,
    ) -> (TestRegistry, TokenServer) {
        let dir = tempdir();
        let tokens = TokenServer::start(user, pass, identity_token);
        let minter = tokens.minter();
        let root = dir.path().join("token-root.pem");
        std::fs::write(&root, minter.root_pem()).unwrap();
        let auth = format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            tokens.realm,
            token::SERVICE,
            token::ISSUER,
            root.display()
        );
        let reg = start(dir, Kind::Distribution, None, auth, Auth::Token(minter));
        (reg, tokens)
    }

    /// ferro-oci-server: OCI 1.1 with the Referrers API, plain HTTP. Found at
    /// `$FERRO_OCI_SERVER`, else `~/.cargo/bin/ferro-oci-server`, else `PATH`.
    pub fn ferro() -> TestRegistry {
        let dir = tempdir();
        start(dir, Kind::Ferro, None, String::new(), Auth::None)
    }

    /// `http://host` or `https://host`.
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.host)
    }

    /// The registry's own log (and, for distribution, its access log).
    pub fn logs(&self) -> String {
        logs(self.dir.path())
    }

    /// Uploads a blob (POST then PUT `?digest=`); returns its digest.
    pub fn upload_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let r = self.send(
            Method::POST,
            repo,
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            Vec::new(),
        );
        let r = self.expect(r, StatusCode::ACCEPTED, "start blob upload");
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload Location")
            .to_owned();
        let sep = if loc.contains('?') { '&' } else { '?' };
        let r = self.send(
            Method::PUT,
            repo,
            &format!("{loc}{sep}digest={digest}"),
            &[("content-type", "application/octet-stream")],
            data.to_vec(),
        );
        self.expect(r, StatusCode::CREATED, "finish blob upload");
        digest
    }

    /// PUTs a manifest under `reference` (tag or digest); returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let r = self.send(
            Method::PUT,
            repo,
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("content-type", media_type)],
            body.to_vec(),
        );
        self.expect(r, StatusCode::CREATED, "put manifest");
        sha256(body)
    }

    /// Pushes a fresh artifact (unique config blob, one unique layer, an OCI
    /// image manifest) tagged `tag`. Returns (digest, size, media type) of the
    /// manifest.
    pub fn push_artifact(&self, repo: &str, tag: &str) -> (String, u64, String) {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let uniq = format!(
            "{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let config = json!({"architecture": "amd64", "os": "linux", "notation-test": uniq})
            .to_string()
            .into_bytes();
        let layer = format!("notation-test layer {uniq}\n").into_bytes();
        let config_digest = self.upload_blob(repo, &config);
        let layer_digest = self.upload_blob(repo, &layer);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": layer.len(),
            }],
        })
        .to_string()
        .into_bytes();
        let digest = self.put_manifest(repo, tag, OCI_MANIFEST, &manifest);
        (digest, manifest.len() as u64, OCI_MANIFEST.to_owned())
    }

    /// GET a manifest (accepting OCI and Docker manifests and indexes):
    /// `Some((content type, bytes))`, `None` on 404.
    pub fn manifest(&self, repo: &str, reference: &str) -> Option<(String, Vec<u8>)> {
        let accept = [
            OCI_MANIFEST,
            OCI_INDEX,
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ]
        .join(", ");
        let r = self.send(
            Method::GET,
            repo,
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("accept", &accept)],
            Vec::new(),
        );
        let r = self.found(r, "get manifest")?;
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Some((ct, r.bytes().expect("manifest body").to_vec()))
    }

    /// GET a blob; `None` on 404.
    pub fn blob(&self, repo: &str, digest: &str) -> Option<Vec<u8>> {
        let r = self.send(
            Method::GET,
            repo,
            &format!("/v2/{repo}/blobs/{digest}"),
            &[],
            Vec::new(),
        );
        let r = self.found(r, "get blob")?;
        Some(r.bytes().expect("blob body").to_vec())
    }

    /// GET `/v2/<repo>/referrers/<digest>` (OCI 1.1); `None` on 404 (which is
    /// what distribution 2.8 answers: it has no Referrers API).
    pub fn referrers_api(&self, repo: &str, digest: &str) -> Option<Value> {
        let r = self.send(
            Method::GET,
            repo,
            &format!("/v2/{repo}/referrers/{digest}"),
            &[],
            Vec::new(),
        );
        let r = self.found(r, "get referrers")?;
        Some(serde_json::from_slice(&r.bytes().unwrap()).expect("referrers JSON"))
    }

    /// The referrers tag schema index: manifest `sha256-<hex>` of `subject_digest`.
    pub fn tag_index(&self, repo: &str, subject_digest: &str) -> Option<Value> {
        let tag = subject_digest.replacen(':', "-", 1);
        let (_, body) = self.manifest(repo, &tag)?;
        Some(serde_json::from_slice(&body).expect("tag index JSON"))
    }

    /// Every request the registry served so far, as `"METHOD /path?query"`, in
    /// order, from distribution's access log. Always empty for ferro (it has
    /// no access log).
    pub fn requests(&self) -> Vec<String> {
        if self.kind != Kind::Distribution {
            return Vec::new();
        }
        // distribution writes a line as the response completes; wait until
        // the log stops growing so the last request is in it.
        let path = self.dir.path().join("access.log");
        let mut last = std::fs::read_to_string(&path).unwrap_or_default();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(25));
            let now = std::fs::read_to_string(&path).unwrap_or_default();
            if now == last {
                break;
            }
            last = now;
        }
        last.lines().filter_map(parse_access_line).collect()
    }

    fn auth_header(&self, repo: &str) -> Option<String> {
        match &self.auth {
            Auth::None => None,
            Auth::Basic(b) => Some(format!("Basic {b}")),
            Auth::Token(m) => Some(format!(
                "Bearer {}",
                m.mint(
                    "harness",
                    &[json!({"type": "repository", "name": repo, "actions": ["pull", "push", "delete"]})],
                )
            )),
        }
    }

    fn send(
        &self,
        method: Method,
        repo: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Response {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.url())
        };
        let mut req = self.client.request(method.clone(), &url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(a) = self.auth_header(repo) {
            req = req.header("authorization", a);
        }
        if method == Method::POST || method == Method::PUT || !body.is_empty() {
            req = req.body(body);
        }
        req.send()
            .unwrap_or_else(|e| panic!("{method} {url}: {e}\n{}", self.logs()))
    }

    #[track_caller]
    fn expect(&self, r: Response, want: StatusCode, what: &str) -> Response {
        if r.status() != want {
            let status = r.status();
            let body = r.text().unwrap_or_default();
            panic!(
                "{what}: expected {want}, got {status}: {body}\n{}",
                self.logs()
            );
        }
        r
    }

    #[track_caller]
    fn found(&self, r: Response, what: &str) -> Option<Response> {
        if r.status() == StatusCode::NOT_FOUND {
            return None;
        }
        Some(self.expect(r, StatusCode::OK, what))
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 2 "" "ua"` → `GET /v2/`.
fn parse_access_line(line: &str) -> Option<String> {
    let start = line.find("] \"")? + 3;
    let rest = &line[start..];
    let quoted = &rest[..rest.find('"')?];
    let mut parts = quoted.split(' ');
    let (method, target, proto) = (parts.next()?, parts.next()?, parts.next()?);
    if !proto.starts_with("HTTP/") || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Some(format!("{method} {target}"))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("notation-registry-")
        .tempdir()
        .expect("tempdir")
}

fn sha256(data: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("pick a free port")
        .port()
}

fn logs(dir: &Path) -> String {
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_default();
    format!(
        "--- registry.log ---\n{}--- access.log ---\n{}",
        read("registry.log"),
        read("access.log")
    )
}

fn client(ca: Option<&Path>) -> Client {
    let mut b = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30));
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).unwrap();
        let cert = reqwest::Certificate::from_pem(&pem).expect("CA PEM");
        b = b.tls_certs_only([cert]);
    }
    b.build().expect("http client")
}

fn ferro_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("FERRO_OCI_SERVER") {
        return p.into();
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".cargo/bin/ferro-oci-server");
        if p.is_file() {
            return p;
        }
    }
    "ferro-oci-server".into()
}

fn distribution_config(dir: &Path, port: u16, tls: bool, auth: &str) -> PathBuf {
    let tls = if tls {
        format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            dir.join("server.pem").display(),
            dir.join("server.key").display()
        )
    } else {
        String::new()
    };
    let config = format!(
        "version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: notation-spec-tests
  headers:
    X-Content-Type-Options: [nosniff]
{tls}{auth}",
        data = dir.join("data").display()
    );
    let path = dir.join("config.yml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Spawns the registry and waits for `GET /v2/` to answer 200 or 401. Retries
/// with another port if the picked one was taken in the meantime.
fn start(
    dir: tempfile::TempDir,
    kind: Kind,
    ca_pem: Option<PathBuf>,
    auth_yaml: String,
    auth: Auth,
) -> TestRegistry {
    let client = client(ca_pem.as_deref());
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = free_port();
        let host = if ca_pem.is_some() {
            format!("127.0.0.1:{port}")
        } else {
            format!("localhost:{port}")
        };
        let log = File::create(dir.path().join("registry.log")).unwrap();
        let mut cmd = match kind {
            Kind::Distribution => {
                let config = distribution_config(dir.path(), port, ca_pem.is_some(), &auth_yaml);
                let access = File::create(dir.path().join("access.log")).unwrap();
                let mut c = Command::new(
                    std::env::var_os("DOCKER_REGISTRY")
                        .unwrap_or("/usr/bin/docker-registry".into()),
                );
                // The access log goes to stdout, everything else to stderr.
                c.arg("serve").arg(config).stdout(access).stderr(log);
                c
            }
            Kind::Ferro => {
                let mut c = Command::new(ferro_binary());
                c.stdout(log.try_clone().unwrap()).stderr(log);
                c
            }
        };
        // REGISTRY_* variables would override distribution's config file.
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .current_dir(dir.path());
        if kind == Kind::Ferro {
            cmd.env("FERRO_OCI_LISTEN", format!("127.0.0.1:{port}"))
                .env("FERRO_OCI_STORAGE_DIR", dir.path().join("data"))
                .env("NO_COLOR", "1");
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start registry: {e}"));
        let scheme = if ca_pem.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{host}/v2/");
        let deadline = Instant::now() + READY_TIMEOUT;
        let failure = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break format!("registry exited early ({status})");
            }
            if let Ok(r) = client.get(&url).send()
                && matches!(r.status().as_u16(), 200 | 401)
            {
                return TestRegistry {
                    host,
                    ca_pem,
                    kind,
                    auth,
                    child,
                    client,
                    dir,
                };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break format!("registry not ready at {url} after {READY_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let logs = logs(dir.path());
        if attempt < 3 && logs.to_ascii_lowercase().contains("address already in use") {
            continue;
        }
        panic!("{failure}\n{logs}");
    }
}
