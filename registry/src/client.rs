//! Repository operations of the distribution spec that signing needs: resolve a
//! manifest (one HEAD), push blobs (monolithic POST where accepted, else POST + PUT),
//! push a manifest by digest and see whether the registry indexed its subject
//! (`OCI-Subject`), read manifests, probe the Referrers API, delete manifests.
//! Authentication challenges are answered once and the result reused.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use notation_core::{Descriptor, Digest};
use reqwest::StatusCode;
use reqwest::blocking::{Client as ReqwestClient, RequestBuilder, Response};
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};

use crate::auth::{AuthCache, parse_challenge};
use crate::credentials::Credential;
use crate::error::{RegistryError, Result};
use crate::http::{Http, TransportConfig};

/// Media types accepted when resolving an artifact (notary-spec.md §3.3).
pub const MANIFEST_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.oci.artifact.manifest.v1+json";

/// Looks up the credential for a registry (`host[:port]`).
pub type CredentialFn = dyn Fn(&str) -> Result<Credential> + Send + Sync;

/// A registry client shared by every repository of one process: one connection pool,
/// one token cache, credentials looked up once per registry.
pub struct Client {
    http: Http,
    auth: AuthCache,
    credential_fn: Box<CredentialFn>,
    credentials: Mutex<HashMap<String, Credential>>,
    /// Registries seen to refuse single-request (monolithic POST) uploads.
    no_monolithic: Mutex<HashSet<String>>,
    /// Whether each registry has the Referrers API, once known.
    referrers_api: Mutex<HashMap<String, bool>>,
    /// What probing the Referrers API found, per registry (not what `OCI-Subject`
    /// said): what a caller may remember across processes.
    probed: Mutex<HashMap<String, bool>>,
    /// Held while probing the Referrers API, so concurrent signers probe once.
    probing: Mutex<()>,
    /// Held while answering an authentication challenge, so that concurrent
    /// requests meeting the same challenge fetch one token between them.
    authenticating: Mutex<()>,
}

/// What a manifest push returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestPush {
    /// Stored. `subject_indexed` is true when the registry answered with
    /// `OCI-Subject`, i.e. it keeps the Referrers API up to date itself.
    Pushed {
        /// The `OCI-Subject` header was present.
        subject_indexed: bool,
    },
    /// The registry does not have a blob the manifest names (MANIFEST_BLOB_UNKNOWN).
    BlobUnknown,
}

impl Client {
    /// A client with `transport` settings and a credential lookup.
    pub fn new(
        transport: TransportConfig,
        credential_fn: impl Fn(&str) -> Result<Credential> + Send + Sync + 'static,
    ) -> Result<Client> {
        Ok(Client {
            http: Http::new(transport)?,
            auth: AuthCache::default(),
            credential_fn: Box::new(credential_fn),
            credentials: Mutex::new(HashMap::new()),
            no_monolithic: Mutex::new(HashSet::new()),
            referrers_api: Mutex::new(HashMap::new()),
            probed: Mutex::new(HashMap::new()),
            probing: Mutex::new(()),
            authenticating: Mutex::new(()),
        })
    }

    /// Takes `registry` (`host[:port]`) to have no Referrers API without probing it,
    /// as remembered from an earlier probe. A push answered with `OCI-Subject` still
    /// overrides it: the header is the registry's own word (notary-spec.md §3.4).
    pub fn assume_no_referrers_api(&self, registry: &str) {
        self.referrers_api
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(registry.to_owned())
            .or_insert(false);
    }

