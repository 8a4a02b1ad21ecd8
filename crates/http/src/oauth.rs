//! OAuth 2 access tokens (RFC 6749): the refresh-token grant and the client-credentials grant.
//!
//! The client asks the token endpoint for an access token before the first request, again
//! shortly before the token expires (by `expires_in`, read on the client's [`Clock`]), and once
//! more when a request is answered 401 (the request is then repeated once with the new token). A
//! refresh token the server rotates replaces the old one. Every token and the client secret are
//! scrubbed from errors and logs, and no `Debug` shows them.
//!
//! [`Clock`]: crate::Clock

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lakeflow_connect::Secret;
use serde::Deserialize;

use crate::redact::Redactor;
use crate::{Error, HttpClient, HttpConfig, Result};

/// How long before its expiry an access token is replaced, by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Tokens remembered for redaction: current ones and recent predecessors, which may still sit in
/// a server's echo of an earlier request.
const REMEMBERED_TOKENS: usize = 32;

/// How a connector gets OAuth 2 access tokens. Built with [`OAuth2::refresh_token`] or
/// [`OAuth2::client_credentials`], then passed to [`Auth::oauth`](crate::Auth::oauth).
///
/// `Debug` shows the grant, the token URL and the source name, never a secret.
#[derive(Clone)]
pub struct OAuth2 {
    token_url: String,
    client_id: String,
    client_secret: Secret,
    grant: Grant,
    scope: Option<String>,
    source: String,
    margin: Duration,
}

#[derive(Clone)]
enum Grant {
    RefreshToken(Secret),
    ClientCredentials,
}

impl OAuth2 {
    /// The refresh-token grant: `refresh_token` is exchanged at `token_url` for access tokens.
    pub fn refresh_token(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
        refresh_token: Secret,
    ) -> Self {
        Self::new(
            token_url,
            client_id,
            client_secret,
            Grant::RefreshToken(refresh_token),
        )
    }

    /// The client-credentials grant: the client's own id and secret get the access tokens.
    pub fn client_credentials(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> Self {
        Self::new(
            token_url,
            client_id,
            client_secret,
            Grant::ClientCredentials,
        )
    }

    fn new(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
        grant: Grant,
    ) -> Self {
        Self {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret,
            grant,
            scope: None,
            source: "the source".to_owned(),
            margin: DEFAULT_REFRESH_MARGIN,
        }
    }

    /// The `scope` asked for (space-separated, as the provider names them).
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// What errors call the credentials' owner, e.g. ``connection `crm` (hubspot)``, so that a
    /// revoked token says which connection to authorize again.
    #[must_use]
    pub fn source_name(mut self, name: impl Into<String>) -> Self {
        self.source = name.into();
        self
    }

    /// How long before expiry a token is replaced (default [`DEFAULT_REFRESH_MARGIN`]; at most
    /// half the token's lifetime is used, so short-lived tokens are not refreshed on every call).
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    fn grant_name(&self) -> &'static str {
        match self.grant {
            Grant::RefreshToken(_) => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        }
    }
}

impl fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2")
            .field("grant", &self.grant_name())
            .field("token_url", &redacted_url(&self.token_url))
            .field("source", &self.source)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The token URL without user info or query, which could hold credentials.
fn redacted_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.to_string()
        }
        Err(_) => "(invalid URL)".to_owned(),
    }
}

/// The live state of one [`OAuth2`] configuration, shared by every clone of the client.
pub(crate) struct OAuthSession {
    settings: OAuth2,
    /// Held while a token is fetched, so one thread fetches and the others wait for it.
    state: Mutex<TokenState>,
    /// Every token value seen, newest last, for redaction. Apart from `state` because the
    /// token client's own redactor reads it in the middle of a fetch.
    seen: Mutex<Vec<String>>,
}

struct TokenState {
    /// The refresh token in force (rotated ones replace it).
    refresh_token: Option<Secret>,
    access: Option<AccessToken>,
}

struct AccessToken {
    token: Secret,
    /// When to get a new one; `None` when the server gave no `expires_in`.
    refresh_at: Option<Instant>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
}

impl OAuthSession {
    pub(crate) fn new(settings: OAuth2) -> Self {
        let refresh_token = match &settings.grant {
            Grant::RefreshToken(token) => Some(token.clone()),
            Grant::ClientCredentials => None,
        };
        Self {
            settings,
            state: Mutex::new(TokenState {
                refresh_token,
                access: None,
            }),
            seen: Mutex::new(Vec::new()),
        }
    }

