//! A pipeline spec written for the original's Zendesk connector runs unchanged against the
//! `zendesk` simulator (`lakeflow simulate zendesk`), and a ticket deleted in Zendesk leaves
//! the destination on the next run.

use crate::simulate::Served;
use crate::{query_count, run_spec};

/// As the original's documentation writes a pipeline spec: its table names, its one table
/// option.
const SPEC: &str = "\
connection_name: zendesk_connection
objects:
  - table:
      source_table: tickets
  - table:
      source_table: users
      table_configuration:
        max_records_per_batch: \"5\"
  - table:
      source_table: organizations
  - table:
      source_table: ticket_comments
  - table:
      source_table: articles
  - table:
      source_table: brands
  - table:
      source_table: groups
  - table:
      source_table: topics
";

/// The original's connection options; `base_url` points at the simulator, and the budgets
/// keep the run from waiting.
fn connection(base_url: &str) -> String {
    format!(
        "[connections.zendesk_connection]\nsource = \"zendesk\"\nsubdomain = \"northwind\"\n\
         email = \"conformance@example.com\"\napi_token = \"lakeflow-conformance-secret-7f3a\"\n\
         base_url = \"{base_url}\"\nrequests_per_minute = \"100000\"\n\
         export_requests_per_minute = \"100000\"\n"
    )
}

#[test]
fn the_originals_zendesk_spec_runs_unchanged_and_deletes_land() {
    let served = Served::start(&["zendesk", "--port", "0", "--quiet"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.yaml"), SPEC).unwrap();
    std::fs::write(
        dir.path().join("lakeflow.toml"),
        connection(&served.base_url),
    )
    .unwrap();
    run_spec(dir.path());
    // 52 tickets in the corpus, 4 of them deleted; 34 users, 3 deleted; one row per comment.
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM tickets"), 48);
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM users"), 31);
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM ticket_comments"),
        78
    );
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM organizations"),
        11
    );
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM brands"), 3);

    // An agent deletes ticket 1001; the next run removes it, and nothing else changes.
    let agent = ureq::Agent::new_with_defaults();
    agent
        .delete(&format!("{}/api/v2/tickets/1001.json", served.base_url))
        .header(
            "Authorization",
            "Basic Y29uZm9ybWFuY2VAZXhhbXBsZS5jb20vdG9rZW46bGFrZWZsb3ctY29uZm9ybWFuY2Utc2VjcmV0LTdmM2E=",
        )
        .call()
        .unwrap();
    // Zendesk stamps whole seconds; a run reads only seconds over when it started.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    run_spec(dir.path());
    assert_eq!(query_count(dir.path(), "SELECT COUNT(*) FROM tickets"), 47);
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM tickets WHERE id = 1001"),
        0
    );
    assert_eq!(
        query_count(dir.path(), "SELECT COUNT(*) FROM ticket_comments"),
        78
    );
}
