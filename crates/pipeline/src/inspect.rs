//! Looking at what runs produced: per-table status, and SQL over the warehouse.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::RecordBatch;
use deltalake::datafusion::catalog::{MemoryCatalogProvider, MemorySchemaProvider};
use deltalake::datafusion::common::TableReference;
use deltalake::datafusion::execution::context::SQLOptions;
use deltalake::datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use deltalake::datafusion::sql::sqlparser::ast::{Query, SetExpr, Statement};
use deltalake::datafusion::sql::sqlparser::dialect::GenericDialect;
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::{DeltaTableError, ObjectStore as _, ObjectStoreError, Path as ObjectPath};
use futures::TryStreamExt as _;
use serde::Serialize;
use serde_json::Value;

use crate::delta::{FLOW_KEY, FULL_REFRESH_KEY, OFFSET_KEY, Target};
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
    /// Whether storage has the data files of the current version (when asked to check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<FileCheck>,
}

/// Whether storage has every data file a table's current Delta version references.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    /// Data files the current version references.
    pub referenced: usize,
    /// How many of them are missing from storage.
    pub missing: usize,
    /// The first missing ones (at most [`FileCheck::SHOWN`]), relative to the table's location.
    pub missing_paths: Vec<String>,
}

impl FileCheck {
    /// Missing paths listed at most.
    pub const SHOWN: usize = 5;

    /// Whether every referenced file is there.
    pub fn ok(&self) -> bool {
        self.missing == 0
    }
}

