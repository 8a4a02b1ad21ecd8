//! The tables: names, metadata, schemas, and which reader serves each.

mod history;
mod issues;
mod pulls;
mod repository;

pub(crate) use history::Rechecked;

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    Error, IngestionType, Offset, Partition, ReadOutput, RecordStream, Result, TableMetadata,
};
use serde_json::Value;

use crate::read::{Extra, ReadCtx, partitioned};

/// A table the connector serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Issues,
    PullRequests,
    IssueComments,
    ReviewComments,
    Reviews,
    Commits,
    IssueEvents,
    Releases,
    WorkflowRuns,
    Repositories,
    Branches,
    Collaborators,
    Assignees,
    Stargazers,
}

impl Table {
    /// Every table, in the order `list_tables` gives them.
    pub const ALL: [Self; 14] = [
        Self::Issues,
        Self::PullRequests,
        Self::IssueComments,
        Self::ReviewComments,
        Self::Reviews,
        Self::Commits,
        Self::IssueEvents,
        Self::Releases,
        Self::WorkflowRuns,
        Self::Repositories,
        Self::Branches,
        Self::Collaborators,
        Self::Assignees,
        Self::Stargazers,
    ];

    /// The table's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Issues => "issues",
            Self::PullRequests => "pull_requests",
            Self::IssueComments => "issue_comments",
            Self::ReviewComments => "review_comments",
            Self::Reviews => "reviews",
            Self::Commits => "commits",
            Self::IssueEvents => "issue_events",
            Self::Releases => "releases",
            Self::WorkflowRuns => "workflow_runs",
            Self::Repositories => "repositories",
            Self::Branches => "branches",
            Self::Collaborators => "collaborators",
            Self::Assignees => "assignees",
            Self::Stargazers => "stargazers",
        }
    }

    /// The table called `name`, or an error listing every table.
    ///
    /// # Errors
    /// [`Error::UnknownTable`].
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| Error::unknown_table(name, &Self::ALL.map(Self::name)))
    }

    /// Whether the table reads one repository, named by the `owner` and `repo` options.
    pub const fn is_repository_scoped(self) -> bool {
        !matches!(self, Self::Repositories)
    }

    /// The width of one query window when `window_seconds` is not given: a week of commits,
    /// a day of workflow runs (busy repositories start hundreds a day).
    pub(crate) const fn default_window_seconds(self) -> u64 {
        match self {
            Self::WorkflowRuns => 86_400,
            _ => 604_800,
        }
    }

    /// Keys, cursor and ingestion type.
    pub fn metadata(self) -> TableMetadata {
        use IngestionType::{Append, Cdc};
        match self {
            Self::Issues
            | Self::PullRequests
            | Self::IssueComments
            | Self::ReviewComments
            | Self::WorkflowRuns => TableMetadata::new(Cdc, &["id"], Some("updated_at")),
            Self::Reviews => TableMetadata::new(Cdc, &["id"], Some("submitted_at")),
            Self::Commits => TableMetadata::new(Append, &["sha"], Some("commit.committer.date")),
            Self::IssueEvents => TableMetadata::new(Append, &["id"], Some("created_at")),
            Self::Stargazers => TableMetadata::new(Append, &["user.id"], Some("starred_at")),
            Self::Releases | Self::Repositories => TableMetadata::snapshot(&["id"]),
            Self::Branches => TableMetadata::snapshot(&["owner", "repo", "name"]),
            Self::Collaborators | Self::Assignees => {
                TableMetadata::snapshot(&["owner", "repo", "id"])
            }
        }
    }

    /// The Arrow schema.
    pub fn schema(self) -> SchemaRef {
        match self {
            Self::Issues => issues::issues_schema(),
            Self::IssueComments => issues::issue_comments_schema(),
            Self::ReviewComments => issues::review_comments_schema(),
            Self::IssueEvents => issues::issue_events_schema(),
            Self::PullRequests => pulls::pull_requests_schema(),
            Self::Reviews => pulls::reviews_schema(),
            Self::Commits => history::commits_schema(),
            Self::Releases => history::releases_schema(),
            Self::WorkflowRuns => history::workflow_runs_schema(),
            Self::Repositories => repository::repositories_schema(),
            Self::Branches => repository::branches_schema(),
            Self::Collaborators => repository::collaborators_schema(),
            Self::Assignees => repository::assignees_schema(),
            Self::Stargazers => repository::stargazers_schema(),
        }
    }
}

