//! Credential checks. Missing credentials answer 401 with `WWW-Authenticate`; wrong ones answer
//! the spec's `wrong_status` (401 by default, 403 for APIs that do so).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::api_error::ApiError;
use crate::http1::Request;

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum AuthScheme {
    Bearer {
        token: String,
    },
    Basic {
        username: String,
        password: String,
    },
    ApiKeyHeader {
        header: String,
        value: String,
    },
    ApiKeyQuery {
        param: String,
        value: String,
    },
    /// An access token issued by the spec's OAuth server, checked by [`super::OAuthServer`].
    OAuth,
}

// Written by hand so that credentials never reach logs through `{:?}`.
impl fmt::Debug for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer { .. } => f.write_str("Bearer(<redacted>)"),
            Self::Basic { username, .. } => write!(f, "Basic({username}:<redacted>)"),
            Self::ApiKeyHeader { header, .. } => write!(f, "ApiKeyHeader({header}: <redacted>)"),
            Self::ApiKeyQuery { param, .. } => write!(f, "ApiKeyQuery({param}=<redacted>)"),
            Self::OAuth => f.write_str("OAuth"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Auth {
    pub(crate) scheme: AuthScheme,
    pub(crate) wrong_status: u16,
}

impl Auth {
    /// The query parameter carrying the key, which strict endpoints must then accept.
    pub(crate) fn query_param(&self) -> Option<&str> {
        match &self.scheme {
            AuthScheme::ApiKeyQuery { param, .. } => Some(param),
            _ => None,
        }
    }

    pub(crate) fn check(&self, request: &Request) -> Result<(), ApiError> {
        let missing = |challenge: Option<&str>| {
            let error = ApiError::new(401, "Requires authentication");
            match challenge {
                Some(c) => error.with_header("www-authenticate", c),
                None => error,
            }
        };
        let wrong = || ApiError::new(self.wrong_status, "Bad credentials");
        match &self.scheme {
            AuthScheme::Bearer { token } => {
                let header = request
                    .header("authorization")
                    .ok_or_else(|| missing(Some("Bearer realm=\"simulator\"")))?;
                match header.split_once(' ') {
                    Some((scheme, given))
                        if scheme.eq_ignore_ascii_case("bearer") && given.trim() == token =>
                    {
                        Ok(())
                    }
                    _ => Err(wrong()),
                }
            }
            AuthScheme::Basic { username, password } => {
                let header = request
                    .header("authorization")
                    .ok_or_else(|| missing(Some("Basic realm=\"simulator\"")))?;
                let decoded = header
                    .split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
                    .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
                    .and_then(|bytes| String::from_utf8(bytes).ok());
                match decoded.as_deref().and_then(|d| d.split_once(':')) {
                    Some((user, pass)) if user == username && pass == password => Ok(()),
                    _ => Err(wrong()),
                }
            }
            AuthScheme::ApiKeyHeader { header, value } => match request.header(header) {
                None => Err(missing(None)),
                Some(given) if given == value => Ok(()),
                Some(_) => Err(wrong()),
            },
            AuthScheme::ApiKeyQuery { param, value } => {
                match request.query.iter().find(|(k, _)| k == param) {
                    None => Err(missing(None)),
                    Some((_, given)) if given == value => Ok(()),
                    Some(_) => Err(wrong()),
                }
            }
            // The service checks these against its OAuth server before calling here.
            AuthScheme::OAuth => Err(ApiError::internal(
                "OAuth access tokens are checked by the OAuth server",
            )),
        }
    }
}
