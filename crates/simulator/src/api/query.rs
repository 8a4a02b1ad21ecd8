//! Query strings against an endpoint's declared parameters: validation (strict endpoints answer
//! 400 on unknown parameters), filters, sort, page, size, offset and cursor.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::Value;

use super::{ApiError, SortSpec};
use crate::spec::{Endpoint, FilterOp, Role};
use crate::value::{FieldPath, Operand, SortKey, compare_to_operand};

/// The page size when an endpoint declares no size parameter.
const DEFAULT_PAGE_SIZE: u64 = 30;

/// A filter taken from the query (or a filter parameter's default).
#[derive(Debug, Clone)]
pub(crate) struct ActiveFilter {
    field: FieldPath,
    op: FilterOp,
    operands: Vec<Operand>,
    /// The query parameter that set it; `None` when it is the parameter's default.
    param: Option<String>,
}

impl ActiveFilter {
    /// A filter set by query parameter `param`, for tests.
    #[cfg(test)]
    pub(crate) fn given(param: &str, field: &str, op: FilterOp, value: &str) -> Self {
        Self {
            field: FieldPath::parse(field).expect("a valid path"),
            op,
            operands: vec![Operand::new(value)],
            param: Some(param.to_owned()),
        }
    }

    pub(crate) fn field(&self) -> &FieldPath {
        &self.field
    }

    pub(crate) fn op(&self) -> FilterOp {
        self.op
    }

    pub(crate) fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// For a range filter (`gt`, `gte`, `lt`, `lte`) whose value is a date: that instant in
    /// microseconds, as the comparison rules read it.
    pub(crate) fn instant_bound(&self) -> Option<i64> {
        if !matches!(
            self.op,
            FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte
        ) {
            return None;
        }
        let raw = Value::String(self.operands.first()?.raw.clone());
        match SortKey::of(Some(&raw)) {
            SortKey::Instant(micros) => Some(micros),
            _ => None,
        }
    }

    pub(crate) fn matches(&self, record: &Value) -> bool {
        let values = self.field.lookup(record);
        // Whether some value at the field compares with `operand` as `test` wants.
        let any = |operand: &Operand, test: fn(Ordering) -> bool| {
            values
                .iter()
                .any(|v| compare_to_operand(v, operand).is_some_and(test))
        };
        let Some(first) = self.operands.first() else {
            return true;
        };
        match self.op {
            FilterOp::Eq => any(first, Ordering::is_eq),
            FilterOp::Ne => !any(first, Ordering::is_eq),
            FilterOp::Gt => any(first, Ordering::is_gt),
            FilterOp::Gte => any(first, Ordering::is_ge),
            FilterOp::Lt => any(first, Ordering::is_lt),
            FilterOp::Lte => any(first, Ordering::is_le),
            FilterOp::In => self.operands.iter().any(|o| any(o, Ordering::is_eq)),
        }
    }
}

/// Everything the query asked for, resolved against the endpoint's parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParsedQuery {
    pub(crate) filters: Vec<ActiveFilter>,
    /// The filter parameters given (name, raw value), for tokens that carry them.
    pub(crate) filter_pairs: Vec<(String, String)>,
    pub(crate) sort: Vec<SortSpec>,
    pub(crate) page: Option<u64>,
    pub(crate) page_start: u64,
    pub(crate) page_param: Option<String>,
    pub(crate) size: u64,
    pub(crate) offset: Option<u64>,
    pub(crate) cursor: Option<String>,
    pub(crate) cursor_param: Option<String>,
}

