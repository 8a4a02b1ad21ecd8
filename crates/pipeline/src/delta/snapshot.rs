//! Snapshots as they stream in. SCD 1 replaces a table's rows: each read is written to new data
//! files at once, and one commit at the end removes every old file and adds the new ones. SCD 2
//! keeps only the rows that change a key's current version and applies them in one commit. The
//! rows are never all in memory; what is kept is one hash per key.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash as _, Hasher as _};

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array, new_null_array};
use arrow_schema::{Field, Schema, SchemaRef};
use deltalake::arrow::compute::kernels::boolean::is_null;
use deltalake::arrow::compute::{concat_batches, filter_record_batch, take, take_record_batch};
use deltalake::arrow::row::{RowConverter, SortField};
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitProperties;
use futures::TryStreamExt as _;

use super::history::{
    END_AT, HistoryInput, START_AT, conform, relaxed, source_columns, source_indices,
};
use super::rewrite::{NewFiles, append_operation, fit, open_file, overwrite_operation, pick};
use super::table::Target;
use super::write::CommitCounts;
use crate::error::{PipelineError, Result, TableContext as _};

/// A snapshot being written; [`SnapshotReplace::commit`] makes it the table's content.
pub struct SnapshotReplace {
    name: String,
    files: NewFiles,
    /// Key bytes and a hash of the whole row.
    hashes: RowHashes,
    /// Per key of the table before: the hash of its row, and whether the snapshot has it.
    before: HashMap<Box<[u8]>, (u64, bool)>,
    /// Keys of the snapshot the table did not have.
    new_keys: HashSet<Box<[u8]>>,
    counts: CommitCounts,
}

impl Target {
    /// Starts replacing the rows of this (existing) table; rows are compared by `keys`, or as a
    /// whole without keys.
    pub async fn begin_replace(&self, keys: &[String]) -> Result<SnapshotReplace> {
        let name = self.name.clone();
        let schema = self.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: name.clone(),
            reason: "cannot replace the rows of a table that does not exist".to_owned(),
        })?;
        let all: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let key_names = if keys.is_empty() {
            all.clone()
        } else {
            keys.to_vec()
        };
        let mut replace = SnapshotReplace {
            files: NewFiles::for_table(self)?,
            hashes: RowHashes::new(&schema, &name, &key_names, &all)?,
            name: name.clone(),
            before: HashMap::new(),
            new_keys: HashSet::new(),
            counts: CommitCounts::default(),
        };
        self.for_each_batch(None, &schema, |batch| {
            for (key, hash) in replace.hashes.of(&batch)? {
                replace.before.insert(key, (hash, false));
            }
            Ok(())
        })
        .await?;
        Ok(replace)
    }
}

impl SnapshotReplace {
    /// Writes part of the snapshot to new (not yet committed) data files.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let batch = fit(batch, self.files.schema()).table(&self.name)?;
        for (key, hash) in self.hashes.of(&batch)? {
            match self.before.get_mut(&key) {
                Some((old, seen)) if !*seen => {
                    *seen = true;
                    if *old != hash {
                        self.counts.updated += 1;
                    }
                }
                Some(_) => {}
                None => {
                    if self.new_keys.insert(key) {
                        self.counts.inserted += 1;
                    }
                }
            }
        }
        self.files.write(&batch).await
    }

    /// Makes the written snapshot the table's rows in one commit carrying `props`: every old
    /// file removed, every new one added.
    pub async fn commit(
        mut self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        self.counts.deleted = self.before.values().filter(|(_, seen)| !seen).count();
        let removes: Vec<Action> = target
            .data_files()?
            .into_iter()
            .map(|(_, file)| Action::Remove(file.remove))
            .collect();
        self.files
            .commit(target, removes, overwrite_operation(), Some(props))
            .await?;
        Ok(self.counts)
    }
}

/// An SCD 2 snapshot as it streams in. Rows of keys without a current version are written to
/// new data files at once (as versions from the snapshot's time); rows that change a key's
/// current version are kept; rows equal to it are dropped. What is held per current version is
/// its key and a 64-bit hash of its tracked values, so memory follows the changes and the
/// number of keys, not the rows. [`HistorySnapshot::commit`] also closes the versions of keys
/// the snapshot lacks.
pub struct HistorySnapshot {
    name: String,
    /// The snapshot's time: where new versions start and vanished keys' versions end.
    at: ArrayRef,
    /// New versions of keys without a current version.
    files: NewFiles,
    /// Keys written to `files` (a later row of the same key in the snapshot is dropped).
    new_keys: HashSet<Box<[u8]>>,
    inserted: usize,
    keys: Vec<String>,
    tracked: Vec<String>,
    /// The table's columns without `__START_AT` / `__END_AT`: what a snapshot row holds.
    source_schema: SchemaRef,
    /// Key bytes and a hash of the tracked columns.
    hashes: RowHashes,
    /// Per key with a current version: the hash of its tracked values, and whether the snapshot
    /// has the key.
    current: HashMap<Box<[u8]>, (u64, bool)>,
    changed: Vec<RecordBatch>,
}

