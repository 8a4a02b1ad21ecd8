//! A connector whose feeds are fixed lists given by the test, served in the given order (not
//! sorted by the cursor: that is how out-of-order arrival is simulated), with offsets
//! `{"pos": n}` (the position in the list) and `max_records_per_batch` honoured.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, Error, IngestionType, LakeflowConnect,
    MAX_RECORDS_PER_BATCH, Offset, OptionSpec, Partition, PartitionedStream, ReadOutput, Record,
    RecordStream, Result, TableMetadata, TableOptions, positive_option,
};
use lakeflow_pipeline::{RunOptions, TableSummary, Warehouse};
use lakeflow_spec::PipelineSpec;
use serde_json::{Value, json};

use super::common::json_lines;

/// Only validates table options: tests pass the connector itself to the engine.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "scripted",
    description: "Feeds scripted by the test.",
    connection_options: &[],
    table_options: &[OptionSpec::optional(
        MAX_RECORDS_PER_BATCH,
        "Most records one read returns (default: all).",
    )],
    auth: &[],
    constructor: not_constructible,
    simulator: None,
};

fn not_constructible(_: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    panic!("the scripted connector is built by the test, not from options")
}

/// `id` Int64 (key), `seq` Int64 (cursor), `value` Utf8, `meta` struct `{tag: Utf8, n: Int64}`.
pub static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let meta = Fields::from(vec![
        Field::new("tag", DataType::Utf8, true),
        Field::new("n", DataType::Int64, true),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("seq", DataType::Int64, true),
        Field::new("value", DataType::Utf8, true),
        Field::new("meta", DataType::Struct(meta), true),
    ]))
});

/// One table: its metadata and its two feeds.
#[derive(Debug, Clone)]
pub struct Script {
    pub metadata: TableMetadata,
    pub upserts: Vec<Record>,
    pub deletes: Vec<Record>,
}

impl Script {
    /// A table keyed by `id`, ordered by `seq`.
    pub fn new(ingestion_type: IngestionType) -> Self {
        Self {
            metadata: TableMetadata::new(ingestion_type, &["id"], Some("seq")),
            upserts: Vec::new(),
            deletes: Vec::new(),
        }
    }
}

/// Serves the scripted tables.
#[derive(Debug, Clone, Default)]
pub struct ScriptedConnector {
    pub tables: BTreeMap<String, Script>,
    /// With `Some(n)`, a partitioned stream over the upserts: `n` contiguous ranges of
    /// positions between two offsets.
    pub stream_partitions: Option<usize>,
    /// Reading the partition that starts at this position fails.
    pub failing_partition: Option<usize>,
    /// Partitions read so far (shared by clones).
    pub partitions_read: Arc<AtomicUsize>,
    /// Every read and latest offset fails as a source that rejects the credentials would.
    pub rejecting_credentials: bool,
}

impl ScriptedConnector {
    pub fn with(mut self, table: &str, script: Script) -> Self {
        self.tables.insert(table.to_owned(), script);
        self
    }

    fn check_credentials(&self) -> Result<()> {
        if self.rejecting_credentials {
            return Err(Error::Auth {
                message: "401 Bad credentials".to_owned(),
            });
        }
        Ok(())
    }

    fn script(&self, table: &str) -> Result<&Script> {
        self.tables.get(table).ok_or_else(|| {
            let names: Vec<&str> = self.tables.keys().map(String::as_str).collect();
            Error::unknown_table(table, &names)
        })
    }
}

/// Serves `list[pos..pos + max]`; an exhausted list returns `start` unchanged.
fn serve<'a>(
    table: &str,
    list: &[Record],
    start: Option<&Offset>,
    options: &TableOptions,
) -> Result<ReadOutput<'a>> {
    let max = positive_option(options, MAX_RECORDS_PER_BATCH, u64::MAX)?;
    let pos = match start {
        None => 0,
        Some(offset) => offset
            .get("pos")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::invalid_offset(table, format!("no `pos` in {offset:?}")))?,
    };
    let pos = usize::try_from(pos).unwrap();
    assert!(
        pos <= list.len(),
        "offset {pos} beyond the {} records of {table}",
        list.len()
    );
    let end = pos
        .saturating_add(usize::try_from(max).unwrap_or(usize::MAX))
        .min(list.len());
    if end == pos {
        return Ok(ReadOutput::caught_up(start.cloned()));
    }
    Ok(ReadOutput::from_records(
        list[pos..end].to_vec(),
        Some(offset(end)),
    ))
}

/// The offset `{"pos": n}`.
pub fn offset(pos: usize) -> Offset {
    let Value::Object(o) = json!({ "pos": pos }) else {
        unreachable!()
    };
    o
}

/// The position an offset names (`None`: 0).
fn position(table: &str, offset: Option<&Offset>) -> Result<usize> {
    let Some(offset) = offset else { return Ok(0) };
    offset
        .get("pos")
        .and_then(Value::as_u64)
        .and_then(|p| usize::try_from(p).ok())
        .ok_or_else(|| Error::invalid_offset(table, format!("no `pos` in {offset:?}")))
}

