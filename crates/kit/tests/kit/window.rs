//! The window strategy (`GET /items/windows?since=...&until=...`, with a match count): empty
//! windows widen, a result cap narrows a window, batches are cut on the fly, and a restart from
//! every position gives each record exactly once.

use std::cell::RefCell;

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Offset, Record, Result};
use lakeflow_kit::ReadSettings;
use lakeflow_kit::offset::{Builder, Fields};
use lakeflow_kit::time::format_ts;
use lakeflow_kit::window::{
    FIELDS, WindowPos, Windowed, oldest_on_last_page, read_lookback, read_windows,
};
use serde_json::json;

use crate::common::{
    ALL, Items, assert_restarts_deliver_the_rest, at, ctx, horizon, ids, offset, range, requests,
    simulator,
};

/// Windows read by a test: what each asked for.
struct Reader<'a> {
    source: &'a Items,
    settings: ReadSettings,
    cap: Option<u64>,
    /// `[since, until]` of every request made.
    asked: RefCell<Vec<(DateTime<Utc>, DateTime<Utc>)>>,
}

impl<'a> Reader<'a> {
    fn new(source: &'a Items, settings: ReadSettings) -> Self {
        Self {
            source,
            settings,
            cap: None,
            asked: RefCell::new(Vec::new()),
        }
    }

    /// One batch from the stored offset `start`, and the offset after it.
    fn batch(&self, start: Option<&Offset>) -> (Vec<Record>, Option<Offset>) {
        let pos = start
            .map(|start| WindowPos::parse(&Fields::new("items", start, &FIELDS).unwrap()).unwrap());
        let mut out = Vec::new();
        let end = self.read(pos, horizon(), &mut out);
        (out, end.map(|pos| pos.write(Builder::default()).build()))
    }

    /// The windows from `pos` up to `end`, into `out`.
    fn read(
        &self,
        pos: Option<WindowPos>,
        end: DateTime<Utc>,
        out: &mut Vec<Record>,
    ) -> Option<WindowPos> {
        self.windowed(|w| read_windows(w, pos, end, out).unwrap())
    }