    /// What this client knows about each registry's Referrers API, and how:
    /// `(registry, supported, probed)`, where `probed` is false when a push's
    /// `OCI-Subject` header or [`Client::assume_no_referrers_api`] told it.
    pub fn referrers_api_findings(&self) -> Vec<(String, bool, bool)> {
        let probed = self.probed.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(String, bool, bool)> = self
            .referrers_api
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(r, s)| (r.clone(), *s, probed.get(r) == Some(s)))
            .collect();
        out.sort();
        out
    }

    /// Sends one line per HTTP exchange to `trace` (for `-d`).
    pub fn set_trace(&mut self, trace: Box<crate::http::Trace>) {
        self.http.set_trace(trace);
    }

    /// HTTP requests sent so far (every retry counts).
    pub fn request_count(&self) -> u64 {
        self.http.request_count()
    }

    /// Token requests made so far.
    pub fn token_fetches(&self) -> u64 {
        self.auth.token_fetches()
    }

    fn credential(&self, registry: &str) -> Result<Credential> {
        if let Some(c) = self
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry)
        {
            return Ok(c.clone());
        }
        let c = (self.credential_fn)(registry)?;
        self.credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(registry.to_owned(), c.clone());
        Ok(c)
    }

    /// A repository handle. `push` asks for push rights up front, so one token covers
    /// every request of a signing run.
    pub fn repository<'a>(&'a self, registry: &str, name: &str, push: bool) -> Repository<'a> {
        Repository {
            client: self,
            registry: registry.to_owned(),
            name: name.to_owned(),
            scope: format!(
                "repository:{name}:{}",
                if push { "pull,push" } else { "pull" }
            ),
        }
    }

    /// Checks that the registry answers `/v2/` with these credentials (for `login`).
    /// Returns false when the registry never asked for credentials, so they were not
    /// actually checked.
    pub fn check_login(&self, registry: &str) -> Result<bool> {
        let before = self.auth.answers();
        let resp = self.send(registry, "", true, &|c, base| c.get(format!("{base}/v2/")))?;
        if resp.status().is_success() {
            Ok(self.auth.answers() > before)
        } else {
            Err(status_error(registry, "checking the credentials", resp))
        }
    }

    /// Sends a request, answering one authentication challenge if needed.
    fn send(
        &self,
        registry: &str,
        scope: &str,
        retry: bool,
        build: &dyn Fn(&ReqwestClient, &str) -> RequestBuilder,
    ) -> Result<Response> {
        let base = self.http.base(registry);
        let attempt = || {
            self.http.send_with(registry, retry, &|c| {
                self.auth.apply(registry, scope, build(c, &base))
            })
        };
        let answered = self.auth.answers();
        let resp = attempt()?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        // One challenge is answered at a time. If another request answered one while
        // this one was out, try its answer before fetching another token.
        let _one_at_a_time = self
            .authenticating
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let resp = if self.auth.answers() != answered {
            drop(resp);
            let again = attempt()?;
            if again.status() != StatusCode::UNAUTHORIZED {
                return Ok(again);
            }
            again
        } else {
            resp
        };
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge)
            .ok_or_else(|| RegistryError::AuthenticationRequired {
                registry: registry.to_owned(),
            })?;
        let credential = self.credential(registry)?;
        self.auth
            .authenticate(&self.http, registry, scope, &challenge, &credential)?;
        let resp = attempt()?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            let insufficient =
                header(&resp, WWW_AUTHENTICATE).is_some_and(|h| h.contains("insufficient_scope"));
            if insufficient && credential != Credential::Anonymous {
                return Err(RegistryError::Denied {
                    registry: registry.to_owned(),
                    what: scope.to_owned(),
                    message: registry_detail(&body_text(resp))
                        .trim_start_matches(": ")
                        .to_owned(),
                });
            }
            return Err(match credential {
                Credential::Anonymous => RegistryError::AuthenticationRequired {
                    registry: registry.to_owned(),
                },
                _ => RegistryError::CredentialsRejected {
                    registry: registry.to_owned(),
                },
            });
        }
        Ok(resp)
    }
}

/// One repository on one registry.
pub struct Repository<'a> {
    client: &'a Client,
    registry: String,
    name: String,
    scope: String,
}

