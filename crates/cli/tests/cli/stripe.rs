//! A pipeline spec written for the original's Stripe tables runs unchanged against the `stripe`
//! simulator (`lakeflow simulate stripe`), and a customer deleted in Stripe leaves the
//! destination on the next run, through the events feed.

use lakeflow_stripe::ORIGINAL_TABLES;

use crate::simulate::Served;
use crate::{original_spec, query_count, run_spec};

#[test]
fn the_originals_stripe_tables_run_unchanged_and_a_deletion_lands() {
    let served = Served::start(&["stripe", "--port", "0", "--quiet"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        // The original's table names, each as a spec entry of its own.
        original_spec("stripe_connection", &ORIGINAL_TABLES),
    )
    .unwrap();
    // The original's one connection option; `base_url` points at the simulator.
    let connection = format!(
        "[connections.stripe_connection]\nsource = \"stripe\"\n\
         api_key = \"lakeflow-conformance-secret-7f3a\"\nbase_url = \"{}\"\n\
         requests_per_second = \"100000\"\n",
        served.base_url
    );
    std::fs::write(dir.path().join("lakeflow.toml"), connection).unwrap();
    run_spec(dir.path());
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM customers"),
        30
    );
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM subscriptions"),
        15
    );
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM balance_transactions"),
        67
    );
    let customer = "cus_yjl64ZYpYbH0030";
    let agent = ureq::Agent::new_with_defaults();
    agent
        .delete(&format!("{}/v1/customers/{customer}", served.base_url))
        .header("Authorization", "Bearer lakeflow-conformance-secret-7f3a")
        .call()
        .unwrap();
    // Stripe stamps whole seconds; a run reads only seconds over when it started.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    run_spec(dir.path());
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM customers"),
        29
    );
    let gone = format!("SELECT COUNT(*) FROM customers WHERE id = '{customer}'");
    assert_eq!(query_count(dir.path(), &gone), 0);
}
