//! The export strategy (`GET /items/export`, Zendesk's cursor-based export: `start_time`, then
//! `cursor=<after_cursor>` until `end_of_stream`): batches cut inside pages and inside runs of
//! equal `updated_at`, a restart from every offset, start dates, the horizon, and a server that
//! ignores the start time; and the same strategy over a time-based export
//! (`GET /items/time_export`), whose repeated boundary records are delivered once.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Offset, Record, Result};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::export::{Continuation, Export, read_export};
use lakeflow_kit::{ReadCtx, ReadSettings};
use serde_json::Value;

use crate::common::{ALL, Items, at, ctx, ids, misbehaving, range, settings, simulator};

/// One batch of the export over `source`, with `ctx`'s settings.
fn batch(
    source: &Items,
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    batch_keeping(source, ctx, start, &|_| true)
}

/// [`batch`] of a feed that delivers only the records `keep` takes.
fn batch_keeping(
    source: &Items,
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    keep: &dyn Fn(&Record) -> bool,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let per_page = ctx.settings.per_page;
    let first = |since: DateTime<Utc>| -> RequestBuilder {
        source
            .client
            .get("/items/export")
            .query("start_time", since.timestamp())
            .query("per_page", per_page)
    };
    let resume = |token: &str| source.client.get("/items/export").query("cursor", token);
    let continuation = |body: &Value| {
        Ok(Continuation {
            next: body["after_cursor"].as_str().map(str::to_owned),
            end_of_stream: body["end_of_stream"].as_bool().unwrap_or(false),
        })
    };
    let export = Export {
        keep,
        ..items_export(ctx, &first, &resume, &continuation)
    };
    read_export(&export, start)
}

/// The export of the items corpus (by `updated_at`, then `id`, records under `items`) through
/// `first`, `resume` and `continuation`: every record kept, as it is.
fn items_export<'a>(
    ctx: &'a ReadCtx<'a>,
    first: &'a dyn Fn(DateTime<Utc>) -> RequestBuilder,
    resume: &'a dyn Fn(&str) -> RequestBuilder,
    continuation: &'a dyn Fn(&Value) -> Result<Continuation>,
) -> Export<'a> {
    Export {
        ctx,
        cursor: "updated_at",
        key: "id",
        records_path: "items",
        first,
        resume,
        continuation,
        keep: &|_| true,
        expand: None,
        decorate: &|_| {},
    }
}

/// Reads from `start` until the offset stops moving: every id delivered, and every offset.
fn run(source: &Items, settings: ReadSettings, start: Option<Offset>) -> (Vec<u64>, Vec<Offset>) {
    let ctx = ctx(source, settings);
    let (mut delivered, mut offsets, mut at) = (Vec::new(), Vec::new(), start);
    for _ in 0..100 {
        let (records, end) = batch(source, &ctx, at.as_ref()).unwrap();
        assert!(
            records.len() <= settings.max_records,
            "batch over the limit"
        );
        delivered.extend(ids(&records));
        if end == at {
            return (delivered, offsets);
        }
        offsets.extend(end.clone());
        at = end;
    }
    panic!("the export never caught up");
}

#[test]
fn every_record_once_in_order_with_batches_cut_inside_pages_and_ties() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut small = settings(3);
    small.per_page = 4;
    let (delivered, offsets) = run(&source, small, None);
    assert_eq!(delivered, range(ALL));
    assert!(offsets.len() >= 5, "{offsets:?}");
}

#[test]
fn a_restart_from_every_offset_of_a_sequence_gives_each_record_exactly_once() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut small = settings(2);
    small.per_page = 3;
    let (_, offsets) = run(&source, small, None);
    let ctx = ctx(&source, small);
    let mut before = Vec::new();
    let mut at = None;
    for offset in &offsets {
        let (records, end) = batch(&source, &ctx, at.as_ref()).unwrap();
        before.extend(ids(&records));
        at = end;
        assert_eq!(at.as_ref(), Some(offset));
        // What the reads up to `offset` delivered, plus a fresh pass from it (after a trip
        // through JSON text, as the pipeline stores it), is everything, once.
        let text = serde_json::to_string(offset).unwrap();
        let stored: Offset = serde_json::from_str(&text).unwrap();
        let (rest, _) = run(&source, small, Some(stored));
        let mut all = before.clone();
        all.extend(rest);
        assert_eq!(all, range(ALL), "restarting from {offset:?}");
    }
}

#[test]
fn a_caught_up_read_returns_its_offset_and_nothing() {
    let sim = simulator();
    let source = Items::new(&sim);
    let (_, offsets) = run(&source, settings(100), None);
    let last = offsets.last().cloned().unwrap();
    let ctx = ctx(&source, settings(100));
    let (records, end) = batch(&source, &ctx, Some(&last)).unwrap();
    assert!(records.is_empty());
    assert_eq!(end, Some(last));
}

