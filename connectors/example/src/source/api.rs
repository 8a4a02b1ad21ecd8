//! Request handling: endpoints, parameter validation, filters, cursor ranges and pages.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use lakeflow_connect::Record;
use serde_json::Value;

use super::{ApiError, MAX_PAGE_SIZE, ORDER_STATUSES, Page, Request};
use crate::time::parse_ts;

/// The collections the source stores; the discriminant indexes the source's row arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collection {
    Products,
    Events,
    Users,
    Orders,
    DeletedOrders,
    Metrics,
}

impl Collection {
    pub(crate) const COUNT: usize = 6;

    /// The collections writes may target, by table name (the deletes feed is written by
    /// deleting orders, not directly).
    pub(crate) fn writable(table: &str) -> Result<Self, ApiError> {
        match table {
            "products" => Ok(Self::Products),
            "events" => Ok(Self::Events),
            "users" => Ok(Self::Users),
            "orders" => Ok(Self::Orders),
            "metrics" => Ok(Self::Metrics),
            _ => Err(ApiError::new(404, format!("no such table `{table}`"))),
        }
    }

    pub(crate) fn id_field(self) -> &'static str {
        match self {
            Self::Products => "product_id",
            Self::Events => "event_id",
            Self::Users => "user_id",
            Self::Orders | Self::DeletedOrders => "order_id",
            Self::Metrics => "metric_id",
        }
    }

    /// The field the API stamps on writes and filters with `since`/`until`.
    pub(crate) fn cursor_field(self) -> &'static str {
        match self {
            Self::Events => "created_at",
            Self::Metrics => "observed_at",
            _ => "updated_at",
        }
    }

    pub(crate) fn id_of(self, record: &Record) -> Result<Value, ApiError> {
        let field = self.id_field();
        match record.get(field) {
            Some(id) if !id.is_null() => Ok(id.clone()),
            _ => Err(ApiError::bad_param(field, format!("`{field}` is required"))),
        }
    }
}

struct Endpoint {
    path: &'static str,
    collection: Option<Collection>,
    params: &'static [&'static str],
    /// Whether the discovery call (`tables`) lists it.
    listed: bool,
}

const PAGED: &[&str] = &["since", "until", "page_size", "page_token"];

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "tables",
        collection: None,
        params: &[],
        listed: false,
    },
    Endpoint {
        path: "products",
        collection: Some(Collection::Products),
        params: &["category", "page_size", "page_token"],
        listed: true,
    },
    Endpoint {
        path: "events",
        collection: Some(Collection::Events),
        params: &["since", "until", "limit"],
        listed: true,
    },
    Endpoint {
        path: "users",
        collection: Some(Collection::Users),
        params: PAGED,
        listed: true,
    },
    Endpoint {
        path: "orders",
        collection: Some(Collection::Orders),
        params: &[
            "since",
            "until",
            "user_id",
            "status",
            "page_size",
            "page_token",
        ],
        listed: true,
    },
    Endpoint {
        path: "orders/deleted",
        collection: Some(Collection::DeletedOrders),
        params: PAGED,
        listed: false,
    },
    // Served, but hidden from discovery: readable only by those who know its name.
    Endpoint {
        path: "metrics",
        collection: Some(Collection::Metrics),
        params: PAGED,
        listed: false,
    },
];

const DEFAULT_PAGE_SIZE: usize = 25;
const DEFAULT_LIMIT: usize = 50;

