//! Each pagination style walked against a server holding 7 records in pages of 3, and stopped
//! early to prove laziness.

use lakeflow_http::{Error, Pagination};
use serde_json::{Value, json};

use crate::common::{Recorded, Reply, TestServer, client};

const TOTAL: u64 = 7;
const PAGE: u64 = 3;

/// Records with ids `from+1 ..= min(from+PAGE, TOTAL)`.
fn records(from: u64) -> Vec<Value> {
    (from + 1..=(from + PAGE).min(TOTAL))
        .map(|id| json!({"id": format!("obj_{id}"), "n": id}))
        .collect()
}

fn number(r: &Recorded, name: &str, default: u64) -> u64 {
    r.query(name).map_or(default, |v| v.parse().unwrap())
}

fn ids(records: &[Value]) -> Vec<u64> {
    records.iter().map(|r| r["n"].as_u64().unwrap()).collect()
}

fn walk(pages: lakeflow_http::Pages) -> Vec<u64> {
    let records: Vec<Value> = pages
        .records()
        .collect::<lakeflow_http::Result<_>>()
        .unwrap();
    ids(&records)
}

/// Pages of `GET /items` linked by `Link` headers.
fn linked_pages() -> TestServer {
    TestServer::handler(linked_reply)
}

/// The reply of [`linked_pages`] to `r`.
fn linked_reply(r: &Recorded) -> Reply {
    let page = number(r, "page", 1);
    let mut reply = Reply::json(200, &Value::Array(records((page - 1) * PAGE)));
    if page * PAGE < TOTAL {
        // Relative link, resolved against the page's URL; the original query is replaced.
        let next = format!("/items?per_page=3&page={}", page + 1);
        reply = reply.header(
            "Link",
            format!("<{next}>; rel=\"next\", </items?page=3>; rel=\"last\""),
        );
    }
    reply
}

#[test]
fn link_header() {
    let server = linked_pages();
    let http = client(&server);
    let pages = http
        .get("/items")
        .query("per_page", 3)
        .pages(Pagination::LinkHeader, "");
    assert_eq!(walk(pages), (1..=TOTAL).collect::<Vec<_>>());
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            "/items?per_page=3",
            "/items?per_page=3&page=2",
            "/items?per_page=3&page=3"
        ]
    );

    // Four records need two pages; the third is never requested.
    let early: Vec<_> = http
        .get("/items")
        .pages(Pagination::LinkHeader, "")
        .records()
        .take(4)
        .collect();
    assert_eq!(early.len(), 4);
    assert_eq!(server.count(), 3 + 2);
}

#[test]
fn cursor_token() {
    let server = TestServer::handler(|r| {
        let from = r
            .query("cursor")
            .map_or(0, |c| c.trim_start_matches('c').parse().unwrap());
        let next = if from + PAGE < TOTAL {
            json!(format!("c{}", from + PAGE))
        } else {
            Value::Null
        };
        Reply::json(
            200,
            &json!({"data": records(from), "meta": {"next_cursor": next}}),
        )
    });
    let http = client(&server);
    let pagination = Pagination::cursor("meta.next_cursor", "cursor");
    let mut pages = http.get("/events").pages(pagination.clone(), "data");
    let first = pages.next().unwrap().unwrap();
    assert_eq!((first.number, ids(&first.records)), (1, vec![1, 2, 3]));
    // The rest of the body stays available, records taken out.
    assert_eq!(first.body["meta"]["next_cursor"], "c3");
    assert_eq!(first.body["data"], Value::Null);
    assert_eq!(first.response.status(), 200);
    drop(pages);
    assert_eq!(
        server.count(),
        1,
        "stopping after one page makes no other request"
    );

    assert_eq!(
        walk(http.get("/events").pages(pagination, "data")),
        (1..=TOTAL).collect::<Vec<_>>()
    );
    let cursors: Vec<Option<String>> = server.requests()[1..]
        .iter()
        .map(|r| r.query("cursor"))
        .collect();
    assert_eq!(cursors, [None, Some("c3".into()), Some("c6".into())]);
}

