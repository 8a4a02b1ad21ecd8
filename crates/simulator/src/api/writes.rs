//! Writes: POST creates (auto id, server stamps, path fields), PATCH (and Stripe's POST to an
//! object's path) merges (RFC 7396), PUT replaces, DELETE removes, moves to a tombstone corpus,
//! or sets a flag. Every write stamps the spec's `stamp` fields with the server clock so
//! incremental reads see the change, and appends an event to the spec's event feed if it has
//! one.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::ApiService;
use super::list::{field_equals, on_path, path_value, selected};
use super::query::parse_query;
use crate::api_error::ApiError;
use crate::corpus::{next_id, stamp};
use crate::http1::{Request, Response};
use crate::spec::{DeleteMode, Endpoint, SingleSpec, WriteSpec};
use crate::value::FieldPath;

impl ApiService {
    pub(super) fn create(
        &self,
        endpoint: &Endpoint,
        write: &WriteSpec,
        params: &[(String, String)],
        request: &Request,
    ) -> Result<Response, ApiError> {
        parse_query(endpoint, &request.query, None)?;
        let body = parse_body(endpoint, request)?;
        let mut record = Value::Object(write.defaults.clone());
        merge_patch(&mut record, &body);
        let future = self.future_for(&endpoint.corpus);
        let created = self.write_store(|corpora| {
            let records = corpora.entry(endpoint.corpus.clone()).or_default();
            for (param, field) in &endpoint.path_fields {
                let value = path_value(params, param)?;
                // Typed like the corpus: `/users/{id}` on numeric ids stores a number.
                let numeric = records
                    .iter()
                    .find_map(|r| field.first(r))
                    .is_some_and(Value::is_number);
                let typed = match value.parse::<i64>() {
                    Ok(n) if numeric => Value::from(n),
                    _ => Value::String(value.to_owned()),
                };
                field.set(&mut record, typed);
            }
            match write.id_field.first(&record) {
                Some(id) => {
                    let text = match id {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if records
                        .iter()
                        .any(|r| field_equals(r, &write.id_field, &text))
                    {
                        return Err(ApiError::new(
                            409,
                            format!("a record with id `{text}` already exists"),
                        ));
                    }
                }
                None => {
                    let mut known = records.clone();
                    known.extend(future.iter().cloned());
                    write
                        .id_field
                        .set(&mut record, next_id(&known, &write.id_field, 0));
                }
            }
            if let Some(id) = write.id_field.first(&record).cloned() {
                for copy in &write.id_copies {
                    copy.set(&mut record, id.clone());
                }
            }
            let at = self.clock.tick();
            stamp(&mut record, &write.stamp, at, records);
            records.push(Arc::new(record.clone()));
            record_event(corpora, write, "created", &record, None, at);
            Ok(record)
        })?;
        Ok(Response::json(
            write.status,
            &Self::wrap(endpoint, created, Vec::new()),
        ))
    }

    pub(super) fn update(
        &self,
        endpoint: &Endpoint,
        single: &SingleSpec,
        write: &WriteSpec,
        replace: bool,
        params: &[(String, String)],
        request: &Request,
    ) -> Result<Response, ApiError> {
        parse_query(endpoint, &request.query, None)?;
        let body = parse_body(endpoint, request)?;
        let id = selected(single, params)?;
        let updated = self.write_store(|corpora| {
            let records = corpora.entry(endpoint.corpus.clone()).or_default();
            let index = find(records, endpoint, single, params, id)?;
            let old = &records[index];
            let mut record = if replace {
                body.clone()
            } else {
                (**old).clone()
            };
            if !replace {
                merge_patch(&mut record, &body);
            }
            // The identifier is not writable.
            if let Some(old_id) = write.id_field.first(old).cloned() {
                write.id_field.set(&mut record, old_id);
            }
            let previous = previous_attributes(old, &body);
            let at = self.clock.tick();
            stamp(&mut record, &write.stamp, at, records);
            records[index] = Arc::new(record.clone());
            record_event(corpora, write, "updated", &record, Some(previous), at);
            Ok(record)
        })?;
        Ok(Response::json(
            write.status,
            &Self::wrap(endpoint, updated, Vec::new()),
        ))
    }

    pub(super) fn delete(
        &self,
        endpoint: &Endpoint,
        single: &SingleSpec,
        write: &WriteSpec,
        mode: &DeleteMode,
        params: &[(String, String)],
        request: &Request,
    ) -> Result<Response, ApiError> {
        parse_query(endpoint, &request.query, None)?;
        let id = selected(single, params)?;
        let answer = self.write_store(|corpora| {
            let records = corpora.entry(endpoint.corpus.clone()).or_default();
            let index = find(records, endpoint, single, params, id)?;
            let at = self.clock.tick();
            let gone = (*records[index]).clone();
            record_event(corpora, write, "deleted", &gone, None, at);
            let records = corpora.entry(endpoint.corpus.clone()).or_default();
            match mode {
                DeleteMode::Remove => Ok((*records.remove(index)).clone()),
                DeleteMode::Flag { field, value } => {
                    let mut record = (*records[index]).clone();
                    field.set(&mut record, value.clone());
                    stamp(&mut record, &write.stamp, at, records);
                    records[index] = Arc::new(record.clone());
                    Ok(record)
                }
                DeleteMode::Tombstone { into, keep } => {
                    let removed = records.remove(index);
                    let mut tombstone = match keep {
                        Some(fields) => {
                            let mut kept = Value::Object(Map::new());
                            for field in fields {
                                if let Some(value) = field.first(&removed) {
                                    field.set(&mut kept, value.clone());
                                }
                            }
                            kept
                        }
                        None => (*removed).clone(),
                    };
                    let tombstones = corpora.entry(into.clone()).or_default();
                    stamp(&mut tombstone, &write.stamp, at, tombstones);
                    tombstones.push(Arc::new(tombstone.clone()));
                    Ok(tombstone)
                }
            }
        })?;
        if write.status == 204 {
            return Ok(Response::empty(204));
        }
        Ok(Response::json(
            write.status,
            &Self::wrap(endpoint, answer, Vec::new()),
        ))
    }
}

/// Appends the event of a write to the spec's event feed, if it has one: newest first, as the
/// feed lists events, so that events of one second list in the order they happened (latest
/// first).
fn record_event(
    corpora: &mut BTreeMap<String, Vec<Arc<Value>>>,
    write: &WriteSpec,
    change: &str,
    object: &Value,
    previous: Option<Value>,
    at: DateTime<Utc>,
) {
    let Some(events) = &write.events else {
        return;
    };
    let feed = corpora.entry(events.into.clone()).or_default();
    let id = FieldPath::parse("id").map(|id| next_id(feed, &id, 0));
    let mut data = Map::new();
    data.insert("object".to_owned(), object.clone());
    if let Some(previous) = previous {
        data.insert("previous_attributes".to_owned(), previous);
    }
    let mut event = json!({
        "id": id.unwrap_or(Value::Null),
        "object": "event",
        "type": format!("{}.{change}", events.object),
        "data": data,
        "livemode": false,
        "pending_webhooks": 0,
        "request": {"id": null, "idempotency_key": null},
    });
    if let Ok(created) = FieldPath::parse("created") {
        stamp(&mut event, &[created], at, feed);
    }
    feed.insert(0, Arc::new(event));
}

/// The top-level fields an update changes, with their values before it (null when absent).
fn previous_attributes(old: &Value, body: &Value) -> Value {
    let Value::Object(changes) = body else {
        return Value::Object(Map::new());
    };
    let previous = changes
        .keys()
        .map(|key| (key.clone(), old.get(key).cloned().unwrap_or(Value::Null)))
        .collect();
    Value::Object(previous)
}

fn find(
    records: &[Arc<Value>],
    endpoint: &Endpoint,
    single: &SingleSpec,
    params: &[(String, String)],
    id: &str,
) -> Result<usize, ApiError> {
    records
        .iter()
        .position(|r| on_path(endpoint, params, r) && field_equals(r, &single.field, id))
        .ok_or_else(|| ApiError::not_found("Not Found"))
}

/// The request body as a JSON object: JSON, or a form (`a=1&metadata[plan]=pro&tags[]=x`, as
/// Stripe takes it). An empty body is an empty object. A body wrapped like the endpoint's
/// responses (Zendesk's `{"ticket": {...}}` under `records_key: ticket`) is unwrapped.
fn parse_body(endpoint: &Endpoint, request: &Request) -> Result<Value, ApiError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let form = request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let value = if form {
        parse_form(&request.body)
    } else {
        serde_json::from_slice(&request.body)
            .map_err(|e| ApiError::bad_request(format!("Problems parsing JSON: {e}")))?
    };
    if let Some(inner) = endpoint
        .records_key
        .as_ref()
        .and_then(|key| key.first(&value))
        && inner.is_object()
    {
        return Ok(inner.clone());
    }
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ))
    }
}

