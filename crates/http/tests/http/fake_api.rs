//! The client's helpers against the simulator serving the `fake` spec
//! (`crates/simulator/specs/fake`): every pagination style walked with `pages`, laziness,
//! filters and sort (`filters`), auth (`auth`), writes (`writes`). Expected records come from
//! the corpus files read directly, filtered and ordered the way the spec says the endpoint
//! serves them, so the tests follow the corpus instead of restating it. Faults and the request
//! budget are in `simulated_faults`, which shares the helpers here.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use lakeflow_connect::Secret;
use lakeflow_http::{
    Auth, HttpClient, HttpConfig, Page, Pages, Pagination, RequestBuilder, json_path,
};
use lakeflow_simulator::{LoggedRequest, RunningSimulator, Simulator};
use serde_json::Value;

use crate::common::fast_retry;

mod auth;
mod filters;
mod writes;

pub const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../simulator/specs/fake/spec.yaml"
);

/// The fake spec, not started yet (so fault profiles can be added).
pub fn fake() -> Simulator {
    Simulator::load(Path::new(SPEC)).unwrap()
}

/// The fake spec, running without faults.
pub fn start() -> RunningSimulator {
    fake().start().unwrap()
}

/// A corpus file of the fake spec: a JSON array, or NDJSON.
pub fn corpus(file: &str) -> Vec<Value> {
    let path = Path::new(SPEC).parent().unwrap().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    if file.ends_with(".ndjson") {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

// The credentials the spec declares (see its README).
pub fn bearer() -> Auth {
    Auth::bearer(Secret::new("test-token"))
}

pub fn api_key() -> Auth {
    Auth::api_key_header("X-Api-Key", Secret::new("test-key"))
}

pub fn basic() -> Auth {
    Auth::basic("agent@example.com/token", Secret::new("zendesk-token"))
}

/// Fast retries, short timeouts, aimed at `sim`.
pub fn config(sim: &RunningSimulator) -> HttpConfig {
    HttpConfig::default()
        .base_url(sim.base_url())
        .retry(fast_retry())
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(Duration::from_secs(2))
}

pub fn client(sim: &RunningSimulator, auth: Auth) -> HttpClient {
    HttpClient::new(config(sim).auth(auth)).unwrap()
}

/// Every page, panicking on the first error.
pub fn all_pages(pages: Pages) -> Vec<Page> {
    pages.collect::<lakeflow_http::Result<_>>().unwrap()
}

/// Every record of every page.
pub fn walk(pages: Pages) -> Vec<Value> {
    pages
        .records()
        .collect::<lakeflow_http::Result<_>>()
        .unwrap()
}

/// Every record of `path` read through the client with `query`, walking the endpoint's style.
pub fn read(
    http: &HttpClient,
    path: &str,
    query: &[(&str, &str)],
    pagination: &Pagination,
    records_path: &str,
) -> Vec<Value> {
    let request = query
        .iter()
        .fold(http.get(path), |r, (name, value)| r.query(name, value));
    walk(request.pages(pagination.clone(), records_path))
}

/// Orders JSON values the way the simulator sorts: numbers and numeric strings (HubSpot ids)
/// as numbers, other strings as text (the corpora write each date field in one RFC 3339 format,
/// so text order is time order), missing values first.
pub fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn number(v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
    match (a, b) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(a), Some(b)) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.as_str().cmp(&b.as_str()),
        },
    }
}

