//! Reading a table the way its definition says: the incremental exports through the kit's
//! export strategy, satisfaction ratings read whole from the cursor, lists page by page.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Error, Offset, ReadOutput, Record, Result};
use lakeflow_kit::ascending::{self, Ascending, read_whole};
use lakeflow_kit::export::{self, Continuation, read_export};
use lakeflow_kit::options::Limits;
use lakeflow_kit::time::parse_ts;
use lakeflow_kit::{ApiClient, ClientCtx, Snapshot, TableRead};
use serde_json::Value;

use crate::client::ZendeskClient;
use crate::tables::{Export, Read};

/// Zendesk refuses an export's `start_time` within the last minute.
const RECENT: TimeDelta = TimeDelta::minutes(1);

/// Everything one read needs. `init`, when the connector was built: exports never ask for a
/// start time within the minute before it.
pub(crate) type Ctx<'a> = ClientCtx<'a, ZendeskClient>;

/// Lists serve at most 100 records a page (`page[size]`).
const LIST_PAGE: u64 = 100;

impl TableRead<ZendeskClient> for Read {
    /// An export's own page size; lists' otherwise.
    fn limits(&self) -> Limits {
        Limits::per_page(match self {
            Self::CursorExport(export) | Self::TimeExport(export) => export.max_per_page,
            Self::Ratings | Self::List { .. } => LIST_PAGE,
        })
    }

    fn read(self, ctx: &Ctx<'_>, start: Option<&Offset>) -> Result<ReadOutput<'static>> {
        let (records, end) = match self {
            Self::CursorExport(export) => read_incremental(ctx, &export, Style::Cursor, start)?,
            Self::TimeExport(export) => read_incremental(ctx, &export, Style::Time, start)?,
            Self::Ratings => ratings(ctx, start)?,
            Self::List { path, records } => {
                let request = ctx
                    .client
                    .get(path)
                    .query("page[size]", ctx.kit.settings.per_page);
                return Ok(Snapshot::read(&ctx.kit, request, records, |_| {}));
            }
        };
        Ok(ReadOutput::from_records(records, end))
    }
}

/// How an export's pages lead to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `after_cursor`, sent back as `cursor`.
    Cursor,
    /// `end_time`, sent back as `start_time`.
    Time,
}

fn read_incremental(
    ctx: &Ctx<'_>,
    export: &Export,
    style: Style,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let recent = ctx.init - RECENT;
    let first_read_too_recent = start.is_none()
        && ctx
            .kit
            .settings
            .start_date
            .is_some_and(|date| date > recent);
    if first_read_too_recent || (style == Style::Time && token_after(start, recent)) {
        // Nothing Zendesk would export yet; a later run asks.
        return Ok((Vec::new(), start.cloned()));
    }
    let per_page = ctx.kit.settings.per_page;
    let request = || {
        let request = ctx.client.export(export.path).query("per_page", per_page);
        match export.include {
            Some(include) => request.query("include", include),
            None => request,
        }
    };
    let first = |since: DateTime<Utc>| request().query("start_time", since.timestamp());
    let resume = |token: &str| match style {
        Style::Cursor => request().query("cursor", token),
        Style::Time => request().query("start_time", token),
    };
    let continuation = |body: &Value| continuation(style, body);
    let expand = export.expand.map(|expand| move |record| expand(record));
    let kit = export::Export {
        ctx: &ctx.kit,
        cursor: export.order,
        key: "id",
        records_path: export.records,
        first: &first,
        resume: &resume,
        continuation: &continuation,
        keep: &export.keep,
        expand: expand
            .as_ref()
            .map(|expand| expand as &dyn Fn(Record) -> Vec<Record>),
        decorate: &|_| {},
    };
    read_export(&kit, start)
}

/// Whether the time-based export token of `start` (an epoch second) is after `recent`.
fn token_after(start: Option<&Offset>, recent: DateTime<Utc>) -> bool {
    start
        .and_then(|offset| offset.get(export::TOKEN))
        .and_then(Value::as_str)
        .and_then(|token| token.parse::<i64>().ok())
        .is_some_and(|token| token > recent.timestamp())
}

