//! Errors name the table and option, keep the token out, and tell throttling from permissions.

use std::time::{Duration, Instant};

use lakeflow_connect::{Error, LakeflowConnect, TableOptions};
use lakeflow_github::{GithubConnector, Table};
use lakeflow_simulator::{FaultProfile, FaultRule, Simulator};
use serde_json::json;

use crate::common::{TOKEN, connection, connector, read_all, rover, rover_count, simulator};

#[test]
fn repository_tables_without_owner_or_repo_name_what_is_missing() {
    let sim = simulator(None);
    let github = connector(&sim);
    for table in Table::ALL.iter().filter(|t| t.is_repository_scoped()) {
        let name = table.name();
        let only_repo = TableOptions::from([("repo".to_owned(), "rover".to_owned())]);
        for (options, option) in [(&only_repo, "owner"), (&rover(&[]), "")] {
            let mut options = options.clone();
            if option.is_empty() {
                options.remove("repo");
            }
            let missing = if option.is_empty() { "repo" } else { option };
            let err = github.read_table(name, None, &options).err().unwrap();
            assert_eq!(
                err.to_string(),
                format!("missing required option `{missing}` for table `{name}`")
            );
            // Only reads need the repository: a schema is the same for every one.
            assert!(github.get_table_schema(name, &options).is_ok(), "{name}");
        }
    }
    assert_eq!(
        sim.request_log().len(),
        0,
        "nothing is sent without a repository"
    );
}

#[test]
fn unknown_tables_and_foreign_offsets_are_named() {
    let sim = simulator(None);
    let github = connector(&sim);
    for call in [
        github.get_table_schema("gists", &rover(&[])).err(),
        github.read_table_metadata("gists", &rover(&[])).err(),
        github.read_table("gists", None, &rover(&[])).err(),
        github.read_table_deletes("gists", None, &rover(&[])).err(),
    ] {
        assert!(matches!(call, Some(Error::UnknownTable { ref table, .. }) if table == "gists"));
    }
    assert!(matches!(
        github.read_table_deletes("issues", None, &rover(&[])).err(),
        Some(Error::NotSupported { .. })
    ));
    for (table, offset) in [
        ("issues", json!({"page": 3})),
        ("pull_requests", json!({"cursor": "soon"})),
        (
            "commits",
            json!({"since": "2024-01-01T00:00:00Z", "after": "abc"}),
        ),
        (
            "workflow_runs",
            json!({"since": "2024-01-01T00:00:00Z", "pending": {"x": 1}}),
        ),
    ] {
        let err = github
            .read_table(table, offset.as_object(), &rover(&[]))
            .err()
            .unwrap();
        assert!(matches!(err, Error::InvalidOffset { .. }), "{table}: {err}");
        assert!(err.to_string().contains(&format!("`{table}`")), "{err}");
    }
}