#[test]
fn page_number() {
    let server = TestServer::handler(|r| {
        let page = number(r, "page", 1);
        Reply::json(
            200,
            &json!({"results": {"items": records((page - 1) * PAGE)}}),
        )
    });
    let http = client(&server);
    // With the page size known, the short third page is the last.
    let sized = http
        .get("/tickets")
        .pages(Pagination::page_number("page", Some(PAGE)), "results.items");
    assert_eq!(walk(sized), (1..=TOTAL).collect::<Vec<_>>());
    assert_eq!(server.count(), 3);
    // Without it, the walk ends at the first empty page.
    let unsized_pages = http
        .get("/tickets")
        .pages(Pagination::page_number("page", None), "results.items");
    assert_eq!(walk(unsized_pages).len(), 7);
    let pages: Vec<u64> = server.requests()[3..]
        .iter()
        .map(|r| number(r, "page", 0))
        .collect();
    assert_eq!(pages, [1, 2, 3, 4]);

    // The first three records come from page 1 alone.
    let three: Vec<_> = http
        .get("/tickets")
        .pages(Pagination::page_number("page", Some(PAGE)), "results.items")
        .records()
        .take(3)
        .collect();
    assert_eq!(three.len(), 3);
    assert_eq!(server.count(), 7 + 1);
}

#[test]
fn offset_and_limit() {
    let server = TestServer::handler(|r| {
        let (offset, limit) = (number(r, "offset", 99), number(r, "limit", 99));
        assert_eq!(limit, PAGE);
        Reply::json(200, &json!({"data": records(offset)}))
    });
    let http = client(&server);
    let pages = http
        .get("/contacts")
        .pages(Pagination::offset("offset", "limit", PAGE), "data");
    assert_eq!(walk(pages), (1..=TOTAL).collect::<Vec<_>>());
    let offsets: Vec<u64> = server
        .requests()
        .iter()
        .map(|r| number(r, "offset", 99))
        .collect();
    assert_eq!(offsets, [0, 3, 6]);

    let mut pages = http
        .get("/contacts")
        .pages(Pagination::offset("offset", "limit", PAGE), "data");
    assert_eq!(ids(&pages.next().unwrap().unwrap().records), [1, 2, 3]);
    drop(pages);
    assert_eq!(server.count(), 4);
}

#[test]
fn has_more_and_last_id() {
    let server = TestServer::handler(|r| {
        let from = r
            .query("starting_after")
            .map_or(0, |id| id.trim_start_matches("obj_").parse().unwrap());
        Reply::json(
            200,
            &json!({"object": "list", "data": records(from), "has_more": from + PAGE < TOTAL}),
        )
    });
    let http = client(&server);
    let pages = http
        .get("/v1/customers")
        .query("limit", PAGE)
        .pages(Pagination::stripe(), "data");
    assert_eq!(walk(pages), (1..=TOTAL).collect::<Vec<_>>());
    let after: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.query("starting_after"))
        .collect();
    assert_eq!(after, [None, Some("obj_3".into()), Some("obj_6".into())]);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.query("limit").as_deref() == Some("3"))
    );

    let first: Vec<_> = http
        .get("/v1/customers")
        .pages(Pagination::stripe(), "data")
        .take(1)
        .collect();
    assert_eq!(first.len(), 1);
    assert_eq!(server.count(), 4);
}

#[test]
fn next_url_in_the_body() {
    let base = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let server = TestServer::handler({
        let base = base.clone();
        move |r| {
            let page = number(r, "page", 1);
            let next = (page * PAGE < TOTAL).then(|| {
                format!(
                    "{}/api/v2/tickets.json?page={}",
                    base.get().unwrap(),
                    page + 1
                )
            });
            Reply::json(
                200,
                &json!({"tickets": records((page - 1) * PAGE), "next_page": next}),
            )
        }
    });
    base.set(server.url("")).unwrap();
    let http = client(&server);
    let pages = http
        .get("/api/v2/tickets.json")
        .pages(Pagination::next_url("next_page"), "tickets");
    assert_eq!(walk(pages), (1..=TOTAL).collect::<Vec<_>>());
    assert_eq!(server.requests()[2].target, "/api/v2/tickets.json?page=3");

    let mut pages = http
        .get("/api/v2/tickets.json")
        .pages(Pagination::next_url("next_page"), "tickets");
    assert_eq!(pages.next().unwrap().unwrap().number, 1);
    drop(pages);
    assert_eq!(server.count(), 3 + 1);
}

#[test]
fn errors_end_the_walk() {
    let server = TestServer::script(vec![
        Reply::json(200, &json!({"data": records(0), "next": "c3"})),
        Reply::text(404, "gone"),
        Reply::json(200, &json!({"data": {"not": "an array"}})),
    ]);
    let http = client(&server);
    let mut pages = http
        .get("/x")
        .pages(Pagination::cursor("next", "cursor"), "data");
    assert!(pages.next().unwrap().is_ok());
    let err = pages.next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Status { status: 404, .. }), "{err:?}");
    assert!(pages.next().is_none());

    let err = http
        .get("/y")
        .pages(Pagination::Single, "data")
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path: Some(p), .. } if p == "data"),
        "{err:?}"
    );
    assert!(err.to_string().contains("found an object"), "{err}");
    assert_eq!(server.count(), 3);
}

