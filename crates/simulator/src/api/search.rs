//! HubSpot's search endpoints (`POST /crm/v3/objects/{type}/search`): a JSON body with
//! `filterGroups` (any group matching, every filter in it), `sorts`, `after` and `limit`; the
//! answer `{"total", "results", "paging": {"next": {"after"}}}`. Paging stops at `max_results`
//! (HubSpot's 10,000): asking past it answers 400, so clients must narrow the query instead.
//! Archived records are never found, and with `lag` the newest changes are not found yet.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::ApiService;
use crate::api_error::ApiError;
use crate::http1::{Request, Response};
use crate::spec::{Endpoint, SearchSpec};
use crate::value::{FieldPath, Operand, SortKey, compare_to_operand, parse_instant};

/// One filter of a group.
struct Filter {
    field: FieldPath,
    operator: String,
    value: Option<String>,
    high: Option<String>,
    values: Vec<String>,
}

impl ApiService {
    pub(super) fn search(
        &self,
        index: usize,
        endpoint: &Endpoint,
        spec: &SearchSpec,
        params: &[(String, String)],
        request: &Request,
    ) -> Result<Response, ApiError> {
        let body: Value = serde_json::from_slice(&request.body)
            .map_err(|e| ApiError::bad_request(format!("Invalid input JSON: {e}")))?;
        let groups = filter_groups(&body)?;
        let sorts = sorts(&body)?;
        let after = match body.get("after") {
            None | Some(Value::Null) => 0,
            Some(Value::String(text)) => text
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid `after`: {text}")))?,
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0),
            Some(other) => return Err(ApiError::bad_request(format!("invalid `after`: {other}"))),
        };
        if after >= spec.max_results {
            return Err(ApiError::bad_request(format!(
                "There was a problem with the request. Search can page through at most {} results: `after` {after} is past them",
                spec.max_results
            )));
        }
        let limit = body
            .get("limit")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(spec.default_limit)
            .clamp(1, spec.max_limit);
        let visible_from = spec.lag.as_ref().map(|(field, seconds)| {
            (
                field,
                self.clock.now().timestamp_micros()
                    - i64::try_from(*seconds).unwrap_or(0) * 1_000_000,
            )
        });
        let mut found: Vec<Arc<Value>> = self
            .view(index, endpoint, params)
            .into_iter()
            .filter(|r| r.get("archived") != Some(&Value::Bool(true)))
            .filter(|r| {
                visible_from.is_none_or(|(field, from)| {
                    SortKey::of(field.first(r))
                        .as_micros()
                        .is_none_or(|at| at <= from)
                })
            })
            .filter(|r| groups.is_empty() || groups.iter().any(|g| g.iter().all(|f| f.matches(r))))
            .collect();
        // HubSpot orders by id when no sort is given.
        let id = FieldPath::parse("id").map_err(ApiError::internal)?;
        found.sort_by(|a, b| {
            for (field, descending) in &sorts {
                let ordering = SortKey::of(field.first(a)).cmp(&SortKey::of(field.first(b)));
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            SortKey::of(id.first(a)).cmp(&SortKey::of(id.first(b)))
        });
        let total = found.len();
        let end = (after + limit).min(total).min(spec.max_results);
        let results: Vec<Value> = found
            .get(after..end)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let mut result = (**r).clone();
                if let Value::Object(fields) = &mut result {
                    fields.retain(|name, _| !spec.omit.contains(name));
                }
                result
            })
            .collect();
        let mut answer = Map::new();
        answer.insert("total".to_owned(), Value::from(total));
        answer.insert("results".to_owned(), Value::Array(results));
        if end < total && end < spec.max_results {
            answer.insert(
                "paging".to_owned(),
                json!({"next": {"after": end.to_string()}}),
            );
        }
        Ok(Response::json(200, &Value::Object(answer)))
    }
}

