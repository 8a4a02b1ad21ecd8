//! Limit-before-fetch (append tables): each call asks the server for at most `limit` rows after
//! the cursor, and every returned row is kept. Append rows have no key to deduplicate on, so a
//! cursor inside a server response could duplicate or lose rows; the batch may therefore
//! exceed `max_records_per_batch` by less than one response.

use lakeflow_connect::{Offset, Record, Result};

use super::cdc::ReadSpec;
use super::cursor::{Cursor, cursor_of};
use crate::source::Request;
use crate::tables::Feed;
use crate::time::format_ts;

/// Rows after `from`, and the offset after them (`None` when there were none).
pub(super) fn read_append(
    spec: &ReadSpec<'_>,
    feed: &Feed,
    from: Option<Cursor>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let context = format!("table `{}`", feed.table.name());
    let mut since = from.map(|c| c.at);
    let mut last = None;
    let mut records = Vec::new();
    loop {
        let mut request = Request::new(feed.endpoint);
        if let Some(since) = since {
            request = request.param("since", format_ts(since));
        }
        for (name, value) in spec.params {
            request = request.param(*name, value.as_str());
        }
        let page = spec.client.get(&context, request)?;
        let Some(newest) = page.records.last() else {
            break;
        };
        let newest = cursor_of(feed, newest)?;
        for record in &page.records {
            cursor_of(feed, record)?;
        }
        records.extend(page.records);
        since = Some(newest);
        last = Some(newest);
        if records.len() >= spec.settings.max_records || !page.has_more || newest >= spec.init {
            break;
        }
    }
    Ok((records, last.map(|at| Cursor::at(at).to_offset())))
}
