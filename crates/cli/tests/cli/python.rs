//! Connectors written in Python for the original, run unchanged through the CLI: tables, read,
//! the conformance suite, and pipelines landing every ingestion type exactly once, with a
//! failing table failing alone.

use std::path::Path;
use std::process::Output;

use crate::lakeflow_command;

/// A test connector of the `python` source (in `crates/pyhost/host/tests/connectors/`).
fn connector(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pyhost/host/tests/connectors")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    lakeflow_command(dir, args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tables_read_and_test_work_on_a_python_connector() {
    let dir = tempfile::tempdir().unwrap();
    let class = format!("class={}", connector("sample_source.py"));
    let tables = ok(&run(dir.path(), &["tables", "python", "-o", &class]));
    assert!(
        tables.contains("accounts") && tables.contains("cdc_with_deletes"),
        "{tables}"
    );
    let rows = ok(&run(
        dir.path(),
        &[
            "read",
            "python",
            "orders",
            "-o",
            &class,
            "--table-option",
            "max_records_per_batch=3",
            "--format",
            "ndjson",
        ],
    ));
    assert_eq!(rows.lines().count(), 7, "{rows}");
    // Converted by the schema: decimals and timestamps typed, not Python's text.
    let first = rows.lines().next().unwrap();
    assert!(
        first.contains(r#""amount":3.01"#)
            && first.contains(r#""updated_at":"2024-01-01T00:10:00Z""#),
        "{rows}"
    );
    let report = ok(&run(dir.path(), &["test", "python", "-o", &class]));
    assert!(report.contains(" 0 failed"), "{report}");
    // A connector whose import fails names the missing module.
    let broken = format!("class={}", connector("broken_import"));
    let out = run(dir.path(), &["tables", "python", "-o", &broken]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("module `a_module_that_does_not_exist` is missing"),
        "{stderr}"
    );
}

#[test]
fn a_pipeline_lands_a_python_partitioned_stream() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[connections.stream]\nsource = \"python\"\nclass = \"{}\"\ntotal = \"10\"\n\
         per_partition = \"3\"\n",
        connector("stream_source.py")
    );
    std::fs::write(dir.path().join("lakeflow.toml"), toml).unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        spec("stream", "py", &["ticks"]),
    )
    .unwrap();
    let out = ok(&run(dir.path(), &["run", "spec.yaml", "--json"]));
    assert!(out.contains("ticks"), "{out}");
    assert_eq!(count(dir.path(), "py.ticks"), "10");
    // Again: nothing new, nothing appended twice.
    ok(&run(dir.path(), &["run", "spec.yaml"]));
    assert_eq!(count(dir.path(), "py.ticks"), "10");
}

/// The sample connector's four tables (one per ingestion type), and `boom`/`misfit` from two
/// failing connectors, as connections `py`, `raising`, `misfit`.
fn pipeline_dir(rows: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_connections(dir.path(), rows);
    let table = |name: &str| {
        format!(
            "  - table:\n      source_table: {name}\n      destination_catalog: main\n      \
             destination_schema: py\n      table_configuration: {{max_records_per_batch: 3}}\n"
        )
    };
    let spec = format!(
        "connection_name: py\nobjects:\n{}{}{}{}",
        table("users"),
        table("events"),
        table("orders"),
        table("accounts")
    );
    std::fs::write(dir.path().join("spec.yaml"), spec).unwrap();
    dir
}

fn write_connections(dir: &Path, rows: u32) {
    let toml = format!(
        "[connections.py]\nsource = \"python\"\nclass = \"{}\"\nrows = \"{rows}\"\n\n\
         [connections.misfit]\nsource = \"python\"\nclass = \"{}\"\n",
        connector("sample_source.py"),
        connector("misfit_source.py"),
    );
    std::fs::write(dir.join("lakeflow.toml"), toml).unwrap();
}

/// Rows in `main.<table>` (`py.users`).
fn count(dir: &Path, table: &str) -> String {
    let sql = format!("SELECT count(*) AS n FROM main.{table}");
    let out = ok(&run(dir, &["query", &sql]));
    out.lines()
        .nth(3)
        .unwrap_or_default()
        .trim_matches(|c: char| c == '|' || c.is_whitespace())
        .to_owned()
}

