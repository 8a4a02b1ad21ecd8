//! Reading a table from the connector: reads on blocking threads (one ahead of the writer),
//! partitioned streams read in parallel, records converted to Arrow as they come.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use lakeflow_connect::{
    LakeflowConnect, Offset, Partition, PartitionedStream, Record, TableOptions,
};
use lakeflow_records::Converter;

use crate::delta::sink::Sink;
use crate::error::{PipelineError, Result, TableContext as _};

use super::{CONVERT_ROWS, Feed, ReadTask, TableRun, joined};

/// A read under way: where it ends, as soon as the connector returned, and its batches.
pub(super) struct Reading {
    pub(super) end: tokio::sync::oneshot::Receiver<Option<Offset>>,
    pub(super) task: ReadTask,
}

impl TableRun<'_> {
    /// One connector read on a blocking thread, converted to Arrow there. Where it ends is
    /// known (and sent) as soon as the connector returns, before its records are converted.
    pub(super) fn spawn_read(
        &self,
        feed: Feed,
        start: Option<Offset>,
        converter: Arc<Converter>,
    ) -> Reading {
        let connector = self.connector.clone();
        let table = self.plan.source_table.clone();
        let options = self.plan.table_options.clone();
        let span = self.span();
        let (ends, end) = tokio::sync::oneshot::channel();
        let task = tokio::task::spawn_blocking(move || -> lakeflow_connect::Result<_> {
            let _in_table = span.enter();
            let output = match feed {
                Feed::Records => connector.read_table(&table, start.as_ref(), &options)?,
                Feed::Deletes => connector.read_table_deletes(&table, start.as_ref(), &options)?,
            };
            let _ = ends.send(output.end_offset.clone());
            let mut batches = Vec::new();
            convert_records(output.records, &converter, &table, |batch| {
                batches.push(batch);
                true
            })?;
            Ok((batches, output.end_offset))
        });
        Reading { end, task }
    }

    /// The read from `start`, and, unless it caught up, the next read started in `ahead` as
    /// soon as this one returns: the source works on a blocking thread while this read's
    /// records are converted and the caller writes them. One read is ahead at most; offsets
    /// and commits are untouched.
    pub(super) async fn read(
        &self,
        ahead: &mut Option<(Option<Offset>, Reading)>,
        feed: Feed,
        start: Option<Offset>,
        converter: &Arc<Converter>,
    ) -> Result<(Vec<RecordBatch>, Option<Offset>)> {
        let primed = self
            .primed
            .lock()
            .ok()
            .and_then(|mut p| p.take_if(|(f, from, ..)| *f == feed && *from == start));
        if let Some((_, _, batches, end)) = primed {
            self.read_ahead(ahead, feed, &start, end.clone(), converter);
            return Ok((batches, end));
        }
        let reading = match ahead.take() {
            Some((from, reading)) if from == start => reading,
            _ => self.spawn_read(feed, start.clone(), converter.clone()),
        };
        // A read that fails sends no end; its task says why.
        if let Ok(end) = reading.end.await {
            self.read_ahead(ahead, feed, &start, end, converter);
        }
        joined(reading.task.await, &self.plan.name)
    }

    /// Starts the read from `end` in `ahead`, unless the read from `start` caught up there.
    fn read_ahead(
        &self,
        ahead: &mut Option<(Option<Offset>, Reading)>,
        feed: Feed,
        start: &Option<Offset>,
        end: Option<Offset>,
        converter: &Arc<Converter>,
    ) {
        if end.is_some() && end != *start {
            let next = self.spawn_read(feed, end.clone(), converter.clone());
            *ahead = Some((end, next));
        }
    }

    /// The source's latest offset for this table, when the connector has a partitioned
    /// stream for it (`None` when it has none or the table answers `NotSupported`).
    pub(super) async fn latest_offset(&self) -> Result<Option<Offset>> {
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
    pub(super) async fn on_streams<T: Send + 'static>(
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
    /// `read_partitions` at a time on blocking threads, writing their records to `sink` as
    /// they arrive. Returns the rows and Arrow bytes written and the offset reached.
    pub(super) async fn read_partitions(
        &self,
        start: Option<Offset>,
        latest: Option<Offset>,
        converter: Arc<Converter>,
        sink: &mut dyn Sink,
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
            sink.write(&batch).await?;
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
pub(super) fn convert_records(
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
