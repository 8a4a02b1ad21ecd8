//! A CRM object's first read: its list (`GET /crm/v3/objects/{object}`, by id, 100 a page), which
//! unlike search has no 10,000 cap and no search budget. The properties go in the URL, so they
//! are asked in chunks whose URLs stay short, one request per chunk for the same page, and the
//! chunks' answers are merged by id.
//!
//! Offset while it runs: `{"backfill": {"after": token, "last_id": id, "search_from": T0}}`, T0
//! the horizon when it began. When the list is done, the offset is the search's `{"cursor": T0}`:
//! everything changed since the backfill began is then read through search.

use lakeflow_connect::{Error, Offset, Record, Result};
use lakeflow_kit::offset::{Builder, Fields};
use lakeflow_kit::{ApiClient, ReadCtx};
use serde_json::{Map, Value, json};

use crate::client::with_context;
use crate::objects::CrmObject;
use crate::read::Reader;
use crate::schema::Property;

/// The offset field of a backfill.
pub(crate) const BACKFILL: &str = "backfill";
/// The list serves at most 100 records a page.
const LIST_PAGE: u64 = 100;
/// The most characters of property names one list request carries (URLs of a few kilobytes are
/// safe everywhere).
pub(crate) const PROPERTY_CHARS_PER_REQUEST: usize = 2_000;
/// Attempts at a page whose chunks disagree on the records (written to in between).
const PAGE_ATTEMPTS: usize = 3;

/// Where a backfill stands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Backfill {
    /// The list's token for the next page; `None` before the first.
    after: Option<String>,
    /// The last id delivered: the list is by id, so every next one is greater.
    last_id: Option<u64>,
    /// Where search takes over when the list is done.
    search_from: String,
}

impl Backfill {
    /// A backfill starting now, for a connector whose horizon is `ctx`'s.
    pub(crate) fn start(ctx: &ReadCtx<'_>) -> Self {
        Self {
            after: None,
            last_id: None,
            search_from: lakeflow_kit::time::format_ts(ctx.horizon),
        }
    }

    /// The backfill an offset holds, if it holds one.
    pub(crate) fn from_offset(table: &str, offset: &Offset) -> Result<Option<Self>> {
        let Some(state) = offset.get(BACKFILL) else {
            return Ok(None);
        };
        Fields::new(table, offset, &[BACKFILL])?;
        let Value::Object(state) = state else {
            return Err(Error::invalid_offset(table, "`backfill` must be an object"));
        };
        let fields = Fields::new(table, state, &["after", "last_id", "search_from"])?;
        let after = match state.get("after") {
            None | Some(Value::Null) => None,
            Some(Value::String(token)) => Some(token.clone()),
            Some(other) => {
                return Err(Error::invalid_offset(
                    table,
                    format!("`backfill.after` must be a string, got {other}"),
                ));
            }
        };
        let search_from = fields.required_instant("search_from")?;
        Ok(Some(Self {
            after,
            last_id: fields.integer("last_id")?,
            search_from: lakeflow_kit::time::format_ts(search_from),
        }))
    }

    fn offset(&self) -> Offset {
        let mut state = Map::new();
        state.insert("after".to_owned(), json!(self.after));
        state.insert("last_id".to_owned(), json!(self.last_id));
        state.insert("search_from".to_owned(), json!(self.search_from));
        Builder::default()
            .value(BACKFILL, Value::Object(state))
            .build()
    }

    /// The search's offset once the list is done: everything up to `search_from` is delivered.
    fn done(&self) -> Offset {
        Builder::default()
            .value(lakeflow_kit::ascending::CURSOR, json!(self.search_from))
            .build()
    }
}

/// The property names of `properties`, in chunks of at most [`PROPERTY_CHARS_PER_REQUEST`]
/// characters once joined by commas (a longer single name is a chunk of its own).
pub(crate) fn chunks(properties: &[Property], budget: usize) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    for property in properties {
        match chunks.last_mut() {
            Some(chunk) if chunk.len() + 1 + property.name.len() <= budget => {
                chunk.push(',');
                chunk.push_str(&property.name);
            }
            _ => chunks.push(property.name.clone()),
        }
    }
    chunks
}

/// One page of the list: its records (every chunk's properties merged) and the next token.
struct Page {
    records: Vec<Record>,
    after: Option<String>,
}

