//! Model-based tests of SCD type 1: random change sequences (colliding keys, tied and
//! out-of-order sequence values, deletes interleaved), landed over one to three runs with small
//! reads and commits, must leave the table a plain in-memory model of
//! docs/ingestion-semantics.md computes.
//!
//! The model is independent of the engine's order of work (per run, all upserts and then all
//! deletes; per commit, one change per key): per key, the upsert with the highest sequence value
//! wins (the later-delivered one on ties), and the key exists only if that upsert is newer than
//! the key's newest delete (a delete applies to rows no newer than itself, and its tombstone
//! blocks every upsert no newer than itself, so on a tie the delete wins).

use std::collections::BTreeMap;

use lakeflow_connect::IngestionType;
use lakeflow_pipeline::{RunOptions, Warehouse};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use super::common::runtime;
use super::scripted::{
    Script, ScriptedConnector, land_runs, land_runs_with, query_rows, record, run_scripted,
    strip_nulls,
};

/// One change delivered by the connector. `n` is its position in the generated sequence, which
/// makes every upsert's payload distinct, so the winner of a tie is visible.
#[derive(Debug, Clone)]
enum Change {
    Upsert {
        n: usize,
        id: i64,
        seq: i64,
        shape: u8,
    },
    Delete {
        id: i64,
        seq: i64,
    },
}

impl Change {
    /// The row an upsert carries: `shape` picks null value / null struct / null struct field.
    fn row(&self) -> Option<Value> {
        let Self::Upsert { n, id, seq, shape } = *self else {
            return None;
        };
        let value = if shape == 0 {
            Value::Null
        } else {
            json!(format!("v{n}"))
        };
        let meta = match shape {
            1 => Value::Null,
            2 => json!({ "tag": null, "n": seq }),
            _ => json!({ "tag": format!("t{n}"), "n": seq * 10 }),
        };
        Some(json!({ "id": id, "seq": seq, "value": value, "meta": meta }))
    }
}

/// A generated scenario.
#[derive(Debug, Clone)]
struct Case {
    changes: Vec<Change>,
    /// Run `i` sees `changes[..runs[i]]`; the last run sees everything.
    runs: Vec<usize>,
    max_records_per_batch: usize,
    commit_rows: usize,
}

fn case_strategy(max_changes: usize) -> impl Strategy<Value = Case> {
    let change = (0..5u8, 0..6i64, 0..8i64, 0..6u8);
    (
        prop::collection::vec(change, 0..=max_changes),
        prop::collection::vec(any::<Index>(), 0..=2),
        1..=5usize,
        1..20usize,
    )
        .prop_map(|(raw, cuts, max_records_per_batch, commit_rows)| {
            let changes: Vec<Change> = raw
                .into_iter()
                .enumerate()
                .map(|(n, (kind, id, seq, shape))| {
                    // One change in five is a delete.
                    if kind == 0 {
                        Change::Delete { id, seq }
                    } else {
                        Change::Upsert { n, id, seq, shape }
                    }
                })
                .collect();
            let mut runs: Vec<usize> = cuts.iter().map(|i| i.index(changes.len() + 1)).collect();
            runs.push(changes.len());
            runs.sort_unstable();
            Case {
                changes,
                runs,
                max_records_per_batch,
                commit_rows,
            }
        })
}

/// The scripted `items` table as the connector serves it after `changes`.
fn script(ingestion_type: IngestionType, changes: &[Change]) -> Script {
    let mut script = Script::new(ingestion_type);
    for change in changes {
        match change {
            Change::Upsert { .. } => script.upserts.push(record(change.row().unwrap())),
            Change::Delete { id, seq } => {
                script.deletes.push(record(json!({ "id": id, "seq": seq })));
            }
        }
    }
    script
}

/// SCD type 1 per docs/ingestion-semantics.md: per key the highest-sequence upsert wins (the
/// later one on ties) and survives only if it is newer than every delete of the key.
fn scd1_model(changes: &[Change], with_deletes: bool) -> Vec<Value> {
    let mut best: BTreeMap<i64, (i64, Value)> = BTreeMap::new();
    let mut tombstone: BTreeMap<i64, i64> = BTreeMap::new();
    for change in changes {
        match *change {
            Change::Upsert { id, seq, .. } => {
                if best.get(&id).is_none_or(|(kept, _)| seq >= *kept) {
                    best.insert(id, (seq, change.row().unwrap()));
                }
            }
            Change::Delete { id, seq } if with_deletes => {
                let t = tombstone.entry(id).or_insert(seq);
                *t = (*t).max(seq);
            }
            Change::Delete { .. } => {}
        }
    }
    best.into_iter()
        .filter(|(id, (seq, _))| tombstone.get(id).is_none_or(|t| seq > t))
        .map(|(_, (_, row))| strip_nulls(row))
        .collect()
}

