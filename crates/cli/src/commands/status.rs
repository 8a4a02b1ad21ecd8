//! `lakeflow status <spec>`: per destination table, its Delta version, rows, committed offsets
//! and last run.

use anyhow::{Result, bail};
use clap::Args;
use lakeflow_pipeline::{FileCheck, TableStatus, Warehouse};
use serde::Serialize;
use serde_json::Value;

use crate::output::{print_json, print_text_table};
use crate::pipeline::{PipelineArgs, runtime};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also check that storage has every data file each table's current version references
    /// (one listing per table); exits non-zero if any is missing.
    #[arg(long)]
    pub verify: bool,
}

/// One table's line: its status, or why it could not be read.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Row {
    Read(TableStatus),
    Unreadable { table: String, error: String },
}

pub fn run(args: &StatusArgs) -> Result<()> {
    let pipeline = args.pipeline.load()?;
    check_exists(&pipeline.warehouse)?;
    let plans = pipeline.plans()?;
    // One table that cannot be read (a damaged Delta log) does not hide the others.
    let rows = runtime()?.block_on(async {
        let mut rows = Vec::new();
        for plan in &plans {
            rows.push(
                match lakeflow_pipeline::table_status(plan, args.verify).await {
                    Ok(status) => Row::Read(status),
                    Err(e) => Row::Unreadable {
                        table: plan.name.clone(),
                        error: e.to_string(),
                    },
                },
            );
        }
        rows
    });
    if args.json {
        print_json(&rows)?;
    } else {
        print_rows(&rows, args.verify)?;
        for row in &rows {
            match row {
                Row::Unreadable { error, .. } => eprintln!("{error}"),
                Row::Read(status) => {
                    if let Some(files) = status.files.as_ref().filter(|f| !f.ok()) {
                        eprintln!("{}: {}", status.table, describe_missing(files));
                    }
                }
            }
        }
    }
    let unreadable: Vec<&str> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Unreadable { table, .. } => Some(table.as_str()),
            Row::Read(_) => None,
        })
        .collect();
    let missing: Vec<&str> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Read(s) if s.files.as_ref().is_some_and(|f| !f.ok()) => Some(s.table.as_str()),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    if !unreadable.is_empty() {
        problems.push(format!(
            "{} of {} tables could not be read: {}",
            unreadable.len(),
            rows.len(),
            unreadable.join(", ")
        ));
    }
    if !missing.is_empty() {
        problems.push(format!(
            "data files are missing from storage in {} of {} tables: {}",
            missing.len(),
            rows.len(),
            missing.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("; "))
    }
}

/// A local warehouse must exist: status of a mistyped `--warehouse` would otherwise report
/// every table as never run.
fn check_exists(warehouse: &Warehouse) -> Result<()> {
    if warehouse.root().scheme() == "file"
        && let Ok(path) = warehouse.root().to_file_path()
        && !path.is_dir()
    {
        bail!(
            "warehouse `{warehouse}` does not exist (nothing has been run into it yet; \
             --warehouse or $LAKEFLOW_WAREHOUSE names another)"
        );
    }
    Ok(())
}

/// `3 of 12 data files are missing: a.parquet, b.parquet, c.parquet`.
fn describe_missing(files: &FileCheck) -> String {
    let more = files.missing - files.missing_paths.len();
    format!(
        "{} of {} data files are missing: {}{}",
        files.missing,
        files.referenced,
        files.missing_paths.join(", "),
        if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        }
    )
}

fn print_rows(rows: &[Row], verify: bool) -> Result<()> {
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let s = match row {
                Row::Read(s) => s,
                Row::Unreadable { table, error } => {
                    let mut line = vec![table.clone()];
                    line.extend(std::iter::repeat_n(
                        "-".to_owned(),
                        if verify { 6 } else { 5 },
                    ));
                    line.push(format!("cannot read the table: {error}"));
                    return line;
                }
            };
            let last = |key: &str| {
                s.last_run
                    .as_ref()
                    .and_then(|r| r.get(key))
                    .map_or_else(|| "-".to_owned(), compact)
            };
            let mut line = vec![
                s.table.clone(),
                s.version.map_or_else(|| "-".to_owned(), |v| v.to_string()),
                s.rows.to_string(),
                if s.offsets.is_empty() {
                    "-".to_owned()
                } else {
                    s.offsets
                        .iter()
                        .map(|(flow, offset)| {
                            format!(
                                "{}={}",
                                flow.rsplit('/').next().unwrap_or(flow),
                                compact(offset)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                },
                s.last_commit_ms
                    .map_or_else(|| "-".to_owned(), format_millis),
                last("status"),
            ];
            if verify {
                line.push(match &s.files {
                    Some(files) if files.ok() => format!("ok ({} files)", files.referenced),
                    Some(files) => format!("{} missing", files.missing),
                    None => "-".to_owned(),
                });
            }
            line.push(last("error"));
            line
        })
        .collect();
    let mut header = vec![
        "TABLE",
        "VERSION",
        "ROWS",
        "COMMITTED OFFSETS",
        "LAST COMMIT (UTC)",
        "LAST RUN",
    ];
    if verify {
        header.push("FILES");
    }
    header.push("ERROR");
    print_text_table(&header, &lines)
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC); out of range, the number.
fn format_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |at| at.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_epoch_millis() {
        assert_eq!(super::format_millis(0), "1970-01-01 00:00:00");
        assert_eq!(
            super::format_millis(1_735_689_600_000),
            "2025-01-01 00:00:00"
        );
        assert_eq!(
            super::format_millis(1_709_210_096_000),
            "2024-02-29 12:34:56"
        );
    }
}
