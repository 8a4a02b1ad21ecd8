//! A pipeline spec written for the original's GitHub connector, with the tables and options its
//! documentation lists (`comments`, `users`, `organizations`, `teams`, `state`, `owner` for
//! `repositories`, `max_pages_per_batch`, ...), runs unchanged against the `github` simulator
//! (`lakeflow simulate github`).

use serde_json::Value;

use crate::simulate::Served;
use crate::{query_count, query_scalar, run_spec, run_spec_with};

/// The original's tables and options, in its spec format (the objects of a spec whose connection
/// is `github_connection`); `open_issues` is `issues` again with `state: open`.
const OBJECTS: &str = r#"
  - table:
      source_table: issues
      table_configuration: { owner: acme-robotics, repo: rover, state: all, start_date: "2024-01-01T00:00:00Z" }
  - table:
      source_table: issues
      destination_table: open_issues
      table_configuration: { owner: acme-robotics, repo: rover, state: open }
  - table:
      source_table: repositories
      table_configuration: { owner: acme-robotics }
  - table:
      source_table: pull_requests
      table_configuration: { owner: acme-robotics, repo: rover, state: all, per_page: "100" }
  - table:
      source_table: comments
      table_configuration: { owner: acme-robotics, repo: rover, per_page: "10", max_pages_per_batch: "2", lookback_seconds: "300" }
  - table:
      source_table: commits
      table_configuration: { owner: acme-robotics, repo: rover, start_date: "2024-01-01T00:00:00Z" }
  - table:
      source_table: assignees
      table_configuration: { owner: acme-robotics, repo: rover }
  - table:
      source_table: branches
      table_configuration: { owner: acme-robotics, repo: rover }
  - table:
      source_table: collaborators
      table_configuration: { owner: acme-robotics, repo: rover }
  - table:
      source_table: reviews
      table_configuration: { owner: acme-robotics, repo: rover }
  - table:
      source_table: organizations
  - table:
      source_table: teams
  - table:
      source_table: users
"#;

/// The records of the simulator's corpus file `name`.
fn corpus(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../connectors/github/simulator")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The records of `name` read from `acme-robotics/rover`.
fn rovers(name: &str) -> Vec<Value> {
    corpus(name)
        .into_iter()
        .filter(|r| r["repository_owner"] == "acme-robotics" && r["repository_name"] == "rover")
        .collect()
}

#[test]
fn a_spec_from_the_originals_documentation_runs_unchanged() {
    // The original's connection options (`token`); `base_url` points at the simulator.
    let (_served, dir) = pipeline("github_connection", OBJECTS);
    run_spec(dir.path());
    let count = |sql: &str| query_count(dir.path(), sql);

    // `comments` is `issue_comments` under the original's name, read in batches of two pages.
    let comments = rovers("issue_comments.json").len() as u64;
    assert_eq!(count("SELECT COUNT(*) FROM comments"), comments);
    // `state` reaches GitHub: `open` reads only open issues, `all` the closed ones too.
    let issues: Vec<Value> = rovers("issues.json")
        .into_iter()
        .filter(|i| i["pull_request"].is_null())
        .collect();
    let open = issues.iter().filter(|i| i["state"] == "open").count() as u64;
    assert_eq!(count("SELECT COUNT(*) FROM open_issues"), open);
    assert_eq!(
        count("SELECT COUNT(*) FROM open_issues WHERE state <> 'open'"),
        0
    );
    assert_eq!(count("SELECT COUNT(*) FROM issues"), issues.len() as u64);
    // `repositories` with `owner`: that account's repositories, named by the columns the
    // original adds.
    let owned = corpus("repositories.json")
        .iter()
        .filter(|r| r["owner"]["login"] == "acme-robotics")
        .count() as u64;
    assert_eq!(count("SELECT COUNT(*) FROM repositories"), owned);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM repositories WHERE repository_owner = 'acme-robotics' \
             AND repository_name = name"
        ),
        owned
    );
    // The token's own account.
    assert_eq!(
        query_scalar(dir.path(), "SELECT login FROM users"),
        "mira-okafor"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM organizations"),
        corpus("organizations.json").len() as u64
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM teams"),
        corpus("teams.json").len() as u64
    );
    assert_eq!(
        query_scalar(
            dir.path(),
            "SELECT organization_login FROM teams WHERE slug = 'msgs-reviewers'"
        ),
        "ros-rover-wg"
    );
    for table in [
        "pull_requests",
        "commits",
        "assignees",
        "branches",
        "collaborators",
        "reviews",
    ] {
        assert!(
            count(&format!("SELECT COUNT(*) FROM {table}")) > 0,
            "{table}"
        );
    }
}

/// `lakeflow simulate github`, and a directory with a spec of `objects` (YAML entries) reading
/// through the connection `connection` to it.
fn pipeline(connection: &str, objects: &str) -> (Served, tempfile::TempDir) {
    let served = Served::start(&["github", "--port", "0", "--quiet"]);
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("connection_name: {connection}\nobjects:{objects}");
    std::fs::write(dir.path().join("spec.yaml"), spec).unwrap();
    let connection = format!(
        "[connections.{connection}]\nsource = \"github\"\n\
         token = \"lakeflow-conformance-secret-7f3a\"\nbase_url = \"{}\"\n",
        served.base_url
    );
    std::fs::write(dir.path().join("lakeflow.toml"), connection).unwrap();
    (served, dir)
}

#[test]
fn a_whole_organization_lands_in_one_table_and_a_second_run_adds_nothing() {
    let (_served, dir) = pipeline(
        "github",
        r#"
  - table:
      source_table: issues
      destination_table: acme_issues
      table_configuration: { org: acme-robotics, repo: "*", max_records_per_batch: "7" }
  - table:
      source_table: branches
      table_configuration: { org: acme-robotics, repo: "*", repos: "rover*" }
"#,
    );
    // The corpus's organization has issues in two of its repositories.
    let issues = corpus("issues.json")
        .into_iter()
        .filter(|i| i["repository_owner"] == "acme-robotics" && i["pull_request"].is_null())
        .count() as u64;
    let branches = corpus("branches.json").len() as u64;
    for run in 1..=2 {
        run_spec(dir.path());
        let count = |sql: &str| query_count(dir.path(), sql);
        assert_eq!(
            count("SELECT COUNT(*) FROM acme_issues"),
            issues,
            "run {run}"
        );
        assert_eq!(
            count("SELECT COUNT(DISTINCT repository_name) FROM acme_issues"),
            2,
            "run {run}"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM branches"),
            branches,
            "run {run}"
        );
    }
}

#[test]
fn read_partitions_read_several_repositories_at_once() {
    let (_served, dir) = pipeline(
        "github",
        r#"
  - table:
      source_table: issue_events
      destination_table: acme_events
      table_configuration: { org: acme-robotics, repo: "*", max_records_per_batch: "10" }
"#,
    );
    let events = corpus("issue_events.json")
        .into_iter()
        .filter(|c| c["repository_owner"] == "acme-robotics")
        .count() as u64;
    // Two runs reading repositories in parallel, then one reading batches from where they
    // stopped: every event once.
    for args in [
        &["--read-partitions", "3"][..],
        &["--read-partitions", "3"],
        &[],
    ] {
        run_spec_with(dir.path(), args);
        assert_eq!(
            query_count(dir.path(), "SELECT COUNT(*) FROM acme_events"),
            events,
            "{args:?}"
        );
    }
}
