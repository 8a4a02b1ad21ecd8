//! Keyed changes rewrite only the data files that hold a key whose row changes (why memory
//! follows the changes, not the table), and a snapshot replaces every file in one commit.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use arrow_array::Array as _;
use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::compute::cast;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use super::append::Append;
use super::keyed::{ByKey, KeyedChange};
use super::sink::{CommitCounts, Held, Operation, sink};
use super::snapshot::SnapshotReplace;
use super::table::{CLUSTER_BY_PROPERTY, Target};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("seq", DataType::Int64, true),
        Field::new("value", DataType::Utf8, true),
    ]))
}

fn rows(ids: impl IntoIterator<Item = i64>, seq: i64, value: &str) -> RecordBatch {
    let ids: Vec<i64> = ids.into_iter().collect();
    let n = ids.len();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Int64Array::from(vec![seq; n])),
            Arc::new(StringArray::from(vec![value; n])),
        ],
    )
    .unwrap()
}

fn range(ids: Range<i64>, seq: i64, value: &str) -> RecordBatch {
    rows(ids, seq, value)
}

/// The `remove` and `add` paths of one commit of the table at `dir`.
fn files_changed(dir: &Path, version: u64) -> (Vec<String>, Vec<String>) {
    let log = std::fs::read_to_string(dir.join(format!("_delta_log/{version:020}.json"))).unwrap();
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for line in log.lines() {
        let action: Value = serde_json::from_str(line).unwrap();
        if let Some(path) = action["remove"]["path"].as_str() {
            removed.push(path.to_owned());
        }
        if let Some(path) = action["add"]["path"].as_str() {
            added.push(path.to_owned());
        }
    }
    (removed, added)
}

/// `(id, seq, value)` of every row, sorted by id.
async fn contents(target: &Target) -> Vec<(i64, i64, String)> {
    let ctx = SessionContext::new();
    ctx.register_table("t", target.table.table_provider().await.unwrap())
        .unwrap();
    let batches = ctx
        .sql("SELECT id, seq, value FROM t ORDER BY id")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let id = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let seq = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        let value = cast(b.column(2), &DataType::Utf8).unwrap();
        let value = value.as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..b.num_rows() {
            out.push((id.value(i), seq.value(i), value.value(i).to_owned()));
        }
    }
    out
}

async fn table(dir: &Path) -> Target {
    let url = url::Url::from_directory_path(dir).unwrap();
    let mut target = Target::open("t", &url).await.unwrap();
    target.ensure_schema(&schema()).await.unwrap();
    target
}

/// Writes `batches` with `operation` and commits them; the table back, and what the commit did.
async fn commit(
    target: Target,
    operation: impl Operation + 'static,
    batches: &[RecordBatch],
) -> (Target, CommitCounts) {
    let mut sink = sink(target, operation);
    for batch in batches {
        sink.write(batch).await.unwrap();
    }
    let counts = sink.commit(CommitProperties::default()).await.unwrap();
    (sink.into_target(), counts)
}

async fn upsert(target: Target, batch: RecordBatch) -> (Target, CommitCounts) {
    let change = KeyedChange::Upsert { tombstones: None };
    commit(target, Held::new(by_id(change)), &[batch]).await
}

/// Changes by `id`, ordered by `seq`.
fn by_id(change: KeyedChange) -> ByKey {
    let (keys, sequence) = (vec!["id".to_owned()], Some("seq".to_owned()));
    ByKey::new(keys, sequence, change, usize::MAX)
}

fn version(target: &Target) -> u64 {
    target.table.version().unwrap()
}

#[test]
fn an_upsert_rewrites_only_the_files_holding_changed_keys() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let mut target = table(dir.path()).await;
        (target, _) = upsert(target, range(0..1000, 1, "a")).await;
        let first = files_changed(dir.path(), version(&target)).1;
        (target, _) = upsert(target, range(1000..2000, 1, "b")).await;
        let second = files_changed(dir.path(), version(&target)).1;
        (target, _) = upsert(target, range(3000..3010, 1, "c")).await;

        // Ten changed keys, all in the second file: only that file is rewritten.
        let (table, counts) = upsert(target, range(1500..1510, 2, "new")).await;
        target = table;
        assert_eq!((counts.inserted, counts.updated), (0, 10));
        let (removed, added) = files_changed(dir.path(), version(&target));
        assert_eq!(removed, second, "only the file holding ids 1000..2000");
        assert_eq!(added.len(), 1);
        assert_eq!(
            (counts.files_removed, counts.files_added),
            (1, 1),
            "the commit reports the files it changed"
        );

        // An older change of a key wins nothing: no file is touched.
        let (table, counts) = upsert(target, rows([1505], 1, "stale")).await;
        target = table;
        assert_eq!((counts.inserted, counts.updated), (0, 0));
        let (removed, added) = files_changed(dir.path(), version(&target));
        assert!(
            removed.is_empty() && added.is_empty(),
            "{removed:?} {added:?}"
        );

        // One update in the first file and one new key.
        let (table, counts) = upsert(target, rows([5, 5000], 3, "mixed")).await;
        target = table;
        assert_eq!((counts.inserted, counts.updated), (1, 1));
        let (removed, _) = files_changed(dir.path(), version(&target));
        assert_eq!(removed, first);

        let rows = contents(&target).await;
        assert_eq!(rows.len(), 2011);
        let value = |id: i64| rows.iter().find(|r| r.0 == id).unwrap().clone();
        assert_eq!(value(1505), (1505, 2, "new".to_owned()));
        assert_eq!(value(1499), (1499, 1, "b".to_owned()));
        assert_eq!(value(5), (5, 3, "mixed".to_owned()));
        assert_eq!(value(5000), (5000, 3, "mixed".to_owned()));
        assert_eq!(value(3009), (3009, 1, "c".to_owned()));
    });
}

