//! Ascending cursors: limit-on-the-fly over listings sorted oldest first (filtered with `since`,
//! or paged from a hint), and over short listings read whole and sorted here.
//!
//! Offset: `{"cursor": T}` means every record whose cursor is at or before `T` was delivered;
//! `{"cursor": T, "keys_at_cursor": [..]}`, written when a batch stops inside a group of records
//! sharing `T`, means every record before `T` and those at `T` with the listed keys. The next
//! read starts at `T` and skips what was delivered, so a tie group is never lost and never
//! delivered twice, and every read makes progress even when the group is larger than a batch.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Offset, Record, Result};
use lakeflow_http::{Page, RequestBuilder};
use serde_json::Value;

use crate::offset::{Builder, Fields, position};
use crate::promise::{Order, Promise};
use crate::source::{ReadCtx, objects};
use crate::time::SECOND;

/// Offset field: the cursor value up to which every record was delivered.
pub const CURSOR: &str = "cursor";
/// Offset field: the keys of the records at `cursor` already delivered (when a batch stopped
/// inside a tie group).
pub const KEYS: &str = "keys_at_cursor";
const PAGE: &str = "page";
const PER_PAGE: &str = "per_page";

/// How to read one ascending listing.
pub struct Ascending<'a> {
    /// The read this listing belongs to (table, page source, settings, horizon).
    pub ctx: &'a ReadCtx<'a>,
    /// Dot path of the cursor field (`updated_at`, `starred_at`).
    pub cursor: &'a str,
    /// Dot path of the key (`id`, `user.id`).
    pub key: &'a str,
    /// Whether a listed record belongs to the table (a listing may mix in records of another
    /// table, or drafts without a cursor yet). Records left out do not count towards the batch
    /// and do not move the position.
    pub keep: fn(&Record) -> bool,
    /// Whether the listing's request applies `since` (a listing read whole does not), so that
    /// entries before it are a broken promise.
    pub filters_since: bool,
    /// Adds the connector's own fields (`repository_owner`, ...).
    pub decorate: &'a dyn Fn(&mut Record),
}

impl Ascending<'_> {
    /// What the listing promises: oldest first by the cursor and, when it applies `since`, no
    /// entry before it.
    pub fn promise(&self, since: Option<DateTime<Utc>>) -> Promise {
        Promise::new(self.ctx, self.cursor, self.key, Order::OldestFirst)
            .keep(self.keep)
            .since(since.filter(|_| self.filters_since))
    }
}

impl Ascending<'_> {
    /// Whether a scan will need the page after the one given, for fetching it ahead: not once
    /// the records listed so far (kept or not) could fill the batch, nor when the page ends
    /// past the horizon (the scan stops there). Never yes where the scan may stop: a batch's
    /// requests are those of reading page by page.
    fn needs_next_page(&self) -> impl FnMut(&Page) -> bool + Send + 'static {
        let table = self.ctx.table.to_owned();
        let (cursor, key) = (self.cursor.to_owned(), self.key.to_owned());
        let (max_records, horizon) = (self.ctx.settings.max_records, self.ctx.horizon);
        let mut listed = 0usize;
        move |page| {
            listed += page.records.len();
            let last = page.records.last().and_then(Value::as_object);
            let within_horizon = last
                .and_then(|record| position(&table, record, &cursor, &key).ok())
                .is_some_and(|(at, _)| at <= horizon);
            listed < max_records && within_horizon
        }
    }
}

/// A position: records before `at` and, at `at`, those with `keys` (all of them when empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The cursor value of the position.
    pub at: DateTime<Utc>,
    /// Keys of the records at `at` already delivered; empty means all of them.
    pub keys: Vec<Value>,
}

impl Mark {
    /// Whether a record at `at` with `key` is at or before this position (already delivered).
    pub fn covers(&self, at: DateTime<Utc>, key: &Value) -> bool {
        at < self.at || (at == self.at && (self.keys.is_empty() || self.keys.contains(key)))
    }
}

/// What a scan saw.
pub(crate) struct Scan {
    pub(crate) records: Vec<Record>,
    /// The position after the newest record not covered by the start.
    pub(crate) newest: Option<Mark>,
    /// Whether every record up to the horizon was seen (the batch limit did not stop the scan).
    pub(crate) complete: bool,
}

