//! One data source read: the options, the connector built from them, and every operation the
//! PySpark readers need, in plain Rust (the Python layer only moves batches and offsets).

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, OnceLock};
use std::thread;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use lakeflow_connect::{
    Error, LakeflowConnect, Offset, Partition, ReadOutput, Record, RecordStream, Result,
};
use lakeflow_records::Converter;

use crate::options::{IS_DELETE_FLOW, SparkOptions};
use crate::spark::{spark_schema, to_spark};
use crate::virtual_tables::Virtual;

/// Most rows per Arrow batch handed to Spark (Spark's own Arrow batches hold up to 10 000).
pub const BATCH_ROWS: usize = 8192;

/// Converted batches waiting for the consumer, per running read: the producer thread stays at
/// most this far ahead, so memory is bounded by batch size, not table size.
const PREFETCH_BATCHES: usize = 2;

/// Connector reads per micro-batch of the simple stream reader ([`Session::stream_read`]): what
/// replaying one micro-batch may take at most ([`Session::stream_read_between`]).
pub const MICRO_BATCH_READS: usize = 1;

/// What a read is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A source table.
    Table(String),
    /// A virtual table.
    Virtual(Virtual),
}

/// A connector built from data source options, ready to read one table.
pub struct Session {
    options: SparkOptions,
    connector: Arc<dyn LakeflowConnect>,
    target: Target,
    shape: OnceLock<Shape>,
}

/// How records of the table become Spark batches.
struct Shape {
    converter: Converter,
    spark: SchemaRef,
}

/// One unit of batch-producing work, run on a reader thread.
#[derive(Debug, Clone)]
pub enum Job {
    /// The whole table (or deletes feed), read until caught up; or a virtual table.
    Full,
    /// One partition of a partitioned batch read.
    Partition(Partition),
    /// One partition of a partitioned stream.
    StreamPartition(Partition),
}

