//! The engine against the `example` connector: every ingestion type, incremental re-runs,
//! write-back through the source.

use std::collections::BTreeSet;
use std::sync::Arc;

use lakeflow_connect::{LakeflowConnect, TableOptions};
use lakeflow_example::{ClientConfig, ExampleConnector, ExampleSource, SourceConfig};
use lakeflow_pipeline::{FlowKind, RunOptions, Warehouse};
use serde_json::{Value, json};

use super::common::{count, example_connector, run_spec, runtime, table_rows};

const SPEC: &str = "
connection_name: example
objects:
  - table: {source_table: products, destination_catalog: main, destination_schema: shop}
  - table:
      source_table: events
      destination_catalog: main
      destination_schema: shop
      table_configuration: {max_records_per_batch: 30, limit: 10}
  - table:
      source_table: users
      destination_catalog: main
      destination_schema: shop
      table_configuration: {max_records_per_batch: 7}
  - table:
      source_table: orders
      destination_catalog: main
      destination_schema: shop
      table_configuration: {max_records_per_batch: 11}
";

/// Every key of a table read through the connector until caught up.
fn keys_read(
    connector: &dyn LakeflowConnect,
    table: &str,
    key: &str,
    deletes: bool,
) -> BTreeSet<String> {
    let options = TableOptions::new();
    let mut offset = None;
    let mut keys = BTreeSet::new();
    loop {
        let read = if deletes {
            connector.read_table_deletes(table, offset.as_ref(), &options)
        } else {
            connector.read_table(table, offset.as_ref(), &options)
        };
        let (records, end) = read.unwrap().collect().unwrap();
        keys.extend(records.iter().map(|r| r[key].to_string()));
        if end.is_none() || end == offset {
            return keys;
        }
        offset = end;
    }
}

/// A source the test writes to, without injected errors.
fn writable_source() -> Arc<ExampleSource> {
    Arc::new(ExampleSource::new(SourceConfig {
        error_rate: 0.0,
        ..SourceConfig::default()
    }))
}

/// A fresh connector (a new init time, so it sees what was written since) on `source`.
fn connect_to(source: &Arc<ExampleSource>) -> Arc<dyn LakeflowConnect> {
    Arc::new(ExampleConnector::with_source(
        source.clone(),
        ClientConfig::default(),
    ))
}

/// The smallest `order_id` in the landed `table`.
fn first_order_id(rt: &tokio::runtime::Runtime, warehouse: &Warehouse, table: &str) -> i64 {
    let rows = table_rows(
        rt,
        warehouse,
        &format!("SELECT MIN(order_id) AS id FROM {table}"),
    );
    let row: Value = serde_json::from_str(&rows[0]).unwrap();
    row["id"].as_i64().unwrap()
}

fn small_commits() -> RunOptions {
    RunOptions {
        commit_rows: 25,
        ..RunOptions::default()
    }
}

#[test]
fn lands_every_ingestion_type_and_a_second_run_adds_nothing() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let connector = example_connector();
    let first = run_spec(&rt, SPEC, &connector, &warehouse, &small_commits());
    for s in &first {
        assert!(!s.failed(), "{s:?}");
    }
    let products = keys_read(connector.as_ref(), "products", "product_id", false);
    let users = keys_read(connector.as_ref(), "users", "user_id", false);
    let orders = keys_read(connector.as_ref(), "orders", "order_id", false);
    let deleted = keys_read(connector.as_ref(), "orders", "order_id", true);
    assert!(!deleted.is_empty() && orders.is_disjoint(&deleted));
    assert_eq!(count(&rt, &warehouse, "main.shop.products"), products.len());
    assert_eq!(count(&rt, &warehouse, "main.shop.events"), 100);
    assert_eq!(count(&rt, &warehouse, "main.shop.users"), users.len());
    assert_eq!(count(&rt, &warehouse, "main.shop.orders"), orders.len());
    let events = &first[1];
    assert_eq!(events.flow, FlowKind::Append);
    assert_eq!(events.counts.appended, 100);
    assert!(
        events.commits >= 4,
        "100 rows in commits of ~25: {events:?}"
    );
    // Keys are unique after upserts with small batches.
    let distinct = table_rows(
        &rt,
        &warehouse,
        "SELECT COUNT(DISTINCT user_id) AS n FROM main.shop.users",
    );
    assert_eq!(distinct, [format!("{{\"n\":{}}}", users.len())]);

    let before: Vec<Vec<String>> = ["products", "events", "users", "orders"]
        .iter()
        .map(|t| table_rows(&rt, &warehouse, &format!("SELECT * FROM main.shop.{t}")))
        .collect();
    let second = run_spec(
        &rt,
        SPEC,
        &example_connector(),
        &warehouse,
        &small_commits(),
    );
    for s in &second[1..] {
        assert!(!s.failed(), "{s:?}");
        assert_eq!(s.commits, 0, "nothing new for {}: {s:?}", s.table);
    }
    let after: Vec<Vec<String>> = ["products", "events", "users", "orders"]
        .iter()
        .map(|t| table_rows(&rt, &warehouse, &format!("SELECT * FROM main.shop.{t}")))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn changes_written_to_the_source_land_on_the_next_run() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let source = writable_source();
    let connect = || connect_to(&source);
    let first = run_spec(&rt, SPEC, &connect(), &warehouse, &RunOptions::default());
    assert!(first.iter().all(|s| !s.failed()), "{first:?}");
    let users = count(&rt, &warehouse, "main.shop.users");
    let orders = count(&rt, &warehouse, "main.shop.orders");

    let Value::Object(new_user) =
        json!({"user_id": 9001, "email": "new@example.com", "name": "New User"})
    else {
        unreachable!()
    };
    source.insert("users", new_user).unwrap();
    let Value::Object(renamed) = json!({"user_id": 1, "name": "Renamed One"}) else {
        unreachable!()
    };
    source.upsert("users", renamed).unwrap();
    let first_order = first_order_id(&rt, &warehouse, "main.shop.orders");
    source.delete("orders", &json!(first_order)).unwrap();

    let second = run_spec(&rt, SPEC, &connect(), &warehouse, &RunOptions::default());
    assert!(second.iter().all(|s| !s.failed()), "{second:?}");
    assert_eq!(count(&rt, &warehouse, "main.shop.users"), users + 1);
    assert_eq!(
        table_rows(
            &rt,
            &warehouse,
            "SELECT name FROM main.shop.users WHERE user_id = 1"
        ),
        ["{\"name\":\"Renamed One\"}"]
    );
    assert_eq!(count(&rt, &warehouse, "main.shop.orders"), orders - 1);
    assert_eq!(second[3].counts.deleted, 1, "{:?}", second[3]);
}