/// Every upsert exactly once, as a sorted multiset.
fn append_model(changes: &[Change]) -> Vec<Value> {
    let mut rows: Vec<Value> = changes
        .iter()
        .filter_map(Change::row)
        .map(strip_nulls)
        .collect();
    rows.sort_by_key(Value::to_string);
    rows
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// A `cdc_with_deletes` table, SCD type 1.
    CdcWithDeletes,
    /// A `cdc` table (no deletes feed), SCD type 1.
    Cdc,
    /// A `cdc_with_deletes` table landed with `scd_type: APPEND_ONLY` (a change log).
    AppendOnly,
}

fn spec(variant: Variant, max_records_per_batch: usize) -> String {
    let scd = if variant == Variant::AppendOnly {
        ", scd_type: APPEND_ONLY"
    } else {
        ""
    };
    format!(
        "connection_name: scripted\nobjects:\n  - table:\n      source_table: items\n      \
         table_configuration: {{max_records_per_batch: {max_records_per_batch}{scd}}}\n"
    )
}

/// Rows as compact JSON lines, for failure messages.
fn render(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("\n    {r}")).collect()
}

/// Who serves the scripted changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The in-process `ScriptedConnector`.
    Scripted,
    /// A Python connector written for the original (`scripted_source.py`), through the
    /// `python` source.
    Python,
}

/// Lands `case` run after run, then compares the table with the model and checks that one more
/// run with nothing new commits nothing.
fn check(
    rt: &tokio::runtime::Runtime,
    variant: Variant,
    source: Source,
    case: &Case,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let ingestion_type = match variant {
        Variant::Cdc => IngestionType::Cdc,
        Variant::CdcWithDeletes | Variant::AppendOnly => IngestionType::CdcWithDeletes,
    };
    let yaml = spec(variant, case.max_records_per_batch);
    let options = RunOptions {
        commit_rows: case.commit_rows,
        ..RunOptions::default()
    };
    let script_for = |served| script(ingestion_type, &case.changes[..served]);
    match source {
        Source::Scripted => land_runs(
            rt,
            &yaml,
            &warehouse,
            &options,
            &case.runs,
            case.changes.len(),
            script_for,
        )?,
        Source::Python => land_runs_with(&case.runs, case.changes.len(), |served| {
            let script = script_for(served);
            run_python(rt, &yaml, &script, dir.path(), &warehouse, &options)
        })?,
    }
    let sql = "SELECT id, seq, value, meta FROM items ORDER BY id";
    let mut actual = query_rows(rt, &warehouse, sql);
    let expected = match variant {
        Variant::CdcWithDeletes | Variant::Cdc => {
            scd1_model(&case.changes, variant == Variant::CdcWithDeletes)
        }
        Variant::AppendOnly => {
            actual.sort_by_key(Value::to_string);
            append_model(&case.changes)
        }
    };
    prop_assert!(
        actual == expected,
        "{:?} table differs from the model\n  table:{}\n  model:{}",
        variant,
        render(&actual),
        render(&expected)
    );
    Ok(())
}

/// Cases to run: `PROPTEST_CASES` when set (for deeper runs), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn check_random(variant: Variant, default_cases: u32, max_changes: usize) {
    check_random_from(variant, Source::Scripted, default_cases, max_changes);
}

