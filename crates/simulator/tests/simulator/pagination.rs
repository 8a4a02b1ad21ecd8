//! Every pagination style, walked to the end, yields every record exactly once, in order.

use serde_json::Value;

use super::{API_KEY, BEARER, basic, corpus, get, ids, sorted_by, start_fake, start_inline};

#[test]
fn page_number_walks_every_user_once_in_id_order() {
    let sim = start_fake();
    let mut seen = Vec::new();
    for page in 1.. {
        let reply = get(
            &sim.url(&format!("/users?page={page}&per_page=7")),
            &[BEARER],
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["total_count"], 30);
        let users = reply.body["users"].as_array().unwrap().clone();
        let short = users.len() < 7;
        seen.extend(users);
        if short {
            break;
        }
        assert!(page < 10, "pagination does not end");
    }
    assert_eq!(
        ids(&seen, "id"),
        ids(&sorted_by(corpus("users.json"), "id", false), "id")
    );
    let beyond = get(&sim.url("/users?page=9&per_page=7"), &[BEARER]);
    assert_eq!(beyond.body["users"], Value::Array(vec![]));
}

/// `(url, rel)` pairs of a GitHub `Link` header.
fn links(header: Option<&str>) -> Vec<(String, String)> {
    header
        .unwrap_or_default()
        .split(", ")
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            let url = url.trim_start_matches('<').trim_end_matches('>').to_owned();
            let rel = rel
                .trim_start_matches("rel=\"")
                .trim_end_matches('"')
                .to_owned();
            (url, rel)
        })
        .collect()
}

#[test]
fn link_header_walks_every_issue_of_the_repository_newest_first() {
    let sim = start_fake();
    let mut url = sim.url("/repos/octo/hello/issues?per_page=7&state=open");
    let first = get(&url, &[BEARER]);
    let rels: Vec<String> = links(first.header("link"))
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(rels, ["next", "last"], "the first page links forward only");

    url = sim.url("/repos/octo/hello/issues?per_page=7");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let reply = get(&url, &[BEARER]);
        assert_eq!(reply.status, 200);
        seen.extend(reply.body.as_array().unwrap().iter().cloned());
        pages += 1;
        let links = links(reply.header("link"));
        if pages == 1 {
            let last = &links.iter().find(|(_, r)| r == "last").unwrap().0;
            assert!(last.ends_with("per_page=7&page=5"), "{last}");
        }
        match links.iter().find(|(_, rel)| rel == "next") {
            Some((next, _)) => {
                assert!(
                    next.starts_with(&sim.base_url()),
                    "links point at the simulator: {next}"
                );
                url.clone_from(next);
            }
            None => {
                let rels: Vec<&str> = links.iter().map(|(_, r)| r.as_str()).collect();
                assert_eq!(rels, ["prev", "first"], "the last page links backward only");
                break;
            }
        }
    }
    assert_eq!(pages, 5);
    let hello: Vec<Value> = corpus("issues.json")
        .into_iter()
        .filter(|i| i["repository_name"] == "hello")
        .collect();
    assert_eq!(
        ids(&seen, "id"),
        ids(&sorted_by(hello, "created_at", true), "id")
    );

    let single_page = get(&sim.url("/repos/octo/world/issues"), &[BEARER]);
    assert_eq!(single_page.body.as_array().unwrap().len(), 10);
    assert_eq!(
        single_page.header("link"),
        None,
        "no Link header when everything fits"
    );
}

#[test]
fn offset_walks_every_event_once_in_time_order() {
    let sim = start_fake();
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let reply = get(
            &sim.url(&format!("/events?offset={}&limit=9", seen.len())),
            &[API_KEY],
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["total"], 40);
        seen.extend(reply.body["events"].as_array().unwrap().iter().cloned());
        if reply.body["has_more"] == false {
            break;
        }
        assert!(seen.len() < 60);
    }
    assert_eq!(
        ids(&seen, "id"),
        ids(&sorted_by(corpus("events.json"), "created_at", false), "id")
    );
}

