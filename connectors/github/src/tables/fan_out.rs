//! `repo: "*"`: one table read from every repository of an account (`owner` or `org`), or of
//! those its `repos` option names.
//!
//! The repositories are listed at the start of each run (once per connector instance), in name
//! order. A batch reads them in that order, each from its own position, until the batch is full.
//! The offset `{"repos": {"<id>": {"repository": "owner/name", "position": {...}}}}` holds one
//! position per repository, keyed by GitHub's repository id (so a rename keeps its place), so a
//! run stopped anywhere resumes each repository where it was. A repository new since the last
//! run has no position and starts from `start_date`; one deleted (or no longer matching `repos`)
//! is not listed and not read, and its position stays. Snapshot tables are the snapshots of
//! every listed repository, one after the other.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lakeflow_connect::{Error, Offset, ReadOutput, Record, Result};
use serde_json::{Map, Value, json};

use super::defs::{Read, Reader};
use super::repository::owner_and_name;
use super::{extra, read_with};
use crate::config::{FanOut, Repo, TableSettings};
use crate::read::ReadCtx;

/// The offset's one field: positions by repository id.
const REPOS: &str = "repos";
const REPOSITORY: &str = "repository";
const POSITION: &str = "position";

/// A repository of the account, as its listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    id: String,
    repo: Repo,
}

impl Listed {
    fn full_name(&self) -> String {
        format!("{}/{}", self.repo.owner, self.repo.name)
    }
}

/// What this connector instance learnt about the accounts it read: their repositories, and for
/// each table read (with its options) and repository, the position at which a read came back
/// with nothing new: up to the run's horizon nothing more can come, so a later batch from that
/// same position skips the repository instead of asking again.
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    lists: Mutex<BTreeMap<String, Arc<Vec<Listed>>>>,
    caught_up: Mutex<BTreeMap<String, Option<Offset>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Discovered {
    /// The repositories `fan_out` reads, by name, listed once per instance.
    fn repos(&self, ctx: &ReadCtx<'_>, fan_out: &FanOut) -> Result<Arc<Vec<Listed>>> {
        let key = format!("{fan_out:?}");
        if let Some(listed) = lock(&self.lists).get(&key) {
            return Ok(Arc::clone(listed));
        }
        let path = fan_out.account.repos_path();
        let context = format!("table `{}` (the repositories of {path})", ctx.table.name());
        let mut repos = Vec::new();
        for entry in ctx.client.list_all(&path, &context)? {
            let named = entry.as_object().and_then(owner_and_name);
            let (Some((owner, name)), Some(id)) = (named, entry.get("id").and_then(Value::as_u64))
            else {
                return Err(Error::Protocol {
                    message: format!(
                        "{context}: a repository without `id`, `owner.login` or `name`"
                    ),
                });
            };
            if fan_out.includes(name) {
                repos.push(Listed {
                    id: id.to_string(),
                    repo: Repo {
                        owner: owner.to_owned(),
                        name: name.to_owned(),
                    },
                });
            }
        }
        repos.sort_by(|a, b| a.repo.name.cmp(&b.repo.name));
        repos.dedup();
        if repos.is_empty() {
            tracing::warn!(table = ctx.table.name(), %path, patterns = ?fan_out.patterns, "no repository to read");
        } else {
            tracing::info!(table = ctx.table.name(), %path, repositories = repos.len(), "listed the repositories to read");
        }
        let repos = Arc::new(repos);
        lock(&self.lists).insert(key, Arc::clone(&repos));
        Ok(repos)
    }
}

