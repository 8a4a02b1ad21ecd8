//! The ingestion engine: lands connector tables in Delta Lake, correctly, run after run.
//!
//! A pipeline spec ([`lakeflow_spec::PipelineSpec`]) names tables of one connection; [`plan`]
//! resolves each against the connector's metadata into a [`FlowPlan`] (append, cdc upserts with
//! optional deletes, or snapshot), and [`run`] reads each table until caught up, committing data
//! and the offset it reached in the same Delta commit, so a run killed at any point and started
//! again loses nothing and duplicates nothing.
//!
//! Semantics for users are in `docs/ingestion-semantics.md`.

mod delta;
mod error;
mod inspect;
mod panics;
mod plan;
mod run;
mod warehouse;

pub use delta::{
    BATCH_KEY, CLUSTER_BY_PROPERTY, CommitCounts, CommittedState, END_AT, FLOW_KEY,
    FULL_REFRESH_KEY, FlowCommit, GENERATION_PROPERTY, OFFSET_KEY, START_AT, TOMBSTONE_SEQUENCE,
    flow_commit, logged_end, resolve,
};
pub use error::{PipelineError, Result};
pub use inspect::{FileCheck, TableStatus, query, table_status};
pub use panics::quiet_recovered_storage_panics;
pub use plan::{FlowKind, FlowPlan, plan, plan_object};
pub use run::{FullRefresh, NoProgress, Progress, RunOptions, TableSummary, run};
pub use warehouse::Warehouse;

/// Re-exported so callers (the CLI's `query` and `status`) use the same DataFusion and Delta.
pub use deltalake;