#[test]
fn a_plain_403_is_a_permission_error_and_is_not_retried() {
    let denied = FaultProfile::new(1).with_rule(FaultRule::status(403).body(json!({
        "message": "Resource not accessible by personal access token",
        "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
        "status": "403"
    })));
    let sim = simulator(Some(denied));
    let err = connector(&sim)
        .read_table("issues", None, &rover(&[]))
        .err()
        .unwrap();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("table `issues`") && text.contains("not accessible"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
    assert_eq!(
        sim.request_log().len(),
        1,
        "a permission error is not retried"
    );
}

#[test]
fn a_403_with_the_limit_used_up_waits_for_the_reset() {
    let limited = FaultProfile::new(1).with_rule(
        FaultRule::status(403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", "{epoch+1}")
            .body(json!({"message": "API rate limit exceeded for user ID 5811234."}))
            .on_requests([1]),
    );
    let sim = simulator(Some(limited));
    let started = Instant::now();
    let run = read_all(&connector(&sim), "branches", None, &rover(&[]));
    assert_eq!(run.records().count(), rover_count("branches.json"));
    let log = sim.request_log();
    assert_eq!((log[0].status, log[1].status), (Some(403), Some(200)));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_secondary_limit_without_retry_after_waits_at_least_the_configured_time() {
    let secondary = FaultProfile::new(1).with_rule(
        FaultRule::status(429)
            .body(json!({"message": "You have exceeded a secondary rate limit."}))
            .on_requests([1]),
    );
    let sim = simulator(Some(secondary));
    let github = GithubConnector::new(&connection(
        &sim.base_url(),
        &[("rate_limit_wait_seconds", "2")],
    ))
    .unwrap();
    let started = Instant::now();
    let run = read_all(&github, "branches", None, &rover(&[]));
    assert_eq!(run.records().count(), rover_count("branches.json"));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn retries_give_up_with_a_rate_limit_error_naming_the_table() {
    let always = FaultProfile::new(1).with_rule(FaultRule::status(429).retry_after_seconds(0));
    let sim = simulator(Some(always));
    let github =
        GithubConnector::new(&connection(&sim.base_url(), &[("max_retry_seconds", "0")])).unwrap();
    let err = github
        .read_table("commits", None, &rover(&[]))
        .err()
        .unwrap();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    assert!(err.is_retriable());
    assert!(err.to_string().contains("table `commits`"), "{err}");
}

#[test]
fn bad_tokens_and_unknown_repositories_say_so_without_the_token() {
    let sim = simulator(None);
    let wrong = GithubConnector::new(
        &[
            ("token", "ghp_WrongToken1111111111"),
            ("base_url", &sim.base_url()),
        ]
        .into_iter()
        .collect(),
    )
    .unwrap();
    let err = wrong.read_table("issues", None, &rover(&[])).err().unwrap();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    assert!(
        !err.to_string().contains("ghp_WrongToken")
            && !format!("{err:?}").contains("ghp_WrongToken")
    );
    assert!(
        !format!("{wrong:?}").contains("ghp_WrongToken"),
        "{wrong:?}"
    );

    // GitHub answers 404, not 403, for a repository the token cannot see.
    let hidden = FaultProfile::new(1).with_rule(FaultRule::status(404).body(json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
        "status": "404"
    })));
    let sim = simulator(Some(hidden));
    let err = connector(&sim)
        .read_table("issues", None, &rover(&[]))
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Transport {
                status: Some(404),
                retriable: false,
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("table `issues`") && text.contains("token cannot see it"),
        "{text}"
    );
    assert_eq!(sim.request_log().len(), 1);
}

#[test]
fn the_primary_limit_is_waited_out_proactively() {
    // Two requests per two seconds; reading five branches one per page takes six requests.
    let spec = "
name: limited
auth: { scheme: bearer, token: lakeflow-conformance-secret-7f3a }
rate_limit: { requests: 2, window_seconds: 2, status: 403 }
endpoints:
  - path: /repos/{owner}/{repo}/branches
    corpus: branches.json
    path_fields: { owner: repository_owner, repo: repository_name }
    params:
      page: { role: page }
      per_page: { role: page_size, default: 30, max: 100 }
    pagination: { style: link_header }
";
    let branches = r#"[
      {"name": "a", "commit": {"sha": "1"}, "protected": false, "repository_owner": "acme-robotics", "repository_name": "rover"},
      {"name": "b", "commit": {"sha": "2"}, "protected": false, "repository_owner": "acme-robotics", "repository_name": "rover"},
      {"name": "c", "commit": {"sha": "3"}, "protected": true, "repository_owner": "acme-robotics", "repository_name": "rover"},
      {"name": "d", "commit": {"sha": "4"}, "protected": false, "repository_owner": "acme-robotics", "repository_name": "rover"},
      {"name": "e", "commit": {"sha": "5"}, "protected": false, "repository_owner": "acme-robotics", "repository_name": "rover"}
    ]"#;
    let sim = Simulator::from_embedded(spec, &[("branches.json", branches)])
        .unwrap()
        .start()
        .unwrap();
    let github = connector(&sim);
    let run = read_all(&github, "branches", None, &rover(&[("per_page", "1")]));
    let names: Vec<_> = run.records().map(|r| r["name"].clone()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"].map(|n| json!(n)));
    // The client paused at the used-up window instead of collecting 403s.
    let denied = sim
        .request_log()
        .iter()
        .filter(|r| r.status == Some(403))
        .count();
    assert!(denied <= 1, "{denied} rate-limited answers");
}
