//! One attempt: build the wire request, follow redirects, read the body, classify the outcome.

use std::io::ErrorKind;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ureq::http::header::{HeaderName, HeaderValue};
use url::Url;

use crate::response::header_in;
use crate::retry::parse_retry_after_at;
use crate::{Error, HttpClient, RequestBuilder, Response};

/// Redirect hops followed within one attempt.
const MAX_REDIRECTS: usize = 10;

/// A failed attempt and what it says about retrying.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    /// The wait the server asked for (`Retry-After` or a rate-limit reset).
    pub(crate) server_wait: Option<Duration>,
    /// Whether the failure is the server throttling us.
    pub(crate) rate_limited: bool,
    /// Why no connection could be made, when that is what happened.
    pub(crate) connect_cause: Option<ConnectCause>,
    /// Whether the source said to retry (see `HttpConfig::retry_hint_header`).
    pub(crate) retry_hint: Option<bool>,
}

impl Failure {
    fn new(error: Error) -> Self {
        Self {
            error,
            server_wait: None,
            rate_limited: false,
            connect_cause: None,
            retry_hint: None,
        }
    }

    /// Whether trying again may help: the source's hint when it gave one, else the error's kind.
    pub(crate) fn is_retriable(&self) -> bool {
        self.retry_hint.unwrap_or_else(|| self.error.is_retriable())
    }

    /// Whether the server cannot have acted on the request, so even a POST may be repeated:
    /// the connection was never made, or the server refused to serve us yet.
    pub(crate) fn safe_to_repeat(&self) -> bool {
        self.rate_limited
            || self.connect_cause.is_some()
            || matches!(self.error, Error::Connect { .. })
    }

    /// The failure in a few words, for a progress line: `connection refused`, `HTTP 503`.
    pub(crate) fn reason(&self) -> String {
        if let Some(cause) = self.connect_cause {
            return cause.as_str().to_owned();
        }
        match &self.error {
            Error::RateLimited { status, .. } => format!("rate limited (HTTP {status})"),
            Error::Status { status, .. } => format!("HTTP {status}"),
            Error::Timeout { .. } => "timed out".to_owned(),
            Error::Disconnected { .. } => "connection lost".to_owned(),
            Error::Connect { .. } => "could not connect".to_owned(),
            Error::Protocol { .. } => "invalid HTTP response".to_owned(),
            _ => "request failed".to_owned(),
        }
    }
}

/// Why no connection could be made (the server never saw the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectCause {
    Refused,
    AddressNotAvailable,
    NetworkUnreachable,
    HostUnreachable,
    HostNotFound,
    Failed,
    ConnectTimeout,
    ResolveTimeout,
}

impl ConnectCause {
    /// The cause as the network stack would say it, in a few words.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "connection refused",
            Self::AddressNotAvailable => "address not available",
            Self::NetworkUnreachable => "network unreachable",
            Self::HostUnreachable => "host unreachable",
            Self::HostNotFound => "host not found",
            Self::Failed => "connection failed",
            Self::ConnectTimeout => "connection timed out",
            Self::ResolveTimeout => "host name lookup timed out",
        }
    }

    /// The cause, when `error` says no connection could be made.
    fn of(error: &ureq::Error) -> Option<Self> {
        match error {
            ureq::Error::Io(io) => match io.kind() {
                ErrorKind::ConnectionRefused => Some(Self::Refused),
                ErrorKind::AddrNotAvailable => Some(Self::AddressNotAvailable),
                ErrorKind::NetworkUnreachable => Some(Self::NetworkUnreachable),
                ErrorKind::HostUnreachable => Some(Self::HostUnreachable),
                _ => None,
            },
            ureq::Error::HostNotFound => Some(Self::HostNotFound),
            ureq::Error::ConnectionFailed => Some(Self::Failed),
            ureq::Error::Timeout(ureq::Timeout::Connect) => Some(Self::ConnectTimeout),
            ureq::Error::Timeout(ureq::Timeout::Resolve) => Some(Self::ResolveTimeout),
            _ => None,
        }
    }
}

