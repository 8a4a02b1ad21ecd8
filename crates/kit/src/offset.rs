//! Reading and writing offsets: JSON objects with named fields, checked on the way in so that an
//! offset the connector did not produce is an error naming the table and the field; and where a
//! record's cursor and key are (dot paths such as `commit.committer.date` or `user.id`).

use chrono::{DateTime, Utc};
use lakeflow_connect::{Error, Offset, Record, Result};
use serde_json::Value;

use crate::time::{format_ts, parse_ts};

/// The fields of an offset handed back to the connector, checked against the fields it may have.
pub struct Fields<'a> {
    table: &'a str,
    offset: &'a Offset,
}

impl<'a> Fields<'a> {
    /// Checks that `offset` has no field outside `allowed`.
    pub fn new(table: &'a str, offset: &'a Offset, allowed: &[&str]) -> Result<Self> {
        if let Some(unknown) = offset.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::invalid_offset(
                table,
                format!(
                    "unexpected field `{unknown}` (this table's offsets have {})",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self { table, offset })
    }

    /// An invalid-offset error for this offset's table, saying `reason`.
    pub fn invalid(&self, reason: String) -> Error {
        Error::invalid_offset(self.table, reason)
    }

    /// An RFC 3339 instant, if present.
    pub fn instant(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        match self.offset.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => parse_ts(text).map(Some).ok_or_else(|| {
                self.invalid(format!("`{name}` is not an RFC 3339 timestamp: {text:?}"))
            }),
            Some(other) => Err(self.invalid(format!("`{name}` must be a string, got {other}"))),
        }
    }

    /// A required RFC 3339 instant.
    pub fn required_instant(&self, name: &str) -> Result<DateTime<Utc>> {
        self.instant(name)?
            .ok_or_else(|| self.invalid(format!("`{name}` is missing")))
    }

    /// An array of keys (empty when absent).
    pub fn keys(&self, name: &str) -> Result<Vec<Value>> {
        match self.offset.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(keys)) if keys.iter().all(is_key) => Ok(keys.clone()),
            Some(other) => Err(self.invalid(format!(
                "`{name}` must be an array of keys (numbers or strings), got {other}"
            ))),
        }
    }

    /// A single key (a number or a string), if present.
    pub fn key(&self, name: &str) -> Result<Option<Value>> {
        match self.offset.get(name) {
            None => Ok(None),
            Some(value) if is_key(value) => Ok(Some(value.clone())),
            Some(other) => Err(self.invalid(format!(
                "`{name}` must be a number or a string, got {other}"
            ))),
        }
    }

    /// A non-negative integer, if present.
    pub fn integer(&self, name: &str) -> Result<Option<u64>> {
        match self.offset.get(name) {
            None => Ok(None),
            Some(value) => value.as_u64().map(Some).ok_or_else(|| {
                self.invalid(format!(
                    "`{name}` must be a non-negative integer, got {value}"
                ))
            }),
        }
    }

    /// An object, if present.
    pub fn object(&self, name: &str) -> Result<Option<&'a serde_json::Map<String, Value>>> {
        match self.offset.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.invalid(format!("`{name}` must be an object, got {other}"))),
        }
    }
}

fn is_key(value: &Value) -> bool {
    value.is_string() || value.is_u64() || value.is_i64()
}

/// Builds an offset field by field.
#[derive(Default)]
pub struct Builder(Offset);

impl Builder {
    /// Sets `name` to `at` as RFC 3339 text.
    pub fn instant(mut self, name: &str, at: DateTime<Utc>) -> Self {
        self.0.insert(name.to_owned(), format_ts(at).into());
        self
    }

    /// Sets `name` to the array `keys`, leaving it out when `keys` is empty.
    pub fn keys(mut self, name: &str, keys: &[Value]) -> Self {
        if !keys.is_empty() {
            self.0.insert(name.to_owned(), Value::Array(keys.to_vec()));
        }
        self
    }

    /// Sets `name` to `value` as is.
    pub fn value(mut self, name: &str, value: Value) -> Self {
        self.0.insert(name.to_owned(), value);
        self
    }

