//! Reading a table: a backfill of its list in `created` windows, then the events feed; or, for
//! append tables, `created` windows for ever.
//!
//! Offsets of a table read through events:
//! - `{"phase": "backfill", "events_from": T0, "since": ..., ...}` while the backfill runs: the
//!   kit's window position over `created`, up to `T0` (the horizon when the backfill began),
//!   and `"reread": true` when it re-reads a table whose events were lost;
//! - `{"phase": "events", "cursor": T, "seen": [ids]}` after it: every event up to `T` was
//!   delivered, and at `T` (or within the lookback before it) those in `seen`.

mod events;

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Offset, ReadOutput, Record, Result};
use lakeflow_kit::offset::{Builder, Fields};
use lakeflow_kit::options::Limits;
use lakeflow_kit::time::format_ts;
use lakeflow_kit::window::{self, WindowPos, Windowed, read_windows};
use lakeflow_kit::{ApiClient, ClientCtx, TableRead};
use serde_json::Value;

use crate::client::StripeClient;
use crate::tables::{Changes, List, Read};

pub(crate) use events::EVENT_RETENTION;
use events::{EventsPos, read_events};

/// Stripe began in 2011: nothing it lists is older. A backfill without `start_date` starts
/// here; windows double over empty years, so this costs a few requests.
const STRIPE_EPOCH: DateTime<Utc> = DateTime::from_timestamp(1_293_840_000, 0).expect("2011");

pub(crate) const PHASE: &str = "phase";
pub(crate) const EVENTS_FROM: &str = "events_from";
/// In a backfill offset: it re-reads a table whose events were lost (30 days), so its rows are
/// stamped with the time it began.
pub(crate) const REREAD: &str = "reread";
/// The column ordering a table's changes (its sequence): the event's `created` for rows from
/// the events feed; for rows a backfill listed, the object's own `created` (whatever changed it
/// before is not known, and every later event must win), or for a re-read after lost events the
/// time it began (it must win over what the destination holds).
pub(crate) const CHANGED_AT: &str = "changed_at";

/// Everything one read needs. `init`, when the connector was built, says which events it may
/// still ask for: those of the 30 days before.
pub(crate) type Ctx<'a> = ClientCtx<'a, StripeClient>;

/// Stripe lists at most 100 objects a page; backfill windows are a week wide.
const LIMITS: Limits = Limits {
    max_per_page: 100,
    window: TimeDelta::days(7),
};

impl TableRead<StripeClient> for Read {
    fn limits(&self) -> Limits {
        LIMITS
    }

