//! Fault injection: seeded, deterministic for a given seed and request sequence.
//!
//! Each rule has an action (a status answer, added latency, a slow body, a truncated body, a
//! dropped connection), a trigger (every request, a rate, or given 1-based request numbers) and
//! optionally an endpoint it is limited to (then `on_requests` counts that endpoint's requests).
//! Rules are tried in order: latencies add up, and the first other action that fires wins.

mod engine;
mod spec;

use std::time::Duration;

use serde_json::Value;

pub(crate) use engine::{Decision, FaultEngine, Outcome};

/// A named set of fault rules with the seed of its random draws.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultProfile {
    /// Seeds the draws of `rate` triggers: the same seed and request sequence fault the same way.
    pub seed: u64,
    /// The rules, tried in order.
    pub rules: Vec<FaultRule>,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// What happens.
    pub action: FaultAction,
    /// When it happens.
    pub trigger: FaultTrigger,
    /// Limits the rule to one endpoint: its path template (`/items/{id}`), its name, or a
    /// literal request path. With `OnRequests`, numbers then count that endpoint's requests.
    pub endpoint: Option<String>,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// Answer this status instead of the real response.
    Status {
        /// The status code.
        status: u16,
        /// Extra headers; values may hold `{epoch+N}` (Unix seconds N from now) or
        /// `{http_date+N}` (an HTTP date N seconds from now).
        headers: Vec<(String, String)>,
        /// A `Retry-After` header.
        retry_after: Option<RetryAfter>,
        /// The body; the spec's error format with a "simulated fault" message when `None`.
        body: Option<Value>,
    },
    /// Delay the response, then answer normally.
    Latency(Duration),
    /// Send the headers, stall, then send the body (longer than a client's read timeout).
    Slow(Duration),
    /// Announce the full `Content-Length`, send half the body, close.
    Truncate,
    /// Read the request and close the connection without answering.
    Drop,
}

/// The `Retry-After` value of a status fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: N`.
    Seconds(u64),
    /// `Retry-After: <HTTP date N seconds from now>`.
    HttpDate(u64),
    /// Sent verbatim.
    Raw(String),
}

/// When a fault fires.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultTrigger {
    /// Every (matching) request.
    Always,
    /// Each request with this probability (0 to 1), drawn from the profile's seeded generator.
    Rate(f64),
    /// These 1-based request numbers (global, or of the rule's endpoint).
    OnRequests(Vec<u64>),
}

impl FaultProfile {
    /// An empty profile with a seed; add rules with [`FaultProfile::with_rule`].
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            rules: Vec::new(),
        }
    }

    /// Adds a rule after the existing ones.
    #[must_use]
    pub fn with_rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Checks rates, statuses and request numbers.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (i, rule) in self.rules.iter().enumerate() {
            rule.validate()
                .map_err(|m| format!("rule {}: {m}", i + 1))?;
        }
        Ok(())
    }
}

impl FaultRule {
    fn new(action: FaultAction) -> Self {
        Self {
            action,
            trigger: FaultTrigger::Always,
            endpoint: None,
        }
    }

    /// Answer `status` (with the spec's error body).
    pub fn status(status: u16) -> Self {
        Self::new(FaultAction::Status {
            status,
            headers: Vec::new(),
            retry_after: None,
            body: None,
        })
    }

    /// Delay the response by `ms` milliseconds.
    pub fn latency(ms: u64) -> Self {
        Self::new(FaultAction::Latency(Duration::from_millis(ms)))
    }

    /// Send headers, then stall `ms` milliseconds before the body.
    pub fn slow(ms: u64) -> Self {
        Self::new(FaultAction::Slow(Duration::from_millis(ms)))
    }

    /// Send half the body and close.
    pub fn truncate() -> Self {
        Self::new(FaultAction::Truncate)
    }

    /// Close the connection without answering.
    pub fn drop_connection() -> Self {
        Self::new(FaultAction::Drop)
    }

    /// Fire with probability `rate`.
    #[must_use]
    pub fn rate(mut self, rate: f64) -> Self {
        self.trigger = FaultTrigger::Rate(rate);
        self
    }

    /// Fire on these 1-based request numbers.
    #[must_use]
    pub fn on_requests(mut self, numbers: impl IntoIterator<Item = u64>) -> Self {
        self.trigger = FaultTrigger::OnRequests(numbers.into_iter().collect());
        self
    }

    /// Limit to one endpoint (path template, endpoint name or literal path).
    #[must_use]
    pub fn on_endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }

    /// Adds `Retry-After: seconds` to a status fault.
    #[must_use]
    pub fn retry_after_seconds(self, seconds: u64) -> Self {
        self.with_retry_after(RetryAfter::Seconds(seconds))
    }

    /// Adds `Retry-After: <HTTP date seconds from now>` to a status fault.
    #[must_use]
    pub fn retry_after_date(self, seconds: u64) -> Self {
        self.with_retry_after(RetryAfter::HttpDate(seconds))
    }

    fn with_retry_after(mut self, value: RetryAfter) -> Self {
        if let FaultAction::Status { retry_after, .. } = &mut self.action {
            *retry_after = Some(value);
        }
        self
    }

    /// Adds a header to a status fault (templates `{epoch+N}`, `{http_date+N}` allowed).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let FaultAction::Status { headers, .. } = &mut self.action {
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        self
    }

    /// Sets the JSON body of a status fault.
    #[must_use]
    pub fn body(mut self, value: Value) -> Self {
        if let FaultAction::Status { body, .. } = &mut self.action {
            *body = Some(value);
        }
        self
    }

    fn validate(&self) -> Result<(), String> {
        if let FaultAction::Status { status, .. } = &self.action
            && !(200..=599).contains(status)
        {
            return Err(format!("status {status} is not between 200 and 599"));
        }
        match &self.trigger {
            FaultTrigger::Rate(rate) if !(0.0..=1.0).contains(rate) => {
                Err(format!("rate {rate} is not between 0 and 1"))
            }
            FaultTrigger::OnRequests(numbers) if numbers.is_empty() || numbers.contains(&0) => {
                Err("on_requests needs request numbers, counted from 1".to_owned())
            }
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        match &self.action {
            FaultAction::Status { status, .. } => format!("status {status}"),
            FaultAction::Latency(d) => format!("latency {}ms", d.as_millis()),
            FaultAction::Slow(d) => format!("slow {}ms", d.as_millis()),
            FaultAction::Truncate => "truncate".to_owned(),
            FaultAction::Drop => "drop".to_owned(),
        }
    }
}
