//! `lakeflow`: list sources and their tables, show schemas, and read tables as typed rows.

mod arenas;
mod commands;
mod options;
mod output;
mod pipeline;
mod waiting;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::commands::{
    new::NewArgs, query::QueryArgs, read::ReadArgs, run::RunArgs, schema::SchemaArgs,
    simulate::SimulateArgs, status::StatusArgs, tables::TablesArgs, test::TestArgs,
};
use crate::output::ListFormat;
use crate::pipeline::PipelineArgs;

/// Lakeflow community connectors, in Rust: read SaaS sources into typed Arrow records.
#[derive(Debug, Parser)]
#[command(name = "lakeflow", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log the connectors' debug details too (a Python connector's traceback, each retry).
    #[arg(long, short = 'v', global = true)]
    verbose: bool,
    /// The interpreter that runs Python connectors (source `python`) whose connection names
    /// none (default: $LAKEFLOW_PYTHON, else `python3` on PATH).
    #[arg(long, global = true, value_name = "PATH")]
    python: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the connectors this build knows.
    Sources {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// List a source's tables with ingestion type, primary keys and cursor.
    Tables(TablesArgs),
    /// Show a table's schema (Arrow types; nested structs indented).
    Schema(SchemaArgs),
    /// Read a table (or its deleted records) and print typed rows.
    ///
    /// Reads batch after batch from the start offset until the table is caught up or `--limit`
    /// rows were printed, converting records with the schema's coercion rules. The offset to
    /// resume from is printed on stderr.
    Read(ReadArgs),
    /// Land every table of a pipeline spec in Delta Lake, incrementally and exactly once.
    ///
    /// Each table is read until caught up; data and the offset it reached are committed
    /// together, so a run killed at any point and started again loses and duplicates nothing.
    Run(RunArgs),
    /// Check a pipeline spec against its connector (tables, options, keys) without running it.
    Validate(PipelineArgs),
    /// Show each destination table's Delta version, rows, committed offsets and last run.
    ///
    /// A table that cannot be read gets an error row; `--verify` also checks that storage has
    /// every data file each table references. Exits non-zero on either.
    Status(StatusArgs),
    /// Run a read-only SQL query (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE) over the warehouse.
    Query(QueryArgs),
    /// Serve a source's API on 127.0.0.1 from its simulator spec (offline, deterministic).
    ///
    /// Serves a connector's embedded spec or a spec file, optionally with a fault profile;
    /// or proxies a real API recording a cassette (`--record`), or serves a cassette
    /// (`--replay`). Prints the base URL first, then each request served.
    Simulate(SimulateArgs),
    /// Run the conformance suite on a source: offline against its simulator, or `--live`.
    ///
    /// Prints one row per check and table (pass, fail or skip, with the evidence) and exits
    /// non-zero if any check failed.
    Test(TestArgs),
    /// Create a connector crate from the template: `connectors/<NAME>/`, registered in the
    /// workspace, ready for `lakeflow test <NAME>` against its simulator.
    New(NewArgs),
}

