//! The table options every strategy reads by, declared once, and their parsing into
//! [`ReadSettings`].
//!
//! A connector lists the ones a table takes in its [`TableDef`](crate::TableDef) (next to options
//! of its own, such as a repository name) and parses them with [`ReadSettings::from_options`],
//! giving the API's limits ([`Limits`]): the largest page, the default window.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use lakeflow_connect::{
    ConnectionOptions, Error, MAX_RECORDS_PER_BATCH, OptionSpec, Result, Secret, TableOptions,
    check_options, parse_option, positive_option,
};

use crate::source::ReadSettings;
use crate::time::parse_ts;

/// `start_date`: where first reads begin.
pub const START_DATE: OptionSpec = OptionSpec::optional(
    "start_date",
    "Read nothing older than this on the first read: RFC 3339 (2024-01-01T00:00:00Z) or a \
     date (2024-01-01).",
);
/// `lookback_seconds`: how far before the stored position reads ask again.
pub const LOOKBACK: OptionSpec = OptionSpec::optional(
    "lookback_seconds",
    "Re-read changes this many seconds before the stored position (default 0); never stored.",
);
/// `max_records_per_batch`: the most records one read returns.
pub const MAX_RECORDS: OptionSpec = OptionSpec::optional(
    MAX_RECORDS_PER_BATCH,
    "Most records one read returns (default 1000).",
);
/// `per_page`: records per API page.
pub const PER_PAGE: OptionSpec = OptionSpec::optional(
    "per_page",
    "Records per API page, from 1 to the API's maximum (default: the maximum).",
);
/// `window_seconds`: the width of one query window of a windowed table.
pub const WINDOW: OptionSpec = OptionSpec::optional(
    "window_seconds",
    "Width of one query window over time (default: the table's own, see its docs).",
);
/// `stream_partitions`: time ranges a partitioned stream splits its changes into.
pub const STREAM_PARTITIONS: OptionSpec = OptionSpec::optional(
    "stream_partitions",
    "Time ranges a partitioned stream splits the changes between two offsets into, to be \
     read in parallel (default 4).",
);

/// What the API allows, and the defaults a table reads with.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest page the API serves (and the default `per_page`).
    pub max_per_page: u64,
    /// The default `window_seconds` of the table.
    pub window: TimeDelta,
}

impl Limits {
    /// A page of at most `max_per_page` records, and one-day windows.
    pub const fn per_page(max_per_page: u64) -> Self {
        Self {
            max_per_page,
            window: TimeDelta::days(1),
        }
    }
}

const DEFAULT_MAX_RECORDS: u64 = 1000;
const DEFAULT_STREAM_PARTITIONS: u64 = 4;

impl ReadSettings {
    /// The settings of one read from its table options (already checked against the table's
    /// declarations): `start_date`, `lookback_seconds`, `max_records_per_batch`, `per_page`,
    /// `window_seconds` and `stream_partitions`, each defaulted when absent.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option and its value.
    pub fn from_options(options: &TableOptions, limits: Limits) -> Result<Self> {
        let per_page = parse_option(value(options, "per_page"), "per_page", limits.max_per_page)?;
        if !(1..=limits.max_per_page).contains(&per_page) {
            let reason = format!("must be between 1 and {}", limits.max_per_page);
            let raw = value(options, "per_page").unwrap_or_default();
            return Err(Error::invalid_option("per_page", raw, reason));
        }
        let lookback = parse_option(value(options, LOOKBACK.name), LOOKBACK.name, 0_u64)?;
        let default_window = u64::try_from(limits.window.num_seconds()).unwrap_or(1);
        let window = positive_option(options, WINDOW.name, default_window)?;
        Ok(Self {
            start_date: date_option(options, START_DATE.name)?,
            lookback: seconds(LOOKBACK.name, lookback)?,
            max_records: usize_saturating(positive_option(
                options,
                MAX_RECORDS_PER_BATCH,
                DEFAULT_MAX_RECORDS,
            )?),
            per_page,
            window: seconds(WINDOW.name, window)?,
            stream_partitions: usize_saturating(positive_option(
                options,
                STREAM_PARTITIONS.name,
                DEFAULT_STREAM_PARTITIONS,
            )?),
        })
    }
}

/// The value of option `name`, trimmed; `None` when absent or blank.
pub fn value<'a>(options: &'a TableOptions, name: &str) -> Option<&'a str> {
    options
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// Option `name` as an instant: RFC 3339, or a date meaning its midnight UTC.
///
/// # Errors
/// [`Error::InvalidOption`] for anything else.
pub fn date_option(options: &TableOptions, name: &str) -> Result<Option<DateTime<Utc>>> {
    value(options, name)
        .map(|raw| {
            parse_date(raw).ok_or_else(|| {
                Error::invalid_option(
                    name,
                    raw,
                    "expected RFC 3339 (2024-01-01T00:00:00Z) or a date (2024-01-01)",
                )
            })
        })
        .transpose()
}

/// RFC 3339, or a plain date meaning its midnight UTC.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    parse_ts(raw).or_else(|| {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|at| at.and_utc())
    })
}

/// The connection's API root from option `name` (or `default`): an http(s) URL, without a
/// trailing slash.
///
/// # Errors
/// [`Error::MissingOption`] when neither is given, [`Error::InvalidOption`] for anything but an
/// http(s) URL.
pub fn base_url(options: &ConnectionOptions, name: &str, default: Option<&str>) -> Result<String> {
    let url = options
        .get(name)
        .or(default)
        .ok_or_else(|| missing(name))?
        .trim()
        .trim_end_matches('/')
        .to_owned();
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err(Error::invalid_option(
            name,
            &url,
            "must be an http(s) URL such as https://api.example.com",
        ))
    }
}

