//! Reads: list endpoints (filters, sort, pagination) and single-record endpoints, plus the
//! future records synthesised at start.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::cache::Key;
use super::query::parse_query;
use super::{ApiService, Routed};
use crate::api_error::ApiError;
use crate::corpus::{Store, next_id};
use crate::http1::{Request, Response};
use crate::pagination::{PageInput, TokenCodec};
use crate::query::UrlBuilder;
use crate::spec::{Endpoint, Role, SingleSpec, Spec};
use crate::value::{FieldPath, Operand, SortKey, StampFormat, compare_to_operand};

/// Whether any value at `field` of `record` equals `text` (compared as the field demands).
pub(super) fn field_equals(record: &Value, field: &FieldPath, text: &str) -> bool {
    let operand = Operand::new(text);
    field
        .lookup(record)
        .into_iter()
        .any(|v| compare_to_operand(v, &operand).is_some_and(std::cmp::Ordering::is_eq))
}

/// Whether a record belongs under the path (`/repos/{owner}/...` with `path_fields`).
pub(super) fn on_path(endpoint: &Endpoint, params: &[(String, String)], record: &Value) -> bool {
    endpoint.path_fields.iter().all(|(param, field)| {
        params
            .iter()
            .find(|(name, _)| name == param)
            .is_some_and(|(_, value)| field_equals(record, field, value))
    })
}

/// What `select` parameters ask for: the field, and the names of its keys to keep (a parameter
/// may repeat, each with comma-separated names).
fn selections<'e>(
    endpoint: &'e Endpoint,
    query: &[(String, String)],
) -> Vec<(&'e FieldPath, Vec<String>)> {
    endpoint
        .params
        .iter()
        .filter_map(|param| match &param.role {
            Role::Select { field } => {
                let names: Vec<String> = query
                    .iter()
                    .filter(|(name, _)| *name == param.name)
                    .flat_map(|(_, value)| value.split(','))
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
                    .collect();
                (!names.is_empty()).then_some((field, names))
            }
            _ => None,
        })
        .collect()
}

/// `record` with only the selected keys of each selected object.
fn project(record: &Value, selections: &[(&FieldPath, Vec<String>)]) -> Value {
    let mut record = record.clone();
    for (field, names) in selections {
        if let Some(Value::Object(object)) = field.first(&record).cloned() {
            let kept: serde_json::Map<String, Value> = object
                .into_iter()
                .filter(|(key, _)| names.contains(key))
                .collect();
            field.set(&mut record, Value::Object(kept));
        }
    }
    record
}

/// The query parameters that select and order records (filters and sort), for the list cache;
/// paging parameters (page, size, offset, cursor) and ignored ones are left out.
fn selecting_pairs(endpoint: &Endpoint, pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(name, _)| {
            endpoint.params.iter().any(|p| {
                &p.name == name
                    && matches!(
                        p.role,
                        Role::Filter { .. } | Role::SortField { .. } | Role::SortDirection { .. }
                    )
            })
        })
        .cloned()
        .collect()
}

impl ApiService {
    /// The endpoint's records: its corpus plus its future records, restricted to the path.
    pub(super) fn view(
        &self,
        index: usize,
        endpoint: &Endpoint,
        params: &[(String, String)],
    ) -> Vec<Arc<Value>> {
        let mut records = self.store.snapshot(&endpoint.corpus);
        records.extend(self.future[index].iter().cloned());
        records.retain(|r| on_path(endpoint, params, r));
        records
    }

