//! The generic conformance suite (`lakeflow_testkit`) on the `example` connector.
//!
//! The example source runs in process, so instead of a simulator the suite gets a factory over
//! one shared [`ExampleSource`]: the write-back helper writes to that source, and the fault
//! factory turns the source's injected error rate up while its connector lives.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use lakeflow_connect::{
    ConnectionOptions, LakeflowConnect, Record, Result, TableOptions, check_options,
};
use lakeflow_example::{
    CONNECTION_OPTIONS, ClientConfig, DESCRIPTOR, ExampleConnector, ExampleSource, Request,
    SourceConfig,
};
use lakeflow_testkit::fixtures::object;
use lakeflow_testkit::{
    BATCH_CHECKS, Check, Conformance, Intercept, Outcome, TABLE_CHECKS, Wrapped, WriteBack,
    WriteBackError,
};
use serde_json::json;

const TABLES: [&str; 5] = ["products", "events", "users", "orders", "metrics"];

/// A source whose reads never fail on purpose (faults come from [`faulty`] only).
fn quiet_source() -> Arc<ExampleSource> {
    Arc::new(ExampleSource::new(SourceConfig {
        seed: 42,
        error_rate: 0.0,
        api_key: None,
    }))
}

/// A connector over `source`, configured from the options as `DESCRIPTOR.connect` would.
fn connector(source: &Arc<ExampleSource>, options: &ConnectionOptions) -> Result<ExampleConnector> {
    check_options(options.keys(), CONNECTION_OPTIONS, None)?;
    // Validated for the same errors as the descriptor's constructor; the source is shared.
    SourceConfig::from_options(options)?;
    Ok(ExampleConnector::with_source(
        Arc::clone(source),
        ClientConfig::from_options(options)?,
    ))
}

/// The fault factory's injected behaviour: 30% of the source's calls fail with a retriable
/// 429/500/503 while the connector reading through faults lives; dropping it makes the source
/// quiet again.
#[derive(Debug)]
struct Faults(Arc<ExampleSource>);

impl Drop for Faults {
    fn drop(&mut self) {
        self.0.set_error_rate(0.0);
    }
}

impl<C: LakeflowConnect> Intercept<C> for Faults {}

/// A connector reading through injected faults. Its client retries patiently, as a connector
/// facing a flaky API must.
fn faulty(
    source: &Arc<ExampleSource>,
    options: &ConnectionOptions,
) -> Result<Wrapped<ExampleConnector, Faults>> {
    let mut config = ClientConfig::from_options(options)?;
    config.max_retries = 12;
    config.retry_base = Duration::from_micros(100);
    source.set_error_rate(0.3);
    let connector = ExampleConnector::with_source(Arc::clone(source), config);
    Ok(Wrapped::new(connector, Faults(Arc::clone(source))))
}

/// Writes through the example source's write calls.
struct Writes {
    source: Arc<ExampleSource>,
    next: AtomicI64,
}

impl WriteBack for Writes {
    fn insert(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let (record, identity) = match table {
            "products" => (
                json!({"product_id": n, "name": "Conformance lamp", "category": "home"}),
                json!({"product_id": n}),
            ),
            "events" => {
                let id = format!("evt_conformance_{n}");
                (
                    json!({"event_id": id, "event_type": "click"}),
                    json!({"event_id": id}),
                )
            }
            "users" => (
                json!({"user_id": n, "email": format!("conformance{n}@example.com")}),
                json!({"user_id": n}),
            ),
            "orders" => (
                json!({"order_id": n, "user_id": 1, "status": "pending", "currency": "EUR"}),
                json!({"order_id": n}),
            ),
            "metrics" => {
                let id = format!("m_conformance_{n}");
                (
                    json!({"metric_id": id, "host": {"name": "conformance", "region": "eu"}}),
                    json!({"metric_id": id}),
                )
            }
            _ => return Ok(None),
        };
        self.source
            .insert(table, object(record))
            .map_err(|e| WriteBackError::Rejected(e.to_string()))?;
        Ok(Some(object(identity)))
    }

    fn delete(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "orders" {
            return Ok(None);
        }
        // Any live order: the first one the API lists.
        let page = self
            .source
            .get(&Request::new("orders").param("page_size", "1"))
            .map_err(|e| WriteBackError::Rejected(e.to_string()))?;
        let id = page
            .records
            .first()
            .and_then(|r| r.get("order_id"))
            .cloned()
            .ok_or_else(|| WriteBackError::Rejected("no order left to delete".to_owned()))?;
        self.source
            .delete("orders", &id)
            .map_err(|e| WriteBackError::Rejected(e.to_string()))?;
        Ok(Some(object(json!({"order_id": id}))))
    }
}

fn suite(source: &Arc<ExampleSource>) -> Conformance {
    let (reads, faults) = (Arc::clone(source), Arc::clone(source));
    Conformance::with_factory(&DESCRIPTOR, move |options| connector(&reads, options))
        .faults_with(move |options| faulty(&faults, options))
        // Hidden from the listing but readable by name: checked when given options.
        .table_options("metrics", TableOptions::new())
        .write_back(Box::new(Writes {
            source: Arc::clone(source),
            next: AtomicI64::new(900_000),
        }))
}

#[test]
fn the_example_connector_passes_every_check() {
    let report = suite(&quiet_source()).run();
    println!("{report}");
    report.assert_passed();
    // Every check ran somewhere: a suite that skipped everything would also "pass".
    for check in Check::ALL {
        let ran = report
            .rows
            .iter()
            .any(|r| r.check == check && r.outcome == Outcome::Pass);
        // The example connector has no partitioned reads or streams.
        assert_eq!(ran, check != Check::Partitions, "{check}: {report}");
    }
    for table in TABLES {
        report.assert_outcomes(Some(table), &TABLE_CHECKS, Outcome::Pass);
        report.assert_outcomes(Some(table), &[Check::WriteBack], Outcome::Pass);
    }
    for table in ["events", "users", "orders", "metrics"] {
        report.assert_outcomes(Some(table), &BATCH_CHECKS, Outcome::Pass);
        report.assert_outcomes(Some(table), &[Check::OffsetJson], Outcome::Pass);
    }
    report.assert_outcomes(Some("products"), &[Check::SnapshotStable], Outcome::Pass);
    report.assert_outcomes(Some("orders"), &[Check::Deletes], Outcome::Pass);
    // Only the tombstones of the deletes feed carry `deleted_at`: covered, and said so.
    let coverage = report.row(Some("orders"), Check::ColumnCoverage).unwrap();
    assert!(
        coverage.evidence.contains("deleted records: [deleted_at]"),
        "{}",
        coverage.evidence
    );
}

#[test]
fn the_descriptor_built_connector_passes_too() {
    // Built by `DESCRIPTOR.connect`, with the default 3% injected errors absorbed by retries:
    // what `lakeflow test example` runs.
    let report = Conformance::new(&DESCRIPTOR)
        .table_options("metrics", TableOptions::new())
        .run();
    report.assert_passed();
    report.assert_outcomes(None, &[Check::Secrets], Outcome::Pass);
    report.assert_outcomes(Some("users"), &[Check::Resume], Outcome::Pass);
}
