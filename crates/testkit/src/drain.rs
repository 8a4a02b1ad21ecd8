//! Reading a table to the end the way a pipeline does, for connectors' own tests: batch after
//! batch from the returned offsets (stored as JSON text in between), until the offset stops
//! moving.

use lakeflow_connect::{LakeflowConnect, Offset, Record, Result, TableOptions};

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
