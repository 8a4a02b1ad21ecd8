//! Running flows: read until caught up, commit data and progress together, many tables at once.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow_array::RecordBatch;
use futures::StreamExt as _;
use lakeflow_connect::{LakeflowConnect, Offset};
use lakeflow_records::Converter;
use serde::Serialize;

use crate::delta::sink::Sink;
use crate::delta::{
    CommitCounts, FlowId, Target, commit_properties, offset_log_entry, offset_log_path,
    remove_damaged,
};
use crate::error::{PipelineError, Result, TableContext as _};
use crate::plan::{FlowKind, FlowPlan};

mod read;
mod sinks;

/// A connector read running on a blocking thread: its batches and end offset.
type ReadTask =
    tokio::task::JoinHandle<lakeflow_connect::Result<(Vec<RecordBatch>, Option<Offset>)>>;

/// A read made before the table existed (see [`TableRun::prime`]), waiting to be taken.
type PrimedRead = (Feed, Option<Offset>, Vec<RecordBatch>, Option<Offset>);

/// Offset log files kept per flow (older ones are removed after each commit).
const KEPT_OFFSET_LOGS: i64 = 10;

/// Records are converted in pages of this many rows, so conversion memory stays small.
const CONVERT_ROWS: usize = 8192;

/// Which tables `--full-refresh` reloads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FullRefresh {
    /// None: every table continues from its committed offset.
    #[default]
    None,
    /// Every table of the spec.
    All,
    /// The named destination tables.
    Tables(Vec<String>),
}

impl FullRefresh {
    fn covers(&self, table: &str) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Tables(names) => names.iter().any(|n| n == table),
        }
    }
}

/// Knobs of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tables run at the same time.
    pub parallelism: usize,
    /// Reads of one flow before it is declared not converging.
    pub max_reads: usize,
    /// Rows accumulated before a commit (several reads may go into one commit).
    pub commit_rows: usize,
    /// Bytes (Arrow memory) accumulated before a commit.
    pub commit_bytes: usize,
    /// Upserts that rewrite data files are held to the end of the run, one row per key, so
    /// that a run rewrites each file once: at most this many bytes (Arrow memory) of them,
    /// beyond which they are committed anyway.
    pub stage_bytes: usize,
    /// Partitions of one table read at the same time, where the connector has partitioned
    /// streams for it and the flow is an append (whose commits stream to files); 1 reads with
    /// plain `read_table` calls.
    pub read_partitions: usize,
    /// Tables to reload from scratch.
    pub full_refresh: FullRefresh,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            parallelism: 4,
            max_reads: 100_000,
            commit_rows: 250_000,
            // Upsert and delete commits hold their rows (appends stream); 64 MiB keeps that
            // small while files stay large enough.
            commit_bytes: 64 << 20,
            stage_bytes: 256 << 20,
            read_partitions: 1,
            full_refresh: FullRefresh::None,
        }
    }
}

/// Receives progress events; the CLI draws them. Every method defaults to nothing.
pub trait Progress: Send + Sync {
    /// A table started.
    fn started(&self, _table: &str) {}
    /// A read returned `records` records.
    fn read(&self, _table: &str, _records: usize) {}
    /// A commit landed.
    fn committed(&self, _table: &str, _counts: &CommitCounts) {}
    /// A table finished.
    fn finished(&self, _summary: &TableSummary) {}
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What happened to one table in a run.
#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    /// The destination.
    pub table: String,
    /// The connector table.
    pub source_table: String,
    /// The flow kind.
    pub flow: FlowKind,
    /// The SCD type.
    pub scd_type: String,
    /// Records read from the connector (including deleted records).
    pub records_read: usize,
    /// Reads made.
    pub reads: usize,
    /// Delta commits made.
    pub commits: usize,
    /// Rows changed.
    #[serde(flatten)]
    pub counts: CommitCounts,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// `ok` or `failed`.
    pub status: String,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TableSummary {
    /// Whether the table failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Runs every flow, at most `options.parallelism` tables at a time. One table's failure does not
/// stop the others; the summaries come back in plan order.
pub async fn run(
    plans: Vec<FlowPlan>,
    connector: Arc<dyn LakeflowConnect>,
    options: &RunOptions,
    progress: Arc<dyn Progress>,
) -> Vec<TableSummary> {
    let runs = plans.into_iter().enumerate().map(|(i, plan)| {
        let runner = TableRun::new(plan, connector.clone(), options, progress.clone());
        async move { (i, runner.run().await) }
    });
    let mut done: Vec<(usize, TableSummary)> = futures::stream::iter(runs)
        .buffer_unordered(options.parallelism.max(1))
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, s)| s).collect()
}

/// Which feed of the connector a flow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Records,
    Deletes,
}

impl Feed {
    fn flow_name(self, kind: FlowKind) -> &'static str {
        match (self, kind) {
            (Self::Deletes, _) => "deletes",
            (Self::Records, FlowKind::Append) => "append",
            (Self::Records, FlowKind::Cdc) => "upserts",
            (Self::Records, FlowKind::Snapshot) => "snapshot",
        }
    }
}

