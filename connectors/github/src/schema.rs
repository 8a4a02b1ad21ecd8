//! The tables' schemas, in Spark DDL (see [`lakeflow_kit::schema`]), from GitHub's objects:
//! nested objects stay structs (a user, a label, a milestone, a branch ref), ids are `BIGINT`,
//! instants `TIMESTAMP`.
//!
//! Every column is nullable unless GitHub always sends it: the converter rejects a record that
//! lacks a non-nullable field, and GitHub omits or nulls many fields depending on the token's
//! permissions and the object's state.

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_kit::schema::ddl;

/// GitHub's "simple user": the account behind an author, assignee, actor, owner, ...
const USER: &str = "STRUCT<login STRING, id BIGINT, node_id STRING, avatar_url STRING, \
    url STRING, html_url STRING, type STRING, site_admin BOOLEAN>";
/// The user fields as columns, for tables whose records are users.
const USER_COLUMNS: &str = "login STRING NOT NULL, id BIGINT NOT NULL, node_id STRING, \
    avatar_url STRING, url STRING, html_url STRING, type STRING, site_admin BOOLEAN";
const LABELS: &str = "ARRAY<STRUCT<id BIGINT, node_id STRING, url STRING, name STRING, \
    description STRING, color STRING, default BOOLEAN>>";
/// Reaction counts; GitHub names two of them `+1` and `-1`, and so do we.
const REACTIONS: &str = "STRUCT<url STRING, total_count BIGINT, `+1` BIGINT, `-1` BIGINT, \
    laugh BIGINT, hooray BIGINT, confused BIGINT, heart BIGINT, rocket BIGINT, eyes BIGINT>";
const PERMISSIONS: &str =
    "STRUCT<admin BOOLEAN, maintain BOOLEAN, push BOOLEAN, triage BOOLEAN, pull BOOLEAN>";
/// Which repository a record was read from.
const REPOSITORY_COLUMNS: &str = "repository_owner STRING NOT NULL, \
    repository_name STRING NOT NULL";

/// The repository summary nested in pull request refs and workflow runs.
fn repository_summary() -> String {
    format!(
        "STRUCT<id BIGINT, node_id STRING, name STRING, full_name STRING, private BOOLEAN, \
         owner {USER}, html_url STRING, description STRING, fork BOOLEAN, url STRING>"
    )
}

fn milestone() -> String {
    format!(
        "STRUCT<url STRING, html_url STRING, id BIGINT, node_id STRING, number BIGINT, \
         title STRING, description STRING, creator {USER}, open_issues BIGINT, \
         closed_issues BIGINT, state STRING, created_at TIMESTAMP, updated_at TIMESTAMP, \
         due_on TIMESTAMP, closed_at TIMESTAMP>"
    )
}

