//! Check 15: changes written through the caller's write-back helper show up in the next read.

use lakeflow_connect::{IngestionType, Offset, Record};
use serde_json::Value;

use crate::config::WriteBack;
use crate::context::{Finding, Run, TableCtx, Verdict, blocked, fail, skip, verdict};
use crate::pass::{Feed, Pass, read_pass, short, value_at};
use crate::probe::guard;
use crate::report::{Check, Outcome};

/// Check 15: An inserted record appears in the next read from the previous end offset (the next full
/// read for snapshots); for `cdc_with_deletes` tables, a deleted record appears in the next
/// deletes read. Each side is read by a connector built after the write, since a connector stops
/// at its construction time.
pub(super) fn write_back(run: &Run, t: &TableCtx) -> Verdict {
    let Some(helper) = run.config.write_back.as_deref() else {
        return Ok(skip("no write-back helper given (`write_back`)"));
    };
    let kind = run.kind(t)?;
    let mut problems = Vec::new();
    let mut done = Vec::new();
    let mut feeds = vec![Feed::Records];
    if run.has_deletes(t)? {
        feeds.push(Feed::Deletes);
    }
    for feed in feeds {
        match round_trip(run, t, helper, feed, kind.is_incremental()) {
            Ok(Some(evidence)) => done.push(evidence),
            Ok(None) => {}
            Err(finding) if finding.outcome == Outcome::Fail => problems.push(finding.evidence),
            Err(skipped) => return Err(skipped),
        }
    }
    if problems.is_empty() && done.is_empty() {
        return Ok(skip("the write-back helper does not write to this table"));
    }
    verdict(&problems, || done.join("; "))
}

/// Writes one change and looks for it. `Ok(None)` when the helper does not write this feed;
/// `Err` for a skip (a read that does not converge is check 7's failure) or a failure.
fn round_trip(
    run: &Run,
    t: &TableCtx,
    helper: &dyn WriteBack,
    feed: Feed,
    incremental: bool,
) -> Result<Option<String>, Finding> {
    let table = t.name.as_str();
    let before = if incremental {
        let pass = fresh_pass(run, t, feed, None, "a connector built before a write")?;
        pass.offsets.last().cloned().flatten()
    } else {
        None
    };
    let (verb, written) = match feed {
        Feed::Records => (
            "inserted",
            guard(&run.transcript, "write-back insert", || {
                helper.insert(table)
            }),
        ),
        Feed::Deletes => (
            "deleted",
            guard(&run.transcript, "write-back delete", || {
                helper.delete(table)
            }),
        ),
    };
    let identity = match written {
        Ok(Ok(Some(identity))) if !identity.is_empty() => identity,
        Ok(Ok(Some(_))) => return Err(fail("the write-back helper returned no identifying field")),
        Ok(Ok(None)) => return Ok(None),
        Ok(Err(error)) => return Err(fail(format!("the write-back helper failed: {error}"))),
        Err(panic) => return Err(fail(format!("the write-back helper {panic}"))),
    };
    let shown = short(&Value::Object(identity.clone()));
    let after = fresh_pass(
        run,
        t,
        feed,
        before.clone(),
        "a connector built after a write",
    )?;
    let from = before.map_or_else(|| "the start".to_owned(), |o| short(&Value::Object(o)));
    if after.records().any(|r| matches(r, &identity)) {
        Ok(Some(format!(
            "{verb} {shown}: in the next {} from {from}",
            feed.method()
        )))
    } else {
        Err(fail(format!(
            "`{table}`: {verb} {shown}, but the next {} from {from} ({} records) does not have it",
            feed.method(),
            after.record_count()
        )))
    }
}

/// A converged pass by a connector built now.
fn fresh_pass(
    run: &Run,
    t: &TableCtx,
    feed: Feed,
    start: Option<Offset>,
    role: &str,
) -> Result<Pass, Finding> {
    let connector = run
        .fresh(role)
        .map_err(|e| fail(format!("could not build a fresh connector: {e}")))?;
    let snapshot = start.is_none()
        && feed == Feed::Records
        && !run.kind(t).is_ok_and(IngestionType::is_incremental);
    let pass = read_pass(
        &connector,
        &run.transcript,
        &t.name,
        feed,
        start,
        &t.options,
        snapshot,
        &run.config.limits,
    );
    if pass.converged() {
        Ok(pass)
    } else if pass.offsets.len() == 1 {
        // The very first read failed: the write did not break anything yet, the read did.
        Err(fail(format!(
            "a fresh connector's read: {}",
            pass.problem(&t.name, feed)
        )))
    } else {
        Err(blocked("reads that converge", Check::Termination))
    }
}

/// Whether `record` has every field of `identity` (dot paths allowed) with an equal value.
/// Numbers compare by value, so an id written as `7` matches one read back as `7.0`.
fn matches(record: &Record, identity: &Record) -> bool {
    identity.iter().all(|(path, want)| {
        value_at(record, path).is_some_and(|got| match (got, want) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            _ => got == want,
        })
    })
}
