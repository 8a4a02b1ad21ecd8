//! Auth method declarations: how a connector authenticates, as its descriptor lists it.
//!
//! The kinds follow what `lakeflow-http`'s `Auth` implements, so a declaration names something
//! the HTTP toolkit can actually send.

use std::fmt;

use serde::Serialize;

/// The kind of credential a connector sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// No credential at all.
    None,
    /// A static token sent as `Authorization: Bearer <token>` (personal access tokens, API
    /// tokens).
    ApiToken,
    /// `Authorization: Basic` with a username and a password (or `email/token`).
    Basic,
    /// An API key in a named header or query parameter.
    ApiKey,
    /// OAuth 2 refresh-token grant: a client id, secret and refresh token get access tokens.
    OauthRefreshToken,
    /// OAuth 2 client-credentials grant: the client's own id and secret get access tokens.
    OauthClientCredentials,
}

impl AuthKind {
    /// The name users see (`api_token`, `oauth_refresh_token`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiToken => "api_token",
            Self::Basic => "basic",
            Self::ApiKey => "api_key",
            Self::OauthRefreshToken => "oauth_refresh_token",
            Self::OauthClientCredentials => "oauth_client_credentials",
        }
    }
}

impl fmt::Display for AuthKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One way a connector can authenticate: the kind, the connection options it is configured
/// with and one line for users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuthMethod {
    /// The kind of credential.
    #[serde(rename = "method")]
    pub kind: AuthKind,
    /// The connection options this method reads (each must be a declared connection option).
    pub options: &'static [&'static str],
    /// One line for `lakeflow sources` and docs.
    pub description: &'static str,
}

impl AuthMethod {
    /// A method of `kind` configured by the connection `options`.
    pub const fn new(
        kind: AuthKind,
        options: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        Self {
            kind,
            options,
            description,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auth_method_serializes_with_its_user_facing_name() {
        let method = AuthMethod::new(AuthKind::ApiToken, &["token"], "a token");
        let json = serde_json::to_value(method).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"method": "api_token", "options": ["token"], "description": "a token"})
        );
        let kinds = [
            AuthKind::None,
            AuthKind::ApiToken,
            AuthKind::Basic,
            AuthKind::ApiKey,
            AuthKind::OauthRefreshToken,
            AuthKind::OauthClientCredentials,
        ];
        for kind in kinds {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name(), "{kind:?}");
        }
    }
}