fn check_random_from(variant: Variant, source: Source, default_cases: u32, max_changes: usize) {
    let rt = runtime();
    let mut runner = TestRunner::new(Config {
        cases: cases(default_cases),
        // Each case lands Delta tables: keep shrinking bounded, and write no regression files
        // into the source tree (the failing case is printed).
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case_strategy(max_changes), |case| {
        check(&rt, variant, source, &case)
    });
    if let Err(e) = result {
        panic!("{variant:?} ({source:?}): {e}");
    }
}

/// The `script` served by the Python test connector `scripted_source.py`, landed as `yaml`.
fn run_python(
    rt: &tokio::runtime::Runtime,
    yaml: &str,
    script: &Script,
    dir: &std::path::Path,
    warehouse: &Warehouse,
    options: &RunOptions,
) -> Vec<lakeflow_pipeline::TableSummary> {
    let file = dir.join("script.json");
    let body = json!({
        "ingestion_type": script.metadata.ingestion_type.as_str(),
        "upserts": script.upserts,
        "deletes": script.deletes,
    });
    std::fs::write(&file, body.to_string()).unwrap();
    let class = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../pyhost/host/tests/connectors/scripted_source.py"
    );
    let connection: lakeflow_connect::ConnectionOptions =
        [("class", class), ("script", file.to_str().unwrap())]
            .into_iter()
            .collect();
    let descriptor = &lakeflow_pyhost::DESCRIPTOR;
    let connector: std::sync::Arc<dyn lakeflow_connect::LakeflowConnect> =
        std::sync::Arc::from(descriptor.connect(&connection).unwrap());
    let spec = lakeflow_spec::PipelineSpec::parse(yaml, "test.yaml").unwrap();
    let plans = lakeflow_pipeline::plan(&spec, connector.as_ref(), descriptor, warehouse).unwrap();
    rt.block_on(lakeflow_pipeline::run(
        plans,
        connector,
        options,
        std::sync::Arc::new(lakeflow_pipeline::NoProgress),
    ))
}

#[test]
fn a_python_connector_lands_what_the_models_say() {
    // Fewer cases: each run starts a Python process.
    check_random_from(Variant::CdcWithDeletes, Source::Python, 6, 16);
    check_random_from(Variant::AppendOnly, Source::Python, 4, 16);
}

#[test]
fn cdc_with_deletes_matches_the_scd1_model() {
    check_random(Variant::CdcWithDeletes, 32, 24);
}

#[test]
fn cdc_matches_the_scd1_model() {
    check_random(Variant::Cdc, 24, 24);
}

#[test]
fn append_only_lands_every_change_exactly_once() {
    check_random(Variant::AppendOnly, 24, 24);
}

/// The hand-written case: after a delete, a late upsert that is older than (or as old as) the
/// delete does not resurrect the key; a newer one does.
#[test]
fn late_older_upsert_does_not_resurrect_a_deleted_key_but_a_newer_one_does() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let yaml = spec(Variant::CdcWithDeletes, 10);
    let options = RunOptions::default();
    let up = |n, id, seq| Change::Upsert {
        n,
        id,
        seq,
        shape: 3,
    };
    let mut changes = vec![up(0, 1, 5), up(1, 2, 5), Change::Delete { id: 1, seq: 6 }];
    let land = |changes: &[Change]| {
        let connector = ScriptedConnector::default()
            .with("items", script(IngestionType::CdcWithDeletes, changes));
        let summaries = run_scripted(&rt, &yaml, &connector, &warehouse, &options);
        assert!(!summaries[0].failed(), "{:?}", summaries[0]);
        let ids: Vec<Value> =
            query_rows(&rt, &warehouse, "SELECT id, value FROM items ORDER BY id");
        (summaries[0].clone(), ids)
    };

    let (first, rows) = land(&changes);
    assert_eq!(first.counts.deleted, 1, "{first:?}");
    assert_eq!(rows, [json!({"id": 2, "value": "v1"})]);

    // Older than the delete, then as old as the delete: neither comes back.
    changes.extend([up(3, 1, 4), up(4, 1, 6)]);
    let (second, rows) = land(&changes);
    assert_eq!(
        (second.counts.inserted, second.counts.updated),
        (0, 0),
        "{second:?}"
    );
    assert_eq!(rows, [json!({"id": 2, "value": "v1"})]);
    // Also when the late upsert arrives in its own commit after other keys changed.
    changes.extend([up(5, 2, 7), up(6, 1, 2)]);
    let (_, rows) = land(&changes);
    assert_eq!(rows, [json!({"id": 2, "value": "v5"})]);

    // Newer than the delete: the key is re-created.
    changes.push(up(7, 1, 7));
    let (fourth, rows) = land(&changes);
    assert_eq!(fourth.counts.inserted, 1, "{fourth:?}");
    assert_eq!(
        rows,
        [
            json!({"id": 1, "value": "v7"}),
            json!({"id": 2, "value": "v5"})
        ]
    );
    assert_eq!(scd1_model(&changes, true).len(), 2);
}
