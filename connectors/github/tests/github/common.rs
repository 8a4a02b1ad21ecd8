//! Helpers shared by the test modules: simulators, connectors, and reading a table to the end.

use std::collections::BTreeMap;

use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Offset, Record, TableOptions};
use lakeflow_github::{GithubConnector, SIMULATOR};
use lakeflow_simulator::{FaultProfile, RunningSimulator, Simulator};
use lakeflow_testkit::drain::{Feed, run};
use lakeflow_testkit::fixtures::serve_edited;
use serde_json::Value;

pub use lakeflow_testkit::drain::Run;

/// The token the simulator spec accepts.
pub const TOKEN: &str = lakeflow_testkit::FAKE_SECRET;

/// The spec's corpus file `name`, parsed.
pub fn corpus(name: &str) -> Vec<Record> {
    let (_, text) = SIMULATOR
        .files
        .iter()
        .find(|(file, _)| *file == name)
        .unwrap_or_else(|| panic!("no corpus file {name}"));
    serde_json::from_str(text).unwrap()
}

/// The embedded spec on an ephemeral port, optionally with faults.
pub fn simulator(faults: Option<FaultProfile>) -> RunningSimulator {
    serve_edited(&SIMULATOR, &[], faults)
}

/// The embedded spec with the corpus files `replaced` (name, contents), served.
pub fn serve_with(replaced: &[(&str, &str)]) -> RunningSimulator {
    let files: Vec<(&str, &str)> = SIMULATOR
        .files
        .iter()
        .map(|(name, text)| {
            let new = replaced.iter().find(|(file, _)| file == name);
            (*name, new.map_or(*text, |(_, contents)| *contents))
        })
        .collect();
    Simulator::from_embedded(SIMULATOR.spec, &files)
        .unwrap()
        .start()
        .unwrap()
}

pub fn connection(base_url: &str, extra: &[(&str, &str)]) -> ConnectionOptions {
    let mut options: ConnectionOptions = [
        ("token", TOKEN),
        ("base_url", base_url),
        ("rate_limit_wait_seconds", "0"),
    ]
    .into_iter()
    .collect();
    for (k, v) in extra {
        options.insert(*k, *v);
    }
    options
}

pub fn connector(sim: &RunningSimulator) -> GithubConnector {
    GithubConnector::new(&connection(&sim.base_url(), &[])).unwrap()
}

/// `owner=acme-robotics`, `repo=rover` and `extra`.
pub fn rover(extra: &[(&str, &str)]) -> TableOptions {
    let mut options = TableOptions::from([
        ("owner".to_owned(), "acme-robotics".to_owned()),
        ("repo".to_owned(), "rover".to_owned()),
    ]);
    for (k, v) in extra {
        options.insert((*k).to_owned(), (*v).to_owned());
    }
    options
}

/// Every batch of `table` read from `start` until the end offset equals the start (or is none).
pub fn read_all(
    connector: &dyn LakeflowConnect,
    table: &str,
    start: Option<Offset>,
    options: &TableOptions,
) -> Run {
    run(connector, table, Feed::Records, start, options)
}

/// Asserts that a read of `table` from `start` fails with an error that says each of `parts`.
#[track_caller]
pub fn assert_read_fails(
    connector: &dyn LakeflowConnect,
    table: &str,
    start: Option<&Offset>,
    options: &TableOptions,
    parts: &[&str],
) {
    let err = connector
        .read_table(table, start, options)
        .err()
        .unwrap()
        .to_string();
    assert!(parts.iter().all(|part| err.contains(part)), "{err}");
}

/// How many times each value occurs.
pub fn counts(values: impl IntoIterator<Item = Value>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for value in values {
        *counts.entry(value.to_string()).or_insert(0) += 1;
    }
    counts
}

/// The ids a table should deliver from a corpus file: the rover's records that `keep` accepts.
pub fn rover_ids(file: &str, key: &str, keep: impl Fn(&Record) -> bool) -> Vec<Value> {
    let mut ids: Vec<Value> = corpus(file)
        .iter()
        .filter(|r| r["repository_name"] == "rover" && keep(r))
        .map(|r| r[key].clone())
        .collect();
    ids.sort_by_key(Value::to_string);
    ids
}

pub fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by_key(Value::to_string);
    values
}

/// How many records of a corpus file belong to the rover repository.
pub fn rover_count(file: &str) -> usize {
    corpus(file)
        .iter()
        .filter(|r| r["repository_name"] == "rover")
        .count()
}
