//! The newest-first strategy (`GET /items/newest`): passes that stop at the cursor, batches cut
//! inside a tie, page hints checked before they are trusted, lookback, `start_date`, batches cut
//! on the fly, and restarts from every offset.

use lakeflow_connect::{Offset, Record};
use lakeflow_kit::ReadSettings;
use lakeflow_kit::descending::{deliver, read_newest_first};
use serde_json::json;

use crate::common::{
    Items, assert_restarts_deliver_the_rest, ctx, descending, ids, offset, requests, settings,
    simulator,
};

/// The corpus newest first, as the listing gives it (ties in corpus order).
const NEWEST_FIRST: [u64; 14] = [14, 11, 12, 13, 10, 8, 9, 7, 3, 4, 5, 6, 2, 1];

fn batch(
    source: &Items,
    settings: ReadSettings,
    start: Option<&Offset>,
) -> (Vec<Record>, Option<Offset>) {
    let ctx = ctx(source, settings);
    let desc = descending(&ctx);
    let request = source
        .client
        .get("/items/newest")
        .query("direction", "desc")
        .query("per_page", settings.per_page);
    let decorate = |_: &mut Record| {};
    let mut visit = deliver(&decorate);
    read_newest_first(&desc, start, &request, &mut *visit).unwrap()
}

/// Batches from `start` until the offset stops moving: the ids delivered and every offset
/// returned on the way.
fn run(source: &Items, settings: ReadSettings, start: Option<Offset>) -> (Vec<u64>, Vec<Offset>) {
    let (mut delivered, mut offsets, mut at) = (Vec::new(), Vec::new(), start);
    for _ in 0..100 {
        let (records, end) = batch(source, settings, at.as_ref());
        delivered.extend(ids(&records));
        if end == at {
            return (delivered, offsets);
        }
        offsets.extend(end.clone());
        at = end;
    }
    panic!("the reads never caught up");
}

#[test]
fn a_pass_stops_at_the_cursor_without_reading_further_pages() {
    let sim = simulator();
    let source = Items::new(&sim);
    let before = requests(&sim);
    let start = offset(json!({"cursor": "2024-01-01T00:00:04Z"}));
    let (records, end) = batch(&source, settings(100), Some(&start));
    assert_eq!(ids(&records), vec![14, 11, 12, 13, 10]);
    assert_eq!(end, Some(offset(json!({"cursor": "2024-01-02T00:00:00Z"}))));
    // Pages [14, 11], [12, 13], [10, 8]: record 8 ends the pass, page 4 is never asked for.
    assert_eq!(requests(&sim) - before, 3, "{:#?}", sim.request_log());
    // Caught up: nothing new, the offset stays.
    let end = end.unwrap();
    let (records, after) = batch(&source, settings(100), Some(&end));
    assert!(records.is_empty());
    assert_eq!(after, Some(end));
}

#[test]
fn a_batch_cut_inside_a_tie_resumes_right_after_the_last_record_delivered() {
    let sim = simulator();
    let source = Items::new(&sim);
    // Records 11-13 share a second; a batch of 2 ends after 11.
    let (records, end) = batch(&source, settings(2), None);
    assert_eq!(ids(&records), vec![14, 11]);
    assert_eq!(
        end,
        Some(offset(json!({
            "pass_top": "2024-01-02T00:00:00Z",
            "until": "2024-01-01T00:00:06Z",
            "keys_at_until": [11],
            "page": 1,
            "per_page": 2
        })))
    );
    let (records, _) = batch(&source, settings(2), end.as_ref());
    assert_eq!(ids(&records), vec![12, 13]);
    for max_records in 1..=5 {
        let (all, offsets) = run(&source, settings(max_records), None);
        assert_eq!(all, NEWEST_FIRST, "batches of {max_records}");
        assert_eq!(
            offsets.last(),
            Some(&offset(json!({"cursor": "2024-01-02T00:00:00Z"})))
        );
    }
}

#[test]
fn a_restart_from_every_offset_of_a_sequence_gives_each_record_exactly_once() {
    let sim = simulator();
    let source = Items::new(&sim);
    for max_records in 1..=5 {
        let (all, offsets) = run(&source, settings(max_records), None);
        assert_restarts_deliver_the_rest(
            &all,
            &offsets,
            |from| batch(&source, settings(max_records), from).0.len(),
            |from| run(&source, settings(max_records), Some(from.clone())).0,
            &format!("batches of {max_records}"),
        );
    }
}