    fn state(&self) -> MutexGuard<'_, TokenState> {
        // A panic mid-refresh leaves at worst no access token, which the next call fetches.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn settings(&self) -> &OAuth2 {
        &self.settings
    }

    /// The secrets known from the start: the client secret and the first refresh token.
    pub(crate) fn static_secrets(&self) -> Vec<String> {
        let mut values = vec![self.settings.client_secret.expose().to_owned()];
        if let Grant::RefreshToken(token) = &self.settings.grant {
            values.push(token.expose().to_owned());
        }
        values
    }

    /// The tokens obtained since (access tokens, rotated refresh tokens).
    pub(crate) fn live_secrets(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A valid access token: the cached one, or a new one when there is none or it is about to
    /// expire. One thread fetches while the others wait for its answer.
    pub(crate) fn access_token(self: &Arc<Self>, client: &HttpClient) -> Result<Secret> {
        let clock = &*client.config().clock;
        let mut state = self.state();
        if let Some(access) = &state.access
            && access.refresh_at.is_none_or(|at| clock.now() < at)
        {
            return Ok(access.token.clone());
        }
        self.fetch(&mut state, client)
    }

    /// Forgets `used` after the server refused it, unless another thread already replaced it.
    pub(crate) fn invalidate(&self, used: &Secret) {
        let mut state = self.state();
        if state.access.as_ref().is_some_and(|a| &a.token == used) {
            state.access = None;
        }
    }

    fn fetch(self: &Arc<Self>, state: &mut TokenState, client: &HttpClient) -> Result<Secret> {
        let settings = &self.settings;
        let token_client = self.token_client(client.config())?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", settings.grant_name());
        if let Some(refresh) = &state.refresh_token {
            form.append_pair("refresh_token", refresh.expose());
        }
        form.append_pair("client_id", &settings.client_id);
        form.append_pair("client_secret", settings.client_secret.expose());
        if let Some(scope) = &settings.scope {
            form.append_pair("scope", scope);
        }
        let sent = token_client
            .post(&settings.token_url)
            .header("accept", "application/json")
            .body(form.finish(), "application/x-www-form-urlencoded")
            .send();
        let response = sent.map_err(|error| self.token_error(error, &token_client))?;
        let shown_url = token_client
            .url(&settings.token_url)
            .map(|u| token_client.redactor().url(&u))
            .unwrap_or_default();
        let malformed = |code: &str| Error::OAuth {
            source_name: settings.source.clone(),
            token_url: shown_url.clone(),
            status: Some(response.status),
            code: Some(code.to_owned()),
            grant: settings.grant_name(),
        };
        let answer: TokenAnswer =
            serde_json::from_slice(&response.body).map_err(|_| malformed(NOT_JSON))?;
        let token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| malformed(NO_ACCESS_TOKEN))?;
        // Some providers send `expires_in` as a string.
        let lifetime = answer.expires_in.and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let clock = &*client.config().clock;
        let refresh_at = lifetime.map(|secs| {
            let lifetime = Duration::from_secs(secs);
            clock.now() + lifetime.saturating_sub(settings.margin.min(lifetime / 2))
        });
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        remember(&mut seen, &token);
        if let Some(rotated) = answer.refresh_token.filter(|t| !t.is_empty()) {
            remember(&mut seen, &rotated);
            if state.refresh_token.is_some() {
                state.refresh_token = Some(Secret::new(rotated));
            }
        }
        drop(seen);
        let token = Secret::new(token);
        tracing::debug!(grant = settings.grant_name(), source = %settings.source, expires_in = ?lifetime, "obtained an OAuth access token");
        state.access = Some(AccessToken {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// A client for the token endpoint: the API client's timeouts, retries and clock, but none
    /// of its credentials, headers or budget, and a redactor that knows every OAuth secret.
    fn token_client(self: &Arc<Self>, api: &HttpConfig) -> Result<HttpClient> {
        let mut config = api.clone();
        config.base_url = None;
        config.auth = None;
        config.budget = None;
        config.rate_limit_headers = None;
        config.headers.clear();
        let redactor = Redactor::new(&config).with_oauth(self.clone());
        HttpClient::with_redactor(config, redactor)
    }

    /// A refusal by the token endpoint becomes [`Error::OAuth`], saying what to do; failures to
    /// reach it stay what they are.
    fn token_error(&self, error: Error, token_client: &HttpClient) -> Error {
        let settings = &self.settings;
        let (status, url, excerpt) = match &error {
            Error::Status {
                status,
                url,
                excerpt,
                ..
            }
            | Error::Auth {
                status,
                url,
                excerpt,
                ..
            } if (400..500).contains(status) => (*status, url.clone(), excerpt.clone()),
            _ => return error,
        };
        Error::OAuth {
            source_name: settings.source.clone(),
            token_url: token_client.redactor().text(&url).into_owned(),
            status: Some(status),
            code: error_code(&excerpt),
            grant: settings.grant_name(),
        }
    }
}

/// Codes of [`Error::OAuth`] for a 2xx answer that is not a usable token response.
const NOT_JSON: &str = "not_a_json_token_response";
const NO_ACCESS_TOKEN: &str = "no_access_token";

/// What to do about a token endpoint's refusal, for [`Error::OAuth`]'s message.
pub(crate) fn remedy(code: Option<&str>, status: Option<u16>, grant: &str, source: &str) -> String {
    match (code, status) {
        (Some("invalid_grant"), _) => format!(
            "the refresh token was revoked, has expired or was already used; authorize {source} again and update its refresh token"
        ),
        (Some("invalid_client"), _) | (None, Some(401)) => format!(
            "the client id or client secret was rejected; check the OAuth client credentials of {source}"
        ),
        (Some("invalid_scope"), _) => {
            format!("the scope asked for is not allowed; check the scopes configured for {source}")
        }
        (Some(NOT_JSON | NO_ACCESS_TOKEN), _) => format!(
            "the answer is not a token response; check the token URL configured for {source}"
        ),
        _ => format!(
            "the authorization server refused the `{grant}` grant; check the OAuth settings of {source}"
        ),
    }
}

/// The RFC 6749 `error` code of a token endpoint's error body, when it has a known one.
fn error_code(excerpt: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        error: String,
    }
    if let Ok(body) = serde_json::from_str::<Body>(excerpt) {
        return Some(body.error);
    }
    // A cut excerpt is not JSON; the standard codes are still recognisable.
    [
        "invalid_grant",
        "invalid_client",
        "invalid_scope",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_request",
    ]
    .into_iter()
    .find(|code| excerpt.contains(code))
    .map(str::to_owned)
}

fn remember(seen: &mut Vec<String>, token: &str) {
    seen.retain(|t| t != token);
    seen.push(token.to_owned());
    if seen.len() > REMEMBERED_TOKENS {
        seen.remove(0);
    }
}

impl fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSession")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let oauth = OAuth2::refresh_token(
            "https://user:pw@auth.example.com/token?key=k",
            "client-1",
            Secret::new("cs-secret"),
            Secret::new("rt-secret"),
        )
        .source_name("connection `crm`");
        let shown = format!("{oauth:?}");
        assert!(shown.contains("refresh_token"), "{shown}");
        assert!(shown.contains("connection `crm`"), "{shown}");
        for secret in ["cs-secret", "rt-secret", "pw", "key=k"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        let session = OAuthSession::new(oauth);
        let shown = format!("{session:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn tokens_obtained_later_are_scrubbed_by_the_client_redactor() {
        let auth = crate::Auth::oauth(OAuth2::client_credentials(
            "https://auth.example.com/token",
            "client-1",
            Secret::new("cs-secret"),
        ));
        let redactor = Redactor::new(&HttpConfig::default().auth(auth.clone()));
        let session = auth.oauth_session().unwrap();
        remember(&mut session.seen.lock().unwrap(), "at/obtained+later");
        assert_eq!(
            redactor.text("echo: at/obtained+later at%2Fobtained%2Blater cs-secret"),
            "echo: *** *** ***"
        );
    }

    #[test]
    fn error_codes_from_whole_and_cut_bodies() {
        assert_eq!(
            error_code(r#"{"error":"invalid_grant","error_description":"x"}"#).as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(
            error_code(r#"{"error":"invalid_client","error_descr..."#).as_deref(),
            Some("invalid_client")
        );
        assert_eq!(error_code("Bad Request"), None);
    }
}
