//! Looking at what runs produced: per-table status, and SQL over the warehouse.

use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use deltalake::datafusion::catalog::{MemoryCatalogProvider, MemorySchemaProvider};
use deltalake::datafusion::prelude::SessionContext;
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

/// Runs SQL over every Delta table of a local warehouse. Tables are named as in specs:
/// `catalog.schema.table`, or `table` for tables at the root.
pub async fn query(warehouse: &Warehouse, sql: &str) -> Result<Vec<RecordBatch>> {
    let root = warehouse
        .root()
        .to_file_path()
        .map_err(|()| PipelineError::Warehouse {
            location: warehouse.to_string(),
            reason: "`query` needs a local warehouse".to_owned(),
        })?;
    let ctx = SessionContext::new();
    let mut tables = Vec::new();
    find_tables(&root, &mut Vec::new(), &mut tables);
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

/// Directories holding a `_delta_log`, as path segments under `dir` (at depth 1 or 3).
fn find_tables(dir: &Path, prefix: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
    if dir.join("_delta_log").is_dir() {
        if prefix.len() == 1 || prefix.len() == 3 {
            found.push(prefix.clone());
        }
        return;
    }
    if prefix.len() >= 3 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with(['_', '.']))
        .collect();
    names.sort();
    for name in names {
        prefix.push(name);
        find_tables(
            &dir.join(prefix.last().map_or("", String::as_str)),
            prefix,
            found,
        );
        prefix.pop();
    }
}