struct TableRun<'a> {
    plan: FlowPlan,
    connector: Arc<dyn LakeflowConnect>,
    options: &'a RunOptions,
    progress: Arc<dyn Progress>,
    summary: TableSummary,
    /// The first read of a table that did not exist yet, made before creating it.
    primed: Mutex<Option<PrimedRead>>,
    /// The source's latest offset, asked before creating the table of a partitioned read.
    primed_latest: Option<Offset>,
}

impl<'a> TableRun<'a> {
    fn new(
        plan: FlowPlan,
        connector: Arc<dyn LakeflowConnect>,
        options: &'a RunOptions,
        progress: Arc<dyn Progress>,
    ) -> Self {
        let summary = TableSummary {
            table: plan.name.clone(),
            source_table: plan.source_table.clone(),
            flow: plan.kind,
            scd_type: plan.scd_type.to_string(),
            records_read: 0,
            reads: 0,
            commits: 0,
            counts: CommitCounts::default(),
            duration_ms: 0,
            status: "ok".to_owned(),
            error: None,
        };
        Self {
            plan,
            connector,
            options,
            progress,
            summary,
            primed: Mutex::new(None),
            primed_latest: None,
        }
    }

    async fn run(mut self) -> TableSummary {
        let started = Instant::now();
        self.progress.started(&self.plan.name);
        let outcome = self.run_flows().await;
        self.summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Err(e) = outcome {
            self.summary.status = "failed".to_owned();
            self.summary.error = Some(e.to_string());
        }
        // Best effort: `lakeflow status` shows the last run; a failure to record it is not the
        // run's failure.
        if let Ok(target) = Target::open(&self.plan.name, &self.plan.url).await
            && let Ok(value) = serde_json::to_value(&self.summary)
        {
            let _ = target.write_state("_lakeflow/last_run.json", &value).await;
        }
        self.progress.finished(&self.summary);
        self.summary
    }

    async fn run_flows(&mut self) -> Result<()> {
        let (name, url) = (self.plan.name.clone(), self.plan.url.clone());
        let refresh = self.options.full_refresh.covers(&name);
        let mut target = match Target::open(&name, &url).await {
            Ok(target) => target,
            // Only a reload may replace a table whose log cannot be loaded.
            Err(cause @ PipelineError::State { .. }) if refresh => {
                remove_damaged(&name, &url, cause).await?;
                Target::open(&name, &url).await?
            }
            Err(e) => return Err(e),
        }
        .clustered_by(&self.plan.cluster_by);
        let schema = self.plan.destination_schema();
        if refresh {
            target.reset_for_refresh(&schema, &self.flow_ids()).await?;
        }
        if !target.exists() {
            self.prime().await?;
        }
        target.ensure_schema(&schema).await?;
        for feed in self.feeds() {
            let sink = self.sink(target, feed).await?;
            target = self.flow(sink, feed).await?;
        }
        Ok(())
    }

    /// The feeds of the connector this table reads: its records, and its deletes if it has
    /// them.
    fn feeds(&self) -> Vec<Feed> {
        let mut feeds = vec![Feed::Records];
        if self.plan.with_deletes {
            feeds.push(Feed::Deletes);
        }
        feeds
    }

    /// The flows that write this table.
    fn flow_ids(&self) -> Vec<FlowId> {
        self.feeds()
            .into_iter()
            .map(|feed| FlowId {
                app_id: self.app_id(feed),
                flow: feed.flow_name(self.plan.kind).to_owned(),
            })
            .collect()
    }

    /// Asks the source before a table is created: a first run that fails on authentication (or
    /// any first request) leaves no empty table behind. The answer is the first read's (or,
    /// for a partitioned read, the latest offset's), so nothing is asked twice.
    async fn prime(&mut self) -> Result<()> {
        if self.partitioned_reads() {
            self.primed_latest = self.latest_offset().await?;
            if self.primed_latest.is_some() {
                return Ok(());
            }
        }
        let schema = self.plan.schema.clone();
        let converter = Arc::new(
            Converter::new(schema)
                .map_err(|e| e.into_connect_error(&self.plan.name))
                .table(&self.plan.name)?,
        );
        let reading = self.spawn_read(Feed::Records, None, converter);
        let (batches, end) = joined(reading.task.await, &self.plan.name)?;
        if let Ok(mut primed) = self.primed.lock() {
            *primed = Some((Feed::Records, None, batches, end));
        }
        Ok(())
    }

    /// Whether the records of this table are read as partitions of a partitioned stream,
    /// where the connector offers one (appends only: their commits stream to files).
    fn partitioned_reads(&self) -> bool {
        self.plan.kind == FlowKind::Append && self.options.read_partitions > 1
    }

    fn app_id(&self, feed: Feed) -> String {
        format!(
            "lakeflow/{}/{}",
            self.plan.source_table,
            feed.flow_name(self.plan.kind)
        )
    }