/// Where an export page says the export goes on. A page missing the fields is a protocol
/// error: guessing could loop or skip.
fn continuation(style: Style, body: &Value) -> Result<Continuation> {
    let Some(end_of_stream) = body.get("end_of_stream").and_then(Value::as_bool) else {
        return Err(missing("end_of_stream"));
    };
    let next = match style {
        Style::Cursor => body
            .get("after_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned),
        // `end_time` is an epoch second; a number, though a string is taken too.
        Style::Time => match body.get("end_time") {
            Some(Value::Number(n)) => n.as_i64().map(|n| n.to_string()),
            Some(Value::String(s)) if s.parse::<i64>().is_ok() => Some(s.clone()),
            _ => None,
        },
    };
    Ok(Continuation {
        next,
        end_of_stream,
    })
}

fn missing(field: &str) -> Error {
    Error::Protocol {
        message: format!("Zendesk sent an export page without `{field}`"),
    }
}

/// One row per comment of a ticket event (its `Comment` child events, sideloaded with
/// `include=comment_events`), carrying the ticket and the event's time.
pub(crate) fn comments(mut event: Record) -> Vec<Record> {
    let Some(Value::Array(children)) = event.remove("child_events") else {
        return Vec::new();
    };
    children
        .into_iter()
        .filter_map(|child| match child {
            Value::Object(child)
                if child.get("event_type").and_then(Value::as_str) == Some("Comment") =>
            {
                Some(child)
            }
            _ => None,
        })
        .map(|mut comment| {
            comment.remove("event_type");
            for (field, from) in [
                ("ticket_id", "ticket_id"),
                ("audit_id", "id"),
                ("created_at", "created_at"),
            ] {
                if comment.get(field).is_none_or(Value::is_null) {
                    let value = event.get(from).cloned().unwrap_or(Value::Null);
                    comment.insert(field.to_owned(), value);
                }
            }
            comment
        })
        .collect()
}

/// Satisfaction ratings changed at or after the cursor (less the lookback): the list is sorted
/// by id, so it is read whole from there and sorted by `(updated_at, id)` here.
fn ratings(ctx: &Ctx<'_>, start: Option<&Offset>) -> Result<(Vec<Record>, Option<Offset>)> {
    let settings = ctx.kit.settings;
    let from = start
        .and_then(|offset| offset.get(ascending::CURSOR))
        .and_then(Value::as_str)
        .and_then(parse_ts)
        .or(settings.start_date);
    let mut request = ctx
        .client
        .get("/api/v2/satisfaction_ratings")
        .query("page[size]", settings.per_page);
    if let Some(from) = from {
        request = request.query("start_time", (from - settings.lookback).timestamp());
    }
    let asc = Ascending {
        ctx: &ctx.kit,
        cursor: "updated_at",
        key: "id",
        keep: |_| true,
        filters_since: false,
        decorate: &|_| {},
    };
    read_whole(
        &asc,
        start,
        request,
        "satisfaction_ratings",
        &mut |_| Ok(()),
    )
}

#[cfg(test)]
mod tests {
    use lakeflow_testkit::fixtures::object;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_time_based_page_that_does_not_move_is_seen_as_such() {
        // `end_time` equal to the request's `start_time`: the kit fails the read on it, since
        // asking again would serve the same page forever.
        let page = json!({"organizations": [], "end_time": 1700000000, "end_of_stream": false});
        let next = continuation(Style::Time, &page).unwrap();
        assert_eq!(next.next.as_deref(), Some("1700000000"));
        assert!(!next.end_of_stream);
        let err = continuation(Style::Cursor, &json!({"after_cursor": "x"})).unwrap_err();
        assert!(err.to_string().contains("end_of_stream"), "{err}");
    }

    #[test]
    fn a_ticket_event_becomes_one_row_per_comment() {
        let event = object(json!({
            "id": 88, "ticket_id": 1002, "created_at": "2023-01-17T15:32:08Z",
            "child_events": [
                {"id": 1, "event_type": "Create", "field_name": "status", "value": "new"},
                {"id": 2, "event_type": "Comment", "body": "Hi", "public": true},
                {"id": 3, "event_type": "Comment", "body": "Note", "public": false,
                 "created_at": "2023-01-17T15:32:09Z"}
            ]
        }));
        let rows = comments(event);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id"], 2);
        assert_eq!(rows[0]["ticket_id"], 1002);
        assert_eq!(rows[0]["audit_id"], 88);
        assert_eq!(rows[0]["created_at"], "2023-01-17T15:32:08Z");
        assert_eq!(rows[1]["created_at"], "2023-01-17T15:32:09Z");
        assert!(rows.iter().all(|row| !row.contains_key("event_type")));
        assert!(comments(object(json!({"id": 1, "child_events": []}))).is_empty());
    }
}