/// The request budget of connection option `name` (requests per window), if given: a positive
/// whole number.
///
/// # Errors
/// [`Error::InvalidOption`] for anything else.
pub fn request_budget(options: &ConnectionOptions, name: &str) -> Result<Option<u32>> {
    let Some(raw) = options.get(name) else {
        return Ok(None);
    };
    match raw.trim().parse::<u32>() {
        Ok(value) if value > 0 => Ok(Some(value)),
        _ => Err(Error::invalid_option(
            name,
            raw,
            "must be a positive whole number of requests",
        )),
    }
}

/// The secret connection option `name`, which must be given and not blank.
///
/// # Errors
/// [`Error::MissingOption`], or [`Error::InvalidOption`] for a blank value (which is echoed as
/// empty: it reveals nothing).
pub fn required_secret(options: &ConnectionOptions, name: &str) -> Result<Secret> {
    let secret = options.secret(name).ok_or_else(|| missing(name))?;
    if secret.expose().trim().is_empty() {
        return Err(Error::invalid_option(name, "", "must not be empty"));
    }
    Ok(secret)
}

/// A connector's connection settings: `options` checked against the connection options it
/// declares (`declared`), then parsed by `parse`.
///
/// # Errors
/// An unknown option, or `parse`'s error.
pub fn connection_settings<T>(
    options: &ConnectionOptions,
    declared: &[OptionSpec],
    parse: impl FnOnce(&ConnectionOptions) -> Result<T>,
) -> Result<T> {
    check_options(options.keys(), declared, None)?;
    parse(options)
}

/// `value` seconds of option `option` as a [`TimeDelta`].
///
/// # Errors
/// [`Error::InvalidOption`] when it does not fit.
pub fn seconds(option: &str, value: u64) -> Result<TimeDelta> {
    i64::try_from(value)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .ok_or_else(|| Error::invalid_option(option, &value.to_string(), "too large"))
}

fn missing(option: &str) -> Error {
    Error::MissingOption {
        option: option.to_owned(),
        table: None,
    }
}

fn usize_saturating(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use lakeflow_testkit::fixtures::table_options as options;

    use super::*;
    use crate::time::format_ts;

    const LIMITS: Limits = Limits::per_page(100);

    #[test]
    fn defaults_apply_when_options_are_absent_or_blank() {
        let settings = ReadSettings::from_options(&options(&[("per_page", " ")]), LIMITS).unwrap();
        assert_eq!((settings.per_page, settings.max_records), (100, 1000));
        assert_eq!(settings.stream_partitions, 4);
        assert_eq!(settings.window, TimeDelta::days(1));
        assert_eq!(settings.lookback, TimeDelta::zero());
        assert!(settings.start_date.is_none());
    }

    #[test]
    fn values_parse_and_bad_ones_are_named() {
        let given = options(&[
            ("start_date", "2024-03-01"),
            ("lookback_seconds", "60"),
            ("window_seconds", "3600"),
            ("per_page", "30"),
            ("stream_partitions", "2"),
        ]);
        let settings = ReadSettings::from_options(&given, LIMITS).unwrap();
        assert_eq!(
            settings.start_date.map(format_ts).as_deref(),
            Some("2024-03-01T00:00:00Z"),
            "a date is its midnight UTC"
        );
        assert_eq!(settings.lookback, TimeDelta::minutes(1));
        assert_eq!(settings.window, TimeDelta::hours(1));
        assert_eq!((settings.per_page, settings.stream_partitions), (30, 2));
        for (option, raw, expected) in [
            ("per_page", "101", "between 1 and 100"),
            ("per_page", "0", "between 1 and 100"),
            ("per_page", "many", "invalid digit"),
            (MAX_RECORDS_PER_BATCH, "0", "at least 1"),
            ("start_date", "yesterday", "RFC 3339"),
            ("lookback_seconds", "-5", "invalid digit"),
            ("window_seconds", "0", "at least 1"),
            ("stream_partitions", "0", "at least 1"),
        ] {
            let err = ReadSettings::from_options(&options(&[(option, raw)]), LIMITS)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(option) && err.contains(expected),
                "{option}: {err}"
            );
        }
    }

    #[test]
    fn connection_options_are_checked_without_echoing_secrets() {
        let given: ConnectionOptions = [("token", "s3cret-value"), ("base_url", "ftp://x")]
            .into_iter()
            .collect();
        let err = base_url(&given, "base_url", None).unwrap_err().to_string();
        assert!(err.contains("base_url") && !err.contains("s3cret"), "{err}");
        let given: ConnectionOptions = [("token", "  "), ("base_url", "https://h.example/v1/")]
            .into_iter()
            .collect();
        assert_eq!(
            base_url(&given, "base_url", None).unwrap(),
            "https://h.example/v1"
        );
        let err = required_secret(&given, "token").unwrap_err().to_string();
        assert!(err.contains("must not be empty"), "{err}");
        let err = required_secret(&given, "api_key").unwrap_err().to_string();
        assert_eq!(err, "missing required option `api_key`");
        assert_eq!(
            base_url(
                &ConnectionOptions::default(),
                "base_url",
                Some("https://d.example")
            )
            .unwrap(),
            "https://d.example"
        );
    }
}
