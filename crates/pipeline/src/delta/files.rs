//! New data files of a table and the commits that add them: written fitted to the table's
//! schema and clustered, read back a row group at a time, and committed with the actions and
//! progress of the operation that wrote them.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array, new_null_array};
use arrow_schema::SchemaRef;
use deltalake::arrow::compute::{cast, interleave, take_record_batch};
use deltalake::arrow::row::{RowConverter, SortField};
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

use super::sink::CommitCounts;
use super::table::Target;
use crate::error::{PipelineError, Result, TableContext as _};

/// Rows per row group of the files we write: the Parquet writer holds one row group in memory.
const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Size at which the writer starts a new data file: smaller files mean finer pruning by key.
const TARGET_FILE_BYTES: u64 = 64 << 20;
/// Rows per batch read back from a data file.
const READ_ROWS: usize = 8192;

/// A data file of the table.
pub(crate) struct DataFile {
    pub(crate) path: Path,
    pub(crate) size: u64,
    pub(crate) remove: Remove,
}

impl Target {
    /// Commits `actions` plus an add for every file `writer` wrote.
    pub(crate) async fn commit_written(
        &mut self,
        mut actions: Vec<Action>,
        writer: &mut RecordBatchWriter,
        operation: DeltaOperation,
        progress: Option<CommitProperties>,
    ) -> Result<CommitCounts> {
        let adds = writer.flush().await.table(&self.name)?;
        actions.extend(adds.into_iter().map(Action::Add));
        self.commit_actions(actions, operation, progress).await
    }

    /// Commits `actions` (with `progress`, when given); with no actions, only the progress.
    /// Reports the files the commit added and removed.
    pub(crate) async fn commit_actions(
        &mut self,
        actions: Vec<Action>,
        operation: DeltaOperation,
        progress: Option<CommitProperties>,
    ) -> Result<CommitCounts> {
        if actions.is_empty() {
            if let Some(props) = progress {
                self.commit_progress(props).await?;
            }
            return Ok(CommitCounts::default());
        }
        let files = CommitCounts {
            files_added: actions
                .iter()
                .filter(|a| matches!(a, Action::Add(_)))
                .count(),
            files_removed: actions
                .iter()
                .filter(|a| matches!(a, Action::Remove(_)))
                .count(),
            ..CommitCounts::default()
        };
        let name = self.name.clone();
        let snapshot = self.table.snapshot().table(&name)?;
        let committed = CommitBuilder::from(progress.unwrap_or_default())
            .with_actions(actions)
            .build(Some(snapshot), self.table.log_store(), operation)
            .await
            .table(&name)?;
        self.table.state = Some(committed.snapshot());
        Ok(files)
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

    /// Commits `actions` plus an add for every file written; reports the files added and
    /// removed.
    pub(crate) async fn commit(
        mut self,
        target: &mut Target,
        actions: Vec<Action>,
        operation: DeltaOperation,
        progress: Option<CommitProperties>,
    ) -> Result<CommitCounts> {
        target
            .commit_written(actions, &mut self.writer, operation, progress)
            .await
    }

    /// The add actions of the files written (flushed now), for another writer's commit.
    pub(crate) async fn into_adds(mut self) -> Result<Vec<Action>> {
        let adds = self.writer.flush().await.table(&self.name)?;
        Ok(adds.into_iter().map(Action::Add).collect())
    }

    /// Adds the files written in one commit carrying `props`; reports the files added.
    pub(crate) async fn append(
        self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        self.commit(target, Vec::new(), append_operation(), Some(props))
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

pub(crate) fn project(
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

pub(crate) fn converter(
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
