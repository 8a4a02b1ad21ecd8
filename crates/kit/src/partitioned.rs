//! Partitioned streams over oldest-first `since` listings: the changes between two offsets,
//! split into time ranges that are read in parallel.
//!
//! Offsets are those of [`crate::ascending`], so plain and partitioned reads continue each
//! other. The latest offset is `{"cursor": T}`, `T` the newest cursor listed (never past the
//! horizon). A partition is `{"through": T}` plus, for the first one, the start position's
//! `cursor` and `keys_at_cursor`: the records after that position (from `start_date` without
//! one) whose cursor is at or before `T`. Later partitions start at the previous one's `through`.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Offset, Partition, Record, RecordStream, Result};
use lakeflow_http::RequestBuilder;

use crate::ascending::{Ascending, CURSOR, KEYS, Mark, caught_up, parse};
use crate::offset::{Builder, Fields, position};
use crate::promise::{Order, Promise};
use crate::snapshot::Snapshot;
use crate::source::objects;
use crate::time::{SECOND, floor_second};

const THROUGH: &str = "through";

/// Builds a listing's first request: `(since, newest_first, per_page)`.
pub type SinceRequest<'a> = dyn Fn(Option<DateTime<Utc>>, bool, u64) -> RequestBuilder + 'a;

/// The cursor of the first entry the listing gives oldest first (from `since`).
fn oldest_cursor(
    asc: &Ascending<'_>,
    request: &SinceRequest<'_>,
    since: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>> {
    let ctx = asc.ctx;
    let mut pages = ctx.pages(request(since, false, 1), "");
    let Some(page) = ctx.next_page(&mut pages)? else {
        return Ok(None);
    };
    asc.promise(since).page(&page)?;
    objects(&ctx.context(), page.records)?
        .first()
        .map(|first| Ok(position(ctx.table, first, asc.cursor, asc.key)?.0))
        .transpose()
}

/// `{"cursor": T}`: `T` is the newest cursor at or before the horizon of the table's records on
/// the first page listed newest first (the horizon itself when there is none), so that while
/// nothing changes the latest offset stays put. An empty listing gives `start_date` or the Unix epoch.
pub fn latest_offset(asc: &Ascending<'_>, request: &SinceRequest<'_>) -> Result<Offset> {
    let ctx = asc.ctx;
    let mut pages = ctx.pages(request(None, true, ctx.settings.per_page), "");
    let records = match ctx.next_page(&mut pages)? {
        Some(page) => {
            // The newest entry is only the first one if the server sorted newest first; taken
            // on faith, an oldest-first answer would end every stream at the oldest change.
            let promise = Promise::new(ctx, asc.cursor, asc.key, Order::NewestFirst);
            promise.keep(asc.keep).page(&page)?;
            objects(&ctx.context(), page.records)?
        }
        None => Vec::new(),
    };
    let mut at = None;
    for record in records.iter().filter(|r| (asc.keep)(r)) {
        let (cursor, _) = position(ctx.table, record, asc.cursor, asc.key)?;
        if cursor <= ctx.horizon {
            at = Some(cursor);
            break;
        }
    }
    let at = match at {
        Some(at) => at,
        None if records.is_empty() => ctx.settings.start_date.unwrap_or(DateTime::UNIX_EPOCH),
        None => ctx.horizon,
    };
    Ok(Builder::default().instant(CURSOR, at).build())
}

/// Splits the changes after `start` up to `end` into at most `count` time ranges of whole
/// seconds. Nothing is due (no partitions) when `start` covers `end`.
pub fn partitions_between(
    asc: &Ascending<'_>,
    request: &SinceRequest<'_>,
    start: Option<&Offset>,
    end: &Offset,
    count: usize,
) -> Result<Vec<Partition>> {
    let ctx = asc.ctx;
    let table = ctx.table;
    let from = parse(table, start, &[CURSOR, KEYS])?;
    let end_fields = Fields::new(table, end, &[CURSOR])?;
    let through = end_fields.required_instant(CURSOR)?;
    if from.as_ref().is_some_and(|m| m.at > through) || caught_up(from.as_ref(), through) {
        return Ok(Vec::new());
    }
    let low = match &from {
        Some(mark) => mark.at,
        None => {
            let floor = ctx.settings.start_date;
            match oldest_cursor(asc, request, floor.map(|at| at - SECOND))? {
                Some(oldest) => floor.map_or(oldest, |floor| oldest.max(floor)),
                None => return Ok(Vec::new()),
            }
        }
    };
    if low > through {
        return Ok(Vec::new());
    }
    // Whole-second boundaries (a `start_date` may carry a fraction; it still filters).
    let low = floor_second(low);
    let span = (through - low).num_seconds();
    let parts = i64::try_from(count.max(1)).unwrap_or(1).min(span.max(1));
    let mut partitions = Vec::new();
    let mut lower = from;
    for i in 1..=parts {
        // The last range ends exactly at `through`: rounding never leaves records behind it.
        let upper = if i == parts {
            through
        } else {
            low + TimeDelta::seconds(span * i / parts)
        };
        let mut builder = Builder::default();
        if let Some(mark) = &lower {
            builder = builder.instant(CURSOR, mark.at).keys(KEYS, &mark.keys);
        }
        partitions.push(builder.instant(THROUGH, upper).build());
        lower = Some(Mark {
            at: upper,
            keys: Vec::new(),
        });
    }
    Ok(partitions)
}

/// The records of one partition, fetched page by page as the caller consumes them.
pub fn read_partition(
    asc: &Ascending<'_>,
    request: &SinceRequest<'_>,
    partition: &Partition,
    decorate: impl Fn(&mut Record) + Send + 'static,
) -> Result<RecordStream<'static>> {
    let ctx = asc.ctx;
    let table = ctx.table;
    let fields = Fields::new(table, partition, &[CURSOR, KEYS, THROUGH])?;
    let through = fields.required_instant(THROUGH)?;
    let from = if partition.contains_key(CURSOR) {
        parse(table, Some(partition), &[CURSOR, KEYS, THROUGH])?
    } else {
        None
    };
    let floor = if from.is_none() {
        ctx.settings.start_date
    } else {
        None
    };
    // As in plain reads: `since` is inclusive, and the rest of a cut second is asked for from
    // one second earlier; covered records are skipped.
    let since = match &from {
        Some(mark) if mark.keys.is_empty() => Some(mark.at),
        Some(mark) => Some(mark.at - SECOND),
        None => floor.map(|at| at - SECOND),
    };
    let pages = ctx.pages(request(since, false, ctx.settings.per_page), "");
    let (cursor, key, keep) = (asc.cursor.to_owned(), asc.key.to_owned(), asc.keep);
    let table_name = table.to_owned();
    // `Some(deliver)`, or `None` once the listing is past the partition.
    let admit = move |record: &Record| -> Result<Option<bool>> {
        if !keep(record) {
            return Ok(Some(false));
        }
        let (at, key) = position(&table_name, record, &cursor, &key)?;
        if at > through {
            return Ok(None);
        }
        let early = floor.is_some_and(|floor| at < floor);
        let covered = from.as_ref().is_some_and(|m| m.covers(at, &key));
        Ok(Some(!early && !covered))
    };
    // The partition ends at the first record past `through`: only sound if the server sorts
    // and filters as asked, so every page is checked before its records are given.
    let records = Snapshot::new(ctx, pages, decorate)
        .checked(asc.promise(since))
        .map(move |record| record.and_then(|r| Ok((admit(&r)?, r))))
        .take_while(|admitted| !matches!(admitted, Ok((None, _))))
        .filter_map(|admitted| match admitted {
            Ok((Some(true), record)) => Some(Ok(record)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        });
    Ok(Box::new(records))
}
