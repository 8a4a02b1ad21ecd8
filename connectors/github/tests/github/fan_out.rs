//! `repo: "*"`: every repository of an organization into one table, each repository with its
//! own position in the offset, against a corpus of six repositories (a seventh added and one
//! deleted between runs).

use lakeflow_connect::{LakeflowConnect, Offset, TableOptions};
use lakeflow_github::GithubConnector;
use lakeflow_simulator::RunningSimulator;
use serde_json::{Value, json};

use crate::common::{
    assert_read_fails, connection, corpus, counts, read_all, serve_with, simulator,
};

const FIRST: [&str; 6] = [
    "rover",
    "rover-firmware",
    "mission-planner",
    "fleet-dashboard",
    "rover-sim",
    "infra",
];

/// Issues per repository: the rover's first ones, renumbered.
const ISSUES: usize = 6;

/// A simulator whose organization has `repos`, each with [`ISSUES`] issues (the rover's plain
/// issues, given new ids per repository).
fn serve(repos: &[&str]) -> RunningSimulator {
    let repositories: Vec<Value> = corpus("repositories.json")
        .into_iter()
        .filter(|r| r["owner"]["login"] == "acme-robotics")
        .filter(|r| repos.contains(&r["name"].as_str().unwrap()))
        .map(Value::Object)
        .collect();
    assert_eq!(
        repositories.len(),
        repos.len(),
        "every name is in the corpus"
    );
    let rover: Vec<Value> = corpus("issues.json")
        .into_iter()
        .filter(|i| i["repository_name"] == "rover" && i.get("pull_request").is_none())
        .take(ISSUES)
        .map(Value::Object)
        .collect();
    let mut issues = Vec::new();
    for (n, repo) in repos.iter().enumerate() {
        for issue in &rover {
            let mut issue = issue.clone();
            issue["repository_name"] = json!(repo);
            issue["id"] = json!(issue["id"].as_u64().unwrap() * 100 + n as u64);
            issues.push(issue);
        }
    }
    let (repositories, issues) = (
        serde_json::to_string(&repositories).unwrap(),
        serde_json::to_string(&issues).unwrap(),
    );
    serve_with(&[
        ("repositories.json", &repositories),
        ("issues.json", &issues),
    ])
}

fn connector(sim: &RunningSimulator) -> GithubConnector {
    GithubConnector::new(&connection(&sim.base_url(), &[])).unwrap()
}

/// Every repository of `acme-robotics`, and `extra`.
fn every_repository(extra: &[(&str, &str)]) -> TableOptions {
    let mut options = TableOptions::from([
        ("org".to_owned(), "acme-robotics".to_owned()),
        ("repo".to_owned(), "*".to_owned()),
    ]);
    for (k, v) in extra {
        options.insert((*k).to_owned(), (*v).to_owned());
    }
    options
}

