//! `pipeline-bench <scenario>`: one ingestion scenario, timed, with its peak memory.
//!
//! Each scenario runs in its own process (so peak RSS is the scenario's own); `bench/run.sh`
//! runs them in sequence and prints the table in `docs/benchmarks.md`.
//!
//! Scenarios (all into `--warehouse`):
//! - `append`: a full load of `rows` records into an append table;
//! - `load`: a full load of `rows` records into a cdc table (setup for the next two);
//! - `upsert`: `changes` updated records merged by key into that table;
//! - `noop`: an incremental run with nothing new;
//! - `history`: a snapshot of `rows` keys into an SCD 2 table (run it twice, the second time with
//!   `--changes`, to apply a snapshot in which that many keys changed).

// The same re-exec as the CLI's: one file serves both binaries that run pipelines.
#[path = "../../crates/cli/src/arenas.rs"]
mod arenas;
mod source;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use lakeflow_connect::ConnectionOptions;
use lakeflow_pipeline::{NoProgress, RunOptions, Warehouse};
use lakeflow_spec::PipelineSpec;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn main() -> Result<()> {
    arenas::bound_allocator_arenas();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args.first().cloned().unwrap_or_default();
    let warehouse = Warehouse::new(&arg(&args, "--warehouse", "bench/out/warehouse"))?;
    let rows = arg(&args, "--rows", "1000000");
    let (table, changes) = match scenario.as_str() {
        "append" => ("events", "0".to_owned()),
        "load" => ("items", "0".to_owned()),
        // `noop` must see the same data as the run before it: nothing new.
        "upsert" | "noop" => ("items", arg(&args, "--changes", "0")),
        "history" => ("catalog", arg(&args, "--changes", "0")),
        other => bail!("unknown scenario `{other}` (append, load, upsert, noop, history)"),
    };
    let mut options = ConnectionOptions::new();
    options.insert("rows", rows.clone());
    options.insert("changes", changes.clone());
    let connector: Arc<dyn lakeflow_connect::LakeflowConnect> =
        Arc::new(source::Synthetic::new(&options)?);
    let config = if table == "catalog" {
        ", table_configuration: {scd_type: SCD_TYPE_2}"
    } else {
        ""
    };
    let spec = PipelineSpec::parse(
        &format!(
            "connection_name: synthetic\nobjects:\n  - table: {{source_table: {table}{config}}}\n"
        ),
        "bench.yaml",
    )?;
    let plans =
        lakeflow_pipeline::plan(&spec, connector.as_ref(), &source::DESCRIPTOR, &warehouse)?;
    let runtime = tokio::runtime::Runtime::new().context("runtime")?;
    let started = Instant::now();
    let summaries = runtime.block_on(lakeflow_pipeline::run(
        plans,
        connector,
        &RunOptions::default(),
        Arc::new(NoProgress),
    ));
    let seconds = started.elapsed().as_secs_f64();
    let summary = &summaries[0];
    if let Some(error) = &summary.error {
        bail!("{scenario} failed: {error}");
    }
    let landed = summary.counts.appended + summary.counts.inserted + summary.counts.updated;
    println!(
        "{}",
        serde_json::json!({
            "scenario": scenario,
            "rows": rows,
            "changes": changes,
            "records_read": summary.records_read,
            "rows_landed": landed,
            "commits": summary.commits,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "records_per_second": (summary.records_read as f64 / seconds).round(),
            "peak_rss_mib": (peak_rss_mib() * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
