//! Read strategies shared by REST connectors, so that a connector is mostly declarations plus
//! its API's own quirks.
//!
//! A connector says how a page is fetched (a [`PageSource`]: its client and pagination), how its
//! listing's requests are built (closures taking `since`, a window, a page size), and where a
//! record's cursor and key are (dot paths such as `updated_at`, `user.id`). The kit does the
//! rest, the same way for every connector:
//!
//! | module | strategy | offset |
//! |---|---|---|
//! | [`ascending`] | oldest first: with an inclusive `since` ([`ascending::read_since`]), from a checked page hint ([`ascending::read_paged`]), or a short listing read whole and sorted ([`ascending::read_whole`]); tie-safe: a batch cut inside a run of equal cursor values resumes right after the last record delivered | `{"cursor", "keys_at_cursor"}` (+ `page`, `per_page`) |
//! | [`by_value`] | oldest first, re-asked from the last value after every page, ties larger than a page paged by key: for servers whose next page is a position (HubSpot's search), which an edit during the read shifts | those of [`ascending`] |
//! | [`descending`] | newest first without a filter: passes that stop at the cursor, with validated page hints, entries that are records or parents of records | `{"cursor"}` between passes, `{"cursor", "pass_top", "until", "keys_at_until", "child", "page", "per_page"}` within one |
//! | [`window`] | time windows `[since, until]` that widen when empty and narrow at a result cap | `{"since"}`, `{"since", "until", "after", "page", "per_page"}` |
//! | [`partitioned`] | time-range partitions of an ascending `since` listing for partitioned streams | those of [`ascending`], and `{"through"}` |
//! | [`export`] | an incremental export paged by its own continuation token (Zendesk's cursor and time-based exports), oldest first in `(cursor, key)` order, records kept or expanded into rows | `{"token", "after_at", "after_key"}` |
//! | [`snapshot`] | every record of a listing, page by page | none |
//!
//! All of them honour [`ReadSettings`]: `start_date` bounds first reads, `lookback` widens the
//! query and is never stored, and `max_records` cuts the batch on the fly (no page is fetched
//! once it is full). Every page is checked against what its request promised ([`promise`]): a
//! server that ignores the order or `since` asked for fails the read instead of silently
//! returning a subset. Offsets are plain JSON objects, checked field by field when read back
//! ([`offset`]).
//!
//! Tables are data ([`tables`]): one [`TableDef`] per table, and a [`Tables`] registry from which
//! `list_tables`, metadata, schemas, the declared table options and read dispatch derive. A
//! connector crate's root declares its descriptor and embedded simulator with
//! [`connector_descriptor!`].
//!
//! # Example
//!
//! An ascending read of `GET /items?since=...`, a listing sorted oldest first by `updated_at`
//! and paginated with `Link` headers:
//!
//! ```no_run
//! use chrono::{DateTime, Utc};
//! use lakeflow_connect::{Offset, Record, Result, TableOptions};
//! use lakeflow_http::{HttpClient, HttpConfig, Pages, Pagination, RequestBuilder};
//! use lakeflow_kit::ascending::{Ascending, read_since};
//! use lakeflow_kit::time::{format_ts, horizon};
//! use lakeflow_kit::options::Limits;
//! use lakeflow_kit::{PageSource, ReadCtx, ReadSettings};
//!
//! struct Client(HttpClient);
//!
//! impl PageSource for Client {
//!     fn service(&self) -> &str {
//!         "Items"
//!     }
//!
//!     fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
//!         request.pages(Pagination::LinkHeader, records_path)
//!     }
//! }
//!
//! fn read_items(
//!     client: &Client,
//!     start: Option<&Offset>,
//!     options: &TableOptions,
//! ) -> Result<(Vec<Record>, Option<Offset>)> {
//!     // `start_date`, `max_records_per_batch`, ... from the table's options.
//!     let settings = ReadSettings::from_options(options, Limits::per_page(100))?;
//!     let ctx = ReadCtx { table: "items", source: client, settings, horizon: horizon(Utc::now()) };
//!     let asc = Ascending {
//!         ctx: &ctx,
//!         cursor: "updated_at",
//!         key: "id",
//!         keep: |_| true,
//!         filters_since: true,
//!         decorate: &|_| {},
//!     };
//!     let request = |since: Option<DateTime<Utc>>| {
//!         let request = client.0.get("/items").query("sort", "updated").query("per_page", 100);
//!         match since {
//!             Some(since) => request.query("since", format_ts(since)),
//!             None => request,
//!         }
//!     };
//!     read_since(&asc, start, &request)
//! }
//!
//! let client = Client(HttpClient::new(HttpConfig::default().base_url("https://api.example.com")).unwrap());
//! let (records, offset) = read_items(&client, None, &TableOptions::new()).unwrap();
//! ```

pub mod ascending;
pub mod by_value;
mod client;
pub mod descending;
pub mod descriptor;
pub mod export;
pub mod offset;
pub mod options;
pub mod partitioned;
pub mod promise;
mod registry;
pub mod schema;
pub mod snapshot;
mod source;
pub mod tables;
#[cfg(test)]
mod testing;
pub mod time;
pub mod window;

pub use client::{ApiClient, ClientCtx, Connection, TableRead, http_client, send_write};
pub use snapshot::Snapshot;
pub use source::{ErrorMap, PageSource, ReadCtx, ReadSettings, objects, with_context, with_hint};
pub use tables::{OptionUse, TableDef, Tables, declare};
