//! The ascending strategy (`GET /items?since=...`): ties at batch edges, restarts from every
//! offset, lookback, `start_date`, and batches cut on the fly.

use std::cell::RefCell;

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Offset, Record};
use lakeflow_kit::ReadSettings;
use lakeflow_kit::ascending::read_since;
use lakeflow_kit::time::format_ts;
use serde_json::json;

use crate::common::{
    Items, ascending, assert_restarts_deliver_the_rest, at, ctx, ids, offset, requests, settings,
    simulator,
};

/// One batch of `GET /items?since=...`, and the `since` values the strategy asked for.
pub struct Reader<'a> {
    source: &'a Items,
    settings: ReadSettings,
    asked: RefCell<Vec<Option<DateTime<Utc>>>>,
}

impl<'a> Reader<'a> {
    pub fn new(source: &'a Items, settings: ReadSettings) -> Self {
        Self {
            source,
            settings,
            asked: RefCell::new(Vec::new()),
        }
    }

    pub fn batch(&self, start: Option<&Offset>) -> (Vec<Record>, Option<Offset>) {
        let ctx = ctx(self.source, self.settings);
        let asc = ascending(&ctx);
        let request = |since: Option<DateTime<Utc>>| {
            self.asked.borrow_mut().push(since);
            let request = self
                .source
                .client
                .get("/items")
                .query("per_page", self.settings.per_page);
            match since {
                Some(since) => request.query("since", format_ts(since)),
                None => request,
            }
        };
        read_since(&asc, start, &request).unwrap()
    }

    /// Batches from `start` until the offset stops moving: the ids delivered, and every offset
    /// returned on the way (the last one is the end).
    pub fn run(&self, start: Option<Offset>) -> (Vec<u64>, Vec<Offset>) {
        let (mut ids, mut offsets, mut at) = (Vec::new(), Vec::new(), start);
        for _ in 0..100 {
            let (records, end) = self.batch(at.as_ref());
            ids.extend(records.iter().map(|r| r["id"].as_u64().unwrap()));
            if end == at {
                return (ids, offsets);
            }
            offsets.extend(end.clone());
            at = end;
        }
        panic!("the reads never caught up");
    }
}

#[test]
fn batches_cut_inside_a_tie_run_resume_right_after_the_last_record_delivered() {
    let sim = simulator();
    let source = Items::new(&sim);
    let (ids, offsets) = Reader::new(&source, settings(3)).run(None);
    assert_eq!(ids, (1..=14).collect::<Vec<_>>());
    // Records 3-6 share a second: the first batch ends after record 3, inside the run.
    assert_eq!(
        offsets[0],
        offset(json!({"cursor": "2024-01-01T00:00:02Z", "keys_at_cursor": [3]}))
    );
    assert_eq!(
        offsets.last().unwrap(),
        &offset(json!({"cursor": "2024-01-02T00:00:00Z"}))
    );
    // A batch of one record, and so a cut after every record of every run.
    let (ids, _) = Reader::new(&source, settings(1)).run(None);
    assert_eq!(ids, (1..=14).collect::<Vec<_>>());
}

#[test]
fn a_restart_from_every_offset_of_a_sequence_gives_each_record_exactly_once() {
    let sim = simulator();
    let source = Items::new(&sim);
    for max_records in 1..=5 {
        let reader = Reader::new(&source, settings(max_records));
        let (all, offsets) = reader.run(None);
        assert_eq!(
            all,
            (1..=14).collect::<Vec<_>>(),
            "batches of {max_records}"
        );
        assert_restarts_deliver_the_rest(
            &all,
            &offsets,
            |from| reader.batch(from).0.len(),
            |from| reader.run(Some(from.clone())).0,
            &format!("batches of {max_records}"),
        );
    }
}

#[test]
fn lookback_widens_the_query_and_is_never_stored() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut with_lookback = settings(100);
    with_lookback.lookback = TimeDelta::seconds(2);
    let reader = Reader::new(&source, with_lookback);
    let start = offset(json!({"cursor": "2024-01-01T00:00:04Z"}));
    let (records, end) = reader.batch(Some(&start));
    assert_eq!(
        reader.asked.borrow().as_slice(),
        &[Some(at("2024-01-01T00:00:02Z"))],
        "`since` is the cursor minus the lookback"
    );
    let ids: Vec<u64> = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        (3..=14).collect::<Vec<_>>(),
        "3-9 again, then the new ones"
    );
    assert_eq!(end, Some(offset(json!({"cursor": "2024-01-02T00:00:00Z"}))));
    // Caught up: the re-read delivers again, and the stored position stays where it was.
    let end = end.unwrap();
    let (again, after) = reader.batch(Some(&end));
    assert_eq!(again.len(), 1, "record 14 again");
    assert_eq!(after, Some(end));
}

#[test]
fn start_date_bounds_the_first_read_only() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut from_date = settings(100);
    from_date.start_date = Some(at("2024-01-01T00:00:04Z"));
    let reader = Reader::new(&source, from_date);
    let (records, end) = reader.batch(None);
    let ids: Vec<u64> = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![8, 9, 10, 11, 12, 13, 14]);
    // Asked from a second earlier (a server may read `since` as exclusive); record 7 is left out.
    assert_eq!(reader.asked.borrow()[0], Some(at("2024-01-01T00:00:03Z")));
    // An offset older than `start_date` wins over it.
    let (records, _) = reader.batch(Some(&offset(json!({"cursor": "2024-01-01T00:00:02Z"}))));
    assert_eq!(records.first().unwrap()["id"], 7);
    assert!(end.is_some());
}

#[test]
fn a_full_batch_fetches_no_further_page() {
    let sim = simulator();
    let source = Items::new(&sim);
    // Pages of 2: the third record is on the second page, and the batch stops there.
    let before = requests(&sim);
    let (records, _) = Reader::new(&source, settings(3)).batch(None);
    assert_eq!(ids(&records), vec![1, 2, 3]);
    assert_eq!(requests(&sim) - before, 2, "{:#?}", sim.request_log());
    let before = requests(&sim);
    let (records, _) = Reader::new(&source, settings(4)).batch(None);
    assert_eq!(records.len(), 4);
    assert_eq!(
        requests(&sim) - before,
        2,
        "a batch full on a page's last record"
    );
}
