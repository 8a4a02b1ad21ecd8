//! Listings paged by value, not by position: for a server whose "next page" is an offset into
//! the sorted results (HubSpot's search `after`), where a record edited while the listing is
//! paged moves to the end and shifts every later record back by one, so that the record crossing
//! a page boundary would be skipped.
//!
//! Each query is read for one page only; the next query asks again from the last cursor value
//! looked at (records already looked at in this read are skipped), so an edit between two pages
//! moves nothing the next query depends on. A tie larger than a page cannot be passed that way
//! (the query would return the same page again): it is paged by key instead, with queries for
//! exactly that value and keys after the last one listed. Nothing in either depends on a
//! position, and neither has a cap on how many records a query may page through.
//!
//! Offsets are those of [`crate::ascending`] and mean the same.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Error, Offset, Record, Result};
use lakeflow_http::{Page, RequestBuilder};
use serde_json::Value;

use crate::ascending::{
    Ascending, CURSOR, KEYS, Mark, Scan, Scanner, caught_up, end_offset, key_order, parse,
};
use crate::offset::position;
use crate::promise::{Order, Promise};
use crate::source::objects;
use crate::time::format_ts;

/// One query of a listing read by value; each asks for its results sorted as it says.
#[derive(Debug, Clone, PartialEq)]
pub enum Query<'a> {
    /// Records whose cursor is at or after `since` (after it when not `inclusive`), every record
    /// when `since` is `None`, sorted oldest first by the cursor.
    From {
        /// The cursor value to ask from; `None` asks for every record.
        since: Option<DateTime<Utc>>,
        /// Whether records exactly at `since` are included.
        inclusive: bool,
    },
    /// Records whose cursor is exactly `at` and whose key is after `after` (every one when
    /// `None`), sorted by key: ascending numbers for numeric keys, text order otherwise.
    Tie {
        /// The cursor value the tie group shares.
        at: DateTime<Utc>,
        /// The key to continue after, in key order; `None` starts the group from its first key.
        after: Option<&'a Value>,
    },
}

/// Reads a listing oldest first by asking again from the last value looked at after every page
/// (see the module docs). `request(query)` builds a query's request; its records are at
/// `records_path` of the first page's body. The server must filter exactly at the listing's
/// precision: an inclusive `since` includes the records at it.
pub fn read_by_value(
    asc: &Ascending<'_>,
    start: Option<&Offset>,
    records_path: &str,
    request: &dyn Fn(&Query<'_>) -> RequestBuilder,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let from = parse(asc.ctx.table, start, &[CURSOR, KEYS])?;
    if caught_up(from.as_ref(), asc.ctx.horizon) {
        return Ok((Vec::new(), start.cloned()));
    }
    let lookback = asc.ctx.settings.lookback;
    let mut read = ByValue {
        asc,
        records_path,
        request,
    };
    let mut scan = read.scan(from.as_ref(), lookback)?;
    if scan.newest.is_none() && !scan.complete && lookback > TimeDelta::zero() {
        // The re-read records alone filled the batch: without lookback the position advances.
        scan = read.scan(from.as_ref(), TimeDelta::zero())?;
    }
    let end = end_offset(&scan, start);
    Ok((scan.records, end))
}

struct ByValue<'a> {
    asc: &'a Ascending<'a>,
    records_path: &'a str,
    request: &'a dyn Fn(&Query<'_>) -> RequestBuilder,
}

/// The records this scan has looked at (delivered or skipped) at the newest value reached.
#[derive(Default)]
struct Seen {
    at: Option<DateTime<Utc>>,
    /// The keys at `at`, as JSON text.
    keys: BTreeSet<String>,
}

impl Seen {
    fn covers(&self, at: DateTime<Utc>, key: &Value) -> bool {
        self.at == Some(at) && self.keys.contains(&key.to_string())
    }

    fn add(&mut self, at: DateTime<Utc>, key: &Value) {
        if self.at != Some(at) {
            self.at = Some(at);
            self.keys.clear();
        }
        self.keys.insert(key.to_string());
    }
}

/// A query's first page: its records, and the page they came in.
type Found = (Vec<Record>, Page);

/// The next query to ask.
enum Next {
    From {
        since: Option<DateTime<Utc>>,
        inclusive: bool,
    },
    Tie {
        at: DateTime<Utc>,
        after: Option<Value>,
    },
}

