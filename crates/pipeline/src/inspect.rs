//! Looking at what runs produced: per-table status, and SQL over the warehouse.

use std::sync::Arc;

use arrow_array::RecordBatch;
use deltalake::Path as ObjectPath;
use deltalake::datafusion::catalog::{MemoryCatalogProvider, MemorySchemaProvider};
use deltalake::datafusion::prelude::SessionContext;
use deltalake::logstore::ObjectStoreRef;
use futures::TryStreamExt as _;
use serde::Serialize;
use serde_json::Value;

use crate::delta::{FLOW_KEY, OFFSET_KEY, Target};
use crate::error::{PipelineError, Result, TableContext as _};
use crate::plan::FlowPlan;
use crate::warehouse::Warehouse;

/// What `lakeflow status` shows of one destination table.
#[derive(Debug, Clone, Serialize)]
pub struct TableStatus {
    /// The destination.
    pub table: String,
    /// The Delta version (None: not created yet).
    pub version: Option<u64>,
    /// Rows in the table.
    pub rows: usize,
    /// The offset of the newest commit of a lakeflow flow, per flow.
    pub offsets: Vec<(String, Value)>,
    /// When that commit was made (milliseconds since the epoch).
    pub last_commit_ms: Option<i64>,
    /// The summary of the last run that touched the table.
    pub last_run: Option<Value>,
}

/// The status of a planned destination table.
pub async fn table_status(plan: &FlowPlan) -> Result<TableStatus> {
    let target = Target::open(&plan.name, &plan.url).await?;
    let mut status = TableStatus {
        table: plan.name.clone(),
        version: target.table.version(),
        rows: target.row_count().await?,
        offsets: Vec::new(),
        last_commit_ms: None,
        last_run: target.read_state("_lakeflow/last_run.json").await?,
    };
    if target.exists() {
        let commits: Vec<_> = target
            .table
            .history(Some(50))
            .try_collect()
            .await
            .table(&plan.name)?;
        for commit in commits {
            let Some(Value::String(flow)) = commit.info.get(FLOW_KEY) else {
                continue;
            };
            if status.last_commit_ms.is_none() {
                status.last_commit_ms = commit.timestamp;
            }
            if !status.offsets.iter().any(|(f, _)| f == flow) {
                let offset = commit.info.get(OFFSET_KEY).cloned().unwrap_or(Value::Null);
                status.offsets.push((flow.clone(), offset));
            }
        }
    }
    Ok(status)
}

/// Runs SQL over every Delta table of a warehouse (a directory or an object-store URL). Tables
/// are named as in specs: `catalog.schema.table`, or `table` for tables at the root.
pub async fn query(warehouse: &Warehouse, sql: &str) -> Result<Vec<RecordBatch>> {
    if let Ok(path) = warehouse.root().to_file_path()
        && !path.is_dir()
    {
        return Err(PipelineError::Warehouse {
            location: warehouse.to_string(),
            reason: "no such directory (nothing has been run into it yet)".to_owned(),
        });
    }
    let root = Target::open("warehouse", warehouse.root()).await?;
    let store = root.table.object_store();
    let mut tables = Vec::new();
    find_tables(&store, &mut Vec::new(), &mut tables)
        .await
        .map_err(|e| PipelineError::Warehouse {
            location: warehouse.to_string(),
            reason: format!("listing its tables: {e}"),
        })?;
    let ctx = SessionContext::new();
    for segments in tables {
        let name = segments.join(".");
        let url = warehouse.table_url(segments.iter().map(String::as_str))?;
        let target = Target::open(&name, &url).await?;
        let provider = target.table.table_provider().await.table(&name)?;
        match segments.as_slice() {
            [table] => {
                ctx.register_table(table.as_str(), provider).table(&name)?;
            }
            [catalog, schema, table] => {
                let catalog_provider = match ctx.catalog(catalog) {
                    Some(c) => c,
                    None => {
                        let c = Arc::new(MemoryCatalogProvider::new());
                        ctx.register_catalog(catalog.as_str(), c.clone());
                        c
                    }
                };
                let schema_provider = match catalog_provider.schema(schema) {
                    Some(s) => s,
                    None => {
                        let s = Arc::new(MemorySchemaProvider::new());
                        catalog_provider
                            .register_schema(schema, s.clone())
                            .table(&name)?;
                        s
                    }
                };
                schema_provider
                    .register_table(table.clone(), provider)
                    .table(&name)?;
            }
            _ => {}
        }
    }
    let frame = ctx.sql(sql).await.table("query")?;
    frame.collect().await.table("query")
}

/// Folders holding a `_delta_log`, as path segments under the store's root (at depth 1 or 3),
/// in name order. Folders starting with `_` or `.` are not tables.
async fn find_tables(
    store: &ObjectStoreRef,
    prefix: &mut Vec<String>,
    found: &mut Vec<Vec<String>>,
) -> std::result::Result<(), deltalake::ObjectStoreError> {
    let here =
        (!prefix.is_empty()).then(|| prefix.iter().map(String::as_str).collect::<ObjectPath>());
    let listing = store.list_with_delimiter(here.as_ref()).await?;
    let mut names: Vec<String> = listing
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_owned))
        .collect();
    if names.iter().any(|n| n == "_delta_log") {
        if prefix.len() == 1 || prefix.len() == 3 {
            found.push(prefix.clone());
        }
        return Ok(());
    }
    if prefix.len() >= 3 {
        return Ok(());
    }
    names.retain(|n| !n.starts_with(['_', '.']));
    names.sort();
    for name in names {
        prefix.push(name);
        Box::pin(find_tables(store, prefix, found)).await?;
        prefix.pop();
    }
    Ok(())
}
