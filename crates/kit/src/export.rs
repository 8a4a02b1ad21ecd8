//! Incremental exports: every change since a start time, oldest first in `(cursor, key)` order,
//! paged by the server's own continuation token rather than page numbers: Zendesk's cursor
//! exports (`after_cursor`, `end_of_stream`), or its time-based ones, whose token is the next
//! page's start time (`end_time`) and whose pages repeat their boundary records. The token
//! stays valid at the end of the stream, so a caught-up read asks from it again and gets what
//! changed since. A page that neither ends the stream nor moves the token fails the read: going
//! on would loop, and skipping ahead could lose records.
//!
//! Offset: `{"token": T, "after_at": A, "after_key": K}`: resume at the page token `T` fetches
//! (no token: the first page, from `start_date`), skipping records at or before the position
//! `(A, K)` of the last one delivered. So a batch cut inside a page resumes right after its last
//! record, and a page served again (or an export that repeats its boundary records) delivers
//! nothing twice.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Error, Offset, Record, Result};
use lakeflow_http::RequestBuilder;
use serde_json::Value;

use crate::offset::{Builder, Fields, position};
use crate::promise::{Order, Promise};
use crate::source::{ReadCtx, objects};

/// Offset field: the page token to resume at.
pub const TOKEN: &str = "token";
/// Offset field: the change time of the last record delivered.
pub const AFTER_AT: &str = "after_at";
/// Offset field: the key of the last record delivered (orders records sharing `after_at`).
pub const AFTER_KEY: &str = "after_key";
/// Every field an export offset writes.
pub const FIELDS: [&str; 3] = [TOKEN, AFTER_AT, AFTER_KEY];

/// Where a page says the export goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// The token of the next page (at the end of the stream: the one to ask again later).
    pub next: Option<String>,
    /// Whether the page reached the newest change.
    pub end_of_stream: bool,
}

/// How to read one export.
pub struct Export<'a> {
    /// The read this export belongs to (table, page source, settings, horizon).
    pub ctx: &'a ReadCtx<'a>,
    /// Dot path of the change time the export is ordered by (`updated_at`).
    pub cursor: &'a str,
    /// Dot path of the key that orders records sharing a change time (`id`).
    pub key: &'a str,
    /// Where the records are in a page's body.
    pub records_path: &'a str,
    /// The first request: everything changed at or after `since`.
    pub first: &'a dyn Fn(DateTime<Utc>) -> RequestBuilder,
    /// The request for the page a token points at.
    pub resume: &'a dyn Fn(&str) -> RequestBuilder,
    /// A page body's continuation.
    pub continuation: &'a dyn Fn(&Value) -> Result<Continuation>,
    /// Which records this feed delivers (one export can feed a table's records and its
    /// deletions); the others are passed over, and the position moves past them.
    pub keep: &'a dyn Fn(&Record) -> bool,
    /// The rows a kept record becomes, if not itself: an event holding comments becomes one
    /// row per comment, say. A record's rows go into one batch whole (a batch closes before a
    /// record whose rows do not fit, unless it is empty), since the offset is a record's
    /// position.
    pub expand: Option<&'a dyn Fn(Record) -> Vec<Record>>,
    /// Adds the connector's own fields to each row.
    pub decorate: &'a dyn Fn(&mut Record),
}

/// A position in the export: the last record delivered.
type Position = (DateTime<Utc>, Value);

