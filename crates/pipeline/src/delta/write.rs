//! The four ways a flow changes a destination table, each one Delta commit carrying the flow's
//! progress: append, upsert by key (SCD type 1), delete by key, and replace (snapshot SCD 1).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use deltalake::datafusion::common::Column;
use deltalake::datafusion::prelude::{DataFrame, Expr, SessionContext, lit};
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::merge::MergeMetrics;
use deltalake::protocol::SaveMode;
use url::Url;

use super::dedupe::latest_per_key;
use super::table::Target;
use crate::error::{Result, TableContext as _};

/// Column of the tombstone table holding the sequence value of the delete.
pub const TOMBSTONE_SEQUENCE: &str = "__DELETED_AT";

/// Rows changed by one commit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CommitCounts {
    /// Rows appended (append flows).
    pub appended: usize,
    /// New keys inserted.
    pub inserted: usize,
    /// Existing keys updated.
    pub updated: usize,
    /// Keys deleted.
    pub deleted: usize,
}

impl std::ops::AddAssign for CommitCounts {
    fn add_assign(&mut self, other: Self) {
        self.appended += other.appended;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.deleted += other.deleted;
    }
}

pub(crate) fn column(relation: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(relation), name))
}

/// `t.k1 = s.k1 AND t.k2 = s.k2 ...`
pub(crate) fn keys_match(keys: &[String]) -> Expr {
    keys.iter()
        .map(|k| column("t", k).eq(column("s", k)))
        .reduce(Expr::and)
        .unwrap_or_else(|| lit(false))
}

/// The source change is at least as new as the target row (or the target has no sequence).
fn source_not_older(sequence: Option<&str>, target_sequence: &str) -> Expr {
    match sequence {
        Some(seq) => column("s", seq)
            .gt_eq(column("t", target_sequence))
            .or(column("t", target_sequence).is_null()),
        None => lit(true),
    }
}

impl Target {
    /// Appends every row.
    pub async fn append(
        &mut self,
        batches: Vec<RecordBatch>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let appended = batches.iter().map(RecordBatch::num_rows).sum();
        self.table = self
            .table
            .clone()
            .write(batches)
            .with_save_mode(SaveMode::Append)
            .with_commit_properties(props)
            .await
            .table(&self.name)?;
        Ok(CommitCounts {
            appended,
            ..CommitCounts::default()
        })
    }

    /// Replaces the table's rows with `batches` (a snapshot, SCD type 1).
    pub async fn replace(
        &mut self,
        batches: Vec<RecordBatch>,
        keys: &[String],
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let counts = self.snapshot_diff(&batches, keys).await?;
        self.table = self
            .table
            .clone()
            .write(batches)
            .with_save_mode(SaveMode::Overwrite)
            .with_commit_properties(props)
            .await
            .table(&self.name)?;
        Ok(counts)
    }

    /// Upserts by key: per key the change with the highest `sequence` wins, and an older change
    /// never overwrites a newer row. With `tombstones`, a change no newer than the key's delete
    /// is dropped, so a late upsert cannot resurrect a deleted key.
    pub async fn upsert(
        &mut self,
        batches: &[RecordBatch],
        keys: &[String],
        sequence: Option<&str>,
        tombstones: Option<&Target>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let latest = latest_per_key(batches, keys, sequence).table(&self.name)?;
        let ctx = SessionContext::new();
        let mut source = ctx.read_batch(latest.clone()).table(&self.name)?;
        if let (Some(tombs), Some(seq)) = (tombstones, sequence)
            && tombs.exists()
        {
            ctx.register_batch("s", latest).table(&self.name)?;
            ctx.register_table("d", tombs.table.table_provider().await.table(&self.name)?)
                .table(&self.name)?;
            let on = keys
                .iter()
                .map(|k| format!("d.\"{k}\" = s.\"{k}\""))
                .collect::<Vec<_>>()
                .join(" AND ");
            let sql = format!(
                "SELECT s.* FROM s WHERE NOT EXISTS (SELECT 1 FROM d WHERE {on} AND d.\"{TOMBSTONE_SEQUENCE}\" >= s.\"{seq}\")"
            );
            source = ctx.sql(&sql).await.table(&self.name)?;
        }
        let metrics = self
            .merge_all(
                source,
                keys_match(keys),
                source_not_older(sequence, sequence.unwrap_or("")),
                Some(props),
            )
            .await?;
        Ok(CommitCounts {
            inserted: metrics.num_target_rows_inserted,
            updated: metrics.num_target_rows_updated,
            ..CommitCounts::default()
        })
    }

