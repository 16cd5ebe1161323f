//! Registry authentication (distribution "token authentication" and basic auth):
//! answer a `WWW-Authenticate` challenge, fetch a bearer token from the realm with
//! basic credentials (GET) or an identity token (POST, OAuth2 refresh_token grant),
//! and reuse each token for its registry and scope for the rest of the process.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::blocking::RequestBuilder;
use serde::Deserialize;

use crate::credentials::Credential;
use crate::error::{RegistryError, Result};
use crate::http::Http;
use crate::secret::Secret;

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm=...`.
    Basic,
    /// `Bearer realm=...,service=...,scope=...`.
    Bearer {
        /// Token endpoint.
        realm: String,
        /// Service name.
        service: Option<String>,
        /// Scope the registry asked for.
        scope: Option<String>,
    },
}

/// Parses a challenge; `None` for schemes we do not speak.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut params = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.insert(key, value.to_owned());
        s = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.remove("realm")?,
            service: params.remove("service"),
            scope: params.remove("scope"),
        }),
        _ => None,
    }
}

#[derive(Debug, Clone)]
enum Authorization {
    Basic(Secret),
    Bearer(Secret),
}

/// Per-process authentication state: credentials per registry and tokens per
/// registry and scope.
#[derive(Debug, Default)]
pub struct AuthCache {
    /// Authorization known to work, by (registry, scope); scope "" for basic.
    known: Mutex<HashMap<(String, String), Authorization>>,
    /// Token requests made, for tests and benchmarks.
    token_fetches: Mutex<u64>,
    /// Challenges answered (basic or bearer).
    answered: Mutex<u64>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

fn basic_value(username: &str, password: &Secret) -> Secret {
    Secret::new(format!(
        "Basic {}",
        STANDARD.encode(format!("{username}:{}", password.expose()))
    ))
}

impl AuthCache {
    /// Adds the authorization already known for `registry` and `scope`, if any, so
    /// that a second request does not pay for another challenge round trip.
    pub fn apply(&self, registry: &str, scope: &str, req: RequestBuilder) -> RequestBuilder {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let auth = known
            .get(&(registry.to_owned(), scope.to_owned()))
            .or_else(|| known.get(&(registry.to_owned(), String::new())));
        match auth {
            Some(Authorization::Basic(v)) | Some(Authorization::Bearer(v)) => {
                req.header(reqwest::header::AUTHORIZATION, v.expose())
            }
            None => req,
        }
    }

    /// Challenges answered so far.
    pub fn answers(&self) -> u64 {
        *self.answered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Token requests made so far.
    pub fn token_fetches(&self) -> u64 {
        *self.token_fetches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers a challenge with `credential` and remembers the result for
    /// (registry, `cache_scope`). A bearer token is requested for `cache_scope`
    /// merged with the scope the challenge names (a DELETE, for example, needs the
    /// `delete` action), so one token then covers every request of the run.
    pub fn authenticate(
        &self,
        http: &Http,
        registry: &str,
        cache_scope: &str,
        challenge: &Challenge,
        credential: &Credential,
    ) -> Result<()> {
        let scope = match challenge {
            Challenge::Bearer {
                scope: Some(asked), ..
            } => merge_scopes(cache_scope, asked),
            _ => cache_scope.to_owned(),
        };
        let scope = scope.as_str();
        *self.answered.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let auth = match challenge {
            Challenge::Basic => match credential {
                Credential::Basic { username, password } => {
                    self.known.lock().unwrap_or_else(|e| e.into_inner()).insert(
                        (registry.to_owned(), String::new()),
                        Authorization::Basic(basic_value(username, password)),
                    );
                    return Ok(());
                }
                Credential::IdentityToken(_) => {
                    return Err(RegistryError::Credentials(format!(
                        "{registry} uses basic authentication, which cannot take an identity token; log in with a username and password"
                    )));
                }
                Credential::Anonymous => {
                    return Err(RegistryError::AuthenticationRequired {
                        registry: registry.to_owned(),
                    });
                }
            },
            Challenge::Bearer { realm, service, .. } => Authorization::Bearer(self.fetch_token(
                http,
                registry,
                realm,
                service.as_deref(),
                scope,
                credential,
            )?),
        };
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((registry.to_owned(), cache_scope.to_owned()), auth);
        Ok(())
    }

    fn fetch_token(
        &self,
        http: &Http,
        registry: &str,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credential: &Credential,
    ) -> Result<Secret> {
        // Credentials go to the realm only over TLS, unless the registry itself is
        // plain HTTP (a test or --insecure-registry setup).
        let realm_url = reqwest::Url::parse(realm).map_err(|_| RegistryError::Protocol {
            registry: registry.to_owned(),
            operation: "authenticating".into(),
            reason: format!("the token realm {realm:?} is not a URL"),
        })?;
        if realm_url.scheme() != "https"
            && http.scheme(registry) == "https"
            && credential != &Credential::Anonymous
        {
            return Err(RegistryError::Protocol {
                registry: registry.to_owned(),
                operation: "authenticating".into(),
                reason: format!(
                    "the token realm {realm} is not HTTPS; refusing to send credentials over plain HTTP"
                ),
            });
        }
        let realm_label = format!("{} (token service of {registry})", realm_url.authority());
        *self.token_fetches.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let resp = match credential {
            Credential::IdentityToken(token) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("refresh_token", token.expose().to_owned()),
                    ("client_id", "notation".to_owned()),
                    ("scope", scope.to_owned()),
                ];
                if let Some(s) = service {
                    form.push(("service", s.to_owned()));
                }
                let body = form
                    .iter()
                    .map(|(k, v)| format!("{k}={}", url_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                http.send(&realm_label, &|c| {
                    c.post(realm)
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .body(body.clone())
                })?
            }
            other => {
                let mut query: Vec<(&str, String)> =
                    scope.split(' ').map(|s| ("scope", s.to_owned())).collect();
                if let Some(s) = service {
                    query.push(("service", s.to_owned()));
                }
                let url = format!(
                    "{realm}{}{}",
                    if realm.contains('?') { '&' } else { '?' },
                    query
                        .iter()
                        .map(|(k, v)| format!("{k}={}", url_encode(v)))
                        .collect::<Vec<_>>()
                        .join("&")
                );
                http.send(&realm_label, &|c| {
                    let req = c.get(&url);
                    match other {
                        Credential::Basic { username, password } => req.header(
                            reqwest::header::AUTHORIZATION,
                            basic_value(username, password).expose(),
                        ),
                        _ => req,
                    }
                })?
            }
        };
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(match credential {
                Credential::Anonymous => RegistryError::AuthenticationRequired {
                    registry: registry.to_owned(),
                },
                _ => RegistryError::CredentialsRejected {
                    registry: registry.to_owned(),
                },
            });
        }
        if !status.is_success() {
            return Err(RegistryError::Status {
                registry: registry.to_owned(),
                operation: "fetching an access token".into(),
                status: status.as_u16(),
                detail: String::new(),
            });
        }
        let text = resp.text().unwrap_or_default();
        let body: TokenResponse =
            serde_json::from_str(&text).map_err(|e| RegistryError::Protocol {
                registry: registry.to_owned(),
                operation: "fetching an access token".into(),
                reason: format!("the token response is not JSON: {e}"),
            })?;
        body.token
            .or(body.access_token)
            .filter(|t| !t.is_empty())
            .map(|t| Secret::new(format!("Bearer {t}")))
            .ok_or_else(|| RegistryError::Protocol {
                registry: registry.to_owned(),
                operation: "fetching an access token".into(),
                reason: "the token response has neither token nor access_token".into(),
            })
    }
}

/// Merges two token scopes: actions on the same `repository:<name>` are joined; other
/// resources are kept as further space-separated scopes.
pub fn merge_scopes(ours: &str, theirs: &str) -> String {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for scope in ours
        .split(' ')
        .chain(theirs.split(' '))
        .filter(|s| !s.is_empty())
    {
        let (resource, actions) = scope.rsplit_once(':').unwrap_or((scope, ""));
        let actions = actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        match out.iter_mut().find(|(r, _)| r == resource) {
            Some((_, acts)) => {
                for a in actions {
                    if !acts.contains(&a) {
                        acts.push(a);
                    }
                }
            }
            None => out.push((resource.to_owned(), actions.collect())),
        }
    }
    out.into_iter()
        .map(|(r, mut a)| {
            a.sort();
            format!("{r}:{}", a.join(","))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Percent-encodes a query or form value (RFC 3986 unreserved characters kept).
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(
            parse_challenge("Bearer service=x"),
            None,
            "realm is required"
        );
    }

    #[test]
    fn merges_scopes() {
        assert_eq!(
            merge_scopes("repository:a/b:pull,push", "repository:a/b:delete"),
            "repository:a/b:delete,pull,push"
        );
        assert_eq!(
            merge_scopes("repository:a:pull,push", "repository:a:pull"),
            "repository:a:pull,push"
        );
        assert_eq!(
            merge_scopes("repository:a:pull", "registry:catalog:*"),
            "repository:a:pull registry:catalog:*"
        );
    }

    #[test]
    fn encodes() {
        assert_eq!(
            url_encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let cache = AuthCache::default();
        cache.known.lock().unwrap().insert(
            ("r".into(), String::new()),
            Authorization::Basic(basic_value("u", &Secret::new("hunter2"))),
        );
        assert!(!format!("{cache:?}").contains("hunter2"));
        assert!(!format!("{cache:?}").contains(&STANDARD.encode("u:hunter2")));
    }
}
