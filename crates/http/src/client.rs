//! The client: one shared agent, configuration, budget, counters; the retry loop.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use url::Url;

use crate::budget::Limiter;
use crate::error::Secs;
use crate::exchange::Failure;
use crate::redact::Redactor;
use crate::retry::{Jitter, mentions_secondary_rate_limit};
use crate::stats::Counters;
use crate::{Error, HttpConfig, HttpStats, RETRY_EVENT_TARGET, RequestBuilder, Response, Result};

/// The HTTP client every connector uses. `Send + Sync`; clones share the connection pool,
/// request budget, rate-limit pause and counters.
///
/// `Debug` shows the redacted configuration and the counters.
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) agent: ureq::Agent,
    pub(crate) config: HttpConfig,
    base_url: Option<Url>,
    pub(crate) redactor: Arc<Redactor>,
    limiter: Option<Limiter>,
    pub(crate) stats: Counters,
    /// Until when no request should start, because the rate-limit window is used up.
    pause_until: Mutex<Option<Instant>>,
    jitter: Jitter,
    /// Whether any server has answered this client (or a clone) yet: until then, failing to
    /// connect most likely means a wrong address or a source that is down.
    pub(crate) answered: AtomicBool,
}

impl HttpClient {
    /// A client for `config`; fails if the base URL is not an absolute http(s) URL without query.
    pub fn new(config: HttpConfig) -> Result<Self> {
        let redactor = Redactor::new(&config);
        Self::with_redactor(config, redactor)
    }

    /// A client whose redactor is given (the OAuth token client scrubs the API's secrets).
    pub(crate) fn with_redactor(config: HttpConfig, redactor: Redactor) -> Result<Self> {
        let redactor = Arc::new(redactor);
        let base_url = config
            .base_url
            .as_deref()
            .map(|raw| parse_base_url(raw, &redactor))
            .transpose()?;
        let agent = ureq::Agent::config_builder()
            // Statuses are classified here (auth, rate limit, retriable), not by ureq.
            .http_status_as_error(false)
            // Redirects are followed here, so credentials never follow one to another origin.
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_read(Some(config.read_timeout))
            .timeout_per_write(Some(config.read_timeout))
            .timeout_per_call(Some(config.request_timeout))
            .build()
            .new_agent();
        let limiter = config.budget.map(Limiter::new);
        Ok(Self {
            inner: Arc::new(Inner {
                agent,
                base_url,
                redactor,
                limiter,
                stats: Counters::default(),
                pause_until: Mutex::new(None),
                jitter: Jitter::new(),
                answered: AtomicBool::new(false),
                config,
            }),
        })
    }

    /// A GET request; `url` is absolute or a path joined to the base URL.
    pub fn get(&self, url: &str) -> RequestBuilder {
        self.request("GET", url)
    }

    /// A POST request (not retried unless [`RequestBuilder::idempotent`]).
    pub fn post(&self, url: &str) -> RequestBuilder {
        self.request("POST", url)
    }

    /// A PUT request.
    pub fn put(&self, url: &str) -> RequestBuilder {
        self.request("PUT", url)
    }

    /// A PATCH request (not retried unless [`RequestBuilder::idempotent`]).
    pub fn patch(&self, url: &str) -> RequestBuilder {
        self.request("PATCH", url)
    }

    /// A DELETE request.
    pub fn delete(&self, url: &str) -> RequestBuilder {
        self.request("DELETE", url)
    }

