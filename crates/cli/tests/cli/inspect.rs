//! `query` only reads; `status` reports every table it can read, an error row for one it
//! cannot, and with `--verify` the data files missing from storage.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::lakeflow_command;

/// Two tables of the example source, written in several commits each (`--commit-rows 1`).
const SPEC: &str = "\
connection_name: ex
objects:
  - table:
      source_table: events
      destination_catalog: main
      destination_schema: shop
      table_configuration: {max_records_per_batch: 30, limit: 10}
  - table:
      source_table: users
      destination_catalog: main
      destination_schema: shop
      table_configuration: {max_records_per_batch: 15}
";

/// A directory with the spec, its connection (no injected errors) and a warehouse the spec
/// was run into.
struct Landed {
    dir: tempfile::TempDir,
}

impl Landed {
    fn new() -> Self {
        let dir = super::example_spec_dir(SPEC);
        let landed = Self { dir };
        let out = landed.lakeflow(&["run", "spec.yaml", "--commit-rows", "1"]);
        assert!(out.status.success(), "{}", stderr(&out));
        landed
    }

    fn lakeflow(&self, args: &[&str]) -> Output {
        lakeflow_command(self.dir.path(), args).output().unwrap()
    }

    fn table(&self, name: &str) -> PathBuf {
        self.dir.path().join("warehouse/main/shop").join(name)
    }

