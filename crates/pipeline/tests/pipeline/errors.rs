//! Bad records and bad specs leave the warehouse as it was: a record that does not fit the
//! schema fails its table before anything of its commit is written (other tables land), and a
//! spec the engine cannot run is rejected by `plan` before anything is created.

use lakeflow_connect::{IngestionType, TableMetadata};
use lakeflow_pipeline::{PipelineError, RunOptions, Warehouse};
use lakeflow_spec::PipelineSpec;
use serde_json::{Value, json};

use super::common::runtime;
use super::scripted::{DESCRIPTOR, Script, ScriptedConnector, query_rows, record, run_scripted};

const TWO_TABLES: &str = "
connection_name: scripted
objects:
  - table:
      source_table: items
      table_configuration: {max_records_per_batch: 1}
  - table:
      source_table: other
      table_configuration: {max_records_per_batch: 1}
";

fn upsert(id: i64, seq: i64, value: &str) -> serde_json::Map<String, Value> {
    record(json!({ "id": id, "seq": seq, "value": value }))
}

fn connector(items: &Script, other: &Script) -> ScriptedConnector {
    ScriptedConnector::default()
        .with("items", items.clone())
        .with("other", other.clone())
}

#[test]
fn a_bad_record_fails_its_table_without_a_partial_commit_and_other_tables_land() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    // Reads of one record, commits of many: the bad record's commit holds good reads before it.
    let options = RunOptions {
        commit_rows: 100,
        ..RunOptions::default()
    };
    let mut items = Script::new(IngestionType::CdcWithDeletes);
    let mut other = Script::new(IngestionType::Cdc);
    items.upserts = vec![upsert(1, 1, "a"), upsert(2, 1, "b"), upsert(3, 1, "c")];
    items.deletes = vec![record(json!({"id": 3, "seq": 2}))];
    other.upserts = vec![upsert(1, 1, "x")];
    let first = run_scripted(
        &rt,
        TWO_TABLES,
        &connector(&items, &other),
        &warehouse,
        &options,
    );
    assert!(first.iter().all(|s| !s.failed()), "{first:?}");
    let items_sql = "SELECT id, seq, value FROM items ORDER BY id";
    let after_first = query_rows(&rt, &warehouse, items_sql);
    assert_eq!(
        after_first,
        [
            json!({"id": 1, "seq": 1, "value": "a"}),
            json!({"id": 2, "seq": 1, "value": "b"})
        ]
    );

    // Second run: good changes, then a key that is not an Int64, then more good changes.
    items.upserts.extend([
        upsert(1, 2, "a2"),
        upsert(4, 1, "d"),
        record(json!({"id": "abc", "seq": 3, "value": "bad"})),
        upsert(5, 1, "e"),
    ]);
    items.deletes.push(record(json!({"id": 2, "seq": 5})));
    other
        .upserts
        .extend([upsert(2, 1, "y"), upsert(1, 2, "x2")]);
    let second = run_scripted(
        &rt,
        TWO_TABLES,
        &connector(&items, &other),
        &warehouse,
        &options,
    );
    let (bad, good) = (&second[0], &second[1]);
    assert!(bad.failed(), "{bad:?}");
    assert_eq!(bad.status, "failed");
    let error = bad.error.as_deref().unwrap();
    assert!(
        error.contains("`id`") && error.contains("abc") && error.contains("items"),
        "the error names the table, the column and the value: {error}"
    );
    assert_eq!(bad.commits, 0, "{bad:?}");
    assert_eq!(
        query_rows(&rt, &warehouse, items_sql),
        after_first,
        "no part of the failed commit landed, and the deletes flow did not run"
    );
    assert!(!good.failed(), "{good:?}");
    assert_eq!(
        query_rows(&rt, &warehouse, "SELECT id, value FROM other ORDER BY id"),
        [
            json!({"id": 1, "value": "x2"}),
            json!({"id": 2, "value": "y"})
        ]
    );

    // The offset did not move past the bad record: once the source fixes it, everything lands.
    items.upserts[5] = upsert(6, 3, "fixed");
    let third = run_scripted(
        &rt,
        TWO_TABLES,
        &connector(&items, &other),
        &warehouse,
        &options,
    );
    assert!(third.iter().all(|s| !s.failed()), "{third:?}");
    assert_eq!(
        query_rows(&rt, &warehouse, items_sql),
        [
            json!({"id": 1, "seq": 2, "value": "a2"}),
            json!({"id": 4, "seq": 1, "value": "d"}),
            json!({"id": 5, "seq": 1, "value": "e"}),
            json!({"id": 6, "seq": 3, "value": "fixed"}),
        ]
    );
}

