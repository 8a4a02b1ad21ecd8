//! The token's own account: its user, the organizations it belongs to and the teams it is on.
//! Each is a short snapshot read whole.

use lakeflow_connect::{ReadOutput, Record, Result};
use lakeflow_kit::ApiClient;
use serde_json::Value;

use crate::client::{objects, with_context};
use crate::read::{Extra, ReadCtx, Snapshot};

/// `GET /user`: one record, the authenticated user.
pub(super) fn read_user(ctx: &ReadCtx<'_>, _: Extra) -> Result<ReadOutput<'static>> {
    let context = ctx.kit.context();
    let user: Value = ctx
        .client
        .get("/user")
        .send_json()
        .map_err(|e| with_context(&context, e))?;
    Ok(ReadOutput::from_records(
        objects(&context, vec![user])?,
        None,
    ))
}

/// `GET /user/orgs`: the organizations the token's user is a member of.
pub(super) fn read_organizations(ctx: &ReadCtx<'_>, _: Extra) -> Result<ReadOutput<'static>> {
    let request = ctx
        .client
        .get("/user/orgs")
        .query("per_page", ctx.kit.settings.per_page);
    Ok(Snapshot::read(&ctx.kit, request, "", |_| {}))
}

/// `GET /user/teams`: the teams the token's user is on, across organizations. GitHub lists full
/// teams here (with their organization, counts and times), so no team is asked for again.
pub(super) fn read_teams(ctx: &ReadCtx<'_>, _: Extra) -> Result<ReadOutput<'static>> {
    let request = ctx
        .client
        .get("/user/teams")
        .query("per_page", ctx.kit.settings.per_page);
    Ok(Snapshot::read(
        &ctx.kit,
        request,
        "",
        add_organization_login,
    ))
}

/// Copies `organization.login` to `organization_login`, the column the original names it by.
fn add_organization_login(team: &mut Record) {
    let login = team
        .get("organization")
        .and_then(|org| org.get("login"))
        .cloned();
    if let Some(login) = login {
        team.insert("organization_login".to_owned(), login);
    }
}
