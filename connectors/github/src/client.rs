//! The HTTP client as GitHub wants it: bearer token, versioned media type and API version, a
//! `User-Agent` (GitHub rejects requests without one), and GitHub's rate-limit rules.

use lakeflow_connect::{Error, Result};
use lakeflow_http::{
    Auth, HttpClient, HttpConfig, Pages, Pagination, RateLimitHeaders, RequestBuilder, RetryPolicy,
};

use lakeflow_kit::ApiClient;
use serde_json::Value;

use crate::config::ClientSettings;

/// The media type of every request except stargazers.
pub(crate) const MEDIA_TYPE: &str = "application/vnd.github+json";
/// The media type that adds `starred_at` to stargazers.
pub(crate) const STAR_MEDIA_TYPE: &str = "application/vnd.github.star+json";
/// The REST API version the schemas are written against.
pub(crate) const API_VERSION: &str = "2022-11-28";
const USER_AGENT: &str = concat!("lakeflow-github/", env!("CARGO_PKG_VERSION"));

/// Attempts per request: enough to ride out a burst of 5xx and a rate-limit pause or two.
const MAX_ATTEMPTS: u32 = 8;

/// A GitHub API client; cheap to clone (clones share connections and the rate-limit pause).
#[derive(Debug, Clone)]
pub(crate) struct GithubClient {
    http: HttpClient,
}

impl GithubClient {
    /// Builds the client.
    ///
    /// Rate limits, as GitHub documents them: a 403 or 429 with `x-ratelimit-remaining: 0` waits
    /// until `x-ratelimit-reset`; one with `Retry-After` waits that long. A 429 with neither, or a
    /// 403 whose message names the secondary rate limit (GitHub sends those without headers too),
    /// is a secondary limit: it waits `rate_limit_wait` (a minute by default), doubled for each
    /// further retry of the same request (1, 2, 4, ... minutes), as GitHub asks for exponentially
    /// longer waits while the limit persists, until `max_retry` runs out. Any other 403 is a
    /// permission problem and fails at once. After a response that used up the window, the next
    /// request waits for the reset instead of collecting a 403.
    pub(crate) fn new(settings: &ClientSettings) -> Result<Self> {
        let retry = RetryPolicy {
            max_attempts: MAX_ATTEMPTS,
            max_elapsed: settings.max_retry,
            rate_limited_wait: settings.rate_limit_wait,
            ..RetryPolicy::default()
        };
        let config = HttpConfig::default()
            .base_url(settings.base_url.clone())
            .auth(Auth::bearer(settings.token.clone()))
            .rate_limit_headers(RateLimitHeaders::github())
            .retry(retry)
            .header("Accept", MEDIA_TYPE)
            .header("X-GitHub-Api-Version", API_VERSION)
            .user_agent(USER_AGENT);
        Ok(Self {
            http: lakeflow_kit::http_client(config, &settings.base_url)?,
        })
    }

    /// Every entry of the listing at `path` (a short one: repositories, organizations), all
    /// pages of the largest size; errors start with `context`.
    pub(crate) fn list_all(&self, path: &str, context: &str) -> Result<Vec<Value>> {
        let mut entries = Vec::new();
        for page in Self::pages(self.get(path).query("per_page", 100), "") {
            entries.extend(page.map_err(|e| with_context(context, e))?.records);
        }
        Ok(entries)
    }

    /// The pages of a list request, following `Link: rel="next"`, fetched lazily: a read whose
    /// batch is full stops pulling and no further page is requested.
    pub(crate) fn pages(request: RequestBuilder, records_path: &str) -> Pages {
        request.pages(Pagination::LinkHeader, records_path)
    }
}

/// GETs and writes (write-back in tests uses POST and PATCH); paths are relative to the base
/// URL.
impl ApiClient for GithubClient {
    fn http(&self) -> &HttpClient {
        &self.http
    }
}

impl lakeflow_kit::PageSource for GithubClient {
    fn service(&self) -> &str {
        "GitHub"
    }

    /// Follows `Link: rel="next"`.
    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        Self::pages(request, records_path)
    }

    fn errors(&self) -> lakeflow_kit::ErrorMap {
        with_context
    }
}

/// An HTTP error as a connector error whose message starts with what was being read: the kit's
/// wording, with a hint on a 404.
pub(crate) fn with_context(context: &str, error: lakeflow_http::Error) -> Error {
    // GitHub answers 404, not 403, for a private repository the token cannot see.
    let hint = (error.status() == Some(404))
        .then_some("no such repository or resource, or the token cannot see it");
    lakeflow_kit::with_hint(context, hint, error)
}

pub(crate) use lakeflow_kit::objects;