    /// A request with any method.
    pub fn request(&self, method: &str, url: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url)
    }

    /// GET `url` and decode its JSON body.
    pub fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        self.get(url).send_json()
    }

    /// Resolves `url`: absolute http(s) URLs are taken as they are; anything else is a path
    /// appended to the base URL's path (`https://host/api/v3` + `/repos/a` is
    /// `https://host/api/v3/repos/a`, unlike RFC 3986 resolution, which would drop `api/v3`).
    pub fn url(&self, url: &str) -> Result<Url> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: self.inner.redactor.text(url).into_owned(),
            reason,
        };
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Url::parse(url).map_err(|e| invalid(e.to_string()));
        }
        let base = self.inner.base_url.as_ref().ok_or_else(|| {
            invalid("a relative URL needs a base URL in the client configuration".into())
        })?;
        let joined = format!(
            "{}/{}",
            base.as_str().trim_end_matches('/'),
            url.trim_start_matches('/')
        );
        Url::parse(&joined).map_err(|e| invalid(e.to_string()))
    }

    /// A snapshot of the counters shared by this client and its clones.
    pub fn stats(&self) -> HttpStats {
        self.inner.stats.snapshot()
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    pub(crate) fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// Where credentials may go: the base URL's origin, or else the request's own.
    pub(crate) fn home_origin(&self, request_url: &Url) -> url::Origin {
        self.inner
            .base_url
            .as_ref()
            .map_or_else(|| request_url.origin(), Url::origin)
    }

    /// Sends `request` to `url` with retries: the loop that turns single attempts into one
    /// answer or one error.
    pub(crate) fn execute(&self, request: &RequestBuilder, url: &Url) -> Result<Response> {
        let policy = &self.inner.config.retry;
        let clock = &*self.inner.config.clock;
        let started = clock.now();
        let mut attempt = 0_u32;
        let oauth = self
            .inner
            .config
            .auth
            .as_ref()
            .and_then(crate::Auth::oauth_session)
            // Tokens go to the home origin only, like every credential.
            .filter(|_| url.origin() == self.home_origin(url));
        let mut renewed_after_401 = false;
        loop {
            attempt += 1;
            self.wait_for_pause(started);
            let bearer = oauth
                .map(|session| session.access_token(self))
                .transpose()?;
            if let Some(limiter) = &self.inner.limiter {
                let (_, waited) = limiter.acquire(clock);
                self.inner.stats.rate_limit_wait(waited);
            }
            let failure = match self.attempt(request, url, attempt, bearer.as_ref()) {
                Ok(response) => return Ok(response),
                Err(failure) => self.secondary_limit_403(failure),
            };
            // A 401 with an OAuth token: it may have expired early or been revoked server-side.
            // Get a fresh one and repeat the request, once.
            if let (Some(session), Some(used), Some(401)) = (oauth, &bearer, failure.error.status())
                && !renewed_after_401
            {
                renewed_after_401 = true;
                tracing::debug!(method = %request.method, "OAuth access token refused (HTTP 401); renewing it and repeating the request");
                session.invalidate(used);
                continue;
            }
            let may_repeat = request.idempotent || failure.safe_to_repeat();
            if !failure.is_retriable() || !may_repeat {
                return Err(failure.error);
            }
            let elapsed = clock.now().saturating_duration_since(started);
            // No connection, and nothing has ever answered: a source that is down or a wrong
            // address, reported after a few quick tries rather than the whole budget.
            let unreachable = failure
                .connect_cause
                .filter(|_| !self.inner.answered.load(Ordering::Relaxed));
            let max_attempts = match unreachable {
                Some(_) => policy.max_attempts.min(policy.first_contact_attempts),
                None => policy.max_attempts,
            }
            .max(1);
            let give_up = |reason: String, last: Error| {
                if attempt == 1 {
                    // Nothing was retried: the cause itself is the clearest report.
                    return last;
                }
                tracing::warn!(attempts = attempt, elapsed_ms = elapsed.as_millis(), %reason, error = %last, "HTTP request failed");
                match unreachable {
                    Some(cause) => Error::Unreachable {
                        address: address(url),
                        cause: cause.as_str().to_owned(),
                        attempts: attempt,
                        elapsed,
                        last: Box::new(last),
                    },
                    None => Error::RetriesExhausted {
                        attempts: attempt,
                        elapsed,
                        reason,
                        last: Box::new(last),
                    },
                }
            };
            if attempt >= max_attempts {
                return Err(give_up(
                    format!("attempt limit of {max_attempts} reached"),
                    failure.error,
                ));
            }
            let (wait, rate_limited) = self.next_wait(&failure, attempt);
            if elapsed + wait > policy.max_elapsed {
                return Err(give_up(
                    format!(
                        "waiting {} more would exceed the time limit of {}",
                        Secs(wait),
                        Secs(policy.max_elapsed)
                    ),
                    failure.error,
                ));
            }
            // The retry event a progress display shows (see `RETRY_EVENT_TARGET`): `attempt`
            // is the one about to be made.
            tracing::info!(
                target: RETRY_EVENT_TARGET,
                reason = %failure.reason(),
                attempt = attempt + 1,
                max_attempts,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                method = %request.method,
                error = %failure.error,
                "retrying HTTP request"
            );
            clock.sleep(wait);
            if rate_limited {
                self.inner.stats.rate_limit_wait(wait);
            } else {
                self.inner.stats.backoff_wait(wait);
            }
            self.inner.stats.retry();
        }
    }

    /// How long to wait before the next attempt, and whether that wait is for a rate limit.
    fn next_wait(&self, failure: &Failure, attempt: u32) -> (Duration, bool) {
        let policy = &self.inner.config.retry;
        let backoff = policy.backoff(attempt, self.inner.jitter.unit());
        match (failure.server_wait, failure.rate_limited) {
            // The server said how long; honour it, but never as a hot loop.
            (Some(wait), _) => (wait.max(policy.min_retry_wait), true),
            // No wait given (GitHub's secondary limit): the declared floor, doubled per retry,
            // so a limit that persists is not hit again every minute.
            (None, true) => (
                backoff
                    .max(policy.min_retry_wait)
                    .max(policy.rate_limited_floor(attempt)),
                true,
            ),
            (None, false) => (backoff, false),
        }
    }

    /// A 403 whose body names GitHub's secondary rate limit is throttling, not a permission
    /// problem, when the source declares rate-limit headers (GitHub documents such 403s with
    /// neither `Retry-After` nor exhausted headers). Sources without declared headers keep the
    /// plain reading: a 403 is a permission error.
    fn secondary_limit_403(&self, failure: Failure) -> Failure {
        if self.inner.config.rate_limit_headers.is_none() {
            return failure;
        }
        match failure.error {
            Error::Auth {
                method,
                url,
                status: 403,
                excerpt,
            } if mentions_secondary_rate_limit(&excerpt) => Failure {
                error: Error::RateLimited {
                    method,
                    url,
                    status: 403,
                    retry_after: None,
                    excerpt,
                },
                server_wait: None,
                rate_limited: true,
                connect_cause: None,
                retry_hint: None,
            },
            error => Failure { error, ..failure },
        }
    }

    /// Records a rate-limit window the headers say is used up, so every thread pauses until it
    /// resets instead of collecting 403s.
    pub(crate) fn note_rate_limit(&self, headers: &[(String, String)]) {
        let Some(rl) = &self.inner.config.rate_limit_headers else {
            return;
        };
        let header = |name: &str| crate::response::header_in(headers, name);
        if !rl.exhausted(header) {
            return;
        }
        let clock = &*self.inner.config.clock;
        if let Some(wait) = rl.reset_wait(header, clock.wall()) {
            let until = clock.now() + wait;
            let mut pause = self
                .inner
                .pause_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *pause = Some(pause.map_or(until, |p| p.max(until)));
        }
    }

    /// Waits out a rate-limit pause if it fits in the time budget. If it does not, the request
    /// goes ahead: the server's answer then decides (and yields a precise error).
    fn wait_for_pause(&self, started: Instant) {
        let until = *self
            .inner
            .pause_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(until) = until else { return };
        let clock = &*self.inner.config.clock;
        let now = clock.now();
        let wait = until.saturating_duration_since(now);
        let elapsed = now.saturating_duration_since(started);
        if !wait.is_zero() && elapsed + wait <= self.inner.config.retry.max_elapsed {
            // A retry event without attempts: the progress display shows the wait all the same.
            tracing::info!(
                target: RETRY_EVENT_TARGET,
                reason = "rate limit used up",
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "rate limit used up; waiting for the reset"
            );
            clock.sleep(wait);
            self.inner.stats.rate_limit_wait(wait);
        }
    }
}

