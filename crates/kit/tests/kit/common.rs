//! The simulator serving `tests/simulator/spec.yaml`, the connector's side of it, and helpers.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Offset, Record};
use lakeflow_http::{HttpClient, HttpConfig, Pages, Pagination, RequestBuilder};
use lakeflow_kit::ascending::Ascending;
use lakeflow_kit::descending::Descending;
use lakeflow_kit::time::parse_ts;
use lakeflow_kit::{PageSource, ReadCtx, ReadSettings};
use lakeflow_simulator::{RunningSimulator, Simulator};

pub const SPEC: &str = include_str!("../simulator/spec.yaml");
pub const ITEMS: &str = include_str!("../simulator/items.json");

/// Every id of the corpus, oldest first.
pub const ALL: std::ops::RangeInclusive<u64> = 1..=14;

pub fn simulator() -> RunningSimulator {
    serve(SPEC)
}

/// The simulator serving `spec` over the corpus.
pub fn serve(spec: &str) -> RunningSimulator {
    Simulator::from_embedded(spec, &[("items.json", ITEMS)])
        .unwrap()
        .start()
        .unwrap()
}

/// The spec with `from` replaced by `to` in endpoint `endpoint` only: a server that misbehaves.
pub fn misbehaving(endpoint: &str, edits: &[(&str, &str)]) -> RunningSimulator {
    let start = SPEC
        .find(&format!("  - name: {endpoint}\n"))
        .unwrap_or_else(|| panic!("no endpoint {endpoint} in the spec"));
    let end = SPEC[start + 1..]
        .find("\n  - name: ")
        .map_or(SPEC.len(), |at| start + 1 + at);
    let mut block = SPEC[start..end].to_owned();
    for (from, to) in edits {
        assert!(block.contains(from), "{from} not in endpoint {endpoint}");
        block = block.replace(from, to);
    }
    serve(&format!("{}{block}{}", &SPEC[..start], &SPEC[end..]))
}

/// The connector's side: a client, and how its listings paginate.
pub struct Items {
    pub client: HttpClient,
    /// `None`: `Link` headers. `Some(n)`: page numbers (`page`, `n` a page), starting at the
    /// page the request asks for, records under `items`.
    page_size: Option<u64>,
}

impl Items {
    /// `Link` pagination (`/items`, `/items/newest`).
    pub fn new(sim: &RunningSimulator) -> Self {
        let config = HttpConfig::default().base_url(sim.base_url());
        Self {
            client: HttpClient::new(config).unwrap(),
            page_size: None,
        }
    }

    /// Page-number pagination of `per_page` records (`/items/windows`).
    pub fn numbered(sim: &RunningSimulator, per_page: u64) -> Self {
        Self {
            page_size: Some(per_page),
            ..Self::new(sim)
        }
    }
}

impl PageSource for Items {
    fn service(&self) -> &str {
        "the item API"
    }

    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        match self.page_size {
            None => request.pages(Pagination::LinkHeader, records_path),
            Some(size) => {
                // A page hint (`at_page`) is where the walk starts.
                let first = request
                    .url()
                    .and_then(|url| url.query_pairs().find(|(k, _)| k == "page"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(1);
                let pagination = Pagination::PageNumber {
                    param: "page".to_owned(),
                    first,
                    page_size: Some(size),
                };
                request.pages(pagination, records_path)
            }
        }
    }
}

pub fn at(text: &str) -> DateTime<Utc> {
    parse_ts(text).unwrap()
}

/// The newest instant read: after the whole corpus.
pub fn horizon() -> DateTime<Utc> {
    at("2025-01-01T00:00:00Z")
}

pub fn settings(max_records: usize) -> ReadSettings {
    ReadSettings {
        start_date: None,
        lookback: TimeDelta::zero(),
        max_records,
        per_page: 2,
        window: TimeDelta::days(1),
        stream_partitions: 4,
    }
}

pub fn ctx<'a>(source: &'a Items, settings: ReadSettings) -> ReadCtx<'a> {
    ReadCtx {
        table: "items",
        source,
        settings,
        horizon: horizon(),
    }
}

/// The ascending read of the items listing: by `updated_at`, keyed by `id`, every record kept,
/// `since` applied by the server.
pub fn ascending<'a>(ctx: &'a ReadCtx<'a>) -> Ascending<'a> {
    Ascending {
        ctx,
        cursor: "updated_at",
        key: "id",
        keep: |_| true,
        filters_since: true,
        decorate: &|_| {},
    }
}

/// The newest-first read of the items listing, by `updated_at`, keyed by `id`.
pub fn descending<'a>(ctx: &'a ReadCtx<'a>) -> Descending<'a> {
    Descending {
        ctx,
        cursor: "updated_at",
        key: "id",
    }
}

/// Asserts that a read restarted from each offset of a run (that delivered `all` and returned
/// `offsets`) delivers exactly the rest of `all`. `batch(from)` counts the records of one batch
/// from an offset (`None`: the start), `rest(from)` reads from one to the end; `label` names the
/// run in failures.
#[track_caller]
pub fn assert_restarts_deliver_the_rest(
    all: &[u64],
    offsets: &[Offset],
    batch: impl Fn(Option<&Offset>) -> usize,
    rest: impl Fn(&Offset) -> Vec<u64>,
    label: &str,
) {
    let mut delivered = 0;
    for (i, start) in offsets.iter().enumerate() {
        // What the batch that returned `start` and those before it delivered.
        delivered += batch(offsets[..i].last());
        assert_eq!(
            rest(start),
            all[delivered..].to_vec(),
            "{label}, restarted from {start:?}"
        );
    }
}

pub use lakeflow_testkit::fixtures::object as offset;

pub fn ids(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

/// Requests the simulator has answered so far.
pub fn requests(sim: &RunningSimulator) -> usize {
    sim.request_log().len()
}

/// Ids in corpus order, `from` first.
pub fn range(ids: std::ops::RangeInclusive<u64>) -> Vec<u64> {
    ids.collect()
}
