//! Query parameter roles and auth settings: the `role:` / `scheme:` key picks the shape, and the
//! rest of the mapping is deserialized strictly for that shape.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::parse::Ctx;
use super::{Param, Role};
use crate::api::{Auth, AuthScheme};
use crate::error::Result;
use crate::query::FilterOp;
use crate::value::FieldPath;
use lakeflow_yaml::join_path;

const ROLES: &str =
    "filter, sort_field, sort_direction, page, page_size, limit, offset, cursor, select, ignored";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    field: String,
    #[serde(default = "default_op")]
    op: String,
    #[serde(default = "default_separator")]
    separator: String,
    default: Option<Value>,
    any: Option<String>,
    #[serde(default)]
    required: bool,
}

fn default_op() -> String {
    "eq".to_owned()
}

fn default_separator() -> String {
    ",".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSortField {
    values: Option<BTreeMap<String, String>>,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSortDirection {
    default: Option<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    #[serde(default = "one")]
    start: u64,
    #[serde(default)]
    required: bool,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPageSize {
    #[serde(default = "default_size")]
    default: u64,
    #[serde(default = "default_max")]
    max: u64,
    #[serde(default = "default_over_max")]
    over_max: String,
    #[serde(default)]
    required: bool,
}

fn default_size() -> u64 {
    30
}

fn default_max() -> u64 {
    100
}

fn default_over_max() -> String {
    "clamp".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlain {
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelect {
    field: String,
    #[serde(default)]
    required: bool,
}

/// Removes the selector key (`role`, `scheme`) from a mapping and returns it with the rest.
fn split_selector(value: &Value, key: &str) -> std::result::Result<(String, Value), String> {
    let mut map: Map<String, Value> = value
        .as_object()
        .cloned()
        .ok_or_else(|| format!("expected a mapping with `{key}:`"))?;
    match map.remove(key) {
        Some(Value::String(selector)) => Ok((selector, Value::Object(map))),
        Some(_) => Err(format!("`{key}` must be a string")),
        None => Err(format!("missing `{key}:`")),
    }
}

/// A scalar default written as YAML (`false`, `10`, `open`) as the query string would carry it.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn parse_param(
    ctx: &Ctx<'_>,
    name: &str,
    value: &Value,
    path: &str,
    location: &str,
) -> Result<Param> {
    let (role, rest) = split_selector(value, "role")
        .map_err(|m| ctx.error(path, location, format!("{m}; known roles: {ROLES}")))?;
    let field = |text: &str| {
        FieldPath::parse(text).map_err(|m| ctx.error(&join_path(path, "field"), location, m))
    };
    let (role, required) = match role.as_str() {
        "filter" => {
            let raw: RawFilter = ctx.de(&rest, path, location)?;
            let op = FilterOp::parse(&raw.op).ok_or_else(|| {
                ctx.error(
                    &join_path(path, "op"),
                    location,
                    format!(
                        "unknown filter op `{}`; expected one of {}",
                        raw.op,
                        FilterOp::NAMES
                    ),
                )
            })?;
            let default = match &raw.default {
                Some(v) => Some(scalar_text(v).ok_or_else(|| {
                    ctx.error(
                        &join_path(path, "default"),
                        location,
                        "`default` must be a scalar",
                    )
                })?),
                None => None,
            };
            if raw.separator.is_empty() {
                return Err(ctx.error(
                    &join_path(path, "separator"),
                    location,
                    "`separator` must not be empty",
                ));
            }
            let role = Role::Filter {
                field: field(&raw.field)?,
                op,
                separator: raw.separator,
                default,
                any: raw.any,
            };
            (role, raw.required)
        }
        "sort_field" => {
            let raw: RawSortField = ctx.de(&rest, path, location)?;
            let values = match raw.values {
                Some(map) => Some(
                    map.iter()
                        .map(|(api, f)| Ok((api.clone(), field(f)?)))
                        .collect::<Result<BTreeMap<_, _>>>()?,
                ),
                None => None,
            };
            (Role::SortField { values }, raw.required)
        }
        "sort_direction" => {
            let raw: RawSortDirection = ctx.de(&rest, path, location)?;
            let default = match raw.default.as_deref() {
                None => None,
                Some("asc") => Some(false),
                Some("desc") => Some(true),
                Some(other) => {
                    return Err(ctx.error(
                        &join_path(path, "default"),
                        location,
                        format!("`{other}` is not asc or desc"),
                    ));
                }
            };
            (Role::SortDirection { default }, raw.required)
        }
        "page" => {
            let raw: RawPage = ctx.de(&rest, path, location)?;
            (Role::Page { start: raw.start }, raw.required)
        }
        "page_size" | "limit" => {
            let raw: RawPageSize = ctx.de(&rest, path, location)?;
            if raw.default == 0 || raw.max == 0 || raw.default > raw.max {
                return Err(ctx.error(path, location, "need 1 <= default <= max"));
            }
            let reject_over_max = match raw.over_max.as_str() {
                "clamp" => false,
                "error" => true,
                other => {
                    return Err(ctx.error(
                        &join_path(path, "over_max"),
                        location,
                        format!("`{other}` is not clamp or error"),
                    ));
                }
            };
            let role = Role::PageSize {
                default: raw.default,
                max: raw.max,
                reject_over_max,
            };
            (role, raw.required)
        }
        "select" => {
            let raw: RawSelect = ctx.de(&rest, path, location)?;
            (
                Role::Select {
                    field: field(&raw.field)?,
                },
                raw.required,
            )
        }
        "offset" | "cursor" | "ignored" => {
            let raw: RawPlain = ctx.de(&rest, path, location)?;
            let role = match role.as_str() {
                "offset" => Role::Offset,
                "cursor" => Role::Cursor,
                _ => Role::Ignored,
            };
            (role, raw.required)
        }
        other => {
            return Err(ctx.error(
                &join_path(path, "role"),
                location,
                format!("unknown role `{other}`; known roles: {ROLES}"),
            ));
        }
    };
    Ok(Param {
        name: name.to_owned(),
        role,
        required,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBearer {
    token: String,
    wrong_status: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasic {
    username: String,
    password: String,
    wrong_status: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApiKey {
    header: Option<String>,
    query: Option<String>,
    value: String,
    wrong_status: Option<u16>,
}

/// `none` (public) or a scheme mapping.
pub(super) fn parse_auth_setting(
    ctx: &Ctx<'_>,
    value: &Value,
    path: &str,
    location: &str,
) -> Result<Option<Auth>> {
    if value.as_str() == Some("none") {
        return Ok(None);
    }
    let (scheme, rest) = split_selector(value, "scheme").map_err(|m| {
        ctx.error(
            path,
            location,
            format!("{m} (bearer, basic or api_key), or `none`"),
        )
    })?;
    let (scheme, wrong_status) = match scheme.as_str() {
        "bearer" => {
            let raw: RawBearer = ctx.de(&rest, path, location)?;
            (AuthScheme::Bearer { token: raw.token }, raw.wrong_status)
        }
        "basic" => {
            let raw: RawBasic = ctx.de(&rest, path, location)?;
            let scheme = AuthScheme::Basic {
                username: raw.username,
                password: raw.password,
            };
            (scheme, raw.wrong_status)
        }
        "api_key" => {
            let raw: RawApiKey = ctx.de(&rest, path, location)?;
            let scheme = match (raw.header, raw.query) {
                (Some(header), None) => AuthScheme::ApiKeyHeader {
                    header: header.to_ascii_lowercase(),
                    value: raw.value,
                },
                (None, Some(query)) => AuthScheme::ApiKeyQuery {
                    param: query,
                    value: raw.value,
                },
                _ => {
                    return Err(ctx.error(
                        path,
                        location,
                        "api_key needs exactly one of `header:` or `query:`",
                    ));
                }
            };
            (scheme, raw.wrong_status)
        }
        other => {
            return Err(ctx.error(
                &join_path(path, "scheme"),
                location,
                format!("unknown auth scheme `{other}`; expected bearer, basic or api_key"),
            ));
        }
    };
    let wrong_status = wrong_status.unwrap_or(401);
    if !matches!(wrong_status, 401 | 403) {
        return Err(ctx.error(
            &join_path(path, "wrong_status"),
            location,
            "must be 401 or 403",
        ));
    }
    Ok(Some(Auth {
        scheme,
        wrong_status,
    }))
}
