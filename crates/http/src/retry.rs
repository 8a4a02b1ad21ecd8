//! When and how long to wait before trying again: the retry policy, exponential backoff with
//! jitter, `Retry-After` and rate-limit reset headers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

/// How failed requests are retried. Retries stop at whichever limit comes first.
///
/// Retried: HTTP 408, 429, 500, 502, 503, 504, rate-limit 403s (see [`RateLimitHeaders`]),
/// timeouts and connection failures (refused, reset, dropped, truncated body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Attempts, at most, while no connection can be made (refused, host not found or
    /// unreachable, connect timeout) and the server has never answered this client: a source
    /// that is down or a wrong base URL is reported after a few quick retries, not after the
    /// whole budget. Once the server has answered, such failures get `max_attempts` like any
    /// other (a restart mid-run is worth waiting for).
    pub first_contact_attempts: u32,
    /// Time budget from the first attempt: a retry whose wait would end past it is not made.
    pub max_elapsed: Duration,
    /// Backoff before the first retry; doubles with each retry.
    pub base_delay: Duration,
    /// Upper bound of the backoff (not of server-requested waits, which `max_elapsed` bounds).
    pub max_delay: Duration,
    /// Floor for waits the server asks for, so `Retry-After: 0` or a reset time already past
    /// does not become a hot loop.
    pub min_retry_wait: Duration,
    /// Floor for a rate-limited answer that says neither `Retry-After` nor a reset time (GitHub
    /// asks for at least a minute for its secondary limit). It doubles with each retry
    /// (`rate_limited_wait × 2^(retry−1)`): GitHub asks for exponentially longer waits while the
    /// secondary limit persists, and a fixed minute would keep running into it. `max_elapsed`
    /// still bounds the total. Zero: the backoff alone decides.
    pub rate_limited_wait: Duration,
    /// Randomise each backoff within its upper half, so clients that failed together do not
    /// retry together. Turn off for reproducible timings.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            // Three retries: 0.5 + 1 + 2 s of backoff by default (less with jitter).
            first_contact_attempts: 4,
            max_elapsed: Duration::from_secs(300),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            min_retry_wait: Duration::from_secs(1),
            rate_limited_wait: Duration::ZERO,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The least wait before retry number `retry` (1 for the first) after a rate-limited answer
    /// that gave no wait of its own: `rate_limited_wait` doubled for each earlier retry.
    pub(crate) fn rate_limited_floor(&self, retry: u32) -> Duration {
        let factor = 2_u32.saturating_pow(retry.saturating_sub(1));
        self.rate_limited_wait.saturating_mul(factor)
    }

    /// The backoff before retry number `retry` (1 for the first retry). `unit` in [0, 1) picks
    /// the point within the jitter range.
    pub(crate) fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let factor = 2_u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        if self.jitter {
            // "Equal jitter": half fixed, half random, so the wait never collapses to zero.
            ceiling / 2 + ceiling.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
        } else {
            ceiling
        }
    }
}

/// How a rate-limit reset header expresses the reset time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetFormat {
    /// Unix time in seconds when the window resets (GitHub `x-ratelimit-reset`).
    EpochSeconds,
    /// Seconds from now until the window resets (IETF `RateLimit-Reset`, many others).
    SecondsFromNow,
}

/// Rate-limit headers a source sends with every response.
///
/// When declared, a response whose remaining count is 0 makes the client wait until the reset
/// time: after a 429 or 403 (a 403 counts as rate limiting only when these headers or a
/// `Retry-After` say so, or its body names GitHub's secondary rate limit; otherwise it is a
/// permission error) and, proactively, before the next request after a successful response
/// that used up the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// Header with the requests left in the window, e.g. `x-ratelimit-remaining`.
    pub remaining: String,
    /// Header with the reset time, e.g. `x-ratelimit-reset`.
    pub reset: String,
    /// How the reset header is expressed.
    pub reset_format: ResetFormat,
}

impl RateLimitHeaders {
    /// Custom header names.
    pub fn new(
        remaining: impl Into<String>,
        reset: impl Into<String>,
        reset_format: ResetFormat,
    ) -> Self {
        Self {
            remaining: remaining.into(),
            reset: reset.into(),
            reset_format,
        }
    }

    /// GitHub's `x-ratelimit-remaining` and `x-ratelimit-reset` (epoch seconds).
    pub fn github() -> Self {
        Self::new(
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            ResetFormat::EpochSeconds,
        )
    }

    /// Whether the headers say the window is used up.
    pub(crate) fn exhausted<'a>(&self, header: impl Fn(&str) -> Option<&'a str>) -> bool {
        header(&self.remaining).is_some_and(|v| v.trim().parse::<f64>().is_ok_and(|n| n <= 0.0))
    }

    /// How long until the window resets, per the headers (zero when already past).
    pub(crate) fn reset_wait<'a>(
        &self,
        header: impl Fn(&str) -> Option<&'a str>,
        now: SystemTime,
    ) -> Option<Duration> {
        let value: f64 = header(&self.reset)?.trim().parse().ok()?;
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        match self.reset_format {
            ResetFormat::SecondsFromNow => Some(Duration::from_secs_f64(value)),
            ResetFormat::EpochSeconds => {
                let reset = UNIX_EPOCH + Duration::from_secs_f64(value);
                Some(reset.duration_since(now).unwrap_or(Duration::ZERO))
            }
        }
    }
}

