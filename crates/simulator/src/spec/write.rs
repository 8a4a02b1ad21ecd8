//! The `write:` key of POST, PATCH, PUT and DELETE endpoints.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::parse::{Ctx, at, load_corpus};
use super::{DeleteMode, EventsSpec, Files, Spec, WriteSpec};
use crate::error::Result;
use crate::value::FieldPath;
use lakeflow_yaml::join_path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrite {
    #[serde(default = "default_id")]
    id_field: String,
    #[serde(default)]
    stamp: Vec<String>,
    #[serde(default)]
    id_copies: Vec<String>,
    #[serde(default)]
    defaults: Map<String, Value>,
    status: Option<u16>,
    delete: Option<Value>,
    events: Option<RawEvents>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    into: String,
    object: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelete {
    mode: String,
    into: Option<String>,
    keep: Option<Vec<String>>,
    field: Option<String>,
    value: Option<Value>,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn parse_write(
    ctx: &Ctx<'_>,
    spec: &mut Spec,
    files: &Files,
    value: &Value,
    method: &str,
    corpus: &str,
    path: &str,
    endpoint: &str,
) -> Result<(WriteSpec, DeleteMode)> {
    let loc = |key: &str| {
        at(
            endpoint,
            &format!("write{}{key}", if key.is_empty() { "" } else { "." }),
        )
    };
    let raw: RawWrite = ctx.de(value, path, &loc(""))?;
    let field = |text: &str, key: &str| {
        FieldPath::parse(text).map_err(|m| ctx.error(&join_path(path, key), &loc(key), m))
    };
    let stamp = raw
        .stamp
        .iter()
        .map(|s| field(s, "stamp"))
        .collect::<Result<Vec<_>>>()?;
    let id_copies = raw
        .id_copies
        .iter()
        .map(|s| field(s, "id_copies"))
        .collect::<Result<Vec<_>>>()?;
    let events = match raw.events {
        Some(events) if events.into == corpus => {
            return Err(ctx.error(
                &join_path(path, "events.into"),
                &loc("events.into"),
                "events go to another corpus than the records",
            ));
        }
        Some(events) => {
            load_corpus(
                ctx,
                spec,
                files,
                &events.into,
                &join_path(path, "events.into"),
                &loc("events.into"),
            )?;
            Some(EventsSpec {
                into: events.into,
                object: events.object,
            })
        }
        None => None,
    };
    let write = WriteSpec {
        id_field: field(&raw.id_field, "id_field")?,
        stamp,
        id_copies,
        defaults: raw.defaults,
        status: raw.status.unwrap_or_else(|| default_write_status(method)),
        events,
    };
    let mode = match (&raw.delete, method) {
        (None, _) => DeleteMode::Remove,
        (Some(_), m) if m != "DELETE" => {
            return Err(ctx.error(
                &join_path(path, "delete"),
                &loc("delete"),
                "`delete` applies to DELETE endpoints only",
            ));
        }
        (Some(value), _) => {
            let dpath = join_path(path, "delete");
            let rd: RawDelete = ctx.de(value, &dpath, &loc("delete"))?;
            let misplaced = |key: &str, mode: &str| {
                ctx.error(
                    &join_path(&dpath, key),
                    &loc(&format!("delete.{key}")),
                    format!("`{key}` does not apply to mode `{mode}`"),
                )
            };
            match rd.mode.as_str() {
                "remove" => {
                    if let Some(key) = [
                        ("into", rd.into.is_some()),
                        ("keep", rd.keep.is_some()),
                        ("field", rd.field.is_some()),
                        ("value", rd.value.is_some()),
                    ]
                    .iter()
                    .find_map(|(k, set)| set.then_some(*k))
                    {
                        return Err(misplaced(key, "remove"));
                    }
                    DeleteMode::Remove
                }
                "tombstone" => {
                    if rd.field.is_some() {
                        return Err(misplaced("field", "tombstone"));
                    }
                    if rd.value.is_some() {
                        return Err(misplaced("value", "tombstone"));
                    }
                    let Some(into) = rd.into else {
                        return Err(ctx.error(
                            &dpath,
                            &loc("delete"),
                            "mode `tombstone` needs `into:` (the corpus file of deleted records)",
                        ));
                    };
                    if into == corpus {
                        return Err(ctx.error(
                            &join_path(&dpath, "into"),
                            &loc("delete.into"),
                            "tombstones go to another corpus than the records",
                        ));
                    }
                    load_corpus(
                        ctx,
                        spec,
                        files,
                        &into,
                        &join_path(&dpath, "into"),
                        &loc("delete.into"),
                    )?;
                    let keep = rd
                        .keep
                        .map(|keys| {
                            keys.iter()
                                .map(|k| field(k, "delete.keep"))
                                .collect::<Result<Vec<_>>>()
                        })
                        .transpose()?;
                    DeleteMode::Tombstone { into, keep }
                }
                "flag" => {
                    if rd.into.is_some() {
                        return Err(misplaced("into", "flag"));
                    }
                    if rd.keep.is_some() {
                        return Err(misplaced("keep", "flag"));
                    }
                    let Some(flag) = rd.field else {
                        return Err(ctx.error(
                            &dpath,
                            &loc("delete"),
                            "mode `flag` needs `field:` (for example `archived`)",
                        ));
                    };
                    DeleteMode::Flag {
                        field: field(&flag, "delete.field")?,
                        value: rd.value.unwrap_or(Value::Bool(true)),
                    }
                }
                other => {
                    return Err(ctx.error(
                        &join_path(&dpath, "mode"),
                        &loc("delete.mode"),
                        format!(
                            "unknown delete mode `{other}`; expected remove, tombstone or flag"
                        ),
                    ));
                }
            }
        }
    };
    Ok((write, mode))
}

pub(super) fn default_write_status(method: &str) -> u16 {
    match method {
        "POST" => 201,
        "DELETE" => 204,
        _ => 200,
    }
}

fn default_id() -> String {
    "id".to_owned()
}
