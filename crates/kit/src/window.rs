//! Sliding time windows: each query covers `[since, until]`, at most
//! `window_seconds` wide and never past the horizon, so no query scans a repository's whole
//! history. A read walks windows oldest first until its batch is full.
//!
//! Offset: `{"since": A}` when every record before `A` was delivered; `{"since": A, "until": B,
//! "after": K, "page": P, "per_page": N}` when a batch filled inside the window `[A, B]` after the
//! record with key `K`, listed on page `P`. Such a window lies in the past (it ends at or before
//! the horizon), so its listing is stable and the next read goes straight to page `P` and on
//! after `K`.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Record, Result};
use lakeflow_http::{Page, Pages, RequestBuilder, json_path, parse_link_header};
use serde_json::Value;

use crate::offset::{Builder, Fields, instant_at, position};
use crate::promise::{Order, Promise};
use crate::source::{ReadCtx, objects};
use crate::time::{SECOND, floor_second};

/// Offset field: every record before this instant was delivered.
pub const SINCE: &str = "since";
/// Offset field: the end of the window a batch filled up in.
pub const UNTIL: &str = "until";
/// Offset field: the key of the last record delivered from the open window.
pub const AFTER: &str = "after";
/// Offset field: the page of the open window's listing the last record was on.
pub const PAGE: &str = "page";
/// Offset field: the page size that page number was counted in.
pub const PER_PAGE: &str = "per_page";
/// Every field a window position writes.
pub const FIELDS: [&str; 5] = [SINCE, UNTIL, AFTER, PAGE, PER_PAGE];

/// How to read one windowed listing.
pub struct Windowed<'a> {
    /// The read this listing belongs to (table, page source, settings, horizon).
    pub ctx: &'a ReadCtx<'a>,
    /// Dot path of the field the window filters on (`commit.committer.date`, `created_at`).
    pub cursor: &'a str,
    /// Dot path of the key.
    pub key: &'a str,
    /// Where the records are in a response body (`""` for a bare array).
    pub records_path: &'a str,
    /// The first request of the window `[since, until]` (both inclusive).
    pub request: &'a dyn Fn(DateTime<Utc>, DateTime<Utc>) -> RequestBuilder,
    /// The most results one query can page through, and where the body says how many matched
    /// (say 1000, `total_count`). Windows holding more are narrowed.
    pub cap: Option<(u64, &'a str)>,
    /// Where the history begins, when neither an offset nor `start_date` says.
    pub oldest: &'a dyn Fn() -> Result<Option<DateTime<Utc>>>,
    /// Adds the connector's own fields.
    pub decorate: &'a dyn Fn(&mut Record),
}

/// A position in the windows.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowPos {
    /// Every record before this instant was delivered.
    pub since: DateTime<Utc>,
    /// The window a batch filled up in, if any.
    pub open: Option<OpenWindow>,
}

/// A window read up to the record with key `after`, found on page `page` of `per_page`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenWindow {
    /// The end of the window (inclusive).
    pub until: DateTime<Utc>,
    /// The key of the last record delivered from it.
    pub after: Value,
    /// The page of the listing that record was on (1-based).
    pub page: u64,
    /// The page size `page` was counted in (0 when unknown).
    pub per_page: u64,
}

impl WindowPos {
    /// Reads a window position from an offset's fields; `until` and `after` go together.
    pub fn parse(fields: &Fields<'_>) -> Result<Self> {
        let since = fields.required_instant(SINCE)?;
        let open = match (fields.instant(UNTIL)?, fields.key(AFTER)?) {
            (Some(until), Some(after)) => Some(OpenWindow {
                until,
                after,
                page: fields.integer(PAGE)?.unwrap_or(1).max(1),
                per_page: fields.integer(PER_PAGE)?.unwrap_or(0),
            }),
            (None, None) => None,
            _ => {
                return Err(fields.invalid(format!("`{UNTIL}` and `{AFTER}` go together")));
            }
        };
        Ok(Self { since, open })
    }

