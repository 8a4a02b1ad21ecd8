//! How each kind of table is read: CRM objects through search (changes) and their archived list
//! (deletions), owners read whole, pipelines as snapshots.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Error, Offset, ReadOutput, Record, Result, TableOptions};
use lakeflow_kit::ApiClient;
use lakeflow_kit::ascending::{Ascending, read_whole};
use lakeflow_kit::by_value::{Query, read_by_value};
use lakeflow_kit::options::{LOOKBACK, Limits};
use lakeflow_kit::{ReadCtx, Snapshot};
use serde_json::{Map, Value, json};

use crate::backfill::Backfill;
use crate::client::{HubSpotClient, with_context};
use crate::objects::CrmObject;
use crate::schema::{Property, decorate};

/// HubSpot's associations batch read takes at most 1,000 records.
const ASSOCIATIONS_PER_REQUEST: usize = 1_000;

/// CRM search serves at most 200 records a page; lists 100, so list reads ask for at most that
/// (the same `per_page` option serves a table's search and its lists).
const SEARCH: Limits = Limits::per_page(200);
const LIST_PAGE: u64 = 100;
/// The property holding a record's id, which search can filter and sort on.
const OBJECT_ID: &str = "hs_object_id";

/// How far before the stored position a search asks again unless `lookback_seconds` says
/// otherwise: HubSpot's search index lags writes by a few seconds, and a record written just
/// before a newer one may be found only after it.
pub(crate) const DEFAULT_SEARCH_LOOKBACK: TimeDelta = TimeDelta::seconds(30);

/// One read of one table.
pub(crate) struct Reader<'a> {
    pub client: &'a HubSpotClient,
    pub init: DateTime<Utc>,
}