/// `records` stably sorted by the fields in `keys` (dotted paths), each ascending or not:
/// equal keys keep corpus order, as the simulator's stable sort does.
pub fn sorted(mut records: Vec<Value>, keys: &[(&str, bool)]) -> Vec<Value> {
    records.sort_by(|a, b| {
        keys.iter()
            .map(|(key, ascending)| {
                let order = compare(json_path(a, key), json_path(b, key));
                if *ascending { order } else { order.reverse() }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    records
}

pub fn ids(records: &[Value]) -> Vec<Value> {
    records.iter().map(|r| r["id"].clone()).collect()
}

/// One pagination style of the fake API, walked with the client's `pages` helper.
pub struct Style {
    pub name: &'static str,
    pub auth: fn() -> Auth,
    /// The first request, with filters and page size.
    pub request: fn(&HttpClient) -> RequestBuilder,
    pub pagination: Pagination,
    pub records_path: &'static str,
    /// The corpus records the endpoint serves, in the order it serves them.
    pub expected: fn() -> Vec<Value>,
    /// Whether the API says which page is the last (a link, token or flag), so no request for
    /// an empty page is needed. Page numbers and offsets learn it only from a short page, which
    /// is empty when the total is a multiple of the page size.
    pub knows_the_end: bool,
    /// The endpoint also serves records dated after "now" (`future_records`), after the corpus
    /// ones; this is their cursor field.
    pub future_field: Option<&'static str>,
}

fn tickets_in_export_order() -> Vec<Value> {
    sorted(
        corpus("tickets.json"),
        &[("updated_at", true), ("id", true)],
    )
}

/// Every style of the fake API, with page sizes that split each corpus into several pages.
pub fn styles() -> Vec<Style> {
    vec![
        Style {
            name: "link_header (GitHub issues)",
            auth: bearer,
            request: |c| c.get("/repos/octo/hello/issues").query("per_page", 7),
            pagination: Pagination::LinkHeader,
            records_path: "",
            expected: || {
                let issues = corpus("issues.json")
                    .into_iter()
                    .filter(|i| i["repository_owner"] == "octo" && i["repository_name"] == "hello")
                    .collect();
                sorted(issues, &[("created_at", false)])
            },
            knows_the_end: true,
            future_field: None,
        },
        Style {
            name: "page_number (users)",
            auth: bearer,
            request: |c| c.get("/users").query("per_page", 7),
            pagination: Pagination::page_number("page", Some(7)),
            records_path: "users",
            expected: || sorted(corpus("users.json"), &[("id", true)]),
            knows_the_end: false,
            future_field: None,
        },
        Style {
            name: "offset/limit (events)",
            auth: api_key,
            request: |c| c.get("/events"),
            pagination: Pagination::offset("offset", "limit", 9),
            records_path: "events",
            expected: || sorted(corpus("events.json"), &[("created_at", true)]),
            knows_the_end: false,
            future_field: None,
        },
        Style {
            name: "opaque cursor (messages)",
            auth: bearer,
            request: |c| c.get("/messages").query("limit", 8),
            pagination: Pagination::cursor("response_metadata.next_cursor", "cursor"),
            records_path: "messages",
            expected: || sorted(corpus("messages.ndjson"), &[("created_at", true)]),
            knows_the_end: true,
            future_field: None,
        },
        Style {
            name: "starting_after + has_more (Stripe customers)",
            auth: bearer,
            request: |c| c.get("/v1/customers").query("limit", 8),
            pagination: Pagination::stripe(),
            records_path: "data",
            expected: || sorted(corpus("customers.json"), &[("created", false)]),
            knows_the_end: true,
            future_field: None,
        },
        Style {
            name: "paging.next.after (HubSpot contacts)",
            auth: bearer,
            request: |c| c.get("/crm/v3/objects/contacts").query("limit", 9),
            pagination: Pagination::cursor("paging.next.after", "after"),
            records_path: "results",
            // `archived` defaults to false on this endpoint.
            expected: || {
                let live = corpus("contacts.json")
                    .into_iter()
                    .filter(|c| c["archived"] == false)
                    .collect();
                sorted(live, &[("id", true)])
            },
            knows_the_end: true,
            future_field: None,
        },
        Style {
            name: "after_cursor + end_of_stream (Zendesk cursor export)",
            auth: basic,
            request: |c| {
                c.get("/api/v2/incremental/tickets/cursor.json")
                    .query("start_time", 0)
                    .query("per_page", 10)
            },
            // `after_url` is what Zendesk tells clients to follow: it carries the cursor alone.
            pagination: Pagination::next_url("after_url").until_flag("end_of_stream"),
            records_path: "tickets",
            expected: tickets_in_export_order,
            knows_the_end: true,
            future_field: Some("updated_at"),
        },
        Style {
            name: "start_time/end_time/next_page (Zendesk time export)",
            auth: basic,
            request: |c| {
                c.get("/api/v2/incremental/tickets.json")
                    .query("start_time", 0)
                    .query("per_page", 10)
            },
            pagination: Pagination::next_url("next_page").until_flag("end_of_stream"),
            records_path: "tickets",
            expected: tickets_in_export_order,
            knows_the_end: true,
            future_field: Some("updated_at"),
        },
    ]
}

pub fn style(prefix: &str) -> Style {
    styles()
        .into_iter()
        .find(|s| s.name.starts_with(prefix))
        .unwrap()
}

impl Style {
    pub fn pages(&self, client: &HttpClient) -> Pages {
        (self.request)(client).pages(self.pagination.clone(), self.records_path)
    }

    /// Checks that `served` is the expected corpus records in order, each once, followed only
    /// by the endpoint's future records (when it has them).
    pub fn check(&self, served: &[Value], started: SystemTime) {
        let expected = (self.expected)();
        assert!(
            served.len() >= expected.len(),
            "{}: {} records served, {} expected",
            self.name,
            served.len(),
            expected.len()
        );
        let (corpus_part, future) = served.split_at(expected.len());
        assert_eq!(ids(corpus_part), ids(&expected), "{}: order", self.name);
        assert_eq!(corpus_part, &expected[..], "{}: records", self.name);
        match self.future_field {
            None => assert!(future.is_empty(), "{}: extra {future:?}", self.name),
            Some(field) => {
                assert!(!future.is_empty(), "{}: no future records", self.name);
                let known: BTreeSet<String> = ids(&expected).iter().map(Value::to_string).collect();
                let started: chrono::DateTime<chrono::Utc> = started.into();
                for record in future {
                    assert!(!known.contains(&record["id"].to_string()), "{record}");
                    let at: chrono::DateTime<chrono::Utc> =
                        record[field].as_str().unwrap().parse().unwrap();
                    assert!(at > started, "{}: not a future record: {record}", self.name);
                }
                assert_eq!(
                    future,
                    &sorted(future.to_vec(), &[(field, true), ("id", true)])[..],
                    "{}: future records out of order",
                    self.name
                );
            }
        }
    }
}

/// The query keys of a logged request, as a set.
fn keys(request: &LoggedRequest) -> BTreeSet<&str> {
    request.query_keys.iter().map(String::as_str).collect()
}

#[test]
fn every_pagination_style_yields_every_record_once_in_order() {
    let started = SystemTime::now();
    for style in styles() {
        // A simulator per style, so its request log holds this walk alone.
        let sim = start();
        let http = client(&sim, (style.auth)());
        let pages = all_pages(style.pages(&http));
        let served: Vec<Value> = pages.iter().flat_map(|p| p.records.clone()).collect();
        style.check(&served, started);

        let log = sim.request_log();
        assert_eq!(
            log.len(),
            pages.len(),
            "{}: one request per page",
            style.name
        );
        assert!(log.iter().all(|r| r.status == Some(200)), "{}", style.name);
        assert!(pages.len() >= 3, "{}: the walk spans pages", style.name);
        let (last, full) = pages.split_last().unwrap();
        assert!(full.iter().all(|p| !p.records.is_empty()), "{}", style.name);
        if style.knows_the_end {
            assert!(
                !last.records.is_empty(),
                "{}: a request was made for an empty page after the end",
                style.name
            );
        }
    }
}

#[test]
fn zendesk_exports_follow_the_urls_they_are_given() {
    let sim = start();
    let http = client(&sim, basic());

    // Cursor export: after the first request, `after_url` carries the cursor (which holds the
    // start time) and the page size, nothing else.
    let cursor = style("after_cursor");
    let pages = all_pages(cursor.pages(&http));
    assert!(pages.last().unwrap().body["end_of_stream"] == true);
    assert!(
        pages[..pages.len() - 1]
            .iter()
            .all(|p| p.body["end_of_stream"] == false)
    );
    let log = sim.request_log();
    assert_eq!(keys(&log[0]), BTreeSet::from(["start_time", "per_page"]));
    for later in &log[1..pages.len()] {
        assert_eq!(
            keys(later),
            BTreeSet::from(["cursor", "per_page"]),
            "{later}"
        );
    }

    // Time export: each page starts at the previous page's `end_time`.
    let time = style("start_time");
    let pages = all_pages(time.pages(&http));
    for pair in pages.windows(2) {
        let url = url::Url::parse(&pair[1].response.url_redacted()).unwrap();
        let start_time = url
            .query_pairs()
            .find(|(k, _)| k == "start_time")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        assert_eq!(start_time, pair[0].body["end_time"].to_string());
        assert_eq!(pair[0].body["count"], pair[0].records.len());
    }
    assert!(pages.last().unwrap().body["end_of_stream"] == true);
}

#[test]
fn stopping_early_makes_no_further_request() {
    for style in styles() {
        let sim = start();
        let http = client(&sim, (style.auth)());
        let mut pages = style.pages(&http);
        let first = pages.next().unwrap().unwrap();
        drop(pages);
        assert_eq!(
            sim.request_log().len(),
            1,
            "{}: first page only",
            style.name
        );

        // As many records as the first page holds need that page alone; one more needs the
        // second page, and nothing beyond.
        let n = first.records.len();
        let some = style.pages(&http).records().take(n).count();
        assert_eq!((some, sim.request_log().len()), (n, 2), "{}", style.name);
        let more = style.pages(&http).records().take(n + 1).count();
        assert_eq!(
            (more, sim.request_log().len()),
            (n + 1, 4),
            "{}",
            style.name
        );
    }
}
