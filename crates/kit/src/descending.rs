//! Newest first: limit-on-the-fly over listings the server only sorts newest first and cannot
//! filter by time. An entry may be a record, or a parent whose children are the records.
//!
//! A *pass* delivers everything changed after the stored cursor, from the newest record down,
//! and stops at the first record at or before the cursor. A batch that fills up ends the read
//! inside the pass, with the pass's position in the offset:
//!
//! - `{"cursor": C}`: every record at or before `C` was delivered (between passes);
//! - `{"cursor": C, "pass_top": T, "until": U, "keys_at_until": [..], "child": {..}, "page": P,
//!   "per_page": N}`: a pass that started at `T`, newest first, and delivered everything after
//!   `U` and the records at `U` with the listed keys; `child` is how far the records of a partly
//!   read entry got (its children); the batch stopped on page `P` of `N` records.
//!
//! The next read of the pass starts at page `P`, so a long pass costs about one request per page
//! and one per batch rather than a walk from page 1 on every batch. The page is a hint, checked
//! before it is trusted: entries only move up this listing (a change lifts an entry to the top,
//! pushing the rest down), so a page whose first entry the pass already covers has nothing due
//! before it. When the first entry is not covered (entries left the listing and the rest moved
//! up), the read steps back a page and checks again.
//!
//! When the pass reaches the cursor, the offset becomes `{"cursor": T}`. A record changed while
//! a pass is under way rises above `T` and is read by the next pass, so nothing is lost; within
//! a pass nothing is delivered twice, and every read makes progress.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Offset, Record, Result};
use lakeflow_http::{Page, Pages, RequestBuilder};
use serde_json::{Map, Value};

use crate::offset::{Builder, Fields, position};
use crate::promise::{Order, Promise};
use crate::source::{ReadCtx, objects};

const CURSOR: &str = "cursor";
const TOP: &str = "pass_top";
const UNTIL: &str = "until";
const KEYS: &str = "keys_at_until";
const CHILD: &str = "child";
const PAGE: &str = "page";
const PER_PAGE: &str = "per_page";
const FIELDS: [&str; 7] = [CURSOR, TOP, UNTIL, KEYS, CHILD, PAGE, PER_PAGE];

/// How to read one newest-first listing.
pub struct Descending<'a> {
    /// The read this listing belongs to (table, page source, settings, horizon).
    pub ctx: &'a ReadCtx<'a>,
    /// Dot path of the cursor field the listing is sorted by (`updated_at`, `created_at`).
    pub cursor: &'a str,
    /// Dot path of the key.
    pub key: &'a str,
}

/// Delivers one listed entry into the batch: the entry itself, or its children. Called with the
/// entry, where a previous read left it (if it did), the batch, and how many records the batch
/// still has room for.
pub type Visitor<'v> =
    dyn FnMut(Record, Option<&Map<String, Value>>, &mut Vec<Record>, usize) -> Result<Visit> + 'v;

/// What visiting one listed entry delivered.
pub enum Visit {
    /// Everything it had.
    Done,
    /// The batch filled up first; the position within the entry, to resume from.
    Partial(Map<String, Value>),
}

/// Where a pass is: started at `top`, delivered everything after `until` (and the entries at
/// `until` with `keys`); `child` resumes a partly visited entry.
#[derive(Debug, Clone)]
struct Pass {
    top: DateTime<Utc>,
    until: Option<(DateTime<Utc>, Vec<Value>)>,
    child: Option<Map<String, Value>>,
    /// The page the previous batch stopped on, and the page size it was counted in.
    page: Option<(u64, u64)>,
}

impl Pass {
    fn covers(&self, at: DateTime<Utc>, key: &Value) -> bool {
        self.until
            .as_ref()
            .is_some_and(|(until, keys)| at > *until || (at == *until && keys.contains(key)))
    }
}