#[test]
fn cursor_in_the_request_body() {
    // HubSpot's search: `paging.next.after` goes back as the JSON body's `after`, the rest of
    // the body (filters, sorts) unchanged.
    let server = TestServer::handler(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["sorts"], json!(["hs_lastmodifieddate"]), "kept");
        let from = body["after"]
            .as_str()
            .map_or(0, |after| after.parse().unwrap());
        let mut answer = json!({"total": TOTAL, "results": records(from)});
        if from + PAGE < TOTAL {
            answer["paging"] = json!({"next": {"after": (from + PAGE).to_string()}});
        }
        Reply::json(200, &answer)
    });
    let http = client(&server);
    let pagination = Pagination::BodyCursor {
        token_path: "paging.next.after".into(),
        field: "after".into(),
    };
    let search = http
        .request("POST", "/crm/v3/objects/contacts/search")
        .json(&json!({"sorts": ["hs_lastmodifieddate"], "limit": 3}))
        .idempotent();
    assert_eq!(
        walk(search.pages(pagination, "results")),
        (1..=TOTAL).collect::<Vec<_>>()
    );
    assert_eq!(server.count(), 3);
}

#[test]
fn a_body_cursor_needs_a_json_object_body() {
    let server = TestServer::handler(|_| {
        Reply::json(
            200,
            &json!({"results": records(0), "paging": {"next": {"after": "3"}}}),
        )
    });
    let http = client(&server);
    let pagination = Pagination::BodyCursor {
        token_path: "paging.next.after".into(),
        field: "after".into(),
    };
    let bare = http
        .request("POST", "/search")
        .body(b"[1]".to_vec(), "application/json")
        .idempotent();
    let pages: Vec<_> = bare.pages(pagination, "results").collect();
    assert!(pages[0].is_ok());
    let err = pages[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("not a JSON object"), "{err}");
    assert_eq!(server.count(), 1, "the second page is never sent");
}

fn linked(server: &TestServer) -> lakeflow_http::Pages {
    client(server)
        .get("/items")
        .query("per_page", 3)
        .pages(Pagination::LinkHeader, "")
}

#[test]
fn reading_ahead_delivers_every_page_in_order_and_hands_back_the_rest() {
    let plain = linked_pages();
    let expected = walk(linked(&plain));
    let ahead = linked_pages();
    // Read ahead after the first page only: the rest is fetched as the reader pulls it.
    let pages = linked(&ahead).read_ahead(|page| page.number < 2);
    assert_eq!(walk(pages), expected);
    let targets =
        |s: &TestServer| -> Vec<String> { s.requests().into_iter().map(|r| r.target).collect() };
    assert_eq!(targets(&ahead), targets(&plain));
}

#[test]
fn reading_ahead_asks_for_no_page_its_rule_does_not_want() {
    let server = linked_pages();
    let mut pages = linked(&server).read_ahead(|_| false);
    let first = pages.next().unwrap().unwrap();
    assert_eq!(ids(&first.records), [1, 2, 3]);
    drop(pages);
    assert_eq!(
        server.requests().len(),
        1,
        "the second page was never asked for"
    );
}

#[test]
fn reading_ahead_asks_for_the_next_page_while_the_reader_holds_one() {
    let (tell, asked) = std::sync::mpsc::channel();
    let tell = std::sync::Mutex::new(tell);
    let server = TestServer::handler(move |r| {
        let _ = tell.lock().unwrap().send(number(r, "page", 1));
        linked_reply(r)
    });
    let mut pages = linked(&server).read_ahead(|_| true);
    let first = pages.next().unwrap().unwrap();
    assert_eq!(asked.recv().unwrap(), 1);
    // Waits on the request itself; the bound only turns a hang into a failure.
    let second = asked.recv_timeout(std::time::Duration::from_secs(300));
    assert_eq!(
        second,
        Ok(2),
        "page 2 was not requested while page 1 was held"
    );
    assert_eq!(ids(&first.records), [1, 2, 3]);
    let rest: Vec<u64> = pages.flat_map(|p| ids(&p.unwrap().records)).collect();
    assert_eq!(rest, [4, 5, 6, 7]);
}

#[test]
fn reading_ahead_ends_at_the_first_error() {
    let server = TestServer::script(vec![
        Reply::json(200, &json!([{"n": 1}])).header("Link", "</items?page=2>; rel=\"next\""),
        Reply::text(404, "gone"),
    ]);
    let mut pages = linked(&server).read_ahead(|_| true);
    assert!(pages.next().unwrap().is_ok());
    assert!(pages.next().unwrap().is_err());
    assert!(pages.next().is_none());
}
