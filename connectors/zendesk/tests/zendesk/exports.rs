//! The incremental exports: every record once across pages and batches, the deletes feeds,
//! start dates, restarts in the middle, and the loop guard.

use std::collections::BTreeSet;

use lakeflow_kit::time::parse_ts;
use serde_json::Value;

use crate::common::{
    Feed, batch, connector, corpus_ids, drain, edited, ids, options, simulator, sorted,
};

fn status(record: &Value) -> &str {
    record["status"].as_str().unwrap_or_default()
}

#[test]
fn tickets_and_users_feed_their_deletions_and_only_them() {
    let sim = simulator();
    let zendesk = connector(&sim);
    let small = options(&[("max_records_per_batch", "7"), ("per_page", "10")]);
    let (tickets, _) = drain(&zendesk, "tickets", Feed::Records, None, &small);
    let (deleted, _) = drain(&zendesk, "tickets", Feed::Deletes, None, &small);
    assert_eq!(
        sorted(ids(&tickets)),
        corpus_ids("tickets.json", |t| status(t) != "deleted")
    );
    assert_eq!(ids(&deleted), [1007, 1020, 1034, 1046]);
    assert!(deleted.iter().all(|t| t["status"] == "deleted"));
    let (users, _) = drain(&zendesk, "users", Feed::Records, None, &small);
    let (gone, _) = drain(&zendesk, "users", Feed::Deletes, None, &small);
    assert_eq!(
        sorted(ids(&users)),
        corpus_ids("users.json", |u| u["active"] == true)
    );
    assert_eq!(
        sorted(ids(&gone)),
        corpus_ids("deleted_users.json", |_| true),
        "the export's inactive users are the deleted users list"
    );
}

#[test]
fn a_deletion_made_after_a_read_comes_through_the_deletes_feed_next() {
    let sim = simulator();
    let zendesk = connector(&sim);
    let none = options(&[]);
    let (_, offsets) = drain(&zendesk, "tickets", Feed::Deletes, None, &none);
    let caught_up = offsets.last().cloned();
    zendesk
        .request("DELETE", "/api/v2/tickets/1001.json")
        .send()
        .unwrap();
    // Zendesk stamps whole seconds; a connector reads only seconds over when it was built.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let later = connector(&sim);
    let (deleted, _) = drain(&later, "tickets", Feed::Deletes, caught_up.clone(), &none);
    assert_eq!(ids(&deleted), [1001]);
    // The records feed, from where it was, does not bring the deleted ticket back.
    let (tickets, _) = drain(&later, "tickets", Feed::Records, None, &none);
    assert!(!ids(&tickets).contains(&1001));
}

#[test]
fn organizations_repeating_their_boundary_records_come_once_each() {
    // The time-based export serves each page's last second again on the next page.
    let sim = simulator();
    let zendesk = connector(&sim);
    let small = options(&[("max_records_per_batch", "3"), ("per_page", "2")]);
    let (organizations, offsets) = drain(&zendesk, "organizations", Feed::Records, None, &small);
    assert_eq!(ids(&organizations).len(), 11);
    assert_eq!(
        sorted(ids(&organizations)),
        corpus_ids("organizations.json", |_| true)
    );
    assert!(offsets.len() >= 4, "{offsets:?}");
    // The pages did overlap: more records were served than delivered.
    let served = sim
        .request_log()
        .iter()
        .filter(|r| r.path.ends_with("/incremental/organizations.json"))
        .count();
    assert!(served > 6, "{served} pages of 2 for 11 records");
}

#[test]
fn a_restart_in_the_middle_of_an_export_resumes_after_the_last_record() {
    let sim = simulator();
    let small = options(&[("max_records_per_batch", "4"), ("per_page", "6")]);
    let (all, offsets) = drain(&connector(&sim), "tickets", Feed::Records, None, &small);
    assert!(offsets.len() > 5);
    let expected = ids(&all);
    // A fresh connector (a restarted run) from each offset delivers exactly the rest.
    let mut before = Vec::new();
    let mut at = None;
    for offset in &offsets {
        let zendesk = connector(&sim);
        let (batch, end) = batch(&zendesk, "tickets", Feed::Records, at.as_ref(), &small).unwrap();
        before.extend(ids(&batch));
        at = end;
        assert_eq!(at.as_ref(), Some(offset));
        let requests = sim.request_log().len();
        let (rest, _) = drain(
            &zendesk,
            "tickets",
            Feed::Records,
            Some(offset.clone()),
            &small,
        );
        let mut whole = before.clone();
        whole.extend(ids(&rest));
        assert_eq!(whole, expected, "restarting from {offset:?}");
        // It goes on from the export's own cursor, never from the start of the export (an
        // offset inside the first page has no cursor yet: that page comes from `start_time`).
        let first = &sim.request_log()[requests];
        let resumes_with = if offset.contains_key("token") {
            "cursor"
        } else {
            "start_time"
        };
        assert!(
            first.query_keys.contains(&resumes_with.to_owned()),
            "restart from {offset:?} asked {first}"
        );
    }
}

