//! Fault profiles from a spec's `faults:` section.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{FaultAction, FaultProfile, FaultRule, FaultTrigger, RetryAfter};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    seed: u64,
    rules: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    status: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, Value>,
    retry_after: Option<Value>,
    retry_after_date: Option<u64>,
    body: Option<Value>,
    latency_ms: Option<u64>,
    slow_ms: Option<u64>,
    #[serde(default)]
    truncate: bool,
    #[serde(default)]
    drop: bool,
    rate: Option<f64>,
    on_requests: Option<Vec<u64>>,
    endpoint: Option<String>,
}

impl FaultProfile {
    /// From a spec's `faults.<name>` mapping. The error names the rule (0-based) when it is one.
    pub(crate) fn from_spec(value: &Value) -> Result<Self, (Option<usize>, String)> {
        let raw: RawProfile =
            serde_json::from_value(value.clone()).map_err(|e| (None, e.to_string()))?;
        let mut profile = Self::new(raw.seed);
        for (i, rule) in raw.rules.iter().enumerate() {
            let rule = rule_from_spec(rule).map_err(|m| (Some(i), m))?;
            rule.validate().map_err(|m| (Some(i), m))?;
            profile.rules.push(rule);
        }
        Ok(profile)
    }
}

fn rule_from_spec(value: &Value) -> Result<FaultRule, String> {
    let raw: RawRule = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let mut actions = Vec::new();
    if let Some(status) = raw.status {
        let retry_after = match (&raw.retry_after, raw.retry_after_date) {
            (Some(_), Some(_)) => {
                return Err("give `retry_after` or `retry_after_date`, not both".into());
            }
            (Some(Value::Number(n)), None) => Some(RetryAfter::Seconds(
                n.as_u64().ok_or("`retry_after` must be whole seconds")?,
            )),
            (Some(Value::String(s)), None) => Some(
                s.parse()
                    .map_or_else(|_| RetryAfter::Raw(s.clone()), RetryAfter::Seconds),
            ),
            (Some(_), None) => return Err("`retry_after` must be seconds or a string".into()),
            (None, Some(seconds)) => Some(RetryAfter::HttpDate(seconds)),
            (None, None) => None,
        };
        let headers = raw
            .headers
            .iter()
            .map(|(name, value)| match value {
                Value::String(s) => Ok((name.to_ascii_lowercase(), s.clone())),
                Value::Number(n) => Ok((name.to_ascii_lowercase(), n.to_string())),
                _ => Err(format!("header `{name}` must be a string or a number")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        actions.push(FaultAction::Status {
            status,
            headers,
            retry_after,
            body: raw.body.clone(),
        });
    } else if !raw.headers.is_empty()
        || raw.retry_after.is_some()
        || raw.retry_after_date.is_some()
        || raw.body.is_some()
    {
        return Err("`headers`, `retry_after`, `retry_after_date` and `body` need `status`".into());
    }
    if let Some(ms) = raw.latency_ms {
        actions.push(FaultAction::Latency(Duration::from_millis(ms)));
    }
    if let Some(ms) = raw.slow_ms {
        actions.push(FaultAction::Slow(Duration::from_millis(ms)));
    }
    if raw.truncate {
        actions.push(FaultAction::Truncate);
    }
    if raw.drop {
        actions.push(FaultAction::Drop);
    }
    let action = match actions.len() {
        1 => actions.remove(0),
        0 => {
            return Err(
                "a rule needs one action: status, latency_ms, slow_ms, truncate or drop".into(),
            );
        }
        _ => return Err(
            "a rule has one action only (status, latency_ms, slow_ms, truncate or drop); split it"
                .into(),
        ),
    };
    let trigger = match (raw.rate, raw.on_requests) {
        (Some(_), Some(_)) => return Err("give `rate` or `on_requests`, not both".into()),
        (Some(rate), None) => FaultTrigger::Rate(rate),
        (None, Some(numbers)) => FaultTrigger::OnRequests(numbers),
        (None, None) => FaultTrigger::Always,
    };
    Ok(FaultRule {
        action,
        trigger,
        endpoint: raw.endpoint,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn spec_rules_are_checked() {
        let ok = FaultProfile::from_spec(
            &json!({"seed": 1, "rules": [{"status": 429, "retry_after": "2", "rate": 0.5}]}),
        )
        .unwrap();
        assert_eq!(ok.rules[0].trigger, FaultTrigger::Rate(0.5));
        let two = FaultProfile::from_spec(&json!({"rules": [{"status": 429, "drop": true}]}))
            .unwrap_err();
        assert_eq!(two.0, Some(0));
        assert!(two.1.contains("one action"));
        let rate =
            FaultProfile::from_spec(&json!({"rules": [{"drop": true, "rate": 2.0}]})).unwrap_err();
        assert!(rate.1.contains("between 0 and 1"));
        assert!(
            FaultProfile::from_spec(&json!({"rules": [{"stauts": 500}]}))
                .unwrap_err()
                .1
                .contains("unknown field `stauts`")
        );
    }
}
