//! How tables are read: snapshots page by page, and the three incremental shapes GitHub's
//! listings come in (oldest first with `since`, newest first without a filter, time windows).

pub(crate) mod ascending;
pub(crate) mod descending;
pub(crate) mod offset;
pub(crate) mod partitioned;
pub(crate) mod promise;
pub(crate) mod window;

use chrono::{DateTime, Utc};
use lakeflow_connect::{Record, Result};
use lakeflow_http::Pages;
use serde_json::Value;

use crate::client::{GithubClient, next_page, objects};
use crate::config::TableSettings;
use crate::tables::Table;

/// What every read of a table needs.
pub(crate) struct ReadCtx<'a> {
    pub client: &'a GithubClient,
    pub table: Table,
    pub settings: &'a TableSettings,
    /// The newest instant this connector reads (see [`crate::time::horizon`]).
    pub horizon: DateTime<Utc>,
    /// Workflow runs this connector instance already fetched again.
    pub rechecked: &'a crate::tables::Rechecked,
}

impl ReadCtx<'_> {
    /// Names the table in errors.
    pub(crate) fn context(&self) -> String {
        format!("table `{}`", self.table.name())
    }
}

/// Fields the connector adds to every record of a table (`repository_owner`, ...).
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra(pub Vec<(&'static str, Value)>);

impl Extra {
    pub(crate) fn apply(&self, record: &mut Record) {
        for (name, value) in &self.0 {
            record.insert((*name).to_owned(), value.clone());
        }
    }
}

/// Every record of a listing, fetched page by page as the caller consumes them, so a snapshot
/// never holds the whole table in memory. The first error ends the stream: a caller must not
/// take a partial snapshot for a whole one.
pub(crate) struct Snapshot {
    context: String,
    pages: Option<Pages>,
    current: std::vec::IntoIter<Value>,
    extra: Extra,
    /// What the listing's request promised, checked on each page before its records are given.
    promise: Option<promise::Promise>,
}

impl Snapshot {
    pub(crate) fn new(table: Table, pages: Pages, extra: Extra) -> Self {
        Self {
            context: format!("table `{}`", table.name()),
            pages: Some(pages),
            current: Vec::new().into_iter(),
            extra,
            promise: None,
        }
    }

    /// Checks every page against `promise`; the first page that breaks it ends the stream with
    /// the error.
    #[must_use]
    pub(crate) fn checked(mut self, promise: promise::Promise) -> Self {
        self.promise = Some(promise);
        self
    }
}

impl Iterator for Snapshot {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(value) = self.current.next() {
                let mut records = match objects(&self.context, vec![value]) {
                    Ok(records) => records,
                    Err(e) => {
                        self.pages = None;
                        return Some(Err(e));
                    }
                };
                let mut record = records.pop()?;
                self.extra.apply(&mut record);
                return Some(Ok(record));
            }
            let pages = self.pages.as_mut()?;
            let checked = next_page(pages, &self.context).and_then(|page| {
                if let (Some(page), Some(promise)) = (&page, &mut self.promise) {
                    promise.page(page)?;
                }
                Ok(page)
            });
            match checked {
                Ok(Some(page)) => self.current = page.records.into_iter(),
                Ok(None) => {
                    self.pages = None;
                    return None;
                }
                Err(e) => {
                    self.pages = None;
                    return Some(Err(e));
                }
            }
        }
    }
}
