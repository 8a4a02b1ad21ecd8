//! Replacing a table's rows with a snapshot as it streams in: each read is written to new data
//! files at once, and one commit at the end removes every old file and adds the new ones. The
//! rows are never all in memory; what is kept is one hash per key, to count what changed.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash as _, Hasher as _};

use arrow_array::RecordBatch;
use deltalake::arrow::row::{RowConverter, SortField};
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitProperties;
use futures::TryStreamExt as _;

use super::rewrite::{NewFiles, fit, open_file, overwrite_operation, pick};
use super::table::Target;
use super::write::CommitCounts;
use crate::error::{PipelineError, Result, TableContext as _};

/// A snapshot being written; [`SnapshotReplace::commit`] makes it the table's content.
pub struct SnapshotReplace {
    name: String,
    files: NewFiles,
    key_names: Vec<String>,
    keys: RowConverter,
    rows: RowConverter,
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
        let converter = |names: &[String]| -> Result<RowConverter> {
            let fields = names
                .iter()
                .map(|n| {
                    schema
                        .field_with_name(n)
                        .map(|f| SortField::new(f.data_type().clone()))
                })
                .collect::<Result<Vec<_>, _>>()
                .table(&name)?;
            RowConverter::new(fields).table(&name)
        };
        let mut replace = SnapshotReplace {
            files: NewFiles::for_table(self)?,
            keys: converter(&key_names)?,
            rows: converter(&all)?,
            key_names,
            name: name.clone(),
            before: HashMap::new(),
            new_keys: HashSet::new(),
            counts: CommitCounts::default(),
        };
        let store = self.table.object_store();
        for (_, file) in self.data_files()? {
            let mut rows = open_file(&store, &file, None).await.table(&name)?;
            while let Some(batch) = rows.try_next().await.table(&name)? {
                let batch = fit(&batch, &schema).table(&name)?;
                for (key, hash) in replace.hashes(&batch)? {
                    replace.before.insert(key, (hash, false));
                }
            }
        }
        Ok(replace)
    }
}

impl SnapshotReplace {
    /// Each row's key bytes and the hash of the whole row.
    fn hashes(&self, batch: &RecordBatch) -> Result<Vec<(Box<[u8]>, u64)>> {
        let all: Vec<String> = self
            .files
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let keys = self
            .keys
            .convert_columns(&pick(batch, &self.key_names).table(&self.name)?)
            .table(&self.name)?;
        let rows = self
            .rows
            .convert_columns(&pick(batch, &all).table(&self.name)?)
            .table(&self.name)?;
        Ok((0..batch.num_rows())
            .map(|i| {
                let mut hasher = DefaultHasher::new();
                rows.row(i).as_ref().hash(&mut hasher);
                (Box::from(keys.row(i).as_ref()), hasher.finish())
            })
            .collect())
    }

    /// Writes part of the snapshot to new (not yet committed) data files.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let batch = fit(batch, self.files.schema()).table(&self.name)?;
        for (key, hash) in self.hashes(&batch)? {
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