/// Scans records one at a time, deciding what to deliver and where the position moves.
pub(crate) struct Scanner<'a> {
    asc: &'a Ascending<'a>,
    from: Option<&'a Mark>,
    /// Lower bound on the first read (`start_date`).
    floor: Option<DateTime<Utc>>,
    /// Whether records the start position covers are delivered again (lookback).
    redeliver: bool,
    scan: Scan,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(asc: &'a Ascending<'a>, from: Option<&'a Mark>, redeliver: bool) -> Self {
        let floor = match from {
            Some(_) => None,
            None => asc.ctx.settings.start_date,
        };
        Self {
            asc,
            from,
            floor,
            redeliver,
            scan: Scan {
                records: Vec::new(),
                newest: None,
                complete: false,
            },
        }
    }

    /// Takes the next record of the listing; `false` once the scan is over: the batch is full,
    /// or the listing has reached records newer than the horizon (left to the next run).
    pub(crate) fn offer(&mut self, mut record: Record) -> Result<bool> {
        let ctx = self.asc.ctx;
        if !(self.asc.keep)(&record) {
            return Ok(true);
        }
        let (at, key) = position(ctx.table, &record, self.asc.cursor, self.asc.key)?;
        if at > ctx.horizon {
            self.scan.complete = true;
            return Ok(false);
        }
        if self.floor.is_some_and(|floor| at < floor) {
            return Ok(true);
        }
        let covered = self.from.is_some_and(|m| m.covers(at, &key));
        if covered && !self.redeliver {
            return Ok(true);
        }
        if !covered {
            match &mut self.scan.newest {
                Some(mark) if mark.at == at => mark.keys.push(key),
                newest => {
                    let mut keys = self
                        .from
                        .filter(|m| m.at == at)
                        .map(|m| m.keys.clone())
                        .unwrap_or_default();
                    keys.push(key);
                    *newest = Some(Mark { at, keys });
                }
            }
        }
        (self.asc.decorate)(&mut record);
        self.scan.records.push(record);
        Ok(self.scan.records.len() < ctx.settings.max_records)
    }

    /// Offers every record of a page; `false` once the scan is over.
    fn offer_all(&mut self, records: Vec<Value>) -> Result<bool> {
        for record in objects(&self.asc.ctx.context(), records)? {
            if !self.offer(record)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(crate) fn finish(mut self, exhausted: bool) -> Scan {
        self.scan.complete |= exhausted;
        self.scan
    }
}

/// The position an ascending offset records (`None` without an offset), after checking it
/// has no field outside `allowed`.
pub fn parse(table: &str, start: Option<&Offset>, allowed: &[&str]) -> Result<Option<Mark>> {
    let Some(offset) = start else { return Ok(None) };
    let fields = Fields::new(table, offset, allowed)?;
    Ok(Some(Mark {
        at: fields.required_instant(CURSOR)?,
        keys: fields.keys(KEYS)?,
    }))
}

/// Whether a read from `mark` can find nothing: it is past the horizon.
pub fn caught_up(mark: Option<&Mark>, horizon: DateTime<Utc>) -> bool {
    mark.is_some_and(|m| m.at > horizon || (m.at == horizon && m.keys.is_empty()))
}

pub(crate) fn end_offset(scan: &Scan, start: Option<&Offset>) -> Option<Offset> {
    match &scan.newest {
        None => start.cloned(),
        Some(newest) => {
            // A complete scan saw every record at the newest value: no keys to remember.
            let keys: &[Value] = if scan.complete { &[] } else { &newest.keys };
            Some(
                Builder::default()
                    .instant(CURSOR, newest.at)
                    .keys(KEYS, keys)
                    .build(),
            )
        }
    }
}

/// Reads a listing that the server filters with an inclusive `since` and sorts oldest first.
/// `request(since)` builds its first request.
pub fn read_since(
    asc: &Ascending<'_>,
    start: Option<&Offset>,
    request: &dyn Fn(Option<DateTime<Utc>>) -> RequestBuilder,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let table = asc.ctx.table;
    let from = parse(table, start, &[CURSOR, KEYS])?;
    if caught_up(from.as_ref(), asc.ctx.horizon) {
        return Ok((Vec::new(), start.cloned()));
    }
    let lookback = asc.ctx.settings.lookback;
    let mut scan = scan_since(asc, from.as_ref(), lookback, request)?;
    if scan.newest.is_none() && !scan.complete && lookback > TimeDelta::zero() {
        // The re-read records alone filled the batch: without lookback the position advances.
        scan = scan_since(asc, from.as_ref(), TimeDelta::zero(), request)?;
    }
    let end = end_offset(&scan, start);
    Ok((scan.records, end))
}

fn scan_since(
    asc: &Ascending<'_>,
    from: Option<&Mark>,
    lookback: TimeDelta,
    request: &dyn Fn(Option<DateTime<Utc>>) -> RequestBuilder,
) -> Result<Scan> {
    // `since` is inclusive. Where the rest of a second is still due (a tie group cut
    // by the batch size, or `start_date`), ask from a second earlier, so those records come
    // back even from a server that reads `since` as exclusive or to the second; covered records
    // are skipped.
    let since = match from {
        Some(mark) if lookback > TimeDelta::zero() => Some(mark.at - lookback),
        Some(mark) if mark.keys.is_empty() => Some(mark.at),
        Some(mark) => Some(mark.at - SECOND),
        None => asc.ctx.settings.start_date.map(|at| at - SECOND),
    };
    let mut scanner = Scanner::new(asc, from, lookback > TimeDelta::zero());
    let mut pages = asc
        .ctx
        .pages(request(since), "")
        .read_ahead(asc.needs_next_page());
    // The scan stops at the first record past the horizon and takes the rest as complete: only
    // sound if the server sorts and filters as asked.
    let mut promise = asc.promise(since);
    while let Some(mut page) = asc.ctx.next_page(&mut pages)? {
        promise.page(&page)?;
        if !scanner.offer_all(std::mem::take(&mut page.records))? {
            return Ok(scanner.finish(false));
        }
    }
    Ok(scanner.finish(true))
}

/// Reads a short listing whole and sorts it here by (cursor, key), for a listing the server does
/// not sort by the cursor (listed by id, say, where an entry created early may reach its cursor
/// after a later one), with the records at `records_path` of each page. `check` vets each page
/// for what the page walk itself relies on.
///
/// Offsets are those of [`read_since`] and mean the same (everything at or before `cursor`, and
/// at it the `keys_at_cursor`), so offsets the table wrote before it sorted here still resume:
/// they were only ever right where the listing happened to be in cursor order, and then they
/// name the same records.
pub fn read_whole(
    asc: &Ascending<'_>,
    start: Option<&Offset>,
    request: RequestBuilder,
    records_path: &str,
    check: &mut dyn FnMut(&Page) -> Result<()>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let table = asc.ctx.table;
    let from = parse(table, start, &[CURSOR, KEYS])?;
    if caught_up(from.as_ref(), asc.ctx.horizon) {
        return Ok((Vec::new(), start.cloned()));
    }
    let context = asc.ctx.context();
    let mut listed = Vec::new();
    let mut pages = asc.ctx.pages(request, records_path);
    while let Some(page) = asc.ctx.next_page(&mut pages)? {
        check(&page)?;
        for record in objects(&context, page.records)? {
            if (asc.keep)(&record) {
                let (at, key) = position(table, &record, asc.cursor, asc.key)?;
                listed.push((at, key, record));
            }
        }
    }
    listed.sort_by(|(a, a_key, _), (b, b_key, _)| a.cmp(b).then_with(|| key_order(a_key, b_key)));
    // Lookback re-delivers what the start covers back to `lookback` before it, as `since` does.
    let lookback = asc.ctx.settings.lookback;
    let scan = |lookback: TimeDelta| -> Result<Scan> {
        let redeliver = lookback > TimeDelta::zero();
        let since = from.as_ref().filter(|_| redeliver).map(|m| m.at - lookback);
        let mut scanner = Scanner::new(asc, from.as_ref(), redeliver);
        let mut due = listed
            .iter()
            .filter(|(at, ..)| since.is_none_or(|s| *at >= s))
            .peekable();
        while let Some((at, _, record)) = due.next() {
            if !scanner.offer(record.clone())? {
                // The whole listing is at hand: a batch that ends with its second has seen every
                // record of that second, and needs no keys to resume.
                let whole_second = due.peek().is_none_or(|(next, ..)| next > at);
                return Ok(scanner.finish(whole_second));
            }
        }
        Ok(scanner.finish(true))
    };
    let mut found = scan(lookback)?;
    if found.newest.is_none() && !found.complete && lookback > TimeDelta::zero() {
        // The re-read records alone filled the batch: without lookback the position advances.
        found = scan(TimeDelta::zero())?;
    }
    let end = end_offset(&found, start);
    Ok((found.records, end))
}

/// Orders keys: ids by value (numbers, or numbers written as text as HubSpot writes them),
/// anything else by its JSON text.
pub(crate) fn key_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    let number = |key: &Value| key.as_u64().or_else(|| key.as_str()?.parse().ok());
    match (number(a), number(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Reads a listing sorted oldest first that takes no `since`: pages are walked from
/// the page the previous read stopped on, kept in the offset as a hint.
///
/// The hint is checked, not trusted: records only ever leave such a listing (an entry is removed) or
/// join at its end, so a page whose first record was already delivered has only delivered
/// records before it. If the first record is new, earlier records may have moved onto the page
/// before, and the read steps back a page.
pub fn read_paged(
    asc: &Ascending<'_>,
    start: Option<&Offset>,
    request: &dyn Fn() -> RequestBuilder,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let table = asc.ctx.table;
    let allowed = [CURSOR, KEYS, PAGE, PER_PAGE];
    let from = parse(table, start, &allowed)?;
    if caught_up(from.as_ref(), asc.ctx.horizon) {
        return Ok((Vec::new(), start.cloned()));
    }
    let per_page = asc.ctx.settings.per_page;
    let mut hint = match start {
        Some(offset) => {
            let fields = Fields::new(table, offset, &allowed)?;
            let page = fields.integer(PAGE)?.unwrap_or(1).max(1);
            // The same records under another page size sit on another page.
            let old = fields.integer(PER_PAGE)?.unwrap_or(per_page).max(1);
            (page - 1) * old / per_page + 1
        }
        None => 1,
    };
    let (mut pages, first) = loop {
        let mut pages = asc.ctx.pages(asc.ctx.source.at_page(request(), hint), "");
        let first = asc.ctx.next_page(&mut pages)?;
        let settled = first
            .as_ref()
            .and_then(|p| p.records.first())
            .and_then(Value::as_object)
            .map(|r| position(table, r, asc.cursor, asc.key))
            .transpose()?
            .is_some_and(|(at, key)| from.as_ref().is_some_and(|m| m.covers(at, &key)));
        if settled || hint == 1 {
            break (pages, first);
        }
        hint -= 1;
    };
    let mut scanner = Scanner::new(asc, from.as_ref(), false);
    let mut page_of_newest = hint;
    let mut current = first;
    let mut exhausted = true;
    // The hint and the position both assume the listing is oldest first.
    let mut promise = asc.promise(None);
    while let Some(page) = current {
        promise.page(&page)?;
        let number = hint + u64::try_from(page.number).unwrap_or(1) - 1;
        let before = scanner.scan.newest.clone();
        let more = scanner.offer_all(page.records)?;
        if scanner.scan.newest != before {
            page_of_newest = number;
        }
        if !more {
            exhausted = false;
            break;
        }
        current = asc.ctx.next_page(&mut pages)?;
    }
    let scan = scanner.finish(exhausted);
    let end = end_offset(&scan, start).map(|mut offset| {
        if scan.newest.is_some() {
            offset.insert(PAGE.to_owned(), page_of_newest.into());
            offset.insert(PER_PAGE.to_owned(), per_page.into());
        }
        offset
    });
    Ok((scan.records, end))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::time::parse_ts;

    #[test]
    fn marks_cover_what_was_delivered() {
        let at = parse_ts("2024-03-01T10:00:00Z").unwrap();
        let partial = Mark {
            at,
            keys: vec![json!(7)],
        };
        assert!(partial.covers(at - SECOND, &json!(1)));
        assert!(partial.covers(at, &json!(7)));
        assert!(
            !partial.covers(at, &json!(8)),
            "the rest of the tie group is still due"
        );
        assert!(!partial.covers(at + SECOND, &json!(7)));
        let whole = Mark { at, keys: vec![] };
        assert!(whole.covers(at, &json!(8)));
        assert!(
            !caught_up(Some(&partial), at),
            "keys at the horizon: more may follow"
        );
        assert!(caught_up(Some(&whole), at));
        assert!(caught_up(Some(&partial), at - SECOND));
        assert!(!caught_up(None, at));
    }
}
