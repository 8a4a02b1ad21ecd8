//! Writes change the in-memory corpus: new, changed and deleted records show up in the next
//! reads, with server-stamped cursor fields; deletes leave tombstones or archived flags.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{BEARER, basic, call, get, ids, start_fake, start_inline};

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn hubspot_style_create_update_archive() {
    let sim = start_fake();
    let before = Utc::now() - chrono::TimeDelta::seconds(1);
    let created = call(
        "POST",
        &sim.url("/crm/v3/objects/contacts"),
        &[BEARER],
        Some(r#"{"properties": {"email": "new@contoso.test", "lifecyclestage": "lead"}}"#),
    );
    assert_eq!(created.status, 201);
    assert_eq!(
        created.body["id"], "141",
        "the next id after 101..140, as a string like the corpus"
    );
    assert_eq!(
        created.body["archived"], false,
        "defaults fill what the body leaves out"
    );
    let stamped = created.body["updatedAt"].as_str().unwrap();
    assert!(
        stamped.ends_with('Z') && stamped.len() == 24,
        "milliseconds, like the corpus: {stamped}"
    );
    assert!(instant(&created.body["updatedAt"]) >= before);

    let since = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let reply = get(
        &sim.url(&format!("/crm/v3/objects/contacts?updated_after={since}")),
        &[BEARER],
    );
    assert_eq!(
        ids(reply.body["results"].as_array().unwrap(), "id"),
        ["141"]
    );

    let patched = call(
        "PATCH",
        &sim.url("/crm/v3/objects/contacts/105"),
        &[BEARER],
        Some(r#"{"properties": {"lifecyclestage": "customer"}, "id": "999"}"#),
    );
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["id"], "105", "ids are not writable");
    assert_eq!(patched.body["properties"]["lifecyclestage"], "customer");
    assert!(
        patched.body["properties"]["email"].is_string(),
        "PATCH merges"
    );
    let reply = get(
        &sim.url(&format!("/crm/v3/objects/contacts?updated_after={since}")),
        &[BEARER],
    );
    assert_eq!(
        ids(reply.body["results"].as_array().unwrap(), "id"),
        ["105", "141"]
    );

    let archived = call(
        "DELETE",
        &sim.url("/crm/v3/objects/contacts/106"),
        &[BEARER],
        None,
    );
    assert_eq!(archived.status, 204);
    assert_eq!(archived.body, Value::Null);
    let live = get(&sim.url("/crm/v3/objects/contacts?limit=100"), &[BEARER]);
    assert!(!ids(live.body["results"].as_array().unwrap(), "id").contains(&json!("106")));
    let gone = get(
        &sim.url("/crm/v3/objects/contacts?limit=100&archived=true"),
        &[BEARER],
    );
    let gone = gone.body["results"].as_array().unwrap();
    let contact = gone
        .iter()
        .find(|c| c["id"] == "106")
        .expect("archived, not removed");
    assert!(
        instant(&contact["updatedAt"]) >= before,
        "archiving stamps updatedAt"
    );

    assert_eq!(
        call(
            "PATCH",
            &sim.url("/crm/v3/objects/contacts/999"),
            &[BEARER],
            Some("{}")
        )
        .status,
        404
    );
    let conflict = call(
        "POST",
        &sim.url("/crm/v3/objects/contacts"),
        &[BEARER],
        Some(r#"{"id": "101"}"#),
    );
    assert_eq!(conflict.status, 409);
    let invalid = call(
        "POST",
        &sim.url("/crm/v3/objects/contacts"),
        &[BEARER],
        Some("{not json"),
    );
    assert_eq!(invalid.status, 400);
    let array = call(
        "POST",
        &sim.url("/crm/v3/objects/contacts"),
        &[BEARER],
        Some("[1]"),
    );
    assert_eq!(array.status, 400);
}

#[test]
fn zendesk_style_tombstones_and_incremental_reads() {
    let sim = start_fake();
    let auth = basic();
    let headers = [(auth.0, auth.1.as_str())];
    let before = Utc::now().timestamp() - 1;

    let updated = call(
        "PATCH",
        &sim.url("/api/v2/tickets/110.json"),
        &headers,
        Some(r#"{"ticket": {"status": "solved"}}"#),
    );
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["ticket"]["status"], "solved");
    let created = call(
        "POST",
        &sim.url("/api/v2/tickets.json"),
        &headers,
        Some(r#"{"ticket": {"subject": "Printer on fire"}}"#),
    );
    assert_eq!(created.status, 201);
    let new_id = created.body["ticket"]["id"].as_i64().unwrap();
    assert!(new_id > 145);
    assert_eq!(created.body["ticket"]["status"], "new");
    assert_eq!(
        created.body["ticket"]["subject"], "Printer on fire",
        "the request wrapper is unwrapped"
    );

    // An incremental export from just before the writes sees both (then the future records).
    let reply = get(
        &sim.url(&format!(
            "/api/v2/incremental/tickets/cursor.json?start_time={before}"
        )),
        &headers,
    );
    let seen = ids(reply.body["tickets"].as_array().unwrap(), "id");
    assert_eq!(&seen[..2], &[json!(110), json!(new_id)]);
    assert_eq!(seen.len(), 4, "two writes and two future records");
    assert!(
        !seen[2..].contains(&json!(new_id)),
        "future ids never collide with created ones"
    );

    let deleted = call(
        "DELETE",
        &sim.url("/api/v2/tickets/120.json"),
        &headers,
        None,
    );
    assert_eq!(deleted.status, 204);
    assert_eq!(
        get(&sim.url("/api/v2/tickets/120.json"), &headers).status,
        404
    );
    assert_eq!(
        call(
            "DELETE",
            &sim.url("/api/v2/tickets/120.json"),
            &headers,
            None
        )
        .status,
        404
    );
    let tombstones = get(&sim.url("/api/v2/deleted_tickets.json"), &headers);
    let tombstones = tombstones.body["deleted_tickets"].as_array().unwrap();
    assert_eq!(tombstones.len(), 4);
    let last = tombstones.last().unwrap();
    assert_eq!(last["id"], 120);
    assert_eq!(last["subject"], "App crashes on upload");
    assert!(
        last.get("status").is_none(),
        "only the kept fields and the stamp"
    );
    assert!(instant(&last["deleted_at"]).timestamp() >= before);
    let since = DateTime::from_timestamp(before, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = get(
        &sim.url(&format!("/api/v2/deleted_tickets.json?since={since}")),
        &headers,
    );
    assert_eq!(
        ids(recent.body["deleted_tickets"].as_array().unwrap(), "id"),
        [120]
    );
}

#[test]
fn stripe_style_form_bodies_epoch_stamps_and_removal() {
    let sim = start_fake();
    let created = call(
        "POST",
        &sim.url("/v1/customers"),
        &[
            BEARER,
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        Some("email=new%40example.test&name=New+Customer&metadata[plan]=pro"),
    );
    assert_eq!(created.status, 200);
    assert_eq!(created.body["id"], "cus_0036");
    assert_eq!(created.body["object"], "customer");
    assert_eq!(created.body["metadata"], json!({"plan": "pro"}));
    let stamp = created.body["created"]
        .as_i64()
        .expect("epoch seconds, like the corpus");
    assert!((stamp - Utc::now().timestamp()).abs() < 5);
    let first = get(&sim.url("/v1/customers?limit=1"), &[BEARER]);
    assert_eq!(first.body["data"][0]["id"], "cus_0036", "newest first");

    let removed = call(
        "DELETE",
        &sim.url("/v1/customers/cus_0036"),
        &[BEARER],
        None,
    );
    assert_eq!(removed.status, 200);
    assert_eq!(removed.body["email"], "new@example.test");
    assert_eq!(
        get(&sim.url("/v1/customers/cus_0036"), &[BEARER]).status,
        404
    );
}

#[test]
fn a_fixed_now_advances_one_second_per_write_and_dates_future_records() {
    let spec = r#"
name: clock
now: "2030-01-01T00:00:00Z"
endpoints:
  - path: /rows
    corpus: rows.json
    records_key: rows
    params:
      cursor: { role: cursor }
      since: { role: filter, field: updated_at, op: gte }
    pagination: { style: export_cursor }
    future_records: { count: 2, field: updated_at, step_seconds: 3600 }
  - path: /rows
    method: POST
    corpus: rows.json
    write: { stamp: [updated_at] }
"#;
    let rows = r#"[{"id": 1, "updated_at": "2029-12-31T00:00:00Z"}]"#;
    let sim = start_inline(spec, &[("rows.json", rows)]);
    let first = call("POST", &sim.url("/rows"), &[], Some("{}"));
    let second = call("POST", &sim.url("/rows"), &[], Some("{}"));
    assert_eq!(first.body["updated_at"], "2030-01-01T00:00:01Z");
    assert_eq!(second.body["updated_at"], "2030-01-01T00:00:02Z");
    assert_eq!(
        [&first.body["id"], &second.body["id"]],
        [&json!(4), &json!(5)],
        "after the future ids 2 and 3"
    );

    let all = get(&sim.url("/rows"), &[]);
    let rows = all.body["rows"].as_array().unwrap();
    let stamps: Vec<&str> = rows
        .iter()
        .map(|r| r["updated_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        stamps,
        [
            "2029-12-31T00:00:00Z",
            "2030-01-01T00:00:01Z",
            "2030-01-01T00:00:02Z",
            "2030-01-01T01:00:00Z",
            "2030-01-01T02:00:00Z"
        ]
    );
    // The export cursor stays valid at the end of the stream and serves later writes.
    let token = all.body["after_cursor"].as_str().unwrap().to_owned();
    assert_eq!(all.body["end_of_stream"], true);
    let nothing = get(&sim.url(&format!("/rows?cursor={token}")), &[]);
    assert_eq!(nothing.body["rows"], json!([]));
    assert_eq!(
        nothing.body["after_cursor"],
        token.as_str(),
        "an empty page keeps the position"
    );
}

#[test]
fn export_cursor_resumes_with_records_written_after_the_end() {
    let spec = r"
name: resume
endpoints:
  - path: /rows
    corpus: rows.json
    records_key: rows
    params:
      cursor: { role: cursor }
      start_time: { role: filter, field: updated_at, op: gte, required: true }
    pagination: { style: export_cursor }
  - path: /rows/{id}
    method: PATCH
    corpus: rows.json
    single: { field: id }
    write: { stamp: [updated_at] }
";
    let rows = r#"[{"id": 1, "updated_at": "2024-01-01T00:00:00Z"}, {"id": 2, "updated_at": "2023-01-01T00:00:00Z"}]"#;
    let sim = start_inline(spec, &[("rows.json", rows)]);
    let first = get(&sim.url("/rows?start_time=2023-06-01T00:00:00Z"), &[]);
    assert_eq!(ids(first.body["rows"].as_array().unwrap(), "id"), [1]);
    let token = first.body["after_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        call("PATCH", &sim.url("/rows/2"), &[], Some(r#"{"name": "x"}"#)).status,
        200
    );
    // Only the cursor: the start_time filter travels inside it.
    let next = get(&sim.url(&format!("/rows?cursor={token}")), &[]);
    assert_eq!(ids(next.body["rows"].as_array().unwrap(), "id"), [2]);
    assert_eq!(next.body["rows"][0]["name"], "x");
}

/// The intended consequence of future records (docs/simulator.md, "Future records"): a token
/// saved at the end of the stream sits past them, so records written afterwards (stamped "now",
/// before the future ones) never come from it. A connector must not store a cursor beyond its
/// start time; the token of the last page it consumed entirely does see them.
#[test]
fn export_cursor_tokens_past_the_future_records_miss_later_writes() {
    let sim = start_fake();
    let auth = basic();
    let headers = [(auth.0, auth.1.as_str())];
    let start = Utc::now();
    let mut url = sim.url("/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=20");
    let mut tokens = Vec::new();
    let last_page = loop {
        let reply = get(&url, &headers);
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        tokens.push(reply.body["after_cursor"].as_str().unwrap().to_owned());
        if reply.body["end_of_stream"] == true {
            break reply.body["tickets"].as_array().unwrap().clone();
        }
        url = reply.body["after_url"].as_str().unwrap().to_owned();
    };
    assert_eq!(tokens.len(), 3, "45 tickets and 2 future ones, 20 a page");
    assert!(
        last_page
            .iter()
            .rev()
            .take(2)
            .all(|t| instant(&t["updated_at"]) > start),
        "the last page ends with the future records"
    );

    let created = call(
        "POST",
        &sim.url("/api/v2/tickets.json"),
        &headers,
        Some(r#"{"ticket": {"subject": "Written after the sync"}}"#),
    );
    assert_eq!(created.status, 201);
    let new_id = created.body["ticket"]["id"].clone();
    let from = |token: &str| {
        let reply = get(
            &sim.url(&format!(
                "/api/v2/incremental/tickets/cursor.json?cursor={token}&per_page=20"
            )),
            &headers,
        );
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        ids(reply.body["tickets"].as_array().unwrap(), "id")
    };
    let end_token = tokens.last().unwrap();
    assert!(
        from(end_token).is_empty(),
        "the end-of-stream token is past the future records, so past the new ticket"
    );
    let before_future = from(&tokens[1]);
    assert_eq!(
        before_future.len(),
        8,
        "5 tickets, the new one, 2 future ones"
    );
    assert_eq!(before_future[5], new_id);
}

#[test]
fn stripe_style_writes_feed_the_event_list() {
    // Stripe: create with a form POST, update with a POST to the object's path, delete; each
    // write lands in `/v1/events`, newest first, with what changed.
    let spec = r#"
name: stripe-events
now: "2025-06-01T00:00:00Z"
endpoints:
  - path: /v1/customers/{id}
    method: POST
    corpus: customers.json
    single: { field: id }
    write: { status: 200, events: { into: events.json, object: customer } }
  - path: /v1/customers
    method: POST
    corpus: customers.json
    write: { stamp: [created], status: 200, events: { into: events.json, object: customer } }
  - path: /v1/customers/{id}
    method: DELETE
    corpus: customers.json
    single: { field: id }
    write: { status: 200, events: { into: events.json, object: customer } }
  - path: /v1/events
    corpus: events.json
    records_key: data
    sort: { field: created, direction: desc }
    params:
      "types[]": { role: filter, field: type, op: in }
"#;
    let customers = r#"[{"id": "cus_Qx0041", "email": "old@tallow.test", "created": 1735689600}]"#;
    let events = r#"[{"id": "evt_Lm0007", "type": "customer.created", "created": 1735689600,
        "data": {"object": {"id": "cus_Qx0041", "email": "old@tallow.test"}}}]"#;
    let sim = start_inline(
        spec,
        &[("customers.json", customers), ("events.json", events)],
    );
    let form = |method: &str, path: &str, body: &str| {
        let reply = call(
            method,
            &sim.url(path),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body),
        );
        assert_eq!(reply.status, 200, "{method} {path}: {:?}", reply.body);
        reply.body
    };
    let created = form("POST", "/v1/customers", "email=new%40tallow.test");
    assert_eq!(created["id"], "cus_Qx0042");
    let updated = form(
        "POST",
        "/v1/customers/cus_Qx0041",
        "email=moved%40tallow.test",
    );
    assert_eq!(
        updated["email"], "moved@tallow.test",
        "a POST to the path merges"
    );
    form("DELETE", "/v1/customers/cus_Qx0042", "");

    let feed = get(&sim.url("/v1/events"), &[]);
    let listed = feed.body["data"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = listed
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["object"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("customer.deleted", "cus_Qx0042"),
            ("customer.updated", "cus_Qx0041"),
            ("customer.created", "cus_Qx0042"),
            ("customer.created", "cus_Qx0041"),
        ]
    );
    assert_eq!(listed[0]["id"], "evt_Lm0010");
    assert_eq!(
        listed[0]["created"], 1_748_736_003,
        "stamped like the feed: epoch seconds"
    );
    assert_eq!(
        listed[1]["data"]["previous_attributes"],
        json!({"email": "old@tallow.test"})
    );
    assert_eq!(listed[1]["data"]["object"]["email"], "moved@tallow.test");
    let deletes = get(&sim.url("/v1/events?types[]=customer.deleted"), &[]);
    assert_eq!(deletes.body["data"].as_array().unwrap().len(), 1);
}
