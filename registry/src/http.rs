//! HTTP transport to registries: HTTPS by default; plain HTTP for `localhost`, for
//! `--insecure-registry`, and for config.json `insecureRegistries` (notary-spec.md
//! §3.3). Connect and request time-outs so an unreachable registry fails in seconds.
//! Bounded retries with back-off on 429/502/503/504 and on reset connections,
//! honouring `Retry-After`. Connections are pooled and reused.
//!
//! Two pooled clients: one for plain HTTP, built without trust roots, and one for
//! HTTPS, built on first use. Loading the system's trust roots costs about 12 ms
//! (every file in `/etc/ssl/certs` is parsed), which a `notation sign` against a
//! local plain-HTTP registry would otherwise pay on every process.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};

use crate::error::{RegistryError, Result};

/// Transport settings, resolved by the CLI.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// `--insecure-registry`: plain HTTP for every registry of this call.
    pub insecure_all: bool,
    /// config.json `insecureRegistries` (host[:port], compared case-insensitively).
    pub insecure_registries: Vec<String>,
    /// Extra trusted CA certificates, PEM.
    pub extra_ca_pem: Vec<Vec<u8>>,
    /// Files, and directories of files, with extra trusted CA certificates in PEM
    /// (`SSL_CERT_FILE`, `SSL_CERT_DIR`): read when the first HTTPS request is sent,
    /// so that a plain-HTTP registry does not pay for reading them.
    pub extra_ca_paths: Vec<std::path::PathBuf>,
    /// TCP connect time-out.
    pub connect_timeout: Duration,
    /// Whole-request time-out.
    pub request_timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    /// User-Agent.
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> TransportConfig {
        TransportConfig {
            insecure_all: false,
            insecure_registries: Vec::new(),
            extra_ca_pem: Vec::new(),
            extra_ca_paths: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            max_retries: 3,
            max_retry_after: Duration::from_secs(10),
            user_agent: concat!("notation-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Receives one line per HTTP exchange (`-d`): method, URL and status only, never
/// headers or bodies, so no credential can reach it.
pub type Trace = dyn Fn(&str) + Send + Sync;

/// Pooled HTTP clients with the retry policy.
pub struct Http {
    /// Plain HTTP only: built without trust roots, and it never follows a redirect
    /// to HTTPS (such a request is sent again through `tls`).
    plain: Client,
    /// HTTPS, with the system's trust roots plus the extra CAs; built on first use.
    tls: OnceLock<std::result::Result<Client, RegistryError>>,
    config: TransportConfig,
    requests: AtomicU64,
    trace: Option<Box<Trace>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry
            .split_once(']')
            .map(|(h, _)| &h[1..])
            .unwrap_or(registry);
    }
    registry
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(registry)
}

fn builder(config: &TransportConfig) -> reqwest::blocking::ClientBuilder {
    Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .user_agent(config.user_agent.clone())
        .pool_max_idle_per_host(16)
}

fn setup_error(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Unreachable {
        registry: "-".into(),
        reason: format!("cannot set up the HTTP client: {e}"),
    }
}

impl Http {
    /// Builds the plain-HTTP client; the HTTPS client is built when the first HTTPS
    /// request is sent.
    pub fn new(config: TransportConfig) -> Result<Http> {
        let plain = builder(&config)
            // No roots: this client never completes a TLS handshake.
            .tls_certs_only(Vec::new())
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.url().scheme() != "http" {
                    attempt.stop()
                } else if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(setup_error)?;
        Ok(Http {
            plain,
            tls: OnceLock::new(),
            config,
            requests: AtomicU64::new(0),
            trace: None,
        })
    }

    /// The HTTPS client, built on first use.
    fn tls(&self) -> Result<&Client> {
        let built = self.tls.get_or_init(|| {
            let mut pems = self.config.extra_ca_pem.clone();
            pems.extend(read_ca_paths(&self.config.extra_ca_paths)?);
            let mut certs = Vec::new();
            for pem in &pems {
                certs.extend(reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                    RegistryError::Credentials(format!(
                        "cannot read the extra CA certificates (SSL_CERT_FILE/SSL_CERT_DIR): {e}"
                    ))
                })?);
            }
            builder(&self.config)
                .tls_certs_merge(certs)
                .build()
                .map_err(setup_error)
        });
        built.as_ref().map_err(|e| match e {
            RegistryError::Credentials(m) => RegistryError::Credentials(m.clone()),
            other => setup_error(other),
        })
    }

    /// Sets the `-d` trace.
    pub fn set_trace(&mut self, trace: Box<Trace>) {
        self.trace = Some(trace);
    }

    /// `http` or `https` for a registry.
    pub fn scheme(&self, registry: &str) -> &'static str {
        let host = host_of(registry);
        let insecure = self.config.insecure_all
            || host.eq_ignore_ascii_case("localhost")
            || self
                .config
                .insecure_registries
                .iter()
                .any(|r| r.eq_ignore_ascii_case(registry) || r.eq_ignore_ascii_case(host));
        if insecure { "http" } else { "https" }
    }

    /// The base URL `<scheme>://<registry>`.
    pub fn base(&self, registry: &str) -> String {
        format!("{}://{registry}", self.scheme(registry))
    }

    /// Requests sent so far (every attempt counts), for benchmarks.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends a request built by `build`, retrying on 429/502/503/504 and on
    /// connection failures up to the retry limit.
    pub fn send(
        &self,
        registry: &str,
        build: &dyn Fn(&Client) -> RequestBuilder,
    ) -> Result<Response> {
        self.send_with(registry, true, build)
    }

    /// [`Http::send`], with retries only when `retry` is set. A write that must not be
    /// replayed late (the referrers index, built from a read that may be stale by
    /// then) is sent once and its caller decides.
    pub fn send_with(
        &self,
        registry: &str,
        retry: bool,
        build: &dyn Fn(&Client) -> RequestBuilder,
    ) -> Result<Response> {
        let max_retries = if retry { self.config.max_retries } else { 0 };
        let mut attempt = 0;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = match build(&self.plain).build() {
                Ok(req) => {
                    // Queries can carry upload state or pre-signed tokens: not traced.
                    let url = req.url();
                    let query = if url.query().is_some() {
                        "?<redacted>"
                    } else {
                        ""
                    };
                    let line = format!(
                        "{} {}://{}{}{query}",
                        req.method(),
                        url.scheme(),
                        url.authority(),
                        url.path()
                    );
                    let outcome = self.execute(req, build)?;
                    if let Some(trace) = &self.trace {
                        match &outcome {
                            Ok(r) => trace(&format!("{line} -> {}", r.status().as_u16())),
                            Err(e) => trace(&format!("{line} -> {}", describe(e))),
                        }
                    }
                    outcome
                }
                Err(e) => Err(e),
            };
            let retry_in = match &outcome {
                Ok(resp) if is_retryable_status(resp.status()) => {
                    Some(self.retry_delay(resp, attempt))
                }
                Ok(_) => None,
                // Refused or timed out: the registry is not there; fail fast.
                Err(e) if e.is_timeout() || e.is_connect() => None,
                // Reset or closed mid-request: worth another try.
                Err(e) if e.is_request() || e.is_body() => Some(backoff(attempt)),
                Err(_) => None,
            };
            match (retry_in, outcome) {
                (Some(delay), _) if attempt < max_retries => {
                    attempt += 1;
                    std::thread::sleep(delay);
                }
                (_, Ok(resp)) => return Ok(resp),
                (_, Err(e)) => {
                    return Err(RegistryError::Unreachable {
                        registry: registry.to_owned(),
                        reason: describe(&e),
                    });
                }
            }
        }
    }

    /// Sends one request through the client for its scheme. A plain-HTTP request
    /// redirected to HTTPS is sent again through the TLS client, which follows it.
    fn execute(
        &self,
        req: reqwest::blocking::Request,
        build: &dyn Fn(&Client) -> RequestBuilder,
    ) -> Result<reqwest::Result<Response>> {
        if req.url().scheme() != "http" {
            return Ok(self.tls()?.execute(req));
        }
        let outcome = self.plain.execute(req);
        let to_tls = matches!(&outcome, Ok(r) if r.status().is_redirection()
            && r.headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| r.url().join(l).ok())
                .is_some_and(|u| u.scheme() == "https"));
        if !to_tls {
            return Ok(outcome);
        }
        let tls = self.tls()?;
        Ok(build(tls).build().and_then(|req| tls.execute(req)))
    }

    fn retry_delay(&self, resp: &Response, attempt: u32) -> Duration {
        resp.headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(self.config.max_retry_after))
            .unwrap_or_else(|| backoff(attempt))
    }
}