impl PartitionedStream for ScriptedConnector {
    fn latest_offset(&self, table: &str, _options: &TableOptions) -> Result<Offset> {
        self.check_credentials()?;
        Ok(offset(self.script(table)?.upserts.len()))
    }

    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        _options: &TableOptions,
    ) -> Result<Vec<Partition>> {
        let (from, to) = (position(table, start)?, position(table, Some(end))?);
        let n = self.stream_partitions.unwrap_or(1).max(1);
        let width = (to.saturating_sub(from)).div_ceil(n).max(1);
        Ok((from..to)
            .step_by(width)
            .map(|a| record(json!({"from": a, "to": (a + width).min(to)})))
            .collect())
    }

    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        _options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let bound = |name: &str| {
            partition[name]
                .as_u64()
                .and_then(|p| usize::try_from(p).ok())
                .unwrap()
        };
        let (from, to) = (bound("from"), bound("to"));
        if self.failing_partition == Some(from) {
            return Err(Error::Transport {
                status: Some(503),
                message: format!("{table}: partition {from}..{to} failed"),
                retriable: false,
            });
        }
        self.partitions_read.fetch_add(1, Ordering::SeqCst);
        let records = self.script(table)?.upserts[from..to].to_vec();
        Ok(Box::new(records.into_iter().map(Ok)))
    }
}

impl LakeflowConnect for ScriptedConnector {
    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        self.stream_partitions
            .map(|_| self as &dyn PartitionedStream)
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(self.tables.keys().cloned().collect())
    }

    fn get_table_schema(&self, table: &str, _options: &TableOptions) -> Result<SchemaRef> {
        self.script(table)?;
        Ok(SCHEMA.clone())
    }

    fn read_table_metadata(&self, table: &str, _options: &TableOptions) -> Result<TableMetadata> {
        Ok(self.script(table)?.metadata.clone())
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.check_credentials()?;
        serve(table, &self.script(table)?.upserts, start, options)
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let script = self.script(table)?;
        if script.metadata.ingestion_type != IngestionType::CdcWithDeletes {
            return Err(Error::not_supported(table, "read_table_deletes"));
        }
        serve(table, &script.deletes, start, options)
    }
}

/// A JSON object as a record.
pub fn record(value: Value) -> Record {
    match value {
        Value::Object(o) => o,
        other => panic!("not an object: {other}"),
    }
}

/// Plans `yaml` against `connector` (panicking on plan errors) and runs it into `warehouse`.
pub fn run_scripted(
    rt: &tokio::runtime::Runtime,
    yaml: &str,
    connector: &ScriptedConnector,
    warehouse: &Warehouse,
    options: &RunOptions,
) -> Vec<TableSummary> {
    let spec = PipelineSpec::parse(yaml, "test.yaml").unwrap();
    let plans = lakeflow_pipeline::plan(&spec, connector, &DESCRIPTOR, warehouse).unwrap();
    rt.block_on(lakeflow_pipeline::run(
        plans,
        Arc::new(connector.clone()),
        options,
        Arc::new(lakeflow_pipeline::NoProgress),
    ))
}

/// Rows of a query as JSON objects, null fields removed (at any depth), in query order.
pub fn query_rows(rt: &tokio::runtime::Runtime, warehouse: &Warehouse, sql: &str) -> Vec<Value> {
    json_lines(rt, warehouse, sql)
        .iter()
        .map(|line| strip_nulls(serde_json::from_str(line).unwrap()))
        .collect()
}

/// Removes null members of objects, recursively, so model rows and query rows compare equal
/// however the JSON writer prints nulls.
pub fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Runs `yaml` once per entry of `runs` (the connector serving `script_for(served)` each time,
/// so its feeds grow between runs), then once more with nothing new, which must read and commit
/// nothing. Fails the property on any failed run.
pub fn land_runs(
    rt: &tokio::runtime::Runtime,
    yaml: &str,
    warehouse: &Warehouse,
    options: &RunOptions,
    runs: &[usize],
    total: usize,
    script_for: impl Fn(usize) -> Script,
) -> Result<(), proptest::test_runner::TestCaseError> {
    land_runs_with(runs, total, |served| {
        let connector = ScriptedConnector::default().with("items", script_for(served));
        run_scripted(rt, yaml, &connector, warehouse, options)
    })
}

/// [`land_runs`] with each run made by `run_served` (given how many changes the source serves):
/// every run succeeds, and the last, with nothing new, reads and commits nothing.
pub fn land_runs_with(
    runs: &[usize],
    total: usize,
    run_served: impl Fn(usize) -> Vec<TableSummary>,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let mut runs = runs.to_vec();
    runs.push(total);
    for (i, &served) in runs.iter().enumerate() {
        let summaries = run_served(served);
        proptest::prop_assert_eq!(summaries.len(), 1);
        let summary = &summaries[0];
        proptest::prop_assert!(!summary.failed(), "run {}: {:?}", i, summary);
        if i == runs.len() - 1 {
            proptest::prop_assert!(
                summary.commits == 0 && summary.records_read == 0,
                "a run with nothing new reads and commits nothing: {:?}",
                summary
            );
        }
    }
    Ok(())
}
