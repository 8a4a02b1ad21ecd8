//! Credentials attached to requests: bearer token, basic auth, API key in a header or a query
//! parameter. Every credential is held in a [`Secret`], and `Debug` never shows it.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use lakeflow_connect::Secret;

use crate::OAuth2;
use crate::oauth::OAuthSession;

/// How requests authenticate. Built with [`Auth::bearer`], [`Auth::basic`],
/// [`Auth::api_key_header`], [`Auth::api_key_query`] or [`Auth::oauth`].
///
/// Clones share OAuth access tokens, so every client built from one configuration refreshes
/// once for all.
///
/// The client attaches credentials only to requests for the origin of its base URL (or, without
/// a base URL, to the origin the request was made for), so a redirect or a `next` link to another
/// host never receives them.
#[derive(Clone)]
pub struct Auth(Kind);

#[derive(Clone)]
enum Kind {
    Bearer(Secret),
    Basic { username: Secret, password: Secret },
    Header { name: String, key: Secret },
    Query { name: String, key: Secret },
    OAuth(Arc<OAuthSession>),
}

impl Auth {
    /// `Authorization: Bearer <token>` (GitHub, Stripe, HubSpot, most OAuth APIs).
    pub fn bearer(token: Secret) -> Self {
        Self(Kind::Bearer(token))
    }

    /// `Authorization: Basic base64(username:password)` (Zendesk `email/token`, Jira, ...).
    ///
    /// The username is kept out of `Debug` too, since some APIs put a key there.
    pub fn basic(username: impl Into<String>, password: Secret) -> Self {
        Self(Kind::Basic {
            username: Secret::new(username.into()),
            password,
        })
    }

    /// An API key in a named header, e.g. `X-Api-Key: <key>`.
    pub fn api_key_header(name: impl Into<String>, key: Secret) -> Self {
        Self(Kind::Header {
            name: name.into(),
            key,
        })
    }

    /// An API key in a query parameter, e.g. `?api_key=<key>`; the parameter is redacted in
    /// logs and errors.
    pub fn api_key_query(name: impl Into<String>, key: Secret) -> Self {
        Self(Kind::Query {
            name: name.into(),
            key,
        })
    }

    /// OAuth 2 access tokens (refresh-token or client-credentials grant) sent as
    /// `Authorization: Bearer <token>`, obtained before the first request, renewed before they
    /// expire and once more after a 401.
    pub fn oauth(settings: OAuth2) -> Self {
        Self(Kind::OAuth(Arc::new(OAuthSession::new(settings))))
    }

    /// The OAuth session, when access tokens come from a token endpoint.
    pub(crate) fn oauth_session(&self) -> Option<&Arc<OAuthSession>> {
        match &self.0 {
            Kind::OAuth(session) => Some(session),
            _ => None,
        }
    }

    /// The header to send, if this credential travels in a static header (an OAuth access token
    /// is added per request instead).
    pub(crate) fn header(&self) -> Option<(String, String)> {
        match &self.0 {
            Kind::Bearer(token) => Some((
                "authorization".to_owned(),
                format!("Bearer {}", token.expose()),
            )),
            Kind::Basic { username, password } => Some((
                "authorization".to_owned(),
                format!("Basic {}", basic_credential(username, password)),
            )),
            Kind::Header { name, key } => Some((name.clone(), key.expose().to_owned())),
            Kind::Query { .. } | Kind::OAuth(_) => None,
        }
    }

    /// The query parameter to add, if this credential travels in the URL.
    pub(crate) fn query(&self) -> Option<(&str, &str)> {
        match &self.0 {
            Kind::Query { name, key } => Some((name, key.expose())),
            _ => None,
        }
    }

    /// The header name that carries the credential (redacted whenever headers are shown).
    pub(crate) fn header_name(&self) -> Option<&str> {
        match &self.0 {
            Kind::Bearer(_) | Kind::Basic { .. } | Kind::OAuth(_) => Some("authorization"),
            Kind::Header { name, .. } => Some(name),
            Kind::Query { .. } => None,
        }
    }

    /// The secret strings that must be scrubbed from any text shown to people: the raw values and
    /// the encoded forms they take on the wire.
    pub(crate) fn secret_values(&self) -> Vec<String> {
        match &self.0 {
            Kind::Bearer(token) => vec![token.expose().to_owned()],
            Kind::Basic { username, password } => vec![
                password.expose().to_owned(),
                basic_credential(username, password),
            ],
            Kind::Header { key, .. } | Kind::Query { key, .. } => vec![key.expose().to_owned()],
            // Tokens obtained later are scrubbed through the session (see `Redactor::text`).
            Kind::OAuth(session) => session.static_secrets(),
        }
    }
}

fn basic_credential(username: &Secret, password: &Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        username.expose(),
        password.expose()
    ))
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Bearer(_) => f.write_str("Auth::Bearer(***)"),
            Kind::Basic { .. } => f.write_str("Auth::Basic(***)"),
            Kind::Header { name, .. } => write!(f, "Auth::ApiKeyHeader({name}: ***)"),
            Kind::Query { name, .. } => write!(f, "Auth::ApiKeyQuery({name}=***)"),
            Kind::OAuth(session) => write!(f, "Auth::OAuth2({:?})", session.settings()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_debug() {
        let bearer = Auth::bearer(Secret::new("tok_123"));
        assert_eq!(
            bearer.header(),
            Some(("authorization".into(), "Bearer tok_123".into()))
        );
        assert_eq!(format!("{bearer:?}"), "Auth::Bearer(***)");

        // RFC 7617's own example.
        let basic = Auth::basic("Aladdin", Secret::new("open sesame"));
        assert_eq!(
            basic.header().unwrap().1,
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(
            basic
                .secret_values()
                .contains(&"QWxhZGRpbjpvcGVuIHNlc2FtZQ==".to_owned())
        );
        assert!(!format!("{basic:?}").contains("Aladdin"));

        let key = Auth::api_key_header("X-Api-Key", Secret::new("k_999"));
        assert_eq!(key.header(), Some(("X-Api-Key".into(), "k_999".into())));
        assert_eq!(format!("{key:?}"), "Auth::ApiKeyHeader(X-Api-Key: ***)");

        let query = Auth::api_key_query("api_key", Secret::new("k_777"));
        assert_eq!(query.header(), None);
        assert_eq!(query.query(), Some(("api_key", "k_777")));
        assert!(!format!("{query:?}").contains("k_777"));
    }
}
