//! How tables are read: the kit's strategies (snapshots, oldest first with `since` or a page
//! hint, newest first without a filter, time windows, partitions), fed GitHub's requests.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Record, Result};
use lakeflow_http::{RequestBuilder, parse_link_header};
use serde_json::Value;

pub(crate) use lakeflow_kit::{
    Snapshot, ascending, descending, offset, partitioned, promise, window,
};

use crate::client::{GithubClient, next_page, objects, with_context};
use crate::config::TableSettings;
use crate::tables::Table;
use offset::instant_at;
use promise::{Order, Promise};

/// What every read of a table needs.
pub(crate) struct ReadCtx<'a> {
    pub client: &'a GithubClient,
    pub table: Table,
    pub settings: &'a TableSettings,
    /// The newest instant this connector reads (see [`crate::time::horizon`]).
    pub horizon: DateTime<Utc>,
    /// Workflow runs this connector instance already fetched again.
    pub rechecked: &'a crate::tables::Rechecked,
    /// The same read as the kit's strategies see it.
    pub kit: lakeflow_kit::ReadCtx<'a>,
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

    /// [`Extra::apply`] as a decoration for streams that outlive the read.
    pub(crate) fn decorator(self) -> impl Fn(&mut Record) + Send + 'static {
        move |record| self.apply(record)
    }
}

/// The cursor value of the oldest record of a newest-first listing: its last page, reached
/// through `Link: rel="last"`, at one record per page. `None` when the listing is empty. `key`
/// names entries in errors.
pub(crate) fn oldest(
    ctx: &ReadCtx<'_>,
    request: RequestBuilder,
    records_path: &str,
    (cursor, key): (&'static str, &'static str),
) -> Result<Option<DateTime<Utc>>> {
    let context = ctx.context();
    let request = request.query("per_page", 1);
    let mut pages = GithubClient::pages(request, records_path);
    let Some(first) = next_page(&mut pages, &context)? else {
        return Ok(None);
    };
    let last = first
        .response
        .header_all("link")
        .flat_map(parse_link_header)
        .find(|(rel, _)| rel == "last")
        .map(|(_, url)| url);
    // The last entry is the oldest only if the server lists newest first: the first page's
    // entry must not be older than the last page's, or windows would start too late.
    let mut promise = Promise::new(&ctx.kit, cursor, key, Order::NewestFirst);
    promise.page(&first)?;
    let records = match last {
        None => first.records,
        Some(url) => {
            let last_page = GithubClient::pages(ctx.client.get(&url), records_path)
                .next()
                .transpose()
                .map_err(|e| with_context(&context, e))?;
            if let Some(page) = &last_page {
                promise.page(page)?;
            }
            last_page.map(|p| p.records).unwrap_or_default()
        }
    };
    let Some(record) = objects(&context, records)?.into_iter().last() else {
        return Ok(None);
    };
    instant_at(ctx.table.name(), &record, cursor).map(Some)
}
