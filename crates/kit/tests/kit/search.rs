//! The by-value strategy over a search endpoint (HubSpot's `POST .../search`: the filter and
//! the sort in a JSON body, the next page an offset into the results): each page is asked for
//! by value, so a record edited during the read shifts nothing, ties larger than a page are
//! paged by key, and the search's cap on results never matters.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use lakeflow_connect::{Offset, Record};
use lakeflow_http::{HttpClient, HttpConfig, Pages, Pagination, RequestBuilder};
use lakeflow_kit::ascending::Ascending;
use lakeflow_kit::by_value::{Query, read_by_value};
use lakeflow_kit::{PageSource, ReadCtx};
use lakeflow_simulator::{RunningSimulator, Simulator};
use serde_json::{Value, json};

use crate::common::{horizon, settings};

/// At most 5 results per query, 2 a page; contacts can be edited (stamped at the spec's `now`,
/// after the corpus).
const SPEC: &str = r#"
name: search
now: "2024-06-01T10:00:30Z"
endpoints:
  - path: /crm/v3/objects/contacts/search
    method: POST
    corpus: contacts.json
    search: { max_results: 5, default_limit: 2, max_limit: 2 }
  - path: /crm/v3/objects/contacts/{id}
    method: PATCH
    corpus: contacts.json
    single: { field: id }
    write: { stamp: [updatedAt, properties.lastmodifieddate] }
"#;

