//! An OAuth 2 authorization server (RFC 6749) for specs with an `oauth:` key: a token endpoint
//! serving the refresh-token and client-credentials grants, access tokens that expire after a
//! number of uses or on demand ([`OAuthControl::expire_access_tokens`]), optional refresh-token
//! rotation and revocation. API endpoints then accept only the access tokens it issued, answering
//! 401 `invalid_token` to expired or unknown ones.
//!
//! Expiry counts requests, not seconds, so tests never depend on wall time. `expires_in` in the
//! token answer is what the spec says, so clients can schedule refreshes on their own clock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::http1::{Request, Response};

/// The spec's `oauth:` key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OAuthSpec {
    /// Where clients POST token requests.
    #[serde(default = "default_token_path")]
    pub(crate) token_path: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// Refresh tokens valid from the start.
    #[serde(default)]
    pub(crate) refresh_tokens: Vec<String>,
    /// `expires_in` of issued access tokens, in seconds.
    #[serde(default = "default_lifetime")]
    pub(crate) token_lifetime_seconds: u64,
    /// API requests an access token serves before it expires (unlimited when absent).
    pub(crate) token_uses: Option<u64>,
    /// Whether each refresh-token grant replaces the refresh token with a new one.
    #[serde(default)]
    pub(crate) rotate_refresh_tokens: bool,
}

fn default_token_path() -> String {
    "/oauth/token".to_owned()
}

fn default_lifetime() -> u64 {
    3600
}

// Written by hand: the client secret and refresh tokens never reach logs through `{:?}`.
impl fmt::Debug for OAuthSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSpec")
            .field("token_path", &self.token_path)
            .field("client_id", &self.client_id)
            .field("refresh_tokens", &self.refresh_tokens.len())
            .field("token_lifetime_seconds", &self.token_lifetime_seconds)
            .field("token_uses", &self.token_uses)
            .field("rotate_refresh_tokens", &self.rotate_refresh_tokens)
            .finish_non_exhaustive()
    }
}

impl OAuthSpec {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !self.token_path.starts_with('/') {
            return Err(format!(
                "`token_path` `{}` must start with `/`",
                self.token_path
            ));
        }
        if self.token_uses == Some(0) {
            return Err("`token_uses` must be at least 1".to_owned());
        }
        Ok(())
    }
}

#[derive(Default)]
struct State {
    /// Live access tokens and the API requests each has left (`None`: unlimited).
    access: BTreeMap<String, Option<u64>>,
    refresh: BTreeSet<String>,
    issued: u64,
    grants: u64,
}

/// The running authorization server. Clones share state.
#[derive(Clone)]
pub(crate) struct OAuthServer {
    spec: Arc<OAuthSpec>,
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for OAuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthServer")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// What a test does to the running authorization server: expire tokens, revoke refresh tokens,
/// count grants. Get it from [`RunningSimulator::oauth`](crate::RunningSimulator::oauth).
/// `Debug` shows no token.
#[derive(Clone, Debug)]
pub struct OAuthControl(pub(crate) OAuthServer);

impl OAuthControl {
    /// Every access token issued so far stops working: the next API request with one gets 401.
    pub fn expire_access_tokens(&self) {
        self.0.state().access.clear();
    }

    /// `token` no longer works for the refresh-token grant (`invalid_grant`).
    pub fn revoke_refresh_token(&self, token: &str) {
        self.0.state().refresh.remove(token);
    }

    /// No refresh token works any more, including rotated ones.
    pub fn revoke_all_refresh_tokens(&self) {
        self.0.state().refresh.clear();
    }

    /// Access tokens granted so far (successful token requests).
    pub fn grants(&self) -> u64 {
        self.0.state().grants
    }
}

impl OAuthServer {
    pub(crate) fn new(spec: OAuthSpec) -> Self {
        let state = State {
            refresh: spec.refresh_tokens.iter().cloned().collect(),
            ..State::default()
        };
        Self {
            spec: Arc::new(spec),
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Plain maps and counters: nothing is left half-updated by a panic elsewhere.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn token_path(&self) -> &str {
        &self.spec.token_path
    }

    /// Checks the bearer token of an API request and uses it up by one request.
    pub(crate) fn check(&self, request: &Request) -> Result<(), ApiError> {
        let invalid = |description: &str| {
            ApiError::new(401, description.to_owned()).with_header(
                "www-authenticate",
                format!("Bearer realm=\"simulator\", error=\"invalid_token\", error_description=\"{description}\""),
            )
        };
        let token = request
            .header("authorization")
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(|| invalid("Requires an OAuth access token"))?;
        let mut state = self.state();
        let Some(uses) = state.access.get_mut(token) else {
            return Err(invalid("The access token expired or is unknown"));
        };
        if let Some(left) = uses {
            *left -= 1;
            if *left == 0 {
                state.access.remove(token);
            }
        }
        Ok(())
    }

    /// Answers a token request: `grant_type=refresh_token` or `client_credentials`, with the
    /// client authenticated in the body or with HTTP basic auth.
    pub(crate) fn token(&self, request: &Request) -> Response {
        if request.method != "POST" {
            return oauth_error(405, "invalid_request", "the token endpoint takes POST");
        }
        let form: BTreeMap<String, String> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let (client_id, client_secret) = match basic_client(request) {
            Some(pair) => pair,
            None => (
                form.get("client_id").cloned().unwrap_or_default(),
                form.get("client_secret").cloned().unwrap_or_default(),
            ),
        };
        if client_id != self.spec.client_id || client_secret != self.spec.client_secret {
            return oauth_error(401, "invalid_client", "Client authentication failed");
        }
        let mut state = self.state();
        let mut answer = json!({
            "token_type": "Bearer",
            "expires_in": self.spec.token_lifetime_seconds,
        });
        match form.get("grant_type").map(String::as_str) {
            Some("refresh_token") => {
                let given = form.get("refresh_token").map_or("", String::as_str);
                if !state.refresh.contains(given) {
                    return oauth_error(
                        400,
                        "invalid_grant",
                        "The refresh token is invalid, expired or revoked",
                    );
                }
                if self.spec.rotate_refresh_tokens {
                    state.refresh.remove(given);
                    state.issued += 1;
                    let rotated = format!("sim-refresh-{}", state.issued);
                    state.refresh.insert(rotated.clone());
                    answer["refresh_token"] = Value::String(rotated);
                }
            }
            Some("client_credentials") => {
                if let Some(scope) = form.get("scope") {
                    answer["scope"] = Value::String(scope.clone());
                }
            }
            Some(other) => {
                return oauth_error(
                    400,
                    "unsupported_grant_type",
                    &format!("grant type `{other}` is not supported"),
                );
            }
            None => return oauth_error(400, "invalid_request", "`grant_type` is missing"),
        }
        state.issued += 1;
        state.grants += 1;
        let access = format!("sim-access-{}", state.issued);
        state.access.insert(access.clone(), self.spec.token_uses);
        answer["access_token"] = Value::String(access);
        let mut response = Response::json(200, &answer);
        response
            .headers
            .push(("cache-control".to_owned(), "no-store".to_owned()));
        response
    }
}

fn basic_client(request: &Request) -> Option<(String, String)> {
    let header = request.header("authorization")?;
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// An RFC 6749 section 5.2 error answer.
fn oauth_error(status: u16, code: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"error": code, "error_description": description}),
    )
}
