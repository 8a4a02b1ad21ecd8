//! Helpers shared by the test modules.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use lakeflow_connect::{LakeflowConnect, Offset, Record, TableOptions};
use lakeflow_example::{ClientConfig, ExampleConnector, ExampleSource, Request, SourceConfig};
use lakeflow_testkit::drain::{Feed, Run, run};
use serde_json::Value;

pub use lakeflow_testkit::fixtures::table_options as options;

pub const INCREMENTAL: [&str; 4] = ["events", "users", "orders", "metrics"];

/// A source that never fails on purpose.
pub fn quiet_source(seed: u64) -> Arc<ExampleSource> {
    Arc::new(ExampleSource::new(SourceConfig {
        seed,
        error_rate: 0.0,
        api_key: None,
    }))
}

/// A client that retries long enough to survive high injected error rates.
pub fn patient() -> ClientConfig {
    ClientConfig {
        max_retries: 12,
        retry_base: Duration::from_micros(100),
        ..ClientConfig::default()
    }
}

pub fn connector(source: &Arc<ExampleSource>) -> ExampleConnector {
    ExampleConnector::with_source(Arc::clone(source), patient())
}

/// Every batch of a table (or its deletes) read from `start` until the offset stops moving.
pub fn read_all(
    connector: &dyn LakeflowConnect,
    table: &str,
    start: Option<Offset>,
    opts: &TableOptions,
    deletes: bool,
) -> Run {
    let feed = if deletes {
        Feed::Deletes
    } else {
        Feed::Records
    };
    run(connector, table, feed, start, opts)
}

/// Every row of an endpoint, straight from the API (`events` pages by `since`, the others by
/// page token).
pub fn api_rows(source: &ExampleSource, endpoint: &str) -> Vec<Record> {
    let mut rows: Vec<Record> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = Request::new(endpoint);
        if endpoint == "events" {
            request = request.param("limit", "100");
            if let Some(last) = rows.last() {
                request = request.param("since", last["created_at"].as_str().unwrap());
            }
        } else {
            request = request.param("page_size", "100");
        }
        if let Some(t) = token.take() {
            request = request.param("page_token", t);
        }
        let page = source.get(&request).unwrap();
        rows.extend(page.records);
        match page.next_page_token {
            Some(next) => token = Some(next),
            None if page.has_more => {}
            None => return rows,
        }
    }
}

pub fn key_set(values: &[Value]) -> BTreeSet<String> {
    values.iter().map(Value::to_string).collect()
}

pub fn assert_no_duplicates(table: &str, values: &[Value]) {
    assert_eq!(
        key_set(values).len(),
        values.len(),
        "{table}: a key was delivered twice"
    );
}
