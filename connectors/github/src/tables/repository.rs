//! Repositories, and the people and branches of one repository.

use lakeflow_connect::{Offset, ReadOutput, Record, Result};
use lakeflow_kit::ApiClient;

use serde_json::Value;

use crate::client::STAR_MEDIA_TYPE;
use crate::config::Account;
use crate::read::ascending::{Ascending, read_paged};
use crate::read::{Extra, ReadCtx, Snapshot};

type Batch = (Vec<Record>, Option<Offset>);

/// `GET /orgs/{org}/repos` with `org`, `GET /users/{owner}/repos` with `owner` (the original's
/// way), else `GET /user/repos` (every repository the token's user owns, collaborates on or
/// reaches through an organization). Each record says which repository it is in
/// `repository_owner` and `repository_name`, as the repository tables' records do.
pub(super) fn read_repositories(ctx: &ReadCtx<'_>, _: Extra) -> Result<ReadOutput<'static>> {
    let path = match (&ctx.settings.org, &ctx.settings.owner) {
        (Some(org), _) => Account::Org(org.clone()).repos_path(),
        (None, Some(owner)) => Account::User(owner.clone()).repos_path(),
        (None, None) => "/user/repos".to_owned(),
    };
    let request = ctx
        .client
        .get(&path)
        .query("per_page", ctx.kit.settings.per_page);
    Ok(Snapshot::read(&ctx.kit, request, "", name_repository))
}

/// The owner's login and the name of a repository as GitHub lists it.
pub(crate) fn owner_and_name(repository: &Record) -> Option<(&str, &str)> {
    let owner = repository.get("owner")?.get("login")?.as_str()?;
    Some((owner, repository.get("name")?.as_str()?))
}

/// Sets `repository_owner` (`owner.login`) and `repository_name` (`name`) on a repository.
fn name_repository(repository: &mut Record) {
    let Some((owner, name)) = owner_and_name(repository) else {
        return;
    };
    let (owner, name) = (Value::from(owner), Value::from(name));
    repository.insert("repository_owner".to_owned(), owner);
    repository.insert("repository_name".to_owned(), name);
}

/// Every record of `GET /repos/{owner}/{repo}{rest}?{query}` (releases, branches,
/// collaborators, assignees): a snapshot.
pub(super) fn read_listing(
    ctx: &ReadCtx<'_>,
    extra: Extra,
    rest: &str,
    query: &[(&str, &str)],
) -> Result<ReadOutput<'static>> {
    let path = ctx.settings.repo(ctx.table)?.path(rest);
    let request = query.iter().fold(
        ctx.client
            .get(&path)
            .query("per_page", ctx.kit.settings.per_page),
        |request, (name, value)| request.query(name, value),
    );
    Ok(Snapshot::read(&ctx.kit, request, "", extra.decorator()))
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
            .query("per_page", ctx.kit.settings.per_page)
    };
    read_paged(&asc, start, &request)
}
