//! The client: one shared agent, configuration, budget, counters; the retry loop.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;
use url::Url;

use crate::budget::Limiter;
use crate::error::Secs;
use crate::exchange::Failure;
use crate::redact::Redactor;
use crate::retry::{Jitter, mentions_secondary_rate_limit};
use crate::stats::Counters;
use crate::{Error, HttpConfig, HttpStats, RequestBuilder, Response, Result};

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
}

impl HttpClient {
    /// A client for `config`; fails if the base URL is not an absolute http(s) URL without query.
    pub fn new(config: HttpConfig) -> Result<Self> {
        let redactor = Arc::new(Redactor::new(&config));
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
        let started = Instant::now();
        let mut attempt = 0_u32;
        loop {
            attempt += 1;
            self.wait_for_pause(started);
            if let Some(limiter) = &self.inner.limiter {
                self.inner.stats.rate_limit_wait(limiter.acquire());
            }
            let failure = match self.attempt(request, url, attempt) {
                Ok(response) => return Ok(response),
                Err(failure) => self.secondary_limit_403(failure),
            };
            let may_repeat = request.idempotent || failure.safe_to_repeat();
            if !failure.error.is_retriable() || !may_repeat {
                return Err(failure.error);
            }
            let elapsed = started.elapsed();
            let give_up = |reason: String, last: Error| {
                if attempt == 1 {
                    // Nothing was retried: the cause itself is the clearest report.
                    return last;
                }
                tracing::warn!(attempts = attempt, elapsed_ms = elapsed.as_millis(), %reason, error = %last, "HTTP request failed");
                Error::RetriesExhausted {
                    attempts: attempt,
                    elapsed,
                    reason,
                    last: Box::new(last),
                }
            };
            if attempt >= policy.max_attempts.max(1) {
                return Err(give_up(
                    format!("attempt limit of {} reached", policy.max_attempts),
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
            tracing::info!(
                method = %request.method,
                attempt,
                wait_ms = wait.as_millis(),
                error = %failure.error,
                "retrying HTTP request"
            );
            sleep(wait);
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
        if let Some(wait) = rl.reset_wait(header, SystemTime::now()) {
            let until = Instant::now() + wait;
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
        let wait = until.saturating_duration_since(Instant::now());
        if !wait.is_zero() && started.elapsed() + wait <= self.inner.config.retry.max_elapsed {
            tracing::info!(
                wait_ms = wait.as_millis(),
                "rate limit used up; waiting for the reset"
            );
            sleep(wait);
            self.inner.stats.rate_limit_wait(wait);
        }
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
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<HttpClient>();
        assert_send_sync::<RequestBuilder>();
        let a = client("https://api.example.com");
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
    }
}
