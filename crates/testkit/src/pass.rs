//! Passes: reading a table (or its deletes) from a start offset, feeding each end offset back,
//! until the offset stops moving or a bound is hit. Most checks compare passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lakeflow_connect::{LakeflowConnect, Offset, Record, TableOptions};
use serde_json::Value;

use crate::config::Limits;
use crate::probe::{Transcript, guard};

/// Which feed of a table is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// `read_table`.
    Records,
    /// `read_table_deletes`.
    Deletes,
}

impl Feed {
    /// The method that reads it.
    pub const fn method(self) -> &'static str {
        match self {
            Self::Records => "read_table",
            Self::Deletes => "read_table_deletes",
        }
    }
}

/// How a pass ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// The end offset equalled the start offset (or a snapshot returned no offset).
    Converged,
    /// `max_reads` reads without converging.
    TooManyReads,
    /// More than `max_records` records without converging.
    TooManyRecords,
    /// A read failed (error or panic); `read` counts from 0.
    Failed { read: usize, error: String },
}

/// Every read of one pass. `offsets[i]` is where read `i` started; `offsets[i + 1]` where it
/// ended (so there is one more offset than batches).
#[derive(Debug, Clone)]
pub(crate) struct Pass {
    pub batches: Vec<Vec<Record>>,
    pub offsets: Vec<Option<Offset>>,
    pub end: End,
}

impl Pass {
    pub(crate) fn converged(&self) -> bool {
        self.end == End::Converged
    }

    pub(crate) fn records(&self) -> impl Iterator<Item = &Record> {
        self.batches.iter().flatten()
    }

    pub(crate) fn record_count(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }

    /// The last offset the pass reached.
    pub(crate) fn last_offset(&self) -> Option<&Offset> {
        self.offsets.iter().rev().find_map(Option::as_ref)
    }

    /// Why the pass did not converge, in words (empty when it did).
    pub(crate) fn problem(&self, table: &str, feed: Feed) -> String {
        let method = feed.method();
        let reads = self.batches.len();
        let records = self.record_count();
        match &self.end {
            End::Converged => String::new(),
            End::TooManyReads => format!(
                "`{table}`: {method} did not converge after {reads} reads ({records} records); \
                 last offsets: {}",
                self.last_offsets()
            ),
            End::TooManyRecords => format!(
                "`{table}`: {method} returned {records} records in {reads} reads without \
                 converging (the bound); last offsets: {}",
                self.last_offsets()
            ),
            End::Failed { read, error } => {
                format!("`{table}`: {method} failed at read {}: {error}", read + 1)
            }
        }
    }

    fn last_offsets(&self) -> String {
        let tail: Vec<String> = self
            .offsets
            .iter()
            .rev()
            .take(3)
            .rev()
            .map(|o| {
                o.as_ref()
                    .map_or_else(|| "none".to_owned(), |o| short(&Value::Object(o.clone())))
            })
            .collect();
        tail.join(" -> ")
    }
}

/// Reads `table` from `start`, feeding end offsets back until they stop moving.
///
/// A snapshot pass also ends when a read returns no offset. `max_reads` caps a pass that never
/// converges (check 7 reports it); the batch-size probe passes a small `max_reads` on purpose.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_pass(
    connector: &dyn LakeflowConnect,
    transcript: &Transcript,
    table: &str,
    feed: Feed,
    start: Option<Offset>,
    options: &TableOptions,
    snapshot: bool,
    limits: &Limits,
) -> Pass {
    let mut pass = Pass {
        batches: Vec::new(),
        offsets: vec![start],
        end: End::TooManyReads,
    };
    let mut total = 0;
    while pass.batches.len() < limits.max_reads {
        let read = pass.batches.len();
        let from = pass.offsets[read].clone();
        let call = format!("{}(`{table}`)", feed.method());
        let room = limits.max_records.saturating_sub(total) + 1;
        let outcome = guard(transcript, &call, || {
            read_once(connector, table, feed, from.as_ref(), options, room)
        });
        let (records, end) = match outcome {
            Ok(Ok(read)) => read,
            Ok(Err(error)) | Err(error) => {
                pass.end = End::Failed { read, error };
                return pass;
            }
        };
        total += records.len();
        let done = end == from || (snapshot && end.is_none());
        pass.batches.push(records);
        pass.offsets.push(end);
        if total > limits.max_records {
            pass.end = End::TooManyRecords;
            return pass;
        }
        if done {
            pass.end = End::Converged;
            return pass;
        }
    }
    pass
}

/// One read, collecting at most `room` records (a stream that never ends must not hang the
/// suite).
pub(crate) fn read_once(
    connector: &dyn LakeflowConnect,
    table: &str,
    feed: Feed,
    start: Option<&Offset>,
    options: &TableOptions,
    room: usize,
) -> Result<(Vec<Record>, Option<Offset>), String> {
    let output = match feed {
        Feed::Records => connector.read_table(table, start, options),
        Feed::Deletes => connector.read_table_deletes(table, start, options),
    }
    .map_err(|e| e.to_string())?;
    let mut records = Vec::new();
    for item in output.records.take(room) {
        records.push(item.map_err(|e| e.to_string())?);
    }
    Ok((records, output.end_offset))
}

/// A record's identity for comparisons: compact JSON with object keys sorted at every depth,
/// whatever order the connector built them in.
pub(crate) fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (i, (key, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
}

/// The canonical form of a record.
pub(crate) fn canonical_record(record: &Record) -> String {
    canonical(&Value::Object(record.clone()))
}

/// A value's canonical JSON cut to a readable length, for evidence.
pub(crate) fn short(value: &Value) -> String {
    const MAX: usize = 160;
    let text = canonical(value);
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// The value at a dot-separated path of a JSON record (`commit.committer.date`); `None` when a
/// step is missing or not an object.
pub(crate) fn value_at<'a>(record: &'a Record, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = record.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// The values of `paths` in `record`, as one canonical key (missing values are null).
pub(crate) fn key_of(record: &Record, paths: &[String]) -> String {
    let values: Vec<Value> = paths
        .iter()
        .map(|p| value_at(record, p).cloned().unwrap_or(Value::Null))
        .collect();
    canonical(&Value::Array(values))
}

/// Counts of canonical records.
pub(crate) fn multiset<'a>(records: impl Iterator<Item = &'a Record>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for record in records {
        *counts.entry(canonical_record(record)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_ignores_key_order_and_paths_descend() {
        let a = json!({"b": 1, "a": {"y": [1, {"q": 2, "p": 1}], "x": null}});
        let b = json!({"a": {"x": null, "y": [1, {"p": 1, "q": 2}]}, "b": 1});
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            canonical(&a),
            r#"{"a":{"x":null,"y":[1,{"p":1,"q":2}]},"b":1}"#
        );
        let record = a.as_object().unwrap().clone();
        assert_eq!(
            value_at(&record, "a.y"),
            Some(&json!([1, {"q": 2, "p": 1}]))
        );
        assert_eq!(value_at(&record, "a.x.z"), None);
        assert_eq!(key_of(&record, &["b".into(), "a.x".into()]), "[1,null]");
    }
}