#[test]
fn a_wrong_page_hint_is_detected_and_not_trusted() {
    let sim = simulator();
    let source = Items::new(&sim);
    // Pages of 2: [14, 11], [12, 13], [10, 8], [9, 7], [3, 4], [5, 6], [2, 1]. The pass
    // delivered everything down to record 10, which is on page 3, not 6: trusting the hint
    // would skip records 8, 9, 7, 3 and 4.
    let pass = |page: u64| {
        offset(json!({
            "pass_top": "2024-01-02T00:00:00Z",
            "until": "2024-01-01T00:00:05Z",
            "keys_at_until": [10],
            "page": page,
            "per_page": 2
        }))
    };
    let rest = vec![8, 9, 7, 3, 4, 5, 6, 2, 1];
    let before = requests(&sim);
    let (records, _) = batch(&source, settings(100), Some(&pass(6)));
    assert_eq!(ids(&records), rest);
    // Pages 6, 5, 4 and 3 tried first (3 is the first whose lead is covered), then 4 to 7.
    assert_eq!(requests(&sim) - before, 8, "{:#?}", sim.request_log());
    // The right hint costs no request for the pages before it.
    let before = requests(&sim);
    let (records, _) = batch(&source, settings(100), Some(&pass(3)));
    assert_eq!(ids(&records), rest);
    assert_eq!(requests(&sim) - before, 5, "pages 3 to 7");
    // A hint counted in another page size is converted: page 3 of 2 is page 2 of 3.
    let mut of_three = settings(100);
    of_three.per_page = 3;
    let (records, _) = batch(&source, of_three, Some(&pass(3)));
    assert_eq!(ids(&records), rest);
}

#[test]
fn lookback_widens_the_pass_and_is_never_stored() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut with_lookback = settings(100);
    with_lookback.lookback = chrono::TimeDelta::seconds(2);
    let start = offset(json!({"cursor": "2024-01-01T00:00:05Z"}));
    let (records, end) = batch(&source, with_lookback, Some(&start));
    // Everything after the cursor, and again what is at most two seconds before it.
    assert_eq!(ids(&records), vec![14, 11, 12, 13, 10, 8, 9, 7]);
    assert_eq!(end, Some(offset(json!({"cursor": "2024-01-02T00:00:00Z"}))));
    let end = end.unwrap();
    let (again, after) = batch(&source, with_lookback, Some(&end));
    assert_eq!(ids(&again), vec![14], "record 14 again");
    assert_eq!(after, Some(end), "the stored cursor never moves back");
}

#[test]
fn start_date_ends_the_first_pass() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut from_date = settings(100);
    from_date.start_date = Some(crate::common::at("2024-01-01T00:00:04Z"));
    let (records, end) = batch(&source, from_date, None);
    assert_eq!(ids(&records), vec![14, 11, 12, 13, 10, 8, 9]);
    assert_eq!(end, Some(offset(json!({"cursor": "2024-01-02T00:00:00Z"}))));
    // In batches, with restarts, the same records.
    from_date.max_records = 2;
    let (all, _) = run(&source, from_date, None);
    assert_eq!(all, vec![14, 11, 12, 13, 10, 8, 9]);
}

#[test]
fn a_full_batch_fetches_no_further_page() {
    let sim = simulator();
    let source = Items::new(&sim);
    let before = requests(&sim);
    let (records, _) = batch(&source, settings(3), None);
    assert_eq!(ids(&records), vec![14, 11, 12]);
    assert_eq!(requests(&sim) - before, 2, "{:#?}", sim.request_log());
}

#[test]
fn a_lookback_wider_than_a_batch_still_lets_the_reads_catch_up() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut with_lookback = settings(3);
    with_lookback.lookback = chrono::TimeDelta::days(1);
    // Caught up: the re-read fills the batch, and the read ends where it started.
    let start = offset(json!({"cursor": "2024-01-02T00:00:00Z"}));
    let (records, end) = batch(&source, with_lookback, Some(&start));
    assert_eq!(ids(&records), vec![14, 11, 12]);
    assert_eq!(end, Some(start));
    // Every record after the cursor comes, the re-read stops with the batch it is cut in, and
    // the last read re-reads and ends where it started.
    let start = offset(json!({"cursor": "2024-01-01T00:00:05Z"}));
    let (delivered, offsets) = run(&source, with_lookback, Some(start));
    assert_eq!(delivered, vec![14, 11, 12, 13, 10, 8, 14, 11, 12]);
    assert_eq!(
        offsets.last(),
        Some(&offset(json!({"cursor": "2024-01-02T00:00:00Z"})))
    );
}
