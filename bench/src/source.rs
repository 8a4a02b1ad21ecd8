//! A synthetic source sized by options: `rows` records of an append table `events` and a cdc
//! table `items`, plus `changes` updated items re-emitted after them (newer sequence values),
//! and a snapshot table `catalog` of `rows` keys in which `changes` of them (spread over the key
//! range) have the changed values.
//! Records are JSON objects shaped like a real API's (strings, numbers, timestamps as RFC 3339
//! text, a nested object), so conversion is part of what is measured.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, Error, IngestionType, LakeflowConnect,
    MAX_RECORDS_PER_BATCH, Offset, OptionSpec, ReadOutput, Record, Result, TableMetadata,
    TableOptions, parse_option, positive_option,
};
use serde_json::{Value, json};

const TABLES: &[&str] = &["events", "items", "catalog"];

pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "synthetic",
    description: "Generated records for benchmarks",
    connection_options: &[
        OptionSpec::optional("rows", "records per table"),
        OptionSpec::optional("changes", "updated items after the first `rows`"),
    ],
    table_options: &[OptionSpec::optional(
        MAX_RECORDS_PER_BATCH,
        "records per read",
    )],
    auth: &[],
    constructor: |options| Ok(Box::new(Synthetic::new(options)?)),
    simulator: None,
};

#[derive(Debug)]
pub struct Synthetic {
    rows: u64,
    changes: u64,
}

impl Synthetic {
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        Ok(Self {
            rows: parse_option(options.get("rows"), "rows", 1_000_000)?,
            changes: parse_option(options.get("changes"), "changes", 0)?,
        })
    }

    fn schema(table: &str) -> SchemaRef {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let mut fields = vec![
            Field::new("id", DataType::Int64, false),
            Field::new("seq", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("email", DataType::Utf8, true),
            Field::new("status", DataType::Utf8, true),
            Field::new("amount", DataType::Float64, true),
            Field::new("active", DataType::Boolean, true),
            Field::new("created_at", ts.clone(), true),
            Field::new(
                "address",
                DataType::Struct(Fields::from(vec![
                    Field::new("city", DataType::Utf8, true),
                    Field::new("zip", DataType::Utf8, true),
                ])),
                true,
            ),
        ];
        if table == "events" {
            fields.push(Field::new("payload", DataType::Utf8, true));
        }
        Arc::new(Schema::new(fields))
    }

    /// Record number `n` (0-based): the first `rows` are inserts, the next `changes` update
    /// items spread over the key range. In `catalog`, record `n` is key `n`, changed when it
    /// is one of `changes` evenly spaced keys.
    fn record(&self, table: &str, n: u64) -> Record {
        let (id, version) = if table == "catalog" {
            let step = (self.rows / self.changes.max(1)).max(1);
            let changed = self.changes > 0 && n.is_multiple_of(step) && n / step < self.changes;
            (n, u64::from(changed))
        } else if n < self.rows {
            (n, 0)
        } else {
            let k = n - self.rows;
            ((k * 7919) % self.rows.max(1), 1)
        };
        let statuses = ["new", "active", "paused", "closed"];
        let Value::Object(mut record) = json!({
            "id": id,
            "seq": n,
            "name": format!("name {id} v{version}"),
            "email": format!("user{id}@example.com"),
            "status": statuses[usize::try_from((id + version) % 4).unwrap_or(0)],
            "amount": (id % 10_000) as f64 / 100.0 + f64::from(u8::try_from(version).unwrap_or(0)),
            "active": id % 3 != 0,
            "created_at": format!("2025-01-{:02}T{:02}:{:02}:{:02}Z", 1 + id % 28, id % 24, id % 60, (id / 60) % 60),
            "address": {"city": format!("City {}", id % 500), "zip": format!("{:05}", id % 99_999)},
        }) else {
            unreachable!("a JSON object")
        };
        if table == "events" {
            record.insert("payload".into(), json!("x".repeat(64)));
        }
        record
    }

    fn check(table: &str) -> Result<()> {
        if TABLES.contains(&table) {
            Ok(())
        } else {
            Err(Error::unknown_table(table, TABLES))
        }
    }
}

impl LakeflowConnect for Synthetic {
    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(TABLES.iter().map(|t| (*t).to_owned()).collect())
    }

    fn get_table_schema(&self, table: &str, _options: &TableOptions) -> Result<SchemaRef> {
        Self::check(table)?;
        Ok(Self::schema(table))
    }

    fn read_table_metadata(&self, table: &str, _options: &TableOptions) -> Result<TableMetadata> {
        Self::check(table)?;
        Ok(if table == "events" {
            TableMetadata::new(IngestionType::Append, &[], Some("seq"))
        } else if table == "catalog" {
            TableMetadata::snapshot(&["id"])
        } else {
            TableMetadata::new(IngestionType::Cdc, &["id"], Some("seq"))
        })
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        Self::check(table)?;
        let batch = positive_option(options, MAX_RECORDS_PER_BATCH, 50_000)?;
        let total = if table == "events" || table == "catalog" {
            self.rows
        } else {
            self.rows + self.changes
        };
        let from = start
            .and_then(|o| o.get("pos"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let to = (from + batch).min(total);
        let table = table.to_owned();
        let mut end = Offset::new();
        end.insert("pos".into(), json!(to));
        let records = (from..to).map(move |n| Ok(self.record(&table, n)));
        Ok(ReadOutput::streaming(records, Some(end)))
    }
}
