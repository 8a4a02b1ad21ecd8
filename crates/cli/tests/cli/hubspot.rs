//! A pipeline spec written for the original's HubSpot connector (its tables, a custom object by
//! name, its `access_token` option) runs unchanged against the `hubspot` simulator (`lakeflow
//! simulate hubspot`), and a contact archived in HubSpot leaves the destination on the next run.

use serde_json::Value;

use crate::simulate::Served;
use crate::{original_spec, query_count, run_spec};

/// The original's table names, and the custom object `robots` by its name.
const TABLES: [&str; 10] = [
    "contacts",
    "companies",
    "deals",
    "tickets",
    "emails",
    "tasks",
    "notes",
    "calls",
    "meetings",
    "robots",
];

/// An access token from the simulator's OAuth server: what a private app's token is to the
/// connector (the simulator serves only OAuth tokens).
fn access_token(agent: &ureq::Agent, base_url: &str) -> String {
    let body = "grant_type=refresh_token&refresh_token=rt-hubspot-conformance-1\
                &client_id=lakeflow-hubspot-test&client_secret=lakeflow-conformance-secret-7f3a";
    let answer: Value = agent
        .post(&format!("{base_url}/oauth/v1/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body)
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn the_originals_hubspot_tables_run_unchanged_and_an_archived_contact_leaves() {
    let served = Served::start(&["hubspot", "--port", "0", "--quiet"]);
    let agent = ureq::Agent::new_with_defaults();
    let token = access_token(&agent, &served.base_url);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        original_spec("hubspot_connection", &TABLES),
    )
    .unwrap();
    // The original's one connection option; `base_url` points at the simulator.
    let connection = format!(
        "[connections.hubspot_connection]\nsource = \"hubspot\"\n\
         access_token = \"{token}\"\nbase_url = \"{}\"\n\
         requests_per_10_seconds = \"100000\"\nsearch_requests_per_second = \"100000\"\n",
        served.base_url
    );
    std::fs::write(dir.path().join("lakeflow.toml"), connection).unwrap();
    run_spec(dir.path());
    // The corpus's records less the archived ones.
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM contacts"), 56);
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM deals"), 28);
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM robots"), 9);
    let contact = "5101";
    agent
        .delete(&format!(
            "{}/crm/v3/objects/contacts/{contact}",
            served.base_url
        ))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    // HubSpot stamps milliseconds; a run reads only what is older than the last whole second
    // over when it started.
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    run_spec(dir.path());
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM contacts"), 55);
    let gone = format!("SELECT COUNT(*) FROM contacts WHERE id = '{contact}'");
    assert_eq!(query_count(dir.path(), &gone), 0);
}