#[test]
fn a_pipeline_lands_every_ingestion_type_of_a_python_connector_exactly_once() {
    let dir = pipeline_dir(7);
    let path = dir.path();
    ok(&run(path, &["run", "spec.yaml"]));
    let counts =
        |path| ["py.users", "py.events", "py.orders", "py.accounts"].map(|t| count(path, t));
    // accounts 3 and 6 are deleted.
    assert_eq!(counts(path), ["7", "7", "7", "5"]);
    // Again with nothing new: nothing appended twice.
    ok(&run(path, &["run", "spec.yaml"]));
    assert_eq!(counts(path), ["7", "7", "7", "5"]);
    // Two more rows at the source: the snapshot replaced, the rest incremental.
    write_connections(path, 9);
    ok(&run(path, &["run", "spec.yaml"]));
    assert_eq!(counts(path), ["9", "9", "9", "6"]);
    let sql = "SELECT id, amount, updated_at FROM main.py.orders WHERE id = 1";
    let row = ok(&run(path, &["query", sql]));
    assert!(
        row.contains("3.01") && row.contains("2024-01-01T00:10:00"),
        "{row}"
    );
}

/// A spec landing `tables` of connection `connection` into `main.<schema>`.
fn spec(connection: &str, schema: &str, tables: &[&str]) -> String {
    let mut spec = format!("connection_name: {connection}\nobjects:\n");
    for table in tables {
        spec.push_str(&format!(
            "  - table:\n      source_table: {table}\n      destination_catalog: main\n      \
             destination_schema: {schema}\n"
        ));
    }
    spec
}

#[test]
fn a_table_whose_records_do_not_fit_or_whose_connector_hangs_fails_alone() {
    let dir = pipeline_dir(7);
    let path = dir.path();
    std::fs::write(
        path.join("misfit.yaml"),
        spec("misfit", "py", &["misfit", "fine"]),
    )
    .unwrap();
    let out = run(path, &["run", "misfit.yaml"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("table `main.py.misfit` failed")
            && stderr.contains("schema mismatch in table `misfit` at `id`"),
        "{stderr}"
    );
    assert_eq!(count(path, "py.fine"), "2", "the other table landed");
    let out = run(path, &["query", "SELECT count(*) AS n FROM main.py.misfit"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() || text.contains("| 0 "),
        "nothing partial: {text}"
    );

    // A read that never ends is stopped after `timeout_seconds` (it never ends whatever the
    // timeout, so no timing margin is involved); the other table lands.
    let toml = format!(
        "[connections.hanging]\nsource = \"python\"\nclass = \"{}\"\ntimeout_seconds = \"1\"\n",
        connector("hanging_source.py")
    );
    std::fs::write(path.join("lakeflow.toml"), toml).unwrap();
    std::fs::write(
        path.join("hanging.yaml"),
        spec("hanging", "hang", &["forever", "fine"]),
    )
    .unwrap();
    let out = run(path, &["run", "hanging.yaml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("table `main.hang.forever` failed")
            && stderr.contains("did not answer within 1s"),
        "{stderr}"
    );
    assert_eq!(count(path, "hang.fine"), "2");
}

#[test]
fn verbose_shows_a_python_traceback_that_errors_leave_out() {
    let dir = tempfile::tempdir().unwrap();
    let class = format!("class={}", connector("raising_source.py"));
    let args = ["read", "python", "boom", "-o", &class];
    let out = run(dir.path(), &args);
    let quiet = String::from_utf8_lossy(&out.stderr);
    assert!(
        quiet.contains("`read_table` of table `boom` raised ValueError: boom at row 3")
            && !quiet.contains("Traceback"),
        "{quiet}"
    );
    let mut verbose_args = args.to_vec();
    verbose_args.push("--verbose");
    let out = run(dir.path(), &verbose_args);
    let verbose = String::from_utf8_lossy(&out.stderr);
    assert!(
        verbose.contains("Traceback (most recent call last)")
            && verbose.contains("raising_source.py"),
        "{verbose}"
    );
}
