//! The simulated source: an in-process stand-in for a REST API with pages, cursors, filters,
//! validation errors, injected transient failures and write calls for write-back tests.

mod api;
mod data;
mod prng;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use lakeflow_connect::{Record, Secret};
use serde_json::Value;

use crate::time::{format_ts, now_micros, parse_ts};
use api::Collection;
pub(crate) use data::{METRICS_RETENTION, ORDER_STATUSES};
use prng::SplitMix64;

/// The default seed of the data set.
pub const DEFAULT_SEED: u64 = 42;
/// The default share of read calls that fail with a retriable error.
pub const DEFAULT_ERROR_RATE: f64 = 0.03;
/// The largest `page_size` (and events `limit`) the API accepts.
pub const MAX_PAGE_SIZE: usize = 100;

/// How to build an [`ExampleSource`].
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Seeds the data set and, independently, the injected failures.
    pub seed: u64,
    /// Share of read calls (0.0-1.0) answered with a retriable 429, 500 or 503.
    pub error_rate: f64,
    /// When set, every read must carry this key or gets a 401.
    pub api_key: Option<Secret>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            error_rate: DEFAULT_ERROR_RATE,
            api_key: None,
        }
    }
}

/// One API call: an endpoint (`users`, `orders/deleted`, `tables`) and string parameters, as
/// they would appear in a query string.
#[derive(Debug, Clone, Default)]
pub struct Request {
    endpoint: String,
    params: BTreeMap<String, String>,
    api_key: Option<Secret>,
}

impl Request {
    /// A request to `endpoint` without parameters.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            ..Self::default()
        }
    }

    /// Adds a query parameter.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// Sends an API key with the request (the `Authorization` header of a real API).
    #[must_use]
    pub fn api_key(mut self, key: Option<Secret>) -> Self {
        self.api_key = key;
        self
    }

    /// The endpoint called.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// One page of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records of the page, as JSON objects.
    pub records: Vec<Record>,
    /// Pass as `page_token` to get the next page (paged endpoints only).
    pub next_page_token: Option<String>,
    /// Whether more records match the request.
    pub has_more: bool,
}

/// An error response, with an HTTP-like status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: {message}")]
pub struct ApiError {
    /// 400 bad request, 401 unauthorised, 404 not found, 409 conflict, 429, 500, 503.
    pub status: u16,
    /// What the API said.
    pub message: String,
    /// The request parameter (or record field) at fault, for 400s.
    pub param: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            param: None,
        }
    }

    pub(crate) fn bad_param(param: &str, message: impl Into<String>) -> Self {
        Self {
            param: Some(param.to_owned()),
            ..Self::new(400, message)
        }
    }

    /// Whether the same call may succeed later (rate limits and server errors).
    pub fn is_retriable(&self) -> bool {
        matches!(self.status, 429 | 500 | 502 | 503 | 504)
    }
}

/// The simulated API. Share it with `Arc`; calls lock an internal mutex.
pub struct ExampleSource {
    created_at: DateTime<Utc>,
    api_key: Option<Secret>,
    state: Mutex<State>,
}

struct State {
    rows: [Vec<Record>; Collection::COUNT],
    faults: SplitMix64,
    error_rate: f64,
    requests: u64,
    injected: u64,
}

impl fmt::Debug for ExampleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExampleSource")
            .field("created_at", &format_ts(self.created_at))
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl Default for ExampleSource {
    fn default() -> Self {
        Self::new(SourceConfig::default())
    }
}

impl ExampleSource {
    /// A source with the seeded data set. Metrics are placed around the creation time.
    pub fn new(config: SourceConfig) -> Self {
        let created_at = now_micros();
        let whole_second =
            DateTime::from_timestamp(created_at.timestamp(), 0).unwrap_or(created_at);
        let data = data::generate(config.seed, whole_second);
        let mut rows: [Vec<Record>; Collection::COUNT] = Default::default();
        rows[Collection::Products as usize] = data.products;
        rows[Collection::Events as usize] = data.events;
        rows[Collection::Users as usize] = data.users;
        rows[Collection::Orders as usize] = data.orders;
        rows[Collection::DeletedOrders as usize] = data.deleted_orders;
        rows[Collection::Metrics as usize] = data.metrics;
        Self {
            created_at,
            api_key: config.api_key,
            state: Mutex::new(State {
                rows,
                // A separate stream, so the data is the same whatever the error rate.
                faults: SplitMix64::derived(config.seed, 0xFA17),
                error_rate: sanitize_rate(config.error_rate),
                requests: 0,
                injected: 0,
            }),
        }
    }

    /// A source with the given seed and the default error rate.
    pub fn with_seed(seed: u64) -> Self {
        Self::new(SourceConfig {
            seed,
            ..SourceConfig::default()
        })
    }

