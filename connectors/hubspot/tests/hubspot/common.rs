//! A simulator of the spec (as shipped, or edited), connections to it, and helpers.

use std::collections::BTreeMap;

use lakeflow_connect::ConnectionOptions;
use lakeflow_hubspot::SIMULATOR;
use lakeflow_simulator::RunningSimulator;
use lakeflow_testkit::FAKE_SECRET;
use lakeflow_testkit::fixtures::{corpus_by_id, serve, serve_edited};
use serde_json::Value;

pub use lakeflow_testkit::drain::{Feed, batch, drain};
pub use lakeflow_testkit::fixtures::{string_ids as ids, table_options as options};

/// The shipped spec, served.
pub fn simulator() -> RunningSimulator {
    serve(&SIMULATOR)
}

/// The spec with each `(from, to)` text edit applied, served.
pub fn edited(edits: &[(&str, &str)]) -> RunningSimulator {
    serve_edited(&SIMULATOR, edits, None)
}

/// An OAuth connection to `sim` (the spec accepts the suite's fake secret as a refresh token).
pub fn connection(sim: &RunningSimulator) -> ConnectionOptions {
    let mut options: ConnectionOptions = [
        ("base_url", sim.base_url()),
        ("client_id", "lakeflow-hubspot-test".to_owned()),
        ("requests_per_10_seconds", "100000".to_owned()),
        ("search_requests_per_second", "100000".to_owned()),
    ]
    .into_iter()
    .collect();
    options.insert_secret("client_secret", FAKE_SECRET);
    options.insert_secret("refresh_token", FAKE_SECRET);
    options
}

/// The records of corpus file `name`, by id.
pub fn corpus(name: &str) -> BTreeMap<String, Value> {
    corpus_by_id(&SIMULATOR, name)
}

/// The ids of corpus file `name` that are (or are not) archived, sorted.
pub fn corpus_ids(name: &str, archived: bool) -> Vec<String> {
    corpus(name)
        .into_iter()
        .filter(|(_, r)| r["archived"] == Value::Bool(archived))
        .map(|(id, _)| id)
        .collect()
}