fn parse(table: &str, start: Option<&Offset>) -> Result<(Option<DateTime<Utc>>, Option<Pass>)> {
    let Some(offset) = start else {
        return Ok((None, None));
    };
    let fields = Fields::new(table, offset, &FIELDS)?;
    let cursor = fields.instant(CURSOR)?;
    let pass = match fields.instant(TOP)? {
        None => None,
        Some(top) => Some(Pass {
            top,
            until: fields
                .instant(UNTIL)?
                .map(|until| Ok::<_, lakeflow_connect::Error>((until, fields.keys(KEYS)?)))
                .transpose()?,
            child: fields.object(CHILD)?.cloned(),
            page: fields
                .integer(PAGE)?
                .map(|page| Ok::<_, lakeflow_connect::Error>((page, fields.integer(PER_PAGE)?)))
                .transpose()?
                .map(|(page, per_page)| (page.max(1), per_page.unwrap_or(0))),
        }),
    };
    if cursor.is_none() && pass.is_none() {
        return Err(lakeflow_connect::Error::invalid_offset(
            table,
            format!("`{CURSOR}` is missing"),
        ));
    }
    Ok((cursor, pass))
}

/// Reads one batch of a newest-first listing, starting with `request`. `visit` delivers an entry
/// into the batch (the entry itself, or its children) with at most `room` records, given where a
/// previous read left it (`child`).
pub fn read_newest_first(
    desc: &Descending<'_>,
    start: Option<&Offset>,
    request: &RequestBuilder,
    visit: &mut Visitor<'_>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let ctx = desc.ctx;
    let table = ctx.table;
    let (cursor, pass) = parse(table, start)?;
    if pass.is_none() && cursor.is_some_and(|c| c >= ctx.horizon) {
        return Ok((Vec::new(), start.cloned()));
    }
    let lookback = ctx.settings.lookback;
    // Entries below this end the pass: at or before the cursor (minus the lookback), or before
    // `start_date` on the first pass.
    let ended = |at: DateTime<Utc>| match cursor {
        Some(c) if lookback.is_zero() => at <= c,
        Some(c) => at < c - lookback,
        None => ctx.settings.start_date.is_some_and(|floor| at < floor),
    };
    let max = ctx.settings.max_records;
    let mut records = Vec::new();
    let mut top = pass.as_ref().map(|p| p.top);
    let mut until = pass.as_ref().and_then(|p| p.until.clone());
    let mut child: Option<Map<String, Value>> = None;
    let mut complete = true;
    // The cursor of the entry the batch filled up on.
    let mut stopped_at = None;
    let context = ctx.context();
    let (mut pages, first_page, mut current) = open_at_hint(desc, pass.as_ref(), request)?;
    let mut page_of_last = first_page;
    // A pass ends at the first entry at or before the cursor, and the page hint is trusted once
    // its first entry is covered: both only sound if the server lists newest first.
    let mut promise = Promise::new(ctx, desc.cursor, desc.key, Order::NewestFirst);
    'pages: while let Some(page) = current.take() {
        promise.page(&page)?;
        let number = first_page + u64::try_from(page.number).unwrap_or(1) - 1;
        for entry in objects(&context, page.records)? {
            let (at, key) = position(table, &entry, desc.cursor, desc.key)?;
            if at > ctx.horizon || pass.as_ref().is_some_and(|p| p.covers(at, &key)) {
                continue;
            }
            if ended(at) {
                break 'pages;
            }
            top.get_or_insert(at);
            page_of_last = number;
            let resume = pass
                .as_ref()
                .and_then(|p| p.child.as_ref())
                .filter(|c| c.get("key") == Some(&key));
            let room = max - records.len();
            match visit(entry, resume, &mut records, room)? {
                Visit::Done => match &mut until {
                    Some((u, keys)) if *u == at => keys.push(key),
                    other => *other = Some((at, vec![key])),
                },
                Visit::Partial(mut position) => {
                    position.insert("key".to_owned(), key);
                    child = Some(position);
                    complete = false;
                    stopped_at = Some(at);
                    break 'pages;
                }
            }
            if records.len() >= max {
                complete = false;
                stopped_at = Some(at);
                break 'pages;
            }
        }
        current = ctx.next_page(&mut pages)?;
    }
    // A batch that fills up with entries at or before the cursor is re-reading the lookback:
    // everything newer was delivered. Ending the pass there keeps a lookback wider than a batch
    // from leaving every read unfinished (the reads would never catch up).
    if !complete && stopped_at.zip(cursor).is_some_and(|(at, c)| at <= c) {
        tracing::warn!(table, lookback = %lookback,
            "more entries within the lookback than one batch holds; not re-reading the rest (raise max_records_per_batch or lower the lookback)");
        complete = true;
    }
    let Some(top) = top else {
        // The pass found nothing after the cursor.
        return Ok((records, start.cloned()));
    };
    let end = if complete {
        // The stored cursor never moves back, even when the lookback re-read older entries.
        let newest = cursor.map_or(top, |c| c.max(top));
        let end = Builder::default().instant(CURSOR, newest).build();
        if start == Some(&end) {
            start.cloned()
        } else {
            Some(end)
        }
    } else {
        let mut builder = Builder::default().instant(TOP, top);
        if let Some(c) = cursor {
            builder = builder.instant(CURSOR, c);
        }
        if let Some((u, keys)) = &until {
            builder = builder.instant(UNTIL, *u).keys(KEYS, keys);
        }
        if let Some(child) = child {
            builder = builder.value(CHILD, Value::Object(child));
        }
        builder = builder
            .value(PAGE, page_of_last.into())
            .value(PER_PAGE, ctx.settings.per_page.into());
        Some(builder.build())
    };
    Ok((records, end))
}

