//! Checks 7 and 8: passes converge, and reads honour `max_records_per_batch`.

use lakeflow_connect::{IngestionType, MAX_RECORDS_PER_BATCH};

use crate::config::Limits;
use crate::context::{Run, TableCtx, Verdict, blocked, count, fail, verdict};
use crate::pass::{End, Feed, Pass, read_pass};
use crate::report::Check;

/// Check 7: Feeding end offsets back converges (end == start) within the bounds: with the caller's
/// options and at a small batch size, for records and, for `cdc_with_deletes`, deletes. The final
/// read of an append table returns nothing (records there would be appended again next run).
pub(super) fn termination(run: &Run, t: &TableCtx) -> Verdict {
    let kind = run.kind(t)?;
    let natural = run.natural(t)?;
    if let End::Failed { read: 0, .. } = natural.end {
        // Not a convergence problem: the very first read fails, which `first_read` reports.
        return Err(blocked("a first read that succeeds", Check::FirstRead));
    }
    let small = run.config.limits.small_batch;
    let mut passes: Vec<(Feed, String, &Pass)> = vec![(Feed::Records, String::new(), natural)];
    if let Some(pass) = run.small(t, Feed::Records)? {
        passes.push((
            Feed::Records,
            format!(" at {MAX_RECORDS_PER_BATCH}={small}"),
            pass,
        ));
    }
    if let Some(pass) = run.deletes(t)? {
        passes.push((Feed::Deletes, String::new(), pass));
        if let Some(pass) = run.small(t, Feed::Deletes)? {
            passes.push((
                Feed::Deletes,
                format!(" at {MAX_RECORDS_PER_BATCH}={small}"),
                pass,
            ));
        }
    }
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    for (feed, label, pass) in passes {
        if pass.converged() {
            summary.push(format!(
                "{}{label}: {}, {}",
                feed.method(),
                count(pass.batches.len(), "read"),
                count(pass.record_count(), "record")
            ));
        } else {
            problems.push(format!("{}{label}", pass.problem(&t.name, feed)));
            continue;
        }
        let last = pass.batches.last().map_or(0, Vec::len);
        if kind == IngestionType::Append && pass.batches.len() > 1 && last > 0 {
            problems.push(format!(
                "`{}`: {}{label}: the read that returned end == start also returned {last} \
                 records; an append table would append them again on the next run",
                t.name,
                feed.method()
            ));
        }
    }
    summary.extend(run.deletes_left_out(t));
    verdict(&problems, || summary.join("; "))
}

/// Check 8: At a small `max_records_per_batch`, no cdc read (records or deletes) returns more; an
/// append read exceeds it by less than one server page, the page being measured as the largest
/// read at `max_records_per_batch = 1` (limit-before-fetch then stops after one page).
pub(super) fn batch_bounds(run: &Run, t: &TableCtx) -> Verdict {
    let kind = run.kind(t)?;
    if !kind.is_incremental() {
        return Ok(crate::context::skip(
            "snapshot table: reads are not batched",
        ));
    }
    if !run.declares_batch_size(t) {
        return Err(fail(format!(
            "the descriptor does not declare `{MAX_RECORDS_PER_BATCH}` for `{}`; every \
             incremental table must honour it",
            t.name
        )));
    }
    let limits = run.config.limits;
    let small = limits.small_batch;
    let mut feeds = vec![Feed::Records];
    if kind == IngestionType::CdcWithDeletes {
        feeds.push(Feed::Deletes);
    }
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    for feed in feeds {
        let Some(pass) = run.small(t, feed)? else {
            continue;
        };
        if !pass.converged() {
            return Err(blocked("a pass at a small batch size", Check::Termination));
        }
        let probe = probe(run, t, feed, &limits);
        if let End::Failed { .. } = probe.end {
            problems.push(format!(
                "at {MAX_RECORDS_PER_BATCH}=1: {}",
                probe.problem(&t.name, feed)
            ));
            continue;
        }
        let page = probe.batches.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let (bound, probe_bound) = if kind == IngestionType::Append {
            (small - 1 + page, page)
        } else {
            (small, 1)
        };
        for (size, batches) in [(1, &probe.batches), (small, &pass.batches)] {
            let allowed = if size == 1 { probe_bound } else { bound };
            for (i, batch) in batches.iter().enumerate() {
                if batch.len() > allowed {
                    problems.push(format!(
                        "`{}`: {} read {} at {MAX_RECORDS_PER_BATCH}={size} returned {} records \
                         (at most {allowed} allowed)",
                        t.name,
                        feed.method(),
                        i + 1,
                        batch.len()
                    ));
                }
            }
        }
        let largest = pass.batches.iter().map(Vec::len).max().unwrap_or(0);
        summary.push(if kind == IngestionType::Append {
            format!(
                "{}: largest read {largest} at {MAX_RECORDS_PER_BATCH}={small} (server page \
                 {page}, bound {bound})",
                feed.method()
            )
        } else {
            format!(
                "{}: largest read {largest} at {MAX_RECORDS_PER_BATCH}={small}, at most 1 at 1",
                feed.method()
            )
        });
    }
    summary.extend(run.deletes_left_out(t));
    verdict(&problems, || summary.join("; "))
}

/// The first `probe_reads` reads at `max_records_per_batch = 1`.
fn probe(run: &Run, t: &TableCtx, feed: Feed, limits: &Limits) -> Pass {
    let probe_limits = Limits {
        max_reads: limits.probe_reads,
        ..*limits
    };
    read_pass(
        &run.main,
        &run.transcript,
        &t.name,
        feed,
        None,
        &t.options_with_batch(1),
        false,
        &probe_limits,
    )
}