    /// Deletes by key the rows no newer than each delete, and records the deletes in
    /// `tombstones` first (idempotent), so later, older upserts are recognised.
    pub async fn delete_keys(
        &mut self,
        batches: &[RecordBatch],
        keys: &[String],
        sequence: Option<&str>,
        tombstones: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let latest = latest_per_key(batches, keys, sequence).table(&self.name)?;
        if let Some(seq) = sequence {
            tombstones.record(&latest, keys, seq).await?;
        }
        let ctx = SessionContext::new();
        let source = ctx.read_batch(latest).table(&self.name)?;
        let version = self.table.version();
        let predicate = match sequence {
            Some(seq) => column("t", seq)
                .lt_eq(column("s", seq))
                .or(column("t", seq).is_null()),
            None => lit(true),
        };
        let (table, metrics) = self
            .table
            .clone()
            .merge(source, keys_match(keys))
            .with_source_alias("s")
            .with_target_alias("t")
            .when_matched_delete(|delete| delete.predicate(predicate))
            .table(&self.name)?
            .with_commit_properties(props.clone())
            .await
            .table(&self.name)?;
        self.table = table;
        if self.table.version() == version {
            self.commit_progress(props).await?;
        }
        Ok(CommitCounts {
            deleted: metrics.num_target_rows_deleted,
            ..CommitCounts::default()
        })
    }

    /// Keeps the newest delete per key: key columns plus [`TOMBSTONE_SEQUENCE`].
    pub(crate) async fn record(
        &mut self,
        deletes: &RecordBatch,
        keys: &[String],
        sequence: &str,
    ) -> Result<()> {
        let mut fields: Vec<Arc<Field>> = Vec::new();
        let mut columns = Vec::new();
        for name in keys.iter().map(String::as_str).chain([sequence]) {
            let index = deletes.schema().index_of(name).table(&self.name)?;
            let field = deletes.schema().field(index).clone();
            let field = if name == sequence {
                field.with_name(TOMBSTONE_SEQUENCE).with_nullable(true)
            } else {
                field
            };
            fields.push(Arc::new(field));
            columns.push(deletes.column(index).clone());
        }
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns).table(&self.name)?;
        self.ensure_schema(&schema).await?;
        let source = SessionContext::new().read_batch(batch).table(&self.name)?;
        let newer = column("s", TOMBSTONE_SEQUENCE)
            .gt(column("t", TOMBSTONE_SEQUENCE))
            .or(column("t", TOMBSTONE_SEQUENCE).is_null());
        self.merge_all(source, keys_match(keys), newer, None)
            .await?;
        Ok(())
    }

    /// MERGE `source` (aliased `s`) into the table (aliased `t`) on `on`: matched rows passing
    /// `when` take every column of the source, unmatched source rows are inserted. With
    /// `progress`, the commit carries it, and a merge that changes nothing still records it.
    pub(crate) async fn merge_all(
        &mut self,
        source: DataFrame,
        on: Expr,
        when: Expr,
        progress: Option<CommitProperties>,
    ) -> Result<MergeMetrics> {
        let columns: Vec<String> = self
            .arrow_schema()?
            .map(|s| s.fields().iter().map(|f| f.name().clone()).collect())
            .unwrap_or_default();
        let version = self.table.version();
        let mut merge = self
            .table
            .clone()
            .merge(source, on)
            .with_source_alias("s")
            .with_target_alias("t")
            .when_matched_update(|mut update| {
                update = update.predicate(when);
                for c in &columns {
                    update = update.update(c.as_str(), column("s", c));
                }
                update
            })
            .table(&self.name)?
            .when_not_matched_insert(|mut insert| {
                for c in &columns {
                    insert = insert.set(c.as_str(), column("s", c));
                }
                insert
            })
            .table(&self.name)?;
        if let Some(props) = &progress {
            merge = merge.with_commit_properties(props.clone());
        }
        let (table, metrics) = merge.await.table(&self.name)?;
        self.table = table;
        if let Some(props) = progress
            && self.table.version() == version
        {
            self.commit_progress(props).await?;
        }
        Ok(metrics)
    }

    /// Rows in the table (0 when it does not exist).
    pub async fn row_count(&self) -> Result<usize> {
        if !self.exists() {
            return Ok(0);
        }
        let ctx = SessionContext::new();
        let provider = self.table.table_provider().await.table(&self.name)?;
        ctx.read_table(provider)
            .table(&self.name)?
            .count()
            .await
            .table(&self.name)
    }
}

/// Where a table's tombstones live: beside its data, under `_lakeflow/` (ignored by readers).
pub fn tombstones_url(table_url: &Url) -> Url {
    let mut url = table_url.clone();
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    url.join("_lakeflow/tombstones/").unwrap_or(url)
}