/// `(repository_name, id)` of each record, counted.
fn delivered<'a>(
    records: impl Iterator<Item = &'a lakeflow_connect::Record>,
) -> Vec<(String, u64)> {
    let mut pairs: Vec<(String, u64)> = records
        .map(|r| {
            (
                r["repository_name"].as_str().unwrap().to_owned(),
                r["id"].as_u64().unwrap(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// The repositories with a position in a fan-out offset, by name.
fn positioned(offset: &Offset) -> Vec<String> {
    let mut names: Vec<String> = offset["repos"]
        .as_object()
        .unwrap()
        .values()
        .map(|entry| entry["repository"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_repository_lands_once_and_a_restart_resumes_each_where_it_was() {
    let sim = serve(&FIRST);
    let options = every_repository(&[("max_records_per_batch", "4")]);
    let github = connector(&sim);
    let keys = github
        .read_table_metadata("issues", &options)
        .unwrap()
        .primary_keys;
    assert_eq!(keys, ["repository_owner", "repository_name", "id"]);
    // Three batches, then the run is killed: a new connector goes on from the last offset.
    let mut records = Vec::new();
    let mut offset: Option<Offset> = None;
    for _ in 0..3 {
        let (batch, end) = github
            .read_table("issues", offset.as_ref(), &options)
            .unwrap()
            .collect()
            .unwrap();
        assert!(batch.len() <= 4);
        records.extend(batch);
        offset = end;
    }
    let cut = offset.clone().unwrap();
    assert_eq!(
        positioned(&cut),
        ["acme-robotics/fleet-dashboard", "acme-robotics/infra"],
        "repositories are read in name order, each from its own position: {cut:?}"
    );
    drop(github);
    let rest = read_all(&connector(&sim), "issues", offset, &options);
    records.extend(rest.records().cloned());
    let got = delivered(records.iter());
    assert_eq!(got.len(), FIRST.len() * ISSUES, "{got:?}");
    assert!(
        counts(got.iter().map(|(r, id)| json!([r, id])))
            .values()
            .all(|n| *n == 1),
        "each issue once"
    );
    let end = rest.end().unwrap();
    let mut names: Vec<String> = FIRST.iter().map(|r| format!("acme-robotics/{r}")).collect();
    names.sort();
    assert_eq!(positioned(end), names);
    for entry in end["repos"].as_object().unwrap().values() {
        assert!(entry["position"]["cursor"].is_string(), "{entry}");
    }
}

#[test]
fn a_repository_added_between_runs_starts_from_the_start_and_a_deleted_one_stops() {
    let first = read_all(
        &connector(&serve(&FIRST)),
        "issues",
        None,
        &every_repository(&[]),
    );
    let end = first.end().cloned();
    // The next run: `infra` deleted, `lidar-drivers` created.
    let mut next: Vec<&str> = FIRST.iter().copied().filter(|r| *r != "infra").collect();
    next.push("lidar-drivers");
    let second = read_all(
        &connector(&serve(&next)),
        "issues",
        end,
        &every_repository(&[]),
    );
    let got = delivered(second.records());
    assert_eq!(
        got.len(),
        ISSUES,
        "only the new repository's issues: {got:?}"
    );
    assert!(
        got.iter().all(|(repo, _)| repo == "lidar-drivers"),
        "{got:?}"
    );
    // The deleted repository keeps its position (its rows are the destination's to keep).
    let positions = positioned(second.end().unwrap());
    assert!(
        positions.contains(&"acme-robotics/infra".to_owned()),
        "{positions:?}"
    );
    assert!(positions.contains(&"acme-robotics/lidar-drivers".to_owned()));
}

#[test]
fn repos_names_or_patterns_choose_the_repositories() {
    let sim = serve(&FIRST);
    let options = every_repository(&[("repos", "rover*, INFRA")]);
    let run = read_all(&connector(&sim), "issues", None, &options);
    let mut repos: Vec<String> = delivered(run.records())
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    repos.dedup();
    assert_eq!(repos, ["infra", "rover", "rover-firmware", "rover-sim"]);
}

#[test]
fn snapshots_are_every_repositorys_snapshot() {
    // The shipped corpus has branches in two repositories of the organization.
    let sim = simulator(None);
    let options = every_repository(&[("repos", "rover,rover-firmware")]);
    let run = read_all(&connector(&sim), "branches", None, &options);
    let branches = corpus("branches.json");
    assert_eq!(run.records().count(), branches.len());
    for record in run.records() {
        assert_eq!(record["owner"], record["repository_owner"]);
        assert_eq!(record["repo"], record["repository_name"]);
    }
    // Keyed by repository already: the keys stay.
    let keys = connector(&sim)
        .read_table_metadata("branches", &options)
        .unwrap()
        .primary_keys;
    assert_eq!(keys, ["owner", "repo", "name"]);
}

#[test]
fn a_fan_out_read_refuses_what_it_cannot_resume_from() {
    let sim = serve(&FIRST);
    let github = connector(&sim);
    // A position of one repository (the table was read with `repo: rover` before).
    let single: Offset = json!({"cursor": "2024-03-01T00:00:00Z"})
        .as_object()
        .cloned()
        .unwrap();
    assert_read_fails(
        &github,
        "issues",
        Some(&single),
        &every_repository(&[]),
        &["one position per repository", "full refresh"],
    );
    // `repos` and `org` name repositories only with `repo: "*"`.
    let mut one = every_repository(&[("repos", "rover*")]);
    one.insert("repo".to_owned(), "rover".to_owned());
    one.remove("org");
    one.insert("owner".to_owned(), "acme-robotics".to_owned());
    assert_read_fails(&github, "issues", None, &one, &["`repos`", "repo: \"*\""]);
    // ... and the other way: positions per repository for a read of one.
    let fanned = read_all(&github, "issues", None, &every_repository(&[]));
    let mut rover = one.clone();
    rover.remove("repos");
    assert_read_fails(
        &github,
        "issues",
        fanned.end(),
        &rover,
        &["one position per repository", "full refresh"],
    );
    // `*` needs an account; `pull_number` names one repository's pull request.
    let alone = TableOptions::from([("repo".to_owned(), "*".to_owned())]);
    assert_read_fails(&github, "issues", None, &alone, &["`owner` or `org`"]);
    assert_read_fails(
        &github,
        "reviews",
        None,
        &every_repository(&[("pull_number", "3")]),
        &["pull_number"],
    );
}

#[test]
fn accounts_and_their_repositories_are_namespaces() {
    let sim = simulator(None);
    let github = connector(&sim);
    let namespaces = github.namespaces().unwrap();
    let path = |parts: &[&str]| {
        parts
            .iter()
            .map(|p| (*p).to_owned())
            .collect::<Vec<String>>()
    };
    assert_eq!(
        namespaces.list_namespaces(&[]).unwrap(),
        [
            path(&["mira-okafor"]),
            path(&["acme-robotics"]),
            path(&["ros-rover-wg"]),
            path(&["open-lidar"]),
        ],
        "the token's user, then its organizations"
    );
    let repos = namespaces
        .list_namespaces(&path(&["acme-robotics"]))
        .unwrap();
    let owned = corpus("repositories.json")
        .iter()
        .filter(|r| r["owner"]["login"] == "acme-robotics")
        .count();
    let err = namespaces
        .list_namespaces(&path(&["../orgs/x"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("namespace"), "{err}");
    assert_eq!(repos.len(), owned);
    assert!(
        repos.contains(&path(&["acme-robotics", "rover"])),
        "{repos:?}"
    );
    assert!(
        namespaces
            .list_namespaces(&path(&["acme-robotics", "rover"]))
            .unwrap()
            .is_empty()
    );
    let in_repo = namespaces
        .list_tables_in(&path(&["acme-robotics", "rover"]))
        .unwrap();
    assert!(
        in_repo.contains(&"issues".to_owned()) && !in_repo.contains(&"repositories".to_owned())
    );
    assert_eq!(
        namespaces
            .list_tables_in(&path(&["acme-robotics"]))
            .unwrap(),
        ["repositories"]
    );
    assert_eq!(
        namespaces.list_tables_in(&[]).unwrap(),
        ["users", "organizations", "teams"]
    );
}

#[test]
fn the_same_table_read_again_from_the_start_is_not_skipped_as_caught_up() {
    // Two destinations of one table in one run share the connector: the second, read from the
    // start, must not take the first one's caught-up repositories as its own.
    let sim = serve(&FIRST);
    let github = connector(&sim);
    let options = every_repository(&[]);
    let first = read_all(&github, "issues", None, &options);
    let again = read_all(&github, "issues", None, &options);
    assert_eq!(delivered(first.records()), delivered(again.records()));
    assert_eq!(again.records().count(), FIRST.len() * ISSUES);
}

#[test]
fn with_lookback_caught_up_repositories_are_not_read_again_in_the_run() {
    let sim = serve(&FIRST);
    let github = connector(&sim);
    let options = every_repository(&[("lookback_seconds", "3600"), ("max_records_per_batch", "5")]);
    let run = read_all(&github, "issues", None, &options);
    let distinct: std::collections::BTreeSet<_> = delivered(run.records()).into_iter().collect();
    assert_eq!(distinct.len(), FIRST.len() * ISSUES);
    // Re-delivery within the lookback is allowed (the upsert absorbs it), but a repository read
    // to the end is not read again in the run, so the run ends in a few batches.
    assert!(
        run.batches.len() <= 2 * FIRST.len() * ISSUES / 5 + 2,
        "{} batches",
        run.batches.len()
    );
}

#[test]
fn a_partitioned_stream_reads_one_partition_per_repository_up_to_one_instant() {
    let sim = serve(&FIRST);
    let github = connector(&sim);
    let options = every_repository(&[("max_records_per_batch", "4")]);
    let streams = github.partitioned_streams().unwrap();
    let latest = streams.latest_offset("issues", &options).unwrap();
    assert!(latest["through"].is_string(), "{latest:?}");
    assert_eq!(positioned(&latest).len(), FIRST.len());
    let partitions = streams
        .partitions_between("issues", None, &latest, &options)
        .unwrap();
    assert_eq!(partitions.len(), FIRST.len(), "one per repository");
    let mut records = Vec::new();
    for partition in &partitions {
        let stream = streams
            .read_stream_partition("issues", partition, &options)
            .unwrap();
        for record in stream {
            records.push(record.unwrap());
        }
    }
    let got = delivered(records.iter());
    assert_eq!(
        got.len(),
        FIRST.len() * ISSUES,
        "batches of 4, each partition to its end"
    );
    assert!(
        counts(got.iter().map(|(r, id)| json!([r, id])))
            .values()
            .all(|n| *n == 1)
    );
    // Nothing between the latest offset and itself, and a batch read from it finds nothing new.
    let none = streams
        .partitions_between("issues", Some(&latest), &latest, &options)
        .unwrap();
    assert!(none.is_empty());
    let after = read_all(&github, "issues", Some(latest), &options);
    assert_eq!(after.records().count(), 0);
    // A table whose offsets cannot say "everything up to an instant" has no partitions.
    for table in ["workflow_runs", "commits"] {
        let err = streams
            .latest_offset(table, &every_repository(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not supported"), "{table}: {err}");
    }
}
