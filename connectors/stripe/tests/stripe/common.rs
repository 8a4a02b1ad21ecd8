//! A simulator of the spec (as shipped, or edited), connectors on it at a given time, reads to
//! the end, and a model of the destination the reads feed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lakeflow_connect::{ConnectionOptions, Record};
use lakeflow_simulator::RunningSimulator;
use lakeflow_stripe::{SIMULATOR, StripeConnector};
use lakeflow_testkit::FAKE_SECRET;
use lakeflow_testkit::fixtures::{corpus_by_id, serve, serve_edited};
use serde_json::Value;

/// A connection to `sim` with the suite's fake key, and a budget no test waits on.
pub fn connection(sim: &RunningSimulator) -> ConnectionOptions {
    let mut options: ConnectionOptions = [
        ("base_url", sim.base_url()),
        ("requests_per_second", "100000".to_owned()),
    ]
    .into_iter()
    .collect();
    options.insert_secret("api_key", FAKE_SECRET);
    options
}

/// The shipped spec, served.
pub fn simulator() -> RunningSimulator {
    serve(&SIMULATOR)
}

/// The spec with each `(from, to)` text edit applied, served.
pub fn edited(edits: &[(&str, &str)]) -> RunningSimulator {
    serve_edited(&SIMULATOR, edits, None)
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A connector on `sim` whose clock reads `now`.
pub fn connector_at(sim: &RunningSimulator, now: &str) -> StripeConnector {
    StripeConnector::new_at(&connection(sim), at(now)).unwrap()
}

pub use lakeflow_testkit::drain::{Feed, batch, drain};
pub use lakeflow_testkit::fixtures::{string_ids as ids, table_options as options};

/// The records of corpus file `name`, by id.
pub fn corpus(name: &str) -> BTreeMap<String, Value> {
    corpus_by_id(&SIMULATOR, name)
}

/// A destination as the engine keeps a cdc table: per key the row with the highest
/// `changed_at` (ties: the later delivered), deletions applied the same way.
#[derive(Debug, Default)]
pub struct Destination {
    rows: BTreeMap<String, (String, Record)>,
    deleted: BTreeMap<String, String>,
}

impl Destination {
    pub fn upsert(&mut self, records: &[Record]) {
        for record in records {
            let id = record["id"].as_str().unwrap().to_owned();
            let at = record["changed_at"].as_str().unwrap().to_owned();
            if self.deleted.get(&id).is_some_and(|gone| *gone > at) {
                continue;
            }
            let newer = self.rows.get(&id).is_none_or(|(seen, _)| at >= *seen);
            if newer {
                self.rows.insert(id, (at, record.clone()));
            }
        }
    }

    pub fn delete(&mut self, records: &[Record]) {
        for record in records {
            let id = record["id"].as_str().unwrap().to_owned();
            let at = record["changed_at"].as_str().unwrap().to_owned();
            if self.rows.get(&id).is_none_or(|(seen, _)| at >= *seen) {
                self.rows.remove(&id);
            }
            self.deleted.insert(id, at);
        }
    }

    /// The rows, without `changed_at`.
    pub fn state(&self) -> BTreeMap<String, Value> {
        self.rows
            .iter()
            .map(|(id, (_, record))| {
                let mut record = record.clone();
                record.remove("changed_at");
                (id.clone(), Value::Object(record))
            })
            .collect()
    }
}
