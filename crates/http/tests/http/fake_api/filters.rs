//! Filters of every op (nested paths, `in` with commas or repeated, booleans, dates, epoch
//! seconds), sort parameters, and a strict endpoint's answer to an unknown parameter. Each answer
//! is compared with the corpus filtered in the test.

use std::collections::BTreeSet;

use lakeflow_http::{Error, Pagination, json_path};
use serde_json::Value;

use super::{api_key, bearer, client, corpus, ids, read, sorted, start, style};

/// Checks a filter's answer against the corpus, and that the filter chose something: some
/// records but not all, so a server ignoring the parameter would fail.
fn assert_filtered(what: &str, served: &[Value], all: &[Value], keep: impl Fn(&Value) -> bool) {
    let expected: Vec<Value> = all.iter().filter(|r| keep(r)).cloned().collect();
    assert!(
        !expected.is_empty() && expected.len() < all.len(),
        "{what}: pick a value that splits the corpus"
    );
    assert_eq!(ids(served), ids(&expected), "{what}");
}

/// The value at `path` of the record in the middle of `records` sorted by it: a boundary with
/// records on both sides.
fn middle(records: &[Value], path: &str) -> String {
    let by = sorted(records.to_vec(), &[(path, true)]);
    let value = json_path(&by[by.len() / 2], path).unwrap();
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

#[test]
fn filters_of_every_op_and_sort_are_applied() {
    let sim = start();
    let http = client(&sim, bearer());

    // Users: page numbers, sorted by id.
    let users = sorted(corpus("users.json"), &[("id", true)]);
    let by_page = Pagination::page_number("page", Some(50));
    let read_users = |query: &[(&str, &str)]| {
        let mut query = query.to_vec();
        query.push(("per_page", "50"));
        read(&http, "/users", &query, &by_page, "users")
    };
    let roles: Vec<String> = users
        .iter()
        .map(|u| u["role"].as_str().unwrap().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let two = format!("{},{}", roles[0], roles[1]);
    let in_two = |u: &Value| u["role"] == roles[0].as_str() || u["role"] == roles[1].as_str();
    assert_filtered(
        "role in (comma)",
        &read_users(&[("role", two.as_str())]),
        &users,
        in_two,
    );
    // `in` also takes the parameter repeated.
    let repeated = read_users(&[("role", roles[0].as_str()), ("role", roles[1].as_str())]);
    assert_filtered("role in (repeated)", &repeated, &users, in_two);
    let city = users[0]["address"]["city"].as_str().unwrap();
    assert_filtered(
        "address.city eq (nested)",
        &read_users(&[("city", city)]),
        &users,
        |u| u["address"]["city"] == city,
    );
    assert_filtered(
        "active eq false (boolean)",
        &read_users(&[("active", "false")]),
        &users,
        |u| u["active"] == false,
    );
    let boundary = middle(&users, "created_at");
    let since = read_users(&[("created_since", boundary.as_str())]);
    assert_filtered("created_at gte", &since, &users, |u| {
        u["created_at"].as_str().unwrap() >= boundary.as_str()
    });
    let before = read_users(&[("created_before", boundary.as_str())]);
    assert_filtered("created_at lt", &before, &users, |u| {
        u["created_at"].as_str().unwrap() < boundary.as_str()
    });
    // Two filters combine.
    let both = read_users(&[
        ("role", roles[0].as_str()),
        ("created_before", boundary.as_str()),
    ]);
    assert_filtered("role and created_at", &both, &users, |u| {
        u["role"] == roles[0].as_str() && u["created_at"].as_str().unwrap() < boundary.as_str()
    });

    // Events: offsets, API key, sorted by created_at.
    let keyed = client(&sim, api_key());
    let events = sorted(corpus("events.json"), &[("created_at", true)]);
    let by_offset = Pagination::offset("offset", "limit", 25);
    let read_events = |query: &[(&str, &str)]| read(&keyed, "/events", query, &by_offset, "events");
    let kind = events[0]["type"].as_str().unwrap();
    assert_filtered(
        "type ne",
        &read_events(&[("exclude_type", kind)]),
        &events,
        |e| e["type"] != kind,
    );
    assert_filtered(
        "type in (one value)",
        &read_events(&[("type", kind)]),
        &events,
        |e| e["type"] == kind,
    );
    let actor = events[0]["actor"]["login"].as_str().unwrap();
    assert_filtered(
        "actor.login eq (nested)",
        &read_events(&[("actor", actor)]),
        &events,
        |e| e["actor"]["login"] == actor,
    );
    let boundary = middle(&events, "created_at");
    assert_filtered(
        "created_at gt",
        &read_events(&[("created_after", boundary.as_str())]),
        &events,
        |e| e["created_at"].as_str().unwrap() > boundary.as_str(),
    );
    assert_filtered(
        "created_at lte",
        &read_events(&[("created_before", boundary.as_str())]),
        &events,
        |e| e["created_at"].as_str().unwrap() <= boundary.as_str(),
    );

    // Messages: numeric epoch seconds compared as numbers.
    let messages = sorted(corpus("messages.ndjson"), &[("created_at", true)]);
    let by_cursor = Pagination::cursor("response_metadata.next_cursor", "cursor");
    let oldest = middle(&messages, "created_at");
    let channel = messages[0]["channel"].as_str().unwrap();
    let read_messages =
        |query: &[(&str, &str)]| read(&http, "/messages", query, &by_cursor, "messages");
    let threshold: i64 = oldest.parse().unwrap();
    assert_filtered(
        "created_at gte (epoch)",
        &read_messages(&[("oldest", oldest.as_str())]),
        &messages,
        |m| m["created_at"].as_i64().unwrap() >= threshold,
    );
    assert_filtered(
        "channel eq",
        &read_messages(&[("channel", channel)]),
        &messages,
        |m| m["channel"] == channel,
    );

    // Issues: `in` over an array of objects, and sorting.
    let issues: Vec<Value> = (style("link_header").expected)();
    let read_issues = |query: &[(&str, &str)]| {
        let mut query = query.to_vec();
        query.push(("per_page", "100"));
        read(
            &http,
            "/repos/octo/hello/issues",
            &query,
            &Pagination::LinkHeader,
            "",
        )
    };
    let label = issues[0]["labels"][0]["name"].as_str().unwrap();
    let has_label = |i: &Value| {
        i["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == label)
    };
    assert_filtered(
        "labels.name in (array)",
        &read_issues(&[("labels", label)]),
        &issues,
        has_label,
    );
    // A chosen sort replaces the default one: equal values keep corpus order.
    let in_corpus_order: Vec<Value> = corpus("issues.json")
        .into_iter()
        .filter(|i| i["repository_owner"] == "octo" && i["repository_name"] == "hello")
        .collect();
    let by_comments = read_issues(&[("sort", "comments"), ("direction", "asc")]);
    let expected = sorted(in_corpus_order.clone(), &[("comments", true)]);
    assert_eq!(ids(&by_comments), ids(&expected), "sort=comments asc");
    assert_ne!(
        ids(&by_comments),
        ids(&issues),
        "the sort changes the order"
    );
    // `direction` defaults to desc.
    let by_update = read_issues(&[("sort", "updated")]);
    let expected = sorted(in_corpus_order, &[("updated_at", false)]);
    assert_eq!(ids(&by_update), ids(&expected), "sort=updated");
}

#[test]
fn a_strict_endpoint_rejects_an_unknown_parameter_without_retry() {
    let sim = start();
    let http = client(&sim, bearer());
    let err = http
        .get("/users")
        .query("colour", "red")
        .pages(Pagination::page_number("page", None), "users")
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err:?}");
    assert!(!err.is_retriable());
    let shown = err.to_string();
    assert!(shown.contains("returned HTTP 400"), "{shown}");
    // The server's message (naming the parameter) is kept.
    assert!(
        shown.contains("unknown query parameter `colour`"),
        "{shown}"
    );
    assert_eq!(sim.request_log().len(), 1);
}