/// The status of a planned destination table; with `check_files`, also whether storage has
/// every data file its current version references ([`TableStatus::files`]). Reads only: a table
/// not created yet is reported as such, and nothing is created.
pub async fn table_status(plan: &FlowPlan, check_files: bool) -> Result<TableStatus> {
    let mut status = TableStatus {
        table: plan.name.clone(),
        version: None,
        rows: 0,
        offsets: Vec::new(),
        last_commit_ms: None,
        last_run: None,
        files: check_files.then(FileCheck::default),
    };
    if let Ok(path) = plan.url.to_file_path()
        && plan.url.scheme() == "file"
        && !path.exists()
    {
        return Ok(status);
    }
    let target = Target::open(&plan.name, &plan.url).await?;
    status.version = target.table.version();
    status.rows = target.row_count().await?;
    status.last_run = target.read_state("_lakeflow/last_run.json").await?;
    if check_files {
        status.files = Some(missing_files(&target).await?);
    }
    if target.exists() {
        let commits: Vec<_> = target
            .table
            .history(Some(50))
            .try_collect()
            .await
            .table(&plan.name)?;
        for commit in commits {
            // Commits before a full refresh belong to the reloaded table's past.
            if let Some(Value::Object(refresh)) = commit.info.get(FULL_REFRESH_KEY) {
                if status.last_commit_ms.is_none() {
                    status.last_commit_ms = commit.timestamp;
                }
                for flow in refresh
                    .get("batches")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if !status.offsets.iter().any(|(f, _)| f == flow.0) {
                        status.offsets.push((flow.0.clone(), Value::Null));
                    }
                }
                break;
            }
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

/// Checks storage for every data file the table's current version references: one listing of
/// the table's location, then a HEAD request for each referenced file the listing lacks (a path
/// outside the location, or a store whose listings lag), so it works on object stores alike.
async fn missing_files(target: &Target) -> Result<FileCheck> {
    if !target.exists() {
        return Ok(FileCheck::default());
    }
    let name = target.name.as_str();
    let referenced: Vec<ObjectPath> = target
        .table
        .snapshot()
        .table(name)?
        .log_data()
        .iter()
        .map(|f| f.object_store_path())
        .collect();
    let store = target.table.object_store();
    let listed: HashSet<ObjectPath> = store
        .list(None)
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .map_err(DeltaTableError::from)
        .table(name)?;
    let mut check = FileCheck {
        referenced: referenced.len(),
        ..FileCheck::default()
    };
    for path in referenced.iter().filter(|p| !listed.contains(*p)) {
        match store.head(path).await {
            Ok(_) => {}
            Err(ObjectStoreError::NotFound { .. }) => {
                check.missing += 1;
                if check.missing_paths.len() < FileCheck::SHOWN {
                    check.missing_paths.push(path.to_string());
                }
            }
            Err(e) => return Err(DeltaTableError::from(e)).table(name),
        }
    }
    Ok(check)
}

/// Statements `query` runs: it only reads.
const READ_ONLY: &str = "SELECT, WITH, EXPLAIN, SHOW or DESCRIBE";

/// Runs one read-only SQL statement (`SELECT`, `WITH`, `VALUES`, `EXPLAIN` of a query, `SHOW`,
/// `DESCRIBE`) over every Delta table of a warehouse (a directory or an object-store URL).
/// Tables are named as in specs: `catalog.schema.table`, or `table` for tables at the root.
///
/// Anything that writes or changes the session (`INSERT`, `COPY`, `CREATE`, `DROP`, `SET`, an
/// `EXPLAIN ANALYZE` of a write, ...) is refused before it is planned, naming the statement;
/// the plan is checked again before it runs. A table whose Delta log cannot be read fails the
/// query only when the query names it.
pub async fn query(warehouse: &Warehouse, sql: &str) -> Result<Vec<RecordBatch>> {
    let statement = read_only_statement(sql)?;
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
    // The information schema serves SHOW TABLES and SHOW COLUMNS.
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_information_schema(true));
    let mut unreadable = Vec::new();
    for segments in tables {
        let name = segments.join(".");
        let url = warehouse.table_url(segments.iter().map(String::as_str))?;
        let opened = match Target::open(&name, &url).await {
            Ok(target) => target.table.table_provider().await.table(&name),
            Err(e) => Err(e),
        };
        let provider = match opened {
            Ok(provider) => provider,
            Err(e) => {
                unreadable.push((segments, e));
                continue;
            }
        };
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
    let state = ctx.state();
    let failed = |e: deltalake::datafusion::error::DataFusionError| PipelineError::Query {
        reason: one_line(&e),
    };
    let references = state.resolve_table_references(&statement).map_err(failed)?;
    if let Some((_, e)) = unreadable
        .into_iter()
        .find(|(segments, _)| references.iter().any(|r| names(r, segments)))
    {
        return Err(e);
    }
    let plan = state.statement_to_plan(statement).await.map_err(failed)?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(|e| PipelineError::Query {
            reason: format!("{e}: queries are read-only ({READ_ONLY})"),
        })?;
    let frame = ctx.execute_logical_plan(plan).await.map_err(failed)?;
    frame.collect().await.map_err(failed)
}

/// An error's message on one line: DataFusion's may span several (a list of valid fields).
fn one_line(error: &impl std::fmt::Display) -> String {
    error.to_string().lines().collect::<Vec<_>>().join(" ")
}

/// Whether `reference` may name the table at `segments` (compared without regard to case, as
/// unquoted names are lower-cased).
fn names(reference: &TableReference, segments: &[String]) -> bool {
    let same = |part: Option<&str>, segment: Option<&String>| {
        part.is_none_or(|p| segment.is_some_and(|s| s.eq_ignore_ascii_case(p)))
    };
    let mut from_end = segments.iter().rev();
    same(Some(reference.table()), from_end.next())
        && same(reference.schema(), from_end.next())
        && same(reference.catalog(), from_end.next())
}

/// Parses `sql` and returns its one statement if it only reads; otherwise an error naming the
/// statement (or the part of it) that would write.
fn read_only_statement(sql: &str) -> Result<DfStatement> {
    let refused = |reason: String| PipelineError::Query { reason };
    let statements = DFParserBuilder::new(sql)
        .with_dialect(&GenericDialect {})
        .build()
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| refused(one_line(&e)))?;
    for statement in &statements {
        if let Some(kind) = writes(statement) {
            return Err(refused(format!(
                "{kind} is not allowed: queries are read-only ({READ_ONLY})"
            )));
        }
    }
    let count = statements.len();
    let mut statements = statements.into_iter();
    match (statements.next(), count) {
        (Some(statement), 1) => Ok(statement),
        (None, _) => Err(refused("no SQL statement given".to_owned())),
        _ => Err(refused(format!(
            "{count} statements given; run one at a time"
        ))),
    }
}

/// What in `statement` is not read-only, as the statement's leading keywords (`INSERT INTO`,
/// `COPY`, `EXPLAIN ANALYZE of INSERT INTO`); None when it only reads.
fn writes(statement: &DfStatement) -> Option<String> {
    match statement {
        DfStatement::Statement(inner) => sql_writes(inner),
        DfStatement::Explain(explain) => writes(&explain.statement)
            .map(|inner| format!("{} of {inner}", explain_keywords(explain.options.analyze))),
        other => Some(keywords(other)),
    }
}

fn sql_writes(statement: &Statement) -> Option<String> {
    match statement {
        Statement::Query(query) => query_writes(query),
        Statement::Explain {
            statement: inner,
            analyze,
            ..
        } => sql_writes(inner).map(|what| format!("{} of {what}", explain_keywords(*analyze))),
        Statement::ExplainTable { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowCharset(_)
        | Statement::ShowObjects(_)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. } => None,
        other => Some(keywords(other)),
    }
}

/// A query writes when a part of it is an `INSERT`, `UPDATE`, `DELETE` or `MERGE` (`WITH ...
/// INSERT`), or a `SELECT ... INTO` (which creates a table).
fn query_writes(query: &Query) -> Option<String> {
    let ctes = query.with.iter().flat_map(|with| &with.cte_tables);
    ctes.filter_map(|cte| query_writes(&cte.query))
        .chain(set_expr_writes(&query.body))
        .next()
}

fn set_expr_writes(body: &SetExpr) -> Option<String> {
    match body {
        SetExpr::Select(select) if select.into.is_some() => Some("SELECT INTO".to_owned()),
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => None,
        SetExpr::Query(query) => query_writes(query),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr_writes(left).or_else(|| set_expr_writes(right))
        }
        SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
            Some(keywords(s))
        }
    }
}

