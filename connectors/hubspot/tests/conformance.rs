//! The generic conformance suite (`lakeflow_testkit`) on the `hubspot` connector, offline
//! against its simulator (OAuth, with the write-back of contacts: created, updated, archived),
//! and live when `LAKEFLOW_HUBSPOT_*` variables are set.

use std::time::Duration;

use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Record, Result};
use lakeflow_hubspot::{DESCRIPTOR, HubSpotConnector, SIMULATOR};
use lakeflow_kit::send_write;
use lakeflow_testkit::fixtures::serve;
use lakeflow_testkit::{Check, Conformance, FAKE_SECRET, Outcome, WriteBack, WriteBackError};
use serde_json::{Value, json};

/// An OAuth connection to a simulator (the suite's fake secret is the client secret and a
/// refresh token the spec accepts).
fn connection(base_url: &str) -> ConnectionOptions {
    let mut options: ConnectionOptions = [
        ("base_url", base_url),
        ("client_id", "lakeflow-hubspot-test"),
        ("requests_per_10_seconds", "100000"),
        ("search_requests_per_second", "100000"),
    ]
    .into_iter()
    .collect();
    options.insert_secret("client_secret", FAKE_SECRET);
    options.insert_secret("refresh_token", FAKE_SECRET);
    options
}

/// Write-back as a HubSpot integration would: create a contact and update it, archive another.
struct Contacts {
    api: HubSpotConnector,
}

impl Contacts {
    fn send(&self, method: &str, path: &str, body: &Value) -> Result<Value, WriteBackError> {
        send_write(self.api.request(method, path), method, body)
            .map_err(|e| WriteBackError::Rejected(e.to_string()))
    }
}

impl WriteBack for Contacts {
    fn insert(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "contacts" {
            return Ok(None);
        }
        let created = self.send(
            "POST",
            "/crm/v3/objects/contacts",
            &json!({"properties": {"email": "conformance@brightline-robotics.test",
                "firstname": "Conformance", "lastname": "Check", "lifecyclestage": "lead"}}),
        )?;
        let id = created["id"].clone();
        let updated = self.send(
            "PATCH",
            &format!(
                "/crm/v3/objects/contacts/{}",
                id.as_str().unwrap_or_default()
            ),
            &json!({"properties": {"lifecyclestage": "opportunity"}}),
        )?;
        assert_eq!(updated["id"], id, "the update changed the created contact");
        // A connector reads only what was stamped before the last whole second over when it was
        // built, and HubSpot stamps milliseconds.
        std::thread::sleep(Duration::from_millis(2_100));
        Ok(Some([("id".to_owned(), id)].into_iter().collect()))
    }

    fn delete(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != "contacts" {
            return Ok(None);
        }
        let listed = self.send("GET", "/crm/v3/objects/contacts?limit=1", &Value::Null)?;
        let id = listed["results"][0]["id"].clone();
        self.send(
            "DELETE",
            &format!(
                "/crm/v3/objects/contacts/{}",
                id.as_str().unwrap_or_default()
            ),
            &Value::Null,
        )?;
        std::thread::sleep(Duration::from_millis(2_100));
        Ok(Some([("id".to_owned(), id)].into_iter().collect()))
    }
}

#[test]
fn the_hubspot_connector_passes_every_check() {
    let simulator = serve(&SIMULATOR);
    let options = connection(&simulator.base_url());
    let writer = Contacts {
        api: HubSpotConnector::new(&options).unwrap(),
    };
    let mut suite =
        Conformance::over_simulator(&DESCRIPTOR, HubSpotConnector::new, options.clone());
    // Nothing of these is archived in the corpus.
    for table in [
        "line_items",
        "products",
        "emails",
        "tasks",
        "notes",
        "calls",
        "meetings",
    ] {
        suite = suite.allow_all_null(table, &["archivedAt"]);
    }
    let report = suite.write_back(Box::new(writer)).run();
    println!("{report}");
    report.assert_passed();
    let connector = HubSpotConnector::new(&options).unwrap();
    let tables = connector.list_tables().unwrap();
    assert!(tables.contains(&"robots".to_owned()), "{tables:?}");
    for name in tables {
        let mut checks = vec![
            Check::Schema,
            Check::Metadata,
            Check::FirstRead,
            Check::ColumnCoverage,
            Check::Faults,
        ];
        if !name.ends_with("_pipelines") {
            checks.extend([Check::Termination, Check::BatchBounds, Check::Resume]);
        }
        report.assert_outcomes(Some(&name), &checks, Outcome::Pass);
    }
    report.assert_outcomes(Some("contacts"), &[Check::WriteBack], Outcome::Pass);
    report.assert_outcomes(None, &[Check::Secrets], Outcome::Pass);
}

#[test]
fn the_descriptor_built_connector_passes_as_lakeflow_test_runs_it() {
    let report = Conformance::new(&DESCRIPTOR)
        .tables(&["contacts", "robots", "owners", "deal_pipelines"])
        .run();
    println!("{report}");
    report.assert_passed();
}

#[test]
fn conformance_live() {
    // Only with LAKEFLOW_HUBSPOT_ACCESS_TOKEN (or the OAuth variables) set.
    let Some(suite) = Conformance::live_from_env(&DESCRIPTOR) else {
        return;
    };
    suite.run().assert_passed();
}
