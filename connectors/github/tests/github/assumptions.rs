//! Reads check what the server does with `direction` and `since` instead of trusting it: against
//! a stand-in for GitHub that ignores them, a read that depends on them fails, naming the table,
//! the request and what did not hold, rather than returning a subset of the table as a success.

use lakeflow_connect::{Error, LakeflowConnect, Offset, Record, TableOptions};
use lakeflow_github::{GithubConnector, SIMULATOR};
use lakeflow_simulator::{RunningSimulator, Simulator};
use serde_json::Value;

use crate::common::{connection, read_all, rover, rover_ids, sorted};

/// The embedded spec served with `edits` (text replacements) made to endpoint `endpoint` only.
fn misbehaving(endpoint: &str, edits: &[(&str, &str)]) -> RunningSimulator {
    let spec = SIMULATOR.spec;
    let start = spec
        .find(&format!("  - name: {endpoint}\n"))
        .unwrap_or_else(|| panic!("no endpoint {endpoint} in the spec"));
    let end = spec[start + 1..]
        .find("\n  - name: ")
        .map_or(spec.len(), |at| start + 1 + at);
    let mut block = spec[start..end].to_owned();
    for (from, to) in edits {
        assert!(block.contains(from), "{from} not in endpoint {endpoint}");
        block = block.replace(from, to);
    }
    let spec = format!("{}{block}{}", &spec[..start], &spec[end..]);
    Simulator::from_embedded(&spec, SIMULATOR.files)
        .unwrap()
        .start()
        .unwrap()
}

const DIRECTION: &str = "direction: { role: sort_direction, default: desc }";
const IGNORED_DIRECTION: &str = "direction: { role: ignored }";

fn connector(sim: &RunningSimulator) -> GithubConnector {
    GithubConnector::new(&connection(&sim.base_url(), &[])).unwrap()
}

/// The `updated_at` values of the first page the server answers to `query` on the rover's issues.
fn listed(github: &GithubConnector, query: &str) -> Vec<String> {
    let page: Vec<Value> = github
        .request("GET", &format!("/repos/acme-robotics/rover/issues?{query}"))
        .send_json()
        .unwrap();
    page.iter()
        .map(|issue| issue["updated_at"].as_str().unwrap().to_owned())
        .collect()
}

fn is_sorted(values: &[String]) -> bool {
    values.windows(2).all(|pair| pair[0] <= pair[1])
}

/// A whole partitioned stream of `table` from the start to the latest offset: its records, or
/// the first error.
fn stream(
    github: &GithubConnector,
    table: &str,
    options: &TableOptions,
) -> lakeflow_connect::Result<Vec<Record>> {
    let streams = github.partitioned_streams().expect("partitioned streams");
    let latest: Offset = streams.latest_offset(table, options)?;
    let mut records = Vec::new();
    for partition in streams.partitions_between(table, None, &latest, options)? {
        for record in streams.read_stream_partition(table, &partition, options)? {
            records.push(record?);
        }
    }
    Ok(records)
}

/// The records of a first read of `table`, or its error.
fn first_read(
    github: &GithubConnector,
    table: &str,
    options: &TableOptions,
) -> lakeflow_connect::Result<Vec<Record>> {
    let (records, _) = github.read_table(table, None, options)?.collect()?;
    Ok(records)
}

/// The message of a protocol error, checked to name the table, the request and the parameter.
fn broken_promise(
    result: lakeflow_connect::Result<Vec<Record>>,
    table: &str,
    request: &str,
    parameter: &str,
) -> String {
    let message = match result {
        Err(Error::Protocol { message }) => message,
        Err(other) => panic!("{table}: not a protocol error: {other}"),
        Ok(records) => panic!(
            "{table}: the read succeeded with {} records against a server that ignores `{parameter}`",
            records.len()
        ),
    };
    for expected in [
        format!("table `{table}`: GET http://127.0.0.1:"),
        request.to_owned(),
        format!("does not apply `{parameter}` as GitHub does"),
        "the read stops".to_owned(),
    ] {
        assert!(message.contains(&expected), "{expected:?} not in {message}");
    }
    message
}