fn explain_keywords(analyze: bool) -> &'static str {
    if analyze {
        "EXPLAIN ANALYZE"
    } else {
        "EXPLAIN"
    }
}

/// The leading keywords of a statement as SQL (`INSERT INTO`, `CREATE EXTERNAL TABLE`,
/// `COPY`): what names its kind in a message.
fn keywords(statement: &impl std::fmt::Display) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .take(3)
        .collect();
    if words.is_empty() {
        "this statement".to_owned()
    } else {
        words.join(" ")
    }
}

/// Folders holding a `_delta_log`, as path segments under the store's root (at depth 1 or 3),
/// in name order. Folders starting with `_` or `.` are not tables.
async fn find_tables(
    store: &ObjectStoreRef,
    prefix: &mut Vec<String>,
    found: &mut Vec<Vec<String>>,
) -> std::result::Result<(), ObjectStoreError> {
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

#[cfg(test)]
mod tests {
    use super::read_only_statement;

    fn refusal(sql: &str) -> String {
        match read_only_statement(sql) {
            Ok(statement) => panic!("{sql} was allowed: {statement}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_are_allowed() {
        for sql in [
            "SELECT 1",
            "select * from main.shop.events where event_id > 3 order by 1 limit 2",
            "WITH a AS (SELECT 1 AS x) SELECT x FROM a UNION ALL SELECT 2",
            "SELECT * FROM (SELECT 1) AS t WHERE EXISTS (SELECT 1)",
            "VALUES (1, 'a')",
            "EXPLAIN SELECT 1",
            "EXPLAIN ANALYZE SELECT 1",
            "EXPLAIN VERBOSE SELECT 1",
            "SHOW TABLES",
            "SHOW COLUMNS FROM main.shop.events",
            "SHOW datafusion.execution.batch_size",
            "DESCRIBE main.shop.events",
            "SELECT 1;",
        ] {
            if let Err(e) = read_only_statement(sql) {
                panic!("{sql}: {e}");
            }
        }
    }

    #[test]
    fn writes_are_refused_naming_the_statement() {
        for (sql, kind) in [
            ("COPY (SELECT 1) TO '/tmp/x.csv' STORED AS CSV", "COPY"),
            ("INSERT INTO t SELECT 1", "INSERT INTO"),
            ("INSERT OVERWRITE t SELECT 1", "INSERT OVERWRITE"),
            ("UPDATE t SET a = 1", "UPDATE"),
            ("DELETE FROM t", "DELETE FROM"),
            ("TRUNCATE TABLE t", "TRUNCATE TABLE"),
            ("CREATE TABLE t (a INT)", "CREATE TABLE"),
            ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
            (
                "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/x'",
                "CREATE EXTERNAL TABLE",
            ),
            ("DROP TABLE t", "DROP TABLE"),
            ("DROP SCHEMA main.shop", "DROP SCHEMA"),
            ("ALTER TABLE t ADD COLUMN b INT", "ALTER TABLE"),
            ("SET datafusion.execution.batch_size = 1", "SET"),
            ("RESET datafusion.execution.batch_size", "RESET"),
            ("SELECT 1 INTO t", "SELECT INTO"),
            (
                "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a",
                "INSERT INTO",
            ),
            ("EXPLAIN INSERT INTO t SELECT 1", "EXPLAIN of INSERT INTO"),
            (
                "EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/x' STORED AS CSV",
                "EXPLAIN ANALYZE of COPY",
            ),
            ("SELECT 1; DROP TABLE t", "DROP TABLE"),
        ] {
            let e = refusal(sql);
            assert!(
                e.starts_with(&format!(
                    "query: {kind} is not allowed: queries are read-only"
                )),
                "{sql}: {e}"
            );
        }
    }

    #[test]
    fn one_statement_at_a_time() {
        assert_eq!(
            refusal("SELECT 1; SELECT 2"),
            "query: 2 statements given; run one at a time"
        );
        assert_eq!(refusal("  "), "query: no SQL statement given");
        assert!(refusal("SELEC 1").starts_with("query: SQL error: ParserError"));
    }
}
