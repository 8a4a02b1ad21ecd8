//! `--full-refresh` with no moment at which the table is broken.
//!
//! A healthy table is emptied by one commit: every data file removed, the schema set anew, the
//! pipeline state moved to a new generation (tombstones and changes kept aside start empty)
//! and each flow moved to a fresh batch that reads from the start. Before that commit readers
//! and writers see the table as it was; after it, the reload. The commit carries every flow's
//! `txn`, so a run writing the same table at the same time fails its commit (or ours does):
//! never both. Only a table whose Delta log cannot be loaded at all is deleted, in an order
//! that leaves it unloadable until nothing of it is left, so that a refresh killed half way and
//! run again always finishes the job.

use std::collections::HashMap;

use arrow_schema::SchemaRef;
use deltalake::kernel::engine::arrow_conversion::TryFromArrow as _;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, MetadataExt as _, StructType, Transaction};
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::{DeltaTableBuilder, ObjectStore as _, Path};
use futures::TryStreamExt as _;
use serde_json::{Value, json};
use url::Url;

use super::files::overwrite_operation;
use super::state::{offset_log_entry, offset_log_path};
use super::table::{CLUSTER_BY_PROPERTY, FULL_REFRESH_KEY, GENERATION_PROPERTY, Target};
use crate::error::{PipelineError, Result, TableContext as _};

/// A flow of a table, as a full refresh resets it.
#[derive(Debug, Clone)]
pub struct FlowId {
    /// The Delta `txn` app id of the flow.
    pub app_id: String,
    /// The folder of its offset logs under `_lakeflow/`.
    pub flow: String,
}

impl Target {
    /// The generation of the table's pipeline state: 0 until the first full refresh, one more
    /// after each.
    pub fn generation(&self) -> u64 {
        self.table
            .snapshot()
            .ok()
            .and_then(|s| {
                s.metadata()
                    .configuration()
                    .get(GENERATION_PROPERTY)
                    .and_then(|g| g.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Empties the table for a reload in one commit (see the module docs). A table that does
    /// not exist yet is left alone: another run may be creating it, and a damaged table's
    /// removal deletes its log last, so it leaves nothing behind.
    pub async fn reset_for_refresh(&mut self, schema: &SchemaRef, flows: &[FlowId]) -> Result<()> {
        if !self.exists() {
            return Ok(());
        }
        let name = self.name.clone();
        let old_generation = self.generation();
        let generation = old_generation + 1;
        let snapshot = self.table.snapshot().table(&name)?;
        let wanted = StructType::try_from_arrow(schema.as_ref()).table(&name)?;
        let mut metadata = snapshot
            .metadata()
            .clone()
            .with_schema(&wanted)
            .and_then(|m| m.add_config_key(GENERATION_PROPERTY.to_owned(), generation.to_string()))
            .map_err(deltalake::DeltaTableError::from)
            .table(&name)?;
        metadata = if self.cluster_by.is_empty() {
            metadata.remove_config_key(CLUSTER_BY_PROPERTY)
        } else {
            metadata.add_config_key(CLUSTER_BY_PROPERTY.to_owned(), self.cluster_by.join(","))
        }
        .map_err(deltalake::DeltaTableError::from)
        .table(&name)?;
        let mut actions = vec![Action::Metadata(metadata)];
        actions.extend(
            self.data_files()?
                .into_iter()
                .map(|(_, file)| Action::Remove(file.remove)),
        );
        let mut batches = Vec::with_capacity(flows.len());
        let mut txns = Vec::with_capacity(flows.len());
        for flow in flows {
            let batch = self
                .committed_batch(&flow.app_id)
                .await?
                .map_or(0, |b| b + 1);
            batches.push((flow, batch));
            txns.push(Transaction::new(&flow.app_id, batch));
        }
        let record: serde_json::Map<String, Value> = batches
            .iter()
            .map(|(flow, batch)| (flow.app_id.clone(), json!(batch)))
            .collect();
        let props = CommitProperties::default()
            .with_application_transactions(txns)
            .with_metadata(HashMap::from([(
                FULL_REFRESH_KEY.to_owned(),
                json!({ "generation": generation, "batches": record }),
            )]));
        let committed = CommitBuilder::from(props)
            .with_actions(actions)
            .build(
                Some(snapshot),
                self.table.log_store(),
                overwrite_operation(),
            )
            .await
            .table(&name)?;
        self.table.state = Some(committed.snapshot());
        // For people: the commit alone says where each flow is, and a missing log is rewritten.
        for (flow, batch) in &batches {
            let entry = offset_log_entry(*batch, None, None);
            self.write_state(&offset_log_path(&flow.flow, *batch), &entry)
                .await?;
        }
        // The previous generation's state tables are no longer read by anyone.
        for prefix in state_prefixes(old_generation) {
            if let Err(e) = self.remove_prefix(&Path::from(prefix.as_str())).await {
                tracing::warn!(table = %name, "could not remove old pipeline state `{prefix}`: {e}");
            }
        }
        Ok(())
    }

    /// Deletes every file under `prefix`.
    async fn remove_prefix(&self, prefix: &Path) -> Result<()> {
        let store = self.table.object_store();
        let files: Vec<Path> = store
            .list(Some(prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| self.state_error(&e))?;
        remove_in_safe_order(&store, files)
            .await
            .map_err(|e| self.state_error(&e))
    }
}

/// Removes what is left of the table at `url` whose Delta log cannot be loaded (`cause`), so
/// that it can be created anew. The store must be reachable: a table that failed to load for
/// another reason (no permission, no network) is left alone and `cause` is the error.
pub async fn remove_damaged(name: &str, url: &Url, cause: PipelineError) -> Result<()> {
    let table = DeltaTableBuilder::from_url(url.clone())
        .and_then(DeltaTableBuilder::build)
        .table(name)?;
    let store = table.object_store();
    let Ok(files) = store
        .list(None)
        .map_ok(|meta| meta.location)
        .try_collect::<Vec<Path>>()
        .await
    else {
        return Err(cause);
    };
    tracing::warn!(table = %name, "removing a table whose Delta log cannot be loaded: {cause}");
    remove_in_safe_order(&store, files)
        .await
        .map_err(|e| PipelineError::State {
            table: name.to_owned(),
            reason: format!("could not remove the damaged table: {e}"),
        })
}

/// Deletes `files` so that a deletion killed at any point leaves a table that does not load
/// (rather than an older version of it over missing files): data and pipeline state first,
/// then the checkpoints, then the commits from the oldest (without version 0 no version loads).
async fn remove_in_safe_order(
    store: &deltalake::logstore::ObjectStoreRef,
    mut files: Vec<Path>,
) -> std::result::Result<(), deltalake::ObjectStoreError> {
    files.sort_by_key(|path| {
        let text = path.as_ref();
        let in_log = text.starts_with("_delta_log/");
        let commit = text.ends_with(".json") && !text.ends_with("_last_checkpoint");
        let rank = match (in_log, commit) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        (rank, text.to_owned())
    });
    for file in files {
        match store.delete(&file).await {
            Ok(()) | Err(deltalake::ObjectStoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Where the state tables of a generation live, relative to the table root.
pub fn state_prefixes(generation: u64) -> Vec<String> {
    if generation == 0 {
        vec![
            "_lakeflow/tombstones".to_owned(),
            "_lakeflow/unchanged".to_owned(),
        ]
    } else {
        vec![format!("_lakeflow/g{generation}")]
    }
}
