//! Everything that touches Delta Lake.

mod dedupe;
mod history;
mod rewrite;
mod snapshot;
mod table;
mod timeline;
mod write;

pub use history::{END_AT, START_AT, history_schema};
pub use snapshot::{HistorySnapshot, SnapshotReplace};
pub use table::{CLUSTER_BY_PROPERTY, FLOW_KEY, OFFSET_KEY, Target, commit_properties};
pub use write::{CommitCounts, StreamedAppend, TOMBSTONE_SEQUENCE, kept_aside_url, tombstones_url};
