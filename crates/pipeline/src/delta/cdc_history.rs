//! SCD 2 for cdc flows: their changes and their deletes, each commit applied to the table's
//! versions by [`super::versions`].

use arrow_array::{ArrayRef, RecordBatch};
use deltalake::arrow::compute::concat_batches;
use deltalake::kernel::transaction::CommitProperties;

use super::dedupe::latest_per_key;
use super::sink::{ApplyRows, CommitCounts};
use super::table::Target;
use super::versions::{ApplyVersions, Facts};
use crate::error::{PipelineError, Result, TableContext as _};

/// The SCD 2 columns of a cdc table: keys, the sequence and the columns whose changes make
/// versions.
pub(crate) struct HistoryColumns {
    pub keys: Vec<String>,
    pub sequence: String,
    pub tracked: Vec<String>,
}

impl HistoryColumns {
    /// The sequence values of `rows`, which must carry the sequence column.
    fn sequence_of(&self, rows: &RecordBatch, target: &Target, what: &str) -> Result<ArrayRef> {
        rows.column_by_name(&self.sequence)
            .cloned()
            .ok_or_else(|| PipelineError::State {
                table: target.name.clone(),
                reason: format!("no sequence column `{}` in the {what}", self.sequence),
            })
    }
}

/// SCD 2 for a cdc flow's changes: every change of a tracked column makes a version.
pub(crate) struct HistoryChanges {
    pub columns: HistoryColumns,
    /// Deletes recorded by the table's deletes flow, if it has one.
    pub tombstones: Option<Target>,
    pub kept_aside: Target,
}

impl ApplyRows for HistoryChanges {
    async fn apply(
        &mut self,
        target: &mut Target,
        rows: Vec<RecordBatch>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let changes = concat_batches(&rows[0].schema(), &rows).table(&target.name)?;
        let seq = self.columns.sequence_of(&changes, target, "records")?;
        let facts = Facts {
            changes: Some((&changes, seq)),
            ..Facts::default()
        };
        ApplyVersions {
            target,
            keys: &self.columns.keys,
            tracked: &self.columns.tracked,
            tombstones: self.tombstones.as_ref(),
            kept_aside: Some((&mut self.kept_aside, &self.columns.sequence)),
        }
        .apply(facts, None, props)
        .await
    }
}

/// SCD 2 for a deletes flow: each delete closes the key's version open at its time.
pub(crate) struct HistoryDeletes {
    pub columns: HistoryColumns,
    pub tombstones: Target,
    pub kept_aside: Target,
}

impl ApplyRows for HistoryDeletes {
    async fn apply(
        &mut self,
        target: &mut Target,
        rows: Vec<RecordBatch>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let HistoryColumns {
            keys,
            sequence,
            tracked,
        } = &self.columns;
        let mut key_and_sequence = keys.clone();
        key_and_sequence.push(sequence.clone());
        let distinct = latest_per_key(rows.clone(), &key_and_sequence, None).table(&target.name)?;
        self.tombstones
            .record_deletes(&distinct, keys, sequence, true)
            .await?;
        // Every delete closes what is open at its time, not only each key's newest.
        let deletes = concat_batches(&rows[0].schema(), &rows).table(&target.name)?;
        let seq = self
            .columns
            .sequence_of(&deletes, target, "deleted records")?;
        let facts = Facts {
            deletes: Some((&deletes, seq)),
            ..Facts::default()
        };
        ApplyVersions {
            target,
            keys,
            tracked,
            tombstones: None,
            kept_aside: Some((&mut self.kept_aside, sequence)),
        }
        .apply(facts, None, props)
        .await
    }
}
