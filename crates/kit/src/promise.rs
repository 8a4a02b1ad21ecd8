//! What a listing request asks of the server, checked on every page that comes back.
//!
//! The reads rest on the server sorting and filtering as asked: a newest-first read stops at the
//! first entry at or before its cursor, the latest offset of a stream is the first entry of a
//! newest-first page, an oldest-first read stops at the first entry past the horizon or past its
//! partition, a page hint is trusted once its first entry is covered, and a `since` read takes
//! what comes back for everything after `since`. A server that ignores `direction` or `since` (a
//! proxy, a mirror, a stand-in for the real API) would make such a read stop early and report success
//! with a subset of the table. So each page is checked against what its request promised, and a
//! read that finds otherwise fails, naming the table, the request and what did not hold.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Error, Record, Result};
use lakeflow_http::Page;
use serde_json::Value;

use crate::offset::{instant_at, value_at};
use crate::source::ReadCtx;
use crate::time::format_ts;

/// The order a listing promises by its cursor field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Each entry's cursor is at or after the previous one's.
    OldestFirst,
    /// Each entry's cursor is at or before the previous one's.
    NewestFirst,
}

impl Order {
    fn words(self) -> &'static str {
        match self {
            Self::OldestFirst => "oldest first",
            Self::NewestFirst => "newest first",
        }
    }

    /// Whether an entry at `next` may follow one at `previous` (ties in any order).
    fn allows(self, previous: DateTime<Utc>, next: DateTime<Utc>) -> bool {
        match self {
            Self::OldestFirst => next >= previous,
            Self::NewestFirst => next <= previous,
        }
    }
}

/// What the requests of one listing promise: an order by `cursor` and, with `since`, no entry
/// before it. Fed the pages in the order they are read, it remembers the last entry across pages.
pub struct Promise {
    /// The API's name, as errors say it (see [`crate::PageSource::service`]).
    service: String,
    table: String,
    cursor: String,
    key: String,
    order: Order,
    /// Entries the table leaves out are not checked (they may lack the cursor).
    keep: fn(&Record) -> bool,
    since: Option<DateTime<Utc>>,
    /// The cursor and key of the last entry checked.
    last: Option<(DateTime<Utc>, Value)>,
}

impl Promise {
    /// A listing of `table` sorted by `cursor` in `order`; `key` names entries in errors.
    pub fn new(ctx: &ReadCtx<'_>, cursor: &str, key: &str, order: Order) -> Self {
        Self {
            service: ctx.source.service().to_owned(),
            table: ctx.table.to_owned(),
            cursor: cursor.to_owned(),
            key: key.to_owned(),
            order,
            keep: |_| true,
            since: None,
            last: None,
        }
    }

    /// Checks only the entries `keep` accepts.
    #[must_use]
    pub fn keep(mut self, keep: fn(&Record) -> bool) -> Self {
        self.keep = keep;
        self
    }

    /// Also promises no entry whose cursor is before `since` (`since` is inclusive).
    #[must_use]
    pub fn since(mut self, since: Option<DateTime<Utc>>) -> Self {
        self.since = since;
        self
    }

    /// Checks the next page read.
    pub fn page(&mut self, page: &Page) -> Result<()> {
        self.records(&page.records, || page.response.url_redacted())
    }

    /// Checks the next records read; `request` names the request that listed them.
    pub fn records(&mut self, records: &[Value], request: impl Fn() -> String) -> Result<()> {
        for record in records.iter().filter_map(Value::as_object) {
            if !(self.keep)(record) {
                continue;
            }
            // An entry without its cursor is reported by the read that takes it.
            let Ok(at) = instant_at(&self.table, record, &self.cursor) else {
                continue;
            };
            let key = value_at(record, &self.key).cloned().unwrap_or(Value::Null);
            if let Some(since) = self.since.filter(|since| at < *since) {
                return Err(self.broken(
                    &request(),
                    "since",
                    &format!(
                        "entries with `{}` at or after {} (`since`), but entry {key} has {}",
                        self.cursor,
                        format_ts(since),
                        format_ts(at)
                    ),
                ));
            }
            if let Some((previous, previous_key)) = &self.last
                && !self.order.allows(*previous, at)
            {
                return Err(self.broken(
                    &request(),
                    "direction",
                    &format!(
                        "entries {} by `{}`, but entry {key} ({}) came after entry {previous_key} ({})",
                        self.order.words(),
                        self.cursor,
                        format_ts(at),
                        format_ts(*previous)
                    ),
                ));
            }
            self.last = Some((at, key));
        }
        Ok(())
    }

    fn broken(&self, request: &str, parameter: &str, asked: &str) -> Error {
        Error::Protocol {
            message: format!(
                "table `{}`: GET {request} asked for {asked}; the server does not apply \
                 `{parameter}` as {} does, and reading on could return a subset of the table, \
                 so the read stops",
                self.table, self.service
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::time::parse_ts;

    fn entries(stamps: &[(u64, &str)]) -> Vec<Value> {
        stamps
            .iter()
            .map(|(id, at)| json!({"id": id, "updated_at": at}))
            .collect()
    }

    #[test]
    fn order_holds_across_pages_and_ties_pass() {
        let mut promise = Promise::new(
            &crate::testing::ctx("issues"),
            "updated_at",
            "id",
            Order::NewestFirst,
        );
        let url = || "https://api.example.com/items?direction=desc".to_owned();
        promise
            .records(
                &entries(&[(1, "2024-03-02T00:00:00Z"), (2, "2024-03-02T00:00:00Z")]),
                url,
            )
            .unwrap();
        // The next page goes on from the last entry of the previous one.
        let err = promise
            .records(&entries(&[(3, "2024-03-05T00:00:00Z")]), url)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unexpected response from the source: table `issues`: GET \
             https://api.example.com/items?direction=desc asked for entries newest \
             first by `updated_at`, but entry 3 (2024-03-05T00:00:00Z) came after entry 2 \
             (2024-03-02T00:00:00Z); the server does not apply `direction` as the API does, and \
             reading on could return a subset of the table, so the read stops"
        );
    }

    #[test]
    fn since_is_a_lower_bound_and_left_out_entries_are_not_checked() {
        let since = parse_ts("2024-03-01T00:00:00Z");
        let mut promise = Promise::new(
            &crate::testing::ctx("issues"),
            "updated_at",
            "id",
            Order::OldestFirst,
        )
        .since(since)
        .keep(|r| r.get("pull_request").is_none());
        let url = || "u".to_owned();
        let mut page = entries(&[(1, "2024-03-01T00:00:00Z"), (2, "2024-03-03T00:00:00Z")]);
        page.push(json!({"id": 9, "pull_request": {}, "updated_at": "2020-01-01T00:00:00Z"}));
        page.push(json!({"id": 10, "updated_at": null}));
        promise.records(&page, url).unwrap();
        let err = promise
            .records(&entries(&[(4, "2024-02-28T23:59:59Z")]), url)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "asked for entries with `updated_at` at or after 2024-03-01T00:00:00Z (`since`), \
                 but entry 4 has 2024-02-28T23:59:59Z"
            ) && err.contains("does not apply `since`"),
            "{err}"
        );
    }
}
