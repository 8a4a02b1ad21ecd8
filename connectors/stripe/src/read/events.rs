//! The events feed (`/v1/events?types[]=...`): the changes of a table after its backfill, read
//! in `created` windows, each listed whole (newest first, as Stripe lists) and applied oldest
//! first, deduplicated by event id.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Error, Offset, Record, Result};
use lakeflow_kit::offset::{Builder, Fields};
use lakeflow_kit::time::{SECOND, format_ts};
use lakeflow_kit::{ApiClient, objects};
use serde_json::Value;

use super::{CHANGED_AT, Ctx, EVENTS_WINDOW, MAX_EVENTS_WINDOW, PHASE, epoch};

/// How long Stripe keeps events, less an hour for the time a run takes.
pub(crate) const EVENT_RETENTION: TimeDelta = TimeDelta::hours(30 * 24 - 1);

const CURSOR: &str = "cursor";
const SEEN: &str = "seen";

/// A position in the events: every event before `cursor` was delivered, and of those at or
/// after `cursor` less the lookback, the ones in `seen`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventsPos {
    pub cursor: DateTime<Utc>,
    pub seen: Vec<Value>,
}

impl EventsPos {
    pub(crate) fn parse(table: &str, offset: &Offset) -> Result<Self> {
        let fields = Fields::new(table, offset, &[PHASE, CURSOR, SEEN])?;
        Ok(Self {
            cursor: fields.required_instant(CURSOR)?,
            seen: fields.keys(SEEN)?,
        })
    }

    /// Moves the cursor to `to`, keeping in `seen` only the ids a later read may list again:
    /// those of `listed` within the lookback before it.
    fn advance(&mut self, to: DateTime<Utc>, lookback: TimeDelta, listed: &[Event]) {
        let keep_from = to - lookback;
        self.seen
            .retain(|id| listed.iter().any(|e| &e.id == id && e.created >= keep_from));
        self.cursor = to;
    }

    pub(crate) fn write(&self) -> Offset {
        Builder::default()
            .value(PHASE, "events".into())
            .instant(CURSOR, self.cursor)
            .keys(SEEN, &self.seen)
            .build()
    }
}

/// One event, as listed.
struct Event {
    id: Value,
    created: DateTime<Utc>,
    object: Record,
}

/// Reads the events of `types` from `pos` into `out` (each event's `data.object`, which must be
/// an `object`, with `changed_at`) until the batch is full or the horizon is reached; returns
/// the new position.
pub(crate) fn read_events(
    ctx: &Ctx<'_>,
    types: &[&str],
    object: &str,
    mut pos: EventsPos,
    out: &mut Vec<Record>,
) -> Result<EventsPos> {
    let settings = ctx.kit.settings;
    let lookback = settings.lookback;
    let mut width = EVENTS_WINDOW;
    let mut from = pos.cursor - lookback;
    while out.len() < settings.max_records && pos.cursor <= ctx.kit.horizon {
        let until = (pos.cursor + width - SECOND).min(ctx.kit.horizon);
        let listed = list(ctx, types, object, from, until)?;
        for event in &listed {
            if pos.seen.contains(&event.id) {
                continue;
            }
            if out.len() >= settings.max_records {
                return Ok(pos);
            }
            let mut row = event.object.clone();
            row.insert(CHANGED_AT.to_owned(), format_ts(event.created).into());
            out.push(row);
            if event.created > pos.cursor {
                pos.advance(event.created, lookback, &listed);
            }
            pos.seen.push(event.id.clone());
        }
        // The whole window was delivered: go on after it.
        pos.advance(until + SECOND, lookback, &listed);
        from = pos.cursor - lookback;
        width = if listed.is_empty() {
            (width * 2).min(MAX_EVENTS_WINDOW)
        } else {
            EVENTS_WINDOW
        };
    }
    Ok(pos)
}

/// Every event of `types` created in `[from, until]`, oldest first. Stripe lists newest first;
/// events of one second keep their listed order reversed.
fn list(
    ctx: &Ctx<'_>,
    types: &[&str],
    object: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Event>> {
    let context = ctx.kit.context();
    let mut request = ctx
        .client
        .get("/v1/events")
        .query("created[gte]", from.timestamp())
        .query("created[lte]", until.timestamp())
        .query("limit", ctx.kit.settings.per_page);
    for kind in types {
        request = request.query("types[]", kind);
    }
    let mut pages = ctx.kit.pages(request, "data");
    let mut listed = Vec::new();
    while let Some(page) = ctx.kit.next_page(&mut pages)? {
        for mut event in objects(&context, page.records)? {
            let id = event.get("id").cloned().unwrap_or(Value::Null);
            let Some(created) = epoch(event.get("created")) else {
                return Err(protocol(&context, &id, "has no `created` time"));
            };
            let kind = event
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !types.contains(&kind) {
                return Err(protocol(
                    &context,
                    &id,
                    &format!("is a `{kind}` event, which was not asked for (`types[]` ignored?)"),
                ));
            }
            // The server filters the window itself; checking again keeps windows exact.
            if created < from || created > until {
                continue;
            }
            let data = event.remove("data");
            let Some(Value::Object(found)) =
                data.and_then(|mut d| d.get_mut("object").map(Value::take))
            else {
                return Err(protocol(&context, &id, "has no `data.object`"));
            };
            if found.get("object").and_then(Value::as_str) != Some(object) {
                continue;
            }
            listed.push(Event {
                id,
                created,
                object: found,
            });
        }
    }
    listed.reverse();
    // Newest first as listed, so reversed it is oldest first; a server that lists out of order
    // is put right here (the sort is stable, so ties keep the reversed listing order).
    listed.sort_by_key(|event| event.created);
    Ok(listed)
}

fn protocol(context: &str, id: &Value, what: &str) -> Error {
    Error::Protocol {
        message: format!("{context}: Stripe event {id} {what}"),
    }
}
