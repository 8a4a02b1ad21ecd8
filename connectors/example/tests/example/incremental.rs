//! The three batching patterns, termination, filters and lookback.

use std::collections::BTreeSet;

use lakeflow_connect::{LakeflowConnect, Offset, TableOptions};
use serde_json::{Value, json};

use crate::common::{
    INCREMENTAL, api_rows, assert_no_duplicates, connector, key_set, options, quiet_source,
    read_all,
};

fn cursor_of(offset: Option<&Offset>) -> &str {
    offset.and_then(|o| o["cursor"].as_str()).unwrap()
}

#[test]
fn events_yield_every_row_once_and_batches_stop_within_one_page() {
    let source = quiet_source(5);
    let c = connector(&source);
    let run = read_all(
        &c,
        "events",
        None,
        &options(&[("max_records_per_batch", "30"), ("limit", "7")]),
        false,
    );
    let ids = run.values("event_id");
    assert_eq!(ids.len(), 100);
    assert_no_duplicates("events", &ids);
    for batch in &run.batches {
        // Limit-before-fetch: whole server responses only, so at most one response over.
        assert!(batch.len() < 30 + 7, "batch of {}", batch.len());
    }
    assert!(run.batches.iter().filter(|b| !b.is_empty()).count() >= 3);
    assert_eq!(cursor_of(run.end()), "2025-01-01T00:01:40Z");
    assert_eq!(
        run.end().unwrap().len(),
        1,
        "append offsets hold the cursor only"
    );
}

#[test]
fn cdc_tables_yield_every_key_exactly_once_with_tiny_batches() {
    let source = quiet_source(11);
    for (table, key) in [("users", "user_id"), ("orders", "order_id")] {
        let rows = api_rows(&source, table);
        let stamps: BTreeSet<_> = rows.iter().map(|r| r["updated_at"].to_string()).collect();
        assert!(
            stamps.len() < rows.len(),
            "{table}: the data should have cursor ties"
        );
        for max in [1, 2, 3, 200] {
            let c = connector(&source);
            let max_text = max.to_string();
            let run = read_all(
                &c,
                table,
                None,
                &options(&[("max_records_per_batch", &max_text)]),
                false,
            );
            assert!(
                run.batches.iter().all(|b| b.len() <= max),
                "{table}: batch over {max}"
            );
            let keys = run.values(key);
            assert_no_duplicates(table, &keys);
            let expected: Vec<Value> = rows.iter().map(|r| r[key].clone()).collect();
            assert_eq!(
                key_set(&keys),
                key_set(&expected),
                "{table} with batches of {max}"
            );
            if max == 2 {
                let resumed_in_tie = run
                    .offsets
                    .iter()
                    .flatten()
                    .any(|o| o.contains_key("keys_at_cursor"));
                assert!(
                    resumed_in_tie,
                    "{table}: some batch should stop inside a tie group"
                );
            }
        }
    }
}

#[test]
fn orders_deletes_feed_terminates_with_tombstones() {
    let source = quiet_source(11);
    let c = connector(&source);
    let run = read_all(
        &c,
        "orders",
        None,
        &options(&[("max_records_per_batch", "2")]),
        true,
    );
    assert!(run.batches.iter().all(|b| b.len() <= 2));
    let ids = run.values("order_id");
    assert_eq!(ids.len(), 6);
    assert_no_duplicates("orders deletes", &ids);
    for tombstone in run.records() {
        assert!(tombstone["order_id"].is_i64());
        assert!(tombstone["updated_at"].is_string() && tombstone["deleted_at"].is_string());
    }
    let live = key_set(
        &api_rows(&source, "orders")
            .iter()
            .map(|r| r["order_id"].clone())
            .collect::<Vec<_>>(),
    );
    assert!(
        key_set(&ids).is_disjoint(&live),
        "deleted orders are not live"
    );
}

#[test]
fn metrics_slides_windows_and_stops_at_init_time() {
    let source = quiet_source(2);
    let c = connector(&source);
    let init = c.init_time();
    let all = api_rows(&source, "metrics");
    let ts = |r: &serde_json::Map<String, Value>| {
        chrono::DateTime::parse_from_rfc3339(r["observed_at"].as_str().unwrap()).unwrap()
    };
    assert!(
        all.iter().any(|r| ts(r) > init),
        "samples should run past now"
    );
    // Due: the samples in the two hours of history the API keeps, up to the init time.
    let history = init - chrono::TimeDelta::hours(2);
    let due: Vec<Value> = all
        .iter()
        .filter(|r| ts(r) > history && ts(r) <= init)
        .map(|r| r["metric_id"].clone())
        .collect();
    for (window, max) in [("3600", "1000"), ("600", "4")] {
        let opts = options(&[("window_seconds", window), ("max_records_per_batch", max)]);
        let run = read_all(&c, "metrics", None, &opts, false);
        let ids = run.values("metric_id");
        assert_no_duplicates("metrics", &ids);
        assert_eq!(key_set(&ids), key_set(&due), "window {window}, batch {max}");
        assert!(run.batches.iter().all(|b| b.len() <= max.parse().unwrap()));
        let end = chrono::DateTime::parse_from_rfc3339(cursor_of(run.end())).unwrap();
        assert_eq!(end, init, "the last window ends at the init time");
    }
    // Each window spans at most window_seconds past the cursor it started from.
    let opts = options(&[("window_seconds", "600")]);
    let (_, first) = c
        .read_table("metrics", None, &opts)
        .unwrap()
        .collect()
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339(cursor_of(first.as_ref())).unwrap();
    let (records, second) = c
        .read_table("metrics", first.as_ref(), &opts)
        .unwrap()
        .collect()
        .unwrap();
    let end = chrono::DateTime::parse_from_rfc3339(cursor_of(second.as_ref())).unwrap();
    assert_eq!((end - start).num_seconds(), 600);
    assert!(records.iter().all(|r| ts(r) > start && ts(r) <= end));
}

