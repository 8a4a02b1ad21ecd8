//! `lakeflow status <spec>`: per destination table, its Delta version, rows, committed offsets
//! and last run.

use anyhow::Result;
use clap::Args;
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
}

pub fn run(args: &StatusArgs) -> Result<()> {
    let pipeline = args.pipeline.load()?;
    let plans = pipeline.plans()?;
    let statuses = runtime()?.block_on(async {
        let mut statuses = Vec::new();
        for plan in &plans {
            statuses.push(lakeflow_pipeline::table_status(plan).await?);
        }
        anyhow::Ok(statuses)
    })?;
    if args.json {
        return print_json(&statuses);
    }
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|s| {
            let last = |key: &str| {
                s.last_run
                    .as_ref()
                    .and_then(|r| r.get(key))
                    .map_or_else(|| "-".to_owned(), compact)
            };
            vec![
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
                last("error"),
            ]
        })
        .collect();
    print_text_table(
        &[
            "TABLE",
            "VERSION",
            "ROWS",
            "COMMITTED OFFSETS",
            "LAST COMMIT (UTC)",
            "LAST RUN",
            "ERROR",
        ],
        &rows,
    )
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC), without a date library.
fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
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