impl Target {
    /// Starts reading an SCD 2 snapshot taken at `at` (one timestamp) into this (existing)
    /// history table.
    pub async fn begin_history_snapshot(
        &self,
        keys: &[String],
        tracked: &[String],
        at: ArrayRef,
    ) -> Result<HistorySnapshot> {
        let name = self.name.clone();
        let schema = self.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: name.clone(),
            reason: "cannot apply a snapshot to a table that does not exist".to_owned(),
        })?;
        let (_, source_schema) = source_columns(&schema).table(&name)?;
        let mut snapshot = HistorySnapshot {
            hashes: RowHashes::new(&schema, &name, keys, tracked)?,
            keys: keys.to_vec(),
            tracked: tracked.to_vec(),
            source_schema,
            current: HashMap::new(),
            changed: Vec::new(),
            at,
            files: NewFiles::for_table(self)?,
            new_keys: HashSet::new(),
            inserted: 0,
            name: name.clone(),
        };
        // Only what identifies and compares current versions is read.
        let mut columns = keys.to_vec();
        columns.extend(tracked.iter().filter(|t| !keys.contains(t)).cloned());
        columns.push(END_AT.to_owned());
        let read_schema = Arc::new(
            schema
                .project(&source_indices(&schema, &columns))
                .table(&name)?,
        );
        self.for_each_batch(Some(&columns), &read_schema, |batch| {
            let Some(end) = batch.column_by_name(END_AT) else {
                return Ok(());
            };
            let open = is_null(end.as_ref()).table(&name)?;
            let batch = filter_record_batch(&batch, &open).table(&name)?;
            for (key, hash) in snapshot.hashes.of(&batch)? {
                snapshot.current.insert(key, (hash, false));
            }
            Ok(())
        })
        .await?;
        Ok(snapshot)
    }
}