    /// Adds this position's fields to `builder`.
    pub fn write(&self, builder: Builder) -> Builder {
        let builder = builder.instant(SINCE, self.since);
        match &self.open {
            Some(open) => builder
                .instant(UNTIL, open.until)
                .value(AFTER, open.after.clone())
                .value(PAGE, open.page.into())
                .value(PER_PAGE, open.per_page.into()),
            None => builder,
        }
    }
}

/// The widest a window grows over quiet stretches.
const MAX_WIDTH: TimeDelta = TimeDelta::days(3650);

/// Reads windows from `pos` into `out` until it holds `max_records_per_batch` records or the
/// windows reach `end` (the horizon, or for a lookback re-read the second before the stored
/// position); returns the new position (`None` when there is no history yet).
///
/// A window that lists nothing doubles the next one (up to ten years), so a quiet stretch of
/// history costs a few requests rather than one per `window_seconds`; the next window with
/// records brings the width back to `window_seconds`.
pub fn read_windows(
    w: &Windowed<'_>,
    pos: Option<WindowPos>,
    end: DateTime<Utc>,
    out: &mut Vec<Record>,
) -> Result<Option<WindowPos>> {
    let ctx = w.ctx;
    let settings = ctx.settings;
    let mut pos = match pos {
        Some(pos) => pos,
        None => match settings
            .start_date
            .map_or_else(|| (w.oldest)(), |d| Ok(Some(d)))?
        {
            Some(first) => WindowPos {
                since: floor_second(first),
                open: None,
            },
            None => return Ok(None),
        },
    };
    let mut width = settings.window;
    let end = end.min(ctx.horizon);
    while out.len() < settings.max_records && pos.since <= end {
        let since = pos.since;
        let open = pos.open.take();
        let until = match &open {
            Some(open) => open.until,
            None => (since + width - SECOND).min(end),
        };
        let scan = scan_window(w, since, until, open.as_ref(), out)?;
        if let Some((after, page)) = scan.cut {
            pos = WindowPos {
                since,
                open: Some(OpenWindow {
                    until: scan.until,
                    after,
                    page,
                    per_page: settings.per_page,
                }),
            };
            break;
        }
        pos = WindowPos {
            since: scan.until + SECOND,
            open: None,
        };
        width = if scan.listed == 0 {
            (width * 2).min(MAX_WIDTH)
        } else {
            settings.window
        };
    }
    Ok(Some(pos))
}

/// What reading one window did.
struct WindowScan {
    /// The window's end (earlier than asked when it was narrowed for the cap).
    until: DateTime<Utc>,
    /// Records listed in the window, delivered or not.
    listed: usize,
    /// Where the batch filled up: the last key delivered and its page.
    cut: Option<(Value, u64)>,
}

/// Reads the window `[since, until]` into `out`, after the record `open.after` when resuming.
///
/// A resumed window starts at the page the previous read stopped on. If the record is not there
/// (the listing moved), the window is searched from its first page, and if it is gone altogether
/// (history rewritten), the window is read again from its start: a repeat beats a loss.
fn scan_window(
    w: &Windowed<'_>,
    since: DateTime<Utc>,
    mut until: DateTime<Utc>,
    open: Option<&OpenWindow>,
    out: &mut Vec<Record>,
) -> Result<WindowScan> {
    let ctx = w.ctx;
    let settings = ctx.settings;
    let context = ctx.context();
    let hint = open
        .filter(|o| o.per_page == settings.per_page && o.page > 1)
        .map(|o| o.page);
    // (first page, record to skip to) of each attempt.
    let mut attempts: Vec<(u64, Option<&Value>)> = Vec::new();
    if let Some(open) = open {
        attempts.extend(hint.map(|page| (page, Some(&open.after))));
        attempts.push((1, Some(&open.after)));
    }
    attempts.push((1, None));
    let mut listed = 0;
    for (attempt, (first_page, mut skip_to)) in attempts.iter().copied().enumerate() {
        if attempt > 0 && skip_to.is_none() {
            tracing::warn!(table = ctx.table, since = %since, until = %until,
                "the record a previous read stopped at is no longer listed (history rewritten?); reading its window again");
        }
        let (mut pages, first, narrowed) =
            open_window(w, since, until, first_page, open.is_none())?;
        until = narrowed;
        let mut current = first;
        while let Some(page) = current {
            let number = first_page + u64::try_from(page.number).unwrap_or(1) - 1;
            for record in objects(&context, page.records)? {
                let (at, key) = position(ctx.table, &record, w.cursor, w.key)?;
                // The server filters these bounds itself; checking them again makes a window exact
                // whatever the server does at its edges.
                if at < since || at > until {
                    continue;
                }
                listed += 1;
                if let Some(after) = skip_to {
                    if *after == key {
                        skip_to = None;
                    }
                    continue;
                }
                let mut record = record;
                (w.decorate)(&mut record);
                out.push(record);
                if out.len() >= settings.max_records {
                    return Ok(WindowScan {
                        until,
                        listed,
                        cut: Some((key, number)),
                    });
                }
            }
            current = ctx.next_page(&mut pages)?;
        }
        if skip_to.is_none() {
            break;
        }
    }
    Ok(WindowScan {
        until,
        listed,
        cut: None,
    })
}

