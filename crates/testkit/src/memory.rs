//! `memory`: a small in-memory source with every optional capability (partitioned reads,
//! partitioned streams, namespaces) on tables of generated rows. The Spark data source's tests
//! register it (the bindings' `test-sources` feature) to drive those code paths through Spark;
//! release wheels leave it out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, Error, IngestionType, LakeflowConnect,
    MAX_RECORDS_PER_BATCH, Namespaces, Offset, OptionSpec, Partition, PartitionedRead,
    PartitionedStream, ReadOutput, Record, RecordStream, Result, TableMetadata, TableOptions,
    parse_option, positive_option,
};
use serde_json::{Value, json};

/// The registry entry.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "memory",
    description: "In-memory rows with partitioned reads and streams and namespaces (tests only).",
    connection_options: &[
        OptionSpec::optional("rows", "Rows in each table (default 1000)."),
        OptionSpec::optional(
            "drift",
            "`true`: read offsets carry a stamp of the connector's construction, so they differ \
             between constructions (a connector whose offsets are not reproducible).",
        ),
    ],
    table_options: &[
        OptionSpec::optional(
            MAX_RECORDS_PER_BATCH,
            "Most rows one read returns (default 100).",
        ),
        OptionSpec::optional("partition_rows", "Rows per partition (default 250).")
            .for_tables(&["items"]),
    ],
    auth: &[],
    constructor: |options| Ok(Box::new(Memory::new(options)?)),
    simulator: None,
};

/// `items` has every capability; `notes` has none, so readers fall back to plain reads.
const TABLES: [&str; 2] = ["items", "notes"];

/// Constructions so far, for the `drift` stamp.
static BUILDS: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
struct Memory {
    rows: u64,
    /// With `drift`: this construction's number, written into every read's end offset.
    build: Option<u64>,
}

impl Memory {
    fn new(options: &ConnectionOptions) -> Result<Self> {
        let drift = parse_option(options.get("drift"), "drift", false)?;
        Ok(Self {
            rows: parse_option(options.get("rows"), "rows", 1000)?,
            build: drift.then(|| BUILDS.fetch_add(1, Ordering::Relaxed)),
        })
    }

    fn check(table: &str) -> Result<()> {
        if TABLES.contains(&table) {
            Ok(())
        } else {
            Err(Error::unknown_table(table, &TABLES))
        }
    }

    fn record(table: &str, id: u64) -> Record {
        let value = match table {
            "items" => json!({
                "id": id,
                "name": format!("item-{id}"),
                "tags": (0..id % 3).map(|t| format!("t{t}")).collect::<Vec<_>>(),
                "created_at": 1_735_689_600 + id,
            }),
            _ => json!({"id": id, "body": format!("note {id}"), "version": id}),
        };
        match value {
            Value::Object(record) => record,
            _ => unreachable!("json! of an object literal is an object"),
        }
    }

    fn range(&self, table: &str, from: u64, to: u64) -> RecordStream<'static> {
        let table = table.to_owned();
        Box::new((from..to.min(self.rows)).map(move |id| Ok(Self::record(&table, id))))
    }

    fn index(table: &str, offset: Option<&Offset>, key: &str) -> Result<u64> {
        match offset {
            None => Ok(0),
            Some(o) => o.get(key).and_then(Value::as_u64).ok_or_else(|| {
                Error::invalid_offset(table, format!("expected a non-negative integer `{key}`"))
            }),
        }
    }

    fn partition_rows(options: &TableOptions) -> Result<u64> {
        positive_option(options, "partition_rows", 250)
    }

    fn ranges(from: u64, to: u64, size: u64) -> Vec<Partition> {
        (from..to)
            .step_by(usize::try_from(size).unwrap_or(usize::MAX))
            .map(|start| {
                let mut p = Partition::new();
                p.insert("from".into(), start.into());
                p.insert("to".into(), (start + size).min(to).into());
                p
            })
            .collect()
    }

    fn bounds(table: &str, partition: &Partition) -> Result<(u64, u64)> {
        let from = Self::index(table, Some(partition), "from")?;
        let to = Self::index(table, Some(partition), "to")?;
        Ok((from, to))
    }
}

