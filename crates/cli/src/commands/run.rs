//! `lakeflow run <spec>`: land every table of a spec in Delta Lake.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use lakeflow_pipeline::{CommitCounts, FullRefresh, Progress, RunOptions, TableSummary};

use crate::output::{print_json, print_text_table};
use crate::pipeline::{PipelineArgs, runtime};
use crate::waiting::Waiting;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Tables run at the same time.
    #[arg(long, default_value_t = 4, value_parser = at_least_one)]
    pub parallelism: usize,
    /// Reload these destination tables from the start (all tables when none is named): one
    /// commit empties each table and resets its state, so a refresh killed at any point leaves
    /// the table loadable, and a table whose Delta log is damaged is replaced.
    #[arg(long, num_args = 0.., value_name = "TABLE")]
    pub full_refresh: Option<Vec<String>>,
    /// Rows accumulated from several reads before one commit.
    #[arg(long, default_value_t = RunOptions::default().commit_rows, value_parser = at_least_one)]
    pub commit_rows: usize,
    /// Arrow bytes accumulated before one commit.
    #[arg(long, default_value_t = RunOptions::default().commit_bytes, value_parser = at_least_one)]
    pub commit_bytes: usize,
    /// Arrow bytes of upserts (one row per key) held to the end of the run when they rewrite
    /// existing data files, so that a run rewrites each file once; beyond them the upserts
    /// are committed and holding starts again.
    #[arg(long, default_value_t = RunOptions::default().stage_bytes, value_parser = at_least_one)]
    pub stage_bytes: usize,
    /// Partitions of one append table read at the same time, where its connector splits reads
    /// into partitions (a partitioned stream, e.g. GitHub `issues`); 1 reads page by page.
    #[arg(long, default_value_t = RunOptions::default().read_partitions, value_parser = at_least_one)]
    pub read_partitions: usize,
    /// Reads of one table before it is declared not converging.
    #[arg(long, default_value_t = RunOptions::default().max_reads, value_parser = at_least_one)]
    pub max_reads: usize,
    /// Print the summary as JSON (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses a count that must be at least 1 (0 tables at a time, 0 reads or 0 rows per commit
/// would fail every table, or never commit).
fn at_least_one(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("`{text}` is not a whole number: {e}")),
    }
}

pub fn run(args: &RunArgs, waiting: &Waiting) -> Result<()> {
    let pipeline = args.pipeline.load()?;
    let plans = pipeline.plans()?;
    let full_refresh = match &args.full_refresh {
        None => FullRefresh::None,
        Some(names) if names.is_empty() => FullRefresh::All,
        Some(names) => {
            for name in names {
                if !plans.iter().any(|p| &p.name == name) {
                    let known: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
                    bail!(
                        "--full-refresh: `{name}` is not a destination of this spec; destinations: {}",
                        known.join(", ")
                    );
                }
            }
            FullRefresh::Tables(names.clone())
        }
    };
    let options = RunOptions {
        parallelism: args.parallelism,
        max_reads: args.max_reads,
        commit_rows: args.commit_rows,
        commit_bytes: args.commit_bytes,
        stage_bytes: args.stage_bytes,
        read_partitions: args.read_partitions,
        full_refresh,
    };
    let progress = std::sync::Arc::new(Bars::default());
    let bars = progress.clone();
    let showing = waiting.show_with(move |table, message| bars.waiting(table, message));
    let summaries = runtime()?.block_on(lakeflow_pipeline::run(
        plans,
        pipeline.connector.clone(),
        &options,
        progress.clone(),
    ));
    drop(showing);
    progress.bars.clear().ok();
    if args.json {
        print_json(&summaries)?;
    } else {
        print_summary(&summaries)?;
        eprintln!("warehouse: {}", pipeline.warehouse);
    }
    let failed: Vec<&TableSummary> = summaries.iter().filter(|s| s.failed()).collect();
    match failed.as_slice() {
        [] => Ok(()),
        [one] => bail!(
            "table `{}` failed: {}",
            one.table,
            one.error.as_deref().unwrap_or("")
        ),
        many => bail!(
            "{} of {} tables failed: {}",
            many.len(),
            summaries.len(),
            many.iter()
                .map(|s| s.table.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn print_summary(summaries: &[TableSummary]) -> Result<()> {
    let rows: Vec<Vec<String>> = summaries
        .iter()
        .map(|s| {
            vec![
                s.table.clone(),
                format!("{:?}", s.flow).to_lowercase(),
                s.scd_type.clone(),
                s.records_read.to_string(),
                s.counts.inserted.to_string(),
                s.counts.updated.to_string(),
                s.counts.deleted.to_string(),
                s.counts.appended.to_string(),
                s.commits.to_string(),
                format!("{:.1}s", Duration::from_millis(s.duration_ms).as_secs_f64()),
                s.status.clone(),
            ]
        })
        .collect();
    print_text_table(
        &[
            "TABLE", "FLOW", "SCD", "READ", "INSERTED", "UPDATED", "DELETED", "APPENDED",
            "COMMITS", "TIME", "STATUS",
        ],
        &rows,
    )?;
    for s in summaries.iter().filter(|s| s.failed()) {
        eprintln!("{}: {}", s.table, s.error.as_deref().unwrap_or(""));
    }
    Ok(())
}

/// One spinner per table on stderr; indicatif draws nothing when stderr is not a terminal.
#[derive(Default)]
struct Bars {
    bars: MultiProgress,
    tables: Mutex<HashMap<String, (ProgressBar, usize, usize)>>,
}

impl Bars {
    fn update(&self, table: &str, records: usize, commits: usize) {
        let mut tables = self
            .tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((bar, read, committed)) = tables.get_mut(table) {
            *read += records;
            *committed += commits;
            let rate = *read as f64 / bar.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!(
                "{read} records read, {committed} commits, {rate:.0} records/s"
            ));
        }
    }
}

impl Bars {
    /// What the table's read is waiting on (a retry), until its next progress replaces it.
    fn waiting(&self, table: &str, message: &str) {
        let tables = self
            .tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((bar, _, _)) = tables.get(table) {
            bar.set_message(message.to_owned());
        }
    }
}

impl Progress for Bars {
    fn started(&self, table: &str) {
        let bar = self.bars.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:<24} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(table.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(table.to_owned(), (bar, 0, 0));
    }

    fn read(&self, table: &str, records: usize) {
        self.update(table, records, 0);
    }

    fn committed(&self, table: &str, _counts: &CommitCounts) {
        self.update(table, 0, 1);
    }

    fn finished(&self, summary: &TableSummary) {
        let tables = self
            .tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((bar, _, _)) = tables.get(&summary.table) {
            bar.finish_with_message(format!(
                "{} ({} records)",
                summary.status, summary.records_read
            ));
        }
    }
}
