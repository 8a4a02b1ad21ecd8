//! The ascending strategy over a search endpoint (HubSpot's `POST .../search`: the filter and
//! the sort in a JSON body, `paging.next.after` sent back in it, and at most a few results per
//! query): a query cut at its cap inside a run of equal cursor values loses nothing and repeats
//! nothing, because the listing says it was cut short.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Offset, Record};
use lakeflow_http::{HttpClient, HttpConfig, Page, Pages, Pagination, RequestBuilder};
use lakeflow_kit::ascending::{Ascending, Listing, read_since_at};
use lakeflow_kit::{PageSource, ReadCtx};
use lakeflow_simulator::{RunningSimulator, Simulator};
use serde_json::{Value, json};

use crate::common::{horizon, settings};

/// At most 5 results per query, 2 a page.
const SPEC: &str = r#"
name: search
endpoints:
  - path: /crm/v3/objects/contacts/search
    method: POST
    corpus: contacts.json
    search: { max_results: 5, default_limit: 2, max_limit: 2 }
"#;

/// Contacts 101..=109 modified a second apart, 104, 105 and 106 in the same second: the first
/// query's cap (5 results) falls inside that run.
fn contacts() -> String {
    contacts_at(&|id| {
        if (105..=106).contains(&id) {
            4
        } else {
            id - 100
        }
    })
}

/// Contacts 101..=109, each modified at the second `second(id)` of a minute.
fn contacts_at(second: &dyn Fn(u32) -> u32) -> String {
    let records: Vec<Value> = (101..=109)
        .map(|id: u32| {
            let second = second(id);
            let at = format!("2024-06-01T10:00:0{second}.000Z");
            json!({"id": id.to_string(), "properties": {"lastmodifieddate": at}, "updatedAt": at})
        })
        .collect();
    serde_json::to_string(&records).unwrap()
}

struct Search {
    client: HttpClient,
}

impl PageSource for Search {
    fn service(&self) -> &str {
        "the search API"
    }

    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        let after = Pagination::BodyCursor {
            token_path: "paging.next.after".into(),
            field: "after".into(),
        };
        request.pages(after, records_path)
    }
}

/// Reads batches until the offset stops moving; the ids delivered, in order, and the reads made.
fn run(sim: &RunningSimulator, cut_short: &dyn Fn(&Page, usize) -> bool) -> (Vec<String>, usize) {
    try_run(sim, cut_short, None).unwrap()
}

/// As [`run`], stopping at the first error.
fn try_run(
    sim: &RunningSimulator,
    cut_short: &dyn Fn(&Page, usize) -> bool,
    max_listed: Option<usize>,
) -> lakeflow_connect::Result<(Vec<String>, usize)> {
    let source = Search {
        client: HttpClient::new(HttpConfig::default().base_url(sim.base_url())).unwrap(),
    };
    let ctx = ReadCtx {
        table: "contacts",
        source: &source,
        settings: settings(100),
        horizon: horizon(),
    };
    let asc = Ascending {
        ctx: &ctx,
        cursor: "updatedAt",
        key: "id",
        keep: |_| true,
        filters_since: true,
        decorate: &|_| {},
    };
    let request = |since: Option<DateTime<Utc>>| {
        let filters = since.map_or_else(Vec::new, |since| {
            vec![
                json!({"propertyName": "lastmodifieddate", "operator": "GTE",
                        "value": since.timestamp_millis().to_string()}),
            ]
        });
        source
            .client
            .request("POST", "/crm/v3/objects/contacts/search")
            .json(&json!({
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                "limit": 2,
            }))
            .idempotent()
    };
    let listing = Listing {
        records_path: "results",
        cut_short,
        step_back: chrono::TimeDelta::zero(),
        max_listed,
    };
    let (mut delivered, mut at, mut reads): (Vec<String>, Option<Offset>, usize) =
        (Vec::new(), None, 0);
    for _ in 0..20 {
        let (records, end): (Vec<Record>, _) =
            read_since_at(&asc, at.as_ref(), &listing, &request)?;
        reads += 1;
        delivered.extend(records.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        if end == at {
            return Ok((delivered, reads));
        }
        at = end;
    }
    panic!("the search never caught up: {delivered:?}");
}

fn serve() -> RunningSimulator {
    serve_corpus(&contacts())
}

fn serve_corpus(contacts: &str) -> RunningSimulator {
    Simulator::from_embedded(SPEC, &[("contacts.json", contacts)])
        .unwrap()
        .start()
        .unwrap()
}

/// Whether a search page says more matched than were listed.
fn said_total(page: &Page, listed: usize) -> bool {
    page.body["total"]
        .as_u64()
        .is_some_and(|total| total > listed as u64)
}

#[test]
fn a_search_cut_at_its_cap_inside_a_tie_loses_nothing_and_repeats_nothing() {
    let sim = serve();
    let (delivered, reads) = run(&sim, &said_total);
    let all: Vec<String> = (101..=109).map(|id: u32| id.to_string()).collect();
    assert_eq!(delivered, all);
    assert!(reads >= 3, "every query stops at 5 results: {reads} reads");
}

#[test]
fn a_listing_taken_as_whole_when_it_was_cut_would_lose_the_rest_of_the_tie() {
    // Why `cut_short` matters: taking the capped listing as complete stores the tie's second
    // as done, and 106 (listed after the cap) is never delivered.
    let sim = serve();
    let (delivered, _) = run(&sim, &|_, _| false);
    assert!(!delivered.contains(&"106".to_owned()), "{delivered:?}");
}

#[test]
fn a_tie_larger_than_the_cap_fails_loudly_instead_of_stalling_or_skipping() {
    // 102..=108 share one second: seven records, and a query returns at most five.
    let sim = serve_corpus(&contacts_at(&|id| {
        if (102..=108).contains(&id) {
            2
        } else {
            id - 100
        }
    }));
    let err = try_run(&sim, &said_total, None).unwrap_err().to_string();
    assert!(
        err.contains("more records share the cursor value 2024-06-01T10:00:02Z")
            && err.contains("`contacts`"),
        "{err}"
    );
}

#[test]
fn a_listing_that_knows_its_cap_stops_there_and_goes_on_from_the_last_value() {
    // No `total` to go by: the cap alone (5 results a query) cuts each query short.
    let sim = serve();
    let (delivered, reads) = try_run(&sim, &|_, _| false, Some(5)).unwrap();
    let all: Vec<String> = (101..=109).map(|id: u32| id.to_string()).collect();
    assert_eq!(delivered, all);
    assert!(reads >= 3, "every query stops at 5 results: {reads} reads");
}
