//! Pull requests and their reviews.

use lakeflow_connect::{Offset, Record, Result};
use lakeflow_kit::ApiClient;
use serde_json::{Map, Value};

use crate::client::objects;
use crate::read::ascending::{Ascending, read_whole};
use crate::read::descending::{Descending, Visit, deliver, read_newest_first};
use crate::read::{Extra, ReadCtx};

type Batch = (Vec<Record>, Option<Offset>);

/// `GET /repos/{owner}/{repo}/pulls?state=...&sort=updated&direction=desc` (`state` from the
/// option, `all` by default): GitHub has no
/// `since` for pull requests, so a read walks down from the most recently updated one and stops
/// at the stored cursor.
pub(super) fn read_pull_requests(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    extra: &Extra,
) -> Result<Batch> {
    let desc = Descending {
        ctx: &ctx.kit,
        cursor: "updated_at",
        key: "id",
    };
    let decorate = |record: &mut Record| extra.apply(record);
    read_newest_first(
        &desc,
        start,
        &pulls_by_update(ctx)?,
        &mut *deliver(&decorate),
    )
}

fn pulls_by_update(ctx: &ReadCtx<'_>) -> Result<lakeflow_http::RequestBuilder> {
    let path = ctx.settings.repo(ctx.table)?.path("/pulls");
    Ok(ctx
        .client
        .get(&path)
        .query("state", ctx.settings.state)
        .query("sort", "updated")
        .query("direction", "desc")
        .query("per_page", ctx.kit.settings.per_page))
}

/// Reviews have no listing of their own: they are read per pull request
/// (`GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`, oldest first). With `pull_number`,
/// one pull request's reviews; without, the reviews of every pull request updated since the last
/// read (a review updates its pull request), walking pull requests as `pull_requests` does.
/// Pending reviews (drafts only their author sees, without `submitted_at`) are left out.
pub(super) fn read_reviews(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    extra: &Extra,
) -> Result<Batch> {
    let repo = ctx.settings.repo(ctx.table)?;
    if let Some(number) = ctx.settings.pull_number {
        let path = repo.path(&format!("/pulls/{number}/reviews"));
        let asc = Ascending {
            ctx: &ctx.kit,
            cursor: "submitted_at",
            key: "id",
            keep: submitted,
            filters_since: false,
            decorate: &|record| decorate_review(extra, number, record),
        };
        // No `since` here: the listing is one pull request's, short, and read whole. GitHub
        // lists it by id, not by `submitted_at`, so the read sorts it itself.
        let request = ctx
            .client
            .get(&path)
            .query("per_page", ctx.kit.settings.per_page);
        let mut ids = IdsAscend::new(ctx);
        return read_whole(&asc, start, request, "", &mut |page| ids.page(page));
    }
    let desc = Descending {
        ctx: &ctx.kit,
        cursor: "updated_at",
        key: "id",
    };
    let mut visit =
        |pull: Record, resume: Option<&Map<String, Value>>, out: &mut Vec<Record>, room: usize| {
            let Some(number) = pull.get("number").and_then(Value::as_u64) else {
                return Ok(Visit::Done);
            };
            let after = resume.and_then(|r| r.get("after")).and_then(Value::as_u64);
            visit_reviews(ctx, extra, number, after, out, room)
        };
    read_newest_first(&desc, start, &pulls_by_update(ctx)?, &mut visit)
}

fn submitted(review: &Record) -> bool {
    review.get("submitted_at").is_some_and(|at| !at.is_null())
}

fn decorate_review(extra: &Extra, number: u64, review: &mut Record) {
    extra.apply(review);
    review.insert("pull_number".to_owned(), number.into());
}

/// Delivers the reviews of pull request `number` after review `after`, at most `room` of them.
fn visit_reviews(
    ctx: &ReadCtx<'_>,
    extra: &Extra,
    number: u64,
    after: Option<u64>,
    out: &mut Vec<Record>,
    room: usize,
) -> Result<Visit> {
    let path = ctx
        .settings
        .repo(ctx.table)?
        .path(&format!("/pulls/{number}/reviews"));
    let request = ctx
        .client
        .get(&path)
        .query("per_page", ctx.kit.settings.per_page);
    let context = ctx.kit.context();
    let mut pages = ctx.kit.pages(request, "");
    let mut taken = 0;
    // Resuming after a review id is only sound if the listing is in id order.
    let mut ids = IdsAscend::new(ctx);
    while let Some(page) = ctx.kit.next_page(&mut pages)? {
        ids.page(&page)?;
        for mut review in objects(&context, page.records)? {
            let id = review.get("id").and_then(Value::as_u64);
            // Reviews are listed oldest first, and ids grow with time.
            if !submitted(&review) || after.is_some_and(|a| id.is_none_or(|id| id <= a)) {
                continue;
            }
            if taken == room {
                // More reviews remain: resume after the last one delivered.
                let last = out.last().and_then(|r| r.get("id")).cloned();
                let mut position = Map::new();
                position.insert(
                    "after".to_owned(),
                    last.or(after.map(Value::from)).unwrap_or(Value::Null),
                );
                return Ok(Visit::Partial(position));
            }
            decorate_review(extra, number, &mut review);
            out.push(review);
            taken += 1;
        }
    }
    Ok(Visit::Done)
}

/// Checks that a pull request's reviews come oldest first by id, as GitHub lists them: resuming
/// after an id, and walking pages of a listing that grows while it is read, rest on it.
struct IdsAscend {
    table: &'static str,
    previous: Option<u64>,
}

impl IdsAscend {
    fn new(ctx: &ReadCtx<'_>) -> Self {
        Self {
            table: ctx.table.name(),
            previous: None,
        }
    }

    fn page(&mut self, page: &lakeflow_http::Page) -> Result<()> {
        for id in page.records.iter().filter_map(|r| r.get("id")?.as_u64()) {
            if let Some(before) = self.previous.filter(|before| id <= *before) {
                return Err(lakeflow_connect::Error::Protocol {
                    message: format!(
                        "table `{}`: GET {} listed review {id} after review {before}, not \
                         oldest first as GitHub does; reading on could return a subset of the \
                         table, so the read stops",
                        self.table,
                        page.response.url_redacted()
                    ),
                });
            }
            self.previous = Some(id);
        }
        Ok(())
    }
}
