//! SCD 2 over snapshots: a changed row makes a version, a vanished key's version is closed, an
//! unchanged snapshot changes nothing, a key that comes back opens a new version.

use lakeflow_connect::{IngestionType, TableMetadata};
use lakeflow_pipeline::{RunOptions, Warehouse};
use serde_json::{Value, json};

use super::common::runtime;
use super::scripted::{Script, ScriptedConnector, query_rows, record, run_scripted};

const SPEC: &str = "
connection_name: scripted
objects:
  - table:
      source_table: products
      table_configuration: {scd_type: SCD_TYPE_2}
";

fn snapshot(rows: &[(i64, &str)]) -> ScriptedConnector {
    let mut script = Script::new(IngestionType::Snapshot);
    script.metadata = TableMetadata::snapshot(&["id"]);
    script.upserts = rows
        .iter()
        .map(|(id, value)| record(json!({"id": id, "value": value})))
        .collect();
    ScriptedConnector::default().with("products", script)
}

/// (id, value, open) of every version, oldest first per key.
fn versions(rt: &tokio::runtime::Runtime, warehouse: &Warehouse) -> Vec<Value> {
    query_rows(
        rt,
        warehouse,
        "SELECT id, value, \"__END_AT\" IS NULL AS open FROM products ORDER BY id, \"__START_AT\"",
    )
}

#[test]
fn snapshots_make_versions_of_changed_rows_and_close_vanished_keys() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let options = RunOptions::default();
    let run = |rows: &[(i64, &str)]| {
        let summary = run_scripted(&rt, SPEC, &snapshot(rows), &warehouse, &options);
        assert!(!summary[0].failed(), "{summary:?}");
        let c = &summary[0].counts;
        (c.inserted, c.updated, c.deleted)
    };

    assert_eq!(run(&[(1, "a"), (2, "b"), (3, "c")]), (3, 0, 0));
    // Counts are of rows: versions written, versions closed, keys closed.
    assert_eq!(run(&[(1, "a"), (2, "B"), (4, "d")]), (2, 2, 1));
    let after_change = versions(&rt, &warehouse);
    assert_eq!(
        after_change,
        [
            json!({"id": 1, "value": "a", "open": true}),
            json!({"id": 2, "value": "b", "open": false}),
            json!({"id": 2, "value": "B", "open": true}),
            json!({"id": 3, "value": "c", "open": false}),
            json!({"id": 4, "value": "d", "open": true}),
        ]
    );
    // The new version of 2 starts where the old one ends.
    let handover = query_rows(
        &rt,
        &warehouse,
        "SELECT COUNT(*) AS n FROM products a JOIN products b ON a.id = b.id \
         WHERE a.value = 'b' AND b.value = 'B' AND a.\"__END_AT\" = b.\"__START_AT\"",
    );
    assert_eq!(handover, [json!({"n": 1})]);

    assert_eq!(run(&[(2, "B"), (4, "d"), (1, "a")]), (0, 0, 0), "same rows");
    assert_eq!(versions(&rt, &warehouse), after_change);

    assert_eq!(run(&[(3, "c")]), (1, 3, 3));
    assert_eq!(
        versions(&rt, &warehouse),
        [
            json!({"id": 1, "value": "a", "open": false}),
            json!({"id": 2, "value": "b", "open": false}),
            json!({"id": 2, "value": "B", "open": false}),
            json!({"id": 3, "value": "c", "open": false}),
            json!({"id": 3, "value": "c", "open": true}),
            json!({"id": 4, "value": "d", "open": false}),
        ]
    );

    assert_eq!(run(&[]), (0, 1, 1), "an empty snapshot closes every key");

    let open = query_rows(
        &rt,
        &warehouse,
        "SELECT COUNT(*) AS n FROM products WHERE \"__END_AT\" IS NULL",
    );
    assert_eq!(open, [json!({"n": 0})]);

    // A key twice in one snapshot: its first row is the version.
    assert_eq!(run(&[(5, "e"), (5, "e2")]), (1, 0, 0));
    let five = query_rows(
        &rt,
        &warehouse,
        "SELECT value FROM products WHERE id = 5 AND \"__END_AT\" IS NULL",
    );
    assert_eq!(five, [json!({"value": "e"})]);
    // The same for a key with a current version: the first row decides.
    assert_eq!(run(&[(5, "e"), (5, "x")]), (0, 0, 0));
    assert_eq!(run(&[(5, "y"), (5, "e")]), (1, 1, 0));
    let five = query_rows(
        &rt,
        &warehouse,
        "SELECT value FROM products WHERE id = 5 AND \"__END_AT\" IS NULL",
    );
    assert_eq!(five, [json!({"value": "y"})]);
}