impl ByValue<'_> {
    fn scan(&mut self, from: Option<&Mark>, lookback: TimeDelta) -> Result<Scan> {
        let redeliver = lookback > TimeDelta::zero();
        let mut next = match from {
            Some(mark) if redeliver => Next::From {
                since: Some(mark.at - lookback),
                inclusive: true,
            },
            // Every record at the position was delivered.
            Some(mark) if mark.keys.is_empty() => Next::From {
                since: Some(mark.at),
                inclusive: false,
            },
            Some(mark) => Next::From {
                since: Some(mark.at),
                inclusive: true,
            },
            None => Next::From {
                since: self.asc.ctx.settings.start_date,
                inclusive: true,
            },
        };
        let mut scanner = Scanner::new(self.asc, from, redeliver);
        let mut seen = Seen::default();
        loop {
            let query = match &next {
                Next::From { since, inclusive } => Query::From {
                    since: *since,
                    inclusive: *inclusive,
                },
                Next::Tie { at, after } => Query::Tie {
                    at: *at,
                    after: after.as_ref(),
                },
            };
            let (found, more) = self.first_page(&query)?;
            let (records, page) = found.unzip();
            let mut progressed = false;
            let mut last_key = None;
            for record in records.into_iter().flatten() {
                let kept = (self.asc.keep)(&record);
                let (at, key) =
                    match position(self.asc.ctx.table, &record, self.asc.cursor, self.asc.key) {
                        Ok(position) => position,
                        // Left out, and without a position: nothing to page by.
                        Err(_) if !kept => continue,
                        Err(error) => return Err(error),
                    };
                check_query(self.asc, page.as_ref(), &query, last_key.as_ref(), at, &key)?;
                if !seen.covers(at, &key) {
                    progressed = true;
                    seen.add(at, &key);
                    if kept && !scanner.offer(record)? {
                        return Ok(scanner.finish(false));
                    }
                }
                last_key = Some(key);
            }
            if !more {
                match query {
                    // The last page of a tie (or none: the rest of it was edited away since the
                    // page before): every record at its value was looked at.
                    Query::Tie { at, .. } => {
                        next = Next::From {
                            since: Some(at),
                            inclusive: false,
                        };
                        continue;
                    }
                    Query::From { .. } => return Ok(scanner.finish(true)),
                }
            }
            let Some(at) = seen.at else {
                return Ok(scanner.finish(true));
            };
            next = match query {
                Query::Tie { at, .. } => Next::Tie {
                    at,
                    after: last_key,
                },
                // A full page of records already looked at, all at one value: a tie larger than
                // a page, paged by key from its start.
                Query::From { .. } if !progressed => Next::Tie { at, after: None },
                Query::From { .. } => Next::From {
                    since: Some(at),
                    inclusive: true,
                },
            };
        }
    }

    /// The records of the first page of `query` with the page (checked against what it
    /// promised), if it has any, and whether the server has more after it.
    fn first_page(&self, query: &Query<'_>) -> Result<(Option<Found>, bool)> {
        let ctx = self.asc.ctx;
        let mut pages = ctx.pages((self.request)(query), self.records_path);
        let Some(mut page) = ctx.next_page(&mut pages)? else {
            return Ok((None, false));
        };
        if page.records.is_empty() {
            return Ok((None, false));
        }
        let since = match query {
            Query::From { since, .. } => *since,
            Query::Tie { at, .. } => Some(*at),
        };
        // Every query filters, whatever the listing's `filters_since` says: a server that
        // ignored the filter would have the read ask the same page again and again.
        Promise::new(ctx, self.asc.cursor, self.asc.key, Order::OldestFirst)
            .keep(self.asc.keep)
            .since(since)
            .page(&page)?;
        let records = objects(&ctx.context(), std::mem::take(&mut page.records))?;
        Ok((Some((records, page)), pages.has_next()))
    }
}

/// Checks what the promise does not: that an exclusive query has nothing at its bound (else
/// the read would page the same tie again and again), and that a tie query's records are at its
/// value, keyed after the record before them (or the key the query asked to follow).
fn check_query(
    asc: &Ascending<'_>,
    page: Option<&Page>,
    query: &Query<'_>,
    previous: Option<&Value>,
    at: DateTime<Utc>,
    key: &Value,
) -> Result<()> {
    let cursor = asc.cursor;
    let problem = match query {
        Query::From {
            since: Some(since),
            inclusive: false,
        } if at <= *since => format!(
            "entries with `{cursor}` after {}, but entry {key} has {}",
            format_ts(*since),
            format_ts(at)
        ),
        Query::Tie { at: tie, .. } if at != *tie => format!(
            "entries with `{cursor}` equal to {}, but entry {key} has {}",
            format_ts(*tie),
            format_ts(at)
        ),
        Query::Tie { after, .. } => match previous.or(*after) {
            Some(previous) if key_order(previous, key).is_ge() => {
                format!("keys in ascending order, but {key} came after {previous}")
            }
            _ => return Ok(()),
        },
        Query::From { .. } => return Ok(()),
    };
    Err(Error::Protocol {
        message: format!(
            "table `{}`: {} asked for {problem}; reading on could skip records or never end, so \
             the read stops",
            asc.ctx.table,
            page.map(|p| p.response.url_redacted()).unwrap_or_default(),
        ),
    })
}
