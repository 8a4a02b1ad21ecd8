//! Checks 1 and 2: the table listing, and how an unknown table is refused.

use std::collections::BTreeSet;

use lakeflow_connect::{Error, IngestionType, LakeflowConnect, Result, TableOptions};

use super::UNKNOWN_TABLE;
use crate::context::{Run, Verdict, count, fail, verdict};

/// Check 1: `list_tables` succeeds with at least one table, no blank or padded names, no duplicates.
pub(super) fn list_tables(run: &Run) -> Verdict {
    let tables = run
        .listed
        .as_ref()
        .map_err(|e| fail(format!("list_tables failed: {e}")))?;
    let mut problems = Vec::new();
    if tables.is_empty() {
        problems.push("list_tables returned no table".to_owned());
    }
    let mut seen = BTreeSet::new();
    for name in tables {
        if name.trim().is_empty() {
            problems.push(format!("a blank table name: {name:?}"));
        } else if name.trim() != name {
            problems.push(format!(
                "a table name with surrounding whitespace: {name:?}"
            ));
        }
        if !seen.insert(name) {
            problems.push(format!("`{name}` is listed more than once"));
        }
    }
    verdict(&problems, || {
        format!("{}: {}", count(tables.len(), "table"), tables.join(", "))
    })
}

/// Check 2: Schema, metadata, read and deletes of a table the connector does not serve each fail with
/// [`Error::UnknownTable`] naming it.
///
/// A connector none of whose tested tables is `cdc_with_deletes` may keep the trait's default
/// `read_table_deletes`, which answers `NotSupported` for every table.
pub(super) fn unknown_table(run: &Run) -> Verdict {
    let connector: &dyn LakeflowConnect = run.connector();
    let options = TableOptions::new();
    let has_deletes = run.tables.iter().any(|t| {
        run.metadata_result(t)
            .as_ref()
            .is_ok_and(|m| m.ingestion_type == IngestionType::CdcWithDeletes)
    });
    let outcomes: [(&str, Result<()>); 4] = [
        (
            "get_table_schema",
            connector
                .get_table_schema(UNKNOWN_TABLE, &options)
                .map(drop),
        ),
        (
            "read_table_metadata",
            connector
                .read_table_metadata(UNKNOWN_TABLE, &options)
                .map(drop),
        ),
        (
            "read_table",
            connector
                .read_table(UNKNOWN_TABLE, None, &options)
                .and_then(first_item),
        ),
        (
            "read_table_deletes",
            connector
                .read_table_deletes(UNKNOWN_TABLE, None, &options)
                .and_then(first_item),
        ),
    ];
    let mut problems = Vec::new();
    for (method, outcome) in outcomes {
        match outcome {
            Err(Error::UnknownTable { table, .. }) if table == UNKNOWN_TABLE => {}
            Err(Error::UnknownTable { table, .. }) => problems.push(format!(
                "{method}(`{UNKNOWN_TABLE}`) named another table in its error: `{table}`"
            )),
            Err(Error::NotSupported { .. }) if method == "read_table_deletes" && !has_deletes => {}
            Err(other) => problems.push(format!(
                "{method}(`{UNKNOWN_TABLE}`) failed with another error than unknown table: {other}"
            )),
            Ok(()) => problems.push(format!("{method}(`{UNKNOWN_TABLE}`) succeeded")),
        }
    }
    verdict(&problems, || {
        format!("schema, metadata, read and deletes of `{UNKNOWN_TABLE}` fail with unknown table")
    })
}

/// Reads lazily built streams far enough for a deferred unknown-table error to surface.
fn first_item(output: lakeflow_connect::ReadOutput<'_>) -> Result<()> {
    let mut records = output.records;
    match records.next() {
        Some(Err(error)) => Err(error),
        _ => Ok(()),
    }
}
