//! What a strategy needs from a connector: how a listing's pages are fetched, and the context of
//! one read (table, settings, horizon).

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{Error, Record, Result, TableOptions};
use lakeflow_http::{Page, Pages, RequestBuilder};
use serde_json::Value;

use crate::options::Limits;

/// How a connector fetches the pages of a listing. Implemented by the connector's client: the
/// kit builds no request itself beyond adding a page number to one the connector built.
pub trait PageSource {
    /// The API's name as errors say it: "the server does not apply `since` as <service> does".
    fn service(&self) -> &str;

    /// The pages of a list request, fetched lazily (a read whose batch is full stops pulling),
    /// with the records at `records_path` of each body (`""` for a bare array).
    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages;

    /// `request` asking for page `page` (1-based) of its listing. By default `?page=N`.
    fn at_page(&self, request: RequestBuilder, page: u64) -> RequestBuilder {
        request.query("page", page)
    }

    /// How an HTTP error while reading a table becomes a connector error. By default
    /// [`with_context`]; a connector may add hints of its own.
    fn errors(&self) -> ErrorMap {
        with_context
    }
}

/// Turns an HTTP error while reading `context` (``table `issues` ``) into a connector error. A
/// plain function, so that streams that outlive the read (snapshots, partitions) keep it.
pub type ErrorMap = fn(&str, lakeflow_http::Error) -> Error;

/// The settings every strategy reads by.
#[derive(Debug, Clone, Copy)]
pub struct ReadSettings {
    /// Records before this instant are not read (first reads only; an offset overrides it).
    pub start_date: Option<DateTime<Utc>>,
    /// How far before the stored position a read asks again; never stored.
    pub lookback: TimeDelta,
    /// The most records one batch delivers: reads stop paginating once it is reached.
    pub max_records: usize,
    /// Records a page, as the connector asks for them (page hints are counted in it).
    pub per_page: u64,
    /// The width of a time window.
    pub window: TimeDelta,
    /// The time ranges a partitioned stream splits its changes into.
    pub stream_partitions: usize,
}

/// Everything one read of a table needs.
#[derive(Clone, Copy)]
pub struct ReadCtx<'a> {
    /// The table's name, for errors.
    pub table: &'a str,
    /// How pages are fetched.
    pub source: &'a dyn PageSource,
    /// Read settings from the table's options (batch size, page size, start date, ...).
    pub settings: ReadSettings,
    /// The newest instant read (see [`crate::time::horizon`]).
    pub horizon: DateTime<Utc>,
}

impl<'a> ReadCtx<'a> {
    /// The context of one read of `table` through `source` by a connector built at `init`:
    /// settings from the table's `options` (within the API's `limits`), and the horizon of
    /// `init` (see [`crate::time::horizon`]).
    ///
    /// # Errors
    /// An invalid option, named (see [`ReadSettings::from_options`]).
    pub fn new(
        table: &'a str,
        source: &'a dyn PageSource,
        options: &TableOptions,
        limits: Limits,
        init: DateTime<Utc>,
    ) -> Result<Self> {
        Ok(Self {
            table,
            source,
            settings: ReadSettings::from_options(options, limits)?,
            horizon: crate::time::horizon(init),
        })
    }
}

impl ReadCtx<'_> {
    /// Names the table in errors.
    pub fn context(&self) -> String {
        format!("table `{}`", self.table)
    }

    /// The pages of `request` (records at `records_path`).
    pub fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        self.source.pages(request, records_path)
    }

    /// Pulls the next page, naming the table in errors.
    pub fn next_page(&self, pages: &mut Pages) -> Result<Option<Page>> {
        match pages.next() {
            None => Ok(None),
            Some(Ok(page)) => Ok(Some(page)),
            Some(Err(error)) => Err((self.source.errors())(&self.context(), error)),
        }
    }
}

/// An HTTP error as a connector error whose message starts with `context`.
pub fn with_context(context: &str, error: lakeflow_http::Error) -> Error {
    Error::from(error).map_message(|message| format!("{context}: {message}"))
}

/// [`with_context`], with what the error usually means at this source (`hint`) in parentheses
/// after the context: ``table `issues` (no such repository, or the token cannot see it): GET ...``.
pub fn with_hint(context: &str, hint: Option<&str>, error: lakeflow_http::Error) -> Error {
    match hint {
        Some(hint) => with_context(&format!("{context} ({hint})"), error),
        None => with_context(context, error),
    }
}

/// The records of a page as JSON objects; anything else is a protocol error naming `context`.
pub fn objects(context: &str, records: Vec<Value>) -> Result<Vec<Record>> {
    records
        .into_iter()
        .map(|record| match record {
            Value::Object(map) => Ok(map),
            other => Err(Error::Protocol {
                message: format!("{context}: expected JSON objects in the list, got {other}"),
            }),
        })
        .collect()
}