#[test]
fn start_date_bounds_the_first_read_of_every_export() {
    let sim = simulator();
    let zendesk = connector(&sim);
    let from = "2024-06-01";
    let bound = parse_ts("2024-06-01T00:00:00Z").unwrap();
    for (table, cursor) in [
        ("tickets", "updated_at"),
        ("users", "updated_at"),
        ("organizations", "updated_at"),
        ("ticket_events", "created_at"),
        ("ticket_comments", "created_at"),
        ("ticket_metric_events", "time"),
        ("articles", "updated_at"),
        ("satisfaction_ratings", "updated_at"),
    ] {
        let dated = options(&[("start_date", from)]);
        let (all, _) = drain(&zendesk, table, Feed::Records, None, &options(&[]));
        let (recent, _) = drain(&zendesk, table, Feed::Records, None, &dated);
        assert!(!recent.is_empty() && recent.len() < all.len(), "{table}");
        for record in &recent {
            // Tickets are exported by `generated_timestamp`, at or after their `updated_at`.
            let at = match table {
                "tickets" => chrono::DateTime::from_timestamp(
                    record["generated_timestamp"].as_i64().unwrap(),
                    0,
                )
                .unwrap(),
                _ => parse_ts(record[cursor].as_str().unwrap()).unwrap(),
            };
            assert!(at >= bound, "{table}: {at}");
        }
    }
}

#[test]
fn a_start_date_zendesk_would_refuse_reads_nothing_and_asks_nothing() {
    // Zendesk refuses a start_time within the last minute (or in the future): a first read from
    // such a date has nothing to export yet, and says so without a request.
    let sim = simulator();
    let zendesk = connector(&sim);
    let soon = (chrono::Utc::now() + chrono::TimeDelta::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let (records, end) = batch(
        &zendesk,
        "organizations",
        Feed::Records,
        None,
        &options(&[("start_date", &soon)]),
    )
    .unwrap();
    assert!(records.is_empty() && end.is_none());
    assert!(sim.request_log().is_empty(), "{:?}", sim.request_log());
}

#[test]
fn comments_are_one_row_each_with_their_ticket_and_attachments() {
    let sim = simulator();
    let zendesk = connector(&sim);
    let small = options(&[("max_records_per_batch", "10"), ("per_page", "15")]);
    let (comments, _) = drain(&zendesk, "ticket_comments", Feed::Records, None, &small);
    let (events, _) = drain(&zendesk, "ticket_events", Feed::Records, None, &small);
    assert_eq!(comments.len(), 78);
    let unique: BTreeSet<i64> = ids(&comments).into_iter().collect();
    assert_eq!(unique.len(), comments.len(), "a comment once");
    assert!(
        comments
            .iter()
            .all(|c| c["ticket_id"].is_i64() && c["body"].is_string())
    );
    assert!(
        comments
            .iter()
            .any(|c| c["attachments"].as_array().is_some_and(|a| !a.is_empty()))
    );
    // Each comment is the one its event holds; one request per page of events, none per ticket.
    let event_ids: BTreeSet<i64> = ids(&events).into_iter().collect();
    assert!(
        comments
            .iter()
            .all(|c| event_ids.contains(&c["audit_id"].as_i64().unwrap()))
    );
    assert!(
        sim.request_log()
            .iter()
            .all(|r| !r.path.contains("/tickets/") || r.path.contains("/incremental/"))
    );
}

#[test]
fn a_time_based_export_that_does_not_move_fails_instead_of_looping() {
    // A server whose every page says `end_time` 1800000000 and more to come: the second page
    // answers `end_time` equal to its `start_time`, and asking again would loop forever.
    let sim = edited(
        &[(
            "      start_time: { role: cursor, required: true }\n      per_page: { role: page_size, default: 1000, max: 1000 }\n    pagination: { style: time_export, cursor_field: updated_at, overlap: true }",
            "      start_time: { role: filter, field: updated_at, op: gte }\n      per_page: { role: ignored }\n    sort: { field: updated_at, direction: asc }\n    extra: { end_time: 1800000000, end_of_stream: false }",
        )],
        None,
    );
    let zendesk = connector(&sim);
    let err = batch(
        &zendesk,
        "organizations",
        Feed::Records,
        None,
        &options(&[("max_records_per_batch", "100000")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("organizations") && err.contains("neither ends the export nor moves"),
        "{err}"
    );
    assert!(sim.request_log().len() <= 3, "{:?}", sim.request_log());
}