/// One batch of the export from `start`: up to `max_records_per_batch` records (cut on the fly),
/// none changed after the horizon, and the offset to go on from.
///
/// # Errors
/// A foreign offset, an HTTP error, or a server that breaks the export's promises: records out
/// of `(cursor, key)` order or older than the start, or a page that neither ends the stream nor
/// moves its token.
pub fn read_export(
    export: &Export<'_>,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let ctx = export.ctx;
    let (mut token, mut after) = parse(ctx.table, start)?;
    let since = ctx.settings.start_date.unwrap_or(DateTime::UNIX_EPOCH);
    let mut promise = Promise::new(ctx, export.cursor, export.key, Order::OldestFirst)
        .since(token.is_none().then_some(since));
    let mut out = Vec::new();
    loop {
        let request = match &token {
            Some(token) => (export.resume)(token),
            None => (export.first)(since),
        };
        // One page: the export's own token, not the client's pagination, leads to the next.
        let mut pages = ctx.pages(request, export.records_path);
        let Some(page) = ctx.next_page(&mut pages)? else {
            return Err(protocol(ctx, "answered an export request with no page"));
        };
        promise.page(&page)?;
        for record in objects(&ctx.context(), page.records)? {
            let at = position(ctx.table, &record, export.cursor, export.key)?;
            if after.as_ref().is_some_and(|seen| !is_after(&at, seen)) {
                continue;
            }
            if at.0 > ctx.horizon || out.len() >= ctx.settings.max_records {
                // Left to a later read: this page again, after what was delivered.
                return Ok((out, Some(write(token.as_deref(), after.as_ref()))));
            }
            if (export.keep)(&record) {
                let rows = match export.expand {
                    Some(expand) => expand(record),
                    None => vec![record],
                };
                if !out.is_empty() && out.len() + rows.len() > ctx.settings.max_records {
                    return Ok((out, Some(write(token.as_deref(), after.as_ref()))));
                }
                for mut row in rows {
                    (export.decorate)(&mut row);
                    out.push(row);
                }
            }
            after = Some(at);
        }
        let next = (export.continuation)(&page.body)?;
        let moved = next.next.is_some() && next.next != token;
        if next.end_of_stream || !moved {
            if !next.end_of_stream {
                return Err(protocol(
                    ctx,
                    "served a page that neither ends the export nor moves its cursor",
                ));
            }
            if out.is_empty() {
                // Caught up: the same offset, whatever token the server hands out this time.
                return Ok((
                    Vec::new(),
                    start.cloned().or_else(|| {
                        Some(write(
                            next.next.as_deref().or(token.as_deref()),
                            after.as_ref(),
                        ))
                    }),
                ));
            }
            let token = next.next.or(token);
            return Ok((out, Some(write(token.as_deref(), after.as_ref()))));
        }
        token = next.next;
    }
}

/// `next` sorts after `seen` in `(cursor, key)` order.
fn is_after(next: &Position, seen: &Position) -> bool {
    match next.0.cmp(&seen.0) {
        std::cmp::Ordering::Equal => key_after(&next.1, &seen.1),
        ordering => ordering.is_gt(),
    }
}

/// Keys compare as numbers when both are, as strings when both are; keys of two kinds are taken
/// as new (a repeat beats a loss).
fn key_after(next: &Value, seen: &Value) -> bool {
    let number = |v: &Value| {
        v.as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from))
    };
    match (next, seen) {
        (Value::String(a), Value::String(b)) => a > b,
        _ => match (number(next), number(seen)) {
            (Some(a), Some(b)) => a > b,
            _ => true,
        },
    }
}

fn parse(table: &str, start: Option<&Offset>) -> Result<(Option<String>, Option<Position>)> {
    let Some(start) = start else {
        return Ok((None, None));
    };
    let fields = Fields::new(table, start, &FIELDS)?;
    let token = match start.get(TOKEN) {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(token.clone()),
        Some(other) => return Err(fields.invalid(format!("`{TOKEN}` is {other}, not a token"))),
    };
    let after = match (fields.instant(AFTER_AT)?, fields.key(AFTER_KEY)?) {
        (Some(at), Some(key)) => Some((at, key)),
        (None, None) => None,
        _ => return Err(fields.invalid(format!("`{AFTER_AT}` and `{AFTER_KEY}` go together"))),
    };
    Ok((token, after))
}

fn write(token: Option<&str>, after: Option<&Position>) -> Offset {
    let mut builder = Builder::default();
    if let Some(token) = token {
        builder = builder.value(TOKEN, Value::from(token));
    }
    if let Some((at, key)) = after {
        builder = builder.instant(AFTER_AT, *at).value(AFTER_KEY, key.clone());
    }
    builder.build()
}

fn protocol(ctx: &ReadCtx<'_>, what: &str) -> Error {
    Error::Protocol {
        message: format!("{}: {} {what}", ctx.context(), ctx.source.service()),
    }
}