/// The fields the connector adds to the records of `table`: the repository they come from, and
/// for the tables keyed by it, `owner` and `repo` too.
pub(crate) fn extra(ctx: &ReadCtx<'_>) -> Result<Extra> {
    if !ctx.table.is_repository_scoped() {
        return Ok(Extra::default());
    }
    let repo = ctx.settings.repo(ctx.table)?;
    let (owner, name) = (
        Value::from(repo.owner.clone()),
        Value::from(repo.name.clone()),
    );
    let mut fields = vec![
        ("repository_owner", owner.clone()),
        ("repository_name", name.clone()),
    ];
    if matches!(
        ctx.table,
        Table::Branches | Table::Collaborators | Table::Assignees
    ) {
        fields.extend([("owner", owner), ("repo", name)]);
    }
    Ok(Extra(fields))
}

/// Reads one batch (or, for snapshots, the whole table as a stream).
pub(crate) fn read(ctx: &ReadCtx<'_>, start: Option<&Offset>) -> Result<ReadOutput<'static>> {
    let extra = extra(ctx)?;
    let incremental = |(records, end)| Ok(ReadOutput::from_records(records, end));
    match ctx.table {
        Table::Issues | Table::IssueComments | Table::ReviewComments => {
            incremental(issues::read_updated(ctx, start, &extra)?)
        }
        Table::IssueEvents => incremental(issues::read_issue_events(ctx, start, &extra)?),
        Table::PullRequests => incremental(pulls::read_pull_requests(ctx, start, &extra)?),
        Table::Reviews => incremental(pulls::read_reviews(ctx, start, &extra)?),
        Table::Commits => incremental(history::read_commits(ctx, start, &extra)?),
        Table::WorkflowRuns => incremental(history::read_workflow_runs(ctx, start, &extra)?),
        Table::Stargazers => incremental(repository::read_stargazers(ctx, start, &extra)?),
        Table::Releases => history::read_releases(ctx, extra),
        Table::Repositories => Ok(repository::read_repositories(ctx)),
        Table::Branches | Table::Collaborators | Table::Assignees => {
            repository::read_repository_members(ctx, extra)
        }
    }
}

/// The offset a partitioned stream of the table has reached now.
pub(crate) fn latest_offset(ctx: &ReadCtx<'_>) -> Result<Offset> {
    issues::with_updated_listing(ctx, &Extra::default(), partitioned::latest_offset)
}

/// The partitions of the changes after `start` up to `end`.
pub(crate) fn partitions_between(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    end: &Offset,
) -> Result<Vec<Partition>> {
    let count = ctx.settings.stream_partitions;
    issues::with_updated_listing(ctx, &Extra::default(), |asc, request| {
        partitioned::partitions_between(asc, request, start, end, count)
    })
}

/// The records of one partition of a stream.
pub(crate) fn read_partition(
    ctx: &ReadCtx<'_>,
    partition: &Partition,
) -> Result<RecordStream<'static>> {
    let extra = extra(ctx)?;
    issues::with_updated_listing(ctx, &extra, |asc, request| {
        partitioned::read_partition(asc, request, partition, extra.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_fits_every_schema() {
        for table in Table::ALL {
            table
                .metadata()
                .validate(table.name(), &table.schema())
                .unwrap_or_else(|e| panic!("{}: {e}", table.name()));
            assert_eq!(Table::parse(table.name()).unwrap(), table);
        }
        let err = Table::parse("gists").unwrap_err().to_string();
        assert!(
            err.contains("`gists`") && err.contains("stargazers"),
            "{err}"
        );
    }
}
