//! Applying a profile: the seeded generator, per-rule counts and header templates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::{FaultAction, FaultProfile, FaultTrigger, RetryAfter};

/// SplitMix64: tiny, seedable, and good enough to spread faults.
#[derive(Debug, Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)] // 53 bits fit exactly
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
        unit
    }
}

/// What the faults decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Normal,
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Option<Value>,
    },
    Slow(Duration),
    Truncate,
    Drop,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub(crate) latency: Duration,
    pub(crate) outcome: Outcome,
    /// The rules that fired, for the request log (`status 503, latency 50ms`).
    pub(crate) applied: Vec<String>,
}

/// A profile being applied: its generator and per-rule request counts.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    profile: FaultProfile,
    rng: SplitMix,
    counts: Vec<u64>,
}

impl FaultEngine {
    pub(crate) fn new(profile: FaultProfile) -> Self {
        let counts = vec![0; profile.rules.len()];
        Self {
            rng: SplitMix(profile.seed),
            profile,
            counts,
        }
    }

    /// Decides for request `number` (1-based). `names` are what identifies its endpoint: the
    /// template, the endpoint name and the literal path.
    pub(crate) fn decide(&mut self, number: u64, names: &[&str]) -> Decision {
        let mut decision = Decision {
            latency: Duration::ZERO,
            outcome: Outcome::Normal,
            applied: Vec::new(),
        };
        for (i, rule) in self.profile.rules.iter().enumerate() {
            let on_endpoint = rule.endpoint.as_deref().is_none_or(|e| names.contains(&e));
            if on_endpoint {
                self.counts[i] += 1;
            }
            // Draw for every rate rule on every request, so one rule's draws do not depend on
            // whether another rule or endpoint matched.
            let fires = match &rule.trigger {
                FaultTrigger::Always => true,
                FaultTrigger::Rate(rate) => self.rng.next_f64() < *rate,
                FaultTrigger::OnRequests(numbers) => {
                    let n = if rule.endpoint.is_some() {
                        self.counts[i]
                    } else {
                        number
                    };
                    numbers.contains(&n)
                }
            };
            if !(fires && on_endpoint) {
                continue;
            }
            match &rule.action {
                FaultAction::Latency(d) => decision.latency += *d,
                _ if decision.outcome != Outcome::Normal => continue,
                FaultAction::Status {
                    status,
                    headers,
                    retry_after,
                    body,
                } => {
                    let mut headers: Vec<(String, String)> = headers
                        .iter()
                        .map(|(k, v)| (k.clone(), expand(v)))
                        .collect();
                    if let Some(retry_after) = retry_after {
                        let value = match retry_after {
                            RetryAfter::Seconds(s) => s.to_string(),
                            RetryAfter::HttpDate(s) => http_date(*s),
                            RetryAfter::Raw(text) => text.clone(),
                        };
                        headers.push(("retry-after".to_owned(), value));
                    }
                    decision.outcome = Outcome::Respond {
                        status: *status,
                        headers,
                        body: body.clone(),
                    };
                }
                FaultAction::Slow(d) => decision.outcome = Outcome::Slow(*d),
                FaultAction::Truncate => decision.outcome = Outcome::Truncate,
                FaultAction::Drop => decision.outcome = Outcome::Drop,
            }
            decision.applied.push(rule.describe());
        }
        decision
    }
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) `seconds` from now.
fn http_date(seconds: u64) -> String {
    let at = i64::try_from(epoch_now().saturating_add(seconds)).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Expands `{epoch}`, `{epoch+N}`, `{epoch-N}`, `{http_date+N}` in a header value.
fn expand(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let token = &rest[open + 1..open + close];
        let (name, offset) = match token.find(['+', '-']) {
            Some(at) => (&token[..at], token[at..].parse::<i64>().ok()),
            None => (token, Some(0)),
        };
        match (name, offset) {
            ("epoch", Some(offset)) => {
                let now = i64::try_from(epoch_now()).unwrap_or(i64::MAX);
                out.push_str(&now.saturating_add(offset).to_string());
            }
            ("http_date", Some(offset)) => out.push_str(&http_date(offset.max(0).unsigned_abs())),
            _ => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultRule;

    #[test]
    fn same_seed_same_faults() {
        let profile = FaultProfile::new(7).with_rule(FaultRule::status(503).rate(0.3));
        let run = |profile: &FaultProfile| {
            let mut engine = FaultEngine::new(profile.clone());
            (1..=200)
                .map(|n| engine.decide(n, &["/x"]).outcome != Outcome::Normal)
                .collect::<Vec<_>>()
        };
        let first = run(&profile);
        assert_eq!(first, run(&profile));
        let hits = first.iter().filter(|f| **f).count();
        assert!((30..90).contains(&hits), "about 30% of 200, got {hits}");
        assert_ne!(first, run(&FaultProfile { seed: 8, ..profile }));
    }

    #[test]
    fn per_endpoint_numbers_count_that_endpoint() {
        let profile = FaultProfile::new(0).with_rule(
            FaultRule::drop_connection()
                .on_requests([2])
                .on_endpoint("/b"),
        );
        let mut engine = FaultEngine::new(profile);
        let outcomes: Vec<Outcome> = [("/a"), ("/b"), ("/a"), ("/b"), ("/b")]
            .iter()
            .enumerate()
            .map(|(i, p)| engine.decide(i as u64 + 1, &[p]).outcome)
            .collect();
        assert_eq!(outcomes[3], Outcome::Drop);
        assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Drop).count(), 1);
    }

    #[test]
    fn header_templates_expand() {
        let now = epoch_now();
        let value: u64 = expand("{epoch+5}").parse().unwrap();
        assert!((now + 5..=now + 6).contains(&value));
        assert!(expand("{http_date+0}").ends_with(" GMT"));
        assert_eq!(expand("a{unknown}b"), "a{unknown}b");
    }
}
