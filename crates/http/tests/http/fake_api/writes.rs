//! Writes through the client, read back incrementally: created records show in the next read,
//! deletions leave tombstones (or flags), patches move the cursor field.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use lakeflow_http::Pagination;
use serde_json::{Value, json};

use super::{basic, bearer, client, corpus, ids, read, start, style, walk};

fn epoch_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// RFC 3339 in the corpora's format, truncated to the second.
fn rfc3339(at: SystemTime) -> String {
    let at: chrono::DateTime<chrono::Utc> = at.into();
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[test]
fn a_created_ticket_shows_in_the_next_incremental_export() {
    let sim = start();
    let http = client(&sim, basic());
    let export = style("start_time");
    let incremental = |since: u64| {
        http.get("/api/v2/incremental/tickets.json")
            .query("start_time", since)
            .pages(export.pagination.clone(), "tickets")
    };
    // Only the future records are newer than now before the write.
    let since = epoch_seconds(SystemTime::now());
    let before = walk(incremental(since));
    let future = ids(&before);
    let corpus_ids: BTreeSet<String> = ids(&corpus("tickets.json"))
        .iter()
        .map(Value::to_string)
        .collect();
    assert!(
        future
            .iter()
            .all(|id| !corpus_ids.contains(&id.to_string()))
    );

    let created: Value = http
        .post("/api/v2/tickets.json")
        .json(&json!({"ticket": {"subject": "Printer on fire", "priority": "high"}}))
        .send_json()
        .unwrap();
    let ticket = &created["ticket"];
    assert_eq!(ticket["subject"], "Printer on fire");
    let after = walk(incremental(since));
    // The new ticket comes first: it was updated now, the future records later.
    assert_eq!(after[0]["id"], ticket["id"], "{after:?}");
    assert_eq!(&after[0], ticket);
    assert_eq!(ids(&after[1..]), future);
    // Its id is new.
    assert!(!corpus_ids.contains(&ticket["id"].to_string()));
    assert!(!future.contains(&ticket["id"]));
}

#[test]
fn a_deleted_ticket_leaves_a_tombstone() {
    let sim = start();
    let http = client(&sim, basic());
    let victim = corpus("tickets.json").remove(0);
    let tombstones = |since: &str| {
        http.get("/api/v2/deleted_tickets.json")
            .query("since", since)
            .pages(Pagination::Single, "deleted_tickets")
    };
    let since = rfc3339(SystemTime::now());
    assert!(walk(tombstones(&since)).is_empty(), "no deletion yet");

    let response = http
        .delete(&format!("/api/v2/tickets/{}.json", victim["id"]))
        .send()
        .unwrap();
    assert_eq!(response.status(), 204);
    let deleted = walk(tombstones(&since));
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["id"], victim["id"]);
    assert_eq!(deleted[0]["subject"], victim["subject"]);
    assert!(deleted[0]["deleted_at"].as_str().unwrap() >= since.as_str());
    // The export no longer serves it.
    let export = walk(style("after_cursor").pages(&http));
    assert!(!ids(&export).contains(&victim["id"]));
    assert_eq!(export.len(), walk(style("start_time").pages(&http)).len());
}

#[test]
fn a_created_then_deleted_customer_comes_and_goes() {
    let sim = start();
    let http = client(&sim, bearer());
    let stripe = Pagination::stripe();
    let since = epoch_seconds(SystemTime::now()).to_string();
    let incremental = || {
        walk(
            http.get("/v1/customers")
                .query("created[gte]", &since)
                .pages(stripe.clone(), "data"),
        )
    };
    assert!(incremental().is_empty(), "the corpus is older than now");

    let created: Value = http
        .post("/v1/customers")
        .json(&json!({"email": "new@customer.test", "name": "New Customer"}))
        .send_json()
        .unwrap();
    assert_eq!(ids(&incremental()), [created["id"].clone()]);
    assert_eq!(incremental()[0]["email"], "new@customer.test");

    let removed: Value = http
        .delete(&format!(
            "/v1/customers/{}",
            created["id"].as_str().unwrap()
        ))
        .send_json()
        .unwrap();
    assert_eq!(removed["id"], created["id"]);
    assert!(incremental().is_empty());
    let all = walk(style("starting_after").pages(&http));
    style("starting_after").check(&all, SystemTime::now());
}

#[test]
fn a_patch_moves_the_cursor_field_and_an_archive_flags_the_record() {
    let sim = start();
    let http = client(&sim, bearer());
    let contacts = style("paging.next.after");
    let original = (contacts.expected)().remove(0);
    let id = original["id"].as_str().unwrap();
    let path = format!("/crm/v3/objects/contacts/{id}");

    let patched: Value = http
        .patch(&path)
        .json(&json!({"properties": {"lifecyclestage": "evangelist"}}))
        .send_json()
        .unwrap();
    assert_eq!(patched["properties"]["lifecyclestage"], "evangelist");
    // A merge patch: the other properties stay.
    assert_eq!(
        patched["properties"]["email"],
        original["properties"]["email"]
    );
    let old = original["updatedAt"].as_str().unwrap();
    let new = patched["updatedAt"].as_str().unwrap().to_owned();
    assert!(new.as_str() > old, "updatedAt {old} -> {new}");

    // An incremental read from the new cursor value finds the record, and only it.
    let changed = read(
        &http,
        "/crm/v3/objects/contacts",
        &[("updated_after", new.as_str())],
        &contacts.pagination,
        "results",
    );
    assert_eq!(changed, [patched]);

    // Archiving keeps the record, flagged, out of the default listing.
    let response = http.delete(&path).send().unwrap();
    assert_eq!(response.status(), 204);
    let live = walk(contacts.pages(&http));
    assert!(!ids(&live).contains(&original["id"]));
    let archived = read(
        &http,
        "/crm/v3/objects/contacts",
        &[("archived", "true"), ("updated_after", new.as_str())],
        &contacts.pagination,
        "results",
    );
    assert_eq!(ids(&archived), [original["id"].clone()]);
    assert_eq!(archived[0]["archived"], true);
}
