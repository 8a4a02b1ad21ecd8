//! Scrubbing secrets from everything shown to people: URLs, headers, body excerpts, messages.
//!
//! Three layers, because a secret can reach text in several ways: sensitive header names
//! (`Authorization`, the API key header) have their values replaced; sensitive query parameters
//! (`access_token`, `api_key`, ...) have their values replaced; and every known secret value
//! (raw, URL-encoded, base64 basic credential) is replaced wherever it appears, e.g. in a server
//! error that echoes the request.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::HttpConfig;
use crate::oauth::OAuthSession;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "***";

/// Headers whose values are credentials in common APIs.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "private-token",
];

/// Query parameters that carry credentials in common APIs.
const SECRET_QUERY_PARAMS: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "client_secret",
    "password",
    "secret",
    "signature",
    "sig",
];

/// Scrubs secrets from text. Built once per client from its configuration.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    /// Secret values, longest first so that a secret containing another is replaced whole.
    secrets: Vec<String>,
    /// Lower-case header names whose values are never shown.
    headers: Vec<String>,
    /// Lower-case query parameter names whose values are never shown.
    params: Vec<String>,
    /// Where tokens obtained at run time (OAuth access and rotated refresh tokens) are known.
    oauth: Option<Arc<OAuthSession>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .field("headers", &self.headers)
            .field("params", &self.params)
            .finish()
    }
}

impl Redactor {
    pub(crate) fn new(config: &HttpConfig) -> Self {
        let mut headers: Vec<String> = SENSITIVE_HEADERS.iter().map(|h| (*h).to_owned()).collect();
        let mut params: Vec<String> = SECRET_QUERY_PARAMS
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
        params.extend(config.secret_query_params.iter().map(|p| p.to_lowercase()));
        let mut secrets = Vec::new();
        if let Some(auth) = &config.auth {
            headers.extend(auth.header_name().map(str::to_lowercase));
            params.extend(auth.query().map(|(name, _)| name.to_lowercase()));
            for value in auth.secret_values() {
                // The URL-encoded form is what appears in a query string.
                let encoded: String =
                    url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                secrets.push(encoded);
                secrets.push(value);
            }
        }
        // An empty "secret" would match everywhere and blank out every message.
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        let oauth = config
            .auth
            .as_ref()
            .and_then(|a| a.oauth_session())
            .cloned();
        Self {
            secrets,
            headers,
            params,
            oauth: None,
        }
        .with_oauth_opt(oauth)
    }

    /// The same, also scrubbing every secret of `session` (static ones and tokens obtained later).
    pub(crate) fn with_oauth(self, session: Arc<OAuthSession>) -> Self {
        self.with_oauth_opt(Some(session))
    }

    fn with_oauth_opt(mut self, session: Option<Arc<OAuthSession>>) -> Self {
        if let Some(session) = &session {
            for value in session.static_secrets() {
                let encoded: String =
                    url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                self.secrets.push(encoded);
                self.secrets.push(value);
            }
            self.secrets.retain(|s| !s.is_empty());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            self.secrets.dedup();
        }
        self.oauth = session;
        self
    }

    /// Replaces every known secret value in `text`.
    pub(crate) fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        if let Some(session) = &self.oauth {
            let mut live = session.live_secrets();
            live.retain(|s| !s.is_empty());
            live.sort_by_key(|s| std::cmp::Reverse(s.len()));
            for secret in live {
                let encoded: String =
                    url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
                for form in [secret, encoded] {
                    if out.contains(form.as_str()) {
                        out = Cow::Owned(out.replace(form.as_str(), REDACTED));
                    }
                }
            }
        }
        out
    }

    /// A URL fit for logs: no user info, sensitive query values replaced, secrets scrubbed.
    pub(crate) fn url(&self, url: &Url) -> String {
        let mut shown = url.clone();
        if !shown.username().is_empty() || shown.password().is_some() {
            // Setting user info fails only for URLs that cannot have it, which have none.
            let _ = shown.set_username(REDACTED);
            let _ = shown.set_password(None);
        }
        if shown.query().is_some() {
            let pairs: Vec<(String, String)> = shown
                .query_pairs()
                .map(|(k, v)| {
                    let value = if self.is_secret_param(&k) {
                        REDACTED.to_owned()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), value)
                })
                .collect();
            shown.query_pairs_mut().clear().extend_pairs(pairs);
        }
        self.text(shown.as_str()).into_owned()
    }

    /// A header value fit for logs.
    pub(crate) fn header<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if self.is_sensitive_header(name) {
            Cow::Borrowed(REDACTED)
        } else {
            self.text(value)
        }
    }

    pub(crate) fn is_sensitive_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    fn is_secret_param(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.eq_ignore_ascii_case(name))
    }

    /// The start of a response body for error messages: one line, at most 200 characters,
    /// secrets scrubbed.
    pub(crate) fn excerpt(&self, body: &[u8]) -> String {
        const MAX_CHARS: usize = 200;
        let text = String::from_utf8_lossy(body);
        let text = self.text(&text);
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > MAX_CHARS {
            let cut: String = one_line.chars().take(MAX_CHARS).collect();
            format!("{cut}...")
        } else {
            one_line
        }
    }
}

#[cfg(test)]
mod tests {
    use lakeflow_connect::Secret;

    use super::*;
    use crate::Auth;

    fn redactor() -> Redactor {
        let config = HttpConfig::default()
            .auth(Auth::api_key_query("api_key", Secret::new("s3cr3t/+=")))
            .secret_query_param("Session");
        Redactor::new(&config)
    }

    #[test]
    fn urls_lose_secret_params_user_info_and_values() {
        let r = redactor();
        let url = Url::parse(
            "https://user:pw@api.example.com/v1/s3cr3t%2F%2B%3D/x?api_key=s3cr3t%2F%2B%3D&page=2&session=abc&access_token=t",
        )
        .unwrap();
        let shown = r.url(&url);
        assert_eq!(
            shown,
            "https://***@api.example.com/v1/***/x?api_key=***&page=2&session=***&access_token=***"
        );
    }

    #[test]
    fn text_headers_and_excerpts() {
        let r = redactor();
        assert_eq!(r.text("token s3cr3t/+= echoed"), "token *** echoed");
        assert_eq!(r.header("Authorization", "Bearer x"), "***");
        assert_eq!(r.header("Accept", "application/json"), "application/json");
        assert_eq!(
            r.excerpt(b"{\n  \"error\":   \"s3cr3t/+=\"\n}"),
            "{ \"error\": \"***\" }"
        );
        let long = "x".repeat(300);
        assert_eq!(r.excerpt(long.as_bytes()).len(), 203);
        // Without credentials nothing is scrubbed, and an empty secret never matches.
        let plain = Redactor::new(&HttpConfig::default().auth(Auth::bearer(Secret::new(""))));
        assert_eq!(plain.text("nothing to hide"), "nothing to hide");
    }
}
