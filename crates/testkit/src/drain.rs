//! Reading a table to the end the way a pipeline does, for connectors' own tests: batch after
//! batch from the returned offsets (stored as JSON text in between, by [`drain`]; kept batch by
//! batch, by [`run`]), until the offset stops moving.

use lakeflow_connect::{LakeflowConnect, Offset, Record, Result, TableOptions};
use serde_json::Value;

pub use crate::pass::Feed;

/// One batch of `table`'s `feed` from `start`.
///
/// # Errors
/// The connector's.
pub fn batch(
    connector: &dyn LakeflowConnect,
    table: &str,
    feed: Feed,
    start: Option<&Offset>,
    options: &TableOptions,
) -> Result<(Vec<Record>, Option<Offset>)> {
    match feed {
        Feed::Records => connector.read_table(table, start, options)?.collect(),
        Feed::Deletes => connector
            .read_table_deletes(table, start, options)?
            .collect(),
    }
}

/// Reads `table`'s `feed` from `start` until the offset stops moving: every record, and every
/// offset on the way (each through JSON text, as a pipeline stores it).
///
/// # Panics
/// On a read error, or when 500 batches do not catch up.
pub fn drain(
    connector: &dyn LakeflowConnect,
    table: &str,
    feed: Feed,
    start: Option<Offset>,
    options: &TableOptions,
) -> (Vec<Record>, Vec<Offset>) {
    let (mut records, mut offsets, mut at) = (Vec::new(), Vec::new(), start);
    for _ in 0..500 {
        let (batch, end) = batch(connector, table, feed, at.as_ref(), options)
            .unwrap_or_else(|e| panic!("`{table}` {}: {e}", feed.method()));
        records.extend(batch);
        if end == at {
            return (records, offsets);
        }
        let end = end.map(|offset| {
            let text = serde_json::to_string(&offset).expect("offsets are JSON");
            serde_json::from_str(&text).expect("offsets read back")
        });
        offsets.extend(end.clone());
        at = end;
    }
    panic!("`{table}` {} never caught up in 500 batches", feed.method());
}

/// Every batch of a read from a start until the offset stops moving (see [`run`]).
#[derive(Debug)]
pub struct Run {
    /// The records of each batch, in order.
    pub batches: Vec<Vec<Record>>,
    /// The start, then the offset each batch returned: `offsets[i + 1]` ends `batches[i]`.
    pub offsets: Vec<Option<Offset>>,
}

impl Run {
    /// Every record, in delivery order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.batches.iter().flatten()
    }

    /// The last offset returned.
    pub fn end(&self) -> Option<&Offset> {
        self.offsets.last().and_then(Option::as_ref)
    }

    /// The values at a top-level field (null where absent), in delivery order.
    pub fn values(&self, field: &str) -> Vec<Value> {
        self.records()
            .map(|r| r.get(field).cloned().unwrap_or(Value::Null))
            .collect()
    }
}

/// Reads `table`'s `feed` from `start`, batch after batch, until a batch returns its start or no
/// offset: every batch and offset, as returned.
///
/// # Panics
/// On a read error, or when 2000 batches do not catch up.
pub fn run(
    connector: &dyn LakeflowConnect,
    table: &str,
    feed: Feed,
    start: Option<Offset>,
    options: &TableOptions,
) -> Run {
    let mut offsets = vec![start];
    let mut batches = Vec::new();
    for _ in 0..2_000 {
        let start = offsets.last().cloned().flatten();
        let (records, end) = batch(connector, table, feed, start.as_ref(), options)
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        batches.push(records);
        let done = end == start || end.is_none();
        offsets.push(end);
        if done {
            return Run { batches, offsets };
        }
    }
    panic!("{table}: no end in sight after 2000 reads");
}
