//! Changes by key without delta-rs MERGE, whose memory grows with the target table: the files
//! that may hold a changed key are found from their statistics, probed on the key columns, and
//! only those with a row that actually changes are rewritten, one row group at a time. Memory
//! follows the commit's changes plus one row group, whatever the size of the table; the removes,
//! the adds and the flow's progress land in one commit.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array, new_null_array};
use arrow_schema::{DataType, SchemaRef};
use deltalake::arrow::compute::{cast, interleave, take_record_batch};
use deltalake::arrow::row::{Row, RowConverter, Rows, SortField};
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Remove};
use deltalake::logstore::ObjectStoreRef;
use deltalake::parquet::arrow::ProjectionMask;
// `ParquetObjectReader` is deprecated in favour of hand-written readers; it still reads ranges
// of a file from the object store (not the whole file), which is what bounds memory here.
#[expect(deprecated)]
use deltalake::parquet::arrow::async_reader::ParquetObjectReader;
use deltalake::parquet::arrow::async_reader::{
    ParquetRecordBatchStream, ParquetRecordBatchStreamBuilder,
};
use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter as _, RecordBatchWriter};
use deltalake::{DeltaTableError, Path};
use futures::TryStreamExt as _;
use serde_json::Value;

use super::table::Target;
use crate::error::{PipelineError, Result, TableContext as _};

/// Rows per row group of the files we write: the Parquet writer holds one row group in memory.
const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Size at which the writer starts a new data file: smaller files mean finer pruning by key.
const TARGET_FILE_BYTES: u64 = 64 << 20;
/// Rows per batch read back from a data file.
const READ_ROWS: usize = 8192;

/// Which row of a matched pair wins, by a sequence column of the same name in both.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Precedence<'a> {
    /// The change always wins.
    Always,
    /// The change wins when its sequence is at least the table row's, or the row has none.
    NotOlder(&'a str),
    /// The change wins when its sequence is greater than the table row's, or the row has none.
    Newer(&'a str),
}

impl<'a> Precedence<'a> {
    fn column(self) -> Option<&'a str> {
        match self {
            Self::Always => None,
            Self::NotOlder(c) | Self::Newer(c) => Some(c),
        }
    }
}

