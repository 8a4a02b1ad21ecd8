//! `repo: "*"`: one table read from every repository of an account (`owner` or `org`), or of
//! those its `repos` option names.
//!
//! The repositories are listed at the start of each run (once per connector instance), in name
//! order. A batch reads them in that order, each from its own position, until the batch is full.
//! The offset `{"repos": {"<id>": {"repository": "owner/name", "position": {...}}}}` holds one
//! position per repository, keyed by GitHub's repository id (so a rename keeps its place), so a
//! run stopped anywhere resumes each repository where it was. A repository new since the last
//! run has no position and starts from `start_date`; one deleted (or no longer matching `repos`)
//! is not listed and not read, and its position stays (except in an offset a partitioned
//! stream committed, which holds the repositories listed when it was taken). Snapshot tables are the snapshots of
//! every listed repository, one after the other.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use lakeflow_connect::{Error, Offset, Partition, ReadOutput, Record, Result};
use lakeflow_kit::time::{format_ts, parse_ts};
use serde_json::{Map, Value, json};

use super::defs::{BatchFn, DeliveredThrough, Read, Reader};
use super::repository::owner_and_name;
use super::{extra, read_with};
use crate::config::{FanOut, Repo, TableSettings};
use crate::read::ReadCtx;

/// The offset's one field: positions by repository id.
const REPOS: &str = "repos";
const REPOSITORY: &str = "repository";
const POSITION: &str = "position";
/// The instant a partitioned stream's offset read every repository to.
const THROUGH: &str = "through";
/// A partition's fields: which repository, from where, through when.
const REPOSITORY_ID: &str = "repository_id";
const FROM: &str = "from";

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
        let done_key = caught_up_key(ctx, listed);
        if lock(&ctx.discovered.caught_up).get(&done_key) == Some(&from) {
            continue;
        }
        let (mut batch, end) = read_repository(
            ctx,
            read_batch,
            &listed.repo,
            remaining,
            from.as_ref(),
            ctx.kit.horizon,
        )?;
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

/// The key under which a repository's read is known caught up at a position: the table, the
/// repository's id, and the options that shape its requests. The same table read with other
/// such options is another read; the account, the repository patterns and the batch's budget
/// are not among them (one repository's read replaces them, see [`in_repository`]).
fn caught_up_key(ctx: &ReadCtx<'_>, listed: &Listed) -> String {
    let (settings, read) = (ctx.settings, &ctx.settings.read);
    let shape = format!(
        "{:?} {:?} {} {:?} {} {:?} {:?}",
        read.start_date,
        read.lookback,
        read.per_page,
        read.window,
        settings.state,
        settings.pull_number,
        settings.sha
    );
    format!("{}\u{0}{shape}\u{0}{}", ctx.table.name(), listed.id)
}

/// One batch of one repository from `from`, of at most `max_records` records changed up to
/// `horizon`. A repository without commits (GitHub answers 409) has nothing to read.
fn read_repository(
    ctx: &ReadCtx<'_>,
    read_batch: BatchFn,
    repo: &Repo,
    max_records: usize,
    from: Option<&Offset>,
    horizon: DateTime<Utc>,
) -> Result<(Vec<Record>, Option<Offset>)> {
    let read = in_repository(ctx, repo, max_records, horizon, |inner| {
        read_batch(inner, from, &extra(inner)?)
    });
    match read {
        Err(Error::Transport {
            status: Some(409), ..
        }) => {
            tracing::warn!(
                table = ctx.table.name(),
                repository = %format!("{}/{}", repo.owner, repo.name),
                "empty repository: nothing to read"
            );
            Ok((Vec::new(), from.cloned()))
        }
        read => read,
    }
}

