//! Pipeline state that cannot lie, and full refreshes that cannot break a table: an offset log
//! or a Delta log altered by hand is refused (naming the file) instead of re-reading the source
//! from the start; a full refresh is one commit, survives a damaged log, and resets the state
//! tables with the rows; a first run the source rejects leaves no table behind.

use std::path::{Path, PathBuf};

use lakeflow_connect::IngestionType;
use lakeflow_pipeline::deltalake::{self, DeltaTable};
use lakeflow_pipeline::{FullRefresh, GENERATION_PROPERTY, RunOptions, TableSummary, Warehouse};
use serde_json::{Value, json};

use super::common::{count, runtime};
use super::scripted::{Script, ScriptedConnector, query_rows, record, run_scripted};

const APPEND: &str = "
connection_name: scripted
objects:
  - table:
      source_table: items
      table_configuration: {max_records_per_batch: 3}
";

fn items(n: i64, kind: IngestionType) -> ScriptedConnector {
    let mut script = Script::new(kind);
    script.upserts = (1..=n)
        .map(|id| record(json!({"id": id, "seq": id, "value": format!("v{id}")})))
        .collect();
    ScriptedConnector::default().with("items", script)
}

/// One commit per read, so the table has several batches.
fn per_read() -> RunOptions {
    RunOptions {
        commit_rows: 1,
        ..RunOptions::default()
    }
}

