//! Opening, creating and evolving destination tables, and the commit properties that make a
//! commit carry its flow's progress.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::engine::arrow_conversion::TryFromArrow as _;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{StructType, Transaction};
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, Path};
use lakeflow_connect::Offset;
use serde_json::Value;
use url::Url;

use crate::error::{PipelineError, Result, TableContext as _};

/// Key under which a commit's `commitInfo` records the offset the flow reached.
pub const OFFSET_KEY: &str = "lakeflow.offset";
/// Key under which a commit's `commitInfo` records which flow made it.
pub const FLOW_KEY: &str = "lakeflow.flow";

/// Key under which a commit's `commitInfo` records the flow's batch (also in its `txn`).
pub const BATCH_KEY: &str = "lakeflow.batch";
/// Key under which a full refresh's `commitInfo` records the new generation and flow batches.
pub const FULL_REFRESH_KEY: &str = "lakeflow.fullRefresh";
/// Table property counting full refreshes: the generation of the pipeline state in use.
pub const GENERATION_PROPERTY: &str = "lakeflow.generation";

/// Table property recording the spec's `cluster_by` columns.
pub const CLUSTER_BY_PROPERTY: &str = "lakeflow.clusterBy";

/// A destination table, possibly not created yet.
pub struct Target {
    /// The name used in messages (`catalog.schema.table`).
    pub name: String,
    pub table: DeltaTable,
    /// Columns the rows of every new data file are sorted by (the spec's `cluster_by`).
    pub cluster_by: Vec<String>,
}

