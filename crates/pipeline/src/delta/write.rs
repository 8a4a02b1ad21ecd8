//! The four ways a flow changes a destination table, each one Delta commit carrying the flow's
//! progress: append, upsert by key (SCD type 1) and delete by key (replacing with a snapshot is
//! in `snapshot.rs`).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use deltalake::arrow::compute::concat_batches;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;
use url::Url;

use super::dedupe::latest_per_key;
use super::rewrite::{NewFiles, OnMatch, Precedence, append_operation};
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

impl Target {
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
        let mut latest = latest_per_key(batches, keys, sequence).table(&self.name)?;
        if let (Some(tombs), Some(seq)) = (tombstones, sequence)
            && tombs.exists()
        {
            latest = self.not_deleted(latest, keys, seq, tombs).await?;
        }
        let precedence = sequence.map_or(Precedence::Always, Precedence::NotOlder);
        let done = self
            .rewrite_matched(&latest, keys, OnMatch::Upsert(precedence), Some(props))
            .await?;
        Ok(CommitCounts {
            inserted: done.inserted,
            updated: done.updated,
            ..CommitCounts::default()
        })
    }

    /// The changes of `latest` newer than their key's recorded delete, if any.
    async fn not_deleted(
        &self,
        latest: RecordBatch,
        keys: &[String],
        sequence: &str,
        tombstones: &Target,
    ) -> Result<RecordBatch> {
        let schema = latest.schema();
        let ctx = SessionContext::new();
        ctx.register_batch("s", latest).table(&self.name)?;
        ctx.register_table(
            "d",
            tombstones.table.table_provider().await.table(&self.name)?,
        )
        .table(&self.name)?;
        let on = keys
            .iter()
            .map(|k| format!("d.\"{k}\" = s.\"{k}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!(
            "SELECT s.* FROM s WHERE NOT EXISTS (SELECT 1 FROM d WHERE {on} AND d.\"{TOMBSTONE_SEQUENCE}\" >= s.\"{sequence}\")"
        );
        let kept = self.sql_batches(&ctx, &sql).await?;
        concat_batches(&schema, &kept).table(&self.name)
    }

    /// The result of `sql` on `ctx`, collected.
    pub(crate) async fn sql_batches(
        &self,
        ctx: &SessionContext,
        sql: &str,
    ) -> Result<Vec<RecordBatch>> {
        let frame = ctx.sql(sql).await.table(&self.name)?;
        frame.collect().await.table(&self.name)
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
            tombstones.record(&latest, keys, seq, false).await?;
        }
        let precedence = sequence.map_or(Precedence::Always, Precedence::NotOlder);
        let done = self
            .rewrite_matched(&latest, keys, OnMatch::Delete(precedence), Some(props))
            .await?;
        Ok(CommitCounts {
            deleted: done.deleted,
            ..CommitCounts::default()
        })
    }

    /// Records deletes: key columns plus [`TOMBSTONE_SEQUENCE`]. SCD 1 needs only the newest
    /// delete per key; SCD 2 (`every`) keeps each one, since an older delete still closes a
    /// version that a late change opens before it.
    pub(crate) async fn record(
        &mut self,
        deletes: &RecordBatch,
        keys: &[String],
        sequence: &str,
        every: bool,
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
        if every {
            let mut on = keys.to_vec();
            on.push(TOMBSTONE_SEQUENCE.to_owned());
            let add = OnMatch::Upsert(Precedence::Always);
            self.rewrite_matched(&batch, &on, add, None).await?;
        } else {
            let newer = OnMatch::Upsert(Precedence::Newer(TOMBSTONE_SEQUENCE));
            self.rewrite_matched(&batch, keys, newer, None).await?;
        }
        Ok(())
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

/// An append being written: each read goes to new data files as it arrives, and the commit adds
/// them, so memory holds one read and one row group, whatever the commit's size.
pub struct StreamedAppend {
    files: NewFiles,
    rows: usize,
}

impl Target {
    /// Starts an append to this (existing) table.
    pub fn begin_append(&self) -> Result<StreamedAppend> {
        Ok(StreamedAppend {
            files: NewFiles::for_table(self)?,
            rows: 0,
        })
    }
}

impl StreamedAppend {
    /// Writes rows to new (not yet committed) data files.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows();
        self.files.write(batch).await
    }

    /// Adds the written files in one commit carrying `props`.
    pub async fn commit(
        self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        self.files
            .commit(target, Vec::new(), append_operation(), Some(props))
            .await?;
        Ok(CommitCounts {
            appended: self.rows,
            ..CommitCounts::default()
        })
    }
}

/// Where a table's tombstones live: beside its data, under `_lakeflow/` (ignored by readers),
/// in the folder of the table's state generation (a full refresh starts a new one).
pub fn tombstones_url(table_url: &Url, generation: u64) -> Url {
    state_table_url(table_url, generation, "tombstones")
}

/// Where an SCD 2 table keeps the changes that made no version (see `history.rs`).
pub fn kept_aside_url(table_url: &Url, generation: u64) -> Url {
    state_table_url(table_url, generation, "unchanged")
}

fn state_table_url(table_url: &Url, generation: u64, name: &str) -> Url {
    let mut url = table_url.clone();
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    // Generation 0 keeps the layout of tables made before full refreshes had generations.
    let folder = if generation == 0 {
        format!("_lakeflow/{name}/")
    } else {
        format!("_lakeflow/g{generation}/{name}/")
    };
    url.join(&folder).unwrap_or(url)
}