/// What a winning change does to the table row it matches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnMatch<'a> {
    /// Replaces it; changes that match no row are inserted.
    Upsert(Precedence<'a>),
    /// Removes it; changes that match no row do nothing.
    Delete(Precedence<'a>),
    /// SCD 2 versions: a change always replaces the row it matches, or removes it where
    /// `remove` (one flag per change) says so; changes that match no row and are not removals
    /// are inserted.
    Versions { remove: &'a [bool] },
}

impl<'a> OnMatch<'a> {
    fn precedence(self) -> Precedence<'a> {
        match self {
            Self::Upsert(p) | Self::Delete(p) => p,
            Self::Versions { .. } => Precedence::Always,
        }
    }

    /// Whether a winning `change` removes the row it matches.
    fn removes(self, change: usize) -> bool {
        match self {
            Self::Upsert(_) => false,
            Self::Delete(_) => true,
            Self::Versions { remove } => remove.get(change).copied().unwrap_or(false),
        }
    }

    /// Whether a `change` that matches no row is inserted.
    fn inserts(self, change: usize) -> bool {
        match self {
            Self::Upsert(_) => true,
            Self::Delete(_) => false,
            Self::Versions { remove } => !remove.get(change).copied().unwrap_or(false),
        }
    }
}

/// Rows a keyed rewrite changed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Rewritten {
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// A data file of the table.
pub(crate) struct DataFile {
    pub(crate) path: Path,
    pub(crate) size: u64,
    pub(crate) remove: Remove,
}

/// The sequence values of changes and table rows, comparable as bytes.
struct Sequences {
    converter: RowConverter,
    changes: Rows,
}

impl Target {
    /// Applies `changes` (one row per value of the `on` columns) to the rows they match on
    /// `on`, in one commit carrying `progress` (a commit that changes nothing still records it).
    pub(crate) async fn rewrite_matched(
        &mut self,
        changes: &RecordBatch,
        on: &[String],
        on_match: OnMatch<'_>,
        progress: Option<CommitProperties>,
    ) -> Result<Rewritten> {
        let name = self.name.clone();
        let schema = self.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: name.clone(),
            reason: "cannot change rows of a table that does not exist".to_owned(),
        })?;
        let changes = fit(changes, &schema).table(&name)?;
        let precedence = on_match.precedence();
        let on_converter = converter(&schema, on).table(&name)?;
        let change_keys = on_converter
            .convert_columns(&pick(&changes, on).table(&name)?)
            .table(&name)?;
        let sequences = match precedence.column() {
            Some(seq) => {
                let names = [seq.to_owned()];
                let converter = converter(&schema, &names).table(&name)?;
                let changes = converter
                    .convert_columns(&pick(&changes, &names).table(&name)?)
                    .table(&name)?;
                Some(Sequences { converter, changes })
            }
            None => None,
        };
        let index: HashMap<Row<'_>, usize> = (0..changes.num_rows())
            .map(|i| (change_keys.row(i), i))
            .collect();
        let decide = Decide {
            on,
            on_converter: &on_converter,
            index: &index,
            sequences: sequences.as_ref(),
            precedence,
        };

        // Pass 1: the key (and sequence) columns of every file that may hold a changed key.
        let store = self.table.object_store();
        let mut probe: Vec<String> = on.to_vec();
        probe.extend(precedence.column().map(str::to_owned));
        let probe_schema = project(&schema, &probe).table(&name)?;
        let mut matched = vec![false; changes.num_rows()];
        let mut changing = Vec::new();
        for file in self.candidate_files(&changes, on)? {
            let mut rows = open_file(&store, &file, Some(&probe)).await.table(&name)?;
            let mut changes_file = false;
            while let Some(batch) = rows.try_next().await.table(&name)? {
                let batch = fit(&batch, &probe_schema).table(&name)?;
                for (_, found) in decide.rows(&batch).table(&name)? {
                    if let Some((change, wins)) = found {
                        matched[change] = true;
                        changes_file |= wins;
                    }
                }
            }
            if changes_file {
                changing.push(file);
            }
        }

        // Pass 2: rewrite the files where a change wins, then insert what matched nothing.
        let mut writer = match self.staged.take() {
            Some(staged) => staged,
            None => NewFiles::for_table(self)?,
        };
        let mut counts = Rewritten::default();
        let mut actions = Vec::new();
        for file in changing {
            let mut rows = open_file(&store, &file, None).await.table(&name)?;
            while let Some(batch) = rows.try_next().await.table(&name)? {
                let batch = fit(&batch, &schema).table(&name)?;
                let mut picks: Vec<(usize, usize)> = Vec::with_capacity(batch.num_rows());
                for (row, found) in decide.rows(&batch).table(&name)? {
                    match found {
                        Some((change, true)) if on_match.removes(change) => counts.deleted += 1,
                        Some((change, true)) => {
                            counts.updated += 1;
                            picks.push((1, change));
                        }
                        _ => picks.push((0, row)),
                    }
                }
                if !picks.is_empty() {
                    let out = interleave_rows(&[&batch, &changes], &picks).table(&name)?;
                    writer.write(&out).await?;
                }
            }
            actions.push(Action::Remove(file.remove));
        }
        let unmatched: Vec<u32> = (0..changes.num_rows())
            .filter(|&i| !matched[i] && on_match.inserts(i))
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        counts.inserted = unmatched.len();
        if !unmatched.is_empty() {
            let inserts =
                take_record_batch(&changes, &UInt32Array::from(unmatched)).table(&name)?;
            writer.write(&inserts).await?;
        }
        let operation = DeltaOperation::Update { predicate: None };
        writer.commit(self, actions, operation, progress).await?;
        Ok(counts)
    }

    /// Commits `actions` plus an add for every file `writer` wrote.
    pub(crate) async fn commit_written(
        &mut self,
        mut actions: Vec<Action>,
        writer: &mut RecordBatchWriter,
        operation: DeltaOperation,
        progress: Option<CommitProperties>,
    ) -> Result<()> {
        let adds = writer.flush().await.table(&self.name)?;
        actions.extend(adds.into_iter().map(Action::Add));
        self.commit_actions(actions, operation, progress).await
    }

    /// Commits `actions` (with `progress`, when given); with no actions, only the progress.
    pub(crate) async fn commit_actions(
        &mut self,
        actions: Vec<Action>,
        operation: DeltaOperation,
        progress: Option<CommitProperties>,
    ) -> Result<()> {
        if actions.is_empty() {
            if let Some(props) = progress {
                self.commit_progress(props).await?;
            }
            return Ok(());
        }
        let name = self.name.clone();
        let snapshot = self.table.snapshot().table(&name)?;
        let committed = CommitBuilder::from(progress.unwrap_or_default())
            .with_actions(actions)
            .build(Some(snapshot), self.table.log_store(), operation)
            .await
            .table(&name)?;
        self.table.state = Some(committed.snapshot());
        Ok(())
    }

    /// Every data file of the table, with a remove action for it.
    pub(crate) fn data_files(&self) -> Result<Vec<(Option<String>, DataFile)>> {
        let snapshot = self.table.snapshot().table(&self.name)?;
        Ok(snapshot
            .log_data()
            .iter()
            .map(|f| {
                let file = DataFile {
                    path: f.object_store_path(),
                    size: u64::try_from(f.size()).unwrap_or(0),
                    remove: f.remove_action(true),
                };
                (f.stats(), file)
            })
            .collect())
    }

    /// The files whose statistics do not rule out holding one of the changes' keys (pruned on
    /// the first key column when it is an integer, the common case of ids).
    fn candidate_files(&self, changes: &RecordBatch, on: &[String]) -> Result<Vec<DataFile>> {
        let bounds = on
            .first()
            .and_then(|c| sorted_integers(changes, c).map(|v| (c, v)));
        Ok(self
            .data_files()?
            .into_iter()
            .filter(|(stats, _)| {
                bounds
                    .as_ref()
                    .is_none_or(|(column, values)| may_hold(stats.as_deref(), column, values))
            })
            .map(|(_, file)| file)
            .collect())
    }
}