    /// Reads from the committed offset until caught up, committing every `commit_rows` rows
    /// (a snapshot: reads it whole and commits once). Each commit carries the Delta `txn` (app
    /// id, batch) and the offset reached, and the offset is logged under `_lakeflow/` after the
    /// commit, so a restart resumes exactly after the last commit.
    async fn flow(&mut self, mut sink: Box<dyn Sink>, feed: Feed) -> Result<Target> {
        let name = self.plan.name.clone();
        let app_id = self.app_id(feed);
        let flow = feed.flow_name(self.plan.kind);
        // A snapshot starts from nothing every run and records no offset.
        let whole = self.plan.kind == FlowKind::Snapshot;
        let (mut batch, mut start) = if whole {
            let batch = sink.target().committed_batch(&app_id).await?;
            (batch.unwrap_or(-1), None)
        } else {
            let committed = sink.target().committed_state(&app_id, flow).await?;
            (committed.batch.unwrap_or(-1), committed.offset)
        };
        let converter = Arc::new(
            Converter::new(self.feed_schema(feed))
                .map_err(|e| e.into_connect_error(&name))
                .table(&name)?,
        );
        // Partitioned streams read the changes up to the source's latest offset in parallel,
        // and only an append commit can take that range without holding it.
        // The latest offset asked to decide is the first range's end: one request, not two.
        let mut known_latest = if feed == Feed::Records && self.partitioned_reads() {
            match self.primed_latest.take() {
                Some(latest) => Some(latest),
                None => self.latest_offset().await?,
            }
        } else {
            None
        };
        let partitioned = known_latest.is_some();
        let mut ahead = None;
        loop {
            let (mut rows, mut bytes, mut held) = (0usize, 0usize, false);
            let batch_start = start.clone();
            let caught_up = loop {
                if self.summary.reads >= self.options.max_reads {
                    return Err(PipelineError::NotConverging {
                        table: name.clone(),
                        reads: self.summary.reads,
                    });
                }
                let (read_rows, read_bytes, end) = if partitioned {
                    let latest = known_latest.take();
                    self.read_partitions(start.clone(), latest, converter.clone(), sink.as_mut())
                        .await?
                } else {
                    let (batches, end) = self
                        .read(&mut ahead, feed, start.clone(), &converter)
                        .await?;
                    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                    let bytes = batches
                        .iter()
                        .map(RecordBatch::get_array_memory_size)
                        .sum::<usize>();
                    self.progress.read(&name, rows);
                    for batch in &batches {
                        sink.write(batch).await?;
                    }
                    (rows, bytes, end)
                };
                self.summary.reads += 1;
                self.summary.records_read += read_rows;
                rows += read_rows;
                bytes += read_bytes;
                let caught_up = end.is_none() || end == start;
                if end.is_some() {
                    start = end;
                }
                let full = rows >= self.options.commit_rows || bytes >= self.options.commit_bytes;
                if caught_up || (full && !whole) {
                    if !caught_up && !whole && sink.defer().await? {
                        // The sink holds its rows to the run's end; the offset waits with them.
                        (rows, bytes, held) = (0, 0, true);
                        continue;
                    }
                    break caught_up;
                }
            };
            if whole {
                start = None;
            } else if rows == 0 && !held && start == batch_start {
                return Ok(sink.into_target());
            } else {
                sink.target()
                    .check_committed(&app_id, (batch >= 0).then_some(batch))
                    .await?;
            }
            batch += 1;
            let counts = sink
                .commit(commit_properties(&app_id, batch, start.as_ref()))
                .await?;
            self.summary.commits += 1;
            self.summary.counts += counts;
            self.progress.committed(&name, &counts);
            if !whole {
                self.log_offsets(
                    sink.target(),
                    flow,
                    batch,
                    batch_start.as_ref(),
                    start.as_ref(),
                )
                .await?;
            }
            if caught_up {
                return Ok(sink.into_target());
            }
        }
    }

    /// Logs a commit's offsets, after the commit, which carries the same offset: a run killed
    /// in between leaves a commit without its log, and the next run writes it from the commit.
    /// (A log written first could be overwritten by a concurrent run whose commit loses.)
    async fn log_offsets(
        &self,
        target: &Target,
        flow: &str,
        batch: i64,
        start: Option<&Offset>,
        end: Option<&Offset>,
    ) -> Result<()> {
        let log = offset_log_entry(batch, start, end);
        target
            .write_state(&offset_log_path(flow, batch), &log)
            .await?;
        // Only the last committed batch's offset is ever read back; keep a few for people.
        if batch >= KEPT_OFFSET_LOGS {
            target
                .delete_state(&offset_log_path(flow, batch - KEPT_OFFSET_LOGS))
                .await?;
        }
        Ok(())
    }

    /// The tracing span connector calls run in, so that what they report (retries, waits) is
    /// shown against their table.
    fn span(&self) -> tracing::Span {
        tracing::info_span!("table", table = %self.plan.name)
    }
}

/// The result of a blocking connector task, a panic there being the table's error.
fn joined<T>(
    task: std::result::Result<lakeflow_connect::Result<T>, tokio::task::JoinError>,
    name: &str,
) -> Result<T> {
    match task {
        Ok(result) => result.table(name),
        Err(join) => Err(PipelineError::State {
            table: name.to_owned(),
            reason: format!("the connector read panicked: {join}"),
        }),
    }
}
