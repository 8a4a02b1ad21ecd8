//! Authentication (Basic with an API token, Bearer with an OAuth token) and the errors users
//! meet, each one line that says what to fix and never shows a secret.

use lakeflow_connect::{ConnectionOptions, LakeflowConnect};
use lakeflow_simulator::{FaultProfile, FaultRule};
use lakeflow_zendesk::ZendeskConnector;
use serde_json::json;

use crate::common::{
    EMAIL, Feed, batch, connection, connector, corpus_ids, drain, edited, ids, options, simulator,
    sorted, with_profile,
};

/// The first error reading `table` with `connection`.
fn read_error(connection: &ConnectionOptions, table: &str) -> String {
    let zendesk = ZendeskConnector::new(connection).unwrap();
    batch(&zendesk, table, Feed::Records, None, &options(&[]))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_bad_token_says_which_options_to_check_and_never_shows_it() {
    let sim = simulator();
    let mut wrong = connection(&sim);
    wrong.insert_secret("api_token", "zd-token-that-is-wrong-81f2");
    for table in ["tickets", "groups"] {
        let err = read_error(&wrong, table);
        assert!(
            err.contains("401") && err.contains("`email` and `api_token`"),
            "{err}"
        );
        assert!(!err.contains("zd-token-that-is-wrong-81f2"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let zendesk = ZendeskConnector::new(&wrong).unwrap();
    assert!(!format!("{zendesk:?}").contains("zd-token-that-is-wrong-81f2"));
}

#[test]
fn a_wrong_account_is_named_as_such() {
    // What a mistyped subdomain meets: Zendesk's 404 for an account it does not have.
    let sim = simulator();
    let mut elsewhere = connection(&sim);
    elsewhere.insert("base_url", format!("{}/no-such-account", sim.base_url()));
    let err = read_error(&elsewhere, "tickets");
    assert!(
        err.contains("404")
            && err.contains("no such Zendesk account")
            && err.contains("`subdomain`"),
        "{err}"
    );
}

#[test]
fn exports_without_the_admin_role_say_so() {
    let faults = FaultProfile::new(1).with_rule(
        FaultRule::status(403)
            .on_endpoint("ticket export")
            .rate(1.0)
            .body(json!({"error": "Forbidden", "description": "You do not have access to this page."})),
    );
    let sim = edited(&[], Some(faults));
    let err = read_error(&connection(&sim), "tickets");
    assert!(err.contains("403") && err.contains("admin"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn an_export_refusing_its_start_time_points_at_start_date() {
    let faults = FaultProfile::new(1).with_rule(
        FaultRule::status(422)
            .on_endpoint("organization export")
            .rate(1.0)
            .body(json!({
                "error": "InvalidValue",
                "description": "start_time is too recent. Please use a start_time older than one minute."
            })),
    );
    let sim = edited(&[], Some(faults));
    let err = read_error(&connection(&sim), "organizations");
    assert!(err.contains("422") && err.contains("`start_date`"), "{err}");
}

#[test]
fn an_oauth_token_is_sent_as_bearer() {
    let sim = edited(
        &[(
            "auth: { scheme: basic, username: conformance@example.com/token, password: lakeflow-conformance-secret-7f3a }",
            "auth: { scheme: bearer, token: zd-oauth-access-token-55c1 }",
        )],
        None,
    );
    let mut oauth: ConnectionOptions = [("base_url", sim.base_url())].into_iter().collect();
    oauth.insert_secret("oauth_token", "zd-oauth-access-token-55c1");
    let zendesk = ZendeskConnector::new(&oauth).unwrap();
    let (groups, _) = drain(&zendesk, "groups", Feed::Records, None, &options(&[]));
    assert_eq!(sorted(ids(&groups)), corpus_ids("groups.json", |_| true));
    let (tickets, _) = drain(&zendesk, "tickets", Feed::Records, None, &options(&[]));
    assert!(!tickets.is_empty());
    // The API token is not what this account takes.
    let err = read_error(&connection(&sim), "groups");
    assert!(err.contains("401"), "{err}");
    assert!(!format!("{zendesk:?}").contains("zd-oauth-access-token-55c1"));
}

#[test]
fn the_exports_rate_limit_is_waited_out() {
    // Zendesk's 429 with Retry-After when the exports' 10 a minute are spent: the 11th, 22nd
    // and 33rd export requests.
    let sim = with_profile("export_limit");
    let zendesk = connector(&sim);
    // A page a ticket: more than 33 requests.
    let small = options(&[("per_page", "1"), ("max_records_per_batch", "100000")]);
    let (tickets, _) = drain(&zendesk, "tickets", Feed::Records, None, &small);
    let expected = corpus_ids("tickets.json", |t| t["status"] != "deleted");
    assert_eq!(sorted(ids(&tickets)), expected);
    let throttled = sim
        .request_log()
        .iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert_eq!(throttled, 3);
}

#[test]
fn connection_options_are_checked_before_any_request() {
    let err = ZendeskConnector::new(
        &[("subdomain", "acme"), ("email", EMAIL)]
            .into_iter()
            .collect(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`api_token`"), "{err}");
    let err = ZendeskConnector::new(
        &[
            ("subdomain", "acme"),
            ("oauth_token", "t"),
            ("colour", "red"),
        ]
        .into_iter()
        .collect(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`colour`"), "{err}");
    // Built without a request: listing tables needs no network.
    let zendesk = ZendeskConnector::new(
        &[("subdomain", "acme"), ("oauth_token", "t")]
            .into_iter()
            .collect(),
    )
    .unwrap();
    assert!(
        zendesk
            .list_tables()
            .unwrap()
            .contains(&"tickets".to_owned())
    );
}