    /// The single table cell of a one-value query.
    fn scalar(&self, sql: &str) -> String {
        crate::query_scalar(self.dir.path(), sql)
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn query_refuses_every_statement_that_writes_naming_it() {
    let landed = Landed::new();
    let copied = landed.dir.path().join("copied.csv");
    let copy = format!("COPY (SELECT 1) TO '{}' STORED AS CSV", copied.display());
    let log = landed.table("events").join("_delta_log");
    let log_before = files_in(&log);
    let cases = [
        (copy.as_str(), "COPY is not allowed"),
        (
            "INSERT INTO main.shop.events SELECT * FROM main.shop.events",
            "INSERT INTO is not allowed",
        ),
        (
            "COPY main.shop.events TO 'x.parquet'",
            "COPY is not allowed",
        ),
        ("CREATE TABLE t AS SELECT 1", "CREATE TABLE is not allowed"),
        (
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/tmp/x.csv'",
            "CREATE EXTERNAL TABLE is not allowed",
        ),
        ("DROP TABLE main.shop.events", "DROP TABLE is not allowed"),
        ("DELETE FROM main.shop.events", "DELETE FROM is not allowed"),
        (
            "SET datafusion.execution.batch_size = 1",
            "SET is not allowed",
        ),
        ("SELECT 1 AS a INTO t", "SELECT INTO is not allowed"),
        (
            "WITH e AS (SELECT * FROM main.shop.events) INSERT INTO main.shop.events SELECT * FROM e",
            "INSERT INTO is not allowed",
        ),
        (
            "EXPLAIN ANALYZE INSERT INTO main.shop.events SELECT * FROM main.shop.events",
            "EXPLAIN ANALYZE of INSERT INTO is not allowed",
        ),
        (
            "SELECT 1; INSERT INTO main.shop.events SELECT * FROM main.shop.events",
            "INSERT INTO is not allowed",
        ),
        (
            "SELECT 1; SELECT 2",
            "2 statements given; run one at a time",
        ),
    ];
    for (sql, expected) in cases {
        let out = landed.lakeflow(&["query", sql]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{sql} was run: {err}");
        assert!(
            err.starts_with("error: query: ") && err.contains(expected),
            "{sql}: {err}"
        );
        assert!(!err.contains("table `query`"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(!copied.exists(), "COPY wrote {}", copied.display());
    assert!(!landed.dir.path().join("x.parquet").exists());
    assert_eq!(files_in(&log), log_before, "the events log is unchanged");
    assert_eq!(
        landed.scalar("SELECT COUNT(*) FROM main.shop.events"),
        "100"
    );
}

#[test]
fn query_runs_reads_and_labels_its_errors_as_the_query_s() {
    let landed = Landed::new();
    assert_eq!(
        landed.scalar(
            "WITH e AS (SELECT event_id FROM main.shop.events) SELECT COUNT(DISTINCT event_id) FROM e"
        ),
        "100"
    );
    for (sql, expected) in [
        ("EXPLAIN SELECT * FROM main.shop.users", "plan"),
        (
            "EXPLAIN ANALYZE SELECT COUNT(*) FROM main.shop.users",
            "plan",
        ),
        ("SHOW TABLES", "events"),
        ("DESCRIBE main.shop.users", "user_id"),
        ("SHOW COLUMNS FROM main.shop.users", "user_id"),
        ("VALUES (1), (2)", "column1"),
    ] {
        let out = landed.lakeflow(&["query", sql]);
        assert!(out.status.success(), "{sql}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(expected), "{sql}: {text}");
    }
    let out = landed.lakeflow(&["query", "SELECT nope FROM main.shop.users"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.starts_with("error: query: ") && err.contains("nope"),
        "{err}"
    );
    assert!(!err.contains("table `query`"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn status_shows_healthy_tables_and_an_error_row_for_a_damaged_log() {
    let landed = Landed::new();
    let out = landed.lakeflow(&["run", "spec.yaml", "--commit-rows", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = landed.table("users").join("_delta_log");
    assert!(
        files_in(&log).len() > 2,
        "several commits: {:?}",
        files_in(&log)
    );
    std::fs::remove_file(log.join("00000000000000000000.json")).unwrap();

    let out = landed.lakeflow(&["status", "spec.yaml"]);
    assert!(!out.status.success(), "a damaged table fails status");
    let text = String::from_utf8_lossy(&out.stdout);
    let row = |table: &str| {
        text.lines()
            .find(|l| l.starts_with(table))
            .unwrap_or_else(|| panic!("no row for {table}: {text}"))
            .to_owned()
    };
    assert!(row("main.shop.events ").contains(" 100 "), "{text}");
    assert!(
        row("main.shop.users ").contains("cannot read the table"),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.lines()
            .last()
            .is_some_and(|l| l == "error: 1 of 2 tables could not be read: main.shop.users"),
        "{err}"
    );

    let out = landed.lakeflow(&["status", "spec.yaml", "--json"]);
    assert!(!out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tables = json.as_array().unwrap();
    assert_eq!(tables[0]["table"], "main.shop.events");
    assert_eq!(tables[0]["rows"], 100);
    assert_eq!(tables[1]["table"], "main.shop.users");
    assert!(
        tables[1]["error"]
            .as_str()
            .unwrap()
            .contains("main.shop.users")
    );

    // A query of the healthy table still runs; one of the damaged table names it.
    assert_eq!(
        landed.scalar("SELECT COUNT(*) FROM main.shop.events"),
        "100"
    );
    let out = landed.lakeflow(&["query", "SELECT * FROM main.shop.users"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("table `main.shop.users`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn status_verify_reports_data_files_missing_from_storage() {
    let landed = Landed::new();
    let out = landed.lakeflow(&["status", "spec.yaml", "--verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().next().unwrap().contains("FILES"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" ok (")).count(),
        2,
        "{text}"
    );

    // Every data file of an append table is in its current version.
    let events = landed.table("events");
    let parquet: Vec<String> = files_in(&events)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect();
    assert!(parquet.len() > 1, "{parquet:?}");
    std::fs::remove_file(events.join(&parquet[0])).unwrap();

    // Without --verify nothing looks wrong; with it the file is named.
    let out = landed.lakeflow(&["status", "spec.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = landed.lakeflow(&["status", "spec.yaml", "--verify"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "main.shop.events: 1 of {} data files are missing: {}",
            parquet.len(),
            parquet[0]
        )),
        "{err}"
    );
    assert!(
        err.ends_with(
            "error: data files are missing from storage in 1 of 2 tables: main.shop.events\n"
        ),
        "{err}"
    );
    let out = landed.lakeflow(&["status", "spec.yaml", "--verify", "--json"]);
    assert!(!out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["files"]["missing"], 1);
    assert_eq!(json[0]["files"]["missing_paths"][0], parquet[0].as_str());
    assert_eq!(json[1]["files"]["missing"], 0);
}

#[test]
fn status_of_a_warehouse_that_does_not_exist_fails_and_creates_nothing() {
    let dir = super::example_spec_dir(SPEC);
    let out = lakeflow_command(
        dir.path(),
        &["status", "spec.yaml", "--warehouse", "no-such-warehouse"],
    )
    .output()
    .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.starts_with("error: warehouse `") && err.contains("no-such-warehouse/` does not exist"),
        "{err}"
    );
    assert!(!dir.path().join("no-such-warehouse").exists());
}