fn filter_groups(body: &Value) -> Result<Vec<Vec<Filter>>, ApiError> {
    let Some(groups) = body.get("filterGroups") else {
        return Ok(Vec::new());
    };
    let Value::Array(groups) = groups else {
        return Err(ApiError::bad_request("`filterGroups` must be an array"));
    };
    groups
        .iter()
        .map(|group| {
            let filters = group
                .get("filters")
                .and_then(Value::as_array)
                .ok_or_else(|| ApiError::bad_request("each filter group needs `filters`"))?;
            filters.iter().map(parse_filter).collect()
        })
        .collect()
}

fn parse_filter(filter: &Value) -> Result<Filter, ApiError> {
    let text = |key: &str| {
        filter.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
    };
    let name = text("propertyName")
        .ok_or_else(|| ApiError::bad_request("a filter needs `propertyName`"))?;
    let operator = text("operator").unwrap_or_else(|| "EQ".to_owned());
    let known = [
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
    ];
    if !known.contains(&operator.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown operator `{operator}`; expected one of {}",
            known.join(", ")
        )));
    }
    let values = filter
        .get("values")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Filter {
        field: property(&name)?,
        operator,
        value: text("value"),
        high: text("highValue"),
        values,
    })
}

/// The record field of a property: `properties.<name>`.
fn property(name: &str) -> Result<FieldPath, ApiError> {
    FieldPath::parse(&format!("properties.{name}")).map_err(ApiError::bad_request)
}

fn sorts(body: &Value) -> Result<Vec<(FieldPath, bool)>, ApiError> {
    let Some(Value::Array(sorts)) = body.get("sorts") else {
        return Ok(Vec::new());
    };
    sorts
        .iter()
        .map(|sort| match sort {
            // The short form: "-hs_lastmodifieddate".
            Value::String(text) => match text.strip_prefix('-') {
                Some(name) => Ok((property(name)?, true)),
                None => Ok((property(text)?, false)),
            },
            Value::Object(map) => {
                let name = map
                    .get("propertyName")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::bad_request("a sort needs `propertyName`"))?;
                let descending = map.get("direction").and_then(Value::as_str) == Some("DESCENDING");
                Ok((property(name)?, descending))
            }
            other => Err(ApiError::bad_request(format!("invalid sort {other}"))),
        })
        .collect()
}

impl Filter {
    fn matches(&self, record: &Value) -> bool {
        let field = self.field.first(record).filter(|v| !v.is_null());
        let compare = |value: &str| field.and_then(|f| compare(f, value));
        match self.operator.as_str() {
            "HAS_PROPERTY" => field.is_some_and(|v| v != &Value::String(String::new())),
            "NOT_HAS_PROPERTY" => field.is_none_or(|v| v == &Value::String(String::new())),
            "IN" => self
                .values
                .iter()
                .any(|v| compare(v) == Some(Ordering::Equal)),
            "NOT_IN" => !self
                .values
                .iter()
                .any(|v| compare(v) == Some(Ordering::Equal)),
            "BETWEEN" => {
                let low = self.value.as_deref().and_then(compare);
                let high = self.high.as_deref().and_then(compare);
                low.is_some_and(Ordering::is_ge) && high.is_some_and(Ordering::is_le)
            }
            operator => {
                let Some(ordering) = self.value.as_deref().and_then(compare) else {
                    return operator == "NEQ";
                };
                match operator {
                    "EQ" => ordering.is_eq(),
                    "NEQ" => ordering.is_ne(),
                    "LT" => ordering.is_lt(),
                    "LTE" => ordering.is_le(),
                    "GT" => ordering.is_gt(),
                    _ => ordering.is_ge(),
                }
            }
        }
    }
}

/// Compares a property with a filter value. HubSpot takes instants as milliseconds since the
/// epoch, so a long number against a date property is read as one.
fn compare(field: &Value, value: &str) -> Option<Ordering> {
    let millis = value.len() >= 12 && value.bytes().all(|b| b.is_ascii_digit());
    if let (true, Value::String(text)) = (millis, field)
        && let Some(at) = parse_instant(text)
    {
        let wanted = value.parse::<i64>().ok()?.checked_mul(1000)?;
        return Some(at.cmp(&wanted));
    }
    compare_to_operand(field, &Operand::new(value))
}