#[test]
fn opaque_cursor_walks_every_message_and_rejects_tampered_tokens() {
    let sim = start_fake();
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = get(
            &sim.url(&format!("/messages?limit=8&cursor={cursor}")),
            &[BEARER],
        );
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body["ok"], true,
            "extra fields sit next to the records"
        );
        seen.extend(reply.body["messages"].as_array().unwrap().iter().cloned());
        match &reply.body["response_metadata"]["next_cursor"] {
            Value::String(next) => cursor.clone_from(next),
            Value::Null => break,
            other => panic!("unexpected cursor {other}"),
        }
    }
    assert_eq!(
        ids(&seen, "id"),
        ids(
            &sorted_by(corpus("messages.ndjson"), "created_at", false),
            "id"
        )
    );

    let first = get(&sim.url("/messages?limit=8"), &[BEARER]);
    let token = first.body["response_metadata"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tampered = token.into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let reply = get(
        &sim.url(&format!(
            "/messages?cursor={}",
            String::from_utf8(tampered).unwrap()
        )),
        &[BEARER],
    );
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("invalid cursor"),
        "{}",
        reply.message()
    );
}

#[test]
fn starting_after_walks_every_customer_newest_first() {
    let sim = start_fake();
    let mut seen: Vec<Value> = Vec::new();
    let mut url = sim.url("/v1/customers?limit=8");
    loop {
        let reply = get(&url, &[BEARER]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["object"], "list");
        assert_eq!(reply.body["url"], "/v1/customers");
        let page = reply.body["data"].as_array().unwrap().clone();
        seen.extend(page.iter().cloned());
        if reply.body["has_more"] == false {
            break;
        }
        let last = page.last().unwrap()["id"].as_str().unwrap();
        url = sim.url(&format!("/v1/customers?limit=8&starting_after={last}"));
    }
    assert_eq!(
        ids(&seen, "id"),
        ids(&sorted_by(corpus("customers.json"), "created", true), "id")
    );
    let unknown = get(&sim.url("/v1/customers?starting_after=cus_9999"), &[BEARER]);
    assert_eq!(unknown.status, 400);
    assert!(unknown.message().contains("cus_9999"));
}

#[test]
fn next_after_walks_every_live_contact_through_links() {
    let sim = start_fake();
    let mut seen: Vec<Value> = Vec::new();
    let mut url = sim.url("/crm/v3/objects/contacts?limit=9");
    loop {
        let reply = get(&url, &[BEARER]);
        assert_eq!(reply.status, 200);
        seen.extend(reply.body["results"].as_array().unwrap().iter().cloned());
        if reply.body.get("paging").is_none() {
            break;
        }
        let after = reply.body["paging"]["next"]["after"].as_str().unwrap();
        let link = reply.body["paging"]["next"]["link"].as_str().unwrap();
        assert!(link.contains(&format!("after={after}")), "{link}");
        url = link.to_owned();
    }
    let live: Vec<Value> = corpus("contacts.json")
        .into_iter()
        .filter(|c| c["archived"] == false)
        .collect();
    assert_eq!(live.len(), 38);
    assert_eq!(ids(&seen, "id"), ids(&sorted_by(live, "id", false), "id"));
}

/// Tickets sorted by (updated_at, id), as the Zendesk exports walk them.
fn tickets_in_export_order() -> Vec<Value> {
    let mut tickets = corpus("tickets.json");
    tickets.sort_by(|a, b| {
        (a["updated_at"].as_str(), a["id"].as_i64())
            .cmp(&(b["updated_at"].as_str(), b["id"].as_i64()))
    });
    tickets
}

