//! The generic conformance suite (`lakeflow_testkit`) on the `stripe` connector, offline
//! against its simulator (with the write-back of customers, read back through events), and live
//! when `LAKEFLOW_STRIPE_API_KEY` is set (a test-mode key; live reads only).

use std::time::Duration;

use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Record, Result, TableOptions};
use lakeflow_stripe::{DESCRIPTOR, SIMULATOR, StripeConnector};
use lakeflow_testkit::fixtures::serve;
use lakeflow_testkit::{Check, Conformance, FAKE_SECRET, Outcome, WriteBack, WriteBackError};
use serde_json::{Value, json};

fn connection(base_url: &str) -> ConnectionOptions {
    let mut options: ConnectionOptions = [("base_url", base_url), ("requests_per_second", "1000")]
        .into_iter()
        .collect();
    options.insert_secret("api_key", FAKE_SECRET);
    options
}

/// Write-back as a Stripe integration would: create a customer and update it (form-encoded
/// POSTs), delete another; the suite reads both back through the events feed.
struct Customers {
    api: StripeConnector,
}

impl Customers {
    fn send(&self, method: &str, path: &str, form: &str) -> Result<Value, WriteBackError> {
        let request = self.api.request(method, path);
        let response = if form.is_empty() {
            request.send_json()
        } else {
            request
                .body(
                    form.as_bytes().to_vec(),
                    "application/x-www-form-urlencoded",
                )
                .send_json()
        };
        response.map_err(|e| WriteBackError::Rejected(e.to_string()))
    }
}

impl WriteBack for Customers {
    fn insert(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "customers" {
            return Ok(None);
        }
        let created = self.send(
            "POST",
            "/v1/customers",
            "email=conformance%40tallowandwick.test&name=Conformance%20Check&metadata[source]=suite",
        )?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        let updated = self.send(
            "POST",
            &format!("/v1/customers/{id}"),
            "email=updated%40tallowandwick.test",
        )?;
        assert_eq!(
            updated["id"],
            json!(id),
            "the update changed the created customer"
        );
        // Stripe stamps whole seconds; a connector reads only seconds over when it was built.
        std::thread::sleep(Duration::from_millis(1_100));
        Ok(Some(
            [
                ("id".to_owned(), json!(id)),
                ("email".to_owned(), json!("updated@tallowandwick.test")),
            ]
            .into_iter()
            .collect(),
        ))
    }

    fn delete(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "customers" {
            return Ok(None);
        }
        let listed = self.send("GET", "/v1/customers?limit=1", "")?;
        let id = listed["data"][0]["id"].clone();
        self.send(
            "DELETE",
            &format!("/v1/customers/{}", id.as_str().unwrap_or_default()),
            "",
        )?;
        std::thread::sleep(Duration::from_millis(1_100));
        Ok(Some([("id".to_owned(), id)].into_iter().collect()))
    }
}

#[test]
fn the_stripe_connector_passes_every_check() {
    let simulator = serve(&SIMULATOR);
    let options = connection(&simulator.base_url());
    let writer = Customers {
        api: StripeConnector::new(&options).unwrap(),
    };
    let report = Conformance::over_simulator(&DESCRIPTOR, StripeConnector::new, options.clone())
        .write_back(Box::new(writer))
        .run();
    println!("{report}");
    report.assert_passed();
    let connector = StripeConnector::new(&options).unwrap();
    for name in connector.list_tables().unwrap() {
        // Every table is incremental.
        report.assert_table_checked(&name, true);
    }
    // Created, updated and deleted through the API, then read back through the events feed
    // (the deletes feed's first read reaches 30 days back, so the corpus's older deletions are
    // the connector tests' part, on a clock set to June 2025).
    report.assert_outcomes(Some("customers"), &[Check::WriteBack], Outcome::Pass);
    report.assert_outcomes(None, &[Check::Secrets], Outcome::Pass);
}

#[test]
fn the_descriptor_built_connector_passes_as_lakeflow_test_runs_it() {
    let report = Conformance::new(&DESCRIPTOR)
        .tables(&[
            "customers",
            "subscriptions",
            "balance_transactions",
            "events",
        ])
        .run();
    println!("{report}");
    report.assert_passed();
}

#[test]
fn conformance_live() {
    // Only with LAKEFLOW_STRIPE_API_KEY (a test-mode key) set.
    let Some(suite) = Conformance::live_from_env(&DESCRIPTOR) else {
        return;
    };
    let mut suite = suite.common_table_options(TableOptions::from([(
        "start_date".to_owned(),
        "2024-01-01".to_owned(),
    )]));
    for table in [
        "disputes",
        "refunds",
        "payouts",
        "setup_intents",
        "coupons",
        "plans",
    ] {
        suite = suite.may_be_empty(table);
    }
    suite.run().assert_passed();
}
