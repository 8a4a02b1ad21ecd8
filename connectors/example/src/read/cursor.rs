//! Offsets: `{"cursor": "<RFC 3339>"}`, plus `"keys_at_cursor": [...]` when a batch stopped
//! inside a group of rows sharing the cursor value.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Error, Offset, Record, Result};
use serde_json::Value;

use crate::tables::Feed;
use crate::time::{format_ts, parse_ts};

const CURSOR: &str = "cursor";
const KEYS: &str = "keys_at_cursor";

/// A read position: every row before `at`, and the rows at `at` whose keys are listed, were
/// delivered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cursor {
    pub at: DateTime<Utc>,
    pub keys: Vec<Value>,
}

impl Cursor {
    /// Every row up to and including `at` was delivered.
    pub(crate) fn at(at: DateTime<Utc>) -> Self {
        Self {
            at,
            keys: Vec::new(),
        }
    }

    /// Parses an offset this connector produced.
    pub(crate) fn from_offset(table: &str, offset: Option<&Offset>) -> Result<Option<Self>> {
        let Some(offset) = offset else {
            return Ok(None);
        };
        let invalid = |reason: String| Error::invalid_offset(table, reason);
        if let Some(unknown) = offset.keys().find(|k| *k != CURSOR && *k != KEYS) {
            return Err(invalid(format!("unexpected field `{unknown}`")));
        }
        let at = match offset.get(CURSOR) {
            Some(Value::String(text)) => parse_ts(text).ok_or_else(|| {
                invalid(format!("`{CURSOR}` is not an RFC 3339 timestamp: {text:?}"))
            })?,
            Some(other) => {
                return Err(invalid(format!("`{CURSOR}` must be a string, got {other}")));
            }
            None => return Err(invalid(format!("`{CURSOR}` is missing"))),
        };
        let keys = match offset.get(KEYS) {
            None => Vec::new(),
            Some(Value::Array(keys)) => keys.clone(),
            Some(other) => return Err(invalid(format!("`{KEYS}` must be an array, got {other}"))),
        };
        Ok(Some(Self { at, keys }))
    }

    pub(crate) fn to_offset(&self) -> Offset {
        let mut offset = Offset::new();
        offset.insert(CURSOR.to_owned(), format_ts(self.at).into());
        if !self.keys.is_empty() {
            offset.insert(KEYS.to_owned(), Value::Array(self.keys.clone()));
        }
        offset
    }

    /// Whether the row with this cursor value and key was delivered before this position.
    pub(crate) fn covers(&self, at: DateTime<Utc>, key: &Value) -> bool {
        at < self.at || (at == self.at && self.keys.contains(key))
    }
}

/// The cursor value of a record from `feed`.
pub(crate) fn cursor_of(feed: &Feed, record: &Record) -> Result<DateTime<Utc>> {
    record
        .get(feed.cursor)
        .and_then(Value::as_str)
        .and_then(parse_ts)
        .ok_or_else(|| Error::SchemaMismatch {
            table: feed.table.name().to_owned(),
            field: feed.cursor.to_owned(),
            reason: format!(
                "the source sent no RFC 3339 timestamp: {:?}",
                record.get(feed.cursor)
            ),
        })
}

/// The key of a record from `feed`.
pub(crate) fn key_of(feed: &Feed, record: &Record) -> Result<Value> {
    match record.get(feed.key) {
        Some(key) if !key.is_null() => Ok(key.clone()),
        _ => Err(Error::SchemaMismatch {
            table: feed.table.name().to_owned(),
            field: feed.key.to_owned(),
            reason: "the source sent a record without its key".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakeflow_testkit::fixtures::object as offset;
    use serde_json::json;

    #[test]
    fn round_trips_and_rejects_foreign_offsets() {
        let with_keys = offset(json!({"cursor": "2025-01-01T00:01:40Z", "keys_at_cursor": [3, 4]}));
        let cursor = Cursor::from_offset("users", Some(&with_keys))
            .unwrap()
            .unwrap();
        assert_eq!(cursor.keys, [json!(3), json!(4)]);
        assert_eq!(cursor.to_offset(), with_keys);
        assert!(cursor.covers(cursor.at, &json!(3)) && !cursor.covers(cursor.at, &json!(5)));
        for (bad, expected) in [
            (json!({"cursor": 5}), "must be a string"),
            (json!({"cursor": "soon"}), "not an RFC 3339"),
            (json!({}), "missing"),
            (
                json!({"cursor": "2025-01-01T00:00:00Z", "page": 2}),
                "unexpected field `page`",
            ),
            (
                json!({"cursor": "2025-01-01T00:00:00Z", "keys_at_cursor": 1}),
                "must be an array",
            ),
        ] {
            let err = Cursor::from_offset("users", Some(&offset(bad)))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected) && err.contains("`users`"), "{err}");
        }
    }
}
