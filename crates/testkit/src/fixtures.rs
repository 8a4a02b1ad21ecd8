//! What connectors' own tests set up the same way: their simulator served as shipped or with
//! text edits to its spec (a server that behaves otherwise), the records of a corpus file (by
//! id), the ids of records, and table options from pairs.

use std::collections::BTreeMap;

use lakeflow_connect::{EmbeddedSimulatorSpec, Record, TableOptions};
use lakeflow_simulator::{FaultProfile, RunningSimulator, Simulator};
use serde_json::Value;

/// `embedded`'s spec served as shipped.
///
/// # Panics
/// When the spec does not load or start.
pub fn serve(embedded: &EmbeddedSimulatorSpec) -> RunningSimulator {
    serve_edited(embedded, &[], None)
}

/// `embedded`'s spec with each `(from, to)` text edit applied (the first occurrence), served,
/// with `faults` when given.
///
/// # Panics
/// When an edit's `from` is not in the spec, or the edited spec does not load or start.
pub fn serve_edited(
    embedded: &EmbeddedSimulatorSpec,
    edits: &[(&str, &str)],
    faults: Option<FaultProfile>,
) -> RunningSimulator {
    let mut spec = embedded.spec.to_owned();
    for (from, to) in edits {
        assert!(spec.contains(from), "`{from}` is not in the spec");
        spec = spec.replacen(from, to, 1);
    }
    let mut simulator = Simulator::from_embedded(&spec, embedded.files)
        .unwrap_or_else(|e| panic!("the edited spec does not load: {e}"));
    if let Some(faults) = faults {
        simulator = simulator.with_faults(faults);
    }
    simulator
        .start()
        .unwrap_or_else(|e| panic!("the simulator does not start: {e}"))
}

/// The records of `embedded`'s corpus file `name`.
///
/// # Panics
/// When there is no such file, or it is not a JSON array.
pub fn corpus_records(embedded: &EmbeddedSimulatorSpec, name: &str) -> Vec<Value> {
    let (_, text) = embedded
        .files
        .iter()
        .find(|(file, _)| *file == name)
        .unwrap_or_else(|| panic!("no corpus file {name}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name} is not a JSON array: {e}"))
}

/// The records of `embedded`'s corpus file `name`, by their string `id`.
///
/// # Panics
/// As [`corpus_records`], or when a record has no string `id`.
pub fn corpus_by_id(embedded: &EmbeddedSimulatorSpec, name: &str) -> BTreeMap<String, Value> {
    corpus_records(embedded, name)
        .into_iter()
        .map(|r| (string_id(&r), r))
        .collect()
}

/// The string `id` of each of `records`, in order.
///
/// # Panics
/// When a record has no string `id`.
pub fn string_ids(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().expect("a string id").to_owned())
        .collect()
}

fn string_id(record: &Value) -> String {
    record["id"].as_str().expect("a string id").to_owned()
}

/// Table options from `(name, value)` pairs.
pub fn table_options(pairs: &[(&str, &str)]) -> TableOptions {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The JSON object `value` as a record (or an offset, the same type).
///
/// # Panics
/// When `value` is not an object: a test's literal is wrong.
pub fn object(value: Value) -> Record {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
