//! Changes by key (SCD type 1): upserts, where per key the change with the highest sequence
//! wins and an older change never overwrites a newer row, and deletes, which remove the rows no
//! newer than each delete and are recorded as tombstones first (idempotent), so that later,
//! older upserts are recognised and cannot resurrect a deleted key.

use arrow_array::RecordBatch;
use deltalake::arrow::compute::concat_batches;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;

use super::dedupe::latest_per_key;
use super::rewrite::{OnMatch, Precedence};
use super::sink::{ApplyRows, CommitCounts};
use super::table::Target;
use super::tombstones::TOMBSTONE_SEQUENCE;
use crate::error::{Result, TableContext as _};

/// A cdc flow's operation (SCD 1): its records upserted, or its deleted records deleted.
pub(crate) struct ByKey {
    keys: Vec<String>,
    sequence: Option<String>,
    change: KeyedChange,
    /// The most Arrow bytes of upserts held to the end of the run (one row per key) before
    /// they are committed anyway.
    stage_bytes: usize,
    /// Whether the upserts held rewrite data files, so the commit waits for the run's end.
    holding: bool,
}

impl ByKey {
    /// `change` by `keys`, ordered by `sequence`, holding upserts that rewrite files up to
    /// `stage_bytes`.
    pub(crate) fn new(
        keys: Vec<String>,
        sequence: Option<String>,
        change: KeyedChange,
        stage_bytes: usize,
    ) -> Self {
        Self {
            keys,
            sequence,
            change,
            stage_bytes,
            holding: false,
        }
    }

    /// One change's precedence over a table row.
    fn precedence(&self) -> Precedence<'_> {
        self.sequence
            .as_deref()
            .map_or(Precedence::Always, Precedence::NotOlder)
    }
}

/// What the rows of a [`ByKey`] commit do.
pub(crate) enum KeyedChange {
    /// Upsert; with deletes, a change no newer than its key's recorded delete is dropped.
    Upsert { tombstones: Option<Target> },
    /// Delete, recording the deletes in `tombstones`.
    Delete { tombstones: Target },
}

impl ApplyRows for ByKey {
    async fn apply(
        &mut self,
        target: &mut Target,
        rows: Vec<RecordBatch>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let (keys, sequence) = (&self.keys, self.sequence.as_deref());
        // The held rows are released as `latest` is gathered; without them the rewrite has room.
        let mut latest = latest_per_key(rows, keys, sequence).table(&target.name)?;
        let precedence = sequence.map_or(Precedence::Always, Precedence::NotOlder);
        self.holding = false;
        let on_match = match &mut self.change {
            KeyedChange::Upsert { tombstones } => {
                if let (Some(tombstones), Some(seq)) = (tombstones, sequence)
                    && tombstones.exists()
                {
                    latest = not_deleted(target, latest, keys, seq, tombstones).await?;
                }
                OnMatch::Upsert(precedence)
            }
            KeyedChange::Delete { tombstones } => {
                if let Some(seq) = sequence {
                    tombstones.record_deletes(&latest, keys, seq, false).await?;
                }
                OnMatch::Delete(precedence)
            }
        };
        target
            .rewrite_matched(&latest, keys, on_match, Some(props), None)
            .await
    }

    /// Upserts that rewrite data files are held to the end of the run (one row per key, up to
    /// `stage_bytes`), so that the table is rewritten once per run; upserts that only insert
    /// new keys are committed as they come (a full load streams into the table).
    async fn defer(&mut self, target: &Target, rows: &mut Vec<RecordBatch>) -> Result<bool> {
        if !matches!(self.change, KeyedChange::Upsert { .. }) || rows.is_empty() {
            return Ok(false);
        }
        let held = std::mem::take(rows);
        let latest =
            latest_per_key(held, &self.keys, self.sequence.as_deref()).table(&target.name)?;
        let bytes = latest.get_array_memory_size();
        *rows = vec![latest];
        if bytes >= self.stage_bytes {
            return Ok(false);
        }
        if !self.holding {
            self.holding = target
                .rewrites_any(&rows[0], &self.keys, self.precedence())
                .await?;
        }
        Ok(self.holding)
    }
}

/// The changes of `latest` newer than their key's recorded delete, if any.
async fn not_deleted(
    target: &Target,
    latest: RecordBatch,
    keys: &[String],
    sequence: &str,
    tombstones: &Target,
) -> Result<RecordBatch> {
    let name = &target.name;
    let schema = latest.schema();
    let ctx = SessionContext::new();
    ctx.register_batch("s", latest).table(name)?;
    ctx.register_table("d", tombstones.table.table_provider().await.table(name)?)
        .table(name)?;
    let on = keys
        .iter()
        .map(|k| format!("d.\"{k}\" = s.\"{k}\""))
        .collect::<Vec<_>>()
        .join(" AND ");
    let sql = format!(
        "SELECT s.* FROM s WHERE NOT EXISTS (SELECT 1 FROM d WHERE {on} AND d.\"{TOMBSTONE_SEQUENCE}\" >= s.\"{sequence}\")"
    );
    let kept = target.sql_batches(&ctx, &sql).await?;
    concat_batches(&schema, &kept).table(name)
}
