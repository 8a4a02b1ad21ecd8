//! Field paths into records and the comparison rules shared by filters, sorting and cursors.
//!
//! Values compare as numbers when both sides are numbers, as instants when both are dates
//! (RFC 3339, `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`) or when one side is a date and the other a
//! number (read as epoch seconds), and as strings otherwise.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

/// A dotted path into a record (`actor.login`). Arrays met on the way are searched element-wise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    text: String,
    parts: Vec<String>,
}

impl FieldPath {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<String> = text.split('.').map(str::to_owned).collect();
        if parts.iter().any(String::is_empty) {
            return Err(format!("field path `{text}` has an empty segment"));
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// Every value at this path; arrays on the way (and at the end) contribute each element.
    pub(crate) fn lookup<'a>(&self, record: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![record];
        for part in &self.parts {
            let mut next = Vec::new();
            for value in current {
                collect_member(value, part, &mut next);
            }
            current = next;
        }
        let mut out = Vec::with_capacity(current.len());
        for value in current {
            match value {
                Value::Array(items) => out.extend(items.iter()),
                other => out.push(other),
            }
        }
        out
    }

    /// The first non-null value at this path.
    pub(crate) fn first<'a>(&self, record: &'a Value) -> Option<&'a Value> {
        self.lookup(record).into_iter().find(|v| !v.is_null())
    }

    /// Sets the value at this path, creating objects on the way (arrays are not traversed).
    pub(crate) fn set(&self, record: &mut Value, value: Value) {
        let mut current = record;
        for part in &self.parts {
            if !current.is_object() {
                *current = Value::Object(serde_json::Map::new());
            }
            let Value::Object(map) = current else {
                unreachable!("made an object above")
            };
            current = map.entry(part.clone()).or_insert(Value::Null);
        }
        *current = value;
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn collect_member<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if let Some(v) = map.get(key) {
                out.push(v);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_member(item, key, out);
            }
        }
        _ => {}
    }
}

/// A query-parameter value, parsed once into every form it may be compared as.
#[derive(Debug, Clone)]
pub(crate) struct Operand {
    pub(crate) raw: String,
    number: Option<f64>,
    instant: Option<i64>,
}

impl Operand {
    pub(crate) fn new(raw: &str) -> Self {
        Self {
            raw: raw.to_owned(),
            number: parse_number(raw),
            instant: parse_instant(raw),
        }
    }
}

/// Compares a record's field value with a parameter; `None` when they cannot be compared
/// (null, objects, a missing field).
pub(crate) fn compare_to_operand(field: &Value, operand: &Operand) -> Option<Ordering> {
    match field {
        Value::Number(n) => {
            let n = n.as_f64()?;
            if let Some(p) = operand.number {
                Some(n.total_cmp(&p))
            } else if let Some(p) = operand.instant {
                // The field holds epoch seconds and the parameter is a date.
                Some(seconds_to_micros(n).cmp(&p))
            } else {
                Some(n.to_string().as_str().cmp(operand.raw.as_str()))
            }
        }
        Value::String(s) => {
            if let Some(f) = parse_instant(s) {
                if let Some(p) = operand.instant {
                    return Some(f.cmp(&p));
                }
                if let Some(p) = operand.number {
                    // The field is a date and the parameter epoch seconds (Zendesk's start_time).
                    return Some(f.cmp(&seconds_to_micros(p)));
                }
            }
            if let (Some(f), Some(p)) = (parse_number(s), operand.number) {
                return Some(f.total_cmp(&p));
            }
            Some(s.as_str().cmp(operand.raw.as_str()))
        }
        Value::Bool(b) => {
            Some((if *b { "true" } else { "false" }).cmp(operand.raw.to_ascii_lowercase().as_str()))
        }
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A field value reduced to something totally ordered, for sorting and cursor positions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortKey {
    Missing,
    Bool(bool),
    Number(f64),
    Instant(i64),
    Text(String),
}

impl SortKey {
    pub(crate) fn of(value: Option<&Value>) -> Self {
        match value {
            None | Some(Value::Null | Value::Array(_) | Value::Object(_)) => Self::Missing,
            Some(Value::Bool(b)) => Self::Bool(*b),
            Some(Value::Number(n)) => n.as_f64().map_or(Self::Missing, Self::Number),
            // Dates sort as instants and numeric strings (HubSpot's "101") as numbers.
            Some(Value::String(s)) => match (parse_instant(s), parse_number(s)) {
                (Some(instant), _) => Self::Instant(instant),
                (None, Some(number)) => Self::Number(number),
                (None, None) => Self::Text(s.clone()),
            },
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Missing => 0,
            Self::Bool(_) => 1,
            Self::Number(_) => 2,
            Self::Instant(_) => 3,
            Self::Text(_) => 4,
        }
    }

    /// Microseconds since the epoch when this key is a point in time (dates, or numbers read as
    /// epoch seconds).
    pub(crate) fn as_micros(&self) -> Option<i64> {
        match self {
            Self::Instant(m) => Some(*m),
            Self::Number(n) => Some(seconds_to_micros(*n)),
            _ => None,
        }
    }
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Number(a), Self::Number(b)) => a.total_cmp(b),
            (Self::Instant(a), Self::Instant(b)) => a.cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

#[allow(clippy::cast_possible_truncation)] // epoch seconds far beyond i64 micros are not dates
fn seconds_to_micros(seconds: f64) -> i64 {
    (seconds * 1_000_000.0).round() as i64
}

pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let plausible = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if plausible {
        text.parse::<f64>().ok().filter(|n| n.is_finite())
    } else {
        None
    }
}

/// Microseconds since the epoch for RFC 3339 date-times, naive date-times (UTC) and dates.
pub(crate) fn parse_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    // Cheap guard: every accepted form starts with `YYYY-`.
    let bytes = text.as_bytes();
    if bytes.len() < 10 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.timestamp_micros());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc().timestamp_micros());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date
            .and_hms_opt(0, 0, 0)
            .map(|naive| naive.and_utc().timestamp_micros());
    }
    None
}

