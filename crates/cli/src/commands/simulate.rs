//! `lakeflow simulate`: serve a connector's API (or any simulator spec) on 127.0.0.1.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread;

use anyhow::{Context, Result, bail};
use clap::Args;
use lakeflow_simulator::Simulator;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A connector name (see `lakeflow sources`) or the path of a simulator spec (`.yaml`).
    #[arg(required_unless_present_any = ["record", "replay"])]
    pub target: Option<String>,
    /// Port to listen on (127.0.0.1). 0 picks a free port; the URL is printed first.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// A fault profile of the spec (`faults:` section) to inject errors, latency and drops.
    #[arg(long, value_name = "PROFILE", conflicts_with = "record")]
    pub faults: Option<String>,
    /// Proxy to this real base URL and record every exchange into `--cassette`.
    #[arg(long, value_name = "BASE_URL", requires = "cassette", conflicts_with_all = ["replay", "target"])]
    pub record: Option<String>,
    /// The cassette file that `--record` writes.
    #[arg(long, value_name = "FILE", requires = "record")]
    pub cassette: Option<PathBuf>,
    /// Serve a recorded cassette instead of a spec.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "faults"])]
    pub replay: Option<PathBuf>,
    /// Do not print each request as it is served.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: &SimulateArgs) -> Result<()> {
    let mut simulator = build(args)?;
    if !args.quiet {
        simulator = simulator.on_request(|request| println!("{request}"));
    }
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let running = simulator
        .start_on(address)
        .with_context(|| format!("starting the simulator on {address}"))?;
    // The first line is the URL, so scripts can read it before anything else.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", running.base_url())?;
    stdout.flush()?;
    drop(stdout);
    eprintln!("serving on {} (Ctrl-C stops)", running.base_url());
    // The server runs on its own threads until the process is interrupted.
    loop {
        thread::park();
    }
}

fn build(args: &SimulateArgs) -> Result<Simulator> {
    if let Some(upstream) = &args.record {
        let cassette = args
            .cassette
            .as_deref()
            .context("--record needs --cassette")?;
        return Simulator::record(upstream, cassette)
            .with_context(|| format!("recording {upstream} into {}", cassette.display()));
    }
    if let Some(cassette) = &args.replay {
        return Simulator::replay(cassette)
            .with_context(|| format!("replaying {}", cassette.display()));
    }
    let target = args
        .target
        .as_deref()
        .context("a connector name or spec path is needed")?;
    let simulator = from_target(target)?;
    match &args.faults {
        Some(profile) => simulator
            .with_fault_profile(profile)
            .with_context(|| format!("fault profile `{profile}`")),
        None => Ok(simulator),
    }
}

fn from_target(target: &str) -> Result<Simulator> {
    if let Ok(descriptor) = lakeflow_connectors::find(target) {
        let Some(embedded) = descriptor.simulator else {
            bail!(
                "source `{target}` has no simulator spec (it needs no HTTP server: it simulates \
                 its API in process)"
            );
        };
        return Simulator::from_embedded(embedded.spec, embedded.files)
            .with_context(|| format!("the simulator spec of source `{target}`"));
    }
    let path = Path::new(target);
    if path.is_file() {
        return Simulator::load(path).with_context(|| format!("loading {}", path.display()));
    }
    let known: Vec<&str> = lakeflow_connectors::CONNECTORS
        .iter()
        .filter(|d| d.simulator.is_some())
        .map(|d| d.name)
        .collect();
    bail!(
        "`{target}` is neither a source with a simulator spec ({}) nor a spec file",
        if known.is_empty() {
            "none registered yet".to_owned()
        } else {
            known.join(", ")
        }
    )
}
