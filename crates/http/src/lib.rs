//! The one HTTP client every Lakeflow connector uses.
//!
//! - **Timeouts** on every request: connect, per read/write, per attempt (configurable, with
//!   defaults), so a slow server never hangs a run.
//! - **Retries** with exponential backoff and jitter for 408, 429, 500, 502, 503, 504 and
//!   connection failures (refused, reset, dropped, truncated body, timeout), bounded by attempts
//!   and total time ([`RetryPolicy`]). A server that has never answered and cannot be connected
//!   to gets only a few quick attempts ([`Error::Unreachable`]): a wrong URL or a source that is
//!   down is reported in seconds. `Retry-After` is honoured in both forms, with a floor so
//!   `0` is not a hot loop; declared rate-limit headers ([`RateLimitHeaders`], e.g. GitHub's)
//!   make the client wait for the reset, and decide whether a 403 is throttling or a permission
//!   error. POST and PATCH are retried only when the server cannot have acted on them, unless
//!   the request is marked [`idempotent`](RequestBuilder::idempotent).
//! - **Proactive rate limiting**: a [`RequestBudget`] (N requests per window) is never exceeded,
//!   across all threads sharing a client.
//! - **Pagination** ([`Pagination`]): `Link` header, next URL or cursor token in the body, page
//!   number, offset/limit, Stripe-style `has_more`, and any of these ended by a flag in the body
//!   (Zendesk's `end_of_stream`, via `until_flag`). [`Pages`] is lazy: a connector whose batch
//!   is full stops pulling and no further request is made.
//! - **Auth** ([`Auth`]): bearer, basic, API key header or query parameter, held in
//!   [`Secret`](lakeflow_connect::Secret) and sent only to the base URL's origin; OAuth 2
//!   ([`OAuth2`]: refresh-token and client-credentials grants) with access tokens renewed before
//!   they expire and once after a 401.
//! - **Redaction**: no credential appears in `Debug` of the config, client, request or
//!   response, in any [`Error`], or in the `tracing` events (method, URL, status, duration,
//!   attempt) the client emits.
//! - **Counters** ([`HttpStats`]): requests, retries, bytes, time waited on rate limits.
//!
//! **Logging.** Events go to `tracing` under the `lakeflow_http` target: one `debug` event per
//! exchange, `info` per retry or rate-limit pause, `warn` when giving up, `trace` for headers
//! (sensitive values masked). Retries and rate-limit pauses are events on
//! [`RETRY_EVENT_TARGET`] with fields a progress display can show (see there). The transport
//! library logs through the `log` crate on its own targets (`ureq`, `ureq_proto`), and at
//! debug/trace those lines hold unredacted URLs and raw request bytes; binaries that bridge
//! `log` into `tracing` should append [`TRANSPORT_LOG_DIRECTIVES`] to their filter.
//!
//! **Time.** Every wait and every reading of the time goes through the configured [`Clock`]
//! ([`HttpConfig::clock`]): tests use a [`VirtualClock`] and check the waits the client made
//! instead of spending them.
//!
//! The client is blocking ([`ureq`]) on purpose: the connector interface is synchronous
//! (`read_table` returns an iterator of records, which the pipeline drives inside
//! `spawn_blocking`), and only binaries build an async runtime. A blocking client keeps
//! connectors free of `async` and of any runtime.
//!
//! ```no_run
//! use std::time::Duration;
//! use lakeflow_connect::Secret;
//! use lakeflow_http::{Auth, HttpClient, HttpConfig, Pagination, RateLimitHeaders, RequestBudget};
//!
//! # fn main() -> lakeflow_http::Result<()> {
//! let client = HttpClient::new(
//!     HttpConfig::default()
//!         .base_url("https://api.github.com")
//!         .auth(Auth::bearer(Secret::new("ghp_...")))
//!         .rate_limit_headers(RateLimitHeaders::github())
//!         .budget(RequestBudget::new(80, Duration::from_secs(60)))
//!         .header("Accept", "application/vnd.github+json")
//!         .user_agent("lakeflow-github/0.1"),
//! )?;
//!
//! // One call.
//! let repo: serde_json::Value = client.get_json("/repos/rust-lang/rust")?;
//! println!("{}", repo["full_name"]);
//!
//! // Lazy pagination: stop after 250 issues, and no page beyond is fetched.
//! let issues = client
//!     .get("/repos/rust-lang/rust/issues")
//!     .query("state", "all")
//!     .query("per_page", 100)
//!     .pages(Pagination::LinkHeader, "")
//!     .records()
//!     .take(250)
//!     .collect::<lakeflow_http::Result<Vec<_>>>()?;
//! println!("{} issues, {:?}", issues.len(), client.stats());
//! # Ok(())
//! # }
//! ```

/// Log filter directives (`tracing_subscriber::EnvFilter` syntax) that keep the transport
/// library's own logs, which are not redacted, at warnings and above. Append them after the
/// user's directives, e.g. `format!("{user},{TRANSPORT_LOG_DIRECTIVES}")`.
pub const TRANSPORT_LOG_DIRECTIVES: &str = "ureq=warn,ureq_proto=warn";

/// The `tracing` target of the `info` event emitted before each wait for a retry or a rate-limit
/// pause, so that a display can say what a read is waiting on. Fields:
///
/// - `reason`: the failure in a few words (`connection refused`, `HTTP 503`,
///   `rate limited (HTTP 429)`, `timed out`, `connection lost`; `rate limit used up` for a pause);
/// - `attempt`: the number of the attempt about to be made (2 for the first retry), and
///   `max_attempts`: the most there will be (both absent for a pause, which is not a retry);
/// - `wait_ms`: how long the client waits before it.
///
/// Retry events also carry `method` and a redacted `error`. Like every event of this crate,
/// they hold no credential.
pub const RETRY_EVENT_TARGET: &str = "lakeflow_http::retry";

mod auth;
mod budget;
mod client;
mod clock;
mod config;
mod error;
mod exchange;
mod link;
mod oauth;
mod pagination;
mod read_ahead;
mod redact;
mod request;
mod response;
mod retry;
mod stats;

pub use auth::Auth;
pub use budget::RequestBudget;
pub use client::HttpClient;
pub use clock::{Clock, SystemClock, VirtualClock};
pub use config::{DEFAULT_USER_AGENT, HttpConfig};
pub use error::{Error, Result, is_retriable_status};
pub use link::parse_link_header;
pub use oauth::{DEFAULT_REFRESH_MARGIN, OAuth2};
pub use pagination::{Page, Pages, Pagination, Records};
pub use request::RequestBuilder;
pub use response::{Response, json_path};
pub use retry::{RateLimitHeaders, ResetFormat, RetryPolicy, parse_retry_after};
pub use stats::HttpStats;
