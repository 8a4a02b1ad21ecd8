//! Limit-on-the-fly (cdc tables and the orders deletes feed) and the sliding time window
//! (`metrics`), which share one scan: page through rows after the cursor and stop as soon as
//! `max_records_per_batch` rows are collected.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Offset, Record, Result};

use super::append::read_append;
use super::cursor::{Cursor, cursor_of, key_of};
use crate::client::ApiClient;
use crate::options::TableSettings;
use crate::source::{METRICS_RETENTION, Request};
use crate::tables::Feed;
use crate::time::format_ts;

/// What one read of a feed needs besides the feed itself.
pub(crate) struct ReadSpec<'a> {
    pub client: &'a ApiClient,
    pub settings: &'a TableSettings,
    /// Query parameters (filters) sent with every call.
    pub params: &'a [(&'static str, String)],
    /// The connector's construction time: the termination cap.
    pub init: DateTime<Utc>,
}

/// How a read after the cursor keeps its batch to `max_records_per_batch`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    /// Limit-before-fetch, for append tables (see [`super::append`]).
    BeforeFetch,
    /// Limit-on-the-fly, for cdc tables and deletes feeds.
    OnTheFly,
}

/// Rows of `feed` after the cursor of `start`, limited as `limit` says. Nothing once the cursor
/// reached the connector's construction time (the termination cap); the offset stays `start`
/// when no row is newer.
pub(crate) fn read_after_cursor(
    spec: &ReadSpec<'_>,
    feed: &Feed,
    start: Option<&Offset>,
    limit: Limit,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let from = Cursor::from_offset(feed.table.name(), start)?;
    if from.as_ref().is_some_and(|c| c.at >= spec.init) {
        return Ok((Vec::new(), start.cloned()));
    }
    let (records, end) = match limit {
        Limit::BeforeFetch => read_append(spec, feed, from)?,
        Limit::OnTheFly => read_cdc(spec, feed, from.as_ref())?,
    };
    Ok((records, end.or_else(|| start.cloned())))
}

/// Limit-on-the-fly: rows after `from`, at most `max_records_per_batch` of them, and the
/// offset after them (`None` when there were none).
fn read_cdc(
    spec: &ReadSpec<'_>,
    feed: &Feed,
    from: Option<&Cursor>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let scan = scan_with_progress(spec, feed, from, None)?;
    let end = match scan.newest {
        None => None,
        // Everything at the newest cursor value was delivered: no keys to remember.
        Some(newest) if scan.complete => Some(Cursor::at(newest.at).to_offset()),
        Some(newest) => Some(newest.to_offset()),
    };
    Ok((scan.records, end))
}

/// Sliding window: rows in `(cursor, cursor + window_seconds]`, the window end capped at the
/// init time. A fully read window moves the cursor to its end, even when it held no rows.
pub(crate) fn read_window(
    spec: &ReadSpec<'_>,
    feed: &Feed,
    start: Option<&Offset>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    // Without an offset, start where the API's history begins: older samples are gone.
    let from = Cursor::from_offset(feed.table.name(), start)?
        .unwrap_or_else(|| Cursor::at(spec.init - METRICS_RETENTION));
    if from.at >= spec.init {
        return Ok((Vec::new(), start.cloned()));
    }
    let window_end = (from.at + spec.settings.window).min(spec.init);
    let scan = scan_with_progress(spec, feed, Some(&from), Some(window_end))?;
    let end = match scan.newest {
        _ if scan.complete => Some(Cursor::at(window_end).to_offset()),
        Some(newest) => Some(newest.to_offset()),
        None => start.cloned(),
    };
    Ok((scan.records, end))
}

struct Scan {
    records: Vec<Record>,
    /// The position after the newest row not delivered before (None: no such row).
    newest: Option<Cursor>,
    /// Whether every matching row was seen (the batch limit did not cut the scan).
    complete: bool,
}

/// Scans with the lookback, unless the re-read rows alone fill the batch: then the cursor
/// could never advance, so the scan is repeated without lookback.
fn scan_with_progress(
    spec: &ReadSpec<'_>,
    feed: &Feed,
    from: Option<&Cursor>,
    until: Option<DateTime<Utc>>,
) -> Result<Scan> {
    let lookback = spec.settings.lookback;
    let scan = scan(spec, feed, from, until, lookback)?;
    if scan.newest.is_none() && !scan.complete && lookback > TimeDelta::zero() {
        return self::scan(spec, feed, from, until, TimeDelta::zero());
    }
    Ok(scan)
}

fn scan(
    spec: &ReadSpec<'_>,
    feed: &Feed,
    from: Option<&Cursor>,
    until: Option<DateTime<Utc>>,
    lookback: TimeDelta,
) -> Result<Scan> {
    let max = spec.settings.max_records;
    // `since` is exclusive: to see the rest of a tie group, start just before its value.
    let since = from.map(|c| {
        let tie = if c.keys.is_empty() {
            TimeDelta::zero()
        } else {
            TimeDelta::microseconds(1)
        };
        c.at - lookback.max(tie)
    });
    let context = format!("table `{}`", feed.table.name());
    let mut records = Vec::new();
    let mut newest: Option<Cursor> = None;
    let mut token: Option<String> = None;
    loop {
        let mut request = Request::new(feed.endpoint);
        if let Some(since) = since {
            request = request.param("since", format_ts(since));
        }
        if let Some(until) = until {
            request = request.param("until", format_ts(until));
        }
        for (name, value) in spec.params {
            request = request.param(*name, value.as_str());
        }
        // Ask for no more than the batch still needs.
        let size = spec.client.config.page_size.min(max - records.len());
        request = request.param("page_size", size.to_string());
        if let Some(token) = token.take() {
            request = request.param("page_token", token);
        }
        let page = spec.client.get(&context, request)?;
        for record in page.records {
            let at = cursor_of(feed, &record)?;
            let key = key_of(feed, &record)?;
            let seen = from.is_some_and(|c| c.covers(at, &key));
            if seen && lookback.is_zero() {
                // The rest of a tie group is re-fetched; its delivered rows are skipped.
                continue;
            }
            if !seen {
                match &mut newest {
                    Some(cursor) if cursor.at == at => cursor.keys.push(key),
                    _ => {
                        let mut keys = from
                            .filter(|c| c.at == at)
                            .map(|c| c.keys.clone())
                            .unwrap_or_default();
                        keys.push(key);
                        newest = Some(Cursor { at, keys });
                    }
                }
            }
            records.push(record);
            if records.len() >= max {
                return Ok(Scan {
                    records,
                    newest,
                    complete: false,
                });
            }
        }
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => {
                return Ok(Scan {
                    records,
                    newest,
                    complete: true,
                });
            }
        }
    }
}
