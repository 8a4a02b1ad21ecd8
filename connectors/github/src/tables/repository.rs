//! Repositories, and the people and branches of one repository.

use lakeflow_connect::arrow_schema::{DataType, SchemaRef};
use lakeflow_connect::{Offset, ReadOutput, Record, Result};

use crate::client::{GithubClient, STAR_MEDIA_TYPE};
use crate::read::ascending::{Ascending, read_paged};
use crate::read::{Extra, ReadCtx, Snapshot};
use crate::schema::{
    flag, instant, int, list, object, repository_columns, required, schema, text, user,
    user_columns,
};

type Batch = (Vec<Record>, Option<Offset>);

pub(super) fn repositories_schema() -> SchemaRef {
    schema(vec![
        required(int("id")),
        text("node_id"),
        text("name"),
        text("full_name"),
        flag("private"),
        user("owner"),
        text("html_url"),
        text("description"),
        flag("fork"),
        text("url"),
        text("homepage"),
        text("language"),
        int("forks_count"),
        int("stargazers_count"),
        int("watchers_count"),
        int("size"),
        text("default_branch"),
        int("open_issues_count"),
        flag("is_template"),
        list("topics", DataType::Utf8),
        flag("has_issues"),
        flag("has_projects"),
        flag("has_wiki"),
        flag("has_pages"),
        flag("has_discussions"),
        flag("archived"),
        flag("disabled"),
        text("visibility"),
        instant("pushed_at"),
        instant("created_at"),
        instant("updated_at"),
        permissions(),
        object(
            "license",
            vec![
                text("key"),
                text("name"),
                text("spdx_id"),
                text("url"),
                text("node_id"),
            ],
        ),
        flag("allow_forking"),
        flag("web_commit_signoff_required"),
    ])
}

/// What the token (repositories) or a collaborator may do in a repository.
fn permissions() -> lakeflow_connect::arrow_schema::Field {
    object(
        "permissions",
        vec![
            flag("admin"),
            flag("maintain"),
            flag("push"),
            flag("triage"),
            flag("pull"),
        ],
    )
}

/// `owner` and `repo`: the key columns of the tables listing a repository's branches and people.
fn key_columns() -> Vec<lakeflow_connect::arrow_schema::Field> {
    vec![required(text("owner")), required(text("repo"))]
}

pub(super) fn branches_schema() -> SchemaRef {
    let mut fields = key_columns();
    fields.extend([
        required(text("name")),
        object("commit", vec![text("sha"), text("url")]),
        flag("protected"),
    ]);
    fields.extend(repository_columns());
    schema(fields)
}

pub(super) fn collaborators_schema() -> SchemaRef {
    let mut fields = key_columns();
    fields.extend(user_columns());
    fields.extend([permissions(), text("role_name")]);
    fields.extend(repository_columns());
    schema(fields)
}

pub(super) fn assignees_schema() -> SchemaRef {
    let mut fields = key_columns();
    fields.extend(user_columns());
    fields.extend(repository_columns());
    schema(fields)
}

pub(super) fn stargazers_schema() -> SchemaRef {
    let mut fields = vec![required(instant("starred_at")), user("user")];
    fields.extend(repository_columns());
    schema(fields)
}

/// `GET /orgs/{org}/repos` with `org`, else `GET /user/repos` (every repository the token's
/// user owns, collaborates on or reaches through an organization).
pub(super) fn read_repositories(ctx: &ReadCtx<'_>, _: Extra) -> Result<ReadOutput<'static>> {
    let path = match &ctx.settings.org {
        Some(org) => format!("/orgs/{org}/repos"),
        None => "/user/repos".to_owned(),
    };
    let request = ctx
        .client
        .get(&path)
        .query("per_page", ctx.settings.per_page);
    Ok(ReadOutput::streaming(
        Snapshot::new(&ctx.kit, GithubClient::pages(request, ""), |_| {}),
        None,
    ))
}

/// `GET /repos/{owner}/{repo}/branches`: a snapshot.
pub(super) fn read_branches(ctx: &ReadCtx<'_>, extra: Extra) -> Result<ReadOutput<'static>> {
    read_repository_members(ctx, extra, "/branches", &[])
}

/// `GET /repos/{owner}/{repo}/collaborators`: outside collaborators and organization members
/// alike.
pub(super) fn read_collaborators(ctx: &ReadCtx<'_>, extra: Extra) -> Result<ReadOutput<'static>> {
    read_repository_members(ctx, extra, "/collaborators", &[("affiliation", "all")])
}

/// `GET /repos/{owner}/{repo}/assignees`: a snapshot.
pub(super) fn read_assignees(ctx: &ReadCtx<'_>, extra: Extra) -> Result<ReadOutput<'static>> {
    read_repository_members(ctx, extra, "/assignees", &[])
}

/// Branches, collaborators or assignees of the repository (`rest` under it): snapshots.
fn read_repository_members(
    ctx: &ReadCtx<'_>,
    extra: Extra,
    rest: &str,
    extra_query: &[(&str, &str)],
) -> Result<ReadOutput<'static>> {
    let path = ctx.settings.repo(ctx.table)?.path(rest);
    let mut request = ctx
        .client
        .get(&path)
        .query("per_page", ctx.settings.per_page);
    for (name, value) in extra_query {
        request = request.query(name, value);
    }
    let pages = GithubClient::pages(request, "");
    Ok(ReadOutput::streaming(
        Snapshot::new(&ctx.kit, pages, extra.decorator()),
        None,
    ))
}

/// `GET /repos/{owner}/{repo}/stargazers` with the `star+json` media type, which adds
/// `starred_at` to each user. The listing is oldest first and takes no time filter.
pub(super) fn read_stargazers(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    extra: &Extra,
) -> Result<Batch> {
    let path = ctx.settings.repo(ctx.table)?.path("/stargazers");
    let asc = Ascending {
        ctx: &ctx.kit,
        cursor: "starred_at",
        key: "user.id",
        keep: |_| true,
        filters_since: false,
        decorate: &|record| extra.apply(record),
    };
    let request = || {
        ctx.client
            .get(&path)
            .header("Accept", STAR_MEDIA_TYPE)
            .query("per_page", ctx.settings.per_page)
    };
    read_paged(&asc, start, &request)
}