    /// `with` on the windowed listing this reader reads.
    fn windowed<T>(&self, with: impl FnOnce(&Windowed<'_>) -> T) -> T {
        let ctx = ctx(self.source, self.settings);
        let request = |since: DateTime<Utc>, until: DateTime<Utc>| {
            self.asked.borrow_mut().push((since, until));
            self.source
                .client
                .get("/items/windows")
                .query("since", format_ts(since))
                .query("until", format_ts(until))
                .query("per_page", self.settings.per_page)
        };
        let oldest = || -> Result<Option<DateTime<Utc>>> { Ok(Some(at("2024-01-01T00:00:00Z"))) };
        with(&Windowed {
            ctx: &ctx,
            cursor: "updated_at",
            key: "id",
            records_path: "items",
            request: &request,
            cap: self.cap.map(|cap| (cap, "total_count")),
            oldest: &oldest,
            decorate: &|_| {},
        })
    }

    fn run(&self, start: Option<Offset>) -> (Vec<u64>, Vec<Offset>) {
        let (mut delivered, mut offsets, mut at) = (Vec::new(), Vec::new(), start);
        for _ in 0..100 {
            let (records, end) = self.batch(at.as_ref());
            delivered.extend(ids(&records));
            if end == at {
                return (delivered, offsets);
            }
            offsets.extend(end.clone());
            at = end;
        }
        panic!("the reads never caught up");
    }
}

fn settings(max_records: usize) -> ReadSettings {
    let mut settings = crate::common::settings(max_records);
    settings.window = TimeDelta::seconds(2);
    settings
}

#[test]
fn empty_windows_widen_and_windows_with_records_shrink_back() {
    let sim = simulator();
    let source = Items::numbered(&sim, 2);
    let mut from_date = settings(100);
    from_date.start_date = Some(at("2023-12-31T23:59:50Z"));
    let reader = Reader::new(&source, from_date);
    let (records, end) = reader.batch(None);
    assert_eq!(ids(&records), range(ALL));
    assert_eq!(end, Some(offset(json!({"since": "2025-01-01T00:00:01Z"}))));
    let widths: Vec<i64> = reader
        .asked
        .borrow()
        .iter()
        .map(|(since, until)| (*until - *since).num_seconds() + 1)
        .collect();
    // 10 quiet seconds: 2, then 4 wide, then a window of 8 reaching records 1-6 (back to 2).
    assert_eq!(widths[..4], [2, 4, 8, 2], "{widths:?}");
    // The quiet months after the corpus take a few requests, not one per two seconds.
    assert!(widths.len() < 100, "{} requests: {widths:?}", widths.len());
}

#[test]
fn a_result_cap_narrows_the_window_and_nothing_is_lost_or_repeated() {
    let sim = simulator();
    let source = Items::numbered(&sim, 2);
    let mut wide = settings(100);
    wide.window = TimeDelta::days(1);
    let mut reader = Reader::new(&source, wide);
    reader.cap = Some(4);
    let (records, _) = reader.batch(None);
    assert_eq!(ids(&records), range(ALL));
    let asked = reader.asked.borrow();
    // The first day holds 13 records: halved down to `[00:00:00, 00:00:01]` (records 1 and 2).
    assert_eq!(
        asked[0],
        (at("2024-01-01T00:00:00Z"), at("2024-01-01T23:59:59Z"))
    );
    assert!(
        asked.contains(&(at("2024-01-01T00:00:00Z"), at("2024-01-01T00:00:01Z"))),
        "{asked:?}"
    );
    // Every window read through (asked for more than its first page) holds at most the cap.
    let corpus: Vec<(u64, DateTime<Utc>)> =
        serde_json::from_str::<Vec<serde_json::Value>>(crate::common::ITEMS)
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_u64().unwrap(),
                    at(r["updated_at"].as_str().unwrap()),
                )
            })
            .collect();
    // The windows read (those not narrowed by the next question) hold at most the cap, or are
    // one second wide.
    for (i, &(since, until)) in asked.iter().enumerate() {
        if asked.get(i + 1).is_some_and(|next| next.0 == since) {
            continue;
        }
        let held = corpus
            .iter()
            .filter(|(_, at)| (since..=until).contains(at))
            .count();
        assert!(
            held <= 4 || since == until,
            "[{since}, {until}] holds {held}"
        );
    }
    // Without the cap the first window is read whole.
    let uncapped = Reader::new(&source, wide);
    let (records, _) = uncapped.batch(None);
    assert_eq!(ids(&records), range(ALL));
}

#[test]
fn a_full_batch_fetches_no_further_page() {
    let sim = simulator();
    let source = Items::numbered(&sim, 2);
    let before = requests(&sim);
    let mut wide = settings(3);
    wide.window = TimeDelta::days(1);
    let reader = Reader::new(&source, wide);
    let (records, end) = reader.batch(None);
    assert_eq!(ids(&records), vec![1, 2, 3]);
    assert_eq!(requests(&sim) - before, 2, "{:#?}", sim.request_log());
    assert_eq!(
        end,
        Some(offset(json!({
            "since": "2024-01-01T00:00:00Z",
            "until": "2024-01-01T23:59:59Z",
            "after": 3,
            "page": 2,
            "per_page": 2
        })))
    );
    // The next batch goes straight to page 2 of the window.
    let before = requests(&sim);
    let (records, _) = reader.batch(end.as_ref());
    assert_eq!(ids(&records), vec![4, 5, 6]);
    assert_eq!(requests(&sim) - before, 2, "pages 2 and 3");
}

#[test]
fn a_restart_from_every_offset_of_a_sequence_gives_each_record_exactly_once() {
    let sim = simulator();
    let source = Items::numbered(&sim, 2);
    for cap in [None, Some(4)] {
        for max_records in 1..=5 {
            let mut reader = Reader::new(&source, settings(max_records));
            reader.cap = cap;
            let (all, offsets) = reader.run(None);
            assert_eq!(all, range(ALL), "batches of {max_records}, cap {cap:?}");
            assert_restarts_deliver_the_rest(
                &all,
                &offsets,
                |from| reader.batch(from).0.len(),
                |from| reader.run(Some(from.clone())).0,
                &format!("batches of {max_records}, cap {cap:?}"),
            );
        }
    }
}

