//! The tables read by date windows: commits (by committer date) and workflow runs (by creation
//! date, with the unfinished ones watched for later changes).

use lakeflow_kit::ApiClient;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use lakeflow_connect::{Offset, Record, Result};
use serde_json::{Map, Value};

use crate::client::with_context;
use crate::read::offset::{Builder, Fields, instant_at};
use crate::read::window::{
    FIELDS, WindowPos, Windowed, oldest_on_last_page, read_lookback, read_windows,
};
use crate::read::{Extra, ReadCtx};
use lakeflow_kit::time::{format_ts, parse_ts};

type Batch = (Vec<Record>, Option<Offset>);

/// GitHub answers at most this many workflow runs to one query filtered by `created`.
const RUNS_CAP: u64 = 1000;
/// Unfinished runs whose later changes are watched for; beyond this, the oldest are dropped.
const MAX_PENDING: usize = 200;
const PENDING: &str = "pending";

/// `GET /repos/{owner}/{repo}/commits?since=A&until=B[&sha=...]`, in windows of
/// `window_seconds` by committer date. Without an offset or `start_date`, the first window
/// starts at the oldest commit (found through the last page of the listing).
pub(super) fn read_commits(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    extra: &Extra,
) -> Result<Batch> {
    let table = ctx.table.name();
    let pos = start
        .map(|o| WindowPos::parse(&Fields::new(table, o, &FIELDS)?))
        .transpose()?;
    let path = ctx.settings.repo(ctx.table)?.path("/commits");
    let listing = || {
        let request = ctx.client.get(&path);
        match &ctx.settings.sha {
            Some(sha) => request.query("sha", sha),
            None => request,
        }
    };
    let request = |since: DateTime<Utc>, until: DateTime<Utc>| {
        listing()
            .query("since", format_ts(since))
            .query("until", format_ts(until))
            .query("per_page", ctx.kit.settings.per_page)
    };
    let cursor = "commit.committer.date";
    let windowed = Windowed {
        ctx: &ctx.kit,
        cursor,
        key: "sha",
        records_path: "",
        request: &request,
        cap: None,
        oldest: &|| {
            let one = listing().query("per_page", 1);
            oldest_on_last_page(
                &ctx.kit,
                one,
                &|url| ctx.client.get(url),
                "",
                (cursor, "sha"),
            )
        },
        decorate: &|record| extra.apply(record),
    };
    let mut records = Vec::new();
    let end = read_windows(&windowed, pos.clone(), ctx.kit.horizon, &mut records)?;
    let end = if end == pos {
        start.cloned()
    } else {
        end.map(|p| p.write(Builder::default()).build())
    };
    Ok((records, end))
}

/// `GET /repos/{owner}/{repo}/actions/runs?created=A..B`, in windows of `window_seconds` by
/// creation time. A window whose `total_count` exceeds the 1000 runs GitHub answers to one such
/// query is halved until it fits.
///
/// A run changes after it is created (queued, in progress, completed), later than its window is
/// read. So the offset also keeps the runs that were unfinished when delivered
/// (`"pending": {"<id>": "<updated_at>"}`). Once the windows have caught up to the horizon, the
/// read fetches them again (`GET .../actions/runs/{id}`) and delivers those that changed, until
/// they complete. Not before: during a long first read every batch would otherwise fetch up to
/// [`MAX_PENDING`] runs again, most of them delivered moments earlier.
///
/// `lookback_seconds` re-reads the runs created that long before the stored position (a
/// completed run that is re-run keeps its creation time, so only a re-read of its window sees
/// it). The re-read is made by reads that start between windows with new windows to read, and
/// delivers what it finds; the stored position never moves back.
pub(super) fn read_workflow_runs(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    extra: &Extra,
) -> Result<Batch> {
    let table = ctx.table.name();
    let repo = ctx.settings.repo(ctx.table)?;
    let fields = start
        .map(|o| {
            let mut allowed = FIELDS.to_vec();
            allowed.push(PENDING);
            Fields::new(table, o, &allowed)
        })
        .transpose()?;
    let pos = fields.as_ref().map(WindowPos::parse).transpose()?;
    let mut pending = match &fields {
        Some(f) => parse_pending(f)?,
        None => BTreeMap::new(),
    };
    // Runs pending since an earlier read: the only ones worth fetching again.
    let watched: Vec<(u64, DateTime<Utc>)> = pending.iter().map(|(id, at)| (*id, *at)).collect();
    let path = repo.path("/actions/runs");
    let request = |since: DateTime<Utc>, until: DateTime<Utc>| {
        let range = format!("{}..{}", format_ts(since), format_ts(until));
        ctx.client
            .get(&path)
            .query("created", range)
            .query("per_page", ctx.kit.settings.per_page)
    };
    let windowed = Windowed {
        ctx: &ctx.kit,
        cursor: "created_at",
        key: "id",
        records_path: "workflow_runs",
        request: &request,
        cap: Some((RUNS_CAP, "total_count")),
        oldest: &|| {
            let one = ctx.client.get(&path).query("per_page", 1);
            let follow = |url: &str| ctx.client.get(url);
            oldest_on_last_page(
                &ctx.kit,
                one,
                &follow,
                "workflow_runs",
                ("created_at", "id"),
            )
        },
        decorate: &|record| extra.apply(record),
    };
    let mut records = read_lookback(&windowed, pos.as_ref())?;
    let end = read_windows(&windowed, pos, ctx.kit.horizon, &mut records)?;
    for run in &records {
        watch(ctx, run, &mut pending)?;
    }
    let Some(end) = end else {
        return Ok((records, start.cloned()));
    };
    if end.open.is_none() && end.since > ctx.kit.horizon {
        let delivered: Vec<Value> = records
            .iter()
            .filter_map(|r| r.get("id").cloned())
            .collect();
        let due: Vec<(u64, DateTime<Utc>)> = watched
            .into_iter()
            .filter(|(id, _)| !delivered.contains(&Value::from(*id)))
            .collect();
        recheck_pending(ctx, extra, &due, &mut pending, &mut records)?;
    }
    let mut builder = end.write(Builder::default());
    if !pending.is_empty() {
        let map: Map<String, Value> = pending
            .iter()
            .map(|(id, at)| (id.to_string(), Value::from(format_ts(*at))))
            .collect();
        builder = builder.value(PENDING, Value::Object(map));
    }
    Ok((records, Some(builder.build())))
}