impl LakeflowConnect for Memory {
    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(TABLES.map(str::to_owned).to_vec())
    }

    fn get_table_schema(&self, table: &str, _options: &TableOptions) -> Result<SchemaRef> {
        Self::check(table)?;
        let fields = if table == "items" {
            vec![
                Field::new("id", DataType::Int64, false),
                Field::new("name", DataType::Utf8, true),
                Field::new(
                    "tags",
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                    true,
                ),
                Field::new(
                    "created_at",
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    true,
                ),
            ]
        } else {
            vec![
                Field::new("id", DataType::Int64, false),
                Field::new("body", DataType::Utf8, true),
                Field::new("version", DataType::Int64, false),
            ]
        };
        Ok(Arc::new(Schema::new(fields)))
    }

    fn read_table_metadata(&self, table: &str, _options: &TableOptions) -> Result<TableMetadata> {
        Self::check(table)?;
        Ok(if table == "items" {
            TableMetadata::new(IngestionType::Append, &[], Some("id"))
        } else {
            TableMetadata::new(IngestionType::Cdc, &["id"], Some("version"))
        })
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        Self::check(table)?;
        let from = Self::index(table, start, "index")?;
        let limit = positive_option(options, MAX_RECORDS_PER_BATCH, 100)?;
        let to = (from + limit).min(self.rows).max(from);
        let mut end = Offset::new();
        end.insert("index".into(), to.into());
        if let Some(build) = self.build {
            end.insert("build".into(), build.into());
        }
        Ok(ReadOutput::streaming(
            self.range(table, from, to),
            Some(end),
        ))
    }

    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        Some(self)
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        Some(self)
    }

    fn namespaces(&self) -> Option<&dyn Namespaces> {
        Some(self)
    }
}

impl PartitionedRead for Memory {
    fn get_partitions(&self, table: &str, options: &TableOptions) -> Result<Vec<Partition>> {
        Self::check(table)?;
        if table != "items" {
            return Err(Error::not_supported(table, "get_partitions"));
        }
        Ok(Self::ranges(0, self.rows, Self::partition_rows(options)?))
    }

    fn read_partition(
        &self,
        table: &str,
        partition: &Partition,
        _options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let (from, to) = Self::bounds(table, partition)?;
        Ok(self.range(table, from, to))
    }
}

impl PartitionedStream for Memory {
    fn latest_offset(&self, table: &str, _options: &TableOptions) -> Result<Offset> {
        Self::check(table)?;
        if table != "items" {
            return Err(Error::not_supported(table, "latest_offset"));
        }
        let mut offset = Offset::new();
        offset.insert("index".into(), self.rows.into());
        Ok(offset)
    }

    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        options: &TableOptions,
    ) -> Result<Vec<Partition>> {
        let from = Self::index(table, start, "index")?;
        let to = Self::index(table, Some(end), "index")?;
        Ok(Self::ranges(from, to, Self::partition_rows(options)?))
    }

    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        // A stream's partitions are ranges of rows, as a read's are.
        self.read_partition(table, partition, options)
    }
}

impl Namespaces for Memory {
    fn list_namespaces(&self, parent: &[String]) -> Result<Vec<Vec<String>>> {
        let children: &[&str] = match parent {
            [] => &["warehouse", "shop"],
            [shop] if shop == "shop" => &["us", "eu"],
            _ => &[],
        };
        Ok(children
            .iter()
            .map(|child| {
                let mut path = parent.to_vec();
                path.push((*child).to_owned());
                path
            })
            .collect())
    }

    fn list_tables_in(&self, namespace: &[String]) -> Result<Vec<String>> {
        Ok(match namespace {
            [] => TABLES.iter().rev().map(|t| (*t).to_owned()).collect(),
            [shop, _] if shop == "shop" => vec!["items".to_owned()],
            _ => Vec::new(),
        })
    }
}
