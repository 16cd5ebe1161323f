//! An HTTP/1.1 reverse proxy in front of a plain-HTTP [`TestRegistry`] that
//! injects faults a real registry will not produce on demand.

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::TestRegistry;
use super::http::{self, Server};

/// What to do with a matching request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer `503 Service Unavailable` (with `Retry-After: <n>` when given)
    /// instead of forwarding; fires once, then the rule is removed.
    Status503Once { retry_after: Option<u32> },
    /// Read the request, then close the connection without any response and
    /// without forwarding; fires once, then the rule is removed.
    DropConnectionOnce,
    /// Forward, but remove `Location` from the response; fires every time.
    StripLocationHeader,
    /// Forward, but pass an absolute `Location` through unchanged, so it names the
    /// upstream (another origin than the proxy); fires every time.
    KeepUpstreamLocation,
}

impl Fault {
    fn once(&self) -> bool {
        !matches!(
            self,
            Fault::StripLocationHeader | Fault::KeepUpstreamLocation
        )
    }
}

type Rules = Vec<(String, String, Fault)>;

struct State {
    upstream: SocketAddr,
    upstream_host: String,
    host: OnceLock<String>,
    rules: Mutex<Rules>,
    hits: Mutex<Vec<String>>,
}

/// The proxy. `host` is `localhost:<port>` (plain HTTP, like the upstream).
///
/// Rules are `(method, path substring, fault)`: the first rule whose method
/// equals the request's (or is `"*"`) and whose substring occurs in the
/// request target (path and query) applies. Unmatched requests are forwarded
/// on a fresh upstream connection with `Connection: close` and `Host` set to
/// the upstream; the response is relayed with a `Content-Length` body and any
/// absolute `Location` pointing at the upstream rewritten to the proxy.
///
/// Client connections are kept alive (several requests per connection) until
/// the client closes or sends `Connection: close`.
pub struct FaultProxy {
    pub host: String,
    state: Arc<State>,
    _server: Server,
}

impl FaultProxy {
    /// Starts a proxy for `upstream`, which must be plain HTTP.
    pub fn new(upstream: &TestRegistry, rules: Vec<(String, String, Fault)>) -> FaultProxy {
        assert!(
            upstream.ca_pem.is_none(),
            "FaultProxy only fronts plain-HTTP registries"
        );
        let addr = upstream
            .host
            .to_socket_addrs()
            .expect("resolve upstream")
            .find(SocketAddr::is_ipv4)
            .expect("upstream has an IPv4 address");
        let state = Arc::new(State {
            upstream: addr,
            upstream_host: upstream.host.clone(),
            // Known once the listener is bound.
            host: OnceLock::new(),
            rules: Mutex::new(rules),
            hits: Mutex::new(Vec::new()),
        });
        let server = {
            let state = state.clone();
            Server::start(Arc::new(move |s| serve(&state, s)))
        };
        let host = format!("localhost:{}", server.addr.port());
        state.host.set(host.clone()).unwrap();
        FaultProxy {
            host,
            state,
            _server: server,
        }
    }

    /// `http://localhost:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }

    /// Every request the proxy received (faulted or forwarded), as
    /// `"METHOD /path?query"`, in arrival order.
    pub fn hits(&self) -> Vec<String> {
        self.state.hits.lock().unwrap().clone()
    }
}

fn take_rule(state: &State, method: &str, target: &str) -> Option<Fault> {
    let mut rules = state.rules.lock().unwrap();
    let i = rules
        .iter()
        .position(|(m, p, _)| (m == "*" || m == method) && target.contains(p.as_str()))?;
    let fault = rules[i].2.clone();
    if fault.once() {
        rules.remove(i);
    }
    Some(fault)
}

