//! Checks 5, 6, 10 and 11: what reads return — the first read, column coverage over a full
//! read, reads from a cursor past now, and the stability of snapshots.

use std::collections::BTreeSet;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use lakeflow_connect::{IngestionType, Offset, Record};
use serde_json::Value;

use crate::context::{Finding, Run, TableCtx, Verdict, blocked, fail, pass, skip, verdict};
use crate::cursor::far_future;
use crate::pass::{End, Feed, key_of, read_once, read_pass, short};
use crate::report::Check;

/// Check 5: The first read (no offset) converts against the schema (the converter also rejects a
/// missing non-nullable field at any depth), has no record whose columns are all null and no
/// null primary key; an incremental table returns records (unless declared possibly empty) and
/// an end offset with them.
pub(super) fn first_read(run: &Run, t: &TableCtx) -> Verdict {
    let kind = run.kind(t)?;
    let natural = run.natural(t)?;
    let Some(records) = natural.batches.first() else {
        return Err(fail(natural.problem(&t.name, Feed::Records)));
    };
    let end = natural.offsets.get(1).cloned().flatten();
    let converter = run.converter(t)?;
    let batch = converter
        .convert(records)
        .map_err(|e| fail(format!("the first read does not fit the schema: {e}")))?;
    // Keys that are not fields of the schema are check 4's failure, not null keys.
    let (keys, keys_note): (&[String], &str) = match run.valid_metadata(t) {
        Ok(meta) => (&meta.primary_keys, "keys non-null"),
        Err(_) => (&[], "keys not checked (see `metadata`)"),
    };
    let mut problems = Vec::new();
    if batch.num_columns() > 0 {
        for (row, record) in records.iter().enumerate() {
            let shown = || short(&Value::Object(record.clone()));
            if batch.columns().iter().all(|c| c.is_null(row)) {
                problems.push(format!(
                    "`{}`: record {row} has every column null: {}",
                    t.name,
                    shown()
                ));
            }
            for key in keys {
                if null_at_path(&batch, key, row) {
                    problems.push(format!(
                        "`{}`: record {row}: primary key `{key}` is null: {}",
                        t.name,
                        shown()
                    ));
                }
            }
        }
    }
    if kind.is_incremental() {
        if records.is_empty() && !run.config.may_be_empty.contains(&t.name) {
            problems.push(
                "the first read of an incremental table returned no records (if the source may \
                 have none, declare it with `may_be_empty`)"
                    .to_owned(),
            );
        }
        if !records.is_empty() && end.is_none() {
            problems.push("the first read returned records but no end offset".to_owned());
        }
    }
    verdict(&problems, || {
        let end = end.map_or_else(|| "none".to_owned(), |o| short(&Value::Object(o)));
        format!(
            "{} records convert against the schema; {keys_note}; end offset {end}",
            records.len()
        )
    })
}

/// Whether the value at a dot-separated path of `row` is null (a null parent struct counts).
fn null_at_path(batch: &RecordBatch, path: &str, row: usize) -> bool {
    let mut parts = path.split('.');
    let Some(mut column): Option<ArrayRef> = parts
        .next()
        .and_then(|name| batch.column_by_name(name).cloned())
    else {
        return true;
    };
    for part in parts {
        if column.is_null(row) {
            return true;
        }
        let Some(child) = column
            .as_struct_opt()
            .and_then(|s| s.column_by_name(part).cloned())
        else {
            return true;
        };
        column = child;
    }
    column.is_null(row)
}

/// Check 6: Over a full read, every top-level column is non-null in at least one record, except the
/// columns allowed to be null everywhere.
pub(super) fn column_coverage(run: &Run, t: &TableCtx) -> Verdict {
    let full = run.full(t)?;
    let converter = run.converter(t)?;
    let total = full.record_count();
    if total == 0 {
        return Ok(skip("the full read returned no records"));
    }
    let schema = converter.schema();
    let mut seen = vec![false; schema.fields().len()];
    for (index, records) in full.batches.iter().enumerate() {
        let batch = match converter.convert(records) {
            Ok(batch) => batch,
            Err(_) if index == 0 => return Err(blocked("records that convert", Check::FirstRead)),
            Err(e) => {
                return Err(fail(format!(
                    "read {} does not fit the schema: {e}",
                    index + 1
                )));
            }
        };
        for (column, seen) in batch.columns().iter().zip(&mut seen) {
            *seen |= column.null_count() < column.len();
        }
    }
    // A column only deleted records fill (a `deleted_at`) is still filled by the connector.
    let deleted: Vec<&Record> = match run.deletes(t) {
        Ok(Some(pass)) if pass.converged() => pass.records().collect(),
        _ => Vec::new(),
    };
    let in_deletes = |name: &str| {
        deleted
            .iter()
            .any(|r| r.get(name).is_some_and(|v| !v.is_null()))
    };
    let allowed = run.config.allow_all_null.get(&t.name);
    let mut from_deletes = Vec::new();
    let mut never = Vec::new();
    for (field, seen) in schema.fields().iter().zip(&seen) {
        let name = field.name().as_str();
        if *seen || allowed.is_some_and(|a| a.contains(name)) {
            continue;
        }
        if in_deletes(name) {
            from_deletes.push(name);
        } else {
            never.push(name);
        }
    }
    if !never.is_empty() {
        return Err(fail(format!(
            "null in every one of {total} records: {} (allow with `allow_all_null` if the source \
             never fills them)",
            never.join(", ")
        )));
    }
    let allowed: Vec<&str> = allowed.into_iter().flatten().map(String::as_str).collect();
    Ok(pass(format!(
        "every column non-null in some of {total} records (filled only in deleted records: [{}]; \
         allowed all-null: [{}])",
        from_deletes.join(", "),
        allowed.join(", ")
    )))
}