/// Decides, row by row, which change a table row matches and whether the change wins.
struct Decide<'a> {
    on: &'a [String],
    on_converter: &'a RowConverter,
    index: &'a HashMap<Row<'a>, usize>,
    sequences: Option<&'a Sequences>,
    precedence: Precedence<'a>,
}

impl Decide<'_> {
    /// For each row of `batch` (which holds at least the `on` and sequence columns): the index
    /// of the change it matches and whether that change wins.
    fn rows(&self, batch: &RecordBatch) -> Result<Matches, deltalake::arrow::error::ArrowError> {
        let keys = self.on_converter.convert_columns(&pick(batch, self.on)?)?;
        let table_seq = match (self.sequences, self.precedence.column()) {
            (Some(s), Some(column)) => {
                let array = pick(batch, &[column.to_owned()])?;
                Some((s.converter.convert_columns(&array)?, array[0].clone()))
            }
            _ => None,
        };
        Ok((0..batch.num_rows())
            .map(|row| {
                let found = self.index.get(&keys.row(row)).map(|&change| {
                    let wins = match (&table_seq, self.sequences) {
                        (Some((rows, array)), Some(s)) if !array.is_null(row) => {
                            let (new, old) = (s.changes.row(change), rows.row(row));
                            match self.precedence {
                                Precedence::Always => true,
                                Precedence::NotOlder(_) => new >= old,
                                Precedence::Newer(_) => new > old,
                            }
                        }
                        _ => true,
                    };
                    (change, wins)
                });
                (row, found)
            })
            .collect())
    }
}