/// Contacts 101..=109, each modified at the second `second(id)` of a minute.
fn contacts_at(second: &dyn Fn(u32) -> u32) -> String {
    let records: Vec<Value> = (101..=109)
        .map(|id: u32| {
            let at = format!("2024-06-01T10:00:0{}.000Z", second(id));
            json!({"id": id.to_string(), "updatedAt": at,
                "properties": {"lastmodifieddate": at, "hs_object_id": id.to_string()}})
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

/// How a read goes: its batch size and lookback, and how the server takes two of its queries
/// (one that ignores the sort of a tie query answers it `DESCENDING`; one that reads `GT` as
/// `GTE` answers an exclusive query as `GTE`).
struct Run {
    max_records: usize,
    lookback: chrono::TimeDelta,
    tie_direction: &'static str,
    exclusive: &'static str,
}

const RUN: Run = Run {
    max_records: 100,
    lookback: chrono::TimeDelta::zero(),
    tie_direction: "ASCENDING",
    exclusive: "GT",
};

/// Reads batches until the offset stops moving; the ids delivered, in order.
fn run(sim: &RunningSimulator, how: &Run) -> lakeflow_connect::Result<Vec<String>> {
    let source = Search {
        client: HttpClient::new(HttpConfig::default().base_url(sim.base_url())).unwrap(),
    };
    let ctx = ReadCtx {
        table: "contacts",
        source: &source,
        settings: lakeflow_kit::ReadSettings {
            lookback: how.lookback,
            ..settings(how.max_records)
        },
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
    let request = |query: &Query<'_>| {
        let filter = |property: &str, operator: &str, value: String| json!({"propertyName": property, "operator": operator, "value": value});
        let (filters, sort, direction) = match query {
            Query::From { since, inclusive } => {
                let operator = if *inclusive { "GTE" } else { how.exclusive };
                let filters: Vec<Value> = since
                    .iter()
                    .map(|at| {
                        filter(
                            "lastmodifieddate",
                            operator,
                            at.timestamp_millis().to_string(),
                        )
                    })
                    .collect();
                (filters, "lastmodifieddate", "ASCENDING")
            }
            Query::Tie { at, after } => {
                let mut filters = vec![filter(
                    "lastmodifieddate",
                    "EQ",
                    at.timestamp_millis().to_string(),
                )];
                if let Some(after) = after {
                    filters.push(filter(
                        "hs_object_id",
                        "GT",
                        after.as_str().unwrap().to_owned(),
                    ));
                }
                (filters, "hs_object_id", how.tie_direction)
            }
        };
        source
            .client
            .request("POST", "/crm/v3/objects/contacts/search")
            .json(&json!({
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": sort, "direction": direction}],
                "limit": 2,
            }))
            .idempotent()
    };
    let (mut delivered, mut at): (Vec<String>, Option<Offset>) = (Vec::new(), None);
    for _ in 0..30 {
        let (records, end): (Vec<Record>, _) =
            read_by_value(&asc, at.as_ref(), "results", &request)?;
        delivered.extend(records.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        if end == at {
            return Ok(delivered);
        }
        at = end;
    }
    panic!("the search never caught up: {delivered:?}");
}

fn serve(contacts: &str) -> RunningSimulator {
    Simulator::from_embedded(SPEC, &[("contacts.json", contacts)])
        .unwrap()
        .start()
        .unwrap()
}

fn ids(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|id| id.to_string()).collect()
}

#[test]
fn a_search_is_read_page_by_page_by_value_past_its_cap() {
    // 104, 105 and 106 in one second; nine contacts where one query lists at most five.
    let sim = serve(&contacts_at(&|id| {
        if (105..=106).contains(&id) {
            4
        } else {
            id - 100
        }
    }));
    for max_records in [100, 2, 3] {
        let how = Run { max_records, ..RUN };
        assert_eq!(
            run(&sim, &how).unwrap(),
            ids(101..=109),
            "batches of {max_records}"
        );
    }
    let bodies = sim.request_log();
    assert!(
        bodies.iter().all(|r| r.status == Some(200)),
        "no query past the cap"
    );
}

#[test]
fn a_tie_larger_than_a_page_is_paged_by_key() {
    // 102..=108 share one second: seven records, two a page, five a query.
    let sim = serve(&contacts_at(&|id| {
        if (102..=108).contains(&id) {
            2
        } else {
            id - 100
        }
    }));
    for max_records in [100, 3] {
        let how = Run { max_records, ..RUN };
        assert_eq!(
            run(&sim, &how).unwrap(),
            ids(101..=109),
            "batches of {max_records}"
        );
    }
}

#[test]
fn a_tie_larger_than_a_page_within_the_lookback_is_read_again_whole() {
    let sim = serve(&contacts_at(&|id| {
        if (102..=108).contains(&id) {
            2
        } else {
            id - 100
        }
    }));
    let how = Run {
        lookback: chrono::TimeDelta::minutes(1),
        ..RUN
    };
    let delivered = run(&sim, &how).unwrap();
    // Every read re-delivers the minute before its position: the first read has everything,
    // in order, and later ones only what they delivered before.
    assert_eq!(delivered[..9], ids(101..=109), "{delivered:?}");
    assert!(delivered[9..].iter().all(|id| ids(101..=109).contains(id)));
}

#[test]
fn a_server_that_takes_after_as_at_or_after_fails_loudly_instead_of_looping() {
    // After the tie, the read asks for what comes after its value; a server that sends the tie
    // again would have the read page it forever.
    let sim = serve(&contacts_at(&|id| {
        if (102..=108).contains(&id) {
            2
        } else {
            id - 100
        }
    }));
    let how = Run {
        exclusive: "GTE",
        ..RUN
    };
    let err = run(&sim, &how).unwrap_err().to_string();
    assert!(
        err.contains("asked for entries with `updatedAt` after 2024-06-01T10:00:02Z"),
        "{err}"
    );
}

#[test]
fn a_tie_query_the_server_does_not_sort_by_key_fails_loudly() {
    let sim = serve(&contacts_at(&|id| {
        if (102..=108).contains(&id) {
            2
        } else {
            id - 100
        }
    }));
    let how = Run {
        tie_direction: "DESCENDING",
        ..RUN
    };
    let err = run(&sim, &how).unwrap_err().to_string();
    assert!(
        err.contains("table `contacts`")
            && err.contains("keys in ascending order, but \"107\" came after \"108\""),
        "{err}"
    );
}

#[test]
fn a_record_edited_between_two_pages_shifts_nothing() {
    // When the first page (101, 102) has been served, 101 is edited: it moves to the end of the
    // results, and 103 moves onto the first page. A read following the offset `after` would go
    // on from the third result (now 104) and never see 103.
    let base = Arc::new(OnceLock::<String>::new());
    let edited = Arc::new(AtomicBool::new(false));
    let (url, done) = (Arc::clone(&base), Arc::clone(&edited));
    let sim = Simulator::from_embedded(SPEC, &[("contacts.json", &contacts_at(&|id| id - 100))])
        .unwrap()
        .on_request(move |request| {
            // The edit is itself a request: the flag is set before it is sent.
            if request.path.ends_with("/search") && !done.swap(true, Ordering::SeqCst) {
                let client =
                    HttpClient::new(HttpConfig::default().base_url(url.get().unwrap())).unwrap();
                client
                    .request("PATCH", "/crm/v3/objects/contacts/101")
                    .json(&json!({"properties": {"firstname": "Ada"}}))
                    .send()
                    .unwrap();
            }
        })
        .start()
        .unwrap();
    base.set(sim.base_url()).unwrap();
    let delivered = run(&sim, &RUN).unwrap();
    let mut expected = ids(101..=109);
    expected.push("101".to_owned());
    assert_eq!(
        delivered, expected,
        "103 is not skipped; 101 comes again, edited"
    );
    assert!(edited.load(Ordering::SeqCst));
}
