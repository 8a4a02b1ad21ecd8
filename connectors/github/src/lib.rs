//! The `github` connector: the GitHub REST API (github.com or GitHub Enterprise Server) as
//! Lakeflow tables.
//!
//! | table | ingestion | keys | cursor | read |
//! |---|---|---|---|---|
//! | `issues` | cdc | `id` | `updated_at` | `since`, oldest first; pull requests left out |
//! | `pull_requests` | cdc | `id` | `updated_at` | newest first, down to the cursor |
//! | `issue_comments` | cdc | `id` | `updated_at` | `since`, oldest first |
//! | `review_comments` | cdc | `id` | `updated_at` | `since`, oldest first |
//! | `reviews` | cdc | `id` | `submitted_at` | per pull request (`pull_number`, or every updated one) |
//! | `commits` | append | `sha` | `commit.committer.date` | `since`/`until` windows (`window_seconds`, `sha`) |
//! | `issue_events` | append | `id` | `created_at` | newest first, down to the cursor |
//! | `releases` | snapshot | `id` | | |
//! | `workflow_runs` | cdc | `id` | `updated_at` | `created` windows under the 1000-result cap, unfinished runs watched |
//! | `repositories` | snapshot | `id` | | `org`, `owner`, or the token's user |
//! | `branches` | snapshot | `owner`, `repo`, `name` | | |
//! | `collaborators` | snapshot | `owner`, `repo`, `id` | | |
//! | `assignees` | snapshot | `owner`, `repo`, `id` | | |
//! | `stargazers` | append | `user.id` | `starred_at` | oldest first, resuming at the page it stopped |
//! | `comments` | cdc | `id` | `updated_at` | `issue_comments` under the original's name |
//! | `users`, `organizations`, `teams` | snapshot | `id` | | the token's own account |
//!
//! The repository tables read one repository, named by the `owner` and `repo` table options,
//! or every repository of an account with `repo: "*"` (one position per repository in the
//! offset, keys prefixed with the repository), and their records carry `repository_owner` and
//! `repository_name`. Accounts and repositories are also namespaces. A spec written for the
//! original Python connector runs unchanged. The connector sends
//! the token as `Authorization: Bearer`, asks for `application/vnd.github+json` and API version
//! `2022-11-28`, follows `Link: rel="next"` page by page (and stops fetching once a batch is
//! full), and waits out GitHub's primary and secondary rate limits. The `README.md` next to this
//! crate is the user's guide.
//!
//! ```no_run
//! use lakeflow_connect::{ConnectionOptions, LakeflowConnect, TableOptions};
//!
//! let connection: ConnectionOptions = [("token", std::env::var("GITHUB_TOKEN").unwrap())]
//!     .into_iter()
//!     .collect();
//! let github = lakeflow_github::DESCRIPTOR.connect(&connection)?;
//! let options = TableOptions::from([
//!     ("owner".into(), "rust-lang".into()),
//!     ("repo".into(), "rust".into()),
//!     ("start_date".into(), "2024-06-01".into()),
//!     ("max_records_per_batch".into(), "500".into()),
//! ]);
//! // Read issues batch by batch until the offset stops moving.
//! let mut offset = None;
//! loop {
//!     let (issues, end) = github.read_table("issues", offset.as_ref(), &options)?.collect()?;
//!     println!("{} issues up to {:?}", issues.len(), end);
//!     if end == offset {
//!         break;
//!     }
//!     offset = end;
//! }
//! # Ok::<(), lakeflow_connect::Error>(())
//! ```

mod client;
mod config;
mod connector;
mod namespaces;
mod read;
mod schema;
mod tables;

use lakeflow_connect::{AuthKind, AuthMethod};

pub use config::{CONNECTION_OPTIONS, ClientSettings, DEFAULT_BASE_URL, TABLE_OPTIONS};
pub use connector::GithubConnector;
pub use tables::Table;

/// How the connector authenticates: a token (personal access token or app installation token)
/// sent as `Authorization: Bearer`.
pub const AUTH_METHODS: &[AuthMethod] = &[AuthMethod::new(
    AuthKind::ApiToken,
    &["token"],
    "Personal access token (fine-grained or classic) or app installation token, sent as \
     `Authorization: Bearer`.",
)];

// The registry's entry (`DESCRIPTOR`), and the simulator spec with the corpus files below,
// by name (`SIMULATOR`).
lakeflow_kit::connector_descriptor! {
    name: "github",
    description: "GitHub REST API: issues, pull requests, comments, reviews, commits, events, \
                  releases, workflow runs, repositories, branches, people and stargazers.",
    connector: GithubConnector,
    simulator: [
        "assignees",
        "branches",
        "collaborators",
        "commits",
        "issue_comments",
        "issue_events",
        "issues",
        "organizations",
        "pulls",
        "releases",
        "repositories",
        "review_comments",
        "reviews",
        "stargazers",
        "teams",
        "users",
        "workflow_runs",
    ],
}