/// Whether an error body is GitHub's secondary-rate-limit answer. GitHub documents that such an
/// answer may be a 403 with neither `Retry-After` nor exhausted rate-limit headers, told apart
/// from a permission error only by its message ("You have exceeded a secondary rate limit").
pub(crate) fn mentions_secondary_rate_limit(body: &str) -> bool {
    body.to_ascii_lowercase().contains("secondary rate limit")
}

/// Parses a `Retry-After` value: delay seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past gives zero; garbage gives `None`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    parse_retry_after_at(value, SystemTime::now())
}

pub(crate) fn parse_retry_after_at(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // IMF-fixdate is RFC 2822 syntax with "GMT"; chrono also accepts the obsolete zone names.
    let date = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    let now: DateTime<Utc> = now.into();
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// A tiny lock-free PRNG (SplitMix64) for jitter: good enough to spread retries, no dependency.
#[derive(Debug)]
pub(crate) struct Jitter(AtomicU64);

impl Jitter {
    pub(crate) fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Truncating the nanosecond count keeps its fast-moving low bits, which is what a seed needs.
        #[allow(clippy::cast_possible_truncation)]
        let seed = nanos as u64;
        Self(AtomicU64::new(seed))
    }

    /// A number in [0, 1).
    pub(crate) fn unit(&self) -> f64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits fill an f64 mantissa exactly.
        #[allow(clippy::cast_precision_loss)]
        let unit = (z >> 11) as f64 / (1_u64 << 53) as f64;
        unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_in_the_upper_half() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            jitter: false,
            ..RetryPolicy::default()
        };
        let waits: Vec<u128> = (1..=5)
            .map(|r| policy.backoff(r, 0.7).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        let jittered = RetryPolicy {
            jitter: true,
            ..policy
        };
        assert_eq!(jittered.backoff(2, 0.0), Duration::from_millis(100));
        assert_eq!(jittered.backoff(2, 0.5), Duration::from_millis(150));
        assert!(jittered.backoff(2, 0.999) < Duration::from_millis(200));
        // Huge retry numbers saturate instead of overflowing.
        assert_eq!(jittered.backoff(200, 0.0), Duration::from_millis(250));
    }

    #[test]
    fn the_rate_limited_floor_doubles_per_retry() {
        let policy = RetryPolicy {
            rate_limited_wait: Duration::from_secs(60),
            ..RetryPolicy::default()
        };
        let floors: Vec<u64> = (1..=4)
            .map(|r| policy.rate_limited_floor(r).as_secs())
            .collect();
        assert_eq!(floors, [60, 120, 240, 480]);
        // Huge retry numbers saturate instead of overflowing; zero stays zero.
        assert!(policy.rate_limited_floor(500) > Duration::from_secs(60_000_000));
        assert_eq!(RetryPolicy::default().rate_limited_floor(3), Duration::ZERO);
        assert!(mentions_secondary_rate_limit(
            r#"{"message":"You have exceeded a Secondary Rate Limit. Please wait"}"#
        ));
        assert!(!mentions_secondary_rate_limit(
            "Resource not accessible by integration"
        ));
    }

    #[test]
    fn jitter_stays_in_range_and_varies() {
        let jitter = Jitter::new();
        let draws: Vec<f64> = (0..1000).map(|_| jitter.unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let mean = draws.iter().sum::<f64>() / 1000.0;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21T07:27:50Z
        assert_eq!(
            parse_retry_after_at("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after_at(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after_at("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after_at("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after_at("soon", now), None);
        assert_eq!(parse_retry_after_at("-5", now), None);
    }

    #[test]
    fn rate_limit_headers() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let headers = |remaining: &'static str, reset: &'static str| {
            move |name: &str| match name {
                "x-ratelimit-remaining" => Some(remaining),
                "x-ratelimit-reset" => Some(reset),
                _ => None,
            }
        };
        let github = RateLimitHeaders::github();
        assert!(github.exhausted(headers("0", "1030")));
        assert!(!github.exhausted(headers("12", "1030")));
        assert!(!github.exhausted(|_| None));
        assert_eq!(
            github.reset_wait(headers("0", "1030"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            github.reset_wait(headers("0", "900"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(github.reset_wait(headers("0", "never"), now), None);
        let relative = RateLimitHeaders::new(
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            ResetFormat::SecondsFromNow,
        );
        assert_eq!(
            relative.reset_wait(headers("0", "2.5"), now),
            Some(Duration::from_millis(2500))
        );
    }
}