impl Reader<'_> {
    /// The changes of a CRM object at or after the offset's position: a search filtered on its
    /// last-modified property, sorted by it, each page asked by value from the last one read.
    /// A first read without `start_date` lists the object
    /// instead (see [`crate::backfill`]).
    pub(crate) fn changes(
        &self,
        object: &CrmObject,
        properties: &[Property],
        associates: &[&str],
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'static>> {
        let backfill = match start {
            Some(offset) => Backfill::from_offset(&object.table, offset)?,
            None => None,
        };
        let list = ReadCtx::new(
            &object.table,
            &self.client.lists,
            options,
            SEARCH,
            self.init,
        )?;
        // A first read without `start_date` lists everything: no cap, no search budget.
        let backfill = backfill.or_else(|| {
            (start.is_none() && list.settings.start_date.is_none()).then(|| Backfill::start(&list))
        });
        if let Some(state) = backfill {
            let (mut records, end) = self.backfill(&list, object, properties, state)?;
            for record in &mut records {
                decorate(record, properties);
            }
            self.associate(object, associates, &mut records)?;
            return Ok(ReadOutput::from_records(records, Some(end)));
        }
        let mut ctx = ReadCtx::new(
            &object.table,
            &self.client.search,
            options,
            SEARCH,
            self.init,
        )?;
        if !options.contains_key(LOOKBACK.name) {
            ctx.settings.lookback = DEFAULT_SEARCH_LOOKBACK;
        }
        let names: Vec<&str> = properties.iter().map(|p| p.name.as_str()).collect();
        let last_modified = object.last_modified();
        let per_page = ctx.settings.per_page;
        let filter = |property: &str, operator: &str, value: String| json!({"propertyName": property, "operator": operator, "value": value});
        // Search's `after` is a position in the results, which an edit during the read shifts:
        // every page is its own query, by value (see `lakeflow_kit::by_value`).
        let request = |query: &Query<'_>| {
            let (filters, sort) = match query {
                Query::From { since, inclusive } => {
                    let operator = if *inclusive { "GTE" } else { "GT" };
                    let filters: Vec<Value> = since
                        .iter()
                        .map(|at| filter(last_modified, operator, millis(*at)))
                        .collect();
                    (filters, last_modified)
                }
                Query::Tie { at, after } => {
                    let mut filters = vec![filter(last_modified, "EQ", millis(*at))];
                    filters.extend(
                        after
                            .and_then(id_text)
                            .map(|id| filter(OBJECT_ID, "GT", id)),
                    );
                    (filters, OBJECT_ID)
                }
            };
            self.client.search(&object.path).json(&json!({
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                "properties": names,
                "limit": per_page,
            }))
        };
        let asc = Ascending {
            ctx: &ctx,
            cursor: "updatedAt",
            key: "id",
            keep: |_| true,
            filters_since: true,
            decorate: &|record| decorate(record, properties),
        };
        let (mut records, end) = read_by_value(&asc, start, "results", &request)?;
        self.associate(object, associates, &mut records)?;
        Ok(ReadOutput::from_records(records, end))
    }

    /// Sets, for each of `associates`, a record's column of that name to the ids of the records
    /// of that object it is associated with (one batch read per 1,000 records), listed once
    /// each; a record without any has none.
    pub(crate) fn associate(
        &self,
        object: &CrmObject,
        associates: &[&str],
        records: &mut [Record],
    ) -> Result<()> {
        let ids: Vec<String> = records
            .iter()
            .filter_map(|r| id_text(r.get("id")?))
            .collect();
        let mut linked: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for &to in associates {
            let context = format!("table `{}` (its associations to {to})", object.table);
            let path = format!("/crm/v4/associations/{}/{to}/batch/read", object.path);
            for chunk in ids.chunks(ASSOCIATIONS_PER_REQUEST) {
                let inputs: Vec<Value> = chunk.iter().map(|id| json!({"id": id})).collect();
                let body: Value = self
                    .client
                    .request("POST", &path)
                    .idempotent()
                    .json(&json!({ "inputs": inputs }))
                    .send_json()
                    .map_err(|e| with_context(&context, e))?;
                for result in body["results"].as_array().into_iter().flatten() {
                    let from = id_text(&result["from"]["id"]).ok_or_else(|| Error::Protocol {
                        message: format!("{context}: a result without `from.id`: {result}"),
                    })?;
                    // More links than one answer holds: reading only some would be a silent loss.
                    if !result["paging"]["next"].is_null() {
                        return Err(Error::Protocol {
                            message: format!(
                                "{context}: record {from} has more associations to {to} than \
                                 one answer holds; leave `{to}` out of the table option \
                                 `associations` to read the table without them"
                            ),
                        });
                    }
                    let mut to_ids: Vec<Value> = Vec::new();
                    for link in result["to"].as_array().into_iter().flatten() {
                        let id = id_text(&link["toObjectId"]).map(Value::String);
                        if let Some(id) = id.filter(|id| !to_ids.contains(id)) {
                            to_ids.push(id);
                        }
                    }
                    if !to_ids.is_empty() {
                        let lists = linked.entry(from).or_default();
                        lists.insert(to.to_owned(), Value::Array(to_ids));
                    }
                }
            }
        }
        for record in records {
            let lists = record
                .get("id")
                .and_then(id_text)
                .and_then(|id| linked.get(&id).cloned());
            record.extend(lists.into_iter().flatten());
        }
        Ok(())
    }

    /// The archived records of a CRM object (`archived=true`) archived after the offset's
    /// position, as deletions: key, `archived`, `archivedAt`, and `updatedAt` set to
    /// `archivedAt`.
    pub(crate) fn archived(
        &self,
        object: &CrmObject,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'static>> {
        let path = format!("/crm/v3/objects/{}", object.path);
        // The archive is the record's last change: its time orders the deletion after every
        // update, whether or not HubSpot moved `updatedAt` with it.
        let tombstone = |record: &mut Record| {
            record.retain(|field, _| ["id", "archived", "archivedAt"].contains(&field.as_str()));
            if let Some(at) = record.get("archivedAt").cloned() {
                record.insert("updatedAt".to_owned(), at);
            }
        };
        // HubSpot keeps archived records 90 days: a list short enough to read whole.
        let list = WholeList {
            table: &object.table,
            path: &path,
            archived: true,
            cursor: "archivedAt",
            decorate: &tombstone,
        };
        self.whole(&list, start, options)
    }

    /// Owners changed after the offset's position, from the whole (short) list.
    pub(crate) fn owners(
        &self,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'static>> {
        let list = WholeList {
            table: "owners",
            path: "/crm/v3/owners",
            archived: false,
            cursor: "updatedAt",
            decorate: &|_| {},
        };
        self.whole(&list, start, options)
    }

    /// The records of `list` after the offset's position: the list (by id) read whole and
    /// sorted by the cursor here.
    fn whole(
        &self,
        list: &WholeList<'_>,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'static>> {
        let ctx = ReadCtx::new(list.table, &self.client.lists, options, SEARCH, self.init)?;
        let mut request = self
            .client
            .get(list.path)
            .query("limit", ctx.settings.per_page.min(LIST_PAGE));
        if list.archived {
            request = request.query("archived", "true");
        }
        let asc = Ascending {
            ctx: &ctx,
            cursor: list.cursor,
            key: "id",
            keep: |_| true,
            filters_since: false,
            decorate: list.decorate,
        };
        let (records, end) = read_whole(&asc, start, request, "results", &mut |_| Ok(()))?;
        Ok(ReadOutput::from_records(records, end))
    }

    /// Every pipeline of `object` (`deals` or `tickets`) with its stages.
    pub(crate) fn pipelines(
        &self,
        table: &str,
        object: &str,
        options: &TableOptions,
    ) -> Result<ReadOutput<'static>> {
        let ctx = ReadCtx::new(table, &self.client.lists, options, SEARCH, self.init)?;
        let request = self.client.get(&format!("/crm/v3/pipelines/{object}"));
        Ok(Snapshot::read(&ctx, request, "results", |_| {}))
    }
}

/// A list read whole by [`Reader::whole`].
struct WholeList<'a> {
    table: &'a str,
    path: &'a str,
    /// Only the archived records (`archived=true`).
    archived: bool,
    /// The field the list's records are ordered by here.
    cursor: &'a str,
    decorate: &'a dyn Fn(&mut Record),
}

/// An instant as HubSpot's search filters take it: milliseconds since the epoch.
fn millis(at: DateTime<Utc>) -> String {
    at.timestamp_millis().to_string()
}

/// An id as text: HubSpot writes record ids as strings and associated ids as numbers.
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}
