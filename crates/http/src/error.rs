//! Semantic HTTP errors and their mapping onto [`lakeflow_connect::Error`].
//!
//! Every URL stored in an error is redacted when the error is built (secret query parameters and
//! known secret values replaced by `***`), and body excerpts are scrubbed the same way, so
//! `Display` and `Debug` are safe to log.

use std::fmt;
use std::time::Duration;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with an HTTP call, in terms a connector can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be built (bad base URL, relative path without a base URL, ...).
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// The offending URL, redacted.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The request could not be built (invalid header name or value, unserializable body).
    #[error("invalid request {method} {url}: {reason}")]
    InvalidRequest {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A connect, read or per-request timeout expired.
    #[error("{method} {url} timed out: {message}")]
    Timeout {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// Which timeout expired.
        message: String,
    },
    /// No connection could be established (refused, DNS failure, TLS failure).
    #[error("{method} {url}: could not connect: {message}")]
    Connect {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// What the network stack said.
        message: String,
        /// Whether trying again may help (a refused port may come back; a bad certificate will not).
        retriable: bool,
    },
    /// The connection broke during the exchange (reset, closed early, truncated body).
    #[error("{method} {url}: connection lost: {message}")]
    Disconnected {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// What the network stack said.
        message: String,
    },
    /// The server answered with something that is not valid HTTP, or too much of it.
    #[error("{method} {url}: invalid HTTP response: {message}")]
    Protocol {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The server answered with an error status that is neither auth nor rate limiting.
    #[error("{method} {url} returned HTTP {status}{}", excerpt_suffix(excerpt))]
    Status {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body, redacted.
        excerpt: String,
    },
    /// The server rejected the credentials (401, or 403 that is not rate limiting).
    #[error(
        "{method} {url} was refused with HTTP {status} (check the credentials and their permissions){}",
        excerpt_suffix(excerpt)
    )]
    Auth {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The start of the response body, redacted.
        excerpt: String,
    },
    /// The OAuth token endpoint refused to issue an access token (a revoked refresh token, a
    /// rejected client secret, ...). Holds no secret; the message says what to do about it.
    #[error(
        "cannot get an OAuth access token for {source_name}: {token_url} refused the request{}{}; {}",
        status.map(|s| format!(" with HTTP {s}")).unwrap_or_default(),
        code.as_deref().map(|c| format!(" (`{c}`)")).unwrap_or_default(),
        crate::oauth::remedy(code.as_deref(), *status, grant, source_name)
    )]
    OAuth {
        /// Whose credentials these are (see [`OAuth2::source_name`](crate::OAuth2::source_name)).
        source_name: String,
        /// The token endpoint, redacted.
        token_url: String,
        /// The HTTP status of the refusal, when there was one.
        status: Option<u16>,
        /// The RFC 6749 error code (`invalid_grant`, `invalid_client`, ...), when given.
        code: Option<String>,
        /// The grant asked for: `refresh_token` or `client_credentials`.
        grant: &'static str,
    },
    /// The server said to slow down (429; or, where rate-limit headers are declared, a 403 with
    /// those headers exhausted, a `Retry-After`, or a body naming a secondary rate limit).
    #[error("{method} {url} was rate limited (HTTP {status}{}){}", wait_hint(*retry_after), excerpt_suffix(excerpt))]
    RateLimited {
        /// HTTP method.
        method: String,
        /// Redacted URL.
        url: String,
        /// 429 or 403.
        status: u16,
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// The start of the response body, redacted.
        excerpt: String,
    },
    /// Retriable failures went on until the attempt or time limit; `last` is the final cause.
    #[error("gave up after {attempts} attempts in {}: {reason}; last error: {last}", Secs(*elapsed))]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// Time from the first attempt to giving up.
        elapsed: Duration,
        /// Which limit stopped the retries.
        reason: String,
        /// The last failure.
        last: Box<Error>,
    },
    /// No connection could be made, on every attempt, to a server that has never answered this
    /// client: the source is down or the address is wrong. Tried only
    /// [`first_contact_attempts`](crate::RetryPolicy::first_contact_attempts) times, so this
    /// comes quickly.
    #[error(
        "cannot connect to {address}: {cause} (gave up after {attempts} attempts in {}, and it has never answered); check that the source is running and that its URL is right",
        Secs(*elapsed)
    )]
    Unreachable {
        /// `host:port`: no credentials, path or query.
        address: String,
        /// What the network stack said, in a few words (`connection refused`, `host not found`).
        cause: String,
        /// Attempts made.
        attempts: u32,
        /// Time from the first attempt to giving up.
        elapsed: Duration,
        /// The last failure (with the whole redacted URL).
        last: Box<Error>,
    },
    /// The body is not the JSON expected.
    #[error("cannot decode the response of {url}{}: {message}", at_path(path.as_deref()))]
    Decode {
        /// Redacted URL.
        url: String,
        /// The JSON path concerned, when there is one.
        path: Option<String>,
        /// What the decoder said, redacted.
        message: String,
    },
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

