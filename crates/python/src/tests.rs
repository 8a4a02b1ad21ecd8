//! Sessions end to end, without Python: the `example` connector for plain reads, streams and
//! deletes, the in-memory `memory` source for partitions and namespaces.

use std::collections::BTreeSet;

use arrow_array::{Array, Int64Array, ListArray, RecordBatch, StringArray};
use arrow_schema::DataType;
use lakeflow_connect::{LakeflowConnect, Offset, TableOptions};

use crate::session::{Job, MICRO_BATCH_READS, Session, offset_text, parse_offset};

fn session(options: &[(&str, &str)]) -> Session {
    Session::new(None, options.iter().copied()).unwrap()
}

fn error(options: &[(&str, &str)]) -> String {
    match Session::new(None, options.iter().copied()) {
        Ok(_) => panic!("expected an error for {options:?}"),
        Err(e) => e.to_string(),
    }
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn ids(batches: &[RecordBatch], column: &str) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let ids = b.column_by_name(column).unwrap();
            ids.as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect()
}

/// Reads `table` straight from the connector until caught up, as `lakeflow read` does.
fn direct_rows(connector: &dyn LakeflowConnect, table: &str, options: &TableOptions) -> usize {
    let mut start: Option<Offset> = None;
    let mut total = 0;
    loop {
        let (records, end) = connector
            .read_table(table, start.as_ref(), options)
            .unwrap()
            .collect()
            .unwrap();
        total += records.len();
        if end.is_none() || end == start {
            return total;
        }
        start = end;
    }
}

#[test]
fn batch_reads_return_every_row_of_every_example_table() {
    for table in ["products", "events", "users", "orders", "metrics"] {
        let mut options = vec![("source", "example"), ("tablename", table)];
        if table != "products" {
            // Small batches, so a batch read takes several connector reads.
            options.push(("max_records_per_batch", "17"));
        }
        let s = session(&options);
        let jobs = s.batch_jobs().unwrap();
        assert!(matches!(jobs[..], [Job::Full]), "{table}: {jobs:?}");
        let batches = s.collect(&jobs[0]).unwrap();
        let options = if table == "products" {
            TableOptions::new()
        } else {
            TableOptions::from([("max_records_per_batch".into(), "17".into())])
        };
        let fresh = lakeflow_example::DESCRIPTOR
            .connect(&lakeflow_connect::ConnectionOptions::new())
            .unwrap();
        assert_eq!(
            rows(&batches),
            direct_rows(fresh.as_ref(), table, &options),
            "{table}"
        );
        for batch in &batches {
            assert_eq!(batch.schema(), s.schema().unwrap(), "{table}");
        }
    }
}

#[test]
fn product_lists_are_spelled_as_spark_spells_them() {
    let s = session(&[("source", "example"), ("tableName", "products")]);
    let schema = s.schema().unwrap();
    let DataType::List(item) = schema.field_with_name("tags").unwrap().data_type() else {
        panic!("tags is a list");
    };
    assert_eq!(item.name(), "element");
    let batches = s.collect(&Job::Full).unwrap();
    assert_eq!(rows(&batches), 50);
    let tags = batches[0]
        .column_by_name("tags")
        .unwrap()
        .as_any()
        .downcast_ref::<ListArray>()
        .unwrap();
    assert!(tags.value_length(0) > 0);
}