impl Reader<'_> {
    /// Up to a batch of the list from `state`: the records (undecorated) and the end offset.
    pub(crate) fn backfill(
        &self,
        ctx: &ReadCtx<'_>,
        object: &CrmObject,
        properties: &[Property],
        mut state: Backfill,
    ) -> Result<(Vec<Record>, Offset)> {
        let chunks = chunks(properties, PROPERTY_CHARS_PER_REQUEST);
        let mut records = Vec::new();
        loop {
            let room = ctx.settings.max_records - records.len();
            let limit = ctx.settings.per_page.min(LIST_PAGE).min(room as u64);
            let page = self.list_page(ctx, object, &chunks, state.after.as_deref(), limit)?;
            for record in &page.records {
                let id = record_id(ctx, record)?;
                if state.last_id.is_some_and(|last| id <= last) {
                    return Err(Error::Protocol {
                        message: format!(
                            "{}: the list is not in id order (record {id} after {}): records \
                             could be skipped, so the read stops",
                            ctx.context(),
                            state.last_id.unwrap_or_default()
                        ),
                    });
                }
                state.last_id = Some(id);
            }
            records.extend(page.records);
            if page.after.is_some() && page.after == state.after {
                return Err(Error::Protocol {
                    message: format!(
                        "{}: the list sent the same `after` token it was asked with",
                        ctx.context()
                    ),
                });
            }
            state.after = page.after;
            if state.after.is_none() {
                return Ok((records, state.done()));
            }
            if records.len() >= ctx.settings.max_records {
                return Ok((records, state.offset()));
            }
        }
    }

    /// The page at `after`, asked once per chunk of properties; the answers must list the same
    /// records, else the page is asked again (it was written to in between).
    fn list_page(
        &self,
        ctx: &ReadCtx<'_>,
        object: &CrmObject,
        chunks: &[String],
        after: Option<&str>,
        limit: u64,
    ) -> Result<Page> {
        let path = format!("/crm/v3/objects/{}", object.path);
        let context = ctx.context();
        let mut disagreement = String::new();
        for _ in 0..PAGE_ATTEMPTS {
            let mut merged: Option<Page> = None;
            for chunk in chunks {
                let mut request = self
                    .client
                    .get(&path)
                    .query("limit", limit)
                    .query("archived", "false")
                    .query("properties", chunk);
                if let Some(after) = after {
                    request = request.query("after", after);
                }
                let body: Value = request.send_json().map_err(|e| with_context(&context, e))?;
                let records = lakeflow_kit::objects(
                    &context,
                    body["results"].as_array().cloned().unwrap_or_default(),
                )?;
                let next = body["paging"]["next"]["after"].as_str().map(str::to_owned);
                match &mut merged {
                    None => {
                        merged = Some(Page {
                            records,
                            after: next,
                        });
                    }
                    Some(page) => {
                        if let Err(why) = merge(&mut page.records, records) {
                            disagreement = why;
                            merged = None;
                            break;
                        }
                    }
                }
            }
            if let Some(page) = merged {
                return Ok(page);
            }
        }
        Err(Error::Protocol {
            message: format!(
                "{context}: the list's answers for one page kept listing different records \
                 ({disagreement}) while the properties were asked in {} parts; try again later",
                chunks.len()
            ),
        })
    }
}

/// Adds the properties of `more` (another chunk's answer for the same page) to `records`.
fn merge(records: &mut [Record], more: Vec<Record>) -> std::result::Result<(), String> {
    if records.len() != more.len() {
        return Err(format!("{} records, then {}", records.len(), more.len()));
    }
    for (record, other) in records.iter_mut().zip(more) {
        if record.get("id") != other.get("id") {
            return Err(format!(
                "record {} where {} was",
                other.get("id").unwrap_or(&Value::Null),
                record.get("id").unwrap_or(&Value::Null)
            ));
        }
        if let (Some(Value::Object(properties)), Some(Value::Object(others))) =
            (record.get_mut("properties"), other.get("properties"))
        {
            properties.extend(others.clone());
        }
    }
    Ok(())
}

/// A record's id as a number (HubSpot's ids are digits, and the list is ordered by them).
fn record_id(ctx: &ReadCtx<'_>, record: &Record) -> Result<u64> {
    let id = record.get("id");
    id.and_then(|id| match id {
        Value::String(text) => text.parse().ok(),
        other => other.as_u64(),
    })
    .ok_or_else(|| Error::SchemaMismatch {
        table: ctx.table.to_owned(),
        field: "id".to_owned(),
        reason: format!("HubSpot ids are digits, got {}", id.unwrap_or(&Value::Null)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Kind;

    #[test]
    fn property_names_are_chunked_under_the_budget() {
        let properties: Vec<Property> = ["email", "firstname", "lastname", "a_very_long_name"]
            .iter()
            .map(|name| Property {
                name: (*name).to_owned(),
                kind: Kind::Text,
            })
            .collect();
        assert_eq!(
            chunks(&properties, 16),
            ["email,firstname", "lastname", "a_very_long_name"]
        );
        assert_eq!(chunks(&properties, 1000).len(), 1);
        assert!(chunks(&[], 10).is_empty());
    }

    #[test]
    fn chunks_of_one_page_merge_by_id_or_say_how_they_differ() {
        let record = |id: &str, properties: Value| {
            json!({"id": id, "properties": properties})
                .as_object()
                .unwrap()
                .clone()
        };
        let mut page = vec![record("1", json!({"email": "a@x"}))];
        merge(&mut page, vec![record("1", json!({"city": "Oslo"}))]).unwrap();
        assert_eq!(
            page[0]["properties"],
            json!({"email": "a@x", "city": "Oslo"})
        );
        let err = merge(&mut page, vec![record("2", json!({}))]).unwrap_err();
        assert!(err.contains("\"2\"") && err.contains("\"1\""), "{err}");
        assert!(merge(&mut page, vec![]).is_err());
    }
}
