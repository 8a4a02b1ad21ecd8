//! The one interface every flow writes through. Each write operation (append, upsert, delete,
//! SCD 2 changes and deletes, snapshot replace, SCD 2 snapshot) is one [`Sink`] that owns its
//! table and everything the operation needs beside it (tombstones, kept-aside changes, keys,
//! sequence and tracked columns), takes rows with [`Sink::write`] and makes them one Delta
//! commit, carrying the flow's progress, with [`Sink::commit`], which reports what it changed.

use arrow_array::RecordBatch;
use deltalake::kernel::transaction::CommitProperties;
use futures::future::BoxFuture;

use super::table::Target;
use crate::error::Result;

/// Rows changed by one commit: the metrics every write operation reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CommitCounts {
    /// Rows appended (append flows).
    pub appended: usize,
    /// New keys inserted.
    pub inserted: usize,
    /// Existing keys updated.
    pub updated: usize,
    /// Keys deleted.
    pub deleted: usize,
    /// Data files the commit added.
    pub files_added: usize,
    /// Data files the commit removed (rewritten or replaced).
    pub files_removed: usize,
}

impl std::ops::AddAssign for CommitCounts {
    fn add_assign(&mut self, other: Self) {
        self.appended += other.appended;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.files_added += other.files_added;
        self.files_removed += other.files_removed;
    }
}

/// Where one flow's rows go: a write operation on the flow's table (see [`sink`]).
pub(crate) trait Sink: Send {
    /// The destination table (for the flow's state: committed batches, offset logs).
    fn target(&mut self) -> &mut Target;

    /// Takes rows for the next commit: written to new data files at once, or held until it.
    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>>;

    /// Makes what was written since the last commit one Delta commit carrying `props` (a
    /// commit of nothing still records the progress), and reports what it changed.
    fn commit(&mut self, props: CommitProperties) -> BoxFuture<'_, Result<CommitCounts>>;

    /// Whether the commit due now (the rows written reached the commit bound, the read has not
    /// caught up) may wait for more rows. An operation whose commit would rewrite data files
    /// holds its changes to the end of the run instead (within its own memory bound), so a run
    /// rewrites each file once, not once per commit.
    fn defer(&mut self) -> BoxFuture<'_, Result<bool>>;

    /// The destination table back, for the next flow writing it.
    fn into_target(self: Box<Self>) -> Target;
}

/// A write operation: what it does with rows and at a commit, given the table.
pub(crate) trait Operation: Send {
    /// Takes rows for the next commit.
    fn write(
        &mut self,
        target: &Target,
        batch: &RecordBatch,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Commits what was written since the last commit, carrying `props`.
    fn commit(
        &mut self,
        target: &mut Target,
        props: CommitProperties,
    ) -> impl Future<Output = Result<CommitCounts>> + Send;

    /// Whether the commit due now may wait (see [`Sink::defer`]); by default it may not.
    fn defer(&mut self, _target: &Target) -> impl Future<Output = Result<bool>> + Send {
        std::future::ready(Ok(false))
    }
}

/// `operation` on `target`, as a flow's sink.
pub(crate) fn sink<O: Operation + 'static>(target: Target, operation: O) -> Box<dyn Sink> {
    Box::new(OnTable { target, operation })
}

struct OnTable<O> {
    target: Target,
    operation: O,
}

impl<O: Operation> Sink for OnTable<O> {
    fn target(&mut self) -> &mut Target {
        &mut self.target
    }

    fn write<'a>(&'a mut self, batch: &'a RecordBatch) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.operation.write(&self.target, batch))
    }

    fn commit(&mut self, props: CommitProperties) -> BoxFuture<'_, Result<CommitCounts>> {
        Box::pin(self.operation.commit(&mut self.target, props))
    }

    fn defer(&mut self) -> BoxFuture<'_, Result<bool>> {
        Box::pin(self.operation.defer(&self.target))
    }

    fn into_target(self: Box<Self>) -> Target {
        self.target
    }
}

/// An operation decided on a commit's rows together (keyed changes: each key's latest change,
/// its versions); [`Held`] holds the rows until the commit.
pub(crate) trait ApplyRows: Send {
    /// Applies `rows` (at least one) to `target` in one commit carrying `props`.
    fn apply(
        &mut self,
        target: &mut Target,
        rows: Vec<RecordBatch>,
        props: CommitProperties,
    ) -> impl Future<Output = Result<CommitCounts>> + Send;

    /// Whether the commit due now may wait (see [`Sink::defer`]), given the `rows` held,
    /// which it may compact; by default it may not.
    fn defer(
        &mut self,
        _target: &Target,
        _rows: &mut Vec<RecordBatch>,
    ) -> impl Future<Output = Result<bool>> + Send {
        std::future::ready(Ok(false))
    }
}

/// An [`ApplyRows`] operation with the rows written since the last commit.
pub(crate) struct Held<A> {
    apply: A,
    rows: Vec<RecordBatch>,
}

impl<A: ApplyRows> Held<A> {
    pub(crate) fn new(apply: A) -> Self {
        Self {
            apply,
            rows: Vec::new(),
        }
    }
}

impl<A: ApplyRows> Operation for Held<A> {
    async fn write(&mut self, _target: &Target, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() > 0 {
            self.rows.push(batch.clone());
        }
        Ok(())
    }

    async fn commit(
        &mut self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        if self.rows.is_empty() {
            target.commit_progress(props).await?;
            return Ok(CommitCounts::default());
        }
        let rows = std::mem::take(&mut self.rows);
        self.apply.apply(target, rows, props).await
    }

    async fn defer(&mut self, target: &Target) -> Result<bool> {
        self.apply.defer(target, &mut self.rows).await
    }
}