#[test]
fn a_cursor_at_or_past_init_returns_nothing_and_the_same_offset() {
    let c = connector(&quiet_source(1));
    let future = json!({"cursor": "2999-01-01T00:00:00Z"})
        .as_object()
        .cloned()
        .unwrap();
    for table in INCREMENTAL {
        let (records, end) = c
            .read_table(table, Some(&future), &TableOptions::new())
            .unwrap()
            .collect()
            .unwrap();
        assert!(records.is_empty(), "{table}");
        assert_eq!(end.as_ref(), Some(&future), "{table}");
    }
    let (records, end) = c
        .read_table_deletes("orders", Some(&future), &TableOptions::new())
        .unwrap()
        .collect()
        .unwrap();
    assert!(records.is_empty() && end.as_ref() == Some(&future));
}

#[test]
fn lookback_rereads_recent_rows_but_stores_the_raw_cursor() {
    let source = quiet_source(4);
    let c = connector(&source);
    let full = read_all(&c, "users", None, &TableOptions::new(), false);
    let end = full.end().cloned().unwrap();
    let end_ts = chrono::DateTime::parse_from_rfc3339(cursor_of(Some(&end))).unwrap();
    let window = chrono::TimeDelta::hours(6);
    let recent: Vec<Value> = full
        .records()
        .filter(|r| {
            chrono::DateTime::parse_from_rfc3339(r["updated_at"].as_str().unwrap()).unwrap()
                > end_ts - window
        })
        .map(|r| r["user_id"].clone())
        .collect();
    assert!(!recent.is_empty() && recent.len() < 40);
    let opts = options(&[("lookback_seconds", "21600")]);
    let (records, again) = c
        .read_table("users", Some(&end), &opts)
        .unwrap()
        .collect()
        .unwrap();
    let reread: Vec<Value> = records.iter().map(|r| r["user_id"].clone()).collect();
    assert_eq!(key_set(&reread), key_set(&recent));
    assert_eq!(again, Some(end), "the stored offset is the raw max cursor");
}

#[test]
fn lookback_never_stops_the_cursor_from_advancing() {
    let c = connector(&quiet_source(4));
    // The lookback covers the whole table, so without care every batch would be re-reads only.
    let opts = options(&[
        ("lookback_seconds", "100000000"),
        ("max_records_per_batch", "5"),
    ]);
    let run = read_all(&c, "users", None, &opts, false);
    assert_eq!(key_set(&run.values("user_id")).len(), 40);
    assert!(run.batches.iter().all(|b| b.len() <= 5));
}

#[test]
fn products_snapshot_pushes_the_category_filter() {
    let source = quiet_source(6);
    let c = connector(&source);
    let (all, end) = c
        .read_table("products", None, &TableOptions::new())
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(all.len(), 50);
    assert!(end.is_none(), "snapshots have no offset");
    let books = all.iter().filter(|r| r["category"] == "books").count();
    assert!(books > 0);
    let (filtered, _) = c
        .read_table("products", None, &options(&[("category", "books")]))
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(filtered.len(), books);
    assert!(filtered.iter().all(|r| r["category"] == "books"));
}

#[test]
fn orders_push_user_and_status_filters() {
    let source = quiet_source(6);
    let c = connector(&source);
    let all = api_rows(&source, "orders");
    let user = all[0]["user_id"].clone();
    let status = all[0]["status"].as_str().unwrap().to_owned();
    let user_text = user.to_string();
    for (opts, keep) in [
        (
            vec![("user_id", user_text.as_str())],
            Box::new(|r: &serde_json::Map<String, Value>| r["user_id"] == user)
                as Box<dyn Fn(&_) -> bool>,
        ),
        (
            vec![("status", status.as_str())],
            Box::new(|r: &serde_json::Map<String, Value>| r["status"] == status.as_str()),
        ),
        (
            vec![("user_id", user_text.as_str()), ("status", status.as_str())],
            Box::new(|r: &serde_json::Map<String, Value>| {
                r["user_id"] == user && r["status"] == status.as_str()
            }),
        ),
    ] {
        let mut pairs = opts.clone();
        pairs.push(("max_records_per_batch", "3"));
        let run = read_all(&c, "orders", None, &options(&pairs), false);
        let expected: Vec<Value> = all
            .iter()
            .filter(|r| keep(r))
            .map(|r| r["order_id"].clone())
            .collect();
        assert!(!expected.is_empty());
        assert!(expected.len() < all.len());
        assert_eq!(
            key_set(&run.values("order_id")),
            key_set(&expected),
            "{opts:?}"
        );
    }
}
