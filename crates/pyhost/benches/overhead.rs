//! The `python` source's overhead: a connector written for the original read through our host
//! (child process, marshal chunks, records handed over as JSON objects) against the same
//! connector called in a plain Python loop that drops the records, side by side.
//!
//! ```sh
//! cargo bench -p lakeflow-pyhost --bench overhead -- [ROWS] [REPEAT] [PYTHON]
//! ```
//!
//! Three kinds of connector (`crates/pyhost/host/tests/connectors/bench_source.py`): `generator`
//! builds its records in a generator (the cheapest a connector can be, so the host's share is
//! largest), `api` decodes them from JSON page bodies of 100 as a REST connector does, and
//! `http` fetches those pages from our simulator on 127.0.0.1 (started here), one request per
//! page. Each timing covers reading every batch until the offset
//! stops moving; interpreter start-up and the connector's construction are outside it, in both
//! paths. Best of `REPEAT`, alternating.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use lakeflow_connect::{ConnectionOptions, LakeflowConnect, TableOptions};

fn connectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("host")
}

/// Python that imports the benchmark's connector module as `m`, with our stand-ins for the
/// original's interface (and PySpark's types, when PySpark is not installed).
fn import_bench_source() -> String {
    let host = connectors();
    format!(
        r#"
import importlib.util, sys, time
sys.path.append({interface:?})
try:
    import pyspark.sql.types
except ImportError:
    sys.path.append({pyspark:?})
spec = importlib.util.spec_from_file_location("bench_source", {source:?})
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
"#,
        interface = host.join("shim/interface"),
        pyspark = host.join("shim/pyspark"),
        source = host.join("tests/connectors/bench_source.py"),
    )
}

/// Seconds the plain loop takes inside Python.
fn plain_loop(python: &str, rows: u64, mode: &str, url: &str) -> Result<f64> {
    let loop_code = format!(
        r#"
c = m.BenchSource({{"rows": "{rows}", "mode": "{mode}", "url": "{url}"}})
def everything():
    start, n = None, 0
    while True:
        it, off = c.read_table("bench", start, {{}})
        for r in it:
            n += 1
        if off == start:
            return n
        start = off
assert everything() == {rows}
t = time.perf_counter()
assert everything() == {rows}
print(time.perf_counter() - t)
"#
    );
    let code = import_bench_source() + &loop_code;
    let out = Command::new(python).args(["-c", &code]).output()?;
    if !out.status.success() {
        bail!(
            "the plain loop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

/// Records read through the host, until caught up.
fn read_all(connector: &dyn LakeflowConnect) -> Result<u64> {
    let (mut start, mut count) = (None, 0);
    loop {
        let output = connector.read_table("bench", start.as_ref(), &TableOptions::new())?;
        for record in output.records {
            record?;
            count += 1;
        }
        if output.end_offset == start {
            return Ok(count);
        }
        start = output.end_offset;
    }
}

/// The `http` mode's pages: our simulator on 127.0.0.1 serving the connector's records 100 a
/// page (`GET /items?page=N&per_page=100`); it takes little CPU from the two paths compared.
struct PageServer {
    url: String,
    _server: lakeflow_simulator::RunningSimulator,
}

const SPEC: &str = "
name: bench
description: the python source benchmark's pages
endpoints:
  - name: items
    path: /items
    corpus: items.json
    records_key: data
    params:
      page: { role: page }
      per_page: { role: page_size, default: 100, max: 100 }
    pagination: { style: page_number }
";

impl PageServer {
    fn start(python: &str, rows: u64) -> Result<Self> {
        let corpus = import_bench_source()
            + &format!(r#"sys.stdout.write(m.BenchSource({{"rows": "{rows}"}}).corpus())"#);
        let out = Command::new(python).args(["-c", &corpus]).output()?;
        if !out.status.success() {
            bail!(
                "writing the corpus failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let items = String::from_utf8(out.stdout)?;
        let server = lakeflow_simulator::Simulator::from_embedded(SPEC, &[("items.json", &items)])?
            .start()?;
        Ok(Self {
            url: server.base_url().trim_end_matches('/').to_owned(),
            _server: server,
        })
    }
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rows: u64 = args.first().map_or(Ok(200_000), |a| a.parse())?;
    let repeat: usize = args.get(1).map_or(Ok(5), |a| a.parse())?;
    let python = args.get(2).cloned().unwrap_or_else(|| "python3".to_owned());
    let encoding = std::env::var("LAKEFLOW_PY_ENCODING").unwrap_or_else(|_| "marshal".into());
    println!("{rows} records of 10 fields, best of {repeat}, {python}, chunks in {encoding}");
    println!("| connector | plain loop | through the host | overhead |");
    println!("| --- | ---: | ---: | ---: |");
    let server = PageServer::start(&python, rows)?;
    for mode in ["generator", "api", "http"] {
        let class = connectors().join("tests/connectors/bench_source.py");
        let options: ConnectionOptions = [
            ("class", class.to_string_lossy().into_owned()),
            ("python", python.clone()),
            ("rows", rows.to_string()),
            ("mode", mode.to_owned()),
            ("url", server.url.clone()),
        ]
        .into_iter()
        .collect();
        let connector = lakeflow_pyhost::DESCRIPTOR
            .connect(&options)
            .context("the python source")?;
        // Warm: the connector's page cache, and a host process ready in the pool.
        assert_eq!(read_all(connector.as_ref())?, rows);
        let (mut plain, mut hosted) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..repeat {
            plain = plain.min(plain_loop(&python, rows, mode, &server.url)?);
            let started = Instant::now();
            let count = read_all(connector.as_ref())?;
            hosted = hosted.min(started.elapsed().as_secs_f64());
            assert_eq!(count, rows);
        }
        #[allow(clippy::cast_precision_loss)]
        let per_second = |seconds: f64| rows as f64 / seconds / 1000.0;
        println!(
            "| {mode} | {:.0} K rec/s | {:.0} K rec/s | {:+.0}% |",
            per_second(plain),
            per_second(hosted),
            (hosted / plain - 1.0) * 100.0
        );
    }
    Ok(())
}
