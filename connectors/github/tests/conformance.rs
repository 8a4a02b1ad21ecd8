//! The generic conformance suite (`lakeflow_testkit`) on the `github` connector, offline against
//! its simulator, and live against GitHub when `LAKEFLOW_GITHUB_TOKEN` is set.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Record, Result, TableOptions};
use lakeflow_github::{DESCRIPTOR, GithubConnector, SIMULATOR, Table};
use lakeflow_kit::send_write;
use lakeflow_testkit::fixtures::serve;
use lakeflow_testkit::{
    Check, Conformance, Outcome, WriteBack, WriteBackError, faults_from_simulator,
};
use serde_json::{Value, json};

/// The simulator spec accepts the suite's fake secret as its token (the testkit convention).
const TOKEN: &str = lakeflow_testkit::FAKE_SECRET;
const OWNER: &str = "acme-robotics";
const REPO: &str = "rover";

/// Connection options for a simulator. Rate-limit waits are not floored at GitHub's minute: the
/// fault profile's throttling answers say how long to wait, and the suite should not sleep.
fn connection(base_url: &str) -> ConnectionOptions {
    [
        ("token", TOKEN),
        ("base_url", base_url),
        ("rate_limit_wait_seconds", "0"),
    ]
    .into_iter()
    .collect()
}

fn repository() -> TableOptions {
    TableOptions::from([
        ("owner".to_owned(), OWNER.to_owned()),
        ("repo".to_owned(), REPO.to_owned()),
    ])
}

#[test]
fn the_connector_reading_through_faults_keeps_every_capability() {
    let simulator = serve(&SIMULATOR);
    let plain = GithubConnector::new(&connection(&simulator.base_url())).unwrap();
    let wrapped = faults_from_simulator(&DESCRIPTOR, GithubConnector::new)(&connection(
        &simulator.base_url(),
    ))
    .unwrap();
    // GitHub streams its time-partitioned tables: the fault check must see that too.
    assert!(plain.partitioned_streams().is_some());
    assert!(
        wrapped.partitioned_streams().is_some(),
        "partitioned_streams dropped"
    );
    assert_eq!(
        wrapped.partitioned_reads().is_some(),
        plain.partitioned_reads().is_some()
    );
    assert_eq!(wrapped.namespaces().is_some(), plain.namespaces().is_some());
}

/// Write-back through the simulator's issue endpoints: create an issue, then close it, as a
/// user would on github.com.
struct Issues {
    api: GithubConnector,
    next_number: AtomicU64,
}

impl Issues {
    fn send(&self, method: &str, path: &str, body: &Value) -> Result<Value, WriteBackError> {
        // POST and PATCH only: the body always goes as JSON.
        send_write(self.api.request(method, path), method, body)
            .map_err(|e| WriteBackError::Rejected(e.to_string()))
    }
}

impl WriteBack for Issues {
    fn insert(&self, table: &str) -> Result<Option<Record>, WriteBackError> {
        if table != Table::Issues.name() {
            return Ok(None);
        }
        // GitHub numbers issues itself; the simulator keeps the number it is given.
        let number = self.next_number.fetch_add(1, Ordering::Relaxed);
        let path = format!("/repos/{OWNER}/{REPO}/issues");
        let created = self.send(
            "POST",
            &path,
            &json!({
                "number": number,
                "title": "Conformance: write-back issue",
                "body": "Created by the conformance suite, then closed.",
                "user": {"login": "mira-okafor", "id": 5_811_234, "type": "User", "site_admin": false},
                "labels": [{"id": 5_123_400_001_i64, "name": "bug", "color": "d73a4a", "default": true}]
            }),
        )?;
        let closed = self.send(
            "PATCH",
            &format!("{path}/{number}"),
            &json!({"state": "closed", "state_reason": "completed", "closed_at": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()}),
        )?;
        // GitHub stamps whole seconds, and a connector reads only seconds that had ended when it
        // was built: wait until the close's second is over, so the next connector may read it.
        std::thread::sleep(Duration::from_millis(1_100));
        let id = created.get("id").cloned().unwrap_or(Value::Null);
        assert_eq!(closed["id"], id, "the update changed the created issue");
        Ok(Some(
            [("id".to_owned(), id), ("state".to_owned(), json!("closed"))]
                .into_iter()
                .collect(),
        ))
    }

