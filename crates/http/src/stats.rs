//! Counters kept by a client (and its clones) for run summaries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of a client's counters since it was created. Clones share one set of counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// HTTP exchanges attempted: first attempts, retries and redirect hops.
    pub requests: u64,
    /// Attempts that repeated a failed one.
    pub retries: u64,
    /// Response body bytes received (after decompression).
    pub bytes_received: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Time spent waiting because of rate limits: `Retry-After`, reset headers and the request
    /// budget.
    pub rate_limit_wait: Duration,
    /// Time spent in exponential backoff between retries.
    pub backoff_wait: Duration,
}

/// The live counters behind [`HttpStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    rate_limit_wait_nanos: AtomicU64,
    backoff_wait_nanos: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Counters {
    pub(crate) fn request(&self, body_bytes: usize) {
        add(&self.requests, 1);
        add(&self.bytes_sent, to_u64(body_bytes));
    }

    pub(crate) fn retry(&self) {
        add(&self.retries, 1);
    }

    pub(crate) fn received(&self, bytes: usize) {
        add(&self.bytes_received, to_u64(bytes));
    }

    pub(crate) fn rate_limit_wait(&self, wait: Duration) {
        add(&self.rate_limit_wait_nanos, nanos(wait));
    }

    pub(crate) fn backoff_wait(&self, wait: Duration) {
        add(&self.backoff_wait_nanos, nanos(wait));
    }

    pub(crate) fn snapshot(&self) -> HttpStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HttpStats {
            requests: load(&self.requests),
            retries: load(&self.retries),
            bytes_received: load(&self.bytes_received),
            bytes_sent: load(&self.bytes_sent),
            rate_limit_wait: Duration::from_nanos(load(&self.rate_limit_wait_nanos)),
            backoff_wait: Duration::from_nanos(load(&self.backoff_wait_nanos)),
        }
    }
}