#[test]
fn start_date_is_where_the_first_window_begins() {
    let sim = simulator();
    let source = Items::numbered(&sim, 2);
    let mut from_date = settings(100);
    from_date.start_date = Some(at("2024-01-01T00:00:04Z"));
    let reader = Reader::new(&source, from_date);
    let (records, _) = reader.batch(None);
    assert_eq!(ids(&records), vec![8, 9, 10, 11, 12, 13, 14]);
    assert_eq!(reader.asked.borrow()[0].0, at("2024-01-01T00:00:04Z"));
}

#[test]
fn a_lookback_re_read_ends_the_second_before_the_stored_position() {
    // What a connector's lookback does with windows: read `[since - lookback, since - 1s]`
    // again, and keep the stored position.
    let sim = simulator();
    let source = Items::numbered(&sim, 2);
    let reader = Reader::new(&source, settings(100));
    let stored = at("2024-01-01T00:00:05Z");
    let back = WindowPos {
        since: stored - TimeDelta::seconds(2),
        open: None,
    };
    let mut again = Vec::new();
    let reached = reader.read(Some(back), stored - TimeDelta::seconds(1), &mut again);
    assert_eq!(ids(&again), vec![7, 8, 9]);
    assert_eq!(
        reached,
        Some(WindowPos {
            since: stored,
            open: None
        })
    );
}

#[test]
fn read_lookback_reads_again_before_a_position_between_windows_only() {
    let sim = simulator();
    let source = Items::numbered(&sim, 2);
    let mut with_lookback = settings(100);
    with_lookback.lookback = TimeDelta::seconds(2);
    let stored = WindowPos {
        since: at("2024-01-01T00:00:05Z"),
        open: None,
    };
    let reader = Reader::new(&source, with_lookback);
    let again = reader.windowed(|w| read_lookback(w, Some(&stored)).unwrap());
    assert_eq!(ids(&again), vec![7, 8, 9], "[since - 2s, since - 1s] again");
    // Inside an open window, before any position, or without a lookback: nothing.
    let mut small = with_lookback;
    small.max_records = 1;
    let cut = Reader::new(&source, small);
    let open_pos = cut
        .batch(None)
        .1
        .map(|o| WindowPos::parse(&Fields::new("items", &o, &FIELDS).unwrap()).unwrap());
    assert!(open_pos.as_ref().is_some_and(|p| p.open.is_some()));
    assert!(
        reader
            .windowed(|w| read_lookback(w, open_pos.as_ref()).unwrap())
            .is_empty()
    );
    assert!(
        reader
            .windowed(|w| read_lookback(w, None).unwrap())
            .is_empty()
    );
    let plain = Reader::new(&source, settings(100));
    assert!(
        plain
            .windowed(|w| read_lookback(w, Some(&stored)).unwrap())
            .is_empty()
    );
    // A re-read that alone would fill the batch is dropped, so the position can still move.
    let mut two = with_lookback;
    two.max_records = 3;
    let full = Reader::new(&source, two);
    assert!(
        full.windowed(|w| read_lookback(w, Some(&stored)).unwrap())
            .is_empty()
    );
}

#[test]
fn the_oldest_record_is_found_on_the_last_page_of_a_newest_first_listing() {
    let sim = simulator();
    let source = Items::new(&sim);
    let ctx = ctx(&source, settings(100));
    let follow = |url: &str| source.client.get(url);
    let one = source.client.get("/items/newest").query("per_page", 1);
    let oldest = oldest_on_last_page(&ctx, one, &follow, "", ("updated_at", "id")).unwrap();
    assert_eq!(oldest, Some(at("2024-01-01T00:00:00Z")));
    // A listing that is not newest first would make windows start too late: refused.
    let ascending = source.client.get("/items").query("per_page", 1);
    let err = oldest_on_last_page(&ctx, ascending, &follow, "", ("updated_at", "id"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("items"), "{err}");
}
