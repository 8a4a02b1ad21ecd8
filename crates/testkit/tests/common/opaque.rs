//! [`OpaqueDeletes`]: the `memory` connector with deletes offsets that hold no timestamp-like
//! value, as a source whose deletes feed pages with opaque tokens would have. Check 10 cannot
//! move such an offset past now, so it leaves the deletes feed unchecked.

use lakeflow_connect::{Error, LakeflowConnect, Offset, ReadOutput, Result, TableOptions};
use lakeflow_testkit::{Intercept, Wrapped};
use serde_json::{Value, json};

use super::Memory;

/// Around a `memory` connector, only deletes offsets change shape:
/// `{"cursor": C, "after_id": N}` is `{"token": "idN@C"}` outside.
#[derive(Debug)]
pub struct OpaqueDeletes;

fn encode(offset: &Offset) -> Offset {
    let cursor = offset
        .get("cursor")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = offset
        .get("after_id")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let token = json!({"token": format!("id{id}@{cursor}")});
    token.as_object().cloned().unwrap_or_default()
}

fn decode(table: &str, offset: &Offset) -> Result<Offset> {
    let invalid = || Error::invalid_offset(table, "not a deletes token");
    let token = offset
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    let (id, cursor) = token
        .strip_prefix("id")
        .and_then(|rest| rest.split_once('@'))
        .ok_or_else(invalid)?;
    let id: i64 = id.parse().map_err(|_| invalid())?;
    let inner = json!({"cursor": cursor, "after_id": id});
    Ok(inner.as_object().cloned().unwrap_or_default())
}

impl Intercept<Memory> for OpaqueDeletes {
    fn read_table_deletes<'a>(
        &'a self,
        inner: &'a Memory,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'a>> {
        // The table first: an unknown table is reported before anything about the offset.
        inner.table(table)?;
        let inner_start = start.map(|o| decode(table, o)).transpose()?;
        let output = inner.read_table_deletes(table, inner_start.as_ref(), options)?;
        Ok(ReadOutput {
            records: output.records,
            end_offset: output.end_offset.as_ref().map(encode),
        })
    }
}

/// A `memory` connector with opaque deletes offsets.
pub fn with_opaque_deletes(memory: Memory) -> Wrapped<Memory, OpaqueDeletes> {
    Wrapped::new(memory, OpaqueDeletes)
}
