//! Spec-level rate limit emulation: a fixed window of N requests, GitHub's `x-ratelimit-*`
//! headers on every response, and 403 or 429 once the window is used up. The reset time is
//! real epoch seconds (even with a fixed `now:`), because clients sleep until it.

use std::sync::{Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::api_error::ApiError;
use crate::spec::RateLimitSpec;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    spec: RateLimitSpec,
    window: Mutex<Option<Window>>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    reset_epoch: u64,
    used: u64,
}

impl RateLimiter {
    pub(crate) fn new(spec: RateLimitSpec) -> Self {
        Self {
            spec,
            window: Mutex::new(None),
        }
    }

    /// Counts one request: the headers to send, and the error when the window is used up.
    pub(crate) fn check(&self) -> (Vec<(String, String)>, Option<ApiError>) {
        let mut guard = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let expired = guard
            .as_ref()
            .is_none_or(|w| now.duration_since(w.started) >= self.spec.window);
        if expired {
            let epoch = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // positive, small
            let reset_epoch = (epoch + self.spec.window.as_secs_f64()).ceil() as u64;
            *guard = Some(Window {
                started: now,
                reset_epoch,
                used: 0,
            });
        }
        let window = guard.as_mut().expect("set above");
        window.used += 1;
        let limit = self.spec.requests;
        let remaining = limit.saturating_sub(window.used);
        let headers = vec![
            ("x-ratelimit-limit".to_owned(), limit.to_string()),
            ("x-ratelimit-remaining".to_owned(), remaining.to_string()),
            (
                "x-ratelimit-reset".to_owned(),
                window.reset_epoch.to_string(),
            ),
            (
                "x-ratelimit-used".to_owned(),
                window.used.min(limit).to_string(),
            ),
            ("x-ratelimit-resource".to_owned(), "core".to_owned()),
        ];
        if window.used <= limit {
            return (headers, None);
        }
        let mut error = ApiError::new(self.spec.status, "API rate limit exceeded");
        if self.spec.retry_after {
            let wait = self
                .spec
                .window
                .saturating_sub(now.duration_since(window.started));
            error = error.with_header("retry-after", wait.as_secs_f64().ceil().to_string());
        }
        (headers, Some(error))
    }
}
