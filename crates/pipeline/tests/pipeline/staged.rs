//! One rewrite per run: upserts that change rows already in the table are held to the end of
//! the run (one row per key, within `stage_bytes`), so each data file is rewritten once however
//! many commit bounds the run crosses; upserts that only add keys commit at each bound, so a
//! full load still streams into the table.

use lakeflow_connect::IngestionType;
use lakeflow_pipeline::{RunOptions, TableSummary, Warehouse};
use serde_json::{Value, json};

use super::common::runtime;
use super::scripted::{Script, ScriptedConnector, query_rows, record, run_scripted};

const SPEC: &str = "
connection_name: scripted
objects:
  - table:
      source_table: items
      table_configuration: {max_records_per_batch: 3}
";

/// A commit bound at every read.
fn bound_per_read(stage_bytes: usize) -> RunOptions {
    RunOptions {
        commit_rows: 1,
        stage_bytes,
        ..RunOptions::default()
    }
}

/// Ids 1-9 loaded (three reads of three), then, with `updates`, every id again with `seq` 2,
/// ordered so that each read of three touches ids 3 apart (1, 4, 7, ...).
fn items(updates: bool) -> ScriptedConnector {
    let order: &[i64] = if updates {
        &[1, 4, 7, 2, 5, 8, 3, 6, 9]
    } else {
        &[]
    };
    many_items(9, order)
}

/// Ids 1-`n` loaded (reads of three), then every id in `updates` again with `seq` 2.
fn many_items(n: i64, updates: &[i64]) -> ScriptedConnector {
    let mut script = Script::new(IngestionType::Cdc);
    script.upserts = (1..=n)
        .map(|id| record(json!({"id": id, "seq": 1, "value": format!("v{id}")})))
        .collect();
    for &id in updates {
        let value = format!("w{id}");
        script
            .upserts
            .push(record(json!({"id": id, "seq": 2, "value": value})));
    }
    ScriptedConnector::default().with("items", script)
}

struct Runs {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    warehouse: Warehouse,
}

impl Runs {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
        Self {
            rt: runtime(),
            _dir: dir,
            warehouse,
        }
    }

    fn run(&self, connector: &ScriptedConnector, options: &RunOptions) -> TableSummary {
        let summary = run_scripted(&self.rt, SPEC, connector, &self.warehouse, options).remove(0);
        assert!(!summary.failed(), "{:?}", summary.error);
        summary
    }

    fn rows(&self) -> Vec<Value> {
        query_rows(
            &self.rt,
            &self.warehouse,
            "SELECT id, seq, value FROM items ORDER BY id",
        )
    }
}

fn expected(prefix: &str, seq: i64) -> Vec<Value> {
    (1..=9)
        .map(|id| json!({"id": id, "seq": seq, "value": format!("{prefix}{id}")}))
        .collect()
}

#[test]
fn a_run_whose_upserts_change_existing_rows_rewrites_each_file_once() {
    let runs = Runs::new();
    let load = runs.run(&items(false), &bound_per_read(usize::MAX));
    // New keys only: nothing to rewrite, so each bound commits and the load streams.
    assert_eq!((load.commits, load.counts.inserted), (3, 9));
    assert_eq!(load.counts.files_added, 3);

    let update = runs.run(&items(true), &bound_per_read(usize::MAX));
    assert_eq!(update.reads, 4, "three reads of changes and one caught up");
    assert_eq!(update.commits, 1, "the changes wait for the run's end");
    assert_eq!(update.counts.updated, 9);
    assert_eq!(
        update.counts.files_removed, 3,
        "each of the three files rewritten once (with a commit per read, files are rewritten again)"
    );
    assert_eq!(runs.rows(), expected("w", 2));

    let again = runs.run(&items(true), &bound_per_read(usize::MAX));
    assert_eq!(
        (again.commits, again.records_read),
        (0, 0),
        "the held commit carried the offset of the last read"
    );
}

#[test]
fn upserts_beyond_the_stage_bound_commit_at_each_bound() {
    let runs = Runs::new();
    runs.run(&items(false), &bound_per_read(1));
    let update = runs.run(&items(true), &bound_per_read(1));
    assert_eq!(update.commits, 3, "a one-byte stage holds nothing");
    assert_eq!(update.counts.updated, 9);
    // The first commit rewrites the three files (into as many new files as rewriting tasks);
    // each later commit rewrites some of those again.
    assert!(update.counts.files_removed > 3, "{:?}", update.counts);
    assert_eq!(runs.rows(), expected("w", 2));
}

#[test]
fn a_rewrite_of_many_files_lands_in_one_commit() {
    // Eight files: enough for rewriting tasks of their own where there are several cores.
    let runs = Runs::new();
    let ids: Vec<i64> = (1..=24).rev().collect();
    let load = runs.run(&many_items(24, &[]), &bound_per_read(usize::MAX));
    assert_eq!(load.counts.files_added, 8);
    let update = runs.run(&many_items(24, &ids), &bound_per_read(usize::MAX));
    assert_eq!((update.commits, update.counts.updated), (1, 24));
    assert_eq!(update.counts.files_removed, 8, "each file rewritten once");
    let rows = runs.rows();
    let expected: Vec<Value> = (1..=24)
        .map(|id| json!({"id": id, "seq": 2, "value": format!("w{id}")}))
        .collect();
    assert_eq!(rows, expected);
}