fn parse_pending(fields: &Fields<'_>) -> Result<BTreeMap<u64, DateTime<Utc>>> {
    let Some(map) = fields.object(PENDING)? else {
        return Ok(BTreeMap::new());
    };
    map.iter()
        .map(|(id, at)| {
            let id = id.parse::<u64>().ok();
            let at = at.as_str().and_then(parse_ts);
            match (id, at) {
                (Some(id), Some(at)) => Ok((id, at)),
                _ => Err(fields.invalid(format!(
                    "`{PENDING}` maps run ids to RFC 3339 times, not {}",
                    Value::Object(map.clone())
                ))),
            }
        })
        .collect()
}

/// Keeps an unfinished run to fetch again; forgets a finished one.
fn watch(
    ctx: &ReadCtx<'_>,
    run: &Record,
    pending: &mut BTreeMap<u64, DateTime<Utc>>,
) -> Result<()> {
    let Some(id) = run.get("id").and_then(Value::as_u64) else {
        return Ok(());
    };
    if run.get("status").and_then(Value::as_str) == Some("completed") {
        pending.remove(&id);
        return Ok(());
    }
    pending.insert(id, instant_at(ctx.table.name(), run, "updated_at")?);
    while pending.len() > MAX_PENDING {
        // Run ids grow with time: the smallest is the oldest, the least likely to still change.
        pending.pop_first();
    }
    Ok(())
}

/// Workflow runs fetched again by one connector instance, by path (`None`: the
/// run is gone). Each pending run costs at most one request per instance, however many reads
/// the instance makes; a read from the same offset delivers the same records again.
#[derive(Debug, Default)]
pub(crate) struct Rechecked(Mutex<HashMap<String, Option<Record>>>);

impl Rechecked {
    fn get(&self, key: &str) -> Option<Option<Record>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn put(&self, key: String, run: Option<Record>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, run);
    }
}

/// Fetches the `due` pending runs (once per connector instance) and delivers those changed since
/// they were delivered (up to the horizon, and while the batch has room).
fn recheck_pending(
    ctx: &ReadCtx<'_>,
    extra: &Extra,
    due: &[(u64, DateTime<Utc>)],
    pending: &mut BTreeMap<u64, DateTime<Utc>>,
    out: &mut Vec<Record>,
) -> Result<()> {
    let repo = ctx.settings.repo(ctx.table)?;
    let context = ctx.kit.context();
    for &(id, delivered_at) in due {
        if out.len() >= ctx.kit.settings.max_records {
            break;
        }
        let path = repo.path(&format!("/actions/runs/{id}"));
        let run = match ctx.rechecked.get(&path) {
            Some(run) => run,
            None => {
                let fetched = match ctx.client.get(&path).send() {
                    Ok(response) => Some(
                        response
                            .json::<Record>()
                            .map_err(|e| with_context(&context, e))?,
                    ),
                    Err(e) if e.status() == Some(404) => None,
                    Err(e) => return Err(with_context(&context, e)),
                };
                ctx.rechecked.put(path, fetched.clone());
                fetched
            }
        };
        let Some(mut run) = run else {
            // Deleted runs are gone for good.
            pending.remove(&id);
            continue;
        };
        let updated = instant_at(ctx.table.name(), &run, "updated_at")?;
        if updated <= delivered_at || updated > ctx.kit.horizon {
            continue;
        }
        extra.apply(&mut run);
        watch(ctx, &run, pending)?;
        out.push(run);
    }
    Ok(())
}
