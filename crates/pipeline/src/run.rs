//! Running flows: read until caught up, commit data and progress together, many tables at once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use futures::StreamExt as _;
use lakeflow_connect::{
    LakeflowConnect, Offset, Partition, PartitionedStream, Record, TableOptions,
};
use lakeflow_records::Converter;
use serde::Serialize;

use crate::delta::{
    CommitCounts, FlowId, StreamedAppend, Target, commit_properties, kept_aside_url,
    offset_log_entry, offset_log_path, remove_damaged, tombstones_url,
};
use crate::error::{PipelineError, Result, TableContext as _};
use crate::plan::{FlowKind, FlowPlan};

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
        match self.plan.kind {
            FlowKind::Snapshot => self.snapshot(&mut target).await,
            FlowKind::Append | FlowKind::Cdc => {
                self.incremental(&mut target, Feed::Records).await?;
                if self.plan.with_deletes {
                    self.incremental(&mut target, Feed::Deletes).await?;
                }
                Ok(())
            }
        }
    }

    /// The flows that write this table.
    fn flow_ids(&self) -> Vec<FlowId> {
        let mut feeds = vec![Feed::Records];
        if self.plan.with_deletes {
            feeds.push(Feed::Deletes);
        }
        feeds
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
        let task = self.spawn_read(Feed::Records, None, converter);
        let (batches, end) = joined(task.await, &self.plan.name)?;
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

    /// Reads from the committed offset until caught up, committing every `commit_rows` rows:
    /// each commit carries the Delta `txn` (app id, batch) and the offset reached, and the offset
    /// is logged under `_lakeflow/` before the commit, so a restart resumes exactly after the
    /// last commit.
    async fn incremental(&mut self, target: &mut Target, feed: Feed) -> Result<()> {
        let name = self.plan.name.clone();
        let app_id = self.app_id(feed);
        let flow = feed.flow_name(self.plan.kind);
        let committed = target.committed_state(&app_id, flow).await?;
        let mut batch = committed.batch.unwrap_or(-1);
        let mut start = committed.offset;
        let schema = match feed {
            Feed::Records => self.plan.schema.clone(),
            Feed::Deletes => deletes_schema(
                &self.plan.schema,
                &self.plan.keys,
                self.plan.sequence_by.as_deref(),
            ),
        };
        let converter = Arc::new(
            Converter::new(schema)
                .map_err(|e| e.into_connect_error(&name))
                .table(&name)?,
        );
        let generation = target.generation();
        let mut tombstones = if self.plan.with_deletes {
            Some(Target::open(&name, &tombstones_url(&self.plan.url, generation)).await?)
        } else {
            None
        };
        let mut kept_aside = if self.plan.keeps_history() {
            Some(Target::open(&name, &kept_aside_url(&self.plan.url, generation)).await?)
        } else {
            None
        };
        // Appends stream each read to data files; the other flows need the commit's rows.
        let streams = feed == Feed::Records && self.plan.kind == FlowKind::Append;
        // Partitioned streams read the changes up to the source's latest offset in parallel,
        // and only an append commit can take that range without holding it.
        // The latest offset asked to decide is the first range's end: one request, not two.
        let mut known_latest = if streams && self.partitioned_reads() {
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
            let mut pending: Vec<RecordBatch> = Vec::new();
            let mut appending = if streams {
                Some(target.begin_append()?)
            } else {
                None
            };
            let (mut rows, mut bytes) = (0usize, 0usize);
            let batch_start = start.clone();
            let caught_up = loop {
                if self.summary.reads >= self.options.max_reads {
                    return Err(PipelineError::NotConverging {
                        table: name.clone(),
                        reads: self.summary.reads,
                    });
                }
                let (read_rows, read_bytes, end) = match appending.as_mut() {
                    Some(append) if partitioned => {
                        let latest = known_latest.take();
                        self.read_partitions(start.clone(), latest, converter.clone(), append)
                            .await?
                    }
                    _ => {
                        let (batches, end) = self
                            .read(&mut ahead, feed, start.clone(), &converter)
                            .await?;
                        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                        let bytes = batches
                            .iter()
                            .map(RecordBatch::get_array_memory_size)
                            .sum::<usize>();
                        self.progress.read(&name, rows);
                        match appending.as_mut() {
                            Some(append) => {
                                for batch in &batches {
                                    append.write(batch).await?;
                                }
                            }
                            None => pending.extend(batches),
                        }
                        (rows, bytes, end)
                    }
                };
                self.summary.reads += 1;
                self.summary.records_read += read_rows;
                rows += read_rows;
                bytes += read_bytes;
                let caught_up = end.is_none() || end == start;
                if end.is_some() {
                    start = end;
                }
                if caught_up
                    || rows >= self.options.commit_rows
                    || bytes >= self.options.commit_bytes
                {
                    break caught_up;
                }
            };
            if rows == 0 && start == batch_start {
                return Ok(());
            }
            target
                .check_committed(&app_id, (batch >= 0).then_some(batch))
                .await?;
            batch += 1;
            let props = commit_properties(&app_id, batch, start.as_ref());
            let counts = if rows == 0 {
                target.commit_progress(props).await?;
                CommitCounts::default()
            } else {
                let keys = &self.plan.keys;
                let seq = self.plan.sequence_by.as_deref();
                let history = self.plan.keeps_history();
                let tracked = self.plan.tracked_columns();
                let sequence = seq.unwrap_or_default();
                match (feed, self.plan.kind) {
                    (Feed::Deletes, _) if history => {
                        let tombs = tombstones.as_mut().ok_or_else(|| PipelineError::State {
                            table: name.clone(),
                            reason: "deletes without a tombstone table".to_owned(),
                        })?;
                        target
                            .delete_history(
                                &pending,
                                keys,
                                sequence,
                                &tracked,
                                tombs,
                                kept_aside.as_mut(),
                                props,
                            )
                            .await?
                    }
                    (Feed::Records, FlowKind::Cdc) if history => {
                        target
                            .upsert_history(
                                &pending,
                                keys,
                                sequence,
                                &tracked,
                                tombstones.as_ref(),
                                kept_aside.as_mut(),
                                props,
                            )
                            .await?
                    }
                    (Feed::Deletes, _) => {
                        let tombs = tombstones.as_mut().ok_or_else(|| PipelineError::State {
                            table: name.clone(),
                            reason: "deletes without a tombstone table".to_owned(),
                        })?;
                        target
                            .delete_keys(&pending, keys, seq, tombs, props)
                            .await?
                    }
                    (Feed::Records, FlowKind::Cdc) => {
                        target
                            .upsert(&pending, keys, seq, tombstones.as_ref(), props)
                            .await?
                    }
                    (Feed::Records, _) => match appending {
                        Some(append) => append.commit(target, props).await?,
                        None => {
                            return Err(PipelineError::State {
                                table: name.clone(),
                                reason: "an append commit without its writer".to_owned(),
                            });
                        }
                    },
                }
            };
            self.summary.commits += 1;
            self.summary.counts += counts;
            self.progress.committed(&name, &counts);
            // Logged after the commit, which carries the same offset: a run killed in between
            // leaves a commit without its log, and the next run writes it from the commit. (A
            // log written first could be overwritten by a concurrent run whose commit loses.)
            let log = offset_log_entry(batch, batch_start.as_ref(), start.as_ref());
            target
                .write_state(&offset_log_path(flow, batch), &log)
                .await?;
            // Only the last committed batch's offset is ever read back; keep a few for people.
            if batch >= KEPT_OFFSET_LOGS {
                target
                    .delete_state(&offset_log_path(flow, batch - KEPT_OFFSET_LOGS))
                    .await?;
            }
            if caught_up {
                return Ok(());
            }
        }
    }

    /// Reads the whole snapshot and makes the table equal to it in one commit. SCD 1 writes
    /// each read to new files as it arrives; SCD 2 keeps only the rows that change a current
    /// version. Either way memory holds a hash per key, not the rows.
    async fn snapshot(&mut self, target: &mut Target) -> Result<()> {
        let name = self.plan.name.clone();
        let converter = Arc::new(
            Converter::new(self.plan.schema.clone())
                .map_err(|e| e.into_connect_error(&name))
                .table(&name)?,
        );
        let mut replace = None;
        let mut history = None;
        if self.plan.keeps_history() {
            let tracked = self.plan.tracked_columns();
            // The snapshot's time: new versions start and vanished keys' versions end here.
            let at: arrow_array::ArrayRef = Arc::new(
                arrow_array::TimestampMicrosecondArray::from(vec![now_micros()])
                    .with_timezone("UTC"),
            );
            history = Some(
                target
                    .begin_history_snapshot(&self.plan.keys, &tracked, at)
                    .await?,
            );
        } else {
            replace = Some(target.begin_replace(&self.plan.keys).await?);
        }
        let mut start: Option<Offset> = None;
        let mut ahead = None;
        loop {
            if self.summary.reads >= self.options.max_reads {
                return Err(PipelineError::NotConverging {
                    table: name,
                    reads: self.summary.reads,
                });
            }
            let (batches, end) = self
                .read(&mut ahead, Feed::Records, start.clone(), &converter)
                .await?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            self.summary.reads += 1;
            self.summary.records_read += rows;
            self.progress.read(&name, rows);
            for batch in &batches {
                match (replace.as_mut(), history.as_mut()) {
                    (Some(replace), _) => replace.write(batch).await?,
                    (None, Some(history)) => history.write(batch).await?,
                    (None, None) => {}
                }
            }
            if end.is_none() || end == start {
                break;
            }
            start = end;
        }
        let app_id = self.app_id(Feed::Records);
        let batch = target.committed_batch(&app_id).await?.unwrap_or(-1) + 1;
        let props = commit_properties(&app_id, batch, None);
        let counts = match (replace, history) {
            (Some(replace), _) => replace.commit(target, props).await?,
            (None, Some(history)) => history.commit(target, props).await?,
            (None, None) => CommitCounts::default(),
        };
        self.summary.commits += 1;
        self.summary.counts += counts;
        self.progress.committed(&name, &counts);
        Ok(())
    }

    /// The tracing span connector calls run in, so that what they report (retries, waits) is
    /// shown against their table.
    fn span(&self) -> tracing::Span {
        tracing::info_span!("table", table = %self.plan.name)
    }

    /// One connector read on a blocking thread, converted to Arrow there.
    fn spawn_read(&self, feed: Feed, start: Option<Offset>, converter: Arc<Converter>) -> ReadTask {
        let connector = self.connector.clone();
        let table = self.plan.source_table.clone();
        let options = self.plan.table_options.clone();
        let span = self.span();
        tokio::task::spawn_blocking(move || -> lakeflow_connect::Result<_> {
            let _in_table = span.enter();
            let output = match feed {
                Feed::Records => connector.read_table(&table, start.as_ref(), &options)?,
                Feed::Deletes => connector.read_table_deletes(&table, start.as_ref(), &options)?,
            };
            let mut batches = Vec::new();
            convert_records(output.records, &converter, &table, |batch| {
                batches.push(batch);
                true
            })?;
            Ok((batches, output.end_offset))
        })
    }

    /// The read from `start`, and, unless it caught up, the next read started at once in
    /// `ahead`: the source and the conversion work on a blocking thread while the caller
    /// writes these batches. One read is ahead at most; offsets and commits are untouched.
    async fn read(
        &self,
        ahead: &mut Option<(Option<Offset>, ReadTask)>,
        feed: Feed,
        start: Option<Offset>,
        converter: &Arc<Converter>,
    ) -> Result<(Vec<RecordBatch>, Option<Offset>)> {
        let primed = self
            .primed
            .lock()
            .ok()
            .and_then(|mut p| p.take_if(|(f, from, ..)| *f == feed && *from == start));
        let (batches, end) = match primed {
            Some((_, _, batches, end)) => (batches, end),
            None => {
                let task = match ahead.take() {
                    Some((from, task)) if from == start => task,
                    _ => self.spawn_read(feed, start.clone(), converter.clone()),
                };
                joined(task.await, &self.plan.name)?
            }
        };
        if end.is_some() && end != start {
            let next = self.spawn_read(feed, end.clone(), converter.clone());
            *ahead = Some((end.clone(), next));
        }
        Ok((batches, end))
    }

    /// The source's latest offset for this table, when the connector has a partitioned
    /// stream for it (`None` when it has none or the table answers `NotSupported`).
    async fn latest_offset(&self) -> Result<Option<Offset>> {
        let latest = self
            .on_streams(
                |streams, table, options| match streams.latest_offset(table, options) {
                    Ok(offset) => Ok(Some(offset)),
                    Err(lakeflow_connect::Error::NotSupported { .. }) => Ok(None),
                    Err(e) => Err(e),
                },
            )
            .await?;
        Ok(latest.flatten())
    }

    /// Runs `call` on the connector's partitioned stream on a blocking thread (`None` when the
    /// connector has none).
    async fn on_streams<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn PartitionedStream, &str, &TableOptions) -> lakeflow_connect::Result<T>
        + Send
        + 'static,
    ) -> Result<Option<T>> {
        let connector = self.connector.clone();
        let table = self.plan.source_table.clone();
        let options = self.plan.table_options.clone();
        let span = self.span();
        let task = tokio::task::spawn_blocking(move || {
            let _in_table = span.enter();
            connector
                .partitioned_streams()
                .map(|streams| call(streams, &table, &options))
                .transpose()
        });
        joined(task.await, &self.plan.name)
    }

    /// Reads every partition between `start` and the source's latest offset, at most
    /// `read_partitions` at a time on blocking threads, writing their records to `append` as
    /// they arrive. Returns the rows and Arrow bytes written and the offset reached.
    async fn read_partitions(
        &self,
        start: Option<Offset>,
        latest: Option<Offset>,
        converter: Arc<Converter>,
        append: &mut StreamedAppend,
    ) -> Result<(usize, usize, Option<Offset>)> {
        let name = &self.plan.name;
        let stopped = || PipelineError::State {
            table: name.clone(),
            reason: "the connector stopped offering a partitioned stream".to_owned(),
        };
        let latest = match latest {
            Some(latest) => latest,
            None => self.latest_offset().await?.ok_or_else(stopped)?,
        };
        if start.as_ref() == Some(&latest) {
            return Ok((0, 0, start));
        }
        let (from, end) = (start.clone(), latest.clone());
        let partitions: VecDeque<Partition> = self
            .on_streams(move |streams, table, options| {
                streams.partitions_between(table, from.as_ref(), &end, options)
            })
            .await?
            .ok_or_else(stopped)?
            .into();
        if partitions.is_empty() {
            // Nothing between the offsets (or a latest offset behind the committed one, should
            // the source's newest record go away): stay where the flow is.
            return Ok((0, 0, start));
        }
        let total = partitions.len();
        let workers = self.options.read_partitions.min(total);
        let queue = Arc::new(Mutex::new(partitions));
        let done = Arc::new(AtomicUsize::new(0));
        // A few batches in flight per reader: enough to keep the writer busy, bounded memory.
        let (sender, mut receiver) =
            tokio::sync::mpsc::channel::<lakeflow_connect::Result<RecordBatch>>(2 * workers);
        for _ in 0..workers {
            let (connector, converter, queue, sender, done) = (
                self.connector.clone(),
                converter.clone(),
                queue.clone(),
                sender.clone(),
                done.clone(),
            );
            let (table, options) = (
                self.plan.source_table.clone(),
                self.plan.table_options.clone(),
            );
            // Readers are threads of their own, not tokio's blocking pool, which the writer's
            // storage calls need while the readers wait on a full channel.
            let span = self.span();
            std::thread::spawn(move || {
                let _in_table = span.enter();
                let read = |partition: &Partition| -> lakeflow_connect::Result<bool> {
                    let streams = connector.partitioned_streams().ok_or_else(|| {
                        lakeflow_connect::Error::not_supported(&table, "read_stream_partition")
                    })?;
                    let records = streams.read_stream_partition(&table, partition, &options)?;
                    convert_records(records, &converter, &table, |batch| {
                        sender.blocking_send(Ok(batch)).is_ok()
                    })
                };
                while let Some(partition) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    match read(&partition) {
                        Ok(true) => {
                            done.fetch_add(1, Ordering::SeqCst);
                        }
                        // The writer stopped listening: it failed and says why.
                        Ok(false) => return,
                        Err(e) => {
                            let _ = sender.blocking_send(Err(e));
                            return;
                        }
                    }
                }
            });
        }
        drop(sender);
        let (mut rows, mut bytes) = (0, 0);
        while let Some(batch) = receiver.recv().await {
            let batch = batch.table(name)?;
            rows += batch.num_rows();
            bytes += batch.get_array_memory_size();
            self.progress.read(name, batch.num_rows());
            append.write(&batch).await?;
        }
        // Every reader has ended; a partition none of them finished (a reader panicked) must
        // not be committed past.
        let finished = done.load(Ordering::SeqCst);
        if finished != total {
            return Err(PipelineError::State {
                table: name.clone(),
                reason: format!(
                    "only {finished} of {total} partitions were read (a partition reader stopped)"
                ),
            });
        }
        Ok((rows, bytes, Some(latest)))
    }
}