/// Reads one batch (or a snapshot) of `reader` from every repository of `fan_out`.
pub(super) fn read(
    ctx: &ReadCtx<'_>,
    fan_out: &FanOut,
    reader: Reader,
    start: Option<&Offset>,
) -> Result<ReadOutput<'static>> {
    let repos = ctx.discovered.repos(ctx, fan_out)?;
    let Read::Batch(read_batch) = reader.read else {
        return snapshots(ctx, &repos, reader);
    };
    let mut positions = positions(ctx, start)?;
    let budget = ctx.kit.settings.max_records;
    let mut records: Vec<Record> = Vec::new();
    for listed in repos.iter() {
        let remaining = budget.saturating_sub(records.len());
        if remaining == 0 {
            break;
        }
        let from = position(ctx, &positions, listed)?;
        // Per table and options: the same table read with other options is another read.
        let done_key = format!(
            "{}\u{0}{:?}\u{0}{}",
            ctx.table.name(),
            ctx.settings,
            listed.id
        );
        if lock(&ctx.discovered.caught_up).get(&done_key) == Some(&from) {
            continue;
        }
        let read = in_repository(ctx, &listed.repo, remaining, |inner| {
            read_batch(inner, from.as_ref(), &extra(inner)?)
        });
        let (mut batch, end) = match read {
            Ok(read) => read,
            // GitHub answers 409 for the commits of a repository without any.
            Err(Error::Transport {
                status: Some(409), ..
            }) => {
                tracing::warn!(table = ctx.table.name(), repository = %listed.full_name(), "empty repository: nothing to read");
                (Vec::new(), from.clone())
            }
            Err(error) => return Err(error),
        };
        if end == from {
            lock(&ctx.discovered.caught_up).insert(done_key, from.clone());
        }
        if let Some(end) = end {
            let entry = json!({REPOSITORY: listed.full_name(), POSITION: end});
            positions.insert(listed.id.clone(), entry);
        }
        records.append(&mut batch);
    }
    let mut end = Offset::new();
    end.insert(REPOS.to_owned(), Value::Object(positions));
    Ok(ReadOutput::from_records(records, Some(end)))
}

/// Runs `with` on the read context of one repository, its batch holding at most `max_records`.
fn in_repository<T>(
    ctx: &ReadCtx<'_>,
    repo: &Repo,
    max_records: usize,
    with: impl FnOnce(&ReadCtx<'_>) -> Result<T>,
) -> Result<T> {
    let mut settings: TableSettings = ctx.settings.clone();
    settings.repo = Some(repo.clone());
    settings.fan_out = None;
    settings.read.max_records = max_records;
    let kit = lakeflow_kit::ReadCtx {
        table: ctx.kit.table,
        source: ctx.kit.source,
        settings: settings.read,
        horizon: ctx.kit.horizon,
    };
    with(&ReadCtx {
        kit,
        client: ctx.client,
        table: ctx.table,
        settings: &settings,
        rechecked: ctx.rechecked,
        discovered: ctx.discovered,
    })
}

/// The snapshot of every repository, one after the other.
fn snapshots(ctx: &ReadCtx<'_>, repos: &[Listed], reader: Reader) -> Result<ReadOutput<'static>> {
    let mut outputs = Vec::with_capacity(repos.len());
    for listed in repos {
        let max = ctx.kit.settings.max_records;
        outputs.push(in_repository(ctx, &listed.repo, max, |inner| {
            read_with(inner, reader, None)
        })?);
    }
    let records = outputs.into_iter().flat_map(|output| output.records);
    Ok(ReadOutput::streaming(records, None))
}

/// The positions of a fan-out offset, by repository id.
fn positions(ctx: &ReadCtx<'_>, start: Option<&Offset>) -> Result<Map<String, Value>> {
    let Some(offset) = start else {
        return Ok(Map::new());
    };
    match offset.get(REPOS) {
        Some(Value::Object(positions)) if offset.len() == 1 => Ok(positions.clone()),
        _ => Err(Error::invalid_offset(
            ctx.table.name(),
            format!(
                "`repo: \"*\"` keeps one position per repository (`{{\"repos\": {{...}}}}`), and \
                 the stored offset is not one: {} (was the table read with one `repo` before? \
                 reset its checkpoint with a full refresh)",
                Value::Object(offset.clone())
            ),
        )),
    }
}

/// The position of one repository in `positions`, if it has one.
fn position(
    ctx: &ReadCtx<'_>,
    positions: &Map<String, Value>,
    listed: &Listed,
) -> Result<Option<Offset>> {
    match positions.get(&listed.id).map(|entry| &entry[POSITION]) {
        None => Ok(None),
        Some(Value::Object(position)) => Ok(Some(position.clone())),
        Some(other) => Err(Error::invalid_offset(
            ctx.table.name(),
            format!(
                "the position of {} is not an object: {other}",
                listed.full_name()
            ),
        )),
    }
}

/// Refuses a fan-out offset for a read of one repository.
pub(super) fn refuse_positions(ctx: &ReadCtx<'_>, start: Option<&Offset>) -> Result<()> {
    match start {
        Some(offset) if offset.contains_key(REPOS) => Err(Error::invalid_offset(
            ctx.table.name(),
            "the stored offset holds one position per repository (the table was read with \
             `repo: \"*\"`), and this read names one `repo`: reset its checkpoint with a full \
             refresh",
        )),
        _ => Ok(()),
    }
}