/// How a corpus writes one timestamp field, so server-stamped values look like their neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StampFormat {
    EpochSeconds,
    EpochMillis,
    Rfc3339 { fraction_digits: u8, zulu: bool },
}

impl StampFormat {
    /// Guesses the format from an existing value; RFC 3339 with `Z` and no fraction by default.
    pub(crate) fn detect(sample: Option<&Value>) -> Self {
        match sample {
            Some(Value::Number(n)) if n.as_f64().is_some_and(|v| v.abs() > 1e11) => {
                Self::EpochMillis
            }
            Some(Value::Number(_)) => Self::EpochSeconds,
            Some(Value::String(s)) => {
                let fraction_digits = s.find('.').map_or(0, |dot| {
                    s[dot + 1..].bytes().take_while(u8::is_ascii_digit).count()
                });
                Self::Rfc3339 {
                    fraction_digits: u8::try_from(fraction_digits).unwrap_or(9),
                    zulu: !s.ends_with("+00:00"),
                }
            }
            _ => Self::Rfc3339 {
                fraction_digits: 0,
                zulu: true,
            },
        }
    }

    pub(crate) fn format(self, at: DateTime<Utc>) -> Value {
        match self {
            Self::EpochSeconds => Value::from(at.timestamp()),
            Self::EpochMillis => Value::from(at.timestamp_millis()),
            Self::Rfc3339 {
                fraction_digits,
                zulu,
            } => {
                let seconds = match fraction_digits {
                    0 => SecondsFormat::Secs,
                    1..=3 => SecondsFormat::Millis,
                    4..=6 => SecondsFormat::Micros,
                    _ => SecondsFormat::Nanos,
                };
                Value::String(at.to_rfc3339_opts(seconds, zulu))
            }
        }
    }
}

/// Parses the spec's `now:` value.
pub(crate) fn parse_now(text: &str) -> Option<DateTime<Utc>> {
    parse_instant(text).and_then(DateTime::from_timestamp_micros)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cmp(field: &Value, param: &str) -> Option<Ordering> {
        compare_to_operand(field, &Operand::new(param))
    }

    #[test]
    fn compares_numbers_dates_epochs_and_strings() {
        assert_eq!(cmp(&json!(10), "9"), Some(Ordering::Greater));
        assert_eq!(cmp(&json!("10"), "9"), Some(Ordering::Greater));
        assert_eq!(
            cmp(&json!("2024-01-02T00:00:00Z"), "2024-01-01"),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp(&json!("2024-01-01T00:00:00+01:00"), "2024-01-01T00:00:00Z"),
            Some(Ordering::Less)
        );
        // Epoch field against a date, and a date field against epoch seconds.
        assert_eq!(
            cmp(&json!(1_704_067_200), "2024-01-01T00:00:00Z"),
            Some(Ordering::Equal)
        );
        assert_eq!(
            cmp(&json!("2024-01-01T00:00:01Z"), "1704067200"),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp(&json!("b"), "a"), Some(Ordering::Greater));
        assert_eq!(cmp(&json!(true), "TRUE"), Some(Ordering::Equal));
        assert_eq!(cmp(&json!(null), "x"), None);
    }

    #[test]
    fn paths_search_nested_objects_and_arrays() {
        let record = json!({"actor": {"login": "ada"}, "labels": [{"name": "bug"}, {"name": "ui"}], "tags": ["a", "b"]});
        let path = |p: &str| FieldPath::parse(p).unwrap();
        assert_eq!(path("actor.login").lookup(&record), vec![&json!("ada")]);
        assert_eq!(path("labels.name").lookup(&record).len(), 2);
        assert_eq!(path("tags").lookup(&record).len(), 2);
        assert!(path("missing.x").lookup(&record).is_empty());
        let mut r = json!({});
        path("a.b").set(&mut r, json!(1));
        assert_eq!(r, json!({"a": {"b": 1}}));
        assert!(FieldPath::parse("a..b").is_err());
    }

    #[test]
    fn sort_keys_order_numbers_dates_and_text() {
        let key = |v: Value| SortKey::of(Some(&v));
        assert!(
            key(json!("99")) < key(json!("100")),
            "numeric strings sort as numbers"
        );
        assert!(key(json!("2024-01-02")) > key(json!("2024-01-01T23:59:59Z")));
        assert!(key(json!("b")) > key(json!("a")));
        assert!(SortKey::of(None) < key(json!(false)));
        assert!(
            key(json!(1)) < key(json!("2024-01-01")),
            "types rank consistently"
        );
    }

    #[test]
    fn stamp_format_follows_existing_values() {
        let at = DateTime::from_timestamp(1_704_067_200, 0).unwrap();
        assert_eq!(
            StampFormat::detect(Some(&json!(1_600_000_000))).format(at),
            json!(1_704_067_200)
        );
        assert_eq!(
            StampFormat::detect(Some(&json!("2020-01-01T00:00:00.000Z"))).format(at),
            json!("2024-01-01T00:00:00.000Z")
        );
        assert_eq!(
            StampFormat::detect(None).format(at),
            json!("2024-01-01T00:00:00Z")
        );
    }
}
