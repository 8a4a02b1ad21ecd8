//! Query strings against an endpoint's declared parameters: validation (strict endpoints answer
//! 400 on unknown parameters), filters, sort, page, size, offset and cursor.

use crate::api_error::ApiError;
use crate::query::{ActiveFilter, FilterOp, ParsedQuery, SortSpec};
use crate::spec::{Endpoint, Role};
use crate::value::{FieldPath, Operand};

/// The page size when an endpoint declares no size parameter.
const DEFAULT_PAGE_SIZE: u64 = 30;

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
                query.filters.push(ActiveFilter::new(
                    field.clone(),
                    *op,
                    operands,
                    (!values.is_empty()).then(|| name.to_owned()),
                ));
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
