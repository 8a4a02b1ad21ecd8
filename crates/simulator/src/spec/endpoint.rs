//! One endpoint of a spec: its keys, what it does (list, single, writes), its parameters and
//! pagination, checked for consistency.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::params::{parse_auth_setting, parse_param};
use super::parse::{Ctx, at, load_corpus};
use super::write::{default_write_status, parse_write};
use super::{
    AssociationsSpec, DeleteMode, Endpoint, Files, FutureSpec, Kind, PathTemplate, Role,
    SearchSpec, SingleSpec, Spec, WriteSpec,
};
use crate::api::Auth;
use crate::error::Result;
use crate::pagination::{self, NeededRole};
use crate::query::SortSpec;
use crate::value::FieldPath;
use lakeflow_yaml::join_path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    #[allow(dead_code)] // read before deserializing, for error locations
    name: Option<String>,
    path: String,
    #[serde(default = "default_method")]
    method: String,
    corpus: String,
    #[serde(default)]
    path_fields: BTreeMap<String, String>,
    records_key: Option<String>,
    #[serde(default)]
    extra: Map<String, Value>,
    sort: Option<Value>,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    params: BTreeMap<String, Value>,
    pagination: Option<Value>,
    future_records: Option<Value>,
    single: Option<Value>,
    write: Option<Value>,
    search: Option<Value>,
    batch_associations: Option<Value>,
    auth: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssociations {
    field: String,
    #[serde(default = "default_max_inputs")]
    max_inputs: usize,
}

