//! The table definitions: one entry of [`DEFS`] per table.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::IngestionType::{Append, Cdc};
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{Offset, OptionSpec, ReadOutput, Record, Result};
use lakeflow_kit::ascending::CURSOR;
use lakeflow_kit::time::format_ts;
use lakeflow_kit::{TableDef, Tables};
use serde_json::Value;

use super::{UpdatedListing, account, dated, issues, pulls, repository};
use crate::config::{
    LOOKBACK, MAX_PAGES, MAX_RECORDS, ORG, OWNER, PER_PAGE, PULL_NUMBER, REPO, REPOS, SHA,
    START_DATE, STATE, STREAM_PARTITIONS, TABLE_OPTIONS, WINDOW,
};
use crate::read::{Extra, ReadCtx};
use crate::schema;

/// The offset that says every record up to an instant was delivered.
pub(crate) type DeliveredThrough = fn(DateTime<Utc>) -> Offset;
/// One batch of an incremental table, from `start`, records decorated with the extra fields.
pub(crate) type BatchFn =
    fn(&ReadCtx<'_>, Option<&Offset>, &Extra) -> Result<(Vec<Record>, Option<Offset>)>;
/// A whole snapshot table as a stream, records decorated with the extra fields.
type SnapshotFn = fn(&ReadCtx<'_>, Extra) -> Result<ReadOutput<'static>>;

/// How `read_table` reads a table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    Batch(BatchFn),
    Snapshot(SnapshotFn),
    /// Every record of `GET /repos/{owner}/{repo}{rest}?{query}`: a snapshot.
    Listing {
        rest: &'static str,
        query: &'static [(&'static str, &'static str)],
    },
}

/// What a table definition says about reading it: the read, and the default width of its query
/// windows (used by windowed tables only).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader {
    pub read: Read,
    pub window: TimeDelta,
    /// The offset that says "every record up to this instant was delivered", for the reads
    /// whose offsets can say it: what a partitioned stream of `repo: \"*\"` commits for each
    /// repository it read to its end.
    pub delivered_through: Option<DeliveredThrough>,
}

/// A week of commits per window unless a table says otherwise.
const DEFAULT_WINDOW: TimeDelta = TimeDelta::weeks(1);

const fn batch(read: BatchFn) -> Reader {
    Reader {
        read: Read::Batch(read),
        window: DEFAULT_WINDOW,
        delivered_through: None,
    }
}

/// A batch read whose offset `{"cursor": T}` means every record at or before `T` was
/// delivered (the ascending and newest-first reads between passes).
const fn by_cursor(read: BatchFn) -> Reader {
    Reader {
        delivered_through: Some(|at| offset_of(CURSOR, at)),
        ..batch(read)
    }
}

fn offset_of(field: &str, at: DateTime<Utc>) -> Offset {
    Offset::from_iter([(field.to_owned(), Value::from(format_ts(at)))])
}

const fn snapshot(read: SnapshotFn) -> Reader {
    Reader {
        read: Read::Snapshot(read),
        window: DEFAULT_WINDOW,
        delivered_through: None,
    }
}

pub(crate) type Def = TableDef<Reader, &'static UpdatedListing>;

/// The options of a repository table: `owner`, `repo`, `org` and `repos` (which repository, or
/// which of an account's with `repo: "*"`), then the table's own.
macro_rules! repository_options {
    ($($option:expr),* $(,)?) => {
        &[OWNER, REPO, ORG, REPOS, $($option),*]
    };
}

/// The options of the tables read from an `updated` listing, with partitioned streams.
const UPDATED_LISTING: &[OptionSpec] = ISSUES_LISTING.split_at(ISSUES_LISTING.len() - 1).0;

/// The options of an append table read from one repository's listing.
const APPEND_LISTING: &[OptionSpec] =
    repository_options![START_DATE, MAX_RECORDS, PER_PAGE, MAX_PAGES];

/// The options of a snapshot of one repository.
const REPOSITORY_SNAPSHOT: &[OptionSpec] = repository_options![PER_PAGE, MAX_PAGES];