pub(crate) fn handle(rows: &[Vec<Record>], request: &Request) -> Result<Page, ApiError> {
    let Some(endpoint) = ENDPOINTS.iter().find(|e| e.path == request.endpoint()) else {
        return Err(ApiError::new(
            404,
            format!("no endpoint `{}`", request.endpoint()),
        ));
    };
    if let Some(name) = request
        .params
        .keys()
        .find(|p| !endpoint.params.contains(&p.as_str()))
    {
        return Err(ApiError::bad_param(
            name,
            format!(
                "unknown parameter `{name}` for `{}`; accepted: {}",
                endpoint.path,
                endpoint.params.join(", ")
            ),
        ));
    }
    let Some(collection) = endpoint.collection else {
        return Ok(discovery());
    };
    let since = timestamp_param(request, "since")?;
    let until = timestamp_param(request, "until")?;
    let filters = Filters::parse(request)?;
    let cursor = collection.cursor_field();
    let by_cursor = endpoint.params.contains(&"since");
    let mut matching: Vec<&Record> = rows[collection as usize]
        .iter()
        .filter(|row| filters.accept(row))
        .filter(|row| {
            let at = cursor_of(row, cursor);
            // `since` is exclusive and `until` inclusive, so consecutive ranges never overlap.
            since.is_none_or(|s| at.is_some_and(|t| t > s))
                && until.is_none_or(|u| at.is_some_and(|t| t <= u))
        })
        .collect();
    let id = collection.id_field();
    matching.sort_by(|a, b| {
        let by_id = compare_ids(&a[id], &b[id]);
        if by_cursor {
            cursor_of(a, cursor).cmp(&cursor_of(b, cursor)).then(by_id)
        } else {
            by_id
        }
    });
    if endpoint.params.contains(&"limit") {
        // Limit-style endpoint: no page tokens; the caller continues with `since`.
        let limit = size_param(request, "limit", DEFAULT_LIMIT)?;
        let has_more = matching.len() > limit;
        let records = matching.into_iter().take(limit).cloned().collect();
        return Ok(Page {
            records,
            next_page_token: None,
            has_more,
        });
    }
    let size = size_param(request, "page_size", DEFAULT_PAGE_SIZE)?;
    let start = match request.get("page_token") {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .ok()
            .filter(|start| *start <= matching.len())
            .ok_or_else(|| ApiError::bad_param("page_token", "invalid or expired page token"))?,
    };
    let end = (start + size).min(matching.len());
    let has_more = end < matching.len();
    Ok(Page {
        records: matching[start..end].iter().map(|r| (*r).clone()).collect(),
        next_page_token: has_more.then(|| end.to_string()),
        has_more,
    })
}

fn discovery() -> Page {
    let records = ENDPOINTS
        .iter()
        .filter(|e| e.listed)
        .map(|e| {
            let mut table = Record::new();
            table.insert("name".to_owned(), e.path.into());
            table
        })
        .collect();
    Page {
        records,
        next_page_token: None,
        has_more: false,
    }
}

/// Server-side filters, validated like a real API validates its query string.
struct Filters<'a> {
    category: Option<&'a str>,
    user_id: Option<i64>,
    status: Option<&'a str>,
}

impl<'a> Filters<'a> {
    fn parse(request: &'a Request) -> Result<Self, ApiError> {
        let user_id = request
            .get("user_id")
            .map(|raw| {
                raw.trim().parse::<i64>().map_err(|_| {
                    ApiError::bad_param(
                        "user_id",
                        format!("`user_id` must be an integer, got {raw:?}"),
                    )
                })
            })
            .transpose()?;
        let status = request.get("status");
        if let Some(status) = status
            && !ORDER_STATUSES.contains(&status)
        {
            return Err(ApiError::bad_param(
                "status",
                format!(
                    "unknown status {status:?}; expected one of {}",
                    ORDER_STATUSES.join(", ")
                ),
            ));
        }
        Ok(Self {
            category: request.get("category"),
            user_id,
            status,
        })
    }

    fn accept(&self, row: &Record) -> bool {
        self.category
            .is_none_or(|c| row.get("category").and_then(Value::as_str) == Some(c))
            && self
                .user_id
                .is_none_or(|u| row.get("user_id").and_then(Value::as_i64) == Some(u))
            && self
                .status
                .is_none_or(|s| row.get("status").and_then(Value::as_str) == Some(s))
    }
}

fn timestamp_param(request: &Request, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    request
        .get(name)
        .map(|raw| {
            parse_ts(raw).ok_or_else(|| {
                ApiError::bad_param(
                    name,
                    format!("`{name}` must be an RFC 3339 timestamp, got {raw:?}"),
                )
            })
        })
        .transpose()
}

fn size_param(request: &Request, name: &str, default: usize) -> Result<usize, ApiError> {
    let Some(raw) = request.get(name) else {
        return Ok(default);
    };
    raw.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
        .ok_or_else(|| {
            ApiError::bad_param(
                name,
                format!("`{name}` must be between 1 and {MAX_PAGE_SIZE}, got {raw:?}"),
            )
        })
}

fn cursor_of(row: &Record, field: &str) -> Option<DateTime<Utc>> {
    row.get(field).and_then(Value::as_str).and_then(parse_ts)
}

/// Numeric ids compare as numbers, anything else by its text.
fn compare_ids(a: &Value, b: &Value) -> Ordering {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}