/// Opens the window `[since, until]` at page `page`: its pages and the first one. With a
/// result cap, a new window (`may_narrow`) whose first page says more records matched than one
/// query can reach is halved until it fits or is one second wide.
fn open_window(
    w: &Windowed<'_>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    page: u64,
    may_narrow: bool,
) -> Result<(Pages, Option<Page>, DateTime<Utc>)> {
    let mut opened = None;
    let cap = w.cap.filter(|_| may_narrow).map(|c| c.0);
    let until = fit_window(since, until, cap, |s, u| {
        let mut request = (w.request)(s, u);
        if page > 1 {
            request = w.ctx.source.at_page(request, page);
        }
        let mut pages = w.ctx.pages(request, w.records_path);
        let first = w.ctx.next_page(&mut pages)?;
        let total = match (w.cap, &first) {
            (Some((_, path)), Some(page)) => json_path(&page.body, path).and_then(Value::as_u64),
            _ => None,
        };
        opened = Some((pages, first));
        Ok(total)
    })?;
    let (pages, first) = opened.expect("fit_window asks for the window at least once");
    Ok((pages, first, until))
}

/// The end of the first window from `since` no wider than `until` whose match count (`count`)
/// is within `cap`: halved while over it, down to one second. Without a cap, `until` itself.
pub fn fit_window(
    since: DateTime<Utc>,
    mut until: DateTime<Utc>,
    cap: Option<u64>,
    mut count: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> Result<Option<u64>>,
) -> Result<DateTime<Utc>> {
    loop {
        let total = count(since, until)?;
        let Some(cap) = cap else { return Ok(until) };
        match total {
            Some(total) if total > cap && until > since => {
                let half = (until - since).num_seconds() / 2;
                until = since + TimeDelta::seconds(half);
            }
            Some(total) if total > cap => {
                tracing::warn!(total, cap, at = %since, "more records in one second than one query can reach; reading the first {cap}");
                return Ok(until);
            }
            _ => return Ok(until),
        }
    }
}

/// The records within `lookback_seconds` before `pos`, read again: for listings whose records
/// change after their window was read without moving to a later window (a re-run keeps its
/// creation time). Only when `pos` lies between windows with new windows due (a read from a
/// caught-up offset stays empty, so reading from returned offsets still ends); the stored
/// position never moves back.
///
/// If the re-read alone fills the batch, it is dropped: a batch of nothing but re-read records
/// would leave the position where it was, and every later read would stop there again.
pub fn read_lookback(w: &Windowed<'_>, pos: Option<&WindowPos>) -> Result<Vec<Record>> {
    let ctx = w.ctx;
    let lookback = ctx.settings.lookback;
    let due = pos.filter(|p| p.open.is_none() && p.since <= ctx.horizon);
    let Some(pos) = due.filter(|_| lookback > TimeDelta::zero()) else {
        return Ok(Vec::new());
    };
    let back = WindowPos {
        since: floor_second(pos.since - lookback),
        open: None,
    };
    let mut again = Vec::new();
    read_windows(w, Some(back), pos.since - SECOND, &mut again)?;
    if again.len() >= ctx.settings.max_records {
        tracing::warn!(
            table = ctx.table,
            lookback_seconds = lookback.num_seconds(),
            "more records within the lookback than one batch holds; not re-reading them (raise max_records_per_batch or lower lookback_seconds)"
        );
        again.clear();
    }
    Ok(again)
}