/// The rover's issues (pull requests left out), by id.
fn every_issue() -> Vec<Value> {
    rover_ids("issues.json", "id", |r| r.get("pull_request").is_none())
}

#[test]
fn a_stream_from_a_server_that_ignores_newest_first_fails_instead_of_reading_a_subset() {
    // The case seen in the wild: `direction=desc` ignored, issues listed oldest first.
    let sim = misbehaving(
        "issues",
        &[
            (DIRECTION, IGNORED_DIRECTION),
            (
                "sort: { field: created_at, direction: desc }",
                "sort: { field: updated_at, direction: asc }",
            ),
        ],
    );
    let github = connector(&sim);
    let desc = listed(&github, "state=all&sort=updated&direction=desc");
    assert!(is_sorted(&desc), "the server ignores `direction=desc`");
    let options = rover(&[]);
    let message = broken_promise(
        stream(&github, "issues", &options),
        "issues",
        "direction=desc",
        "direction",
    );
    assert!(
        message.contains("asked for entries newest first by `updated_at`, but entry"),
        "{message}"
    );
    // Reads that ask for what this server does still work, and read everything.
    let plain = read_all(&github, "issues", None, &options);
    assert_eq!(sorted(plain.values("id")), every_issue());
}

#[test]
fn reads_from_a_server_that_ignores_oldest_first_fail_instead_of_finding_nothing() {
    // `direction=asc` ignored: issues come newest first, as GitHub's default order.
    let sim = misbehaving("issues", &[(DIRECTION, IGNORED_DIRECTION)]);
    let github = connector(&sim);
    let asc = listed(&github, "state=all&sort=updated&direction=asc");
    assert!(!is_sorted(&asc), "the server ignores `direction=asc`");
    let options = rover(&[]);
    let read = first_read(&github, "issues", &options);
    let message = broken_promise(read, "issues", "direction=asc", "direction");
    assert!(
        message.contains("oldest first by `updated_at`"),
        "{message}"
    );
    // The partitions of a stream read oldest first too.
    let streams = github.partitioned_streams().unwrap();
    let latest = Offset::from_iter([("cursor".to_owned(), Value::from("2030-01-01T00:00:00Z"))]);
    let partitions = streams
        .partitions_between("issues", None, &latest, &options)
        .unwrap_or_else(|e| panic!("{e}"));
    let read = partitions
        .iter()
        .map(|p| streams.read_stream_partition("issues", p, &options))
        .flat_map(|stream| match stream {
            Ok(records) => records.collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
        .collect();
    broken_promise(read, "issues", "direction=asc", "direction");
}

#[test]
fn a_read_from_a_server_that_ignores_since_fails_naming_the_bound() {
    let sim = misbehaving(
        "issues",
        &[(
            "since: { role: filter, field: updated_at, op: gte }",
            "since: { role: ignored }",
        )],
    );
    let github = connector(&sim);
    let options = rover(&[("start_date", "2024-06-01")]);
    let read = first_read(&github, "issues", &options);
    let message = broken_promise(read, "issues", "since=2024-05-31T23%3A59%3A59Z", "since");
    assert!(
        message.contains("entries with `updated_at` at or after 2024-05-31T23:59:59Z (`since`)"),
        "{message}"
    );
}

#[test]
fn pull_requests_from_a_server_that_ignores_newest_first_fail() {
    let sim = misbehaving(
        "pulls",
        &[
            (DIRECTION, IGNORED_DIRECTION),
            (
                "sort: { field: created_at, direction: desc }",
                "sort: { field: updated_at, direction: asc }",
            ),
        ],
    );
    let github = connector(&sim);
    let options = rover(&[("per_page", "5")]);
    for table in ["pull_requests", "reviews"] {
        let read = first_read(&github, table, &options);
        broken_promise(read, table, "direction=desc", "direction");
    }
}