    /// The offset built so far.
    pub fn build(self) -> Offset {
        self.0
    }
}

/// The value at a dot-separated path of a record (`commit.committer.date`, `user.id`).
pub fn value_at<'r>(record: &'r Record, path: &str) -> Option<&'r Value> {
    let mut parts = path.split('.');
    let mut value = record.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// The instant at a dot path of a record: RFC 3339 text, or whole seconds since the epoch (as
/// Zendesk's `generated_timestamp`); a record without one is a schema mismatch.
pub fn instant_at(table: &str, record: &Record, path: &str) -> Result<DateTime<Utc>> {
    value_at(record, path)
        .and_then(|value| match value {
            Value::String(text) => parse_ts(text),
            Value::Number(seconds) => seconds
                .as_i64()
                .and_then(|seconds| DateTime::from_timestamp(seconds, 0)),
            _ => None,
        })
        .ok_or_else(|| Error::SchemaMismatch {
            table: table.to_owned(),
            field: path.to_owned(),
            reason: format!(
                "the source sent neither an RFC 3339 timestamp nor epoch seconds: {}",
                value_at(record, path).unwrap_or(&Value::Null)
            ),
        })
}

/// A record's position in a listing: its cursor instant and its key.
pub fn position(
    table: &str,
    record: &Record,
    cursor: &str,
    key: &str,
) -> Result<(DateTime<Utc>, Value)> {
    let at = instant_at(table, record, cursor)?;
    let key = match value_at(record, key) {
        Some(value) if is_key(value) => value.clone(),
        other => {
            return Err(Error::SchemaMismatch {
                table: table.to_owned(),
                field: key.to_owned(),
                reason: format!(
                    "the source sent a record without its key: {}",
                    other.unwrap_or(&Value::Null)
                ),
            });
        }
    };
    Ok((at, key))
}

#[cfg(test)]
mod tests {
    use lakeflow_testkit::fixtures::object as offset;
    use serde_json::json;

    use super::*;

    #[test]
    fn foreign_offsets_are_rejected_naming_table_and_field() {
        let o = offset(json!({"cursor": "2024-01-01T00:00:00Z", "page": 2}));
        let err = Fields::new("issues", &o, &["cursor"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("`issues`") && err.contains("`page`"), "{err}");
        let o = offset(json!({"cursor": 5, "keys": [1, {"a": 1}], "n": -1}));
        let f = Fields::new("issues", &o, &["cursor", "keys", "n"]).unwrap();
        assert!(
            f.instant("cursor")
                .unwrap_err()
                .to_string()
                .contains("must be a string")
        );
        assert!(
            f.keys("keys")
                .unwrap_err()
                .to_string()
                .contains("array of keys")
        );
        assert!(
            f.integer("n")
                .unwrap_err()
                .to_string()
                .contains("non-negative")
        );
        assert!(
            f.required_instant("since")
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
    }

    #[test]
    fn positions_read_nested_paths() {
        let record =
            offset(json!({"sha": "a1", "commit": {"committer": {"date": "2024-02-03T04:05:06Z"}}}));
        let (at, key) = position("commits", &record, "commit.committer.date", "sha").unwrap();
        assert_eq!(
            (format_ts(at), key),
            ("2024-02-03T04:05:06Z".to_owned(), json!("a1"))
        );
        let err = position("commits", &record, "commit.author.date", "sha").unwrap_err();
        assert!(err.to_string().contains("commit.author.date"), "{err}");
    }

    #[test]
    fn instants_are_rfc_3339_text_or_epoch_seconds() {
        let record = offset(json!({"id": 7, "generated_timestamp": 1672906351, "at": true}));
        let (at, _) = position("tickets", &record, "generated_timestamp", "id").unwrap();
        assert_eq!(format_ts(at), "2023-01-05T08:12:31Z");
        let err = instant_at("tickets", &record, "at")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("epoch seconds") && err.contains("true"),
            "{err}"
        );
    }
}