/// Check 10: A read from an offset whose cursor is after now returns no records and the same offset,
/// for records and deletes.
pub(super) fn far_future_offset(run: &Run, t: &TableCtx) -> Verdict {
    let kind = run.kind(t)?;
    if !kind.is_incremental() {
        return Ok(skip("snapshot table: no cursor"));
    }
    let mut feeds = vec![(Feed::Records, run.natural(t)?)];
    if let Some(deletes) = run.deletes(t)? {
        feeds.push((Feed::Deletes, deletes));
    }
    let mut problems = Vec::new();
    let mut used = Vec::new();
    // Feeds that could not be checked, and why: they turn the check into a skip only when the
    // feeds that were checked found nothing wrong.
    let mut unchecked: Vec<Finding> = Vec::new();
    for (feed, pass) in feeds {
        let given = (feed == Feed::Records)
            .then(|| run.config.far_future.get(&t.name))
            .flatten();
        let offset: Offset = match (given, pass.last_offset()) {
            (Some(given), _) => given.clone(),
            (None, Some(real)) => match far_future(real) {
                Some(moved) => moved,
                None => {
                    unchecked.push(skip(format!(
                        "no timestamp-like value in the {} offset {}; give one with \
                         `far_future_offset`",
                        feed.method(),
                        short(&Value::Object(real.clone()))
                    )));
                    continue;
                }
            },
            (None, None) => {
                unchecked.push(blocked(
                    &format!("an offset of {} to start from", feed.method()),
                    Check::Termination,
                ));
                continue;
            }
        };
        let text = short(&Value::Object(offset.clone()));
        let table = &t.name;
        match read_once(&run.main, table, feed, Some(&offset), &t.options, 1_000) {
            Err(error) => problems.push(format!(
                "`{table}`: {} from {text} failed: {error}",
                feed.method()
            )),
            Ok((records, end)) => {
                if let Some(first) = records.first() {
                    problems.push(format!(
                        "`{table}`: {} from {text} returned {} records, e.g. {}",
                        feed.method(),
                        records.len(),
                        short(&Value::Object(first.clone()))
                    ));
                }
                if end.as_ref() != Some(&offset) {
                    let end = end.map_or_else(|| "none".to_owned(), |o| short(&Value::Object(o)));
                    problems.push(format!(
                        "`{table}`: {} from {text} returned the offset {end} instead of the same",
                        feed.method()
                    ));
                }
            }
        }
        used.push(format!("{} from {text}", feed.method()));
    }
    if problems.is_empty()
        && let Some(first) = unchecked.first()
    {
        let mut evidence: Vec<String> = unchecked.iter().map(|f| f.evidence.clone()).collect();
        if !used.is_empty() {
            evidence.push(format!("{}: no records, same offset", used.join("; ")));
        }
        return Err(Finding {
            outcome: first.outcome,
            evidence: evidence.join("; "),
        });
    }
    verdict(&problems, || {
        format!("{}: no records, same offset", used.join("; "))
    })
}

/// Check 11: Two full reads of a snapshot table hold the same primary keys.
pub(super) fn snapshot_stable(run: &Run, t: &TableCtx) -> Verdict {
    let kind = run.kind(t)?;
    if kind != IngestionType::Snapshot {
        return Ok(skip(format!("not a snapshot table ({kind})")));
    }
    // Keys missing from the schema would compare as nulls and always agree.
    let meta = run.valid_metadata(t)?;
    let first = run.full(t)?;
    let second = read_pass(
        &run.main,
        &run.transcript,
        &t.name,
        Feed::Records,
        None,
        &t.options,
        true,
        &run.config.limits,
    );
    if second.end != End::Converged {
        return Err(fail(format!(
            "second full read: {}",
            second.problem(&t.name, Feed::Records)
        )));
    }
    let keys = |pass: &crate::pass::Pass| -> BTreeSet<String> {
        pass.records()
            .map(|r| key_of(r, &meta.primary_keys))
            .collect()
    };
    let (a, b) = (keys(first), keys(&second));
    let mut problems = Vec::new();
    for key in a.difference(&b).take(5) {
        problems.push(format!(
            "`{}`: key {key} is in the first full read only",
            t.name
        ));
    }
    for key in b.difference(&a).take(5) {
        problems.push(format!(
            "`{}`: key {key} is in the second full read only",
            t.name
        ));
    }
    verdict(&problems, || {
        format!(
            "{} keys [{}], equal in two full reads",
            a.len(),
            meta.primary_keys.join(", ")
        )
    })
}
