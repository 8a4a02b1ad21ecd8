//! Issues, their comments, review comments and the issue event log.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Error, Offset, Record, Result};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::ApiClient;

use crate::read::Extra;
use crate::read::ReadCtx;
use crate::read::ascending::{Ascending, read_since};
use crate::read::descending::{Descending, deliver, read_newest_first};
use crate::read::partitioned::SinceRequest;
use lakeflow_kit::time::format_ts;

type Batch = (Vec<Record>, Option<Offset>);

/// A listing of the repository under `path` sorted by `updated`, oldest first unless
/// `newest_first`, filtered by `since`, `per_page` records a page.
fn since_request<'a>(
    ctx: &'a ReadCtx<'a>,
    path: &'a str,
    by_state: bool,
) -> impl Fn(Option<DateTime<Utc>>, bool, u64) -> RequestBuilder + 'a {
    move |since, newest_first, per_page| {
        let mut request = ctx.client.get(path);
        if by_state {
            request = request.query("state", ctx.settings.state);
        }
        request = request
            .query("sort", "updated")
            .query("direction", if newest_first { "desc" } else { "asc" })
            .query("per_page", per_page);
        match since {
            Some(since) => request.query("since", format_ts(since)),
            None => request,
        }
    }
}

/// Where a table sorted by `updated_at` with a `since` filter is listed: the `stream` of its
/// definition, read by both its batches and its partitioned streams.
#[derive(Debug)]
pub(crate) struct UpdatedListing {
    /// The path under the repository.
    rest: &'static str,
    /// Whether the listing takes `state` (GitHub's default is `open`; ours `all`).
    by_state: bool,
    /// Whether a listed entry belongs to the table.
    keep: fn(&Record) -> bool,
}

/// GitHub lists pull requests among issues (with a `pull_request` field); they belong to
/// `pull_requests` and are left out.
pub(super) const ISSUES: UpdatedListing = UpdatedListing {
    rest: "/issues",
    by_state: true,
    keep: |r| !is_pull_request(r),
};

pub(super) const ISSUE_COMMENTS: UpdatedListing = UpdatedListing {
    rest: "/issues/comments",
    by_state: false,
    keep: |_| true,
};

pub(super) const REVIEW_COMMENTS: UpdatedListing = UpdatedListing {
    rest: "/pulls/comments",
    by_state: false,
    keep: |_| true,
};

/// Runs `with` on the ascending reader of a table listed by `updated_at` with `since`: `issues`
/// (`GET /repos/{owner}/{repo}/issues?state=...&sort=updated&direction=asc&since=...`),
/// `issue_comments` (`.../issues/comments?...`) and `review_comments` (`.../pulls/comments?...`).
/// Other tables are not supported.
pub(super) fn with_updated_listing<T>(
    ctx: &ReadCtx<'_>,
    extra: &Extra,
    with: impl FnOnce(&Ascending<'_>, &SinceRequest<'_>) -> Result<T>,
) -> Result<T> {
    let listing = ctx
        .table
        .listing()
        .ok_or_else(|| Error::not_supported(ctx.table.name(), "partitioned streams"))?;
    let path = ctx.settings.repo(ctx.table)?.path(listing.rest);
    let asc = Ascending {
        ctx: &ctx.kit,
        cursor: "updated_at",
        key: "id",
        keep: listing.keep,
        filters_since: true,
        decorate: &|record| extra.apply(record),
    };
    with(&asc, &since_request(ctx, &path, listing.by_state))
}

/// Reads a batch of a table listed by `updated_at` with `since` (see [`with_updated_listing`]).
pub(super) fn read_updated(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    extra: &Extra,
) -> Result<Batch> {
    let per_page = ctx.kit.settings.per_page;
    with_updated_listing(ctx, extra, |asc, request| {
        read_since(asc, start, &|since| request(since, false, per_page))
    })
}

/// Whether an entry of the issues list is a pull request: GitHub sets `pull_request` (an object
/// of links) on those only. A `null` there, as some proxies and mirrors write, is a plain issue.
fn is_pull_request(record: &serde_json::Map<String, serde_json::Value>) -> bool {
    record.get("pull_request").is_some_and(|v| !v.is_null())
}

/// `GET /repos/{owner}/{repo}/issues/events`: newest first, no time filter, so a read walks
/// down from the newest event and stops at the stored cursor.
pub(super) fn read_issue_events(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    extra: &Extra,
) -> Result<Batch> {
    let path = ctx.settings.repo(ctx.table)?.path("/issues/events");
    let request = ctx
        .client
        .get(&path)
        .query("per_page", ctx.kit.settings.per_page);
    let desc = Descending {
        ctx: &ctx.kit,
        cursor: "created_at",
        key: "id",
    };
    let decorate = |record: &mut Record| extra.apply(record);
    read_newest_first(&desc, start, &request, &mut *deliver(&decorate))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::is_pull_request;

    #[test]
    fn only_a_present_pull_request_object_marks_a_pull_request() {
        let record = |v: serde_json::Value| v.as_object().cloned().unwrap();
        assert!(is_pull_request(&record(
            json!({"id": 1, "pull_request": {"url": "https://api.github.com/repos/o/r/pulls/1"}})
        )));
        assert!(!is_pull_request(&record(json!({"id": 2}))));
        assert!(!is_pull_request(&record(
            json!({"id": 3, "pull_request": null})
        )));
    }
}