impl ParsedQuery {
    /// Applies filters and sort. Sort keys are extracted once per record, and the sort is
    /// stable, so equal keys keep corpus order.
    pub(crate) fn select(&self, records: Vec<Arc<Value>>) -> Vec<Arc<Value>> {
        let kept: Vec<Arc<Value>> = records
            .into_iter()
            .filter(|r| self.filters.iter().all(|f| f.matches(r)))
            .collect();
        if self.sort.is_empty() {
            return kept;
        }
        let mut keyed: Vec<(Vec<SortKey>, Arc<Value>)> = kept
            .into_iter()
            .map(|r| {
                let keys = self
                    .sort
                    .iter()
                    .map(|s| SortKey::of(s.field.first(&r)))
                    .collect();
                (keys, r)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for ((x, y), spec) in a.iter().zip(b).zip(&self.sort) {
                let order = if spec.descending { y.cmp(x) } else { x.cmp(y) };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        });
        keyed.into_iter().map(|(_, r)| r).collect()
    }
}

fn parse_u64(name: &str, value: &str) -> Result<u64, ApiError> {
    value.trim().parse::<u64>().map_err(|_| {
        ApiError::bad_request(format!(
            "`{name}` must be a non-negative integer, got `{value}`"
        ))
    })
}

/// Resolves `pairs` against `endpoint`; `forced_sort` replaces any sort (export styles).
pub(crate) fn parse_query(
    endpoint: &Endpoint,
    pairs: &[(String, String)],
    forced_sort: Option<Vec<SortSpec>>,
) -> Result<ParsedQuery, ApiError> {
    let auth_param = endpoint.auth.as_ref().and_then(|a| a.query_param());
    if endpoint.strict {
        for (key, _) in pairs {
            let known =
                endpoint.params.iter().any(|p| &p.name == key) || auth_param == Some(key.as_str());
            if !known {
                let mut names: Vec<&str> =
                    endpoint.params.iter().map(|p| p.name.as_str()).collect();
                names.sort_unstable();
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{key}`; this endpoint accepts: {}",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                )));
            }
        }
    }
    let values_of = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let cursor_given = endpoint
        .params
        .iter()
        .filter(|p| matches!(p.role, Role::Cursor))
        .any(|p| values_of(&p.name).iter().any(|v| !v.is_empty()));
    let mut query = ParsedQuery {
        page_start: 1,
        size: DEFAULT_PAGE_SIZE,
        ..ParsedQuery::default()
    };
    let mut sort_field: Option<FieldPath> = None;
    let mut direction: Option<bool> = None;
    let mut default_direction: Option<bool> = None;
    for param in &endpoint.params {
        let values = values_of(&param.name);
        let name = param.name.as_str();
        // A cursor carries the position (and for export styles, the filters), so parameters
        // required on the first request may be left out with it.
        if values.is_empty() && param.required && !cursor_given {
            return Err(ApiError::bad_request(format!(
                "missing required query parameter `{name}`"
            )));
        }
        let value = values.first().copied();
        match &param.role {
            Role::Filter {
                field,
                op,
                separator,
                default,
                any,
            } => {
                let given: Vec<String> = if values.is_empty() {
                    default.iter().cloned().collect()
                } else {
                    values.iter().map(|v| (*v).to_owned()).collect()
                };
                if given.is_empty() || (given.len() == 1 && any.as_ref() == Some(&given[0])) {
                    continue;
                }
                let operands: Vec<Operand> = if *op == FilterOp::In {
                    given
                        .iter()
                        .flat_map(|v| v.split(separator.as_str()))
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(Operand::new)
                        .collect()
                } else {
                    vec![Operand::new(&given[0])]
                };
                if !values.is_empty() {
                    query
                        .filter_pairs
                        .extend(values.iter().map(|v| (name.to_owned(), (*v).to_owned())));
                }
                query.filters.push(ActiveFilter {
                    field: field.clone(),
                    op: *op,
                    operands,
                    param: (!values.is_empty()).then(|| name.to_owned()),
                });
            }
            Role::SortField { values: allowed } => {
                if let Some(value) = value {
                    let field = match allowed {
                        Some(map) => map.get(value).cloned().ok_or_else(|| {
                            let names: Vec<&str> = map.keys().map(String::as_str).collect();
                            ApiError::bad_request(format!(
                                "invalid value `{value}` for `{name}`; expected one of: {}",
                                names.join(", ")
                            ))
                        })?,
                        None => FieldPath::parse(value).map_err(ApiError::bad_request)?,
                    };
                    sort_field = Some(field);
                }
            }
            Role::SortDirection { default } => {
                default_direction = *default;
                if let Some(value) = value {
                    direction = Some(match value.to_ascii_lowercase().as_str() {
                        "asc" => false,
                        "desc" => true,
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "invalid value `{value}` for `{name}`; expected asc or desc"
                            )));
                        }
                    });
                }
            }
            Role::Page { start } => {
                query.page_start = *start;
                query.page_param = Some(name.to_owned());
                if let Some(value) = value {
                    // Like GitHub, a page before the first is the first.
                    query.page = Some(parse_u64(name, value)?.max(*start));
                }
            }
            Role::PageSize {
                default,
                max,
                reject_over_max,
            } => {
                query.size = *default;
                if let Some(value) = value {
                    let size = parse_u64(name, value)?;
                    if size == 0 || (size > *max && *reject_over_max) {
                        return Err(ApiError::bad_request(format!(
                            "`{name}` must be between 1 and {max}, got {size}"
                        )));
                    }
                    query.size = size.min(*max);
                }
            }
            Role::Offset => {
                if let Some(value) = value {
                    query.offset = Some(parse_u64(name, value)?);
                }
            }
            Role::Cursor => {
                query.cursor_param = Some(name.to_owned());
                query.cursor = value.map(str::to_owned);
            }
            Role::Select { .. } | Role::Ignored => {}
        }
    }
    query.sort = match (forced_sort, sort_field) {
        (Some(forced), _) => forced,
        (None, Some(field)) => {
            let descending = direction
                .or(default_direction)
                .or_else(|| endpoint.sort.first().map(|s| s.descending))
                .unwrap_or(false);
            vec![SortSpec { field, descending }]
        }
        (None, None) => {
            let mut sort = endpoint.sort.clone();
            if let (Some(first), Some(descending)) = (sort.first_mut(), direction) {
                first.descending = descending;
            }
            sort
        }
    };
    Ok(query)
}