/// Rows going to new (not yet committed) data files of a table: fitted to its schema and sorted
/// by its `cluster_by` columns on the way.
pub(crate) struct NewFiles {
    name: String,
    schema: SchemaRef,
    cluster_by: Vec<String>,
    writer: RecordBatchWriter,
}

impl NewFiles {
    /// Files for `target`, which must exist.
    pub(crate) fn for_table(target: &Target) -> Result<Self> {
        let schema = target.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: target.name.clone(),
            reason: "cannot write to a table that does not exist".to_owned(),
        })?;
        Ok(Self {
            name: target.name.clone(),
            schema,
            cluster_by: target.cluster_by.clone(),
            writer: data_writer(target).table(&target.name)?,
        })
    }

    /// The table's schema.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Writes `batch` (any column order; missing nullable columns become null).
    pub(crate) async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let batch = fit(batch, &self.schema).table(&self.name)?;
        let batch = clustered(batch, &self.cluster_by).table(&self.name)?;
        self.writer.write(batch).await.table(&self.name)
    }

    /// Commits `actions` plus an add for every file written.
    pub(crate) async fn commit(
        mut self,
        target: &mut Target,
        actions: Vec<Action>,
        operation: DeltaOperation,
        progress: Option<CommitProperties>,
    ) -> Result<()> {
        target
            .commit_written(actions, &mut self.writer, operation, progress)
            .await
    }
}

/// A writer of new data files for `target`, holding one row group in memory.
fn data_writer(target: &Target) -> Result<RecordBatchWriter, DeltaTableError> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    Ok(RecordBatchWriter::for_table(&target.table)?
        .with_writer_properties(properties)
        .with_target_file_size(TARGET_FILE_BYTES))
}

/// Rows of a data file, streamed.
#[expect(deprecated)]
pub(crate) type FileRows = ParquetRecordBatchStream<ParquetObjectReader>;

/// For each row of a batch: the change it matches, and whether that change wins.
type Matches = Vec<(usize, Option<(usize, bool)>)>;

/// Streams a data file's rows (only `columns`, when given) in batches of [`READ_ROWS`].
#[expect(deprecated)]
pub(crate) async fn open_file(
    store: &ObjectStoreRef,
    file: &DataFile,
    columns: Option<&[String]>,
) -> Result<FileRows, deltalake::parquet::errors::ParquetError> {
    let reader =
        ParquetObjectReader::new(store.clone(), file.path.clone()).with_file_size(file.size);
    let mut builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await?
        .with_batch_size(READ_ROWS);
    if let Some(columns) = columns {
        let roots: Vec<usize> = columns
            .iter()
            .filter_map(|c| builder.schema().index_of(c).ok())
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        builder = builder.with_projection(mask);
    }
    builder.build()
}

/// `batch` in exactly `schema`: columns by name, cast where the type differs, and null for
/// columns the batch lacks (files written before a column was added).
pub(crate) fn fit(
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, deltalake::arrow::error::ArrowError> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
            Some(c) => cast(c, f.data_type()),
            None => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

fn project(
    schema: &SchemaRef,
    names: &[String],
) -> Result<SchemaRef, deltalake::arrow::error::ArrowError> {
    let indices = names
        .iter()
        .map(|n| schema.index_of(n))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(schema.project(&indices)?))
}

pub(crate) fn pick(
    batch: &RecordBatch,
    names: &[String],
) -> Result<Vec<ArrayRef>, deltalake::arrow::error::ArrowError> {
    names
        .iter()
        .map(|n| {
            batch.column_by_name(n).cloned().ok_or_else(|| {
                deltalake::arrow::error::ArrowError::SchemaError(format!("no column `{n}`"))
            })
        })
        .collect()
}

fn converter(
    schema: &SchemaRef,
    names: &[String],
) -> Result<RowConverter, deltalake::arrow::error::ArrowError> {
    let fields = names
        .iter()
        .map(|n| {
            Ok(SortField::new(
                schema.field_with_name(n)?.data_type().clone(),
            ))
        })
        .collect::<Result<Vec<_>, deltalake::arrow::error::ArrowError>>()?;
    RowConverter::new(fields)
}

