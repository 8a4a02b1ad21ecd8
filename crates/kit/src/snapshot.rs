//! Plain snapshot listings: every record of a listing, fetched page by page as the caller
//! consumes them, so a snapshot never holds the whole table in memory.

use lakeflow_connect::{ReadOutput, Record, Result};
use lakeflow_http::{Pages, RequestBuilder};
use serde_json::Value;

use crate::promise::Promise;
use crate::source::{ErrorMap, ReadCtx, objects};

/// Every record of a listing, page by page. The first error ends the stream: a caller must not
/// take a partial snapshot for a whole one.
pub struct Snapshot {
    context: String,
    pages: Option<Pages>,
    current: std::vec::IntoIter<Value>,
    errors: ErrorMap,
    decorate: Box<dyn Fn(&mut Record) + Send>,
    /// What the listing's request promised, checked on each page before its records are given.
    promise: Option<Promise>,
}

impl Snapshot {
    /// The records of `pages` (from [`ReadCtx::pages`]), each passed through `decorate` (which
    /// adds the connector's own fields, if any).
    pub fn new(
        ctx: &ReadCtx<'_>,
        pages: Pages,
        decorate: impl Fn(&mut Record) + Send + 'static,
    ) -> Self {
        Self {
            context: ctx.context(),
            pages: Some(pages),
            current: Vec::new().into_iter(),
            errors: ctx.source.errors(),
            decorate: Box::new(decorate),
            promise: None,
        }
    }

    /// A whole table: every record `request` lists (at `records_path` of each body), as the
    /// output of a snapshot read (no offset).
    pub fn read(
        ctx: &ReadCtx<'_>,
        request: RequestBuilder,
        records_path: &str,
        decorate: impl Fn(&mut Record) + Send + 'static,
    ) -> ReadOutput<'static> {
        let pages = ctx.pages(request, records_path);
        ReadOutput::streaming(Self::new(ctx, pages, decorate), None)
    }

    /// Checks every page against `promise`; the first page that breaks it ends the stream with
    /// the error.
    #[must_use]
    pub fn checked(mut self, promise: Promise) -> Self {
        self.promise = Some(promise);
        self
    }

    fn fail<T>(&mut self, error: lakeflow_connect::Error) -> Option<Result<T>> {
        self.pages = None;
        Some(Err(error))
    }
}

impl Iterator for Snapshot {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(value) = self.current.next() {
                let mut record = match objects(&self.context, vec![value]) {
                    Ok(mut records) => records.pop()?,
                    Err(e) => return self.fail(e),
                };
                (self.decorate)(&mut record);
                return Some(Ok(record));
            }
            let page = match self.pages.as_mut()?.next() {
                None => {
                    self.pages = None;
                    return None;
                }
                Some(Err(error)) => return self.fail((self.errors)(&self.context, error)),
                Some(Ok(page)) => page,
            };
            if let Some(promise) = &mut self.promise
                && let Err(e) = promise.page(&page)
            {
                return self.fail(e);
            }
            self.current = page.records.into_iter();
        }
    }
}