#[test]
fn a_delete_rewrites_only_the_files_holding_deleted_keys() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let tombs = tempfile::tempdir().unwrap();
        let mut target = table(dir.path()).await;
        (target, _) = upsert(target, range(0..100, 1, "a")).await;
        (target, _) = upsert(target, range(100..200, 1, "b")).await;
        let second = files_changed(dir.path(), version(&target)).1;
        let tombstones = Target::open("t", &url::Url::from_directory_path(tombs.path()).unwrap())
            .await
            .unwrap();
        let delete = by_id(KeyedChange::Delete { tombstones });
        let deletes = rows([150, 151, 152], 2, "");
        let (target, counts) = commit(target, Held::new(delete), &[deletes]).await;
        assert_eq!(counts.deleted, 3);
        let (removed, _) = files_changed(dir.path(), version(&target));
        assert_eq!(removed, second);
        let rows = contents(&target).await;
        assert_eq!(rows.len(), 197);
        assert!(rows.iter().all(|r| !(150..153).contains(&r.0)));
    });
}

#[test]
fn a_snapshot_replaces_every_file_in_one_commit_and_counts_by_key() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let mut target = table(dir.path()).await;
        (target, _) = upsert(target, range(0..10, 1, "a")).await;
        (target, _) = upsert(target, range(10..20, 1, "a")).await;
        let before = contents(&target).await.len();
        assert_eq!(before, 20);

        // Keys 0..5 unchanged, 5..10 changed, 10..20 gone, 20..25 new; written in two parts.
        let keys = ["id".to_owned()];
        let replace = SnapshotReplace::new(&target, &keys).await.unwrap();
        let parts = [
            range(0..5, 1, "a"),
            range(5..10, 2, "b"),
            range(20..25, 2, "c"),
        ];
        let (target, counts) = commit(target, replace, &parts).await;
        assert_eq!(
            (counts.inserted, counts.updated, counts.deleted),
            (5, 5, 10)
        );
        let (removed, added) = files_changed(dir.path(), version(&target));
        assert_eq!(removed.len(), 2, "both old files");
        assert_eq!(counts.files_removed, 2);
        assert_eq!(counts.files_added, added.len());
        assert!(!added.is_empty());
        let ids: Vec<i64> = contents(&target).await.iter().map(|r| r.0).collect();
        assert_eq!(ids, (0..10).chain(20..25).collect::<Vec<_>>());
    });
}

#[test]
fn cluster_by_sorts_the_rows_of_each_new_file_and_is_recorded_on_the_table() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = url::Url::from_directory_path(dir.path()).unwrap();
        let mut target = Target::open("t", &url)
            .await
            .unwrap()
            .clustered_by(&["value".to_owned()]);
        target.ensure_schema(&schema()).await.unwrap();
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
                Arc::new(Int64Array::from(vec![1, 1, 1, 1])),
                Arc::new(StringArray::from(vec!["d", "b", "a", "c"])),
            ],
        )
        .unwrap();
        let (target, counts) = commit(target, Append::default(), &[batch]).await;
        assert_eq!((counts.appended, counts.files_added), (4, 1));

        let snapshot = target.table.snapshot().unwrap();
        let property = snapshot
            .metadata()
            .configuration()
            .get(CLUSTER_BY_PROPERTY)
            .cloned();
        assert_eq!(property.as_deref(), Some("value"));

        let (_, added) = files_changed(dir.path(), version(&target));
        assert_eq!(added.len(), 1);
        let file = std::fs::File::open(dir.path().join(&added[0])).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let mut values = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let column = cast(batch.column_by_name("value").unwrap(), &DataType::Utf8).unwrap();
            let column = column.as_any().downcast_ref::<StringArray>().unwrap();
            values.extend((0..column.len()).map(|i| column.value(i).to_owned()));
        }
        assert_eq!(
            values,
            ["a", "b", "c", "d"],
            "rows sorted by the cluster_by column"
        );
    });
}