impl Session {
    /// Parses `options`, checks them against the connector's declarations, and builds the
    /// connector.
    ///
    /// # Errors
    /// Anything wrong with the options (see [`SparkOptions::parse`]), `tableName` missing or
    /// naming an unknown virtual table, table options the connector does not declare for the
    /// table, or the connector refusing its connection options.
    pub fn new<'a>(
        default_source: Option<&str>,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let options = SparkOptions::parse(default_source, options)?;
        let table = options.require_table()?.to_owned();
        let target = match Virtual::parse(&table)? {
            Some(virtual_table) => {
                if let Some(option) = options.table.keys().next() {
                    return Err(option_not_for(option, &table));
                }
                if options.is_delete_flow {
                    return Err(option_not_for(IS_DELETE_FLOW, &table));
                }
                Target::Virtual(virtual_table)
            }
            None => {
                options
                    .descriptor
                    .check_table_options(&table, options.table.keys().map(String::as_str))?;
                Target::Table(table)
            }
        };
        let connector = Arc::from(options.descriptor.connect(&options.connection)?);
        Ok(Self {
            options,
            connector,
            target,
            shape: OnceLock::new(),
        })
    }

    /// The parsed options.
    pub fn options(&self) -> &SparkOptions {
        &self.options
    }

    /// What is read.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The connector.
    pub fn connector(&self) -> &dyn LakeflowConnect {
        self.connector.as_ref()
    }

    fn table(&self) -> &str {
        match &self.target {
            Target::Table(table) => table,
            Target::Virtual(v) => v.name(),
        }
    }

    fn shape(&self) -> Result<&Shape> {
        if let Some(shape) = self.shape.get() {
            return Ok(shape);
        }
        let table = self.table();
        let mut schema = self
            .connector
            .get_table_schema(table, &self.options.table)?;
        if self.options.is_delete_flow {
            // Deleted records carry the keys and the cursor, not every column (as in the CLI).
            let fields: Vec<_> = schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect();
            schema = Arc::new(Schema::new(fields));
        }
        let spark = spark_schema(table, &schema)?;
        let converter = Converter::new(schema).map_err(|e| e.into_connect_error(table))?;
        Ok(self.shape.get_or_init(|| Shape { converter, spark }))
    }

    /// The schema of what is read, in the shape Spark expects.
    pub fn schema(&self) -> Result<SchemaRef> {
        match &self.target {
            Target::Virtual(v) => Ok(v.schema()),
            Target::Table(_) => Ok(self.shape()?.spark.clone()),
        }
    }

    /// The work of a batch read: one job per partition when the connector partitions the table,
    /// otherwise one job reading the table until caught up.
    pub fn batch_jobs(&self) -> Result<Vec<Job>> {
        let Target::Table(table) = &self.target else {
            return Ok(vec![Job::Full]);
        };
        if self.options.is_delete_flow {
            return Ok(vec![Job::Full]);
        }
        let Some(reads) = self.connector.partitioned_reads() else {
            return Ok(vec![Job::Full]);
        };
        match reads.get_partitions(table, &self.options.table) {
            Ok(partitions) => Ok(partitions.into_iter().map(Job::Partition).collect()),
            Err(Error::NotSupported { .. }) => Ok(vec![Job::Full]),
            Err(e) => Err(e),
        }
    }

    /// Runs `job`, handing each batch to `emit`; stops early when `emit` returns false.
    pub fn run(&self, job: &Job, emit: &mut dyn FnMut(RecordBatch) -> bool) -> Result<()> {
        let table = match &self.target {
            Target::Virtual(v) => {
                emit(v.read(&self.options, self.connector.as_ref())?);
                return Ok(());
            }
            Target::Table(table) => table.as_str(),
        };
        let options = &self.options.table;
        match job {
            Job::Full => {
                let mut start: Option<Offset> = None;
                loop {
                    let output = self.read_once(start.as_ref())?;
                    let end = output.end_offset;
                    if !self.convert(output.records, emit)? {
                        return Ok(());
                    }
                    if end.is_none() || end == start {
                        return Ok(());
                    }
                    start = end;
                }
            }
            Job::Partition(partition) => {
                let reads = self
                    .connector
                    .partitioned_reads()
                    .ok_or_else(|| Error::not_supported(table, "read_partition"))?;
                let records = reads.read_partition(table, partition, options)?;
                self.convert(records, emit).map(drop)
            }
            Job::StreamPartition(partition) => {
                let streams = self
                    .connector
                    .partitioned_streams()
                    .ok_or_else(|| Error::not_supported(table, "read_stream_partition"))?;
                let records = streams.read_stream_partition(table, partition, options)?;
                self.convert(records, emit).map(drop)
            }
        }
    }

    /// Runs `job` and gathers its batches.
    pub fn collect(&self, job: &Job) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        self.run(job, &mut |batch| {
            batches.push(batch);
            true
        })?;
        Ok(batches)
    }

    /// Runs `job` on a thread of its own; batches arrive on the receiver as they are converted,
    /// at most [`PREFETCH_BATCHES`] ahead of the consumer, and the thread stops when the
    /// receiver is dropped. An error is the last item.
    pub fn spawn(self: &Arc<Self>, job: Job) -> Receiver<Result<RecordBatch>> {
        let (sender, receiver) = sync_channel(PREFETCH_BATCHES);
        let session = Arc::clone(self);
        thread::spawn(move || produce(&session, &job, &sender));
        receiver
    }

    fn read_once(&self, start: Option<&Offset>) -> Result<ReadOutput<'_>> {
        let table = self.table();
        if self.options.is_delete_flow {
            self.connector
                .read_table_deletes(table, start, &self.options.table)
        } else {
            self.connector.read_table(table, start, &self.options.table)
        }
    }

    /// Converts records in chunks of [`BATCH_ROWS`]; false when `emit` asked to stop.
    fn convert(
        &self,
        records: RecordStream<'_>,
        emit: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<bool> {
        let shape = self.shape()?;
        let table = self.table();
        let mut chunk: Vec<Record> = Vec::with_capacity(BATCH_ROWS);
        let mut records = records.peekable();
        while let Some(record) = records.next() {
            chunk.push(record?);
            if chunk.len() == BATCH_ROWS || records.peek().is_none() {
                let batch = shape
                    .converter
                    .convert(&chunk)
                    .map_err(|e| e.into_connect_error(table))?;
                if !emit(to_spark(table, &batch, &shape.spark)?) {
                    return Ok(false);
                }
                chunk.clear();
            }
        }
        Ok(true)
    }

    /// One micro-batch of the simple stream reader: one connector read from `start` (`None`
    /// before the first batch), converted, and the offset it reached.
    pub fn stream_read(&self, start: Option<&Offset>) -> Result<(Vec<RecordBatch>, Offset)> {
        let table = self.streamable_table()?;
        let output = self.read_once(start)?;
        let Some(end) = output.end_offset else {
            return Err(Error::NotSupported {
                table: table.to_owned(),
                operation: "streaming reads (the table has no offsets; read it with spark.read)"
                    .to_owned(),
            });
        };
        let mut batches = Vec::new();
        self.convert(output.records, &mut |batch| {
            batches.push(batch);
            true
        })?;
        Ok((batches, end))
    }

    /// The records after `start` up to `end`, read again after a restart (Spark replays a
    /// planned micro-batch whose records it has lost), in at most `max_reads` connector reads:
    /// the reads the original micro-batch took ([`MICRO_BATCH_READS`] for the simple stream
    /// reader).
    ///
    /// Offsets are opaque to the bindings: the only way to tell that a read stayed before `end`
    /// is that it ended *at* `end`. So reading stops after the first read that ends at `end`,
    /// is caught up, or uses up `max_reads`. A connector whose offsets are not reproducible
    /// (they depend on when it was built) never ends at `end`; it then gets exactly as many
    /// reads as the original batch had, instead of reading on until caught up and delivering
    /// again, in this batch, the records of the micro-batches planned after it.
    pub fn stream_read_between(
        &self,
        start: Option<&Offset>,
        end: &Offset,
        max_reads: usize,
    ) -> Result<Vec<RecordBatch>> {
        self.streamable_table()?;
        let mut batches = Vec::new();
        let mut at = start.cloned();
        for _ in 0..max_reads {
            if at.as_ref() == Some(end) {
                break;
            }
            let output = self.read_once(at.as_ref())?;
            let reached = output.end_offset;
            self.convert(output.records, &mut |batch| {
                batches.push(batch);
                true
            })?;
            if reached.is_none() || reached == at {
                break;
            }
            at = reached;
        }
        Ok(batches)
    }

    fn streamable_table(&self) -> Result<&str> {
        match &self.target {
            Target::Table(table) => Ok(table),
            Target::Virtual(v) => Err(Error::not_supported(v.name(), "streaming reads")),
        }
    }

    /// Whether this read can use the partitioned stream reader: the connector has the
    /// capability, the table does not answer `NotSupported`, and this is not a delete flow
    /// (partitioned streams have no deletes feed).
    pub fn supports_partitioned_stream(&self) -> Result<bool> {
        let Target::Table(table) = &self.target else {
            return Ok(false);
        };
        let Some(streams) = self.connector.partitioned_streams() else {
            return Ok(false);
        };
        if self.options.is_delete_flow {
            return Ok(false);
        }
        match streams.latest_offset(table, &self.options.table) {
            Ok(_) => Ok(true),
            Err(Error::NotSupported { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The offset the source has reached now (partitioned streams).
    pub fn latest_offset(&self) -> Result<Offset> {
        let table = self.streamable_table()?;
        let streams = self
            .connector
            .partitioned_streams()
            .ok_or_else(|| Error::not_supported(table, "latest_offset"))?;
        streams.latest_offset(table, &self.options.table)
    }

    /// The partitions of the changes after `start` up to `end` (partitioned streams).
    pub fn stream_partitions(&self, start: Option<&Offset>, end: &Offset) -> Result<Vec<Job>> {
        let table = self.streamable_table()?;
        let streams = self
            .connector
            .partitioned_streams()
            .ok_or_else(|| Error::not_supported(table, "partitions_between"))?;
        Ok(streams
            .partitions_between(table, start, end, &self.options.table)?
            .into_iter()
            .map(Job::StreamPartition)
            .collect())
    }
}

fn produce(session: &Session, job: &Job, sender: &SyncSender<Result<RecordBatch>>) {
    let result = session.run(job, &mut |batch| sender.send(Ok(batch)).is_ok());
    if let Err(e) = result {
        // The consumer may be gone already; then nobody needs the error.
        let _ = sender.send(Err(e));
    }
}

fn option_not_for(option: &str, table: &str) -> Error {
    Error::InvalidOption {
        option: option.to_owned(),
        value: String::new(),
        reason: format!("does not apply to the virtual table `{table}`"),
    }
}

/// Parses an offset as Spark stores it: a JSON object, `{}` standing for "from the beginning"
/// (the original's initial offset).
pub fn parse_offset(table: &str, text: &str) -> Result<Option<Offset>> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(offset)) if offset.is_empty() => Ok(None),
        Ok(serde_json::Value::Object(offset)) => Ok(Some(offset)),
        Ok(other) => Err(Error::invalid_offset(
            table,
            format!("expected a JSON object, got {other}"),
        )),
        Err(e) => Err(Error::invalid_offset(table, format!("malformed JSON: {e}"))),
    }
}

/// An offset as Spark stores it (see [`parse_offset`]).
pub fn offset_text(offset: Option<&Offset>) -> String {
    offset.map_or_else(
        || "{}".to_owned(),
        |o| serde_json::Value::Object(o.clone()).to_string(),
    )
}
