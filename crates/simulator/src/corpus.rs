//! Corpus files (a JSON array of objects, or NDJSON) and the in-memory store writes change.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::value::{FieldPath, StampFormat};

/// Parses a corpus: a JSON array of objects, or one JSON object per line.
pub(crate) fn parse(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON array: {e}"))?;
        let Value::Array(items) = value else {
            unreachable!("starts with `[`")
        };
        for (i, item) in items.iter().enumerate() {
            if !item.is_object() {
                return Err(format!("element {i} is not an object"));
            }
        }
        return Ok(items);
    }
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: invalid JSON: {e}", i + 1))?;
        if !value.is_object() {
            return Err(format!("line {}: not a JSON object", i + 1));
        }
        records.push(value);
    }
    Ok(records)
}

/// The records of every corpus file. Records are shared (`Arc`) so a read snapshots a corpus
/// without copying it; a write replaces the records it changes.
#[derive(Debug, Default)]
pub(crate) struct Store {
    corpora: Mutex<BTreeMap<String, Vec<Arc<Value>>>>,
}

impl Store {
    pub(crate) fn new(corpora: BTreeMap<String, Vec<Value>>) -> Self {
        let corpora = corpora
            .into_iter()
            .map(|(name, records)| (name, records.into_iter().map(Arc::new).collect()))
            .collect();
        Self {
            corpora: Mutex::new(corpora),
        }
    }

    /// The current records of a corpus.
    pub(crate) fn snapshot(&self, corpus: &str) -> Vec<Arc<Value>> {
        self.lock().get(corpus).cloned().unwrap_or_default()
    }

    /// Runs `change` with exclusive access to all corpora (a write may touch two: records and
    /// tombstones).
    pub(crate) fn write<T>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, Vec<Arc<Value>>>) -> T,
    ) -> T {
        change(&mut self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Vec<Arc<Value>>>> {
        // A panic while holding the lock leaves whole records in place; keep serving.
        self.corpora.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The server's clock: real time, or a fixed `now` that advances one second per write so
/// server-stamped values stay distinct and ordered.
#[derive(Debug)]
pub(crate) struct Clock {
    fixed: Option<Mutex<DateTime<Utc>>>,
}

impl Clock {
    pub(crate) fn new(fixed: Option<DateTime<Utc>>) -> Self {
        Self {
            fixed: fixed.map(Mutex::new),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(now) => *now.lock().unwrap_or_else(PoisonError::into_inner),
            None => Utc::now(),
        }
    }

    /// The stamp for a write.
    pub(crate) fn tick(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(now) => {
                let mut now = now.lock().unwrap_or_else(PoisonError::into_inner);
                *now += TimeDelta::seconds(1);
                *now
            }
            None => Utc::now(),
        }
    }
}

/// Sets each stamp field of `record` to `at`, formatted like the corpus writes that field.
pub(crate) fn stamp(
    record: &mut Value,
    fields: &[FieldPath],
    at: DateTime<Utc>,
    corpus: &[Arc<Value>],
) {
    for field in fields {
        let sample = corpus.iter().find_map(|r| field.first(r));
        let format = StampFormat::detect(sample);
        field.set(record, format.format(at));
    }
}

/// The next identifier for a corpus: integers continue after the largest; strings with a
/// numeric suffix (`cus_0042`) keep their prefix and width; an empty corpus starts at 1.
pub(crate) fn next_id(records: &[Arc<Value>], id_field: &FieldPath, extra_taken: usize) -> Value {
    let ids: Vec<&Value> = records.iter().filter_map(|r| id_field.first(r)).collect();
    let bump = u64::try_from(extra_taken).unwrap_or(0) + 1;
    if let Some(max) = ids.iter().filter_map(|v| v.as_u64()).max() {
        return Value::from(max + bump);
    }
    let strings: Vec<&str> = ids.iter().filter_map(|v| v.as_str()).collect();
    let split = |s: &str| {
        let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (prefix, number) = s.split_at(s.len() - digits);
        number
            .parse::<u64>()
            .ok()
            .map(|n| (prefix.to_owned(), n, digits))
    };
    if let Some((prefix, number, width)) = strings
        .iter()
        .filter_map(|s| split(s))
        .max_by_key(|(_, n, _)| *n)
    {
        return Value::String(format!("{prefix}{:0width$}", number + bump));
    }
    if let Some(sample) = strings.first() {
        // Identifiers without digits: derive fresh ones that cannot collide.
        return Value::String(format!("{sample}-{}", ids.len() as u64 + bump));
    }
    Value::from(bump)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_arrays_and_ndjson() {
        assert_eq!(parse("[{\"a\":1}]").unwrap(), vec![json!({"a": 1})]);
        assert_eq!(parse("{\"a\":1}\n\n{\"a\":2}\n").unwrap().len(), 2);
        assert!(parse("[1]").unwrap_err().contains("element 0"));
        assert!(parse("{\"a\":1}\nnope\n").unwrap_err().contains("line 2"));
    }

    #[test]
    fn next_ids_follow_the_corpus() {
        let id = FieldPath::parse("id").unwrap();
        let corpus = |values: Vec<Value>| {
            values
                .into_iter()
                .map(|v| Arc::new(json!({ "id": v })))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            next_id(&corpus(vec![json!(3), json!(9)]), &id, 0),
            json!(10)
        );
        assert_eq!(
            next_id(&corpus(vec![json!("cus_0042"), json!("cus_0007")]), &id, 1),
            json!("cus_0044")
        );
        assert_eq!(next_id(&[], &id, 0), json!(1));
    }
}