    /// The backfill and events of a table, the `*.deleted` events of its deletions, or the
    /// `created` windows of an append table.
    fn read(self, ctx: &Ctx<'_>, start: Option<&Offset>) -> Result<ReadOutput<'static>> {
        let (records, end) = match self {
            Read::Changes(changes) => read_changes(ctx, &changes, start)?,
            Read::Deletions(changes) => read_deletions(ctx, &changes, start)?,
            Read::Appended(list) => read_appended(ctx, &list, start)?,
        };
        Ok(ReadOutput::from_records(records, end))
    }
}

/// An append table: `created` windows for ever.
fn read_appended(
    ctx: &Ctx<'_>,
    list: &List,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let pos = match start {
        Some(offset) => Some(WindowPos::parse(&Fields::new(
            ctx.kit.table,
            offset,
            &window::FIELDS,
        )?)?),
        None => None,
    };
    let mut out = Vec::new();
    let end = backfill(ctx, list, pos, ctx.kit.horizon, Stamp::None, &mut out)?;
    Ok((out, end.map(|pos| pos.write(Builder::default()).build())))
}

/// Records, then changes: the backfill and then the events.
fn read_changes(
    ctx: &Ctx<'_>,
    changes: &Changes,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let table = ctx.kit.table;
    let mut out = Vec::new();
    let phase = start
        .and_then(|offset| offset.get(PHASE))
        .and_then(Value::as_str);
    let (events_from, reread, pos) = match (start, phase) {
        (None, _) => (ctx.kit.horizon, false, None),
        (Some(offset), Some("backfill")) => {
            let mut allowed = vec![PHASE, EVENTS_FROM, REREAD];
            allowed.extend(window::FIELDS);
            let fields = Fields::new(table, offset, &allowed)?;
            let reread = offset.get(REREAD).and_then(Value::as_bool) == Some(true);
            let pos = WindowPos::parse(&fields)?;
            (fields.required_instant(EVENTS_FROM)?, reread, Some(pos))
        }
        (Some(offset), Some("events")) => {
            let pos = EventsPos::parse(table, offset)?;
            if pos.cursor >= ctx.init - EVENT_RETENTION {
                let end = read_events(ctx, changes.types, changes.object, pos, &mut out)?;
                return Ok((out, Some(end.write())));
            }
            // Stripe keeps events 30 days: the changes since the cursor are gone. Read the
            // table again; deletions in the gap cannot be seen.
            tracing::warn!(
                table,
                cursor = %format_ts(pos.cursor),
                "the table was last read more than 30 days ago and Stripe no longer has the events since; reading the whole table again"
            );
            (ctx.kit.horizon, true, None)
        }
        (Some(_), _) => {
            return Err(lakeflow_connect::Error::invalid_offset(
                table,
                "`phase` must be `backfill` or `events`",
            ));
        }
    };
    let stamp = reread.then(|| Value::from(format_ts(events_from)));
    let end = backfill(
        ctx,
        &changes.list,
        pos,
        events_from,
        Stamp::Rows(stamp.as_ref()),
        &mut out,
    )?;
    Ok((out, Some(after_backfill(events_from, reread, end))))
}

/// The offset after a backfill batch: its window position, or, once the windows passed
/// `events_from`, the start of the events.
fn after_backfill(events_from: DateTime<Utc>, reread: bool, pos: Option<WindowPos>) -> Offset {
    match pos {
        Some(pos) if pos.since <= events_from => {
            let mut builder = Builder::default()
                .value(PHASE, "backfill".into())
                .instant(EVENTS_FROM, events_from);
            if reread {
                builder = builder.value(REREAD, true.into());
            }
            pos.write(builder).build()
        }
        _ => EventsPos {
            cursor: events_from,
            seen: Vec::new(),
        }
        .write(),
    }
}

/// Deletions: the `*.deleted` events, from 30 days back on the first read (deleting what was
/// never there is harmless, missing a deletion is not).
fn read_deletions(
    ctx: &Ctx<'_>,
    changes: &Changes,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let table = ctx.kit.table;
    let oldest = ctx.init - EVENT_RETENTION;
    let pos = match start {
        Some(offset) => EventsPos::parse(table, offset)?,
        None => EventsPos {
            cursor: ctx
                .kit
                .settings
                .start_date
                .map_or(oldest, |d| d.max(oldest)),
            seen: Vec::new(),
        },
    };
    let pos = if pos.cursor < oldest {
        tracing::warn!(table, cursor = %format_ts(pos.cursor), "deletions older than 30 days are no longer kept by Stripe; deletions before {} are missed", format_ts(oldest));
        EventsPos {
            cursor: oldest,
            seen: Vec::new(),
        }
    } else {
        pos
    };
    let mut out = Vec::new();
    let end = read_events(ctx, changes.deleted, changes.object, pos, &mut out)?;
    Ok((out, Some(end.write())))
}

/// How backfilled rows get `changed_at`.
#[derive(Clone, Copy)]
enum Stamp<'a> {
    /// Not at all (append tables).
    None,
    /// With this time, or with their own `created` when `None`.
    Rows(Option<&'a Value>),
}

/// Reads a listing in `created` windows from `pos` up to `end` into `out`, each record stamped
/// as `stamp` says.
fn backfill(
    ctx: &Ctx<'_>,
    list: &List,
    pos: Option<WindowPos>,
    end: DateTime<Utc>,
    stamp: Stamp<'_>,
    out: &mut Vec<Record>,
) -> Result<Option<WindowPos>> {
    let per_page = ctx.kit.settings.per_page;
    let request = |since: DateTime<Utc>, until: DateTime<Utc>| {
        let mut request = ctx
            .client
            .get(list.path)
            .query("created[gte]", since.timestamp())
            .query("created[lte]", until.timestamp())
            .query("limit", per_page);
        for (name, value) in list.query {
            request = request.query(name, value);
        }
        request
    };
    let oldest = || Ok(Some(STRIPE_EPOCH));
    let decorate = |record: &mut Record| {
        let at = match stamp {
            Stamp::None => return,
            Stamp::Rows(Some(at)) => at.clone(),
            Stamp::Rows(None) => {
                epoch(record.get(list.created)).map_or(Value::Null, |at| format_ts(at).into())
            }
        };
        record.insert(CHANGED_AT.to_owned(), at);
    };
    let windowed = Windowed {
        ctx: &ctx.kit,
        cursor: list.created,
        key: "id",
        records_path: "data",
        request: &request,
        cap: None,
        oldest: &oldest,
        decorate: &decorate,
    };
    read_windows(&windowed, pos, end, out)
}

/// Unix seconds of a record's field as an instant.
pub(crate) fn epoch(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value
        .and_then(Value::as_i64)
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
}

/// The span events windows start with; doubled while empty, up to [`MAX_EVENTS_WINDOW`].
pub(crate) const EVENTS_WINDOW: TimeDelta = TimeDelta::hours(6);
pub(crate) const MAX_EVENTS_WINDOW: TimeDelta = TimeDelta::days(8);
