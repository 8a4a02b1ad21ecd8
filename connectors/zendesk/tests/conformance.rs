//! The generic conformance suite (`lakeflow_testkit`) on the `zendesk` connector, offline
//! against its simulator (with the write-back of tickets), and live against an account when
//! `LAKEFLOW_ZENDESK_*` variables are set.

use std::time::Duration;

use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Record, Result};
use lakeflow_kit::send_write;
use lakeflow_testkit::fixtures::serve;
use lakeflow_testkit::{Check, Conformance, FAKE_SECRET, Outcome, WriteBack, WriteBackError};
use lakeflow_zendesk::{DESCRIPTOR, SIMULATOR, ZendeskConnector};
use serde_json::{Value, json};

/// The user the simulator spec's Basic auth expects (with the suite's fake secret as token).
const EMAIL: &str = "conformance@example.com";

/// Connection options for a simulator; the budgets are the spec's (no waiting in tests).
fn connection(base_url: &str) -> ConnectionOptions {
    let mut options: ConnectionOptions = [
        ("base_url", base_url),
        ("email", EMAIL),
        ("requests_per_minute", "100000"),
        ("export_requests_per_minute", "100000"),
    ]
    .into_iter()
    .collect();
    options.insert_secret("api_token", FAKE_SECRET);
    options
}

/// Write-back through the simulator's ticket endpoints, as an agent would: create a ticket,
/// solve it, and delete another.
struct Tickets {
    api: ZendeskConnector,
}

impl Tickets {
    fn send(&self, method: &str, path: &str, body: &Value) -> Result<Value, WriteBackError> {
        send_write(self.api.request(method, path), method, body)
            .map_err(|e| WriteBackError::Rejected(e.to_string()))
    }
}

impl WriteBack for Tickets {
    fn insert(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "tickets" {
            return Ok(None);
        }
        let created = self.send(
            "POST",
            "/api/v2/tickets.json",
            &json!({"ticket": {
                "subject": "Conformance: write-back ticket",
                "description": "Created by the conformance suite, then solved.",
                "requester_id": 4_800_000_010_i64,
                "tags": ["conformance"],
                "custom_fields": [{"id": 5_000_000_101_i64, "value": "product_tents"}]
            }}),
        )?;
        let id = created["ticket"]["id"].clone();
        let solved = self.send(
            "PATCH",
            &format!("/api/v2/tickets/{id}.json"),
            &json!({"ticket": {"status": "solved"}}),
        )?;
        assert_eq!(
            solved["ticket"]["id"], id,
            "the update changed the created ticket"
        );
        // Zendesk stamps whole seconds, and a connector reads only seconds that had ended when
        // it was built: let the update's second end.
        std::thread::sleep(Duration::from_millis(1_100));
        Ok(Some(
            [
                ("id".to_owned(), id),
                ("status".to_owned(), json!("solved")),
            ]
            .into_iter()
            .collect(),
        ))
    }

    fn delete(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "tickets" {
            return Ok(None);
        }
        let id = 1_003;
        self.send(
            "DELETE",
            &format!("/api/v2/tickets/{id}.json"),
            &Value::Null,
        )?;
        std::thread::sleep(Duration::from_millis(1_100));
        Ok(Some([("id".to_owned(), json!(id))].into_iter().collect()))
    }
}

#[test]
fn the_zendesk_connector_passes_every_check() {
    let simulator = serve(&SIMULATOR);
    let options = connection(&simulator.base_url());
    let writer = Tickets {
        api: ZendeskConnector::new(&options).unwrap(),
    };
    let report = Conformance::over_simulator(&DESCRIPTOR, ZendeskConnector::new, options)
        .write_back(Box::new(writer))
        .run();
    println!("{report}");
    report.assert_passed();
    let connector = ZendeskConnector::new(&connection(&simulator.base_url())).unwrap();
    for name in connector.list_tables().unwrap() {
        let incremental = connector
            .read_table_metadata(&name, &lakeflow_connect::TableOptions::new())
            .unwrap()
            .ingestion_type
            .is_incremental();
        report.assert_table_checked(&name, incremental);
    }
    for table in ["tickets", "users"] {
        report.assert_outcomes(Some(table), &[Check::Deletes], Outcome::Pass);
    }
    report.assert_outcomes(Some("tickets"), &[Check::WriteBack], Outcome::Pass);
    report.assert_outcomes(None, &[Check::Secrets], Outcome::Pass);
}

#[test]
fn the_descriptor_built_connector_passes_as_lakeflow_test_runs_it() {
    // The suite starts the simulator, hands its URL over as `base_url`, the spec's
    // `connection_options` give the email and budgets, and the fake secret goes to `api_token`
    // (the first way to authenticate) only.
    let report = Conformance::new(&DESCRIPTOR)
        .tables(&["tickets", "organizations", "ticket_comments", "groups"])
        .run();
    println!("{report}");
    report.assert_passed();
    let setup = report.row(None, Check::Setup).unwrap();
    assert!(setup.evidence.contains("email"), "{}", setup.evidence);
    assert!(
        !setup.evidence.contains("oauth_token"),
        "{}",
        setup.evidence
    );
}

#[test]
fn conformance_live() {
    // Only with LAKEFLOW_ZENDESK_SUBDOMAIN, LAKEFLOW_ZENDESK_EMAIL and LAKEFLOW_ZENDESK_API_TOKEN
    // (or LAKEFLOW_ZENDESK_OAUTH_TOKEN) set.
    let Some(mut suite) = Conformance::live_from_env(&DESCRIPTOR) else {
        return;
    };
    // A young account may have none of these yet.
    for table in [
        "ticket_comments",
        "ticket_metric_events",
        "satisfaction_ratings",
        "articles",
    ] {
        suite = suite.may_be_empty(table);
    }
    suite.run().assert_passed();
}