fn parse_form(body: &[u8]) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in url::form_urlencoded::parse(body) {
        let (base, rest) = key.split_once('[').unwrap_or((&key, ""));
        let mut segments = vec![base.to_owned()];
        segments.extend(rest.split('[').map(|s| s.trim_end_matches(']').to_owned()));
        if rest.is_empty() {
            segments.truncate(1);
        }
        insert_form(&mut root, &segments, Value::String(value.into_owned()));
    }
    root
}

/// `a[b][]=v`: objects for named segments, arrays for empty ones.
fn insert_form(target: &mut Value, segments: &[String], value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        *target = value;
        return;
    };
    if first.is_empty() {
        if !target.is_array() {
            *target = Value::Array(Vec::new());
        }
        let Value::Array(items) = target else {
            unreachable!("made an array")
        };
        let mut slot = Value::Null;
        insert_form(&mut slot, rest, value);
        items.push(slot);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        unreachable!("made an object")
    };
    let slot = map.entry(first.clone()).or_insert(Value::Null);
    insert_form(slot, rest, value);
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        unreachable!("made an object")
    };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut target, &json!({"a": null, "b": {"c": 9}, "e": [1]}));
        assert_eq!(target, json!({"b": {"c": 9, "d": 3}, "e": [1]}));
    }

    #[test]
    fn forms_nest_brackets() {
        let value = parse_form(b"email=a%40b.c&metadata[plan]=pro&tags[]=x&tags[]=y");
        assert_eq!(
            value,
            json!({"email": "a@b.c", "metadata": {"plan": "pro"}, "tags": ["x", "y"]})
        );
    }
}