/// The cursor of the oldest record of a newest-first listing, where windows start when neither
/// an offset nor `start_date` says: the record on its last page, reached through
/// `Link: rel="last"` and fetched with `follow`. `request` should ask for one record a page.
/// `None` when the listing is empty.
///
/// The last entry is the oldest only if the server lists newest first, so the first page's
/// entry must not be older than the last page's (else windows would start too late).
pub fn oldest_on_last_page(
    ctx: &ReadCtx<'_>,
    request: RequestBuilder,
    follow: &dyn Fn(&str) -> RequestBuilder,
    records_path: &str,
    (cursor, key): (&str, &str),
) -> Result<Option<DateTime<Utc>>> {
    let mut pages = ctx.pages(request, records_path);
    let Some(first) = ctx.next_page(&mut pages)? else {
        return Ok(None);
    };
    let last = first
        .response
        .header_all("link")
        .flat_map(parse_link_header)
        .find(|(rel, _)| rel == "last")
        .map(|(_, url)| url);
    let mut promise = Promise::new(ctx, cursor, key, Order::NewestFirst);
    promise.page(&first)?;
    let records = match last {
        None => first.records,
        Some(url) => {
            let mut pages = ctx.pages(follow(&url), records_path);
            match ctx.next_page(&mut pages)? {
                Some(page) => {
                    promise.page(&page)?;
                    page.records
                }
                None => Vec::new(),
            }
        }
    };
    let Some(record) = objects(&ctx.context(), records)?.pop() else {
        return Ok(None);
    };
    instant_at(ctx.table, &record, cursor).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_ts;

    fn at(text: &str) -> DateTime<Utc> {
        parse_ts(text).unwrap()
    }

    #[test]
    fn windows_over_the_cap_are_halved_until_they_fit() {
        // 4000 runs spread evenly over one day: a quarter of a day holds 1000.
        let since = at("2024-05-01T00:00:00Z");
        let per_second = 4000.0 / 86_400.0;
        let mut asked = Vec::new();
        let until = fit_window(since, at("2024-05-01T23:59:59Z"), Some(1000), |s, u| {
            asked.push(u);
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let n = (((u - s).num_seconds() + 1) as f64 * per_second) as u64;
            Ok(Some(n))
        })
        .unwrap();
        assert_eq!(until, at("2024-05-01T05:59:59Z"));
        assert_eq!(asked.len(), 3, "{asked:?}");
        // No cap, or a count within it: one question, the window unchanged.
        let mut calls = 0;
        let end = at("2024-05-02T00:00:00Z");
        assert_eq!(
            fit_window(since, end, None, |_, _| {
                calls += 1;
                Ok(Some(1_000_000))
            })
            .unwrap(),
            end
        );
        assert_eq!(
            fit_window(since, end, Some(1000), |_, _| Ok(Some(1000))).unwrap(),
            end
        );
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_crowded_second_is_read_as_far_as_the_cap_allows() {
        let since = at("2024-05-01T00:00:00Z");
        let mut calls = 0;
        let until = fit_window(since, since + TimeDelta::seconds(8), Some(1000), |s, u| {
            calls += 1;
            // Every run was created in the first second.
            Ok(Some(if s == since { 5000 } else { 0 }.min(if u >= since {
                5000
            } else {
                0
            })))
        })
        .unwrap();
        assert_eq!(until, since, "narrowed to one second and stopped there");
        assert_eq!(calls, 5, "8s, 4s, 2s, 1s, 0s wide");
    }
}
