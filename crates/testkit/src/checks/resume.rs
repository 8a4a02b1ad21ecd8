//! Checks 9 and 12: resuming from intermediate offsets, and offsets (and partition descriptors)
//! surviving JSON text.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use lakeflow_connect::{IngestionType, LakeflowConnect, Offset};
use serde_json::{Map, Value};

use crate::context::{Run, TableCtx, Verdict, blocked, count, skip, verdict};
use crate::cursor::compare;
use crate::pass::{Feed, Pass, canonical_record, multiset, read_pass, short, value_at};
use crate::report::Check;

/// Check 9: For every intermediate offset of a full pass (at the small batch size when the table
/// declares one), the reads before it plus a pass resumed from it hold exactly the full pass:
/// nothing missing, nothing new; a record delivered twice is allowed only for cdc tables, and
/// only when its cursor value equals the highest cursor delivered before the cut (a tie group
/// the cut split). The resumed pass starts from the offset after a trip through JSON text, as
/// the pipeline stores it, so an offset that does not survive text breaks resume here.
pub(super) fn resume(run: &Run, t: &TableCtx) -> Verdict {
    let meta = run.metadata(t)?;
    if !meta.ingestion_type.is_incremental() {
        return Ok(skip("snapshot table: no offsets to resume from"));
    }
    let mut feeds = vec![Feed::Records];
    if run.has_deletes(t)? {
        feeds.push(Feed::Deletes);
    }
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    for feed in feeds {
        let (pass, options) = match (run.small(t, feed)?, feed) {
            (Some(pass), _) => (pass, t.options_with_batch(run.config.limits.small_batch)),
            (None, Feed::Records) => (run.natural(t)?, t.options.clone()),
            (None, Feed::Deletes) => (
                run.deletes(t)?
                    .ok_or_else(|| blocked("a deletes feed", Check::Metadata))?,
                t.options.clone(),
            ),
        };
        if !pass.converged() {
            return Err(blocked("a full pass", Check::Termination));
        }
        let cdc = meta.ingestion_type != IngestionType::Append;
        let cursor = meta.cursor_field.as_deref();
        let points = resume_points(pass, run.config.limits.max_resume_points);
        let full = multiset(pass.records());
        let mut ties = 0;
        for &cut in &points {
            let text = pass.offsets[cut]
                .as_ref()
                .map_or_else(|| "none".to_owned(), |o| short(&Value::Object(o.clone())));
            let at = format!(
                "`{}`: {} resumed from {text} (after read {cut})",
                t.name,
                feed.method()
            );
            let start = match pass.offsets[cut].as_ref().map(through_text).transpose() {
                Ok(start) => start,
                Err(error) => {
                    problems.push(format!(
                        "{at}: the offset does not survive JSON text: {error}"
                    ));
                    continue;
                }
            };
            let resumed = read_pass(
                &run.main,
                &run.transcript,
                &t.name,
                feed,
                start,
                &options,
                false,
                &run.config.limits,
            );
            if !resumed.converged() {
                problems.push(format!("{at}: {}", resumed.problem(&t.name, feed)));
                continue;
            }
            let before = &pass.batches[..cut];
            let highest = cursor.and_then(|c| {
                before
                    .iter()
                    .flatten()
                    .filter_map(|r| value_at(r, c))
                    .max_by(|a, b| compare(a, b))
            });
            let mut union = multiset(before.iter().flatten());
            for (record, n) in multiset(resumed.records()) {
                *union.entry(record).or_insert(0) += n;
            }
            let examples = |record: &str| format!("{at}: {record}");
            for (record, &want) in &full {
                let got = union.get(record).copied().unwrap_or(0);
                if got < want {
                    problems.push(examples(&format!("missing record {}", cut_text(record))));
                }
            }
            for (record, &got) in &union {
                let want = full.get(record).copied().unwrap_or(0);
                if want == 0 {
                    problems.push(examples(&format!(
                        "a record the full pass did not return: {}",
                        cut_text(record)
                    )));
                } else if got > want {
                    let tie = cdc && tied(record, cursor, highest);
                    if tie {
                        ties += 1;
                    } else {
                        problems.push(examples(&format!(
                            "record delivered twice: {}",
                            cut_text(record)
                        )));
                    }
                }
            }
        }
        summary.push(format!(
            "{}: {} (offsets through JSON text) over {}, no gaps, no extra records, {} at a \
             tied cursor",
            feed.method(),
            count(points.len(), "resume point"),
            count(pass.batches.len(), "read"),
            count(ties, "duplicate")
        ));
    }
    summary.extend(run.deletes_left_out(t));
    verdict(&problems, || summary.join("; "))
}