/// The registry's own error text from a distribution error body, as ": CODE: message".
fn registry_detail(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_str::<Errors>(body) {
        Ok(e) if !e.errors.is_empty() => {
            let parts: Vec<String> = e
                .errors
                .iter()
                .map(|i| match (i.code.is_empty(), i.message.is_empty()) {
                    (false, false) => format!("{}: {}", i.code, i.message),
                    (false, true) => i.code.clone(),
                    _ => i.message.clone(),
                })
                .collect();
            format!(": {}", parts.join("; "))
        }
        _ => {
            let line = body.lines().next().unwrap_or("").trim();
            if line.is_empty() {
                String::new()
            } else {
                format!(": {}", line.chars().take(200).collect::<String>())
            }
        }
    }
}

/// Largest manifest or index read (notation's limit for signature manifests).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest error body read.
const MAX_ERROR_BYTES: u64 = 64 << 10;

fn body_text(resp: Response) -> String {
    String::from_utf8_lossy(&crate::http::read_limited(resp, MAX_ERROR_BYTES).unwrap_or_default())
        .into_owned()
}

pub(crate) fn status_error(registry: &str, operation: &str, resp: Response) -> RegistryError {
    let status = resp.status().as_u16();
    let detail = registry_detail(&body_text(resp));
    match status {
        401 => RegistryError::CredentialsRejected {
            registry: registry.to_owned(),
        },
        403 => RegistryError::Denied {
            registry: registry.to_owned(),
            what: operation.to_owned(),
            message: detail.trim_start_matches(": ").to_owned(),
        },
        _ => RegistryError::Status {
            registry: registry.to_owned(),
            operation: operation.to_owned(),
            status,
            detail,
        },
    }
}