/// Opens the listing for a read of `pass`: at the page the previous batch stopped on, once its
/// first entry proves nothing is due on the pages before it (see the module docs); otherwise a
/// page earlier, down to page 1. Returns the pages, the number of the first, and the first.
fn open_at_hint(
    desc: &Descending<'_>,
    pass: Option<&Pass>,
    request: &RequestBuilder,
) -> Result<(Pages, u64, Option<Page>)> {
    let ctx = desc.ctx;
    let per_page = ctx.settings.per_page.max(1);
    let mut hint = match pass.and_then(|p| p.page) {
        // The same entries under another page size sit on another page.
        Some((page, old)) => (page - 1) * if old == 0 { per_page } else { old } / per_page + 1,
        None => 1,
    };
    loop {
        let request = match hint {
            1 => request.clone(),
            _ => ctx.source.at_page(request.clone(), hint),
        };
        let mut pages = ctx.pages(request, "");
        let first = ctx.next_page(&mut pages)?;
        if hint == 1 {
            return Ok((pages, hint, first));
        }
        let lead = first
            .as_ref()
            .and_then(|p| p.records.first())
            .and_then(Value::as_object)
            .map(|e| position(ctx.table, e, desc.cursor, desc.key))
            .transpose()?;
        let settled = lead
            .is_some_and(|(at, key)| at > ctx.horizon || pass.is_some_and(|p| p.covers(at, &key)));
        if settled {
            return Ok((pages, hint, first));
        }
        hint -= 1;
    }
}

/// The visit of a table whose entries are its records.
pub fn deliver<'a>(decorate: &'a dyn Fn(&mut Record)) -> Box<Visitor<'a>> {
    Box::new(move |mut record, _, out, _| {
        decorate(&mut record);
        out.push(record);
        Ok(Visit::Done)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::time::parse_ts;

    #[test]
    fn passes_parse_and_cover_what_they_delivered() {
        let offset = json!({
            "cursor": "2024-01-01T00:00:00Z",
            "pass_top": "2024-03-01T00:00:00Z",
            "until": "2024-02-01T00:00:00Z",
            "keys_at_until": [5],
            "child": {"key": 6, "after": 99}
        });
        let (cursor, pass) = parse("pull_requests", offset.as_object()).unwrap();
        assert_eq!(cursor, parse_ts("2024-01-01T00:00:00Z"));
        let pass = pass.unwrap();
        let until = parse_ts("2024-02-01T00:00:00Z").unwrap();
        assert!(pass.covers(parse_ts("2024-02-15T00:00:00Z").unwrap(), &json!(1)));
        assert!(pass.covers(until, &json!(5)));
        assert!(!pass.covers(until, &json!(6)));
        assert_eq!(pass.child.unwrap()["after"], 99);
        let err = parse(
            "pull_requests",
            json!({"until": "2024-02-01T00:00:00Z"}).as_object(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`cursor` is missing"), "{err}");
    }
}