/// [`UPDATED_LISTING`] and `state`, for `issues`.
const ISSUES_LISTING: &[OptionSpec] = repository_options![
    START_DATE,
    LOOKBACK,
    MAX_RECORDS,
    PER_PAGE,
    STREAM_PARTITIONS,
    MAX_PAGES,
    STATE
];

/// A snapshot of one repository's listing at `GET /repos/{owner}/{repo}{rest}?{query}`.
const fn repository_listing(
    name: &'static str,
    primary_keys: &'static [&'static str],
    schema: fn() -> SchemaRef,
    rest: &'static str,
    query: &'static [(&'static str, &'static str)],
) -> Def {
    let listing = Reader {
        read: Read::Listing { rest, query },
        window: DEFAULT_WINDOW,
        delivered_through: None,
    };
    TableDef::snapshot(name, primary_keys, schema, listing).options(REPOSITORY_SNAPSHOT)
}

/// A table of the token's own account, keyed by `id`.
const fn account(name: &'static str, schema: fn() -> SchemaRef, read: SnapshotFn) -> Def {
    TableDef::snapshot(name, &["id"], schema, snapshot(read)).options(&[PER_PAGE, MAX_PAGES])
}

/// The comments on issues (and on pull requests as issues): `issue_comments`, and `comments`
/// as the original names the same table.
const fn issue_comments(name: &'static str) -> Def {
    updated(
        name,
        schema::issue_comments,
        UPDATED_LISTING,
        &issues::ISSUE_COMMENTS,
    )
}

/// A table read from an `updated` listing (issues and comments), keyed by `id`, which
/// partitioned streams read as `listing` says.
const fn updated(
    name: &'static str,
    schema: fn() -> SchemaRef,
    options: &'static [OptionSpec],
    listing: &'static UpdatedListing,
) -> Def {
    TableDef::new(
        name,
        Cdc,
        &["id"],
        Some("updated_at"),
        schema,
        by_cursor(issues::read_updated),
    )
    .options(options)
    .stream(listing)
}

/// Every table, in the order `list_tables` gives them. Options are listed in the order of
/// [`crate::config::TABLE_OPTION_CATALOGUE`], which error messages list them in.
pub(crate) const DEFS: &[Def] = &[
    updated("issues", schema::issues, ISSUES_LISTING, &issues::ISSUES),
    TableDef::new(
        "pull_requests",
        Cdc,
        &["id"],
        Some("updated_at"),
        schema::pull_requests,
        by_cursor(pulls::read_pull_requests),
    )
    .options(repository_options![
        START_DATE,
        LOOKBACK,
        MAX_RECORDS,
        PER_PAGE,
        STATE,
        MAX_PAGES
    ]),
    issue_comments("issue_comments"),
    updated(
        "review_comments",
        schema::review_comments,
        UPDATED_LISTING,
        &issues::REVIEW_COMMENTS,
    ),
    TableDef::new(
        "reviews",
        Cdc,
        &["id"],
        Some("submitted_at"),
        schema::reviews,
        batch(pulls::read_reviews),
    )
    .options(repository_options![
        START_DATE,
        LOOKBACK,
        MAX_RECORDS,
        PER_PAGE,
        PULL_NUMBER,
        STATE,
        MAX_PAGES
    ]),
    TableDef::new(
        "commits",
        Append,
        &["sha"],
        Some("commit.committer.date"),
        schema::commits,
        // Not partitioned: a repository without commits has no window yet, and committing one up to
        // the run's start would skip commits pushed to it later with older dates.
        batch(dated::read_commits),
    )
    .options(repository_options![
        START_DATE,
        MAX_RECORDS,
        PER_PAGE,
        WINDOW,
        SHA,
        MAX_PAGES
    ]),
    TableDef::new(
        "issue_events",
        Append,
        &["id"],
        Some("created_at"),
        schema::issue_events,
        by_cursor(issues::read_issue_events),
    )
    .options(APPEND_LISTING),
    repository_listing("releases", &["id"], schema::releases, "/releases", &[]),
    // A day of workflow runs per window: busy repositories start hundreds a day.
    TableDef::new(
        "workflow_runs",
        Cdc,
        &["id"],
        Some("updated_at"),
        schema::workflow_runs,
        Reader {
            window: TimeDelta::days(1),
            ..batch(dated::read_workflow_runs)
        },
    )
    .options(repository_options![
        START_DATE,
        LOOKBACK,
        MAX_RECORDS,
        PER_PAGE,
        WINDOW,
        MAX_PAGES
    ]),
    TableDef::snapshot(
        "repositories",
        &["id"],
        schema::repositories,
        snapshot(repository::read_repositories),
    )
    .options(&[OWNER, PER_PAGE, ORG, MAX_PAGES]),
    repository_listing(
        "branches",
        &["owner", "repo", "name"],
        schema::branches,
        "/branches",
        &[],
    ),
    repository_listing(
        "collaborators",
        &["owner", "repo", "id"],
        schema::collaborators,
        "/collaborators",
        &[("affiliation", "all")],
    ),
    repository_listing(
        "assignees",
        &["owner", "repo", "id"],
        schema::assignees,
        "/assignees",
        &[],
    ),
    TableDef::new(
        "stargazers",
        Append,
        &["user.id"],
        Some("starred_at"),
        schema::stargazers,
        by_cursor(repository::read_stargazers),
    )
    .options(APPEND_LISTING),
    // The original's tables, by its names: issue comments as `comments`, and the token's own
    // account.
    issue_comments("comments"),
    account("users", schema::users, account::read_user),
    account(
        "organizations",
        schema::organizations,
        account::read_organizations,
    ),
    account("teams", schema::teams, account::read_teams),
];