/// The PEM files at `paths`: a file as it is, a directory's regular files (in name
/// order) that hold a PEM certificate.
pub fn read_ca_paths(paths: &[std::path::PathBuf]) -> Result<Vec<Vec<u8>>> {
    let unreadable = |p: &std::path::Path, e: std::io::Error| {
        RegistryError::Credentials(format!(
            "cannot read the extra CA certificates in {}: {e}",
            p.display()
        ))
    };
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(std::fs::read(path).map_err(|e| unreadable(path, e))?);
            continue;
        }
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(path)
            .map_err(|e| unreadable(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).map_err(|e| unreadable(&f, e))?;
            if bytes
                .windows(27)
                .any(|w| w == b"-----BEGIN CERTIFICATE-----")
            {
                out.push(bytes);
            }
        }
    }
    Ok(out)
}

/// Reads at most `limit` bytes of a body; more is an error, so a misbehaving server
/// cannot make us buffer without bound.
pub fn read_limited(resp: Response, limit: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    resp.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read the body: {e}"))?;
    if buf.len() as u64 > limit {
        return Err(format!("the body is larger than the {limit}-byte limit"));
    }
    Ok(buf)
}

/// True when `url` is on the registry's own origin (scheme, host and port), the only
/// place its credentials may be sent.
pub fn same_origin(base: &str, url: &str) -> bool {
    match (reqwest::Url::parse(base), reqwest::Url::parse(url)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

fn is_retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 429 | 502 | 503 | 504)
}