#[test]
fn export_cursor_walks_every_ticket_then_the_future_ones() {
    let sim = start_fake();
    let auth = basic();
    let headers = [(auth.0, auth.1.as_str())];
    let mut url = sim.url("/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=10");
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let reply = get(&url, &headers);
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["before_cursor"], Value::Null);
        seen.extend(reply.body["tickets"].as_array().unwrap().iter().cloned());
        let after_url = reply.body["after_url"].as_str().unwrap();
        assert!(
            !after_url.contains("start_time"),
            "the cursor carries the filters: {after_url}"
        );
        if reply.body["end_of_stream"] == true {
            break;
        }
        url = after_url.to_owned();
        assert!(seen.len() < 100);
    }
    let expected = tickets_in_export_order();
    assert_eq!(
        seen.len(),
        expected.len() + 2,
        "two future records follow the corpus"
    );
    assert_eq!(ids(&seen[..expected.len()], "id"), ids(&expected, "id"));
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for future in &seen[expected.len()..] {
        assert!(
            future["updated_at"].as_str().unwrap() > now.as_str(),
            "{future}"
        );
    }

    let missing = get(
        &sim.url("/api/v2/incremental/tickets/cursor.json"),
        &headers,
    );
    assert_eq!(missing.status, 400);
    assert!(missing.message().contains("start_time"));
    let forged = get(
        &sim.url("/api/v2/incremental/tickets/cursor.json?cursor=eyJzIjp7fX0"),
        &headers,
    );
    assert_eq!(forged.status, 400);
}

#[test]
fn time_export_walks_every_ticket_once_without_splitting_a_second() {
    let sim = start_fake();
    let auth = basic();
    let headers = [(auth.0, auth.1.as_str())];
    let mut url = sim.url("/api/v2/incremental/tickets.json?start_time=1&per_page=10");
    let mut seen: Vec<Value> = Vec::new();
    let mut grew = false;
    loop {
        let reply = get(&url, &headers);
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let page = reply.body["tickets"].as_array().unwrap();
        assert_eq!(reply.body["count"], page.len());
        grew |= page.len() > 10;
        seen.extend(page.iter().cloned());
        if reply.body["end_of_stream"] == true {
            break;
        }
        url = reply.body["next_page"].as_str().unwrap().to_owned();
        assert!(seen.len() < 100);
    }
    let expected = tickets_in_export_order();
    assert_eq!(ids(&seen[..expected.len()], "id"), ids(&expected, "id"));
    assert_eq!(seen.len(), expected.len() + 2);
    assert!(
        grew,
        "tickets 140 and 141 share a second across a page boundary"
    );

    let missing = get(&sim.url("/api/v2/incremental/tickets.json"), &headers);
    assert_eq!(missing.status, 400);
    assert!(
        missing.message().contains("start_time"),
        "{}",
        missing.message()
    );
}

const EXPORT_SPEC: &str = r#"
name: export
endpoints:
  - path: /export
    corpus: rows.json
    records_key: rows
    params:
      start_time: { role: cursor, required: true }
      per_page: { role: page_size, default: 2, max: 10 }
    pagination: { style: time_export, overlap: true }
"#;

const EXPORT_ROWS: &str = r#"[
  {"id": 1, "updated_at": "2024-01-01T00:00:10Z"},
  {"id": 2, "updated_at": "2024-01-01T00:00:20Z"},
  {"id": 3, "updated_at": "2024-01-01T00:00:20Z"},
  {"id": 4, "updated_at": "2024-01-01T00:00:30Z"},
  {"id": 5, "updated_at": "2024-01-01T00:00:40Z"}
]"#;

#[test]
fn time_export_with_overlap_repeats_the_boundary_second_like_zendesk() {
    let sim = start_inline(EXPORT_SPEC, &[("rows.json", EXPORT_ROWS)]);
    let start = 1_704_067_200; // 2024-01-01T00:00:00Z
    let first = get(&sim.url(&format!("/export?start_time={start}")), &[]);
    // Two per page, grown to three so the records of second 20 stay together.
    assert_eq!(ids(first.body["rows"].as_array().unwrap(), "id"), [1, 2, 3]);
    assert_eq!(first.body["end_time"], start + 20);
    let second = get(first.body["next_page"].as_str().unwrap(), &[]);
    assert_eq!(
        ids(second.body["rows"].as_array().unwrap(), "id"),
        [2, 3, 4],
        "boundary records come again"
    );
    assert_eq!(second.body["end_of_stream"], false);
    let bad = get(&sim.url("/export?start_time=yesterday"), &[]);
    assert_eq!(bad.status, 400);
}