#[test]
fn a_bad_deleted_record_fails_the_table_before_its_deletes_commit() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let options = RunOptions::default();
    let mut items = Script::new(IngestionType::CdcWithDeletes);
    let other = Script::new(IngestionType::Cdc);
    items.upserts = vec![upsert(1, 1, "a"), upsert(2, 1, "b")];
    let first = run_scripted(
        &rt,
        TWO_TABLES,
        &connector(&items, &other),
        &warehouse,
        &options,
    );
    assert!(first.iter().all(|s| !s.failed()), "{first:?}");

    items.deletes = vec![
        record(json!({"id": 1, "seq": 5})),
        record(json!({"id": 2, "seq": "yesterday"})),
    ];
    let second = run_scripted(
        &rt,
        TWO_TABLES,
        &connector(&items, &other),
        &warehouse,
        &options,
    );
    let error = second[0].error.as_deref().expect("items fails");
    assert!(
        error.contains("`seq`") && error.contains("yesterday"),
        "{error}"
    );
    assert_eq!(
        query_rows(&rt, &warehouse, "SELECT id FROM items ORDER BY id"),
        [json!({"id": 1}), json!({"id": 2})],
        "the delete of id 1 was in the failed commit"
    );
    // No tombstone landed either: a late upsert of id 1 at seq 3 still applies.
    items.deletes.clear();
    items.upserts.push(upsert(1, 3, "a3"));
    let third = run_scripted(
        &rt,
        TWO_TABLES,
        &connector(&items, &other),
        &warehouse,
        &options,
    );
    assert!(third.iter().all(|s| !s.failed()), "{third:?}");
    assert_eq!(
        query_rows(&rt, &warehouse, "SELECT id, value FROM items ORDER BY id"),
        [
            json!({"id": 1, "value": "a3"}),
            json!({"id": 2, "value": "b"})
        ]
    );
}

/// Plans `yaml` and returns the error; the warehouse directory must still be empty.
fn plan_error(yaml: &str) -> PipelineError {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let mut keyless = Script::new(IngestionType::Cdc);
    keyless.metadata = TableMetadata::new(IngestionType::Cdc, &[], Some("seq"));
    let connector = ScriptedConnector::default()
        .with("items", Script::new(IngestionType::CdcWithDeletes))
        .with("other", Script::new(IngestionType::Cdc))
        .with("keyless", keyless);
    let spec = PipelineSpec::parse(yaml, "bad.yaml").unwrap();
    let error = lakeflow_pipeline::plan(&spec, &connector, &DESCRIPTOR, &warehouse).unwrap_err();
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "plan created {left:?} for {yaml}");
    error
}

/// A valid first object, then `object` (YAML of one `- table:` item, 2-space indented).
fn spec_with(object: &str) -> String {
    format!(
        "connection_name: scripted\nobjects:\n  - table: {{source_table: other}}\n  - table:\n      \
         source_table: items\n{object}"
    )
}

#[test]
fn bad_specs_are_rejected_before_anything_is_created() {
    let cases: &[(&str, &[&str])] = &[
        (
            "      table_configuration:\n        max_records_per_batch: 3\n        colour: red\n",
            &["bad.yaml:8:", "`colour`", "max_records_per_batch"],
        ),
        (
            "      table_configuration: {primary_keys: [nope]}\n",
            &["bad.yaml:4:", "`nope`", "id, seq, value, meta"],
        ),
        (
            "      table_configuration: {sequence_by: meta}\n",
            &["`meta`", "scalar"],
        ),
        (
            "      table_configuration: {sequence_by: missing}\n",
            &["`missing`"],
        ),
    ];
    for (object, needles) in cases {
        let error = plan_error(&spec_with(object)).to_string();
        for needle in *needles {
            assert!(error.contains(needle), "{needle:?} not in: {error}");
        }
        assert!(error.contains("`items`"), "names the table: {error}");
    }
    // A connector table without keys cannot be upserted.
    let error = plan_error(
        "connection_name: scripted\nobjects:\n  - table: {source_table: other}\n  - table: {source_table: keyless}\n",
    )
    .to_string();
    assert!(
        error.contains("`keyless`") && error.contains("primary keys"),
        "{error}"
    );
}
