//! The `memory` connector's `LakeflowConnect` methods: tables, schemas, metadata and reads, with
//! the flaws that change what they answer.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use lakeflow_connect::arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::{
    Error, IngestionType, LakeflowConnect, Offset, PartitionedRead, PartitionedStream, ReadOutput,
    Result, TableMetadata, TableOptions,
};
use serde_json::Value;

use super::connector::{Memory, TABLES, Table};
use super::{DESCRIPTOR, Flaw, lock};

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

impl LakeflowConnect for Memory {
    fn list_tables(&self) -> Result<Vec<String>> {
        let mut tables = TABLES.map(str::to_owned).to_vec();
        if self.flaw == Flaw::DuplicateTable {
            tables.push(TABLES[0].to_owned());
        }
        Ok(tables)
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        let parsed = self.table(table)?;
        DESCRIPTOR.check_table_options(table, options.keys().map(String::as_str))?;
        let fields = match parsed {
            Table::Tickets => {
                let second = if self.flaw == Flaw::DuplicateField {
                    "name"
                } else {
                    "email"
                };
                let requester = Fields::from(vec![
                    Field::new("name", DataType::Utf8, true),
                    Field::new(second, DataType::Utf8, true),
                ]);
                vec![
                    Field::new("id", DataType::Int64, false),
                    Field::new("subject", DataType::Utf8, true),
                    Field::new("requester", DataType::Struct(requester), true),
                    Field::new("updated_at", timestamp(), false),
                ]
            }
            Table::AuditLog => vec![
                Field::new("seq", DataType::Int64, false),
                Field::new("action", DataType::Utf8, true),
                Field::new("at", timestamp(), false),
            ],
            Table::Agents if self.flaw == Flaw::PanicsInSchema => {
                panic!("the schema registry of agents is unreachable")
            }
            Table::Agents => vec![
                // Declared nullable by the flaws that send a record without it.
                Field::new(
                    "agent_id",
                    DataType::Int64,
                    matches!(self.flaw, Flaw::NullKey | Flaw::AllNullRecord),
                ),
                Field::new("name", DataType::Utf8, true),
                Field::new("active", DataType::Boolean, true),
            ],
        };
        Ok(Arc::new(Schema::new(fields)))
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        let parsed = self.table(table)?;
        DESCRIPTOR.check_table_options(table, options.keys().map(String::as_str))?;
        Ok(match parsed {
            Table::Tickets => {
                TableMetadata::new(IngestionType::CdcWithDeletes, &["id"], Some("updated_at"))
            }
            Table::AuditLog => TableMetadata::new(IngestionType::Append, &[], Some("at")),
            Table::Agents => {
                let call = self.metadata_calls.fetch_add(1, Ordering::SeqCst);
                match self.flaw {
                    Flaw::UnstableMetadata if call % 2 == 1 => {
                        TableMetadata::snapshot(&["agent_id", "name"])
                    }
                    Flaw::KeyNotInSchema => TableMetadata::snapshot(&["id"]),
                    _ => TableMetadata::snapshot(&["agent_id"]),
                }
            }
        })
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let parsed = self.table(table)?;
        let max = Self::max_records(table, options)?;
        let (records, end) = match parsed {
            Table::Tickets => self.read_keyed(table, self.rows(parsed), start, max, true)?,
            Table::AuditLog => {
                let (records, end) = self.read_log(start, max)?;
                (
                    records
                        .into_iter()
                        .map(|r| self.present(parsed, r))
                        .collect(),
                    end,
                )
            }
            Table::Agents => {
                self.call(table)?;
                let mut rows = self.rows(parsed);
                let read = self.snapshot_reads.fetch_add(1, Ordering::SeqCst);
                if self.flaw == Flaw::UnstableSnapshot && read % 2 == 1 {
                    rows.pop();
                }
                (rows, None)
            }
        };
        Ok(ReadOutput::from_records(records, end))
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        if self.table(table)? != Table::Tickets || self.flaw == Flaw::DeletesNotSupported {
            return Err(Error::not_supported(table, "read_table_deletes"));
        }
        let max = Self::max_records(table, options)?;
        let tombstones = lock(&self.store).tombstones.clone();
        let (mut records, end) = self.read_keyed(table, tombstones, start, max, false)?;
        if self.flaw == Flaw::TombstoneWithoutKey {
            // After the read, so that the offset still carries the key.
            for record in &mut records {
                if record.get("id").and_then(Value::as_i64) == Some(900) {
                    record.remove("id");
                }
            }
        }
        Ok(ReadOutput::from_records(records, end))
    }

    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        Some(self)
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        Some(self)
    }
}
