//! The errors users meet: each one line naming what is wrong and what to do, never a secret.

use lakeflow_connect::ConnectionOptions;
use lakeflow_hubspot::{HubSpotConnector, SIMULATOR};
use lakeflow_simulator::{FaultProfile, FaultRule, RunningSimulator, Simulator};
use lakeflow_testkit::FAKE_SECRET;
use serde_json::{Value, json};

use crate::common::{Feed, batch, connection, options, simulator};

/// The simulator with `endpoint` always answering `status` with `body`.
fn failing(endpoint: &str, status: u16, body: Value) -> RunningSimulator {
    let faults = FaultProfile::new(1).with_rule(
        FaultRule::status(status)
            .on_endpoint(endpoint)
            .rate(1.0)
            .body(body),
    );
    Simulator::from_embedded(SIMULATOR.spec, SIMULATOR.files)
        .unwrap()
        .with_faults(faults)
        .start()
        .unwrap()
}

fn read_error(connection: &ConnectionOptions, table: &str) -> String {
    let hubspot = HubSpotConnector::new(connection).unwrap();
    let err = batch(&hubspot, table, Feed::Records, None, &options(&[]))
        .unwrap_err()
        .to_string();
    assert!(!err.contains(FAKE_SECRET), "{err}");
    err
}

#[test]
fn an_unknown_table_lists_the_custom_objects_too() {
    let sim = simulator();
    let err = read_error(&connection(&sim), "widgets");
    assert!(
        err.contains("widgets") && err.contains("robots") && err.contains("deal_pipelines"),
        "{err}"
    );
}

#[test]
fn a_revoked_refresh_token_says_so() {
    let sim = simulator();
    sim.oauth().unwrap().revoke_all_refresh_tokens();
    let err = read_error(&connection(&sim), "contacts");
    assert!(
        err.contains("HubSpot") && err.contains("invalid_grant"),
        "{err}"
    );
}

#[test]
fn a_missing_scope_is_named() {
    let sim = failing(
        "deals",
        403,
        json!({"status": "error", "message": "This app hasn't been granted all required scopes to make this call.",
            "errors": [{"message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": ["crm.objects.deals.read"]}}],
            "category": "MISSING_SCOPES"}),
    );
    let err = read_error(&connection(&sim), "deals");
    assert!(
        err.contains("table `deals`") && err.contains("lacks the scope `crm.objects.deals.read`"),
        "{err}"
    );
}

#[test]
fn the_daily_limit_says_when_it_resets_and_is_not_retried() {
    let sim = failing(
        "companies",
        429,
        json!({"status": "error", "message": "You have reached your daily limit.",
            "errorType": "RATE_LIMIT", "policyName": "DAILY"}),
    );
    let err = read_error(&connection(&sim), "companies");
    assert!(
        err.contains("daily API limit") && err.contains("midnight"),
        "{err}"
    );
    let lists = sim
        .request_log()
        .iter()
        .filter(|r| r.endpoint.as_deref() == Some("companies"))
        .count();
    assert_eq!(lists, 1, "a daily limit is not waited out");
}

#[test]
fn a_refused_private_app_token_points_at_the_option() {
    let sim = simulator();
    let mut options_ = connection(&sim);
    for name in ["client_id", "client_secret", "refresh_token"] {
        options_.remove(name);
    }
    options_.insert_secret("access_token", "pat-na1-revoked");
    let err = read_error(&options_, "contacts");
    assert!(
        err.contains("401") && err.contains("`access_token`") && !err.contains("pat-na1-revoked"),
        "{err}"
    );
}