fn default_max_inputs() -> usize {
    1_000
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSearch {
    #[serde(default = "default_max_results")]
    max_results: usize,
    #[serde(default = "default_search_limit")]
    default_limit: usize,
    #[serde(default = "default_search_max_limit")]
    max_limit: usize,
    lag: Option<RawLag>,
    #[serde(default)]
    omit: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLag {
    field: String,
    seconds: u64,
}

fn default_max_results() -> usize {
    10_000
}

fn default_search_limit() -> usize {
    10
}

fn default_search_max_limit() -> usize {
    200
}

fn default_method() -> String {
    "GET".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSort {
    field: String,
    #[serde(default = "default_direction")]
    direction: String,
}

fn default_direction() -> String {
    "asc".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSingle {
    field: String,
    param: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFuture {
    count: usize,
    field: String,
    #[serde(default = "default_id")]
    id_field: String,
    #[serde(default = "default_step")]
    step_seconds: u64,
}

fn default_id() -> String {
    "id".to_owned()
}

fn default_step() -> u64 {
    86_400
}

/// Error helper for one endpoint: turns a key (`params.since`) into its path, line and location.
struct Here<'a> {
    ctx: &'a Ctx<'a>,
    base: String,
    name: String,
}

impl Here<'_> {
    fn path(&self, key: &str) -> String {
        if key.is_empty() {
            self.base.clone()
        } else {
            join_path(&self.base, key)
        }
    }

    fn loc(&self, key: &str) -> String {
        at(&self.name, key)
    }

    fn error(&self, key: &str, message: impl Into<String>) -> crate::error::Error {
        self.ctx.error(&self.path(key), &self.loc(key), message)
    }

    fn de<T: serde::de::DeserializeOwned>(&self, value: &Value, key: &str) -> Result<T> {
        self.ctx.de(value, &self.path(key), &self.loc(key))
    }

    fn field(&self, text: &str, key: &str) -> Result<FieldPath> {
        FieldPath::parse(text).map_err(|m| self.error(key, m))
    }
}

pub(super) fn parse_endpoint(
    ctx: &Ctx<'_>,
    spec: &mut Spec,
    files: &Files,
    spec_auth: Option<&Auth>,
    value: &Value,
    index: usize,
) -> Result<Endpoint> {
    // The name is needed for error locations before the endpoint deserializes.
    let label_of = |key: &str| value.get(key).and_then(Value::as_str);
    let label_method = label_of("method").unwrap_or("GET").to_ascii_uppercase();
    let name = label_of("name").map_or_else(
        || format!("{label_method} {}", label_of("path").unwrap_or("?")),
        str::to_owned,
    );
    let here = Here {
        ctx,
        base: format!("endpoints[{index}]"),
        name,
    };
    let raw: RawEndpoint = here.de(value, "")?;
    let method = raw.method.to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PATCH" | "PUT" | "DELETE") {
        return Err(here.error(
            "method",
            format!(
                "unsupported method `{}`; expected GET, POST, PATCH, PUT or DELETE",
                raw.method
            ),
        ));
    }
    let template = PathTemplate::parse(&raw.path).map_err(|m| here.error("path", m))?;
    if let Some(other) = spec.endpoints.iter().find(|e| e.name == here.name) {
        return Err(here.error("", format!("endpoint name `{}` is used twice", other.name)));
    }
    if let Some(other) = spec
        .endpoints
        .iter()
        .find(|e| e.method == method && e.template.same_paths(&template))
    {
        return Err(here.error(
            "path",
            format!(
                "`{method} {template}` is already served by endpoint `{}`",
                other.name
            ),
        ));
    }
    load_corpus(
        ctx,
        spec,
        files,
        &raw.corpus,
        &here.path("corpus"),
        &here.loc("corpus"),
    )?;

    let template_params = template.params();
    let mut path_fields = Vec::new();
    for (param, field) in &raw.path_fields {
        let key = format!("path_fields.{param}");
        if !template_params.contains(&param.as_str()) {
            return Err(here.error(
                &key,
                format!("`{param}` is not a parameter of path `{template}`"),
            ));
        }
        path_fields.push((param.clone(), here.field(field, &key)?));
    }
    let records_key = raw
        .records_key
        .as_deref()
        .map(|k| here.field(k, "records_key"))
        .transpose()?;
    let single = match &raw.single {
        Some(value) => Some(parse_single(&here, value, &template, &raw.path_fields)?),
        None => None,
    };
    let write = match &raw.write {
        Some(_) if method == "GET" => {
            return Err(here.error(
                "write",
                "`write` needs a POST, PATCH, PUT or DELETE endpoint",
            ));
        }
        Some(value) => Some(parse_write(
            ctx,
            spec,
            files,
            value,
            &method,
            &raw.corpus,
            &here.path("write"),
            &here.name,
        )?),
        None if method == "GET" => None,
        None => Some((
            WriteSpec {
                id_field: here.field("id", "write")?,
                stamp: Vec::new(),
                id_copies: Vec::new(),
                defaults: Map::new(),
                status: default_write_status(&method),
                events: None,
            },
            DeleteMode::Remove,
        )),
    };
    let search = match &raw.search {
        Some(_) if method != "POST" || single.is_some() || raw.write.is_some() => {
            return Err(here.error(
                "search",
                "`search` needs a POST endpoint without `single` or `write`",
            ));
        }
        Some(value) => {
            let rs: RawSearch = ctx.de(value, &here.path("search"), &here.loc("search"))?;
            let lag = rs
                .lag
                .map(|lag| {
                    Ok::<_, crate::error::Error>((
                        here.field(&lag.field, "search.lag")?,
                        lag.seconds,
                    ))
                })
                .transpose()?;
            Some(SearchSpec {
                max_results: rs.max_results,
                default_limit: rs.default_limit.max(1),
                max_limit: rs.max_limit.max(1),
                lag,
                omit: rs.omit,
            })
        }
        None => None,
    };
    let associations = match &raw.batch_associations {
        Some(_)
            if method != "POST" || single.is_some() || raw.write.is_some() || search.is_some() =>
        {
            return Err(here.error(
                "batch_associations",
                "`batch_associations` needs a POST endpoint without `single`, `write` or `search`",
            ));
        }
        Some(value) => {
            let path = here.path("batch_associations");
            let ra: RawAssociations = ctx.de(value, &path, &here.loc("batch_associations"))?;
            Some(AssociationsSpec {
                field: ra.field,
                max_inputs: ra.max_inputs.max(1),
            })
        }
        None => None,
    };
    let kind = if let Some(search) = search {
        Kind::Search(search)
    } else if let Some(associations) = associations {
        Kind::BatchAssociations(associations)
    } else {
        match (method.as_str(), single, write) {
            ("GET", None, _) => Kind::List,
            ("GET", Some(single), _) => Kind::Single(single),
            ("POST", None, Some((write, _))) => Kind::Create(write),
            // Stripe updates an object with a POST to its path: a merge, like PATCH.
            ("PATCH" | "PUT" | "POST", Some(single), Some((write, _))) => Kind::Update {
                single,
                write,
                replace: method == "PUT",
            },
            ("DELETE", Some(single), Some((write, mode))) => Kind::Delete {
                single,
                write,
                mode,
            },
            _ => {
                return Err(here.error(
                    "",
                    format!(
                        "a {method} endpoint needs `single:` to identify the record it changes"
                    ),
                ));
            }
        }
    };
    let is_list = matches!(kind, Kind::List);

    let mut params = Vec::new();
    for (pname, pvalue) in &raw.params {
        let key = format!("params.{pname}");
        let param = parse_param(ctx, pname, pvalue, &here.path(&key), &here.loc(&key))?;
        if !is_list && !matches!(param.role, Role::Ignored) {
            return Err(here.error(
                &key,
                format!(
                    "role `{}` applies to list endpoints only; use role `ignored` here",
                    param.role.name()
                ),
            ));
        }
        params.push(param);
    }
    let paginator = match &raw.pagination {
        Some(_) if !is_list => return Err(here.error("pagination", "only list endpoints paginate")),
        Some(value) => parse_pagination(&here, value)?,
        None => pagination::none().into(),
    };
    check_roles(
        ctx,
        &params,
        paginator.as_ref(),
        &here.path("params"),
        &here.name,
    )?;
    if paginator.writes_body() && records_key.is_none() {
        return Err(here.error(
            "pagination",
            "this pagination style writes fields into the body, so the endpoint needs `records_key`",
        ));
    }
    if !raw.extra.is_empty() && records_key.is_none() {
        return Err(here.error(
            "extra",
            "`extra` needs `records_key` (the body is a bare array otherwise)",
        ));
    }
    let sort = match &raw.sort {
        Some(value) => vec![parse_sort(&here, value)?],
        None => Vec::new(),
    };
    let sorts_by_params = params
        .iter()
        .any(|p| matches!(p.role, Role::SortField { .. } | Role::SortDirection { .. }));
    if paginator.forced_sort().is_some() && (!sort.is_empty() || sorts_by_params) {
        return Err(here.error(
            "sort",
            "this pagination style walks in cursor order; remove `sort` and sort parameters",
        ));
    }
    let future = match &raw.future_records {
        Some(value) => Some(parse_future(
            &here,
            value,
            !spec.corpora[&raw.corpus].is_empty(),
        )?),
        None => None,
    };
    let auth = match &raw.auth {
        Some(value) => parse_auth_setting(ctx, value, &here.path("auth"), &here.loc("auth"))?,
        None => spec_auth.cloned(),
    };
    Ok(Endpoint {
        name: here.name,
        method,
        template,
        corpus: raw.corpus,
        path_fields,
        records_key,
        extra: raw.extra,
        sort,
        strict: raw.strict,
        params,
        pagination: paginator,
        future,
        kind,
        auth,
    })
}

/// `single:`: the record field and the path parameter (the only free one unless named), or a
/// fixed value (`/user`: always the authenticated user).
fn parse_single(
    here: &Here<'_>,
    value: &Value,
    template: &PathTemplate,
    path_fields: &BTreeMap<String, String>,
) -> Result<SingleSpec> {
    let raw: RawSingle = here.de(value, "single")?;
    if let Some(fixed) = raw.value {
        if raw.param.is_some() {
            return Err(here.error(
                "single.value",
                "give `param` (the record named by the path) or `value` (always the same record), not both",
            ));
        }
        return Ok(SingleSpec {
            param: String::new(),
            value: Some(fixed),
            field: here.field(&raw.field, "single.field")?,
        });
    }
    let template_params = template.params();
    let free: Vec<&str> = template_params
        .iter()
        .copied()
        .filter(|p| !path_fields.contains_key(*p))
        .collect();
    let param = match (raw.param, free.as_slice()) {
        (Some(p), _) => p,
        (None, [only]) => (*only).to_owned(),
        (None, _) => {
            return Err(here.error(
                "single",
                format!(
                    "say which path parameter identifies the record (`param:`); path `{template}` has {} free ones",
                    free.len()
                ),
            ));
        }
    };
    if !template_params.contains(&param.as_str()) {
        return Err(here.error(
            "single.param",
            format!("`{param}` is not a parameter of path `{template}`"),
        ));
    }
    Ok(SingleSpec {
        param,
        value: None,
        field: here.field(&raw.field, "single.field")?,
    })
}

/// `pagination:`: the `style:` key picks the module, which checks the other keys.
fn parse_pagination(here: &Here<'_>, value: &Value) -> Result<Arc<dyn pagination::Paginator>> {
    let mut config = value
        .as_object()
        .cloned()
        .ok_or_else(|| here.error("pagination", "expected a mapping with `style:`"))?;
    let Some(Value::String(style)) = config.remove("style") else {
        return Err(here.error(
            "pagination",
            format!(
                "missing `style:` (a string); known styles: {}",
                pagination::style_names().join(", ")
            ),
        ));
    };
    let paginator = pagination::build(&style, Value::Object(config)).map_err(|m| {
        here.ctx
            .serde_error(&m, &here.path("pagination"), &here.loc("pagination"))
    })?;
    Ok(paginator.into())
}

fn parse_sort(here: &Here<'_>, value: &Value) -> Result<SortSpec> {
    let raw: RawSort = here.de(value, "sort")?;
    let descending = match raw.direction.as_str() {
        "asc" => false,
        "desc" => true,
        other => return Err(here.error("sort.direction", format!("`{other}` is not asc or desc"))),
    };
    Ok(SortSpec {
        field: here.field(&raw.field, "sort.field")?,
        descending,
    })
}

fn parse_future(here: &Here<'_>, value: &Value, corpus_has_records: bool) -> Result<FutureSpec> {
    let raw: RawFuture = here.de(value, "future_records")?;
    if raw.count == 0 || !corpus_has_records {
        return Err(here.error(
            "future_records",
            "needs `count` >= 1 and a non-empty corpus (future records are copies of its latest record)",
        ));
    }
    Ok(FutureSpec {
        count: raw.count,
        field: here.field(&raw.field, "future_records.field")?,
        id_field: here.field(&raw.id_field, "future_records.id_field")?,
        step: std::time::Duration::from_secs(raw.step_seconds.max(1)),
    })
}

/// Every role the style reads is declared once; roles it does not read are not declared.
fn check_roles(
    ctx: &Ctx<'_>,
    params: &[super::Param],
    paginator: &dyn pagination::Paginator,
    path: &str,
    endpoint: &str,
) -> Result<()> {
    let needed = paginator.needed_roles();
    let role_of = |p: &super::Param| match p.role {
        Role::Page { .. } => Some(NeededRole::Page),
        Role::Offset => Some(NeededRole::Offset),
        Role::Cursor => Some(NeededRole::Cursor),
        _ => None,
    };
    for role in [NeededRole::Page, NeededRole::Offset, NeededRole::Cursor] {
        let declared: Vec<&super::Param> =
            params.iter().filter(|p| role_of(p) == Some(role)).collect();
        if needed.contains(&role) && declared.is_empty() {
            return Err(ctx.error(
                path,
                &at(endpoint, "params"),
                format!(
                    "the pagination style reads a parameter with role `{}`; declare one",
                    role.name()
                ),
            ));
        }
        if let Some(p) = declared.first()
            && !needed.contains(&role)
        {
            return Err(ctx.error(
                &join_path(path, &p.name),
                &at(endpoint, &format!("params.{}", p.name)),
                format!(
                    "role `{}` is not read by this endpoint's pagination style",
                    role.name()
                ),
            ));
        }
    }
    let singletons = [
        "page",
        "page_size",
        "offset",
        "cursor",
        "sort_field",
        "sort_direction",
    ];
    for role in singletons {
        let declared: Vec<&super::Param> =
            params.iter().filter(|p| p.role.name() == role).collect();
        if let [_, second, ..] = declared.as_slice() {
            return Err(ctx.error(
                &join_path(path, &second.name),
                &at(endpoint, &format!("params.{}", second.name)),
                format!("only one parameter may have role `{role}`"),
            ));
        }
    }
    if needed.is_empty()
        && let Some(p) = params
            .iter()
            .find(|p| matches!(p.role, Role::PageSize { .. }))
    {
        return Err(ctx.error(
            &join_path(path, &p.name),
            &at(endpoint, &format!("params.{}", p.name)),
            "a page size needs `pagination:`",
        ));
    }
    Ok(())
}