#[test]
fn simple_stream_reads_advance_until_caught_up() {
    let s = session(&[
        ("source", "example"),
        ("tableName", "users"),
        ("max_records_per_batch", "15"),
    ]);
    let (mut start, mut seen, mut reads) = (None::<Offset>, Vec::new(), 0);
    loop {
        let (batches, end) = s.stream_read(start.as_ref()).unwrap();
        reads += 1;
        assert!(rows(&batches) <= 15);
        seen.extend(ids(&batches, "user_id"));
        // Offsets cross Python as JSON text and come back unchanged.
        let text = offset_text(Some(&end));
        assert_eq!(parse_offset("users", &text).unwrap().as_ref(), Some(&end));
        if Some(&end) == start.as_ref() {
            assert!(batches.is_empty());
            break;
        }
        start = Some(end);
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!((seen.len(), unique.len()), (40, 40));
    assert!(reads >= 4, "{reads} reads");
}

#[test]
fn reading_between_offsets_repeats_the_batches_exactly() {
    let s = session(&[
        ("source", "example"),
        ("tableName", "events"),
        ("max_records_per_batch", "20"),
        ("limit", "10"),
    ]);
    let (first, mid) = s.stream_read(None).unwrap();
    let (second, end) = s.stream_read(Some(&mid)).unwrap();
    // Reproducible offsets: the replay ends at `end` within the reads the batches took.
    let again = s.stream_read_between(None, &end, 2).unwrap();
    assert_eq!(rows(&again), rows(&first) + rows(&second));
    let again_mid = s
        .stream_read_between(Some(&mid), &end, MICRO_BATCH_READS)
        .unwrap();
    assert_eq!(rows(&again_mid), rows(&second));
    // A read that ends at `end` is the last, whatever the bound.
    let bounded = s.stream_read_between(Some(&mid), &end, 100).unwrap();
    assert_eq!(rows(&bounded), rows(&second));
}

#[test]
fn replaying_a_micro_batch_with_drifting_offsets_delivers_no_row_twice() {
    // `drift` stamps every offset with the connector's construction, as a connector whose
    // offsets depend on when it was built does: a replay after a restart never ends at `end`.
    let options = [
        ("source", "memory"),
        ("tableName", "notes"),
        ("rows", "450"),
        ("drift", "true"),
    ];
    // Before the restart: Spark plans micro-batches 1 and 2 (one read each); the query dies
    // after committing batch 1, so batch 2's records are lost and replayed.
    let before = session(&options);
    let (first, one) = before.stream_read(None).unwrap();
    let (lost, two) = before.stream_read(Some(&one)).unwrap();
    assert_eq!(rows(&lost), 100);

    let after = session(&options);
    let (_, moved) = after.stream_read(Some(&one)).unwrap();
    assert_ne!(moved, two, "the offsets must differ between constructions");
    let replay = after
        .stream_read_between(Some(&one), &two, MICRO_BATCH_READS)
        .unwrap();
    assert_eq!(ids(&replay, "id"), ids(&lost, "id"));

    // Then the micro-batches planned from batch 2's end, until caught up.
    let mut seen = ids(&first, "id");
    seen.extend(ids(&replay, "id"));
    let mut start = two;
    loop {
        let (batches, end) = after.stream_read(Some(&start)).unwrap();
        seen.extend(ids(&batches, "id"));
        if end == start {
            break;
        }
        start = end;
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!((seen.len(), unique.len()), (450, 450), "{seen:?}");
}

#[test]
fn the_delete_flow_streams_tombstones_with_nullable_columns() {
    let s = session(&[
        ("source", "example"),
        ("tableName", "orders"),
        ("isDeleteFlow", "true"),
    ]);
    let schema = s.schema().unwrap();
    assert!(schema.fields().iter().all(|f| f.is_nullable()));
    let (batches, end) = s.stream_read(None).unwrap();
    assert_eq!(rows(&batches), 6);
    let (more, again) = s.stream_read(Some(&end)).unwrap();
    assert_eq!((rows(&more), again), (0, end));
    assert!(!s.supports_partitioned_stream().unwrap());
}

#[test]
fn snapshots_cannot_be_streamed() {
    let s = session(&[("source", "example"), ("tableName", "products")]);
    let err = s.stream_read(None).unwrap_err().to_string();
    assert!(
        err.contains("table `products`") && err.contains("spark.read"),
        "{err}"
    );
}

#[test]
fn partitioned_reads_give_one_job_per_connector_partition() {
    let s = session(&[
        ("source", "memory"),
        ("tableName", "items"),
        ("partition_rows", "300"),
    ]);
    let jobs = s.batch_jobs().unwrap();
    assert_eq!(jobs.len(), 4);
    let mut all = Vec::new();
    for job in &jobs {
        let Job::Partition(_) = job else {
            panic!("{job:?}")
        };
        // Each partition is read on a thread of its own, as Spark executors do.
        let batches: Vec<RecordBatch> = std::sync::Arc::new(session(&[
            ("source", "memory"),
            ("tableName", "items"),
            ("partition_rows", "300"),
        ]))
        .spawn(job.clone())
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
        all.extend(ids(&batches, "id"));
    }
    all.sort_unstable();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
    // A table the connector does not partition falls back to one plain read.
    let notes = session(&[("source", "memory"), ("tableName", "notes")]);
    let jobs = notes.batch_jobs().unwrap();
    assert!(matches!(jobs[..], [Job::Full]));
    assert_eq!(rows(&notes.collect(&jobs[0]).unwrap()), 1000);
}

#[test]
fn partitioned_streams_cover_the_offsets_between() {
    let s = session(&[
        ("source", "memory"),
        ("rows", "500"),
        ("tableName", "items"),
        ("partition_rows", "200"),
    ]);
    assert!(s.supports_partitioned_stream().unwrap());
    let latest = s.latest_offset().unwrap();
    assert_eq!(offset_text(Some(&latest)), r#"{"index":500}"#);
    let mut middle = Offset::new();
    middle.insert("index".into(), 100.into());
    let jobs = s.stream_partitions(Some(&middle), &latest).unwrap();
    assert_eq!(jobs.len(), 2);
    let mut seen = Vec::new();
    for job in &jobs {
        seen.extend(ids(&s.collect(job).unwrap(), "id"));
    }
    assert_eq!(seen, (100..500).collect::<Vec<_>>());
    assert!(
        s.stream_partitions(Some(&latest), &latest)
            .unwrap()
            .is_empty()
    );
    let notes = session(&[("source", "memory"), ("tableName", "notes")]);
    assert!(!notes.supports_partitioned_stream().unwrap());
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch
        .column_by_name(column)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    array.iter().map(|s| s.map(str::to_owned)).collect()
}

fn string_lists(batch: &RecordBatch, column: &str) -> Vec<Option<Vec<String>>> {
    let array = batch
        .column_by_name(column)
        .unwrap()
        .as_any()
        .downcast_ref::<ListArray>()
        .unwrap();
    (0..array.len())
        .map(|i| {
            array.is_valid(i).then(|| {
                let values = array.value(i);
                let values = values.as_any().downcast_ref::<StringArray>().unwrap();
                values.iter().map(|s| s.unwrap().to_owned()).collect()
            })
        })
        .collect()
}

#[test]
fn the_metadata_table_keeps_the_callers_order() {
    let s = session(&[
        ("source", "example"),
        ("tableName", "_community_table_metadata"),
        ("tableNameList", r#"["orders", "events", "products"]"#),
        ("tableConfigs", r#"{"orders": {"status": "paid"}}"#),
    ]);
    let batches = s.collect(&Job::Full).unwrap();
    let b = &batches[0];
    assert_eq!(b.schema(), s.schema().unwrap());
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        strings(b, "tableName"),
        [some("orders"), some("events"), some("products")]
    );
    assert_eq!(
        string_lists(b, "primary_keys"),
        [
            Some(vec!["order_id".to_owned()]),
            None,
            Some(vec!["product_id".to_owned()])
        ]
    );
    assert_eq!(
        strings(b, "cursor_field"),
        [some("updated_at"), some("created_at"), None]
    );
    assert_eq!(
        strings(b, "ingestion_type"),
        [some("cdc_with_deletes"), some("append"), some("snapshot")]
    );
    let bad = session(&[
        ("source", "example"),
        ("tableName", "_community_table_metadata"),
        ("tableNameList", r#"["orders"]"#),
        ("tableConfigs", r#"{"orders": {"colour": "red"}}"#),
    ]);
    let err = bad.collect(&Job::Full).unwrap_err().to_string();
    assert!(
        err.starts_with("unknown option `colour` for table `orders`"),
        "{err}"
    );
}

#[test]
fn tables_and_namespaces_follow_the_original_rules() {
    let flat = session(&[("source", "example"), ("tableName", "_community_tables")]);
    let b = &flat.collect(&Job::Full).unwrap()[0];
    let names: Vec<_> = strings(b, "tableName").into_iter().flatten().collect();
    assert_eq!(names, ["events", "orders", "products", "users"]);
    assert!(
        string_lists(b, "namespace")
            .iter()
            .all(|n| n.as_deref() == Some(&[][..]))
    );
    let flat_ns = session(&[
        ("source", "example"),
        ("tableName", "_community_namespaces"),
    ]);
    assert_eq!(flat_ns.collect(&Job::Full).unwrap()[0].num_rows(), 0);
    let err = session(&[
        ("source", "example"),
        ("tableName", "_community_tables"),
        ("namespace", "[]"),
    ])
    .collect(&Job::Full)
    .unwrap_err()
    .to_string();
    assert!(err.contains("source `example` has no namespaces"), "{err}");

    let nested = session(&[("source", "memory"), ("tableName", "_community_tables")]);
    let err = nested.collect(&Job::Full).unwrap_err().to_string();
    assert!(
        err.contains("option `namespace`") && err.contains("has namespaces"),
        "{err}"
    );
    let in_ns = session(&[
        ("source", "memory"),
        ("tableName", "_community_tables"),
        ("namespace", r#"["shop", "eu"]"#),
    ]);
    let b = &in_ns.collect(&Job::Full).unwrap()[0];
    assert_eq!(strings(b, "tableName"), [Some("items".to_owned())]);
    assert_eq!(
        string_lists(b, "namespace"),
        [Some(vec!["shop".to_owned(), "eu".to_owned()])]
    );
    let root = session(&[("source", "memory"), ("tableName", "_community_namespaces")]);
    let b = &root.collect(&Job::Full).unwrap()[0];
    assert_eq!(
        string_lists(b, "namespace"),
        [
            Some(vec!["shop".to_owned()]),
            Some(vec!["warehouse".to_owned()])
        ]
    );
    let under = session(&[
        ("source", "memory"),
        ("tableName", "_community_namespaces"),
        ("namespacePrefix", r#"["shop"]"#),
    ]);
    let b = &under.collect(&Job::Full).unwrap()[0];
    assert_eq!(
        string_lists(b, "namespace"),
        [
            Some(vec!["shop".to_owned(), "eu".to_owned()]),
            Some(vec!["shop".to_owned(), "us".to_owned()])
        ]
    );
}

#[test]
fn bad_reads_are_rejected_when_the_source_is_built() {
    let err = error(&[("source", "example"), ("tableName", "_community_tabels")]);
    assert!(
        err.starts_with(
            "unknown table `_community_tabels`; available tables: _community_table_metadata"
        ),
        "{err}"
    );
    let err = error(&[
        ("source", "example"),
        ("tableName", "_community_tables"),
        ("limit", "5"),
    ]);
    assert!(
        err.contains("`limit`") && err.contains("virtual table"),
        "{err}"
    );
    let err = error(&[
        ("source", "example"),
        ("tableName", "products"),
        ("limit", "5"),
    ]);
    assert!(
        err.starts_with("unknown option `limit` for table `products`"),
        "{err}"
    );
    let err = error(&[("source", "example")]);
    assert_eq!(err, "missing required option `tableName`");
    let err = error(&[
        ("source", "example"),
        ("tableName", "orders"),
        ("seed", "x"),
    ]);
    assert!(err.contains("`seed`"), "{err}");
    let s = session(&[("source", "example"), ("tableName", "nope")]);
    let err = s.schema().unwrap_err().to_string();
    assert!(err.starts_with("unknown table `nope`"), "{err}");
    let err = parse_offset("t", "[1]").unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid offset for table `t`: expected a JSON object, got [1]"
    );
}
