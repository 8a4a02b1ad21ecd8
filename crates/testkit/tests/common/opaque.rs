//! [`OpaqueDeletes`]: the `memory` connector with deletes offsets that hold no timestamp-like
//! value, as a source whose deletes feed pages with opaque tokens would have. Check 10 cannot
//! move such an offset past now, so it leaves the deletes feed unchecked.

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    Error, LakeflowConnect, Offset, PartitionedRead, PartitionedStream, ReadOutput, Result,
    TableMetadata, TableOptions,
};
use serde_json::{Value, json};

use super::Memory;

/// Delegates to the wrapped connector; only deletes offsets change shape:
/// `{"cursor": C, "after_id": N}` is `{"token": "idN@C"}` outside.
#[derive(Debug)]
pub struct OpaqueDeletes(pub Memory);

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

impl LakeflowConnect for OpaqueDeletes {
    fn list_tables(&self) -> Result<Vec<String>> {
        self.0.list_tables()
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        self.0.get_table_schema(table, options)
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        self.0.read_table_metadata(table, options)
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.0.read_table(table, start, options)
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        // The table first: an unknown table is reported before anything about the offset.
        self.0.table(table)?;
        let inner = start.map(|o| decode(table, o)).transpose()?;
        let output = self.0.read_table_deletes(table, inner.as_ref(), options)?;
        Ok(ReadOutput {
            records: output.records,
            end_offset: output.end_offset.as_ref().map(encode),
        })
    }

    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        self.0.partitioned_reads()
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        self.0.partitioned_streams()
    }
}
