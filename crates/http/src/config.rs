//! Client configuration: base URL, timeouts, retries, rate limits, auth, headers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::{Auth, Clock, RateLimitHeaders, RequestBudget, RetryPolicy, SystemClock};

/// The `User-Agent` sent unless a connector sets its own.
pub const DEFAULT_USER_AGENT: &str = concat!("lakeflow-rs/", env!("CARGO_PKG_VERSION"));

/// Everything an [`HttpClient`](crate::HttpClient) needs, built with chained setters:
///
/// ```
/// use std::time::Duration;
/// use lakeflow_http::{HttpConfig, RateLimitHeaders, RetryPolicy};
///
/// let config = HttpConfig::default()
///     .base_url("https://github.example.com/api/v3")
///     .read_timeout(Duration::from_secs(60))
///     .retry(RetryPolicy { max_attempts: 8, ..RetryPolicy::default() })
///     .rate_limit_headers(RateLimitHeaders::github())
///     .header("Accept", "application/vnd.github+json");
/// ```
///
/// `Debug` shows the configuration with credentials and sensitive header values replaced by
/// `***`.
#[derive(Clone)]
pub struct HttpConfig {
    pub(crate) base_url: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limit_headers: Option<RateLimitHeaders>,
    pub(crate) retry_hint_header: Option<String>,
    pub(crate) lasting_limit: Option<fn(&str) -> bool>,
    pub(crate) budget: Option<RequestBudget>,
    pub(crate) auth: Option<Auth>,
    pub(crate) user_agent: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) secret_query_params: Vec<String>,
    pub(crate) max_body_bytes: u64,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for HttpConfig {
    /// No base URL, 10 s to connect, 30 s per read, 5 minutes per attempt, the default
    /// [`RetryPolicy`], no rate-limit headers, no budget, no auth, [`DEFAULT_USER_AGENT`], bodies
    /// up to 64 MiB, the [`SystemClock`].
    fn default() -> Self {
        Self {
            base_url: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            rate_limit_headers: None,
            retry_hint_header: None,
            lasting_limit: None,
            budget: None,
            auth: None,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            headers: Vec::new(),
            secret_query_params: Vec::new(),
            max_body_bytes: 64 * 1024 * 1024,
            clock: Arc::new(SystemClock),
        }
    }
}

impl HttpConfig {
    /// The URL relative paths are joined to. Its path is kept as a prefix:
    /// `https://host/api/v3` + `/repos/a/b` is `https://host/api/v3/repos/a/b`. Credentials are
    /// only sent to this origin. Checked by [`HttpClient::new`](crate::HttpClient::new).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Time allowed to establish a connection (TCP and TLS).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for each read or write on the connection: a server that goes silent this long
    /// fails the attempt.
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Time allowed for one whole attempt, body included, so a server trickling bytes cannot
    /// hold a run forever.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How failures are retried.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The source's rate-limit headers, honoured after rate-limit answers and proactively.
    #[must_use]
    pub fn rate_limit_headers(mut self, headers: RateLimitHeaders) -> Self {
        self.rate_limit_headers = Some(headers);
        self
    }

    /// A response header by which the source says whether a failed request may be retried
    /// (Stripe's `Stripe-Should-Retry`): `true` retries an error status that otherwise would
    /// not be (a 409 lock timeout), `false` does not retry one that otherwise would.
    #[must_use]
    pub fn retry_hint_header(mut self, name: impl Into<String>) -> Self {
        self.retry_hint_header = Some(name.into().to_ascii_lowercase());
        self
    }

    /// How to tell, from its body, a rate-limit answer whose limit will not lift within the
    /// retries (HubSpot's daily limit, `"policyName": "DAILY"`): such an answer is not retried,
    /// so the error comes at once instead of after every attempt.
    #[must_use]
    pub fn lasting_limit(mut self, is_lasting: fn(&str) -> bool) -> Self {
        self.lasting_limit = Some(is_lasting);
        self
    }

    /// A request budget the client never exceeds, across all threads sharing it.
    #[must_use]
    pub fn budget(mut self, budget: RequestBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Credentials for every request to the base URL's origin.
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The `User-Agent` header (default [`DEFAULT_USER_AGENT`]).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// A header sent with every request (a later call with the same name replaces it).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        replace_header(&mut self.headers, name.into(), value.into());
        self
    }

    /// A query parameter whose value is redacted in logs and errors, beyond the built-in list
    /// (`access_token`, `api_key`, `token`, `client_secret`, `signature`, ...).
    #[must_use]
    pub fn secret_query_param(mut self, name: impl Into<String>) -> Self {
        self.secret_query_params.push(name.into());
        self
    }

    /// The largest response body accepted; larger ones fail with [`Error::Protocol`](crate::Error::Protocol).
    #[must_use]
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The clock the client reads and sleeps on (default [`SystemClock`]); tests pass a
    /// [`VirtualClock`](crate::VirtualClock) to check waits without spending them.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redactor = crate::redact::Redactor::new(self);
        // Header values may hold tokens a connector set by hand; show the non-sensitive ones.
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), redactor.header(n, v).into_owned()))
            .collect();
        let base_url = self.base_url.as_deref().map(|u| match url::Url::parse(u) {
            Ok(parsed) => redactor.url(&parsed),
            Err(_) => redactor.text(u).into_owned(),
        });
        f.debug_struct("HttpConfig")
            .field("base_url", &base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("rate_limit_headers", &self.rate_limit_headers)
            .field("budget", &self.budget)
            // `Auth`'s own Debug shows the kind and header name, never the credential.
            .field("auth", &self.auth)
            .field("user_agent", &self.user_agent)
            .field("headers", &headers)
            .field("secret_query_params", &self.secret_query_params)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// Sets header `name` in `headers`, replacing one of the same name (in any case).
pub(crate) fn replace_header(headers: &mut Vec<(String, String)>, name: String, value: String) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    headers.push((name, value));
}