const SCD2_SPEC: &str = "
connection_name: example
objects:
  - table:
      source_table: products
      table_configuration: {scd_type: SCD_TYPE_2}
  - table:
      source_table: users
      table_configuration: {scd_type: SCD_TYPE_2, max_records_per_batch: 9}
  - table:
      source_table: orders
      table_configuration: {scd_type: scd_type_2}
";

#[test]
fn scd2_keeps_history_for_cdc_deletes_and_snapshots() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let source = writable_source();
    let connect = || connect_to(&source);
    let first = run_spec(&rt, SCD2_SPEC, &connect(), &warehouse, &small_commits());
    assert!(first.iter().all(|s| !s.failed()), "{first:?}");
    let users = count(&rt, &warehouse, "users");
    let products = count(&rt, &warehouse, "products");
    let orders = count(&rt, &warehouse, "orders");
    for table in ["users", "products", "orders"] {
        assert_eq!(
            count(
                &rt,
                &warehouse,
                &format!("(SELECT * FROM {table} WHERE \"__END_AT\" IS NULL)")
            ),
            count(&rt, &warehouse, table),
            "one open version per key after the first run of {table}"
        );
    }

    // A change of a tracked column makes a version; a change of the cursor alone does not.
    let Value::Object(renamed) = json!({"user_id": 1, "name": "Renamed One"}) else {
        unreachable!()
    };
    source.upsert("users", renamed).unwrap();
    let Value::Object(touched) = json!({"user_id": 2}) else {
        unreachable!()
    };
    source.upsert("users", touched).unwrap();
    let first_order = first_order_id(&rt, &warehouse, "orders");
    source.delete("orders", &json!(first_order)).unwrap();

    let second = run_spec(&rt, SCD2_SPEC, &connect(), &warehouse, &small_commits());
    assert!(second.iter().all(|s| !s.failed()), "{second:?}");
    assert_eq!(count(&rt, &warehouse, "users"), users + 1);
    let history = table_rows(
        &rt,
        &warehouse,
        "SELECT name, \"__END_AT\" IS NULL AS current FROM users WHERE user_id = 1 ORDER BY \"__START_AT\"",
    );
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history.contains(&"{\"name\":\"Renamed One\",\"current\":true}".to_owned()),
        "{history:?}"
    );
    assert_eq!(
        count(&rt, &warehouse, "(SELECT * FROM users WHERE user_id = 2)"),
        1,
        "a cursor-only change makes no version"
    );
    // The deleted order's version is closed, not removed.
    assert_eq!(count(&rt, &warehouse, "orders"), orders);
    assert_eq!(
        count(
            &rt,
            &warehouse,
            &format!(
                "(SELECT * FROM orders WHERE order_id = {first_order} AND \"__END_AT\" IS NOT NULL)"
            )
        ),
        1
    );
    // An unchanged snapshot adds no versions.
    assert_eq!(count(&rt, &warehouse, "products"), products);
}

#[test]
fn offset_logs_are_pruned_to_the_last_few_batches() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let spec = "connection_name: example\nobjects:\n  - table:\n      source_table: users\n      \
                table_configuration: {max_records_per_batch: 2}\n";
    let options = RunOptions {
        commit_rows: 1,
        ..RunOptions::default()
    };
    let summary = run_spec(&rt, spec, &example_connector(), &warehouse, &options);
    assert!(summary[0].commits > 12, "{summary:?}");
    let logs = std::fs::read_dir(dir.path().join("users/_lakeflow/upserts/offsets"))
        .unwrap()
        .count();
    assert_eq!(logs, 10);
    // And the table resumes from the newest one.
    let again = run_spec(&rt, spec, &example_connector(), &warehouse, &options);
    assert_eq!(again[0].commits, 0, "{again:?}");
}