    fn delete(&self, _table: &str) -> Result<Option<Record>, WriteBackError> {
        // GitHub cannot delete issues through the REST API (and no table has a deletes feed).
        Ok(None)
    }
}

fn with_repositories(mut suite: Conformance) -> Conformance {
    for table in Table::ALL.iter().filter(|t| t.is_repository_scoped()) {
        suite = suite.table_options(table.name(), repository());
    }
    suite
}

#[test]
fn the_github_connector_passes_every_check() {
    let simulator = serve(&SIMULATOR);
    let options = connection(&simulator.base_url());
    let writer = Issues {
        api: GithubConnector::new(&options).unwrap(),
        next_number: AtomicU64::new(9_001),
    };
    let suite = Conformance::over_simulator(&DESCRIPTOR, GithubConnector::new, options)
        .write_back(Box::new(writer));
    let report = with_repositories(suite).run();
    println!("{report}");
    report.assert_passed();
    for table in Table::ALL {
        let incremental = table.metadata().ingestion_type.is_incremental();
        report.assert_table_checked(table.name(), incremental);
    }
    report.assert_outcomes(Some("issues"), &[Check::WriteBack], Outcome::Pass);
    report.assert_outcomes(None, &[Check::Secrets], Outcome::Pass);
}

#[test]
fn the_descriptor_built_connector_passes_as_lakeflow_test_runs_it() {
    // The suite starts the simulator itself and hands its URL over as `base_url`; the
    // repository comes from the spec's `table_options`, as with `lakeflow test github`.
    let connection: ConnectionOptions = [("token", TOKEN), ("rate_limit_wait_seconds", "0")]
        .into_iter()
        .collect();
    let report = Conformance::new(&DESCRIPTOR)
        .connection(connection)
        .tables(&[
            "issues",
            "pull_requests",
            "commits",
            "workflow_runs",
            "stargazers",
            "branches",
            "repositories",
        ])
        .run();
    println!("{report}");
    report.assert_passed();
    let setup = report.row(None, Check::Setup).unwrap();
    assert!(
        setup.evidence.contains("[owner=acme-robotics, repo=rover]"),
        "{}",
        setup.evidence
    );
    report.assert_outcomes(Some("workflow_runs"), &[Check::Faults], Outcome::Pass);
}

#[test]
fn conformance_live() {
    // Only with LAKEFLOW_GITHUB_TOKEN (and optionally LAKEFLOW_GITHUB_BASE_URL) set; the tables
    // read LAKEFLOW_GITHUB_OWNER and LAKEFLOW_GITHUB_REPO (default: octocat/Hello-World).
    let Some(suite) = Conformance::live_from_env(&DESCRIPTOR) else {
        return;
    };
    let owner = std::env::var("LAKEFLOW_GITHUB_OWNER").unwrap_or_else(|_| "octocat".to_owned());
    let repo = std::env::var("LAKEFLOW_GITHUB_REPO").unwrap_or_else(|_| "Hello-World".to_owned());
    let table_options =
        TableOptions::from([("owner".to_owned(), owner), ("repo".to_owned(), repo)]);
    let mut suite = suite.common_table_options(table_options);
    // A real repository may have no reviews, runs or stars yet.
    for table in Table::ALL
        .iter()
        .filter(|t| t.metadata().ingestion_type.is_incremental())
    {
        suite = suite.may_be_empty(table.name());
    }
    suite.run().assert_passed();
}
