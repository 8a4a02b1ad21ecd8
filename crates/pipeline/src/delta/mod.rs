//! Everything that touches Delta Lake.

mod dedupe;
mod table;
mod write;

pub use table::{FLOW_KEY, OFFSET_KEY, Target, commit_properties};
pub use write::{CommitCounts, TOMBSTONE_SEQUENCE, tombstones_url};