/// Converts records to Arrow in pages of [`CONVERT_ROWS`], handing each batch to `emit`;
/// `Ok(false)` as soon as `emit` declines one.
fn convert_records(
    records: impl Iterator<Item = lakeflow_connect::Result<Record>>,
    converter: &Converter,
    table: &str,
    mut emit: impl FnMut(RecordBatch) -> bool,
) -> lakeflow_connect::Result<bool> {
    let convert = |page: &[Record]| {
        converter
            .convert(page)
            .map_err(|e| e.into_connect_error(table))
    };
    let mut page = Vec::with_capacity(CONVERT_ROWS);
    for record in records {
        page.push(record?);
        if page.len() == CONVERT_ROWS {
            if !emit(convert(&page)?) {
                return Ok(false);
            }
            page.clear();
        }
    }
    if !page.is_empty() {
        return Ok(emit(convert(&page)?));
    }
    Ok(true)
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

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Deleted records carry the keys and the sequence column only.
fn deletes_schema(schema: &SchemaRef, keys: &[String], sequence: Option<&str>) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| keys.contains(f.name()) || Some(f.name().as_str()) == sequence)
        .map(|f| f.as_ref().clone().with_nullable(!keys.contains(f.name())))
        .collect();
    Arc::new(Schema::new(fields))
}