fn serve(state: &State, client: TcpStream) {
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut client = client;
    loop {
        let req = match http::read_request(&mut reader) {
            Ok(Some(r)) => r,
            _ => return,
        };
        let mut parts = req.start.split(' ');
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("").to_owned();
        let version = parts.next().unwrap_or("HTTP/1.1");
        state
            .hits
            .lock()
            .unwrap()
            .push(format!("{method} {target}"));
        let close = version == "HTTP/1.0"
            || req
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let conn = if close { "close" } else { "keep-alive" };

        let fault = take_rule(state, &method, &target);
        let sent = match fault {
            Some(Fault::DropConnectionOnce) => {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Status503Once { retry_after }) => {
                let mut headers = vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    ("Connection".to_owned(), conn.to_owned()),
                ];
                if let Some(n) = retry_after {
                    headers.push(("Retry-After".to_owned(), n.to_string()));
                }
                let body =
                    br#"{"errors":[{"code":"UNAVAILABLE","message":"injected by FaultProxy"}]}"#;
                http::write_response(
                    &mut client,
                    "HTTP/1.1 503 Service Unavailable",
                    &headers,
                    body,
                )
            }
            other => {
                let strip = other == Some(Fault::StripLocationHeader);
                let keep = other == Some(Fault::KeepUpstreamLocation);
                match forward(state, &method, &target, &req) {
                    Ok((status_line, headers, body)) => {
                        let mut out: Vec<(String, String)> = Vec::new();
                        let keep_length = method == "HEAD"
                            || status_line
                                .split(' ')
                                .nth(1)
                                .is_some_and(|s| s == "204" || s == "304");
                        for (k, v) in headers {
                            let lk = k.to_ascii_lowercase();
                            match lk.as_str() {
                                "connection" | "keep-alive" | "transfer-encoding" => {}
                                "content-length" if !keep_length => {}
                                "location" if strip => {}
                                "location" if keep => {
                                    out.push((k, v.replace("localhost:", "127.0.0.1:")))
                                }
                                "location" => out.push((k, rewrite_location(state, &v))),
                                _ => out.push((k, v)),
                            }
                        }
                        out.push(("Connection".to_owned(), conn.to_owned()));
                        if keep_length && http::header(&out, "content-length").is_none() {
                            out.push(("Content-Length".to_owned(), "0".to_owned()));
                        }
                        http::write_response(&mut client, &status_line, &out, &body)
                    }
                    Err(e) => http::write_response(
                        &mut client,
                        "HTTP/1.1 502 Bad Gateway",
                        &[("Connection".to_owned(), "close".to_owned())],
                        format!("FaultProxy: upstream error: {e}").as_bytes(),
                    )
                    .and(Err(e)),
                }
            }
        };
        if sent.is_err() || close {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn rewrite_location(state: &State, v: &str) -> String {
    let port = state.upstream.port();
    for up in [
        state.upstream_host.clone(),
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
    ] {
        if let Some(rest) = v.strip_prefix(&format!("http://{up}")) {
            return format!("http://{}{rest}", state.host.get().map_or("", |h| h));
        }
    }
    v.to_owned()
}

type Response = (String, Vec<(String, String)>, Vec<u8>);

fn forward(
    state: &State,
    method: &str,
    target: &str,
    req: &http::Message,
) -> std::io::Result<Response> {
    let mut up = TcpStream::connect_timeout(&state.upstream, Duration::from_secs(10))?;
    up.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\n",
        state.upstream_host
    );
    for (k, v) in &req.headers {
        match k.to_ascii_lowercase().as_str() {
            "host" | "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding"
            | "content-length" | "expect" | "te" | "upgrade" => {}
            _ => head.push_str(&format!("{k}: {v}\r\n")),
        }
    }
    if !req.body.is_empty() || !matches!(method, "GET" | "HEAD") {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&req.body);
    up.write_all(&bytes)?;
    up.flush()?;

    let mut reader = BufReader::new(up);
    loop {
        let (status_line, headers) = http::read_head(&mut reader)?.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "upstream closed")
        })?;
        let code = status_line.split(' ').nth(1).unwrap_or("");
        // Interim responses (100 Continue) are not relayed.
        if code.starts_with('1') {
            continue;
        }
        let body = if method == "HEAD" || code == "204" || code == "304" {
            Vec::new()
        } else {
            http::read_body(&mut reader, &headers, true)?
        };
        // Drain anything left so the upstream sees a clean close.
        let _ = reader.read_to_end(&mut Vec::new());
        return Ok((status_line, headers, body));
    }
}