/// 100 ms, 200 ms, 400 ms, … with up to 50% jitter.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 100u64 << attempt.min(6);
    Duration::from_millis(base + jitter(base / 2))
}

/// A random number in `0..=max` from the OS.
pub(crate) fn jitter(max: u64) -> u64 {
    let mut b = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        return max / 2;
    }
    u64::from_le_bytes(b) % (max + 1)
}

/// A transport error in words: the innermost cause says what really happened.
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "the request timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "the connection failed".to_owned()
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        msg.push_str(": ");
        msg.push_str(&cause);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_rules() {
        let h = Http::new(TransportConfig {
            insecure_registries: vec!["Reg.Internal:5000".into(), "other.example".into()],
            ..TransportConfig::default()
        })
        .unwrap();
        assert_eq!(h.scheme("localhost:5000"), "http");
        assert_eq!(h.scheme("localhost"), "http");
        assert_eq!(h.scheme("reg.internal:5000"), "http");
        assert_eq!(h.scheme("other.example:443"), "http");
        assert_eq!(h.scheme("registry.example.com"), "https");
        assert_eq!(h.scheme("127.0.0.1:5000"), "https");
        let all = Http::new(TransportConfig {
            insecure_all: true,
            ..TransportConfig::default()
        })
        .unwrap();
        assert_eq!(all.scheme("registry.example.com"), "http");
    }

    #[test]
    fn origins() {
        assert!(same_origin(
            "https://reg.example",
            "https://reg.example:443/v2/x"
        ));
        assert!(same_origin(
            "http://localhost:5000",
            "http://localhost:5000/v2/a?b=c"
        ));
        assert!(!same_origin(
            "http://localhost:5000",
            "http://127.0.0.1:5000/v2/a"
        ));
        assert!(!same_origin(
            "https://reg.example",
            "http://reg.example/v2/x"
        ));
        assert!(!same_origin(
            "https://reg.example",
            "https://evil.example/v2/x"
        ));
        assert!(!same_origin("https://reg.example", "not a url"));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert!(
            backoff(0) >= Duration::from_millis(100) && backoff(0) <= Duration::from_millis(150)
        );
        assert!(backoff(3) >= Duration::from_millis(800));
        assert!(backoff(60) <= Duration::from_millis(9_600));
    }
}