/// The log filter without `LAKEFLOW_LOG`: our own warnings only. The Delta crates log internal
/// details (MERGE metrics they derive, "no files in log segment" for a table about to be created)
/// as warnings and errors that are no concern of the user's. A target matches every target it is
/// a prefix of, so `lakeflow` covers each `lakeflow_*` crate; the connector crates come from the
/// registry, so a connector with another name is covered too.
fn default_log_filter(verbose: bool) -> String {
    let level = if verbose { "debug" } else { "warn" };
    std::iter::once("lakeflow")
        .chain(lakeflow_connectors::CONNECTOR_CRATES.iter().copied())
        .map(|target| format!("{target}={level}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Logs go to stderr, filtered by `LAKEFLOW_LOG` (e.g. `LAKEFLOW_LOG=lakeflow_http=debug` shows
/// every HTTP request, with secrets redacted); warnings only by default, our debug lines too
/// with `--verbose`. Retries, whatever the filter, go to the returned [`waiting::Waiting`], for
/// progress lines.
fn init_logging(verbose: bool) -> waiting::Waiting {
    let user = std::env::var("LAKEFLOW_LOG").unwrap_or_else(|_| default_log_filter(verbose));
    // The transport's own debug lines carry raw URLs and headers: always keep them quiet so
    // that no verbosity setting can print a credential.
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "{user},{}",
        lakeflow_http::TRANSPORT_LOG_DIRECTIVES
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let waiting = waiting::Waiting::default();
    // Each layer has its own filter: the log filter must not hide retries from progress lines.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(waiting.layer())
        .init();
    waiting
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Run(_)) {
        arenas::bound_allocator_arenas();
    }
    lakeflow_pipeline::quiet_recovered_storage_panics();
    if let Some(python) = &cli.python {
        lakeflow_pyhost::set_interpreter(python);
    }
    let waiting = init_logging(cli.verbose);
    let result = match cli.command {
        Command::Sources { format } => commands::sources::run(format),
        Command::Tables(args) => commands::tables::run(&args),
        Command::Schema(args) => commands::schema::run(&args),
        Command::Read(args) => commands::read::run(&args),
        Command::Run(args) => commands::run::run(&args, &waiting),
        Command::Validate(args) => commands::validate::run(&args),
        Command::Status(args) => commands::status::run(&args),
        Command::Query(args) => commands::query::run(&args),
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Test(args) => commands::test::run(&args),
        Command::New(args) => commands::new::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`lakeflow ... | head`): not an error.
        Err(err)
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {}", error_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// One line that names what is wrong: the context chain joined with ": ", leaving out a cause
/// whose text is already in the line. Our errors print each cause once (a cause shown in the
/// message is not also the source); errors of other libraries (delta-rs, object_store) often
/// show their source in their own message too, and would otherwise print it twice.
fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    /// As thiserror makes `#[error("cannot read `x`: {source}")]` with a `source` field.
    #[derive(Debug)]
    struct ShowsItsSource {
        source: std::io::Error,
    }

    impl std::fmt::Display for ShowsItsSource {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot read `x`: {}", self.source)
        }
    }

    impl std::error::Error for ShowsItsSource {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    macro_rules! emit {
        ($target:literal) => {{
            tracing::warn!(target: $target, "warning");
            tracing::info!(target: $target, "info");
        }};
    }

    /// The targets of the events `filter` lets through, of warnings and infos from `targets`.
    fn shown(filter: &str, targets: &[&'static str]) -> Vec<String> {
        use tracing_subscriber::layer::SubscriberExt as _;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || Lines(std::sync::Arc::clone(&record)))
            .with_ansi(false)
            .without_time()
            .with_filter(tracing_subscriber::EnvFilter::new(filter));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            for target in targets {
                // A target must be a literal in `tracing`'s macros: one callsite per target.
                match *target {
                    "lakeflow" => emit!("lakeflow"),
                    "lakeflow_github::read" => emit!("lakeflow_github::read"),
                    "lakeflow_example" => emit!("lakeflow_example"),
                    "lakeflow_testkit" => emit!("lakeflow_testkit"),
                    "deltalake_core::kernel" => emit!("deltalake_core::kernel"),
                    other => panic!("no callsite for {other}"),
                }
            }
        });
        let text = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    use tracing_subscriber::Layer as _;

    /// Captures what the fmt layer writes.
    struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_default_log_filter_shows_our_warnings_only_and_names_every_connector_crate() {
        let filter = super::default_log_filter(false);
        for krate in lakeflow_connectors::CONNECTOR_CRATES {
            assert!(
                filter.split(',').any(|d| d == format!("{krate}=warn")),
                "{filter}"
            );
        }
        let targets = [
            "lakeflow",
            "lakeflow_github::read",
            "lakeflow_example",
            "lakeflow_testkit",
            "deltalake_core::kernel",
        ];
        let lines = shown(&filter, &targets);
        let shown: Vec<&str> = lines
            .iter()
            .filter_map(|line| line.split_once(": ").map(|(head, _)| head.trim()))
            .collect();
        assert_eq!(
            shown,
            [
                "WARN lakeflow",
                "WARN lakeflow_github::read",
                "WARN lakeflow_example",
                "WARN lakeflow_testkit",
            ],
            "{lines:?}"
        );
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = || std::io::Error::other("Is a directory (os error 21)");
        let err = anyhow::Error::new(ShowsItsSource { source: io() }).context("spec `x`");
        assert_eq!(
            super::error_line(&err),
            "spec `x`: cannot read `x`: Is a directory (os error 21)"
        );
        let err = Err::<(), _>(io()).context("outer").unwrap_err();
        assert_eq!(
            super::error_line(&err),
            "outer: Is a directory (os error 21)"
        );
    }
}
