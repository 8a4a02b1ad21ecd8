//! Declared options and their parsing: connection options into [`SourceConfig`] and
//! [`ClientConfig`], table options into per-read settings.

use std::time::Duration;

use chrono::TimeDelta;
use lakeflow_connect::{
    ConnectionOptions, Error, MAX_RECORDS_PER_BATCH, OptionSpec, Result, Secret, TableOptions,
    check_options, parse_option, positive_option,
};

use crate::source::{DEFAULT_ERROR_RATE, DEFAULT_SEED, MAX_PAGE_SIZE, SourceConfig};
use crate::tables::Table;

/// The connection options the connector reads.
pub const CONNECTION_OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional(
        "seed",
        "Seed of the simulated data set and its injected errors (default 42).",
    ),
    OptionSpec::optional(
        "error_rate",
        "Share of API calls failing with a retriable 429/500/503, 0.0-1.0 (default 0.03).",
    ),
    OptionSpec::optional("page_size", "Records per API page, 1-100 (default 25)."),
    OptionSpec::optional(
        "max_retries",
        "Retries of a call that failed with a retriable error (default 5).",
    ),
    OptionSpec::optional(
        "retry_base_ms",
        "First retry delay in ms, doubled on each retry (default 2).",
    ),
    OptionSpec::optional(
        "api_key",
        "Dummy API key sent with every call; only shows redaction.",
    )
    .secret(),
];

const INCREMENTAL: &[&str] = &["events", "users", "orders", "metrics"];
const CDC: &[&str] = &["users", "orders", "metrics"];

/// The table options the connector reads, each with the tables it applies to.
pub const TABLE_OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional(
        MAX_RECORDS_PER_BATCH,
        "Most records one read returns (default 200).",
    )
    .for_tables(INCREMENTAL),
    OptionSpec::optional(
        "lookback_seconds",
        "Re-read changes this many seconds before the cursor (default 0); never stored.",
    )
    .for_tables(CDC),
    OptionSpec::optional("category", "Only products of this category (e.g. books).")
        .for_tables(&["products"]),
    OptionSpec::optional("limit", "Records per events API call, 1-100 (default 50).")
        .for_tables(&["events"]),
    OptionSpec::optional("user_id", "Only orders of this user.").for_tables(&["orders"]),
    OptionSpec::optional(
        "status",
        "Only orders in this status (pending, paid, shipped, ...).",
    )
    .for_tables(&["orders"]),
    OptionSpec::optional(
        "window_seconds",
        "Width of the sliding read window (default 3600).",
    )
    .for_tables(&["metrics"]),
];

const DEFAULT_MAX_RECORDS: u64 = 200;
const DEFAULT_WINDOW_SECONDS: u64 = 3600;

/// How the connector talks to the source.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Records per page asked of paged endpoints (1-100).
    pub page_size: usize,
    /// Retries after a retriable error before giving up.
    pub max_retries: u32,
    /// Delay before the first retry; doubled on each further retry.
    pub retry_base: Duration,
    /// Sent with every call.
    pub api_key: Option<Secret>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            page_size: 25,
            max_retries: 5,
            retry_base: Duration::from_millis(2),
            api_key: None,
        }
    }
}

impl ClientConfig {
    /// Reads `page_size`, `max_retries`, `retry_base_ms` and `api_key`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option whose value is unusable.
    pub fn from_options(options: &ConnectionOptions) -> Result<Self> {
        let defaults = Self::default();
        let page_size = parse_option(options.get("page_size"), "page_size", defaults.page_size)?;
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            let raw = options.get("page_size").unwrap_or_default();
            return Err(Error::invalid_option(
                "page_size",
                raw,
                "must be between 1 and 100",
            ));
        }
        let base_ms = parse_option(options.get("retry_base_ms"), "retry_base_ms", 2_u64)?;
        Ok(Self {
            page_size,
            max_retries: parse_option(
                options.get("max_retries"),
                "max_retries",
                defaults.max_retries,
            )?,
            retry_base: Duration::from_millis(base_ms),
            api_key: options.secret("api_key"),
        })
    }
}

impl SourceConfig {
    /// Reads `seed` and `error_rate`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option whose value is unusable.
    pub fn from_options(options: &ConnectionOptions) -> Result<Self> {
        let error_rate = parse_option(options.get("error_rate"), "error_rate", DEFAULT_ERROR_RATE)?;
        if !(0.0..=1.0).contains(&error_rate) {
            let raw = options.get("error_rate").unwrap_or_default();
            return Err(Error::invalid_option(
                "error_rate",
                raw,
                "must be between 0.0 and 1.0",
            ));
        }
        Ok(Self {
            seed: parse_option(options.get("seed"), "seed", DEFAULT_SEED)?,
            error_rate,
            api_key: None,
        })
    }
}

/// The table options of one call, checked against the declarations and parsed.
pub(crate) struct TableSettings {
    pub max_records: usize,
    pub lookback: TimeDelta,
    pub window: TimeDelta,
    /// Options passed to the API as query parameters (filters, `limit`): the source
    /// validates them, and its 400s name them.
    pub params: Vec<(&'static str, String)>,
}

impl TableSettings {
    pub(crate) fn parse(table: Table, options: &TableOptions) -> Result<Self> {
        check_options(
            options.keys().map(String::as_str),
            TABLE_OPTIONS,
            Some(table.name()),
        )?;
        let lookback = parse_option(
            options.get("lookback_seconds").map(String::as_str),
            "lookback_seconds",
            0_u64,
        )?;
        let params = ["category", "limit", "user_id", "status"]
            .into_iter()
            .filter_map(|name| {
                options
                    .get(name)
                    .map(|value| (name, value.trim().to_owned()))
            })
            .collect();
        Ok(Self {
            max_records: usize::try_from(positive_option(
                options,
                MAX_RECORDS_PER_BATCH,
                DEFAULT_MAX_RECORDS,
            )?)
            .unwrap_or(usize::MAX),
            lookback: seconds("lookback_seconds", lookback)?,
            window: seconds(
                "window_seconds",
                positive_option(options, "window_seconds", DEFAULT_WINDOW_SECONDS)?,
            )?,
            params,
        })
    }
}

fn seconds(option: &str, value: u64) -> Result<TimeDelta> {
    i64::try_from(value)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .ok_or_else(|| Error::invalid_option(option, &value.to_string(), "too large"))
}
