//! Check 14: partitioned reads agree with the plain read; partitioned streams converge.

use std::collections::BTreeMap;

use lakeflow_connect::{
    Error, IngestionType, LakeflowConnect, Offset, Partition, PartitionedRead, PartitionedStream,
    Record, RecordStream, Result,
};
use serde_json::Value;

use crate::context::{Run, TableCtx, Verdict, count, skip, verdict};
use crate::pass::{canonical_record, multiset, short};

/// Rounds of `latest_offset` a stream gets to stop moving.
const STREAM_ROUNDS: usize = 10;

/// Check 14: Where the connector has partitioned reads: two calls give the same partitions, and the
/// records of all partitions equal the plain full read (as sets for cdc tables, which may
/// deliver a row twice, otherwise counting duplicates). Where it has partitioned streams:
/// repeated `latest_offset` calls stop moving within a few rounds, every partition between
/// offsets reads, and equal offsets give no partitions.
pub(super) fn partitions(run: &Run, t: &TableCtx) -> Verdict {
    let reads = run.main.partitioned_reads();
    let streams = run.main.partitioned_streams();
    if reads.is_none() && streams.is_none() {
        return Ok(skip(
            "the connector has neither partitioned reads nor partitioned streams",
        ));
    }
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    if let Some(reads) = reads {
        partitioned_read(run, t, reads, &mut problems, &mut summary)?;
    }
    if let Some(streams) = streams {
        partitioned_stream(run, t, streams, &mut problems, &mut summary);
    }
    verdict(&problems, || summary.join("; "))
}

fn partitioned_read(
    run: &Run,
    t: &TableCtx,
    reads: &dyn PartitionedRead,
    problems: &mut Vec<String>,
    summary: &mut Vec<String>,
) -> Result<(), crate::context::Finding> {
    let first = match reads.get_partitions(&t.name, &t.options) {
        Ok(partitions) => partitions,
        Err(Error::NotSupported { .. }) => {
            summary.push("partitioned reads not supported for this table".to_owned());
            return Ok(());
        }
        Err(error) => {
            problems.push(format!("get_partitions(`{}`) failed: {error}", t.name));
            return Ok(());
        }
    };
    match reads.get_partitions(&t.name, &t.options) {
        Ok(second) if second == first => {}
        Ok(second) => problems.push(format!(
            "get_partitions(`{}`) is not stable: {} then {}",
            t.name,
            list(&first),
            list(&second)
        )),
        Err(error) => problems.push(format!(
            "a second get_partitions(`{}`) failed: {error}",
            t.name
        )),
    }
    let mut records = Vec::new();
    for partition in &first {
        let read = reads.read_partition(&t.name, partition, &t.options);
        match read.and_then(|stream| collect(stream, run.config.limits.max_records)) {
            Ok(mut part) => records.append(&mut part),
            Err(error) => problems.push(format!(
                "read_partition(`{}`, {}) failed: {error}",
                t.name,
                short(&Value::Object(partition.clone()))
            )),
        }
    }
    let full = run.full(t)?;
    let as_set = run.kind(t)? != IngestionType::Append && run.kind(t)? != IngestionType::Snapshot;
    let (want, got) = if as_set {
        (set(full.records()), set(records.iter()))
    } else {
        (multiset(full.records()), multiset(records.iter()))
    };
    for (record, n) in &want {
        if got.get(record).copied().unwrap_or(0) < *n {
            problems.push(format!("`{}`: the partitions miss {record}", t.name));
        }
    }
    for (record, n) in &got {
        if want.get(record).copied().unwrap_or(0) < *n {
            problems.push(format!("`{}`: the partitions add {record}", t.name));
        }
    }
    summary.push(format!(
        "{} read {}, as the plain read",
        count(first.len(), "stable partition"),
        count(records.len(), "record")
    ));
    Ok(())
}

fn partitioned_stream(
    run: &Run,
    t: &TableCtx,
    streams: &dyn PartitionedStream,
    problems: &mut Vec<String>,
    summary: &mut Vec<String>,
) {
    let table = t.name.as_str();
    let latest = |problems: &mut Vec<String>| match streams.latest_offset(table, &t.options) {
        Ok(offset) => Some(offset),
        Err(error) => {
            problems.push(format!("latest_offset(`{table}`) failed: {error}"));
            None
        }
    };
    let mut at = match streams.latest_offset(table, &t.options) {
        Ok(offset) => offset,
        Err(Error::NotSupported { .. }) => {
            summary.push("partitioned streams not supported for this table".to_owned());
            return;
        }
        Err(error) => {
            problems.push(format!("latest_offset(`{table}`) failed: {error}"));
            return;
        }
    };
    let mut start: Option<Offset> = None;
    let mut read = 0;
    let mut converged = false;
    for _ in 0..STREAM_ROUNDS {
        match streams.partitions_between(table, start.as_ref(), &at, &t.options) {
            Ok(parts) => read += read_all(run, t, streams, &parts, problems),
            Err(error) => {
                problems.push(format!("partitions_between(`{table}`) failed: {error}"));
                return;
            }
        }
        let Some(next) = latest(problems) else {
            return;
        };
        start = Some(at.clone());
        if next == at {
            converged = true;
            break;
        }
        at = next;
    }
    if !converged {
        problems.push(format!(
            "latest_offset(`{table}`) still moved after {STREAM_ROUNDS} rounds: {}",
            short(&Value::Object(at.clone()))
        ));
    }
    match streams.partitions_between(table, Some(&at), &at, &t.options) {
        Ok(parts) if parts.is_empty() => {}
        Ok(parts) => problems.push(format!(
            "partitions_between(`{table}`) of equal offsets returned {}",
            list(&parts)
        )),
        Err(error) => problems.push(format!(
            "partitions_between(`{table}`) of equal offsets failed: {error}"
        )),
    }
    summary.push(format!(
        "stream converged at {}, {read} records; equal offsets give no partitions",
        short(&Value::Object(at))
    ));
}

fn read_all(
    run: &Run,
    t: &TableCtx,
    streams: &dyn PartitionedStream,
    parts: &[Partition],
    problems: &mut Vec<String>,
) -> usize {
    let table = t.name.as_str();
    let mut count = 0;
    for partition in parts {
        let read = streams.read_stream_partition(table, partition, &t.options);
        match read.and_then(|s| collect(s, run.config.limits.max_records)) {
            Ok(records) => count += records.len(),
            Err(error) => problems.push(format!(
                "read_stream_partition(`{table}`, {}) failed: {error}",
                short(&Value::Object(partition.clone()))
            )),
        }
    }
    count
}

fn collect(stream: RecordStream<'_>, max: usize) -> Result<Vec<Record>> {
    stream.take(max).collect()
}

fn set<'a>(records: impl Iterator<Item = &'a Record>) -> BTreeMap<String, usize> {
    records.map(|r| (canonical_record(r), 1)).collect()
}

fn list(partitions: &[Partition]) -> String {
    let shown: Vec<String> = partitions
        .iter()
        .take(5)
        .map(|p| short(&Value::Object(p.clone())))
        .collect();
    format!("[{}]", shown.join(", "))
}