/// `offset` written as JSON text and parsed back, as the pipeline stores and reloads it.
fn through_text(offset: &Offset) -> Result<Offset, serde_json::Error> {
    serde_json::from_str(&serde_json::to_string(offset)?)
}

/// Every intermediate offset (the start of each read but the first), or `max` of them spread
/// evenly.
fn resume_points(pass: &Pass, max: usize) -> Vec<usize> {
    let all: Vec<usize> = (1..pass.batches.len()).collect();
    if all.len() <= max || max == 0 {
        return all;
    }
    (0..max).map(|i| all[i * all.len() / max]).collect()
}

/// Whether a re-delivered record's cursor equals the highest cursor delivered before the cut.
fn tied(record: &str, cursor: Option<&str>, highest: Option<&Value>) -> bool {
    let (Some(cursor), Some(highest)) = (cursor, highest) else {
        return false;
    };
    let Ok(Value::Object(record)) = serde_json::from_str::<Value>(record) else {
        return false;
    };
    value_at(&record, cursor).is_some_and(|v| compare(v, highest) == Ordering::Equal)
}

fn cut_text(record: &str) -> String {
    serde_json::from_str::<Value>(record).map_or_else(|_| record.to_owned(), |v| short(&v))
}

/// Check 12: Every offset seen in the passes, and every partition descriptor, is unchanged after a
/// trip through JSON text (the pipeline stores them as text): equal as a value, and written
/// back to the same text (so a value that only compares equal, such as a number whose text
/// changes, is caught too). Check 9 resumes from such round-tripped offsets.
pub(super) fn offset_json(run: &Run, t: &TableCtx) -> Verdict {
    let mut objects: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut passes = vec![run.natural(t)?];
    passes.extend(run.small(t, Feed::Records)?);
    passes.extend(run.deletes(t)?);
    passes.extend(run.small(t, Feed::Deletes)?);
    for pass in passes {
        for offset in pass.offsets.iter().flatten() {
            objects.push(("offset".to_owned(), offset.clone()));
        }
    }
    if let Some(reads) = run.main.partitioned_reads()
        && let Ok(partitions) = reads.get_partitions(&t.name, &t.options)
    {
        objects.extend(partitions.into_iter().map(|p| ("partition".to_owned(), p)));
    }
    if let Some(streams) = run.main.partitioned_streams()
        && let Ok(latest) = streams.latest_offset(&t.name, &t.options)
    {
        if let Ok(partitions) = streams.partitions_between(&t.name, None, &latest, &t.options) {
            objects.extend(
                partitions
                    .into_iter()
                    .map(|p| ("stream partition".to_owned(), p)),
            );
        }
        objects.push(("latest offset".to_owned(), latest));
    }
    if objects.is_empty() {
        return Ok(skip("no offsets or partition descriptors"));
    }
    let mut distinct: BTreeMap<String, (String, Offset)> = BTreeMap::new();
    for (kind, object) in objects {
        distinct.insert(canonical_record(&object), (kind, object));
    }
    let mut problems = Vec::new();
    for (kind, object) in distinct.values() {
        let text = Value::Object(object.clone()).to_string();
        match serde_json::from_str::<Offset>(&text) {
            Ok(back) => {
                let back_text = Value::Object(back.clone()).to_string();
                if back != *object || back_text != text {
                    problems.push(format!(
                        "`{}`: {kind} {text} came back from JSON as {back_text}",
                        t.name
                    ));
                }
            }
            Err(error) => problems.push(format!(
                "`{}`: {kind} {text} does not parse back: {error}",
                t.name
            )),
        }
    }
    verdict(&problems, || {
        format!(
            "{} distinct offsets and partition descriptors round-trip",
            distinct.len()
        )
    })
}
