//! Filters of every op (nested paths, `in`, dates against epochs), sort, strict parameters and
//! page sizes.

use serde_json::Value;

use super::{API_KEY, BEARER, corpus, get, ids, sorted_by, start_fake, start_inline};

fn users(sim: &lakeflow_simulator::RunningSimulator, query: &str) -> Vec<Value> {
    let reply = get(&sim.url(&format!("/users?per_page=50&{query}")), &[BEARER]);
    assert_eq!(reply.status, 200, "{query}: {:?}", reply.body);
    reply.body["users"].as_array().unwrap().clone()
}

fn events(sim: &lakeflow_simulator::RunningSimulator, query: &str) -> Vec<Value> {
    let reply = get(&sim.url(&format!("/events?limit=25&{query}")), &[API_KEY]);
    assert_eq!(reply.status, 200, "{query}: {:?}", reply.body);
    reply.body["events"].as_array().unwrap().clone()
}

fn expected(name: &str, keep: impl Fn(&Value) -> bool) -> usize {
    corpus(name).iter().filter(|r| keep(r)).count()
}

#[test]
fn eq_on_nested_fields_and_booleans() {
    let sim = start_fake();
    let lisbon = users(&sim, "city=Lisbon");
    assert_eq!(
        lisbon.len(),
        expected("users.json", |u| u["address"]["city"] == "Lisbon")
    );
    assert!(!lisbon.is_empty());
    assert!(lisbon.iter().all(|u| u["address"]["city"] == "Lisbon"));
    let inactive = users(&sim, "active=false");
    assert_eq!(
        inactive.len(),
        expected("users.json", |u| u["active"] == false)
    );
    assert!(!inactive.is_empty());
    let by_actor = events(&sim, "actor=ghopper");
    assert_eq!(
        by_actor.len(),
        expected("events.json", |e| e["actor"]["login"] == "ghopper")
    );
    assert!(!by_actor.is_empty());
}

#[test]
fn ne_and_in() {
    let sim = start_fake();
    let reply = get(&sim.url("/events?exclude_type=PushEvent"), &[API_KEY]);
    assert_eq!(
        reply.body["total"],
        expected("events.json", |e| e["type"] != "PushEvent")
    );
    let not_push = events(&sim, "exclude_type=PushEvent");
    assert_eq!(
        not_push.len(),
        25.min(expected("events.json", |e| e["type"] != "PushEvent"))
    );
    assert!(not_push.iter().all(|e| e["type"] != "PushEvent"));
    let some = users(&sim, "role=admin,viewer");
    assert_eq!(
        some.len(),
        expected("users.json", |u| u["role"] == "admin"
            || u["role"] == "viewer")
    );
    assert!(some.iter().all(|u| u["role"] != "member"));
    // Repeated parameters add to the set too.
    assert_eq!(users(&sim, "role=admin&role=viewer").len(), some.len());
    // `in` on an array of objects: any label matches.
    let reply = get(
        &sim.url("/repos/octo/hello/issues?labels=documentation,question&per_page=100"),
        &[BEARER],
    );
    let labelled = reply.body.as_array().unwrap();
    let hello_labelled = expected("issues.json", |i| {
        i["repository_name"] == "hello"
            && i["labels"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["name"] == "documentation" || l["name"] == "question")
    });
    assert_eq!(labelled.len(), hello_labelled);
}

#[test]
fn gt_gte_lt_lte_on_timestamps() {
    let sim = start_fake();
    let since = "2024-02-01T00:00:00Z";
    let newer = users(&sim, &format!("created_since={since}"));
    assert_eq!(
        newer.len(),
        expected("users.json", |u| u["created_at"].as_str().unwrap() >= since)
    );
    let older = users(&sim, &format!("created_before={since}"));
    assert_eq!(newer.len() + older.len(), 30);
    // A date-only value is midnight UTC.
    assert_eq!(users(&sim, "created_since=2024-02-01").len(), newer.len());

    let boundary = corpus("events.json")
        .iter()
        .map(|e| e["created_at"].as_str().unwrap().to_owned())
        .min()
        .unwrap();
    // `total` counts every match, beyond the page.
    let total = |query: String| {
        let reply = get(&sim.url(&format!("/events?{query}")), &[API_KEY]);
        assert_eq!(reply.status, 200);
        reply.body["total"].as_u64().unwrap()
    };
    assert_eq!(
        total(format!("created_after={boundary}")),
        39,
        "gt excludes the boundary record"
    );
    assert_eq!(
        total(format!("created_before={boundary}")),
        1,
        "lte includes it"
    );
    assert_eq!(events(&sim, &format!("created_before={boundary}")).len(), 1);
}

#[test]
fn dates_compare_with_epoch_fields_and_epochs_with_date_fields() {
    let sim = start_fake();
    // messages.created_at holds epoch seconds; the parameter is a date.
    let latest = "2024-02-01T12:00:00Z";
    let epoch = 1_706_788_800; // the same instant
    let reply = get(
        &sim.url(&format!("/messages?limit=20&latest={latest}")),
        &[BEARER],
    );
    let by_date = ids(reply.body["messages"].as_array().unwrap(), "id");
    let reply = get(
        &sim.url(&format!("/messages?limit=20&latest={epoch}")),
        &[BEARER],
    );
    assert_eq!(
        ids(reply.body["messages"].as_array().unwrap(), "id"),
        by_date
    );
    let count = expected("messages.ndjson", |m| {
        m["created_at"].as_i64().unwrap() < epoch
    });
    assert!(count > 0 && count < 20);
    assert_eq!(by_date.len(), count);
    // customers.created is epoch seconds too; Stripe-style bracketed names.
    let reply = get(
        &sim.url(&format!("/v1/customers?limit=100&created%5Blt%5D={epoch}")),
        &[BEARER],
    );
    assert_eq!(
        reply.body["data"].as_array().unwrap().len(),
        expected("customers.json", |c| c["created"].as_i64().unwrap() < epoch)
    );
}