impl HistorySnapshot {
    /// Takes part of the snapshot: rows of new keys go to data files, rows equal to their key's
    /// current version are dropped, the others are kept for the commit.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let batch = conform(batch, &self.source_schema).table(&self.name)?;
        let (mut changed, mut new) = (Vec::new(), Vec::new());
        for (row, (key, hash)) in self.hashes.of(&batch)?.into_iter().enumerate() {
            let row = u32::try_from(row).unwrap_or(u32::MAX);
            match self.current.get_mut(&key) {
                // A key listed twice in one snapshot keeps its first row, as new keys do.
                Some((_, true)) => {}
                Some((current, seen)) => {
                    *seen = true;
                    if *current != hash {
                        changed.push(row);
                    }
                }
                None => {
                    if self.new_keys.insert(key) {
                        new.push(row);
                    }
                }
            }
        }
        if !changed.is_empty() {
            let rows = take_record_batch(&batch, &UInt32Array::from(changed)).table(&self.name)?;
            self.changed.push(rows);
        }
        if !new.is_empty() {
            self.inserted += new.len();
            let rows = take_record_batch(&batch, &UInt32Array::from(new)).table(&self.name)?;
            let versions = self.versions(&rows)?;
            self.files.write(&versions).await?;
        }
        Ok(())
    }

    /// The snapshot's time, once per row of `rows` rows.
    fn at_each(&self, rows: usize) -> Result<ArrayRef> {
        let zeros = UInt32Array::from(vec![0_u32; rows]);
        take(self.at.as_ref(), &zeros, None).table(&self.name)
    }

    /// `rows` as open versions from the snapshot's time, in the table's schema.
    fn versions(&self, rows: &RecordBatch) -> Result<RecordBatch> {
        let n = rows.num_rows();
        let start = self.at_each(n)?;
        let mut columns = rows.columns().to_vec();
        columns.push(start.clone());
        columns.push(new_null_array(start.data_type(), n));
        let mut fields: Vec<_> = rows.schema().fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(
            START_AT,
            start.data_type().clone(),
            true,
        )));
        fields.push(Arc::new(Field::new(
            END_AT,
            start.data_type().clone(),
            true,
        )));
        let batch =
            RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).table(&self.name)?;
        fit(&batch, self.files.schema()).table(&self.name)
    }

    /// Applies the snapshot in one commit carrying `props`: changed and new rows become current
    /// versions from `at`, and the current versions of keys the snapshot lacked end at `at`.
    pub async fn commit(
        self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let name = &self.name;
        let changes = concat_batches(&relaxed(&self.source_schema), &self.changed).table(name)?;
        let vanished: Vec<&[u8]> = self
            .current
            .iter()
            .filter(|(_, (_, seen))| !seen)
            .map(|(key, _)| key.as_ref())
            .collect();
        let parser = self.hashes.keys.parser();
        let key_columns = self
            .hashes
            .keys
            .convert_rows(vanished.iter().map(|k| parser.parse(k)))
            .table(name)?;
        let key_schema = Arc::new(
            self.source_schema
                .project(&source_indices(&self.source_schema, &self.keys))
                .table(name)?,
        );
        let deletes = RecordBatch::try_new(relaxed(&key_schema), key_columns).table(name)?;
        let input = HistoryInput {
            changes: Some((&changes, self.at_each(changes.num_rows())?)),
            deletes: Some((&deletes, self.at_each(deletes.num_rows())?)),
            kept_aside: None,
        };
        if changes.num_rows() == 0 && deletes.num_rows() == 0 {
            // Only new keys (or nothing): their files and the progress, no rewrite.
            self.files
                .commit(target, Vec::new(), append_operation(), Some(props))
                .await?;
            return Ok(CommitCounts {
                inserted: self.inserted,
                ..CommitCounts::default()
            });
        }
        // The new keys' files go into the same commit as the rewritten versions.
        target.staged = Some(self.files);
        let applied = target
            .apply_history(&self.keys, &self.tracked, input, None, props)
            .await;
        target.staged = None;
        let mut counts = applied?;
        counts.inserted += self.inserted;
        Ok(counts)
    }
}

/// Rows as (key bytes, 64-bit hash of some columns): how snapshots remember a table's rows
/// without holding them.
struct RowHashes {
    name: String,
    key_names: Vec<String>,
    value_names: Vec<String>,
    keys: RowConverter,
    values: RowConverter,
}

impl RowHashes {
    /// Hashes of `value_names` by `key_names`, columns of `schema`.
    fn new(
        schema: &Schema,
        name: &str,
        key_names: &[String],
        value_names: &[String],
    ) -> Result<Self> {
        let converter = |names: &[String]| -> Result<RowConverter> {
            let fields = names
                .iter()
                .map(|n| {
                    schema
                        .field_with_name(n)
                        .map(|f| SortField::new(f.data_type().clone()))
                })
                .collect::<Result<Vec<_>, _>>()
                .table(name)?;
            RowConverter::new(fields).table(name)
        };
        Ok(Self {
            name: name.to_owned(),
            keys: converter(key_names)?,
            values: converter(value_names)?,
            key_names: key_names.to_vec(),
            value_names: value_names.to_vec(),
        })
    }

    /// Each row's key bytes and the hash of its values.
    fn of(&self, batch: &RecordBatch) -> Result<Vec<(Box<[u8]>, u64)>> {
        let name = &self.name;
        let keys = self
            .keys
            .convert_columns(&pick(batch, &self.key_names).table(name)?)
            .table(name)?;
        let values = self
            .values
            .convert_columns(&pick(batch, &self.value_names).table(name)?)
            .table(name)?;
        Ok((0..batch.num_rows())
            .map(|i| {
                let mut hasher = DefaultHasher::new();
                values.row(i).as_ref().hash(&mut hasher);
                (Box::from(keys.row(i).as_ref()), hasher.finish())
            })
            .collect())
    }
}

impl Target {
    /// Every row of the table (only `columns` of it, when given), fitted to `schema`, batch by
    /// batch.
    async fn for_each_batch(
        &self,
        columns: Option<&[String]>,
        schema: &SchemaRef,
        mut each: impl FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        let name = &self.name;
        let store = self.table.object_store();
        for (_, file) in self.data_files()? {
            let mut rows = open_file(&store, &file, columns).await.table(name)?;
            while let Some(batch) = rows.try_next().await.table(name)? {
                each(fit(&batch, schema).table(name)?)?;
            }
        }
        Ok(())
    }
}