/// The registry of [`DEFS`].
pub(crate) static TABLES: Tables<Reader, &'static UpdatedListing> =
    Tables::new(DEFS, TABLE_OPTIONS);

#[cfg(test)]
mod tests {
    use lakeflow_connect::MAX_RECORDS_PER_BATCH;

    use super::*;

    /// The tables each option applied to when the list was written by hand: the derived list
    /// must say the same.
    #[test]
    fn declared_options_are_the_hand_written_ones() {
        const REPOSITORY: &[&str] = &[
            "issues",
            "pull_requests",
            "issue_comments",
            "review_comments",
            "reviews",
            "commits",
            "issue_events",
            "releases",
            "workflow_runs",
            "branches",
            "collaborators",
            "assignees",
            "stargazers",
            "comments",
        ];
        // `repositories` takes `owner` too (listed in table order).
        let mut owned = REPOSITORY.to_vec();
        owned.insert(9, "repositories");
        const INCREMENTAL: &[&str] = &[
            "issues",
            "pull_requests",
            "issue_comments",
            "review_comments",
            "reviews",
            "commits",
            "issue_events",
            "workflow_runs",
            "stargazers",
            "comments",
        ];
        const CDC: &[&str] = &[
            "issues",
            "pull_requests",
            "issue_comments",
            "review_comments",
            "reviews",
            "workflow_runs",
            "comments",
        ];
        let expected: [(&str, bool, &[&str]); 14] = [
            ("owner", false, &owned),
            ("repo", true, REPOSITORY),
            ("start_date", false, INCREMENTAL),
            ("lookback_seconds", false, CDC),
            (MAX_RECORDS_PER_BATCH, false, INCREMENTAL),
            ("per_page", false, &[]),
            (
                "stream_partitions",
                false,
                &["issues", "issue_comments", "review_comments", "comments"],
            ),
            ("window_seconds", false, &["commits", "workflow_runs"]),
            ("org", false, &owned),
            ("pull_number", false, &["reviews"]),
            ("sha", false, &["commits"]),
            ("state", false, &["issues", "pull_requests", "reviews"]),
            ("max_pages_per_batch", false, &[]),
            ("repos", false, REPOSITORY),
        ];
        let declared: Vec<(&str, bool, &[&str])> = TABLE_OPTIONS
            .iter()
            .map(|spec| (spec.name, spec.required, spec.tables))
            .collect();
        assert_eq!(declared, expected);
        assert_eq!(TABLES.declared_options(), TABLE_OPTIONS);
    }
}