#[test]
fn filter_defaults_apply_unless_given() {
    let sim = start_fake();
    let reply = get(&sim.url("/crm/v3/objects/contacts?limit=100"), &[BEARER]);
    assert_eq!(reply.body["results"].as_array().unwrap().len(), 38);
    let reply = get(
        &sim.url("/crm/v3/objects/contacts?limit=100&archived=true"),
        &[BEARER],
    );
    let archived = reply.body["results"].as_array().unwrap();
    assert_eq!(ids(archived, "id"), ["108", "124"]);
}

#[test]
fn sort_parameters_choose_field_and_direction() {
    let sim = start_fake();
    let hello = || {
        corpus("issues.json")
            .into_iter()
            .filter(|i| i["repository_name"] == "hello")
            .collect::<Vec<_>>()
    };
    let reply = get(
        &sim.url("/repos/octo/hello/issues?sort=updated&direction=asc&per_page=100"),
        &[BEARER],
    );
    assert_eq!(
        ids(reply.body.as_array().unwrap(), "id"),
        ids(&sorted_by(hello(), "updated_at", false), "id")
    );
    // The direction parameter's default (desc) applies when only the field is given.
    let reply = get(
        &sim.url("/repos/octo/hello/issues?sort=comments&per_page=100"),
        &[BEARER],
    );
    assert_eq!(
        ids(reply.body.as_array().unwrap(), "id"),
        ids(&sorted_by(hello(), "comments", true), "id")
    );
    let bad = get(&sim.url("/repos/octo/hello/issues?sort=title"), &[BEARER]);
    assert_eq!(bad.status, 400);
    assert!(
        bad.message().contains("created, updated"),
        "{}",
        bad.message()
    );
    let bad = get(
        &sim.url("/repos/octo/hello/issues?direction=sideways"),
        &[BEARER],
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn strict_endpoints_reject_unknown_parameters() {
    let sim = start_fake();
    let reply = get(&sim.url("/users?pg=2"), &[BEARER]);
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("unknown query parameter `pg`"),
        "{}",
        reply.message()
    );
    assert!(
        reply.message().contains("per_page"),
        "lists what is accepted: {}",
        reply.message()
    );
    // `messages` is not strict: unknown parameters are ignored.
    assert_eq!(get(&sim.url("/messages?pg=2"), &[BEARER]).status, 200);
    // Ignored parameters are accepted by strict endpoints.
    assert_eq!(
        get(
            &sim.url("/v1/customers?expand%5B%5D=data.default_source"),
            &[BEARER]
        )
        .status,
        200
    );
}

#[test]
fn page_sizes_are_clamped_or_rejected_and_values_checked() {
    let spec = r#"
name: sizes
endpoints:
  - path: /rows
    corpus: rows.json
    params:
      page: { role: page }
      per_page: { role: page_size, default: 2, max: 5 }
    pagination: { style: page_number }
"#;
    let rows: Vec<Value> = (1..=12).map(|i| serde_json::json!({ "id": i })).collect();
    let rows = serde_json::to_string(&rows).unwrap();
    let sim = start_inline(spec, &[("rows.json", &rows)]);
    assert_eq!(
        get(&sim.url("/rows"), &[]).body.as_array().unwrap().len(),
        2,
        "default size"
    );
    assert_eq!(
        get(&sim.url("/rows?per_page=50"), &[])
            .body
            .as_array()
            .unwrap()
            .len(),
        5,
        "clamped to max"
    );
    assert_eq!(get(&sim.url("/rows?per_page=0"), &[]).status, 400);
    assert_eq!(get(&sim.url("/rows?page=two"), &[]).status, 400);
    // events declares `over_max: error`.
    let fake = start_fake();
    let reply = get(&fake.url("/events?limit=26"), &[API_KEY]);
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("between 1 and 25"),
        "{}",
        reply.message()
    );
}

#[test]
fn single_endpoints_answer_the_record_or_404() {
    let sim = start_fake();
    let issue = get(&sim.url("/repos/octo/world/issues/3"), &[BEARER]);
    assert_eq!(issue.status, 200);
    assert_eq!(issue.body["number"], 3);
    assert_eq!(
        issue.body["repository_name"], "world",
        "path fields select the repository"
    );
    let auth = super::basic();
    let ticket = get(
        &sim.url("/api/v2/tickets/105.json"),
        &[(auth.0, auth.1.as_str())],
    );
    assert_eq!(
        ticket.body["ticket"]["id"], 105,
        "wrapped under records_key"
    );
    let missing = get(&sim.url("/repos/octo/world/issues/99"), &[BEARER]);
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        serde_json::json!({"message": "Not Found", "status": 404})
    );
}