impl Target {
    /// Opens the table at `url`; a location without a table yet is fine.
    pub async fn open(name: &str, url: &Url) -> Result<Self> {
        if url.scheme() == "file" {
            let path = url.to_file_path().map_err(|()| PipelineError::Warehouse {
                location: url.to_string(),
                reason: "not a local path".to_owned(),
            })?;
            std::fs::create_dir_all(&path).map_err(|e| PipelineError::Warehouse {
                location: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let table = DeltaTable::try_from_url(url.clone()).await.map_err(|e| {
            PipelineError::State {
                table: name.to_owned(),
                reason: format!(
                    "the Delta log at {} cannot be loaded ({e}); `--full-refresh` of this table \
                     reloads it",
                    location(url)
                ),
            }
        })?;
        Ok(Self {
            name: name.to_owned(),
            table,
            cluster_by: Vec::new(),
        })
    }

    /// Sorts the rows of every data file this target writes by `columns`, and records them in
    /// the table property [`CLUSTER_BY_PROPERTY`] when the table is created.
    #[must_use]
    pub fn clustered_by(mut self, columns: &[String]) -> Self {
        self.cluster_by = columns.to_vec();
        self
    }

    /// Whether the Delta table exists (has a first commit).
    pub fn exists(&self) -> bool {
        self.table.version().is_some()
    }

    /// The last batch a flow committed, from the Delta `txn` action of its app id.
    pub async fn committed_batch(&self, app_id: &str) -> Result<Option<i64>> {
        if !self.exists() {
            return Ok(None);
        }
        let snapshot = self.table.snapshot().table(&self.name)?;
        snapshot
            .transaction_version(self.table.log_store().as_ref(), app_id)
            .await
            .table(&self.name)
    }

    /// Checks, on the table's latest version, that the last batch `app_id` committed is
    /// `expected`: delta-rs does not refuse a second commit of the same (app id, batch), so
    /// two runs writing one table must be caught here.
    pub async fn check_committed(&mut self, app_id: &str, expected: Option<i64>) -> Result<()> {
        if self.exists() {
            self.table
                .update_incremental(None)
                .await
                .table(&self.name)?;
        }
        let committed = self.committed_batch(app_id).await?;
        if committed == expected {
            return Ok(());
        }
        Err(PipelineError::State {
            table: self.name.clone(),
            reason: format!(
                "another run is writing this table: flow `{app_id}` is at batch {} but this run expected {}",
                committed.map_or_else(|| "none".to_owned(), |b| b.to_string()),
                expected.map_or_else(|| "none".to_owned(), |b| b.to_string()),
            ),
        })
    }

    /// The table's Arrow schema, if it exists.
    pub fn arrow_schema(&self) -> Result<Option<SchemaRef>> {
        if !self.exists() {
            return Ok(None);
        }
        Ok(Some(
            self.table
                .snapshot()
                .table(&self.name)?
                .snapshot()
                .arrow_schema(),
        ))
    }

    /// Creates the table with `schema` if missing; adds new nullable columns if the schema grew;
    /// fails naming the column when a column's type changed or a new column is not nullable.
    pub async fn ensure_schema(&mut self, schema: &SchemaRef) -> Result<()> {
        let wanted = StructType::try_from_arrow(schema.as_ref()).table(&self.name)?;
        if !self.exists() {
            let clustering = (!self.cluster_by.is_empty())
                .then(|| (CLUSTER_BY_PROPERTY, Some(self.cluster_by.join(","))));
            self.table = self
                .table
                .create()
                .with_columns(wanted.fields().cloned())
                .with_configuration(clustering)
                // Our own property is not a Delta one: keep it rather than refuse it.
                .with_raise_if_key_not_exists(false)
                .with_save_mode(SaveMode::Ignore)
                .await
                .table(&self.name)?;
            return Ok(());
        }
        let current = self.table.snapshot().table(&self.name)?.schema();
        let mut grows = false;
        for field in wanted.fields() {
            match current.field(field.name()) {
                Some(existing) if existing.data_type() == field.data_type() => {}
                Some(existing) => {
                    return Err(PipelineError::SchemaChange {
                        table: self.name.clone(),
                        column: field.name().clone(),
                        reason: format!(
                            "the table has type {} but the source now sends {}",
                            existing.data_type(),
                            field.data_type()
                        ),
                    });
                }
                None if !field.is_nullable() => {
                    return Err(PipelineError::SchemaChange {
                        table: self.name.clone(),
                        column: field.name().clone(),
                        reason: "a new column must be nullable to be added to existing rows"
                            .to_owned(),
                    });
                }
                None => grows = true,
            }
        }
        if grows {
            // An empty write with schema merging adds the columns in one metadata commit.
            let empty = RecordBatch::new_empty(merged_schema(schema, &self.arrow_schema()?));
            self.table = self
                .table
                .clone()
                .write(vec![empty])
                .with_schema_mode(SchemaMode::Merge)
                .await
                .table(&self.name)?;
        }
        Ok(())
    }

    /// Records a flow's progress without data: a commit holding only the `txn` action and the
    /// offset (delta-rs makes no commit for merges and deletes that change nothing).
    pub async fn commit_progress(&mut self, props: CommitProperties) -> Result<()> {
        let schema = self.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: self.name.clone(),
            reason: "cannot record progress in a table that does not exist".to_owned(),
        })?;
        self.table = self
            .table
            .clone()
            .write(vec![RecordBatch::new_empty(schema)])
            .with_commit_properties(props)
            .await
            .table(&self.name)?;
        Ok(())
    }

    /// Reads a small state file kept beside the table's data (under `_lakeflow/`, which Delta
    /// readers and VACUUM ignore).
    pub async fn read_state(&self, relative: &str) -> Result<Option<Value>> {
        let store = self.table.object_store();
        match store.get(&Path::from(relative)).await {
            Ok(found) => {
                let bytes = found.bytes().await.map_err(|e| self.state_error(&e))?;
                let value = serde_json::from_slice(&bytes).map_err(|e| PipelineError::State {
                    table: self.name.clone(),
                    reason: format!("`{}` is not valid JSON ({e})", self.location_of(relative)),
                })?;
                Ok(Some(value))
            }
            Err(deltalake::ObjectStoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.state_error(&e)),
        }
    }

    /// Writes a state file (see [`Target::read_state`]).
    pub async fn write_state(&self, relative: &str, value: &Value) -> Result<()> {
        let store = self.table.object_store();
        let bytes = serde_json::to_vec(value).map_err(|e| self.state_error(&e))?;
        store
            .put(&Path::from(relative), bytes.into())
            .await
            .map_err(|e| self.state_error(&e))?;
        Ok(())
    }

    /// Removes a state file; a missing one is fine.
    pub async fn delete_state(&self, relative: &str) -> Result<()> {
        match self
            .table
            .object_store()
            .delete(&Path::from(relative))
            .await
        {
            Ok(()) | Err(deltalake::ObjectStoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.state_error(&e)),
        }
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

    /// Where a file of the table is, for messages: a local path or a URL.
    pub(crate) fn location_of(&self, relative: &str) -> String {
        format!("{}{relative}", location(self.table.table_url()))
    }

    pub(crate) fn state_error(&self, error: &dyn std::fmt::Display) -> PipelineError {
        PipelineError::State {
            table: self.name.clone(),
            reason: error.to_string(),
        }
    }
}

/// A table location for messages: a local directory path (ending in `/`) or the URL.
fn location(url: &Url) -> String {
    match url.to_file_path() {
        Ok(path) if url.scheme() == "file" => {
            let mut shown = path.display().to_string();
            if !shown.ends_with('/') {
                shown.push('/');
            }
            shown
        }
        _ => url.to_string(),
    }
}

/// The table's columns followed by the new ones of `incoming`.
fn merged_schema(incoming: &SchemaRef, current: &Option<SchemaRef>) -> SchemaRef {
    let Some(current) = current else {
        return incoming.clone();
    };
    let mut fields: Vec<_> = current.fields().iter().cloned().collect();
    for field in incoming.fields() {
        if current.field_with_name(field.name()).is_err() {
            fields.push(field.clone());
        }
    }
    std::sync::Arc::new(Schema::new(fields))
}

/// Commit properties that make a commit atomic with the flow's progress: the Delta `txn`
/// action (app id, batch number) that exactly-once recovery reads back, and the offset reached,
/// for people and `lakeflow status`.
pub fn commit_properties(app_id: &str, batch: i64, offset: Option<&Offset>) -> CommitProperties {
    let mut metadata: HashMap<String, Value> = HashMap::new();
    metadata.insert(FLOW_KEY.to_owned(), Value::String(app_id.to_owned()));
    metadata.insert(BATCH_KEY.to_owned(), Value::from(batch));
    metadata.insert(
        OFFSET_KEY.to_owned(),
        offset.map_or(Value::Null, |o| Value::Object(o.clone())),
    );
    CommitProperties::default()
        .with_application_transaction(Transaction::new(app_id, batch))
        .with_metadata(metadata)
}
