//! The connector trait and its optional capabilities.

use std::fmt;

use arrow_schema::SchemaRef;
use serde_json::{Map, Value};

use crate::{Error, Result, TableMetadata, TableOptions};

/// One source record: a JSON object, not yet typed (the records crate converts it).
pub type Record = Map<String, Value>;

/// What kind of JSON value `value` is, as messages say it ("a string", "an object", "null").
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A read position owned by the connector: an opaque JSON object the caller stores and hands
/// back unchanged.
pub type Offset = Map<String, Value>;

/// A partition descriptor for partitioned reads: an opaque JSON object.
pub type Partition = Map<String, Value>;

/// Records as a lazy stream, so a connector can fetch page by page while the caller consumes.
pub type RecordStream<'a> = Box<dyn Iterator<Item = Result<Record>> + Send + 'a>;

/// What one read returns: the records and the offset they reach.
pub struct ReadOutput<'a> {
    /// The records of this read.
    pub records: RecordStream<'a>,
    /// Where the next read starts. `None` for tables without offsets (snapshots).
    pub end_offset: Option<Offset>,
}

impl<'a> ReadOutput<'a> {
    /// A read whose records are already in memory.
    pub fn from_records(records: Vec<Record>, end_offset: Option<Offset>) -> Self {
        Self {
            records: Box::new(records.into_iter().map(Ok)),
            end_offset,
        }
    }

    /// An empty read at `offset`: what a caught-up table returns.
    pub fn caught_up(offset: Option<Offset>) -> Self {
        Self::from_records(Vec::new(), offset)
    }

    /// A read whose records arrive lazily.
    pub fn streaming(
        records: impl Iterator<Item = Result<Record>> + Send + 'a,
        end_offset: Option<Offset>,
    ) -> Self {
        Self {
            records: Box::new(records),
            end_offset,
        }
    }

    /// Collects every record, failing on the first error.
    pub fn collect(self) -> Result<(Vec<Record>, Option<Offset>)> {
        let records = self.records.collect::<Result<Vec<_>>>()?;
        Ok((records, self.end_offset))
    }
}

/// A source connector. Method names and meanings follow the original `LakeflowConnect`.
///
/// Reads are synchronous (blocking I/O); engines call them from worker threads. Offsets follow
/// one protocol: the first read gets `None`; each read returns an end offset the caller feeds
/// back as the next start; a table is caught up when the end offset equals the start offset.
///
/// `Debug` is required so that tools and the conformance suite can show any connector, including
/// one behind `dyn LakeflowConnect`. It must never print a secret: keep credentials in
/// [`crate::Secret`] (whose `Debug` is `***`) and derive `Debug`, or write an impl that leaves
/// them out. The conformance suite searches every connector's `Debug` output for its secrets.
pub trait LakeflowConnect: fmt::Debug + Send + Sync {
    /// Names of the tables the source lists. A connector may serve more (hidden) tables.
    fn list_tables(&self) -> Result<Vec<String>>;

    /// The Arrow schema of a table.
    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef>;

    /// Keys, cursor and ingestion type of a table.
    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata>;

    /// Reads the records after `start` (or from the beginning when `None`).
    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>>;

    /// Reads the keys deleted after `start`. Records carry at least the primary keys and the
    /// cursor. Only `cdc_with_deletes` tables implement it.
    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let _ = (start, options);
        Err(Error::not_supported(table, "read_table_deletes"))
    }

    /// The partitioned batch read capability, if the connector has it.
    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        None
    }

    /// The partitioned stream capability, if the connector has it.
    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        None
    }

    /// The namespace capability, if the connector has it.
    fn namespaces(&self) -> Option<&dyn Namespaces> {
        None
    }
}

/// Splits one batch read of a table into partitions that can be read in parallel.
pub trait PartitionedRead: Send + Sync {
    /// The partitions of a full read. The default is one partition (the whole table).
    fn get_partitions(&self, table: &str, options: &TableOptions) -> Result<Vec<Partition>> {
        let _ = (table, options);
        Ok(vec![Partition::new()])
    }

    /// Reads one partition returned by [`PartitionedRead::get_partitions`].
    fn read_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>>;
}

/// Streams a table as partitioned micro-batches between offsets.
pub trait PartitionedStream: Send + Sync {
    /// The offset the source has reached now.
    fn latest_offset(&self, table: &str, options: &TableOptions) -> Result<Offset>;

    /// Partitions covering the changes after `start` up to and including `end`. Equal offsets
    /// give no partitions.
    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        options: &TableOptions,
    ) -> Result<Vec<Partition>>;

    /// Reads one partition returned by [`PartitionedStream::partitions_between`].
    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>>;
}

/// Sources whose tables live in namespaces (databases, schemas, projects).
pub trait Namespaces: Send + Sync {
    /// The namespaces directly under `parent` (the empty slice is the root). Each namespace is
    /// given as its full path.
    fn list_namespaces(&self, parent: &[String]) -> Result<Vec<Vec<String>>>;

    /// The tables in one namespace. The default lists every table of the connector.
    fn list_tables_in(&self, namespace: &[String]) -> Result<Vec<String>> {
        let _ = namespace;
        Ok(Vec::new())
    }
}
