//! Cursor values seen from outside the connector: ordering them (to tell a tie at a cut from a
//! re-delivery) and moving an offset's cursor past now (check 10) without knowing its layout.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use lakeflow_connect::Offset;
use serde_json::{Number, Value};

/// The year written into timestamp strings: a leap year, so a February 29th stays a valid date.
const FAR_YEAR: &str = "2400";
/// The instant written into epoch numbers: late enough, and still within `i64` nanoseconds.
const FAR_EPOCH_YEAR: i32 = 2200;

/// Orders two cursor values: numbers numerically, timestamp strings as instants, other strings
/// as text; mixed kinds by their JSON text (only equality matters for them).
pub(crate) fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => match (instant(x), instant(y)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.cmp(y),
        },
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// An instant from the timestamp formats connectors commonly put in cursors.
pub(crate) fn instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    ["%Y-%m-%d", "%Y/%m/%d"]
        .into_iter()
        .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|naive| Utc.from_utc_datetime(&naive))
}

/// `offset` with every timestamp-like value moved far into the future, in the same format:
/// dates and date-times get the year 2400; epoch numbers (seconds, milliseconds, microseconds or
/// nanoseconds, told apart by magnitude, also as digit strings) become 2200-01-01. Nested
/// objects are searched; arrays are not (they hold keys, not positions). `None` when nothing
/// looked like a timestamp.
pub(crate) fn far_future(offset: &Offset) -> Option<Offset> {
    let mut moved = offset.clone();
    let mut changed = false;
    for value in moved.values_mut() {
        changed |= shift(value);
    }
    changed.then_some(moved)
}

fn shift(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for inner in map.values_mut() {
                changed |= shift(inner);
            }
            changed
        }
        Value::String(text) => {
            if let Some(moved) = shift_date_text(text) {
                *text = moved;
                return true;
            }
            match text.parse::<f64>().ok().and_then(far_epoch) {
                Some(far) if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
                    *text = far.to_string();
                    true
                }
                _ => false,
            }
        }
        Value::Number(number) => match number.as_f64().and_then(far_epoch) {
            Some(far) => {
                *value = Value::Number(Number::from(far));
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// A date or date-time text (`YYYY-MM-DD…`, `YYYY/MM/DD…`) with its year replaced.
fn shift_date_text(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let separator = bytes.get(4).copied();
    let looks_like_date = digits(0..4)
        && matches!(separator, Some(b'-' | b'/'))
        && digits(5..7)
        && bytes.get(7).copied() == separator
        && digits(8..10);
    if !looks_like_date {
        return None;
    }
    // The first four bytes are ASCII digits, so byte 4 is a character boundary.
    let moved = format!("{FAR_YEAR}{}", &text[4..]);
    instant(&moved).is_some().then_some(moved)
}

/// The far-future epoch in the unit `value` appears to use, or `None` when `value` does not look
/// like an epoch time (from 2001 on).
fn far_epoch(value: f64) -> Option<i64> {
    let far = NaiveDate::from_ymd_opt(FAR_EPOCH_YEAR, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    let scale = match value {
        v if (1e9..1e10).contains(&v) => 1,
        v if (1e12..1e13).contains(&v) => 1_000,
        v if (1e15..1e16).contains(&v) => 1_000_000,
        v if (1e18..1e19).contains(&v) => 1_000_000_000,
        _ => return None,
    };
    far.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::object as offset;
    use serde_json::json;

    #[test]
    fn far_future_keeps_formats_and_leaves_keys_alone() {
        let moved = far_future(&offset(json!({
            "cursor": "2025-01-01T00:01:40.123Z",
            "keys_at_cursor": [1_735_689_600, 2],
            "window": {"end": 1_735_689_600_000_u64, "page": 3},
            "since": "1735689600",
            "day": "2024/02/29",
            "token": "abc"
        })))
        .unwrap();
        assert_eq!(moved["cursor"], "2400-01-01T00:01:40.123Z");
        assert_eq!(moved["keys_at_cursor"], json!([1_735_689_600, 2]));
        assert_eq!(
            moved["window"],
            json!({"end": 7_258_118_400_000_i64, "page": 3})
        );
        assert_eq!(moved["since"], "7258118400");
        assert_eq!(moved["day"], "2400/02/29");
        assert_eq!(moved["token"], "abc");
        assert!(far_future(&offset(json!({"page": 3, "id": "x"}))).is_none());
    }

    #[test]
    fn compares_instants_across_formats() {
        assert_eq!(
            compare(
                &json!("2025-01-01T01:00:00+01:00"),
                &json!("2025-01-01 00:00:00")
            ),
            Ordering::Equal
        );
        assert_eq!(compare(&json!(2), &json!(10.5)), Ordering::Less);
        assert_eq!(compare(&json!("b"), &json!("a")), Ordering::Greater);
    }
}