#[test]
fn start_date_and_horizon_bound_what_is_read() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut from_date = settings(100);
    from_date.start_date = Some(at("2024-01-01T00:00:04Z"));
    let (delivered, _) = run(&source, from_date, None);
    assert_eq!(delivered, range(8..=14));
    // Nothing changed after the horizon is delivered; a later read (with a later horizon)
    // goes on from where this one stopped.
    let mut early = ctx(&source, settings(100));
    early.horizon = at("2024-01-01T00:00:03Z");
    let (records, end) = batch(&source, &early, None).unwrap();
    assert_eq!(ids(&records), range(1..=7));
    let (again, stopped) = batch(&source, &early, end.as_ref()).unwrap();
    assert!(
        again.is_empty() && stopped == end,
        "still nothing new before the horizon"
    );
    let late = ctx(&source, settings(100));
    let (rest, _) = batch(&source, &late, end.as_ref()).unwrap();
    assert_eq!(ids(&rest), range(8..=14));
}

#[test]
fn a_server_that_ignores_the_start_time_fails_the_read() {
    let sim = misbehaving(
        "export",
        &[(
            "start_time: { role: filter, field: updated_at, op: gte, required: true }",
            "start_time: { role: ignored }",
        )],
    );
    let source = Items::new(&sim);
    let mut from_date = settings(100);
    from_date.start_date = Some(at("2024-01-01T00:00:04Z"));
    let ctx = ctx(&source, from_date);
    let err = batch(&source, &ctx, None).unwrap_err().to_string();
    assert!(err.contains("items") && err.contains("since"), "{err}");
}

/// One batch of the time-based export (`GET /items/time_export?start_time=<epoch>`, which
/// repeats the records of its boundary second on the next page, as Zendesk's does): the token
/// is the next page's start time, `end_time`.
fn time_batch(
    source: &Items,
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    time_batch_expanding(source, ctx, start, None)
}

/// [`time_batch`], each record becoming the rows `expand` makes of it.
fn time_batch_expanding(
    source: &Items,
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    expand: Option<&dyn Fn(Record) -> Vec<Record>>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let per_page = ctx.settings.per_page;
    let request = |start_time: &str| {
        source
            .client
            .get("/items/time_export")
            .query("start_time", start_time)
            .query("per_page", per_page)
    };
    let first = |since: DateTime<Utc>| request(&since.timestamp().to_string());
    let continuation = |body: &Value| {
        Ok(Continuation {
            next: body["end_time"].as_i64().map(|t| t.to_string()),
            end_of_stream: body["end_of_stream"].as_bool().unwrap_or(false),
        })
    };
    let export = Export {
        expand,
        ..items_export(ctx, &first, &request, &continuation)
    };
    read_export(&export, start)
}

#[test]
fn a_time_based_export_repeating_its_boundaries_delivers_each_record_once() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut small = settings(3);
    small.per_page = 2;
    let ctx = ctx(&source, small);
    let (mut delivered, mut at) = (Vec::new(), None);
    for _ in 0..100 {
        let (records, end) = time_batch(&source, &ctx, at.as_ref()).unwrap();
        assert!(records.len() <= 3);
        delivered.extend(ids(&records));
        if end == at {
            break;
        }
        // Through JSON text, as stored.
        at = end.map(|o| serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap());
    }
    assert_eq!(delivered, range(ALL), "no record lost or repeated");
}

#[test]
fn a_feed_that_keeps_some_records_moves_past_the_others() {
    // As a table's deletions feed reads the same export as its records, keeping only its own.
    let sim = simulator();
    let source = Items::new(&sim);
    let mut small = settings(2);
    small.per_page = 3;
    let ctx = ctx(&source, small);
    let even = |record: &Record| record["id"].as_u64().is_some_and(|id| id % 2 == 0);
    let (mut delivered, mut at) = (Vec::new(), None);
    for _ in 0..100 {
        let (records, end) = batch_keeping(&source, &ctx, at.as_ref(), &even).unwrap();
        assert!(records.len() <= 2);
        delivered.extend(ids(&records));
        if end == at {
            break;
        }
        at = end;
    }
    assert_eq!(delivered, [2, 4, 6, 8, 10, 12, 14]);
}

#[test]
fn records_expanded_into_rows_reach_a_batch_whole_and_once() {
    // As a ticket event becomes one row per comment: here odd records become two rows (ids
    // 10x+1 and 10x+2), even ones none.
    let sim = simulator();
    let source = Items::new(&sim);
    let mut small = settings(3);
    small.per_page = 2;
    let ctx = ctx(&source, small);
    let expand = |record: Record| -> Vec<Record> {
        let id = record["id"].as_u64().unwrap();
        if id.is_multiple_of(2) {
            return Vec::new();
        }
        (1..=2)
            .map(|n| {
                let mut row = record.clone();
                row.insert("id".into(), Value::from(id * 10 + n));
                row
            })
            .collect()
    };
    let (mut delivered, mut at, mut batches) = (Vec::new(), None, 0);
    for _ in 0..100 {
        let (records, end) =
            time_batch_expanding(&source, &ctx, at.as_ref(), Some(&expand)).unwrap();
        assert!(records.len() <= 3, "{} rows", records.len());
        assert!(
            records.len().is_multiple_of(2),
            "a record's rows are never split"
        );
        delivered.extend(ids(&records));
        batches += 1;
        if end == at {
            break;
        }
        at = end;
    }
    let expected: Vec<u64> = range(ALL)
        .into_iter()
        .filter(|id| id % 2 == 1)
        .flat_map(|id| [id * 10 + 1, id * 10 + 2])
        .collect();
    assert_eq!(delivered, expected);
    assert!(batches > expected.len() / 2, "two rows a batch at most");
}
