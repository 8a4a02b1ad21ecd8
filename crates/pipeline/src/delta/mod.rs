//! Everything that touches Delta Lake.

mod dedupe;
mod history;
mod refresh;
mod rewrite;
mod snapshot;
mod state;
mod table;
mod timeline;
mod write;

pub use history::{END_AT, START_AT, history_schema};
pub use refresh::{FlowId, remove_damaged};
pub use snapshot::{HistorySnapshot, SnapshotReplace};
pub use state::{
    CommittedState, FlowCommit, flow_commit, logged_end, offset_log_entry, offset_log_path, resolve,
};
pub use table::{
    BATCH_KEY, CLUSTER_BY_PROPERTY, FLOW_KEY, FULL_REFRESH_KEY, GENERATION_PROPERTY, OFFSET_KEY,
    Target, commit_properties,
};
pub use write::{CommitCounts, StreamedAppend, TOMBSTONE_SEQUENCE, kept_aside_url, tombstones_url};