/// Rows picked as (batch, row) from batches of one schema.
pub(crate) fn interleave_rows(
    batches: &[&RecordBatch],
    picks: &[(usize, usize)],
) -> Result<RecordBatch, deltalake::arrow::error::ArrowError> {
    let schema = batches[0].schema();
    let columns = (0..schema.fields().len())
        .map(|c| {
            let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            interleave(&arrays, picks)
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema, columns)
}

/// `batch` with its rows sorted by `columns` (those it has; any type, nested included), so each
/// file written keeps narrow statistics on them for readers to skip by.
pub(crate) fn clustered(
    batch: RecordBatch,
    columns: &[String],
) -> Result<RecordBatch, deltalake::arrow::error::ArrowError> {
    let present: Vec<String> = columns
        .iter()
        .filter(|c| batch.column_by_name(c).is_some())
        .cloned()
        .collect();
    if present.is_empty() || batch.num_rows() < 2 {
        return Ok(batch);
    }
    let rows = converter(&batch.schema(), &present)?.convert_columns(&pick(&batch, &present)?)?;
    let mut order: Vec<u32> = (0..batch.num_rows())
        .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
        .collect();
    order.sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
    take_record_batch(&batch, &UInt32Array::from(order))
}

/// The non-null values of an integer column, sorted; `None` for other types.
fn sorted_integers(batch: &RecordBatch, column: &str) -> Option<Vec<i64>> {
    let array = batch.column_by_name(column)?;
    let integer = matches!(
        array.data_type(),
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    );
    if !integer {
        return None;
    }
    let values = cast(array, &DataType::Int64).ok()?;
    let values = values.as_any().downcast_ref::<arrow_array::Int64Array>()?;
    let mut sorted: Vec<i64> = values.iter().flatten().collect();
    sorted.sort_unstable();
    Some(sorted)
}

/// Whether a file whose statistics are `stats` may hold one of `sorted` in `column`
/// (a file without statistics may hold anything).
fn may_hold(stats: Option<&str>, column: &str, sorted: &[i64]) -> bool {
    let Some(stats) = stats.and_then(|s| serde_json::from_str::<Value>(s).ok()) else {
        return true;
    };
    let bound = |which: &str| stats.get(which)?.get(column)?.as_i64();
    let (Some(min), Some(max)) = (bound("minValues"), bound("maxValues")) else {
        return true;
    };
    let first = sorted.partition_point(|&v| v < min);
    sorted.get(first).is_some_and(|&v| v <= max)
}

/// Commit operation of a full replacement of the table's rows.
pub(crate) fn overwrite_operation() -> DeltaOperation {
    write_operation(SaveMode::Overwrite)
}

/// The operation recorded for a commit that only adds files.
pub(crate) fn append_operation() -> DeltaOperation {
    write_operation(SaveMode::Append)
}

fn write_operation(mode: SaveMode) -> DeltaOperation {
    DeltaOperation::Write {
        mode,
        partition_by: None,
        predicate: None,
    }
}

#[cfg(test)]
mod tests {
    use super::may_hold;

    #[test]
    fn files_are_pruned_by_integer_key_ranges() {
        let stats = r#"{"numRecords":3,"minValues":{"id":10},"maxValues":{"id":20}}"#;
        assert!(may_hold(Some(stats), "id", &[1, 15, 30]));
        assert!(may_hold(Some(stats), "id", &[10]));
        assert!(may_hold(Some(stats), "id", &[20]));
        assert!(!may_hold(Some(stats), "id", &[1, 9, 21, 30]));
        assert!(!may_hold(Some(stats), "id", &[]));
        assert!(may_hold(Some(stats), "other", &[1]), "no bounds: keep");
        assert!(may_hold(None, "id", &[1]), "no statistics: keep");
    }
}