fn header(resp: &Response, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn media_type_of(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

impl Repository<'_> {
    /// `host[:port]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Repository name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn send(
        &self,
        _operation: &str,
        build: &dyn Fn(&ReqwestClient, &str) -> RequestBuilder,
    ) -> Result<Response> {
        self.client.send(&self.registry, &self.scope, true, build)
    }

    fn protocol(&self, operation: &str, reason: impl Into<String>) -> RegistryError {
        RegistryError::Protocol {
            registry: self.registry.clone(),
            operation: operation.to_owned(),
            reason: reason.into(),
        }
    }

    /// Resolves a tag or digest to the manifest's descriptor with one HEAD
    /// (Content-Type, Docker-Content-Digest, Content-Length), falling back to a GET
    /// when the registry leaves a header out.
    pub fn resolve(&self, reference: &str) -> Result<Descriptor> {
        let op = format!("resolving {}/{}:{reference}", self.registry, self.name);
        let url = |base: &str| format!("{base}/v2/{}/manifests/{reference}", self.name);
        let resp = self.send(&op, &|c, base| {
            c.head(url(base)).header(ACCEPT, MANIFEST_ACCEPT)
        })?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound {
                registry: self.registry.clone(),
                reference: format!("{}:{reference}", self.name).replace(":sha256:", "@sha256:"),
                detail: String::new(),
            });
        }
        if !resp.status().is_success() {
            return Err(status_error(&self.registry, &op, resp));
        }
        let media_type = header(&resp, CONTENT_TYPE).map(|c| media_type_of(&c));
        let digest = header(&resp, "docker-content-digest").and_then(|d| d.parse::<Digest>().ok());
        let size = header(&resp, CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
        let (media_type, digest, size) = match (media_type, digest, size) {
            (Some(m), Some(d), Some(s)) if !m.is_empty() && s > 0 => (m, d, s),
            _ => {
                let (ct, bytes) = self.manifest(reference, MANIFEST_ACCEPT)?.ok_or_else(|| {
                    self.protocol(&op, "the manifest disappeared between HEAD and GET")
                })?;
                (
                    media_type_of(&ct),
                    Digest::sha256_of(&bytes),
                    bytes.len() as u64,
                )
            }
        };
        if let Ok(asked) = reference.parse::<Digest>()
            && asked != digest
        {
            return Err(RegistryError::Protocol {
                registry: self.registry.clone(),
                operation: op,
                reason: format!(
                    "user input digest {asked} does not match the resolved digest {digest}"
                ),
            });
        }
        Ok(Descriptor::new(media_type, digest, size))
    }

    /// Reads a manifest; `None` when the registry does not have it.
    pub fn manifest(&self, reference: &str, accept: &str) -> Result<Option<(String, Vec<u8>)>> {
        let op = format!(
            "reading manifest {}/{}:{reference}",
            self.registry, self.name
        );
        let resp = self.send(&op, &|c, base| {
            c.get(format!("{base}/v2/{}/manifests/{reference}", self.name))
                .header(ACCEPT, accept)
        })?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(status_error(&self.registry, &op, resp));
        }
        let ct = header(&resp, CONTENT_TYPE).unwrap_or_default();
        let bytes = crate::http::read_limited(resp, MAX_MANIFEST_BYTES)
            .map_err(|e| self.protocol(&op, e))?;
        Ok(Some((ct, bytes)))
    }

    /// Uploads a blob: one monolithic `POST ?digest=` where the registry accepts it,
    /// otherwise `POST` then `PUT <Location>&digest=`.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        let op = format!("uploading blob {digest} to {}/{}", self.registry, self.name);
        let monolithic = !self
            .client
            .no_monolithic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&self.registry);
        let resp = self.send(&op, &|c, base| {
            let url = format!("{base}/v2/{}/blobs/uploads/", self.name);
            if monolithic {
                c.post(format!("{url}?digest={digest}"))
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.to_vec())
            } else {
                c.post(url).header(CONTENT_LENGTH, "0")
            }
        })?;
        match resp.status() {
            StatusCode::CREATED => return Ok(digest),
            StatusCode::ACCEPTED => {}
            _ => return Err(status_error(&self.registry, &op, resp)),
        }
        if monolithic {
            self.client
                .no_monolithic
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.registry.clone());
        }
        let location = header(&resp, LOCATION)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                self.protocol(
                    &op,
                    "the upload was accepted (202) but the response has no Location header",
                )
            })?;
        // The Location may be relative (to the upload URL) or absolute. Credentials
        // go only to the registry's own origin, and never from HTTPS down to HTTP.
        let base = self.client.http.base(&self.registry);
        let upload_url = format!("{base}/v2/{}/blobs/uploads/", self.name);
        let mut target = reqwest::Url::parse(&upload_url)
            .and_then(|u| u.join(&location))
            .map_err(|_| {
                self.protocol(
                    &op,
                    format!("the upload Location {location:?} is not a URL"),
                )
            })?;
        if base.starts_with("https://") && target.scheme() != "https" {
            return Err(self.protocol(
                &op,
                "the upload Location downgrades HTTPS to plain HTTP; refusing to send the blob",
            ));
        }
        target
            .query_pairs_mut()
            .append_pair("digest", digest.as_str());
        let put_request = |c: &ReqwestClient| {
            c.put(target.clone())
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(bytes.to_vec())
        };
        let put = if crate::http::same_origin(&base, target.as_str()) {
            self.send(&op, &|c, _| put_request(c))?
        } else {
            self.client.http.send(&self.registry, &put_request)?
        };
        if put.status() != StatusCode::CREATED {
            return Err(status_error(&self.registry, &op, put));
        }
        Ok(digest)
    }

    /// Pushes a manifest under `reference` (a digest, or a tag for indexes).
    pub fn push_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<ManifestPush> {
        self.push_manifest_with(reference, media_type, bytes, true)
    }

    /// Pushes a manifest once, without transport retries: for the referrers index,
    /// whose caller re-reads and merges instead of replaying a possibly stale write.
    pub fn push_manifest_once(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<ManifestPush> {
        self.push_manifest_with(reference, media_type, bytes, false)
    }

    fn push_manifest_with(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
        retry: bool,
    ) -> Result<ManifestPush> {
        let op = format!(
            "pushing manifest {}/{}:{reference}",
            self.registry, self.name
        )
        .replace(":sha256:", "@sha256:");
        let resp = self
            .client
            .send(&self.registry, &self.scope, retry, &|c, base| {
                c.put(format!("{base}/v2/{}/manifests/{reference}", self.name))
                    .header(CONTENT_TYPE, media_type)
                    .body(bytes.to_vec())
            })?;
        if resp.status() == StatusCode::CREATED {
            let subject_indexed = resp.headers().contains_key("oci-subject");
            if subject_indexed {
                self.client
                    .referrers_api
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(self.registry.clone(), true);
            }
            return Ok(ManifestPush::Pushed { subject_indexed });
        }
        if resp.status() == StatusCode::BAD_REQUEST {
            let body = body_text(resp);
            if body.contains("MANIFEST_BLOB_UNKNOWN") || body.contains("BLOB_UNKNOWN") {
                return Ok(ManifestPush::BlobUnknown);
            }
            return Err(RegistryError::Status {
                registry: self.registry.clone(),
                operation: op,
                status: 400,
                detail: registry_detail(&body),
            });
        }
        Err(status_error(&self.registry, &op, resp))
    }

    /// Whether the registry has the Referrers API. Known once a push was answered
    /// with `OCI-Subject`; otherwise probed once per registry for the life of the
    /// client (a `GET` of the referrers of `subject`), and remembered: a batch pays
    /// for the probe once, not once per signature.
    pub fn has_referrers_api(&self, subject: &Digest) -> Result<bool> {
        let known = || {
            self.client
                .referrers_api
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&self.registry)
                .copied()
        };
        if let Some(k) = known() {
            return Ok(k);
        }
        let _one_probe = self
            .client
            .probing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(k) = known() {
            return Ok(k);
        }
        let supported = self
            .referrers_api(subject, notation_core::manifest::ARTIFACT_TYPE_SIGNATURE)?
            .is_some();
        self.client
            .probed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.registry.clone(), supported);
        self.client
            .referrers_api
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.registry.clone(), supported);
        Ok(supported)
    }

    /// The Referrers API answer for `subject`, filtered to `artifact_type`; `None` when
    /// the registry has no Referrers API (404, or not an image index).
    pub fn referrers_api(
        &self,
        subject: &Digest,
        artifact_type: &str,
    ) -> Result<Option<serde_json::Value>> {
        let op = format!(
            "listing referrers of {}/{}@{subject}",
            self.registry, self.name
        );
        let resp = self.send(&op, &|c, base| {
            c.get(format!(
                "{base}/v2/{}/referrers/{subject}?artifactType={}",
                self.name,
                crate::auth::url_encode(artifact_type)
            ))
            .header(ACCEPT, notation_core::manifest::MEDIA_TYPE_IMAGE_INDEX)
        })?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(status_error(&self.registry, &op, resp));
        }
        let ct = header(&resp, CONTENT_TYPE)
            .map(|c| media_type_of(&c))
            .unwrap_or_default();
        if ct != notation_core::manifest::MEDIA_TYPE_IMAGE_INDEX {
            return Ok(None);
        }
        let body = crate::http::read_limited(resp, MAX_MANIFEST_BYTES)
            .map_err(|e| self.protocol(&op, e))?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| self.protocol(&op, format!("the referrers index is not JSON: {e}")))
    }

    /// Deletes a manifest by digest. Already gone counts as done.
    pub fn delete_manifest(&self, digest: &Digest) -> Result<()> {
        let op = format!("deleting manifest {}/{}@{digest}", self.registry, self.name);
        let resp = self.send(&op, &|c, base| {
            c.delete(format!("{base}/v2/{}/manifests/{digest}", self.name))
        })?;
        match resp.status() {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            _ => Err(status_error(&self.registry, &op, resp)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn registry_messages_are_kept() {
        assert_eq!(
            super::registry_detail(
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#
            ),
            ": MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(
            super::registry_detail("upstream timed out\nmore"),
            ": upstream timed out"
        );
        assert_eq!(super::registry_detail(""), "");
    }
}
