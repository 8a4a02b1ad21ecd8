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
use deltalake::arrow::row::RowConverter;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitProperties;
use futures::TryStreamExt as _;

use super::files::{NewFiles, converter, fit, open_file, overwrite_operation, pick};
use super::history::{END_AT, START_AT, conform, relaxed, source_columns, source_indices};
use super::sink::{CommitCounts, Operation};
use super::table::Target;
use super::versions::{ApplyVersions, Facts};
use crate::error::{PipelineError, Result, TableContext as _};

/// A snapshot being written; [`SnapshotReplace::commit`] makes it the table's content.
pub(crate) struct SnapshotReplace {
    name: String,
    /// The new files, until the commit takes them.
    files: Option<NewFiles>,
    /// Key bytes and a hash of the whole row.
    hashes: RowHashes,
    /// Per key of the table before: the hash of its row, and whether the snapshot has it.
    before: HashMap<Box<[u8]>, (u64, bool)>,
    /// Keys of the snapshot the table did not have.
    new_keys: HashSet<Box<[u8]>>,
    counts: CommitCounts,
}

impl SnapshotReplace {
    /// Starts replacing the rows of `target` (which exists); rows are compared by `keys`, or as
    /// a whole without keys.
    pub(crate) async fn new(target: &Target, keys: &[String]) -> Result<Self> {
        let name = target.name.clone();
        let schema = target.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: name.clone(),
            reason: "cannot replace the rows of a table that does not exist".to_owned(),
        })?;
        let all: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let key_names = if keys.is_empty() {
            all.clone()
        } else {
            keys.to_vec()
        };
        let mut before = HashMap::new();
        let hashes = RowHashes::new(&schema, &name, &key_names, &all)?;
        target
            .for_each_batch(None, &schema, |batch| {
                for (key, hash) in hashes.of(&batch)? {
                    before.insert(key, (hash, false));
                }
                Ok(())
            })
            .await?;
        Ok(Self {
            files: Some(NewFiles::for_table(target)?),
            hashes,
            name,
            before,
            new_keys: HashSet::new(),
            counts: CommitCounts::default(),
        })
    }

    /// The new files, or an error once the commit took them.
    fn files(&mut self) -> Result<&mut NewFiles> {
        self.files
            .as_mut()
            .ok_or_else(|| committed_twice(&self.name))
    }
}

impl Operation for SnapshotReplace {
    /// Writes part of the snapshot to new (not yet committed) data files.
    async fn write(&mut self, _target: &Target, batch: &RecordBatch) -> Result<()> {
        let batch = fit(batch, self.files()?.schema()).table(&self.name)?;
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
        self.files()?.write(&batch).await
    }

    /// Makes the written snapshot the table's rows in one commit carrying `props`: every old
    /// file removed, every new one added.
    async fn commit(
        &mut self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let files = self
            .files
            .take()
            .ok_or_else(|| committed_twice(&self.name))?;
        self.counts.deleted = self.before.values().filter(|(_, seen)| !seen).count();
        let removes: Vec<Action> = target
            .data_files()?
            .into_iter()
            .map(|(_, file)| Action::Remove(file.remove))
            .collect();
        let files = files
            .commit(target, removes, overwrite_operation(), Some(props))
            .await?;
        Ok(CommitCounts {
            files_added: files.files_added,
            files_removed: files.files_removed,
            ..self.counts
        })
    }
}

/// A snapshot is one commit: a second one would apply nothing (or everything) again.
fn committed_twice(name: &str) -> PipelineError {
    PipelineError::State {
        table: name.to_owned(),
        reason: "a snapshot was committed twice".to_owned(),
    }
}

