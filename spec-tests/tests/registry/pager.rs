//! A reverse proxy in front of a plain-HTTP [`TestRegistry`] with the Referrers
//! API (ferro-oci-server) that answers `GET /v2/<name>/referrers/<digest>` itself,
//! the way a large registry may: it ignores the `artifactType` filter (and does
//! not claim `OCI-Filters-Applied`), and serves the upstream's list in pages of
//! `page_size` entries linked with `Link: <…>; rel="next"`. Everything else is
//! forwarded unchanged.

use std::io::BufReader;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::http::{self, Server};
use super::{OCI_INDEX, TestRegistry};

/// The proxy; `host` is `localhost:<port>`.
pub struct ReferrersPager {
    pub host: String,
    hits: Arc<Mutex<Vec<String>>>,
    _server: Server,
}

struct State {
    upstream: String,
    page_size: usize,
    client: reqwest::blocking::Client,
    hits: Arc<Mutex<Vec<String>>>,
}

impl ReferrersPager {
    /// Starts a pager for `upstream` (plain HTTP).
    pub fn new(upstream: &TestRegistry, page_size: usize) -> ReferrersPager {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State {
            upstream: upstream.url(),
            page_size,
            client: reqwest::blocking::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            hits: hits.clone(),
        });
        let server = Server::start(Arc::new(move |s| serve(&state, s)));
        ReferrersPager {
            host: format!("localhost:{}", server.addr.port()),
            hits,
            _server: server,
        }
    }

    /// Every request received, as `"METHOD /path?query"`.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn serve(state: &State, stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Ok(Some(req)) = http::read_request(&mut reader) {
        let mut parts = req.start.split(' ');
        let (method, target) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        state
            .hits
            .lock()
            .unwrap()
            .push(format!("{method} {target}"));
        let result = if method == "GET" && target.contains("/referrers/") {
            page(state, &target)
        } else {
            forward(state, &method, &target, &req)
        };
        let (status, headers, body) = result;
        if http::write_response(&mut writer, &status, &headers, &body).is_err() {
            return;
        }
    }
}

type Response = (String, Vec<(String, String)>, Vec<u8>);

fn page(state: &State, target: &str) -> Response {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let n: usize = http::form_decode(query)
        .into_iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let upstream: Value = state
        .client
        .get(format!("{}{path}", state.upstream))
        .header("accept", OCI_INDEX)
        .send()
        .and_then(|r| r.bytes())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({"manifests": []}));
    let all = upstream["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let chunk: Vec<Value> = all
        .iter()
        .skip(n * state.page_size)
        .take(state.page_size)
        .cloned()
        .collect();
    let body = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": chunk}),
    )
    .unwrap();
    let mut headers = vec![("Content-Type".to_owned(), OCI_INDEX.to_owned())];
    if (n + 1) * state.page_size < all.len() {
        headers.push((
            "Link".to_owned(),
            format!("<{path}?page={}>; rel=\"next\"", n + 1),
        ));
    }
    ("HTTP/1.1 200 OK".to_owned(), headers, body)
}

fn forward(state: &State, method: &str, target: &str, req: &http::Message) -> Response {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut builder = state
        .client
        .request(m, format!("{}{target}", state.upstream))
        .body(req.body.clone());
    for (k, v) in &req.headers {
        if !["host", "content-length", "connection", "transfer-encoding"]
            .contains(&k.to_ascii_lowercase().as_str())
        {
            builder = builder.header(k, v);
        }
    }
    let Ok(resp) = builder.send() else {
        return (
            "HTTP/1.1 502 Bad Gateway".to_owned(),
            Vec::new(),
            Vec::new(),
        );
    };
    let status = format!(
        "HTTP/1.1 {} {}",
        resp.status().as_u16(),
        resp.status().canonical_reason().unwrap_or("")
    );
    let head = method == "HEAD";
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(k, _)| {
            let k = k.as_str();
            k != "transfer-encoding" && k != "connection" && (head || k != "content-length")
        })
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = if head {
        Vec::new()
    } else {
        resp.bytes().map(|b| b.to_vec()).unwrap_or_default()
    };
    (status, headers, body)
}