pub(crate) fn issues() -> SchemaRef {
    let milestone = milestone();
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, url STRING, repository_url STRING, html_url STRING,
         number BIGINT, state STRING, state_reason STRING, title STRING, body STRING,
         user {USER}, labels {LABELS}, assignee {USER}, assignees ARRAY<{USER}>,
         milestone {milestone}, locked BOOLEAN, active_lock_reason STRING, comments BIGINT,
         created_at TIMESTAMP, updated_at TIMESTAMP NOT NULL, closed_at TIMESTAMP,
         author_association STRING, reactions {REACTIONS}, timeline_url STRING,
         {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn pull_requests() -> SchemaRef {
    let (milestone, repo) = (milestone(), repository_summary());
    let branch = format!("STRUCT<label STRING, ref STRING, sha STRING, user {USER}, repo {repo}>");
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, url STRING, html_url STRING, diff_url STRING,
         patch_url STRING, issue_url STRING, number BIGINT, state STRING, locked BOOLEAN,
         title STRING, user {USER}, body STRING, labels {LABELS}, milestone {milestone},
         active_lock_reason STRING, created_at TIMESTAMP, updated_at TIMESTAMP NOT NULL,
         closed_at TIMESTAMP, merged_at TIMESTAMP, merge_commit_sha STRING, assignee {USER},
         assignees ARRAY<{USER}>, requested_reviewers ARRAY<{USER}>,
         requested_teams ARRAY<STRUCT<id BIGINT, node_id STRING, url STRING, html_url STRING,
             name STRING, slug STRING, description STRING, privacy STRING,
             notification_setting STRING, permission STRING>>,
         head {branch}, base {branch}, author_association STRING,
         auto_merge STRUCT<enabled_by {USER}, merge_method STRING, commit_title STRING,
             commit_message STRING>,
         draft BOOLEAN, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn issue_comments() -> SchemaRef {
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, url STRING, html_url STRING, issue_url STRING,
         body STRING, user {USER}, created_at TIMESTAMP, updated_at TIMESTAMP NOT NULL,
         author_association STRING, reactions {REACTIONS}, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn review_comments() -> SchemaRef {
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, url STRING, pull_request_review_id BIGINT,
         diff_hunk STRING, path STRING, commit_id STRING, original_commit_id STRING,
         in_reply_to_id BIGINT, user {USER}, body STRING, created_at TIMESTAMP,
         updated_at TIMESTAMP NOT NULL, html_url STRING, pull_request_url STRING,
         author_association STRING,
         _links STRUCT<self STRUCT<href STRING>, html STRUCT<href STRING>,
             pull_request STRUCT<href STRING>>,
         start_line BIGINT, original_start_line BIGINT, start_side STRING, line BIGINT,
         original_line BIGINT, side STRING, subject_type STRING, reactions {REACTIONS},
         {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn reviews() -> SchemaRef {
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, user {USER}, body STRING, state STRING,
         html_url STRING, pull_request_url STRING,
         _links STRUCT<html STRUCT<href STRING>, pull_request STRUCT<href STRING>>,
         submitted_at TIMESTAMP NOT NULL, commit_id STRING, author_association STRING,
         pull_number BIGINT NOT NULL, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn commits() -> SchemaRef {
    let person = "STRUCT<name STRING, email STRING, date TIMESTAMP>";
    ddl(&format!(
        "sha STRING NOT NULL, node_id STRING,
         commit STRUCT<author {person}, committer {person}, message STRING,
             tree STRUCT<sha STRING, url STRING>, url STRING, comment_count BIGINT,
             verification STRUCT<verified BOOLEAN, reason STRING, signature STRING,
                 payload STRING, verified_at TIMESTAMP>>,
         url STRING, html_url STRING, comments_url STRING, author {USER}, committer {USER},
         parents ARRAY<STRUCT<sha STRING, url STRING, html_url STRING>>, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn issue_events() -> SchemaRef {
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, url STRING, actor {USER}, event STRING,
         commit_id STRING, commit_url STRING, created_at TIMESTAMP NOT NULL,
         issue STRUCT<id BIGINT, node_id STRING, url STRING, html_url STRING, number BIGINT,
             title STRING, state STRING>,
         label STRUCT<name STRING, color STRING>, assignee {USER}, assigner {USER},
         milestone STRUCT<title STRING>, rename STRUCT<from STRING, to STRING>,
         review_requester {USER}, requested_reviewer {USER}, lock_reason STRING,
         {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn releases() -> SchemaRef {
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, url STRING, html_url STRING, assets_url STRING,
         upload_url STRING, tarball_url STRING, zipball_url STRING, tag_name STRING,
         target_commitish STRING, name STRING, body STRING, draft BOOLEAN, prerelease BOOLEAN,
         created_at TIMESTAMP, published_at TIMESTAMP, author {USER},
         assets ARRAY<STRUCT<url STRING, browser_download_url STRING, id BIGINT,
             node_id STRING, name STRING, label STRING, state STRING, content_type STRING,
             size BIGINT, download_count BIGINT, created_at TIMESTAMP, updated_at TIMESTAMP,
             uploader {USER}>>,
         reactions {REACTIONS}, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn workflow_runs() -> SchemaRef {
    let repo = repository_summary();
    let run_ref = "STRUCT<ref STRING, sha STRING, repo STRUCT<id BIGINT, url STRING, name STRING>>";
    let git_person = "STRUCT<name STRING, email STRING>";
    ddl(&format!(
        "id BIGINT NOT NULL, name STRING, node_id STRING, head_branch STRING, head_sha STRING,
         path STRING, display_title STRING, run_number BIGINT, event STRING, status STRING,
         conclusion STRING, workflow_id BIGINT, check_suite_id BIGINT,
         check_suite_node_id STRING, url STRING, html_url STRING,
         pull_requests ARRAY<STRUCT<id BIGINT, number BIGINT, url STRING, head {run_ref},
             base {run_ref}>>,
         created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, actor {USER},
         triggering_actor {USER}, run_attempt BIGINT, run_started_at TIMESTAMP,
         jobs_url STRING, logs_url STRING, check_suite_url STRING, artifacts_url STRING,
         cancel_url STRING, rerun_url STRING, previous_attempt_url STRING,
         workflow_url STRING,
         head_commit STRUCT<id STRING, tree_id STRING, message STRING, timestamp TIMESTAMP,
             author {git_person}, committer {git_person}>,
         repository {repo}, head_repository {repo}, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn repositories() -> SchemaRef {
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, name STRING, full_name STRING, private BOOLEAN,
         owner {USER}, html_url STRING, description STRING, fork BOOLEAN, url STRING,
         homepage STRING, language STRING, forks_count BIGINT, stargazers_count BIGINT,
         watchers_count BIGINT, size BIGINT, default_branch STRING, open_issues_count BIGINT,
         is_template BOOLEAN, topics ARRAY<STRING>, has_issues BOOLEAN, has_projects BOOLEAN,
         has_wiki BOOLEAN, has_pages BOOLEAN, has_discussions BOOLEAN, archived BOOLEAN,
         disabled BOOLEAN, visibility STRING, pushed_at TIMESTAMP, created_at TIMESTAMP,
         updated_at TIMESTAMP, permissions {PERMISSIONS},
         license STRUCT<key STRING, name STRING, spdx_id STRING, url STRING, node_id STRING>,
         allow_forking BOOLEAN, web_commit_signoff_required BOOLEAN, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn branches() -> SchemaRef {
    ddl(&format!(
        "owner STRING NOT NULL, repo STRING NOT NULL, name STRING NOT NULL,
         commit STRUCT<sha STRING, url STRING>, protected BOOLEAN, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn collaborators() -> SchemaRef {
    ddl(&format!(
        "owner STRING NOT NULL, repo STRING NOT NULL, {USER_COLUMNS},
         permissions {PERMISSIONS}, role_name STRING, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn assignees() -> SchemaRef {
    ddl(&format!(
        "owner STRING NOT NULL, repo STRING NOT NULL, {USER_COLUMNS}, {REPOSITORY_COLUMNS}"
    ))
}

pub(crate) fn stargazers() -> SchemaRef {
    ddl(&format!(
        "starred_at TIMESTAMP NOT NULL, user {USER}, {REPOSITORY_COLUMNS}"
    ))
}

/// The authenticated user (`GET /user`): the public profile, and the private counts and plan
/// GitHub adds for the token's own account.
pub(crate) fn users() -> SchemaRef {
    ddl(&format!(
        "{USER_COLUMNS}, name STRING, company STRING, blog STRING, location STRING, email STRING,
         hireable BOOLEAN, bio STRING, twitter_username STRING, public_repos BIGINT,
         public_gists BIGINT, followers BIGINT, following BIGINT, created_at TIMESTAMP,
         updated_at TIMESTAMP, private_gists BIGINT, total_private_repos BIGINT,
         owned_private_repos BIGINT, disk_usage BIGINT, collaborators BIGINT,
         two_factor_authentication BOOLEAN,
         plan STRUCT<name STRING, space BIGINT, private_repos BIGINT, collaborators BIGINT>"
    ))
}

/// The organizations the token's user belongs to (`GET /user/orgs`), as GitHub summarises them.
pub(crate) fn organizations() -> SchemaRef {
    ddl(ORGANIZATION_COLUMNS)
}

const ORGANIZATION_COLUMNS: &str = "login STRING NOT NULL, id BIGINT NOT NULL, node_id STRING, \
    url STRING, repos_url STRING, events_url STRING, hooks_url STRING, issues_url STRING, \
    members_url STRING, public_members_url STRING, avatar_url STRING, description STRING";

/// The teams the token's user is on (`GET /user/teams`, full teams), with the organization's
/// login as a column of its own.
pub(crate) fn teams() -> SchemaRef {
    ddl(&format!(
        "id BIGINT NOT NULL, node_id STRING, url STRING, html_url STRING, name STRING,
         slug STRING, description STRING, privacy STRING, notification_setting STRING,
         permission STRING, members_url STRING, repositories_url STRING,
         parent STRUCT<id BIGINT, node_id STRING, url STRING, html_url STRING, name STRING,
             slug STRING, description STRING, privacy STRING, permission STRING>,
         members_count BIGINT, repos_count BIGINT, created_at TIMESTAMP, updated_at TIMESTAMP,
         organization STRUCT<{}>, organization_login STRING NOT NULL",
        ORGANIZATION_COLUMNS.replace(" NOT NULL", "")
    ))
}
