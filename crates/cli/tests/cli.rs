//! End-to-end tests of the `lakeflow` binary against the embedded `example` source.

use std::process::{Command, Output};

use serde_json::Value;

fn lakeflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakeflow"))
        .args(args)
        .output()
        .expect("the lakeflow binary runs")
}

/// Runs a command that must succeed and returns its stdout.
fn stdout_of(args: &[&str]) -> String {
    let out = lakeflow(args);
    assert!(
        out.status.success(),
        "lakeflow {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a command that must fail and returns its single stderr line.
fn error_of(args: &[&str]) -> String {
    let out = lakeflow(args);
    assert!(!out.status.success(), "lakeflow {args:?} should fail");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 output");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one error line expected: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn ndjson_rows(args: &[&str]) -> Vec<serde_json::Map<String, Value>> {
    stdout_of(args)
        .lines()
        .map(
            |line| match serde_json::from_str(line).expect("a JSON line") {
                Value::Object(row) => row,
                other => panic!("not an object: {other}"),
            },
        )
        .collect()
}

#[test]
fn sources_lists_the_example_source() {
    let text = stdout_of(&["sources"]);
    assert!(text.lines().any(|l| l.starts_with("example ")), "{text}");
    let json: Value = serde_json::from_str(&stdout_of(&["sources", "--format", "json"])).unwrap();
    let example = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "example")
        .expect("example listed");
    assert!(
        example["table_options"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "max_records_per_batch")
    );
}

#[test]
fn tables_lists_metadata_and_hides_metrics() {
    let json: Value =
        serde_json::from_str(&stdout_of(&["tables", "example", "--format", "json"])).unwrap();
    let tables = json.as_array().unwrap();
    let find = |name: &str| tables.iter().find(|t| t["name"] == name).cloned();
    assert!(
        find("metrics").is_none(),
        "metrics is hidden from discovery"
    );
    let orders = find("orders").expect("orders listed");
    assert_eq!(orders["ingestion_type"], "cdc_with_deletes");
    assert_eq!(orders["primary_keys"], serde_json::json!(["order_id"]));
    assert_eq!(orders["cursor_field"], "updated_at");
    assert_eq!(find("products").unwrap()["ingestion_type"], "snapshot");
    assert_eq!(find("events").unwrap()["ingestion_type"], "append");
    assert_eq!(find("users").unwrap()["ingestion_type"], "cdc");
    let text = stdout_of(&["tables", "example"]);
    assert!(text.starts_with("TABLE"), "{text}");
}

#[test]
fn schema_shows_nested_fields_of_a_hidden_table() {
    let text = stdout_of(&["schema", "example", "metrics"]);
    // A nested struct column is printed with its children indented below it.
    assert!(text.lines().any(|l| l.starts_with("  ")), "{text}");
    let json: Value = serde_json::from_str(&stdout_of(&[
        "schema", "example", "products", "--format", "json",
    ]))
    .unwrap();
    let product_id = &json.as_array().unwrap()[0];
    assert_eq!(product_id["name"], "product_id");
}

#[test]
fn read_orders_deletes_prints_typed_rows() {
    let rows = ndjson_rows(&[
        "read",
        "example",
        "orders",
        "--deletes",
        "--format",
        "ndjson",
    ]);
    assert!(!rows.is_empty(), "the example source has deleted orders");
    for row in &rows {
        assert!(row["order_id"].is_i64(), "typed key: {row:?}");
        assert!(row["updated_at"].is_string(), "{row:?}");
    }
    let table = stdout_of(&["read", "example", "orders", "--deletes"]);
    assert!(table.contains("order_id"), "{table}");
}

#[test]
fn read_hidden_metrics_terminates() {
    let rows = ndjson_rows(&["read", "example", "metrics", "--format", "ndjson"]);
    assert!(!rows.is_empty());
}

#[test]
fn small_batches_read_the_same_rows_as_one_big_read() {
    for table in ["events", "users", "orders"] {
        let all = ndjson_rows(&["read", "example", table, "--format", "ndjson"]);
        let small = ndjson_rows(&[
            "read",
            "example",
            table,
            "--format",
            "ndjson",
            "-o",
            "max_records_per_batch=7",
        ]);
        assert!(!all.is_empty(), "{table}");
        // cdc tables may repeat a key where the cursor ties at a batch boundary; compare sets.
        let key = |rows: &[serde_json::Map<String, Value>]| {
            let mut keys: Vec<String> = rows
                .iter()
                .map(|r| Value::Object(r.clone()).to_string())
                .collect();
            keys.sort();
            keys.dedup();
            keys
        };
        assert_eq!(key(&all), key(&small), "{table}");
    }
}

#[test]
fn limit_and_offset_resume() {
    let out = lakeflow(&[
        "read",
        "example",
        "events",
        "--format",
        "ndjson",
        "-o",
        "max_records_per_batch=10",
        "--limit",
        "10",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 10);
    // The resume offset is on stderr; reading from the final offset of a full read gives nothing.
    let full = lakeflow(&["read", "example", "events", "--format", "ndjson"]);
    let stderr = String::from_utf8(full.stderr).unwrap();
    let offset = stderr.rsplit("next offset: ").next().unwrap().trim();
    assert!(offset.starts_with('{'), "{stderr}");
    let rest = ndjson_rows(&[
        "read", "example", "events", "--format", "ndjson", "--offset", offset,
    ]);
    assert!(rest.is_empty(), "caught up from the final offset");
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    assert!(error_of(&["tables", "nosuch"]).contains("unknown source `nosuch`"));
    let e = error_of(&["read", "example", "nosuch"]);
    assert!(
        e.contains("unknown table `nosuch`") && e.contains("products"),
        "{e}"
    );
    let e = error_of(&["read", "example", "events", "--offset", "{not json"]);
    assert!(e.contains("malformed JSON"), "{e}");
    let e = error_of(&["read", "example", "events", "--offset", "[1]"]);
    assert!(e.contains("expected a JSON object"), "{e}");
    let e = error_of(&["read", "example", "events", "-o", "colour=red"]);
    assert!(e.contains("unknown option `colour`"), "{e}");
    let e = error_of(&["read", "example", "events", "-o", "category=x"]);
    assert!(e.contains("`category`") && e.contains("`events`"), "{e}");
    let e = error_of(&[
        "read",
        "example",
        "events",
        "-o",
        "max_records_per_batch=zero",
    ]);
    assert!(e.contains("max_records_per_batch"), "{e}");
}