impl HttpClient {
    /// Makes one attempt, following redirects, and returns the final response or a failure.
    pub(crate) fn attempt(
        &self,
        request: &RequestBuilder,
        url: &Url,
        attempt: u32,
        bearer: Option<&lakeflow_connect::Secret>,
    ) -> Result<Response, Failure> {
        let inner = &self.inner;
        let home = self.home_origin(url);
        let mut method = request.method.clone();
        let mut url = url.clone();
        let mut body = request.body.as_deref();
        let mut hops = 0;
        loop {
            let shown = inner.redactor.url(&url);
            // Credentials go to the home origin only: never to a redirect or link elsewhere.
            let with_auth = url.origin() == home;
            let wire = self
                .wire_request(
                    request,
                    &method,
                    &url,
                    with_auth.then_some(bearer).flatten(),
                    with_auth,
                )
                .map_err(|reason| {
                    Failure::new(Error::InvalidRequest {
                        method: method.clone(),
                        url: shown.clone(),
                        reason,
                    })
                })?;
            inner.stats.request(body.map_or(0, <[u8]>::len));
            let started = Instant::now();
            let sent = match body {
                Some(bytes) => {
                    let (parts, ()) = wire.into_parts();
                    inner
                        .agent
                        .run(ureq::http::Request::from_parts(parts, bytes))
                }
                None => inner.agent.run(wire),
            };
            let mut response = sent.map_err(|e| {
                let connect_cause = ConnectCause::of(&e);
                let error = self.transport_error(e, &method, &shown);
                tracing::debug!(%method, url = %shown, attempt, elapsed_ms = started.elapsed().as_millis(), %error, "HTTP request failed");
                Failure {
                    connect_cause,
                    ..Failure::new(error)
                }
            })?;
            // The server has answered: from now on, failing to connect is not a wrong address.
            inner.answered.store(true, Ordering::Relaxed);
            let status = response.status().as_u16();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_owned(), value)
                })
                .collect();
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = header_in(&headers, "location")
            {
                let next = url.join(location).map_err(|e| {
                    Failure::new(Error::Protocol {
                        method: method.clone(),
                        url: shown.clone(),
                        message: format!("invalid redirect location: {e}"),
                    })
                })?;
                if hops == MAX_REDIRECTS {
                    return Err(Failure::new(Error::Protocol {
                        method,
                        url: shown,
                        message: format!("more than {MAX_REDIRECTS} redirects"),
                    }));
                }
                tracing::debug!(%method, url = %shown, status, attempt, to = %inner.redactor.url(&next), "HTTP redirect");
                // 303, and 301/302 after a POST, turn into a GET without body (as browsers do).
                if status == 303 || (matches!(status, 301 | 302) && method == "POST") {
                    method = "GET".to_owned();
                    body = None;
                }
                url = next;
                hops += 1;
                continue;
            }
            let bytes = response
                .body_mut()
                .with_config()
                .limit(inner.config.max_body_bytes)
                .read_to_vec()
                .map_err(|e| Failure::new(self.transport_error(e, &method, &shown)))?;
            inner.stats.received(bytes.len());
            tracing::debug!(%method, url = %shown, status, attempt, elapsed_ms = started.elapsed().as_millis(), bytes = bytes.len(), "HTTP request");
            for (name, value) in &headers {
                tracing::trace!(header = %name, value = %inner.redactor.header(name, value), "HTTP response header");
            }
            self.note_rate_limit(&headers);
            if status >= 400 {
                return Err(self.status_failure(&method, shown, status, &headers, &bytes));
            }
            return Ok(Response {
                status,
                url,
                headers,
                body: bytes,
                redactor: inner.redactor.clone(),
            });
        }
    }

    /// The request as sent: configured headers, user agent, credentials (for the home origin),
    /// then the request's own headers, each replacing an earlier one of the same name.
    fn wire_request(
        &self,
        request: &RequestBuilder,
        method: &str,
        url: &Url,
        bearer: Option<&lakeflow_connect::Secret>,
        with_auth: bool,
    ) -> Result<ureq::http::Request<()>, String> {
        let config = &self.inner.config;
        let auth = config.auth.as_ref().filter(|_| with_auth);
        let mut url = url.clone();
        if let Some((name, value)) = auth.and_then(crate::Auth::query) {
            url.query_pairs_mut().append_pair(name, value);
        }
        let mut headers = ureq::http::HeaderMap::new();
        let auth_header = auth.and_then(crate::Auth::header).or_else(|| {
            bearer.map(|token| {
                (
                    "authorization".to_owned(),
                    format!("Bearer {}", token.expose()),
                )
            })
        });
        let all = config
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain([("user-agent", config.user_agent.as_str())])
            .chain(auth_header.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .chain(
                request
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            );
        for (name, value) in all {
            // Messages name the header, never its value, which may be a credential.
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name {name:?}"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value for header {name:?}"))?;
            tracing::trace!(header = %name, value = %self.inner.redactor.header(name, value.to_str().unwrap_or("")), "HTTP request header");
            headers.insert(header, value);
        }
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(url.as_str());
        if let Some(map) = builder.headers_mut() {
            *map = headers;
        }
        builder.body(()).map_err(|e| e.to_string())
    }

    /// Classifies a network-level failure.
    fn transport_error(&self, error: ureq::Error, method: &str, shown: &str) -> Error {
        let message = self.inner.redactor.text(&error.to_string()).into_owned();
        let (method, url) = (method.to_owned(), shown.to_owned());
        match error {
            ureq::Error::Timeout(_) => Error::Timeout {
                method,
                url,
                message,
            },
            ureq::Error::Io(io) => match io.kind() {
                ErrorKind::ConnectionRefused
                | ErrorKind::AddrNotAvailable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::HostUnreachable => Error::Connect {
                    method,
                    url,
                    message,
                    retriable: true,
                },
                ErrorKind::TimedOut | ErrorKind::WouldBlock => Error::Timeout {
                    method,
                    url,
                    message,
                },
                // Reset, aborted, broken pipe, unexpected EOF (truncated body), ...
                _ => Error::Disconnected {
                    method,
                    url,
                    message,
                },
            },
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => Error::Connect {
                method,
                url,
                message,
                retriable: true,
            },
            // A server that closes mid-response leaves malformed HTTP behind; that is a broken
            // connection as far as retrying goes.
            ureq::Error::Protocol(_) => Error::Disconnected {
                method,
                url,
                message,
            },
            ureq::Error::Tls(_) | ureq::Error::Pem(_) | ureq::Error::Rustls(_) => Error::Connect {
                method,
                url,
                message,
                retriable: false,
            },
            ureq::Error::BadUri(_) => Error::InvalidUrl {
                url,
                reason: message,
            },
            ureq::Error::Http(_) => Error::InvalidRequest {
                method,
                url,
                reason: message,
            },
            _ => Error::Protocol {
                method,
                url,
                message,
            },
        }
    }

    /// Classifies an error status: rate limiting, auth, or a plain (maybe retriable) status.
    fn status_failure(
        &self,
        method: &str,
        url: String,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Failure {
        let header = |name: &str| header_in(headers, name);
        let method = method.to_owned();
        let excerpt = self.inner.redactor.excerpt(body);
        let now = self.inner.config.clock.wall();
        let retry_after = header("retry-after").and_then(|v| parse_retry_after_at(v, now));
        let limits = self.inner.config.rate_limit_headers.as_ref();
        let exhausted = limits.is_some_and(|rl| rl.exhausted(header));
        let reset = limits
            .filter(|_| exhausted)
            .and_then(|rl| rl.reset_wait(header, now));
        // A 403 is throttling only when the source's declared headers (or Retry-After, GitHub's
        // secondary limit) say so; otherwise it is a permission problem that retrying won't fix.
        let rate_limited = status == 429
            || (status == 403 && limits.is_some() && (exhausted || retry_after.is_some()));
        if rate_limited {
            let wait = retry_after.or(reset);
            let lasting = self
                .inner
                .config
                .lasting_limit
                .is_some_and(|is_lasting| is_lasting(&String::from_utf8_lossy(body)));
            return Failure {
                error: Error::RateLimited {
                    method,
                    url,
                    status,
                    retry_after: wait,
                    excerpt,
                },
                server_wait: wait,
                rate_limited: true,
                connect_cause: None,
                retry_hint: lasting.then_some(false),
            };
        }
        if matches!(status, 401 | 403) {
            return Failure::new(Error::Auth {
                method,
                url,
                status,
                excerpt,
            });
        }
        let retry_hint = self
            .inner
            .config
            .retry_hint_header
            .as_deref()
            .and_then(header)
            .and_then(|value| match value.trim() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            });
        Failure {
            error: Error::Status {
                method,
                url,
                status,
                excerpt,
            },
            server_wait: retry_after,
            rate_limited: false,
            connect_cause: None,
            retry_hint,
        }
    }
}