/// An SCD 2 snapshot as it streams in. Rows of keys without a current version are written to
/// new data files at once (as versions from the snapshot's time); rows that change a key's
/// current version are kept; rows equal to it are dropped. What is held per current version is
/// its key and a 64-bit hash of its tracked values, so memory follows the changes and the
/// number of keys, not the rows. Its commit also closes the versions of keys the snapshot
/// lacks.
pub(crate) struct HistorySnapshot {
    name: String,
    /// The snapshot's time: where new versions start and vanished keys' versions end.
    at: ArrayRef,
    /// New versions of keys without a current version, until the commit takes them.
    files: Option<NewFiles>,
    /// Keys written to `files` (a later row of the same key in the snapshot is dropped).
    new_keys: HashSet<Box<[u8]>>,
    inserted: usize,
    keys: Vec<String>,
    tracked: Vec<String>,
    /// The table's columns without `__START_AT` / `__END_AT`: what a snapshot row holds.
    source_schema: SchemaRef,
    /// All the table's columns: what a version holds.
    table_schema: SchemaRef,
    /// Key bytes and a hash of the tracked columns.
    hashes: RowHashes,
    /// Per key with a current version: the hash of its tracked values, and whether the snapshot
    /// has the key.
    current: HashMap<Box<[u8]>, (u64, bool)>,
    changed: Vec<RecordBatch>,
}

impl HistorySnapshot {
    /// Starts reading an SCD 2 snapshot taken at `at` (one timestamp) into `target`, an
    /// existing history table.
    pub(crate) async fn new(
        target: &Target,
        keys: &[String],
        tracked: &[String],
        at: ArrayRef,
    ) -> Result<Self> {
        let name = target.name.clone();
        let schema = target.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: name.clone(),
            reason: "cannot apply a snapshot to a table that does not exist".to_owned(),
        })?;
        let (_, source_schema) = source_columns(&schema).table(&name)?;
        let hashes = RowHashes::new(&schema, &name, keys, tracked)?;
        let mut current = HashMap::new();
        // Only what identifies and compares current versions is read.
        let mut columns = keys.to_vec();
        columns.extend(tracked.iter().filter(|t| !keys.contains(t)).cloned());
        columns.push(END_AT.to_owned());
        let read_schema = Arc::new(
            schema
                .project(&source_indices(&schema, &columns))
                .table(&name)?,
        );
        target
            .for_each_batch(Some(&columns), &read_schema, |batch| {
                let Some(end) = batch.column_by_name(END_AT) else {
                    return Ok(());
                };
                let open = is_null(end.as_ref()).table(&name)?;
                let batch = filter_record_batch(&batch, &open).table(&name)?;
                for (key, hash) in hashes.of(&batch)? {
                    current.insert(key, (hash, false));
                }
                Ok(())
            })
            .await?;
        Ok(Self {
            files: Some(NewFiles::for_table(target)?),
            hashes,
            keys: keys.to_vec(),
            tracked: tracked.to_vec(),
            source_schema,
            table_schema: schema,
            current,
            changed: Vec::new(),
            at,
            new_keys: HashSet::new(),
            inserted: 0,
            name,
        })
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
        fit(&batch, &self.table_schema).table(&self.name)
    }
}

impl Operation for HistorySnapshot {
    /// Takes part of the snapshot: rows of new keys go to data files, rows equal to their key's
    /// current version are dropped, the others are kept for the commit.
    async fn write(&mut self, _target: &Target, batch: &RecordBatch) -> Result<()> {
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
            let files = self
                .files
                .as_mut()
                .ok_or_else(|| committed_twice(&self.name))?;
            files.write(&versions).await?;
        }
        Ok(())
    }

    /// Applies the snapshot in one commit carrying `props`: changed and new rows become current
    /// versions from `at`, and the current versions of keys the snapshot lacked end at `at`.
    async fn commit(
        &mut self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let name = &self.name;
        let files = self.files.take().ok_or_else(|| committed_twice(name))?;
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
        if changes.num_rows() == 0 && deletes.num_rows() == 0 {
            // Only new keys (or nothing): their files and the progress, no rewrite.
            let files = files.append(target, props).await?;
            return Ok(CommitCounts {
                inserted: self.inserted,
                ..files
            });
        }
        let facts = Facts {
            changes: Some((&changes, self.at_each(changes.num_rows())?)),
            deletes: Some((&deletes, self.at_each(deletes.num_rows())?)),
        };
        let mut counts = ApplyVersions {
            target,
            keys: &self.keys,
            tracked: &self.tracked,
            tombstones: None,
            kept_aside: None,
        }
        // The new keys' files go into the same commit as the rewritten versions.
        .apply(facts, Some(files), props)
        .await?;
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
        schema: &SchemaRef,
        name: &str,
        key_names: &[String],
        value_names: &[String],
    ) -> Result<Self> {
        let converter = |names: &[String]| converter(schema, names).table(name);
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