fn wait_hint(wait: Option<Duration>) -> String {
    wait.map(|w| format!(", retry after {}", Secs(w)))
        .unwrap_or_default()
}

fn at_path(path: Option<&str>) -> String {
    path.map(|p| format!(" at `{p}`")).unwrap_or_default()
}

/// Formats a duration as seconds with millisecond precision (`1.250s`), stable across platforms.
pub(crate) struct Secs(pub(crate) Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.0.as_secs_f64())
    }
}

/// Statuses that mean "try again later": request timeout, rate limiting and transient server
/// errors. Other 5xx (501 Not Implemented, 505, ...) are permanent.
pub fn is_retriable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

impl Error {
    /// The HTTP status, when the failure was an HTTP answer (looks through retries).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. }
            | Self::Auth { status, .. }
            | Self::RateLimited { status, .. } => Some(*status),
            Self::OAuth { status, .. } => *status,
            Self::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Whether repeating the same request later may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Timeout { .. }
            | Self::Disconnected { .. }
            | Self::RateLimited { .. }
            | Self::RetriesExhausted { .. }
            | Self::Unreachable { .. } => true,
            Self::Connect { retriable, .. } => *retriable,
            Self::Status { status, .. } => is_retriable_status(*status),
            _ => false,
        }
    }

    /// How long the server asked us to wait, when it did (looks through retries).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            Self::RetriesExhausted { last, .. } => last.retry_after(),
            _ => None,
        }
    }
}

impl From<Error> for lakeflow_connect::Error {
    fn from(error: Error) -> Self {
        use lakeflow_connect::Error as E;
        // The innermost cause decides the kind; the message keeps the whole story (attempts).
        let cause = match &error {
            Error::RetriesExhausted { last, .. } => last.as_ref(),
            other => other,
        };
        let message = error.to_string();
        match cause {
            Error::Auth { .. } | Error::OAuth { .. } => E::Auth { message },
            Error::RateLimited { .. } => E::RateLimited {
                retry_after: error.retry_after(),
                message,
            },
            Error::Decode { .. } | Error::Protocol { .. } => E::Protocol { message },
            _ => E::Transport {
                status: error.status(),
                retriable: error.is_retriable(),
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Error {
        Error::Status {
            method: "GET".into(),
            url: "https://api.example.com/x".into(),
            status: code,
            excerpt: String::new(),
        }
    }

    #[test]
    fn maps_onto_connect_errors() {
        let auth = Error::Auth {
            method: "GET".into(),
            url: "u".into(),
            status: 401,
            excerpt: "Bad credentials".into(),
        };
        assert!(matches!(
            lakeflow_connect::Error::from(auth),
            lakeflow_connect::Error::Auth { message } if message.contains("Bad credentials")
        ));

        let limited = Error::RetriesExhausted {
            attempts: 3,
            elapsed: Duration::from_millis(1500),
            reason: "attempt limit reached".into(),
            last: Box::new(Error::RateLimited {
                method: "GET".into(),
                url: "u".into(),
                status: 429,
                retry_after: Some(Duration::from_secs(60)),
                excerpt: String::new(),
            }),
        };
        assert_eq!(
            limited.to_string(),
            "gave up after 3 attempts in 1.500s: attempt limit reached; \
             last error: GET u was rate limited (HTTP 429, retry after 60.000s)"
        );
        match lakeflow_connect::Error::from(limited) {
            lakeflow_connect::Error::RateLimited {
                retry_after,
                message,
            } => {
                assert_eq!(retry_after, Some(Duration::from_secs(60)));
                assert!(message.contains("3 attempts"), "{message}");
            }
            other => panic!("{other:?}"),
        }

        match lakeflow_connect::Error::from(status(404)) {
            lakeflow_connect::Error::Transport {
                status, retriable, ..
            } => assert_eq!((status, retriable), (Some(404), false)),
            other => panic!("{other:?}"),
        }
        match lakeflow_connect::Error::from(status(503)) {
            lakeflow_connect::Error::Transport {
                status, retriable, ..
            } => assert_eq!((status, retriable), (Some(503), true)),
            other => panic!("{other:?}"),
        }
        let decode = Error::Decode {
            url: "u".into(),
            path: Some("data".into()),
            message: "expected an array".into(),
        };
        assert_eq!(
            decode.to_string(),
            "cannot decode the response of u at `data`: expected an array"
        );
        assert!(matches!(
            lakeflow_connect::Error::from(decode),
            lakeflow_connect::Error::Protocol { .. }
        ));
    }

    #[test]
    fn retriable_statuses() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(is_retriable_status(code), "{code}");
        }
        for code in [400, 401, 403, 404, 409, 422, 501, 505] {
            assert!(!is_retriable_status(code), "{code}");
        }
    }
}
