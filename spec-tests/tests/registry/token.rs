//! A token service for distribution's `auth: token` mode (the Docker/OCI bearer
//! token flow), test-only, on a std listener.
//!
//! Tokens are RS256 JWTs whose header carries `x5c: [cert]`, where `cert` is a
//! self-signed certificate for the signing key and is also the registry's
//! `rootcertbundle` (distribution 2.8 verifies x5c chains against that bundle,
//! and a leaf that is itself in the root pool verifies).

use std::io::BufReader;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::http::{self, Message, Server};

/// The `service` the registry expects in `aud`.
pub const SERVICE: &str = "notation-test";
/// The `iss` the registry trusts.
pub const ISSUER: &str = "notation-test-issuer";
/// Token lifetime in seconds (`exp - iat`, and `expires_in`).
pub const LIFETIME: u64 = 300;

/// Signs registry tokens. Shared by the token service and by the harness's own
/// requests (which mint tokens directly, so they never show up in
/// [`TokenServer::requests`]).
pub struct Minter {
    key: RsaKeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
}

impl Minter {
    pub fn new() -> Minter {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa keygen");
        let key = RsaKeyPair::from_pkcs8(&kp.serialize_der()).expect("rsa pkcs8");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "notation-test token signer");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&kp).expect("token signer cert");
        Minter {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
        }
    }

    /// PEM of the signing certificate, for `rootcertbundle`.
    pub fn root_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A token for `sub` granting `access` (each `{type, name, actions}`).
    pub fn mint(&self, sub: &str, access: &[Value]) -> String {
        static JTI: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [STANDARD.encode(&self.cert_der)],
        });
        let claims = json!({
            "iss": ISSUER,
            "sub": sub,
            // distribution 2.8 decodes `aud` as a single string.
            "aud": SERVICE,
            "exp": now + LIFETIME,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("{now}-{}", JTI.fetch_add(1, Ordering::SeqCst)),
            "access": access,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("sign token");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// Parses `type:name:actions` (name may not contain `:`; type may carry a
/// `(class)` suffix). Returns the JSON access entry.
fn parse_scope(scope: &str) -> Option<(String, String, Vec<String>)> {
    let (typ, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions = actions
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    Some((typ.to_owned(), name.to_owned(), actions))
}

/// One request the token service answered. Secrets (passwords, refresh tokens)
/// are never recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// `GET` (basic-auth token fetch) or `POST` (OAuth2 form).
    pub method: String,
    /// `grant_type` of a POST (`refresh_token`, `password`).
    pub grant_type: Option<String>,
    pub service: Option<String>,
    /// Every scope asked for: all `scope` parameters, each split on spaces.
    pub scopes: Vec<String>,
    pub client_id: Option<String>,
    /// Basic-auth user name (GET) or `username` (POST password grant).
    pub user: Option<String>,
    /// Status returned: 200 when a token was issued.
    pub status: u16,
}

struct State {
    minter: Arc<Minter>,
    user: String,
    pass: String,
    identity_token: String,
    log: Mutex<Vec<TokenRequest>>,
    allowed: Mutex<Option<Vec<String>>>,
}

/// The token service. `realm` is what the registry advertises in its
/// `WWW-Authenticate: Bearer realm=...,service=...` challenge.
///
/// - `GET /token?service=..&scope=..` with HTTP Basic `user:pass` → 200
///   `{"token", "access_token", "expires_in"}`; wrong or missing Basic → 401.
/// - `POST /token` form `grant_type=refresh_token&refresh_token=<identity
///   token>&service=..&scope=..&client_id=..` → 200 `{"access_token",
///   "expires_in", "scope"}` (no `token` field, as OAuth2 servers answer);
///   `grant_type=password&username=..&password=..` is accepted too. A wrong
///   secret → 401 `{"error":"invalid_grant"}`; another grant type → 400.
///
/// Every response carries `Connection: close`. Tokens grant exactly the
/// actions requested (narrowed by [`TokenServer::restrict_actions`]).
pub struct TokenServer {
    pub realm: String,
    pub service: String,
    state: Arc<State>,
    _server: Server,
}

impl TokenServer {
    pub(super) fn start(user: &str, pass: &str, identity_token: &str) -> TokenServer {
        let state = Arc::new(State {
            minter: Arc::new(Minter::new()),
            user: user.to_owned(),
            pass: pass.to_owned(),
            identity_token: identity_token.to_owned(),
            log: Mutex::new(Vec::new()),
            allowed: Mutex::new(None),
        });
        let server = {
            let state = state.clone();
            Server::start(Arc::new(move |s| serve(&state, s)))
        };
        TokenServer {
            realm: format!("http://{}/token", server.addr),
            service: SERVICE.to_owned(),
            state,
            _server: server,
        }
    }

    pub(super) fn minter(&self) -> Arc<Minter> {
        self.state.minter.clone()
    }

    /// Every token request so far, in arrival order.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.state.log.lock().unwrap().clone()
    }

    /// From now on grant only `actions` (e.g. `&["pull"]`) out of those
    /// requested, to provoke `insufficient_scope` errors from the registry.
    pub fn restrict_actions(&self, actions: &[&str]) {
        *self.state.allowed.lock().unwrap() = Some(actions.iter().map(|a| a.to_string()).collect());
    }
}

fn basic_user(req: &Message) -> Option<(String, String)> {
    let v = req.header("authorization")?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = STANDARD.decode(b64.trim()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (u, p) = raw.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

fn serve(state: &State, stream: TcpStream) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let Ok(Some(req)) = http::read_request(&mut reader) else {
        return;
    };
    let (status, body, extra) = answer(state, &req);
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Connection".to_owned(), "close".to_owned()),
    ];
    headers.extend(extra);
    let mut w = stream;
    let _ = http::write_response(
        &mut w,
        &format!("HTTP/1.1 {status} {reason}"),
        &headers,
        body.to_string().as_bytes(),
    );
}

fn answer(state: &State, req: &Message) -> (u16, Value, Vec<(String, String)>) {
    let mut parts = req.start.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/token" {
        return (404, json!({"error": "not found"}), vec![]);
    }
    let params = match method.as_str() {
        "POST" => http::form_decode(&String::from_utf8_lossy(&req.body)),
        _ => http::form_decode(query),
    };
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let scopes: Vec<String> = params
        .iter()
        .filter(|(n, _)| n == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let mut record = TokenRequest {
        method: method.clone(),
        grant_type: None,
        service: get("service"),
        scopes: scopes.clone(),
        client_id: get("client_id"),
        user: None,
        status: 200,
    };

    let subject: Result<String, u16> = if method == "POST" {
        record.grant_type = get("grant_type");
        match record.grant_type.as_deref() {
            Some("refresh_token") => {
                if get("refresh_token").as_deref() == Some(state.identity_token.as_str()) {
                    Ok(state.user.clone())
                } else {
                    Err(401)
                }
            }
            Some("password") => {
                record.user = get("username");
                if record.user.as_deref() == Some(state.user.as_str())
                    && get("password").as_deref() == Some(state.pass.as_str())
                {
                    Ok(state.user.clone())
                } else {
                    Err(401)
                }
            }
            _ => Err(400),
        }
    } else {
        match basic_user(req) {
            Some((u, p)) => {
                record.user = Some(u.clone());
                if u == state.user && p == state.pass {
                    Ok(u)
                } else {
                    Err(401)
                }
            }
            None => Err(401),
        }
    };

    let out = match subject {
        Err(code) => {
            let (body, headers) = match (code, method.as_str()) {
                (400, _) => (json!({"error": "unsupported_grant_type"}), vec![]),
                (_, "POST") => (json!({"error": "invalid_grant"}), vec![]),
                _ => (
                    json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
                    vec![(
                        "WWW-Authenticate".to_owned(),
                        "Basic realm=\"notation-test-token\"".to_owned(),
                    )],
                ),
            };
            (code, body, headers)
        }
        Ok(sub) => {
            let allowed = state.allowed.lock().unwrap().clone();
            let access: Vec<Value> = scopes
                .iter()
                .filter_map(|s| parse_scope(s))
                .map(|(typ, name, actions)| {
                    let actions: Vec<String> = actions
                        .into_iter()
                        .filter(|a| allowed.as_ref().is_none_or(|al| al.contains(a)))
                        .collect();
                    json!({"type": typ, "name": name, "actions": actions})
                })
                .collect();
            let token = state.minter.mint(&sub, &access);
            let body = if method == "POST" {
                json!({"access_token": token, "expires_in": LIFETIME, "scope": scopes.join(" ")})
            } else {
                json!({"token": token, "access_token": token, "expires_in": LIFETIME})
            };
            (200, body, vec![])
        }
    };
    record.status = out.0;
    state.log.lock().unwrap().push(record);
    out
}