fn refresh() -> RunOptions {
    RunOptions {
        full_refresh: FullRefresh::All,
        ..per_read()
    }
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    warehouse: Warehouse,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
        Self {
            rt: runtime(),
            dir,
            warehouse,
        }
    }

    fn run(&self, spec: &str, connector: &ScriptedConnector, options: &RunOptions) -> TableSummary {
        let mut summaries = run_scripted(&self.rt, spec, connector, &self.warehouse, options);
        summaries.remove(0)
    }

    fn table(&self) -> PathBuf {
        self.dir.path().join("items")
    }

    fn count(&self) -> usize {
        count(&self.rt, &self.warehouse, "items")
    }

    /// The newest offset log of a flow and its batch number.
    fn newest_log(&self, flow: &str) -> (PathBuf, i64) {
        let dir = self.table().join("_lakeflow").join(flow).join("offsets");
        let newest = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .max()
            .unwrap();
        let batch = newest
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        (newest, batch)
    }

    fn newest_commit(&self) -> PathBuf {
        std::fs::read_dir(self.table().join("_delta_log"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .max()
            .unwrap()
    }

    /// The table as of `version` (the latest with `None`).
    fn open_version(&self, version: Option<u64>) -> DeltaTable {
        self.rt.block_on(async {
            let url = url::Url::from_directory_path(self.table()).unwrap();
            let mut table = deltalake::DeltaTableBuilder::from_url(url)
                .unwrap()
                .build()
                .unwrap();
            match version {
                Some(version) => table.load_version(version).await.unwrap(),
                None => table.load().await.unwrap(),
            }
            table
        })
    }

    /// The data files of the table as of `version`.
    fn files_at(&self, version: Option<u64>) -> Vec<String> {
        self.open_version(version)
            .get_file_uris()
            .unwrap()
            .collect()
    }
}

fn assert_refused(summary: &TableSummary, naming: &str) {
    let error = summary.error.as_deref().unwrap_or_default();
    assert!(summary.failed(), "expected a refusal: {summary:?}");
    assert!(error.contains(naming), "the error names {naming}: {error}");
    assert!(error.contains("--full-refresh"), "says what to do: {error}");
}

#[test]
fn offset_logs_without_a_usable_end_are_refused_naming_the_file() {
    let tampered = [
        "{}".to_owned(),
        "null".to_owned(),
        "[]".to_owned(),
        "not json".to_owned(),
    ];
    for content in tampered
        .iter()
        .map(String::as_str)
        .chain(["batch-only", "older-end"])
    {
        let f = Fixture::new();
        assert!(
            !f.run(APPEND, &items(10, IngestionType::Append), &per_read())
                .failed()
        );
        let (log, batch) = f.newest_log("append");
        let text = match content {
            "batch-only" => json!({ "batch": batch }).to_string(),
            // A valid log of the batch, with the end of an earlier one.
            "older-end" => json!({"batch": batch, "start": null, "end": {"pos": 3}}).to_string(),
            other => other.to_owned(),
        };
        std::fs::write(&log, text).unwrap();
        let more = items(15, IngestionType::Append);
        let summary = f.run(APPEND, &more, &per_read());
        assert_refused(&summary, log.to_str().unwrap());
        assert_eq!(
            f.count(),
            10,
            "{content}: nothing read again, nothing added"
        );
    }
}

#[test]
fn a_transaction_removed_from_the_last_commit_is_refused() {
    let f = Fixture::new();
    assert!(
        !f.run(APPEND, &items(10, IngestionType::Append), &per_read())
            .failed()
    );
    let commit = f.newest_commit();
    let kept: Vec<String> = std::fs::read_to_string(&commit)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with(r#"{"txn""#))
        .map(str::to_owned)
        .collect();
    std::fs::write(&commit, kept.join("\n") + "\n").unwrap();
    let summary = f.run(APPEND, &items(15, IngestionType::Append), &per_read());
    assert_refused(&summary, "the log was altered");
    assert_eq!(f.count(), 10);
}

#[test]
fn an_offset_log_lost_after_its_commit_is_written_again_from_the_commit() {
    let f = Fixture::new();
    assert!(
        !f.run(APPEND, &items(10, IngestionType::Append), &per_read())
            .failed()
    );
    let (log, _) = f.newest_log("append");
    std::fs::remove_file(&log).unwrap();
    let summary = f.run(APPEND, &items(15, IngestionType::Append), &per_read());
    assert!(!summary.failed(), "{summary:?}");
    assert_eq!(
        f.count(),
        15,
        "resumed where the commit says, no duplicates"
    );
    assert!(log.exists(), "the lost log was written again");
}

const WITH_DELETES: &str = "
connection_name: scripted
objects:
  - table:
      source_table: items
      table_configuration: {max_records_per_batch: 2}
";

#[test]
fn a_full_refresh_is_one_commit_that_resets_rows_and_state_tables() {
    let f = Fixture::new();
    let mut first = items(4, IngestionType::CdcWithDeletes);
    first.tables.get_mut("items").unwrap().deletes = vec![record(json!({"id": 3, "seq": 9}))];
    assert!(!f.run(WITH_DELETES, &first, &per_read()).failed());
    let ids = "SELECT id FROM items ORDER BY id";
    assert_eq!(
        query_rows(&f.rt, &f.warehouse, ids),
        [json!({"id": 1}), json!({"id": 2}), json!({"id": 4})]
    );
    let before = f.open_version(None).version().unwrap();
    let old_files = f.files_at(Some(before));
    assert!(!old_files.is_empty());

    // The source was rebuilt: key 3 is back with an older sequence and no delete. Without a
    // fresh tombstone table, the old delete would still hide it.
    let rebuilt = items(5, IngestionType::CdcWithDeletes);
    let summary = f.run(WITH_DELETES, &rebuilt, &refresh());
    assert!(!summary.failed(), "{summary:?}");
    assert_eq!(f.count(), 5);

    // The version before the refresh is intact (readers of it are unaffected), the next one
    // is the refresh itself: no rows, a new generation.
    assert_eq!(f.files_at(Some(before)), old_files);
    for file in &old_files {
        let path = url::Url::parse(file)
            .map_or_else(|_| PathBuf::from(file), |u| u.to_file_path().unwrap());
        assert!(
            path.exists(),
            "{file} is still there for readers of the old version"
        );
    }
    let reset = f.open_version(Some(before + 1));
    assert_eq!(
        reset.get_file_uris().unwrap().count(),
        0,
        "the refresh removes every file"
    );
    let generation = reset
        .snapshot()
        .unwrap()
        .metadata()
        .configuration()
        .get(GENERATION_PROPERTY)
        .cloned();
    assert_eq!(generation.as_deref(), Some("1"));
    assert_eq!(
        files_under(&f.table().join("_lakeflow/tombstones")),
        0,
        "old state removed"
    );
    assert!(f.table().join("_lakeflow/g1").exists());

    // `status` shows the flows' offsets since the refresh: the deletes flow has none yet.
    let spec = lakeflow_spec::PipelineSpec::parse(WITH_DELETES, "t.yaml").unwrap();
    let plans =
        lakeflow_pipeline::plan(&spec, &rebuilt, &super::scripted::DESCRIPTOR, &f.warehouse)
            .unwrap();
    let status =
        f.rt.block_on(lakeflow_pipeline::table_status(&plans[0], false))
            .unwrap();
    let deletes = status
        .offsets
        .iter()
        .find(|(flow, _)| flow.ends_with("/deletes"));
    assert_eq!(
        deletes.map(|(_, o)| o),
        Some(&Value::Null),
        "{:?}",
        status.offsets
    );

    // And the refreshed table goes on incrementally.
    let again = f.run(WITH_DELETES, &rebuilt, &per_read());
    assert_eq!((again.failed(), again.commits), (false, 0), "{again:?}");
}

#[test]
fn a_refresh_reloads_a_table_whose_log_is_damaged() {
    let f = Fixture::new();
    assert!(
        !f.run(APPEND, &items(10, IngestionType::Append), &per_read())
            .failed()
    );
    std::fs::remove_file(f.table().join("_delta_log/00000000000000000000.json")).unwrap();
    let broken = f.run(APPEND, &items(10, IngestionType::Append), &per_read());
    assert_refused(&broken, "cannot be loaded");
    for _ in 0..2 {
        let summary = f.run(APPEND, &items(12, IngestionType::Append), &refresh());
        assert!(!summary.failed(), "{summary:?}");
        assert_eq!(f.count(), 12);
    }
}

#[test]
fn a_first_run_the_source_rejects_leaves_no_table() {
    for read_partitions in [1, 4] {
        let f = Fixture::new();
        let mut rejecting = items(5, IngestionType::Append);
        rejecting.rejecting_credentials = true;
        rejecting.stream_partitions = Some(2);
        let options = RunOptions {
            read_partitions,
            ..per_read()
        };
        let summary = f.run(APPEND, &rejecting, &options);
        let error = summary.error.as_deref().unwrap_or_default();
        assert!(error.contains("authentication failed"), "{error}");
        assert!(
            !has_log(&f.table()),
            "read_partitions {read_partitions}: no table created"
        );
        rejecting.rejecting_credentials = false;
        let summary = f.run(APPEND, &rejecting, &options);
        assert!(!summary.failed(), "{summary:?}");
        assert_eq!(f.count(), 5);
    }
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.unwrap().path())
            .map(|p| if p.is_dir() { files_under(&p) } else { 1 })
            .sum()
    })
}