    pub(super) fn list(&self, call: Routed<'_>) -> Result<Response, ApiError> {
        let Routed {
            index,
            endpoint,
            params,
            request,
            ctx,
        } = call;
        let paginator = &endpoint.pagination;
        let tokens = TokenCodec::new(&endpoint.name);
        let mut pairs = request.query.clone();
        let cursor = endpoint
            .params
            .iter()
            .find(|p| matches!(p.role, Role::Cursor))
            .and_then(|p| request.query.iter().find(|(k, _)| *k == p.name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty());
        if let Some(cursor) = cursor {
            for (name, value) in paginator.saved_params(cursor, &tokens)? {
                if !pairs.iter().any(|(k, _)| *k == name) {
                    pairs.push((name, value));
                }
            }
        }
        let query = parse_query(endpoint, &pairs, paginator.forced_sort())?;
        let key = Key::new(index, params, selecting_pairs(endpoint, &pairs));
        let (selection, range) = self.cache.select(&key, &query, |query| {
            query.select(self.view(index, endpoint, params))
        });
        let url = UrlBuilder::new(&ctx.base_url, &request.path, &request.query);
        let page = paginator.paginate(PageInput {
            records: &selection.records[range],
            query: &query,
            size: usize::try_from(query.size).unwrap_or(usize::MAX),
            url: &url,
            tokens: &tokens,
        })?;
        let selections = selections(endpoint, &request.query);
        let projected: Option<Vec<Value>> = (!selections.is_empty()).then(|| {
            page.records
                .iter()
                .map(|r| project(r, &selections))
                .collect()
        });
        let mut response = if let Some(records) = projected {
            let array = Value::Array(records);
            match endpoint.records_key {
                None => Response::json(200, &array),
                Some(_) => Response::json(200, &Self::wrap(endpoint, array, page.fields)),
            }
        } else if endpoint.records_key.is_none() {
            // A bare array: serialised straight from the shared records, without copying them.
            let records: Vec<&Value> = page.records.iter().map(|r| &**r).collect();
            let mut response = Response::json(200, &Value::Null);
            response.body = serde_json::to_vec(&records)
                .map_err(|e| ApiError::internal(format!("cannot serialise records: {e}")))?;
            response
        } else {
            let array = Value::Array(page.records.iter().map(|r| (**r).clone()).collect());
            Response::json(200, &Self::wrap(endpoint, array, page.fields))
        };
        response.headers.extend(page.headers);
        Ok(response)
    }

    pub(super) fn single(
        &self,
        index: usize,
        endpoint: &Endpoint,
        single: &SingleSpec,
        params: &[(String, String)],
        request: &Request,
    ) -> Result<Response, ApiError> {
        // Validates the query (strict endpoints, required parameters) even though nothing in it
        // selects the record.
        parse_query(endpoint, &request.query, None)?;
        let id = selected(single, params)?;
        let record = self
            .view(index, endpoint, params)
            .into_iter()
            .find(|r| field_equals(r, &single.field, id))
            .ok_or_else(|| ApiError::not_found("Not Found"))?;
        Ok(Response::json(
            200,
            &Self::wrap(endpoint, (*record).clone(), Vec::new()),
        ))
    }
}

/// The value that selects the record of a `single` endpoint: its fixed value, or the path's.
pub(super) fn selected<'a>(
    single: &'a SingleSpec,
    params: &'a [(String, String)],
) -> Result<&'a str, ApiError> {
    match &single.value {
        Some(value) => Ok(value),
        None => path_value(params, &single.param),
    }
}

pub(super) fn path_value<'a>(
    params: &'a [(String, String)],
    name: &str,
) -> Result<&'a str, ApiError> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::internal(format!("path parameter `{name}` missing after routing")))
}

/// Copies of each corpus's latest record (by the cursor field), stamped `step`, `2 * step`, ...
/// after `now`, with fresh ids.
pub(super) fn synthesize_future(
    spec: &Spec,
    store: &Store,
    now: DateTime<Utc>,
) -> Vec<Vec<Arc<Value>>> {
    let mut made: BTreeMap<&str, Vec<Arc<Value>>> = BTreeMap::new();
    let mut out = Vec::new();
    for endpoint in &spec.endpoints {
        let Some(future) = &endpoint.future else {
            out.push(Vec::new());
            continue;
        };
        let corpus = store.snapshot(&endpoint.corpus);
        let Some(template) = corpus
            .iter()
            .max_by_key(|r| SortKey::of(future.field.first(r)))
            .map(|r| (**r).clone())
        else {
            out.push(Vec::new());
            continue;
        };
        let format = StampFormat::detect(future.field.first(&template));
        let taken = made.entry(endpoint.corpus.as_str()).or_default();
        let mut records = Vec::new();
        for i in 1..=future.count {
            let mut record = template.clone();
            let mut known = corpus.clone();
            known.extend(taken.iter().cloned());
            future
                .id_field
                .set(&mut record, next_id(&known, &future.id_field, 0));
            let offset = TimeDelta::from_std(future.step * u32::try_from(i).unwrap_or(u32::MAX))
                .unwrap_or(TimeDelta::MAX);
            future.field.set(
                &mut record,
                format.format(now.checked_add_signed(offset).unwrap_or(now)),
            );
            let record = Arc::new(record);
            taken.push(record.clone());
            records.push(record);
        }
        out.push(records);
    }
    out
}
