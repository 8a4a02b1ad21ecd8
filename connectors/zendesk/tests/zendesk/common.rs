//! A simulator of the spec (as shipped, or edited), connectors on it, and reads to the end.

use lakeflow_connect::{ConnectionOptions, Record};
use lakeflow_simulator::{FaultProfile, RunningSimulator, Simulator};
use lakeflow_testkit::FAKE_SECRET;
use lakeflow_testkit::fixtures::{corpus_records, serve_edited};
use lakeflow_zendesk::{SIMULATOR, ZendeskConnector};
use serde_json::Value;

pub const EMAIL: &str = "conformance@example.com";

/// The shipped spec, served.
pub fn simulator() -> RunningSimulator {
    edited(&[], None)
}

/// The spec with each `(from, to)` text edit applied, served with `faults`.
pub fn edited(edits: &[(&str, &str)], faults: Option<FaultProfile>) -> RunningSimulator {
    serve_edited(&SIMULATOR, edits, faults)
}

/// The shipped spec with one of its fault profiles.
pub fn with_profile(profile: &str) -> RunningSimulator {
    Simulator::from_embedded(SIMULATOR.spec, SIMULATOR.files)
        .unwrap()
        .with_fault_profile(profile)
        .unwrap()
        .start()
        .unwrap()
}

/// The options of a connection to `sim` with an API token, and budgets no test waits on.
pub fn connection(sim: &RunningSimulator) -> ConnectionOptions {
    let mut options: ConnectionOptions = [
        ("base_url", sim.base_url()),
        ("email", EMAIL.to_owned()),
        ("requests_per_minute", "100000".to_owned()),
        ("export_requests_per_minute", "100000".to_owned()),
    ]
    .into_iter()
    .collect();
    options.insert_secret("api_token", FAKE_SECRET);
    options
}

pub fn connector(sim: &RunningSimulator) -> ZendeskConnector {
    ZendeskConnector::new(&connection(sim)).unwrap()
}

pub use lakeflow_testkit::drain::{Feed, batch, drain};
pub use lakeflow_testkit::fixtures::table_options as options;

/// The ids of `records`, in order.
pub fn ids(records: &[Record]) -> Vec<i64> {
    records
        .iter()
        .map(|r| r["id"].as_i64().expect("an integer id"))
        .collect()
}

/// The ids of the corpus file `name` whose record `keep` takes, sorted.
pub fn corpus_ids(name: &str, keep: impl Fn(&Value) -> bool) -> Vec<i64> {
    let mut ids: Vec<i64> = corpus_records(&SIMULATOR, name)
        .iter()
        .filter(|r| keep(r))
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

pub fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}
