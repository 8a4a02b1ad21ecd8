//! `lakeflow test`: the conformance suite on one source, offline or live.

use anyhow::{Result, bail};
use clap::Args;
use lakeflow_testkit::{Conformance, env_var_name, live_connection_with, missing_live_options};

use crate::options::SourceOptions;
use crate::output::{ListFormat, print_json};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The source (see `lakeflow sources`).
    pub source: String,
    /// Against the real API: connection options come from `LAKEFLOW_<SOURCE>_<OPTION>`
    /// environment variables (e.g. `LAKEFLOW_GITHUB_TOKEN`). Without it, the suite runs
    /// offline against the source's simulator.
    #[arg(long)]
    pub live: bool,
    /// Check only this table (repeatable).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    #[command(flatten)]
    pub options: SourceOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

pub fn run(args: &TestArgs) -> Result<()> {
    let descriptor = lakeflow_connectors::find(&args.source)?;
    let routed = args.options.route(descriptor)?;
    let mut connection = routed.connection;
    let mut suite = Conformance::new(descriptor);
    if args.live {
        // Options on the command line win over the environment.
        let Some(merged) = live_connection_with(descriptor, &connection) else {
            let missing: Vec<String> = missing_live_options(descriptor, &connection)
                .into_iter()
                .map(|option| format!("{} (or -o {option}=...)", env_var_name(descriptor, option)))
                .collect();
            bail!(
                "--live needs the connection options of `{}`: {}",
                descriptor.name,
                if missing.is_empty() {
                    "set at least one `LAKEFLOW_<SOURCE>_<OPTION>` variable or -o option".to_owned()
                } else {
                    missing.join(", ")
                }
            );
        };
        connection = merged;
        suite = suite.live();
    }
    let tables: Vec<&str> = args.tables.iter().map(String::as_str).collect();
    if !tables.is_empty() {
        suite = suite.tables(&tables);
    }
    let report = suite
        .connection(connection)
        .common_table_options(routed.table)
        .run();
    match args.format {
        ListFormat::Json => print_json(&report)?,
        ListFormat::Table => println!("{report}"),
    }
    if !report.passed() {
        let failed: Vec<String> = report
            .failures()
            .map(|row| match &row.table {
                Some(table) => format!("{table}/{}", row.check.as_str()),
                None => row.check.as_str().to_owned(),
            })
            .collect();
        bail!("{}: {}", report.summary(), failed.join(", "));
    }
    Ok(())
}