    /// When the source was created: metrics run from two hours before to one hour after it.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Changes the share of read calls that fail (clamped to 0.0-1.0).
    pub fn set_error_rate(&self, rate: f64) {
        self.lock().error_rate = sanitize_rate(rate);
    }

    /// How many read calls were made, and how many of them failed on purpose.
    pub fn request_stats(&self) -> (u64, u64) {
        let state = self.lock();
        (state.requests, state.injected)
    }

    /// Serves one read call.
    ///
    /// # Errors
    /// 404 for an unknown endpoint, 401 for a wrong API key, 400 (naming the parameter) for an
    /// unknown or invalid parameter, and injected 429/500/503 at the configured rate.
    pub fn get(&self, request: &Request) -> Result<Page, ApiError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.requests += 1;
        if state.error_rate > 0.0 && state.faults.chance(state.error_rate) {
            state.injected += 1;
            let status = *state.faults.pick(&[429, 500, 503]);
            let message = match status {
                429 => "too many requests, slow down",
                500 => "internal server error",
                _ => "service unavailable",
            };
            return Err(ApiError::new(status, message));
        }
        if let Some(expected) = &self.api_key
            && request.api_key.as_ref() != Some(expected)
        {
            return Err(ApiError::new(401, "missing or invalid API key"));
        }
        api::handle(&state.rows, request)
    }

    /// Creates a record. A missing cursor field (`updated_at`, `created_at`, `observed_at`) is
    /// stamped with the current time.
    ///
    /// # Errors
    /// 404 for an unknown table, 400 when the id is missing or a timestamp is invalid, 409 when
    /// the id exists.
    pub fn insert(&self, table: &str, mut record: Record) -> Result<Record, ApiError> {
        let collection = Collection::writable(table)?;
        let id = collection.id_of(&record)?;
        let mut state = self.lock();
        let rows = &mut state.rows[collection as usize];
        if rows
            .iter()
            .any(|row| row.get(collection.id_field()) == Some(&id))
        {
            return Err(ApiError::new(409, format!("{table} {id} already exists")));
        }
        let cursor = collection.cursor_field();
        if record.get(cursor).is_none_or(Value::is_null) {
            record.insert(cursor.to_owned(), format_ts(now_micros()).into());
        }
        check_timestamp(&record, cursor)?;
        rows.push(record.clone());
        Ok(record)
    }

    /// Updates the given fields of a record (creating it if absent) and stamps its cursor
    /// field with the current time, as an API does on every change.
    ///
    /// # Errors
    /// 404 for an unknown table, 400 when the id is missing.
    pub fn upsert(&self, table: &str, record: Record) -> Result<Record, ApiError> {
        let collection = Collection::writable(table)?;
        let id = collection.id_of(&record)?;
        let mut state = self.lock();
        let rows = &mut state.rows[collection as usize];
        let stamp = Value::from(format_ts(now_micros()));
        let key = collection.id_field();
        let index = if let Some(index) = rows.iter().position(|row| row.get(key) == Some(&id)) {
            rows[index].extend(record);
            index
        } else {
            rows.push(record);
            rows.len() - 1
        };
        let row = &mut rows[index];
        row.insert(collection.cursor_field().to_owned(), stamp);
        Ok(row.clone())
    }

    /// Deletes a record. Deleting an order leaves a tombstone (`order_id`, `updated_at`,
    /// `deleted_at`) in the `orders/deleted` feed.
    ///
    /// # Errors
    /// 404 for an unknown table or id.
    pub fn delete(&self, table: &str, id: &Value) -> Result<(), ApiError> {
        let collection = Collection::writable(table)?;
        let mut state = self.lock();
        let key = collection.id_field();
        let rows = &mut state.rows[collection as usize];
        let Some(index) = rows.iter().position(|row| row.get(key) == Some(id)) else {
            return Err(ApiError::new(404, format!("{table} {id} not found")));
        };
        rows.remove(index);
        if collection == Collection::Orders {
            let at = Value::from(format_ts(now_micros()));
            let mut tombstone = Record::new();
            tombstone.insert(key.to_owned(), id.clone());
            tombstone.insert("updated_at".to_owned(), at.clone());
            tombstone.insert("deleted_at".to_owned(), at);
            state.rows[Collection::DeletedOrders as usize].push(tombstone);
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the rows half-written, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn sanitize_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

fn check_timestamp(record: &Record, field: &str) -> Result<(), ApiError> {
    match record.get(field).and_then(Value::as_str).map(parse_ts) {
        Some(Some(_)) => Ok(()),
        _ => Err(ApiError::bad_param(
            field,
            format!("`{field}` must be an RFC 3339 timestamp"),
        )),
    }
}