fn has_log(table: &Path) -> bool {
    table
        .join("_delta_log")
        .read_dir()
        .is_ok_and(|mut d| d.next().is_some())
}

/// A normal run and a full refresh at the same time: whichever commits first, the other
/// fails or follows, and the table is never left broken or with duplicates.
#[test]
fn a_refresh_racing_a_run_never_breaks_the_table() {
    let f = Fixture::new();
    let connector = items(30, IngestionType::Append);
    for round in 0..6 {
        let plans = || {
            let spec = lakeflow_spec::PipelineSpec::parse(APPEND, "t.yaml").unwrap();
            lakeflow_pipeline::plan(
                &spec,
                &connector,
                &super::scripted::DESCRIPTOR,
                &f.warehouse,
            )
            .unwrap()
        };
        let (normal, refresh) = (per_read(), refresh());
        let source: std::sync::Arc<dyn lakeflow_connect::LakeflowConnect> =
            std::sync::Arc::new(connector.clone());
        let progress = std::sync::Arc::new(lakeflow_pipeline::NoProgress);
        let (a, b) = f.rt.block_on(async {
            futures::join!(
                lakeflow_pipeline::run(plans(), source.clone(), &normal, progress.clone()),
                lakeflow_pipeline::run(plans(), source.clone(), &refresh, progress.clone()),
            )
        });
        for summary in a.iter().chain(&b) {
            if let Some(error) = &summary.error {
                assert!(
                    error.contains("another run") || error.contains("could not commit"),
                    "round {round}: {error}"
                );
            }
        }
        // Whatever happened, a run afterwards lands the source exactly once.
        let settled = f.run(APPEND, &connector, &per_read());
        assert!(!settled.failed(), "round {round}: {settled:?}");
        let rows: Vec<Value> = query_rows(
            &f.rt,
            &f.warehouse,
            "SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM items",
        );
        assert_eq!(rows, [json!({"n": 30, "d": 30})], "round {round}");
    }
}

/// Random JSON values (deep, odd numbers, wrong types) for the offset log reader.
fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![Just("batch".to_owned()), Just("end".to_owned()), ".{0,6}"],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// Whatever an offset log or a commit file holds, reading it gives an answer or an error
    /// naming the file, never a panic, and never a position the records do not agree on.
    #[test]
    fn the_offset_log_reader_never_panics(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        log in any_json(),
        txn in proptest::option::of(-2i64..5),
        batch in -2i64..5,
    ) {
        let commit = lakeflow_pipeline::flow_commit(3, &bytes, "a");
        let as_commit = String::from_utf8_lossy(&bytes).replace("\"a\"", "\"b\"");
        let _ = lakeflow_pipeline::flow_commit(3, as_commit.as_bytes(), "b");
        let _ = lakeflow_pipeline::logged_end(&log, batch);
        match lakeflow_pipeline::resolve(txn, commit.as_ref(), Some(&log), "the-file") {
            Ok((state, _)) => {
                proptest::prop_assert_eq!(state.batch, txn);
                let logged = lakeflow_pipeline::logged_end(&log, txn.unwrap_or(-99));
                if txn.is_some() {
                    proptest::prop_assert_eq!(Ok(state.offset), logged);
                }
            }
            Err(e) => proptest::prop_assert!(e.contains("the-file") || e.contains("altered"), "{}", e),
        }
    }
}
