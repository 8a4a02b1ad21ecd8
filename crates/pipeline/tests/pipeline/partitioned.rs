//! Append flows reading a connector's partitioned stream several partitions at a time.

use std::sync::atomic::Ordering;

use lakeflow_connect::IngestionType;
use lakeflow_pipeline::{RunOptions, Warehouse};
use serde_json::json;

use super::common::{count, runtime};
use super::scripted::{Script, ScriptedConnector, query_rows, record, run_scripted};

const SPEC: &str = "
connection_name: scripted
objects:
  - table:
      source_table: events
";

fn events(ids: std::ops::Range<i64>) -> Vec<lakeflow_connect::Record> {
    ids.map(|id| record(json!({"id": id, "seq": id, "value": format!("v{id}")})))
        .collect()
}

fn connector(ids: std::ops::Range<i64>, kind: IngestionType) -> ScriptedConnector {
    let mut script = Script::new(kind);
    script.upserts = events(ids);
    ScriptedConnector {
        stream_partitions: Some(4),
        ..ScriptedConnector::default()
    }
    .with("events", script)
}

fn partitioned(read_partitions: usize) -> RunOptions {
    RunOptions {
        read_partitions,
        ..RunOptions::default()
    }
}

#[test]
fn an_append_flow_reads_partitions_in_parallel_exactly_once_and_continues_from_their_offset() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let source = connector(0..10_000, IngestionType::Append);

    let first = run_scripted(&rt, SPEC, &source, &warehouse, &partitioned(3));
    assert!(!first[0].failed(), "{first:?}");
    assert_eq!(source.partitions_read.load(Ordering::SeqCst), 4);
    assert_eq!((first[0].counts.appended, first[0].commits), (10_000, 1));
    let distinct = query_rows(
        &rt,
        &warehouse,
        "SELECT COUNT(DISTINCT id) AS ids, MIN(id) AS low, MAX(id) AS high FROM events",
    );
    assert_eq!(distinct, [json!({"ids": 10_000, "low": 0, "high": 9_999})]);

    // Nothing new: no partition read, no commit.
    let second = run_scripted(&rt, SPEC, &source, &warehouse, &partitioned(3));
    assert_eq!((second[0].commits, second[0].counts.appended), (0, 0));
    assert_eq!(source.partitions_read.load(Ordering::SeqCst), 4);

    // New records: only they are read, in partitions again.
    let grown = connector(0..12_000, IngestionType::Append);
    let third = run_scripted(&rt, SPEC, &grown, &warehouse, &partitioned(2));
    assert_eq!(third[0].counts.appended, 2_000, "{third:?}");
    assert_eq!(grown.partitions_read.load(Ordering::SeqCst), 4);

    // Plain reads continue from the offset the partitions reached.
    let plain = connector(0..12_500, IngestionType::Append);
    let fourth = run_scripted(&rt, SPEC, &plain, &warehouse, &partitioned(1));
    assert_eq!(fourth[0].counts.appended, 500);
    assert_eq!(plain.partitions_read.load(Ordering::SeqCst), 0);
    let distinct = query_rows(
        &rt,
        &warehouse,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM events",
    );
    assert_eq!(distinct, [json!({"n": 12_500, "ids": 12_500})]);
}

#[test]
fn a_failing_partition_fails_the_table_and_commits_nothing() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let good = connector(0..1_000, IngestionType::Append);
    assert!(!run_scripted(&rt, SPEC, &good, &warehouse, &partitioned(4))[0].failed());

    let mut failing = connector(0..2_000, IngestionType::Append);
    failing.failing_partition = Some(1_500);
    let summary = run_scripted(&rt, SPEC, &failing, &warehouse, &partitioned(4));
    let error = summary[0].error.clone().expect("the table failed");
    assert!(
        error.contains("events") && error.contains("partition 1500..1750 failed"),
        "{error}"
    );
    assert_eq!(count(&rt, &warehouse, "events"), 1_000, "nothing committed");

    // The next run reads the whole range again and lands each record once.
    let fixed = connector(0..2_000, IngestionType::Append);
    let rerun = run_scripted(&rt, SPEC, &fixed, &warehouse, &partitioned(4));
    assert_eq!(rerun[0].counts.appended, 1_000, "{rerun:?}");
    let rows = query_rows(
        &rt,
        &warehouse,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM events",
    );
    assert_eq!(rows, [json!({"n": 2_000, "ids": 2_000})]);
}

#[test]
fn flows_that_hold_their_commit_read_with_plain_reads() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let source = connector(0..3_000, IngestionType::Cdc);
    let summary = run_scripted(&rt, SPEC, &source, &warehouse, &partitioned(4));
    assert!(!summary[0].failed(), "{summary:?}");
    assert_eq!(summary[0].counts.inserted, 3_000);
    assert_eq!(source.partitions_read.load(Ordering::SeqCst), 0);
}
