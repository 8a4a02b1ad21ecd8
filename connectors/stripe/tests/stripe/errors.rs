//! A connected account, and the errors users meet: each one line saying what to fix, never
//! showing the key.

use lakeflow_connect::ConnectionOptions;
use lakeflow_simulator::{FaultProfile, FaultRule, Simulator};
use lakeflow_stripe::{SIMULATOR, StripeConnector};
use serde_json::json;

use crate::common::{Feed, batch, connection, corpus, drain, edited, options, simulator};

const ACCOUNT: &str = "acct_1Nv0FGQ9RKHgCVdK";

/// The first error reading `customers` from a simulator whose customers list always answers
/// `status` with Stripe's error `body`.
fn customers_error(status: u16, body: &serde_json::Value) -> String {
    let faults = FaultProfile::new(1).with_rule(
        FaultRule::status(status)
            .on_endpoint("customers")
            .rate(1.0)
            .body(json!({ "error": body })),
    );
    let sim = Simulator::from_embedded(SIMULATOR.spec, SIMULATOR.files)
        .unwrap()
        .with_faults(faults)
        .start()
        .unwrap();
    read_error(&connection(&sim), "customers")
}

fn read_error(connection: &ConnectionOptions, table: &str) -> String {
    let stripe = StripeConnector::new(connection).unwrap();
    batch(&stripe, table, Feed::Records, None, &options(&[]))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_connected_account_is_read_through_the_stripe_account_header() {
    // A stand-in for Connect: this simulator serves only requests that name the account in
    // `Stripe-Account`.
    let sim = edited(&[(
        "auth: { scheme: bearer, token: lakeflow-conformance-secret-7f3a }",
        "auth: { scheme: api_key, header: Stripe-Account, value: acct_1Nv0FGQ9RKHgCVdK, wrong_status: 403 }",
    )]);
    let mut connected = connection(&sim);
    connected.insert("stripe_account", ACCOUNT);
    let stripe = StripeConnector::new(&connected).unwrap();
    let (customers, _) = drain(&stripe, "customers", Feed::Records, None, &options(&[]));
    assert_eq!(customers.len(), corpus("customers.json").len());
    // Without the header the platform's own account is read: not this one.
    let err = read_error(&connection(&sim), "customers");
    assert!(err.contains("401"), "{err}");
    // An account not connected to the platform.
    connected.insert("stripe_account", "acct_1Zz9NotConnected00");
    let err = read_error(&connected, "customers");
    assert!(
        err.contains("403") && err.contains("not connected to this platform"),
        "{err}"
    );
}

#[test]
fn a_bad_key_says_so_and_never_shows_it() {
    let sim = simulator();
    let mut wrong = connection(&sim);
    wrong.insert_secret("api_key", "rk_test_51WrongKeyThatMustNotShow");
    let err = read_error(&wrong, "charges");
    assert!(err.contains("401") && err.contains("`api_key`"), "{err}");
    assert!(!err.contains("51WrongKeyThatMustNotShow"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let stripe = StripeConnector::new(&wrong).unwrap();
    assert!(!format!("{stripe:?}").contains("51WrongKeyThatMustNotShow"));
}

#[test]
fn a_restricted_key_without_a_permission_is_told_which_resource() {
    let err = customers_error(
        403,
        &json!({
            "message": "The provided key 'rk_test_***' does not have the required permissions for this endpoint on account 'acct_1Q9'. Having the 'rak_customer_read' permission would allow this request to continue.",
            "type": "invalid_request_error"
        }),
    );
    assert!(
        err.contains("403") && err.contains("`customers`") && err.contains("rak_customer_read"),
        "{err}"
    );
}

#[test]
fn a_server_ignoring_the_event_types_fails_the_read() {
    let sim = edited(&[(
        r#""types[]": { role: filter, field: type, op: in }"#,
        r#""types[]": { role: ignored }"#,
    )]);
    let stripe = crate::common::connector_at(&sim, "2025-06-28T00:00:00Z");
    let from_june: lakeflow_connect::Offset =
        serde_json::from_value(json!({"phase": "events", "cursor": "2025-06-01T00:00:00Z"}))
            .unwrap();
    let err = batch(
        &stripe,
        "customers",
        Feed::Records,
        Some(&from_june),
        &options(&[]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("which was not asked for"), "{err}");
}

#[test]
fn a_key_of_the_wrong_mode_is_told_so() {
    let err = customers_error(
        404,
        &json!({
            "message": "No such customer: 'cus_QxR7mN2bTw0041'; a similar object exists in live mode, but a test mode key was used to make this request.",
            "type": "invalid_request_error",
            "code": "resource_missing"
        }),
    );
    assert!(
        err.contains("404") && err.contains("a test-mode key cannot read live-mode objects"),
        "{err}"
    );
}