/// `host:port` of `url`, for errors about reaching it: no credentials, path or query.
fn address(url: &Url) -> String {
    let host = url.host_str().unwrap_or("(no host)");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn parse_base_url(raw: &str, redactor: &Redactor) -> Result<Url> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: redactor.text(raw).into_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw).map_err(|e| invalid(&format!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the base URL must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the base URL must not have a query or fragment"));
    }
    Ok(url)
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> HttpClient {
        HttpClient::new(HttpConfig::default().base_url(base)).unwrap()
    }

    #[test]
    fn joins_keep_the_base_path() {
        let ghe = client("https://ghe.example.com/api/v3");
        assert_eq!(
            ghe.url("/repos/o/r/issues?state=all").unwrap().as_str(),
            "https://ghe.example.com/api/v3/repos/o/r/issues?state=all"
        );
        assert_eq!(
            ghe.url("repos/o/r").unwrap().as_str(),
            "https://ghe.example.com/api/v3/repos/o/r"
        );
        let slash = client("https://api.example.com/v2/");
        assert_eq!(
            slash.url("/items").unwrap().as_str(),
            "https://api.example.com/v2/items"
        );
        // Absolute URLs (pagination links) are taken as they are.
        assert_eq!(
            ghe.url("https://other.example.com/x?page=2")
                .unwrap()
                .as_str(),
            "https://other.example.com/x?page=2"
        );
    }

    #[test]
    fn bad_base_urls_and_relative_without_base() {
        for bad in [
            "not a url",
            "ftp://x.example.com",
            "https://x.example.com/?a=1",
        ] {
            let err = HttpClient::new(HttpConfig::default().base_url(bad)).unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err}");
        }
        let no_base = HttpClient::new(HttpConfig::default()).unwrap();
        let err = no_base.url("/items").unwrap_err();
        assert!(err.to_string().contains("needs a base URL"), "{err}");
        // The error surfaces when sending, not when building.
        let err = no_base.get("/items").send().unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
    }

    #[test]
    fn addresses_in_errors_hold_no_credentials_path_or_query() {
        let address = |raw: &str| address(&Url::parse(raw).unwrap());
        assert_eq!(
            address("https://user:s3cret@api.example.com/v3/x?token=s3cret"),
            "api.example.com:443"
        );
        assert_eq!(address("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(address("http://[::1]/x"), "[::1]:80");
    }

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<HttpClient>();
        assert_send_sync::<RequestBuilder>();
        let a = client("https://api.example.com");
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
    }
}
