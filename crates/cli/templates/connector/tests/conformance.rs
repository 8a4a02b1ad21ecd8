//! The generic conformance suite (`lakeflow_testkit`) on the `{{name}}` connector, offline
//! against its simulator, and live against the API when `LAKEFLOW_{{NAME}}_API_TOKEN` and
//! `LAKEFLOW_{{NAME}}_BASE_URL` are set.

use lakeflow_connect::LakeflowConnect;
use {{crate}}::{DESCRIPTOR, {{Name}}Connector};
use lakeflow_testkit::{BATCH_CHECKS, Check, Conformance, Outcome, TABLE_CHECKS};

#[test]
fn the_{{name}}_connector_passes_every_check() {
    // As `lakeflow test` runs it: the suite starts the simulator, hands its URL over as
    // `base_url` and sets `api_token` to the fake secret the spec accepts.
    let report = Conformance::new(&DESCRIPTOR).run();
    println!("{report}");
    report.assert_passed();
    for table in ["items", "categories"] {
        report.assert_outcomes(Some(table), &TABLE_CHECKS, Outcome::Pass);
    }
    // `items` is read incrementally, in batches.
    report.assert_outcomes(Some("items"), &BATCH_CHECKS, Outcome::Pass);
    report.assert_outcomes(None, &[Check::Secrets], Outcome::Pass);
}

#[test]
fn the_token_never_shows_in_debug() {
    let options = [
        ("base_url", "http://127.0.0.1:9"),
        ("api_token", "not-to-be-printed"),
    ]
    .into_iter()
    .collect();
    let connector = {{Name}}Connector::new(&options).unwrap();
    assert!(!format!("{connector:?}").contains("not-to-be-printed"));
    assert_eq!(connector.list_tables().unwrap(), ["items", "categories"]);
}

#[test]
fn conformance_live() {
    // Only with the connection options set as `LAKEFLOW_{{NAME}}_<OPTION>` environment variables.
    let Some(suite) = Conformance::live_from_env(&DESCRIPTOR) else {
        return;
    };
    suite
        .may_be_empty("items")
        .run()
        .assert_passed();
}