/// Runs `with` on the read context of one repository, its batch holding at most `max_records`
/// records changed up to `horizon`.
fn in_repository<T>(
    ctx: &ReadCtx<'_>,
    repo: &Repo,
    max_records: usize,
    horizon: DateTime<Utc>,
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
        horizon,
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
        let horizon = ctx.kit.horizon;
        outputs.push(in_repository(ctx, &listed.repo, max, horizon, |inner| {
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
    // `through` is what a partitioned stream read every repository to.
    let fields_known = offset
        .keys()
        .all(|field| [REPOS, THROUGH].contains(&field.as_str()));
    match offset.get(REPOS) {
        Some(Value::Object(positions)) if fields_known => Ok(positions.clone()),
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

// Partitioned streams: one partition per repository, read from its position to the instant the
// latest offset was taken; the offset then says, for each repository, that everything up to
// that instant was delivered (see `Reader::delivered_through`).

/// The read of a table that partitions per repository, or `NotSupported`.
fn partitioned(ctx: &ReadCtx<'_>) -> Result<(BatchFn, DeliveredThrough)> {
    let reader = ctx.table.reader();
    match (reader.read, reader.delivered_through) {
        (Read::Batch(read), Some(through)) => Ok((read, through)),
        _ => Err(Error::not_supported(
            ctx.table.name(),
            "partitioned streams with `repo: \"*\"`",
        )),
    }
}

/// Every listed repository read up to the run's horizon.
pub(super) fn latest_offset(ctx: &ReadCtx<'_>, fan_out: &FanOut) -> Result<Offset> {
    let (_, delivered_through) = partitioned(ctx)?;
    let horizon = ctx.kit.horizon;
    let mut positions = Map::new();
    for listed in ctx.discovered.repos(ctx, fan_out)?.iter() {
        let entry = json!({REPOSITORY: listed.full_name(), POSITION: delivered_through(horizon)});
        positions.insert(listed.id.clone(), entry);
    }
    let mut latest = Offset::new();
    latest.insert(REPOS.to_owned(), Value::Object(positions));
    latest.insert(THROUGH.to_owned(), Value::from(format_ts(horizon)));
    Ok(latest)
}

/// One partition per repository whose position moves between `start` and `end`.
pub(super) fn partitions_between(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    end: &Offset,
) -> Result<Vec<Partition>> {
    partitioned(ctx)?;
    let through = end
        .get(THROUGH)
        .and_then(Value::as_str)
        .filter(|text| parse_ts(text).is_some())
        .ok_or_else(|| {
            Error::invalid_offset(ctx.table.name(), "a latest offset without `through`")
        })?;
    let from = positions(ctx, start)?;
    let mut partitions = Vec::new();
    for (id, entry) in positions(ctx, Some(end))? {
        let start = from.get(&id).map(|entry| &entry[POSITION]);
        if start == Some(&entry[POSITION]) {
            continue;
        }
        let mut partition = Partition::new();
        partition.insert(REPOSITORY_ID.to_owned(), Value::from(id));
        partition.insert(REPOSITORY.to_owned(), entry[REPOSITORY].clone());
        partition.insert(FROM.to_owned(), start.cloned().unwrap_or(Value::Null));
        partition.insert(THROUGH.to_owned(), Value::from(through));
        partitions.push(partition);
    }
    Ok(partitions)
}

/// Where a partition reads: the repository, its position, and the instant to read it up to.
pub(crate) struct PartitionRead {
    repo: Repo,
    from: Option<Offset>,
    through: DateTime<Utc>,
}

impl PartitionRead {
    /// The partition `partition` describes.
    pub(crate) fn parse(table: &str, partition: &Partition) -> Result<Self> {
        let invalid = || {
            Error::invalid_offset(
                table,
                format!(
                    "not a partition of `repo: \"*\"`: {}",
                    Value::Object(partition.clone())
                ),
            )
        };
        let (owner, name) = partition
            .get(REPOSITORY)
            .and_then(Value::as_str)
            .and_then(|full| full.split_once('/'))
            .ok_or_else(invalid)?;
        let from = match partition.get(FROM) {
            Some(Value::Object(from)) => Some(from.clone()),
            Some(Value::Null) | None => None,
            Some(_) => return Err(invalid()),
        };
        let through = partition
            .get(THROUGH)
            .and_then(Value::as_str)
            .and_then(parse_ts)
            .ok_or_else(invalid)?;
        let repo = Repo {
            owner: crate::config::login("repository", owner)?,
            name: crate::config::login("repository", name)?,
        };
        Ok(Self {
            repo,
            from,
            through,
        })
    }

    /// The next batch of the partition, and whether it was the last: a read that moves nothing
    /// has reached `through`.
    pub(crate) fn next_batch(&mut self, ctx: &ReadCtx<'_>) -> Result<(Vec<Record>, bool)> {
        let (read_batch, _) = partitioned(ctx)?;
        // Up to `through`, never past it (the offset committed says so), and never past what
        // this reader can see: a reader whose clock is behind would stop short of it.
        if ctx.kit.horizon < self.through {
            return Err(Error::Protocol {
                message: format!(
                    "table `{}`: this reader can read up to {} only, and the partition of {}/{} \
                     goes up to {}: is this machine's clock behind the one that planned it?",
                    ctx.table.name(),
                    format_ts(ctx.kit.horizon),
                    self.repo.owner,
                    self.repo.name,
                    format_ts(self.through)
                ),
            });
        }
        let max = ctx.kit.settings.max_records;
        let (records, end) = read_repository(
            ctx,
            read_batch,
            &self.repo,
            max,
            self.from.as_ref(),
            self.through,
        )?;
        let last = end == self.from;
        self.from = end;
        Ok((records, last))
    }
}
