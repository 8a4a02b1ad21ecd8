//! Everything that touches Delta Lake: the destination table ([`table`]), its state
//! ([`state`], [`refresh`]), and one [`sink::Sink`] per write operation: [`append`], upserts
//! and deletes by key ([`keyed`]), SCD 2 changes and deletes ([`cdc_history`], applied by
//! [`versions`] on the columns of [`history`]) and snapshots ([`snapshot`]). Keyed operations
//! rewrite only the files that hold a changed key ([`rewrite`], over [`files`]).

pub(crate) mod append;
pub(crate) mod cdc_history;
mod dedupe;
mod files;
pub(crate) mod history;
pub(crate) mod keyed;
mod refresh;
mod rewrite;
mod rewrite_files;
pub(crate) mod sink;
pub(crate) mod snapshot;
mod state;
mod table;
#[cfg(test)]
mod tests;
mod timeline;
pub(crate) mod tombstones;
mod versions;

pub use history::{END_AT, START_AT, history_schema};
pub use refresh::{FlowId, remove_damaged};
pub use sink::CommitCounts;
pub use state::{
    CommittedState, FlowCommit, flow_commit, logged_end, offset_log_entry, offset_log_path, resolve,
};
pub use table::{
    BATCH_KEY, CLUSTER_BY_PROPERTY, FLOW_KEY, FULL_REFRESH_KEY, GENERATION_PROPERTY, OFFSET_KEY,
    Target, commit_properties,
};
pub use tombstones::TOMBSTONE_SEQUENCE;
