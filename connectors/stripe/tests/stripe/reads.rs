//! Backfills and the events feed, on connectors whose clock is set to a June 2025 day.

use std::collections::BTreeSet;

use lakeflow_connect::LakeflowConnect;
use serde_json::Value;

use crate::common::{
    Destination, Feed, at, batch, connector_at, corpus, drain, ids, options, simulator,
};

/// Before the corpus's events (they run from June 2 to June 27).
const JUNE_1: &str = "2025-06-01T00:00:00Z";
/// After them.
const JUNE_28: &str = "2025-06-28T00:00:00Z";

#[test]
fn a_backfill_cut_anywhere_resumes_and_delivers_each_object_once() {
    let sim = simulator();
    let small = options(&[
        ("max_records_per_batch", "4"),
        ("per_page", "3"),
        ("window_seconds", "864000"),
    ]);
    let stripe = connector_at(&sim, JUNE_28);
    let (all, offsets) = drain(&stripe, "customers", Feed::Records, None, &small);
    let expected: BTreeSet<String> = corpus("customers.json").into_keys().collect();
    let mut delivered = ids(&all);
    delivered.sort();
    assert_eq!(delivered, expected.iter().cloned().collect::<Vec<_>>());
    assert!(offsets.iter().filter(|o| o["phase"] == "backfill").count() >= 5);
    // A restarted run (a fresh connector) from each offset delivers exactly the rest.
    let mut before = Vec::new();
    let mut at = None;
    for offset in &offsets {
        let fresh = connector_at(&sim, JUNE_28);
        let (records, end) =
            batch(&fresh, "customers", Feed::Records, at.as_ref(), &small).unwrap();
        before.extend(ids(&records));
        at = end;
        assert_eq!(at.as_ref(), Some(offset));
        let (rest, _) = drain(
            &fresh,
            "customers",
            Feed::Records,
            Some(offset.clone()),
            &small,
        );
        let mut whole = before.clone();
        whole.extend(ids(&rest));
        whole.sort();
        assert_eq!(whole, delivered, "restarting from {offset:?}");
    }
    // A backfilled row's sequence is its own creation time.
    let first = &all[0];
    let created = first["created"].as_i64().unwrap();
    assert_eq!(
        at_str(first["changed_at"].as_str().unwrap()),
        created,
        "{first:?}"
    );
}

fn at_str(text: &str) -> i64 {
    at(text).timestamp()
}

/// Reads `table` as a pipeline would over June: a backfill on June 1, then the events of June
/// (and the deletions, when the table has them) on June 28; the destination it leaves.
fn june(table: &str, deletes: bool) -> (Destination, Vec<serde_json::Map<String, Value>>) {
    let sim = simulator();
    let small = options(&[("max_records_per_batch", "5")]);
    let mut destination = Destination::default();
    let early = connector_at(&sim, JUNE_1);
    let (backfilled, offsets) = drain(&early, table, Feed::Records, None, &small);
    destination.upsert(&backfilled);
    let late = connector_at(&sim, JUNE_28);
    let (changed, _) = drain(&late, table, Feed::Records, offsets.last().cloned(), &small);
    destination.upsert(&changed);
    if deletes {
        let (deleted, _) = drain(&late, table, Feed::Deletes, None, &small);
        destination.delete(&deleted);
    }
    (destination, changed)
}

#[test]
fn the_events_after_a_backfill_bring_each_table_to_the_accounts_state() {
    // The lists hold each object as it is after June; deleted objects are not in them.
    for (table, file, deletes) in [
        ("customers", "customers.json", true),
        ("invoices", "invoices.json", true),
        ("products", "products.json", true),
        ("subscriptions", "subscriptions.json", false),
        ("charges", "charges.json", false),
    ] {
        let (destination, changed) = june(table, deletes);
        assert!(!changed.is_empty(), "{table}: June changed nothing?");
        assert_eq!(destination.state(), corpus(file), "{table}");
    }
}

#[test]
fn a_canceled_subscription_is_an_update_not_a_delete() {
    let (destination, changed) = june("subscriptions", false);
    let canceled: Vec<&str> = changed
        .iter()
        .filter(|s| s["status"] == "canceled")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        canceled.len(),
        2,
        "the two June cancellations: {canceled:?}"
    );
    let state = destination.state();
    for id in canceled {
        assert_eq!(state[id]["status"], "canceled", "{id} stays, canceled");
    }
    let sim = simulator();
    let err = connector_at(&sim, JUNE_28)
        .read_table_deletes("subscriptions", None, &options(&[]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not supported"), "{err}");
}

#[test]
fn events_are_delivered_once_even_when_read_again_with_lookback() {
    let sim = simulator();
    let from_june: lakeflow_connect::Offset = serde_json::from_value(
        serde_json::json!({"phase": "events", "cursor": "2025-06-01T00:00:00Z"}),
    )
    .unwrap();
    let stripe = connector_at(&sim, JUNE_28);
    let plain = options(&[("max_records_per_batch", "2")]);
    let (once, offsets) = drain(
        &stripe,
        "customers",
        Feed::Records,
        Some(from_june.clone()),
        &plain,
    );
    let lookback = options(&[
        ("max_records_per_batch", "2"),
        ("lookback_seconds", "259200"),
    ]);
    let (again, _) = drain(
        &stripe,
        "customers",
        Feed::Records,
        Some(from_june),
        &lookback,
    );
    let key = |r: &serde_json::Map<String, Value>| {
        (
            r["id"].clone().to_string(),
            r["changed_at"].clone().to_string(),
        )
    };
    let once: Vec<_> = once.iter().map(key).collect();
    let again: Vec<_> = again.iter().map(key).collect();
    // 3 customers created, 10 updates: one row per event, in the order they happened.
    assert_eq!(once.len(), 13, "{once:?}");
    assert_eq!(
        again, once,
        "a lookback re-reads events but delivers none twice"
    );
    assert!(once.windows(2).all(|w| w[0].1 <= w[1].1), "oldest first");
    // Caught up: a later read with lookback finds nothing new.
    let last = offsets.last().cloned();
    let (nothing, end) = batch(
        &stripe,
        "customers",
        Feed::Records,
        last.as_ref(),
        &lookback,
    )
    .unwrap();
    assert!(nothing.is_empty() && end == last);
}

#[test]
fn a_table_not_read_for_thirty_days_is_read_again_from_its_list() {
    let sim = simulator();
    let stale: lakeflow_connect::Offset = serde_json::from_value(
        serde_json::json!({"phase": "events", "cursor": "2025-06-01T00:00:00Z"}),
    )
    .unwrap();
    let august = connector_at(&sim, "2025-08-15T00:00:00Z");
    let small = options(&[("max_records_per_batch", "5")]);
    let (first, offset) = batch(&august, "customers", Feed::Records, Some(&stale), &small).unwrap();
    let offset = offset.unwrap();
    assert_eq!(offset["phase"], "backfill");
    assert_eq!(offset["reread"], true);
    // The re-read's rows win over whatever the destination holds: they carry its start.
    assert!(
        first
            .iter()
            .all(|r| r["changed_at"] == "2025-08-14T23:59:59Z")
    );
    let (rest, offsets) = drain(&august, "customers", Feed::Records, Some(offset), &small);
    let mut all = ids(&first);
    all.extend(ids(&rest));
    all.sort();
    assert_eq!(
        all,
        corpus("customers.json").into_keys().collect::<Vec<_>>()
    );
    assert_eq!(offsets.last().unwrap()["phase"], "events");
}
