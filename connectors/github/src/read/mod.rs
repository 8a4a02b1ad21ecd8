//! How tables are read: the kit's strategies (snapshots, oldest first with `since` or a page
//! hint, newest first without a filter, time windows, partitions), fed GitHub's requests.

use lakeflow_connect::Record;
use serde_json::Value;

pub(crate) use lakeflow_kit::{Snapshot, ascending, descending, offset, partitioned, window};

use crate::client::GithubClient;
use crate::config::TableSettings;
use crate::tables::Table;

/// What every read of a table needs: the read as the kit's strategies see it (table name,
/// settings, horizon), and GitHub's own parts.
pub(crate) struct ReadCtx<'a> {
    pub kit: lakeflow_kit::ReadCtx<'a>,
    pub client: &'a GithubClient,
    pub table: Table,
    /// The table options, the repository among them.
    pub settings: &'a TableSettings,
    /// Workflow runs this connector instance already fetched again.
    pub rechecked: &'a crate::tables::Rechecked,
    /// The repositories of `repo: "*"` this connector instance listed.
    pub discovered: &'a crate::tables::Discovered,
}

/// Fields the connector adds to every record of a table (`repository_owner`, ...).
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra(pub Vec<(&'static str, Value)>);

impl Extra {
    pub(crate) fn apply(&self, record: &mut Record) {
        for (name, value) in &self.0 {
            record.insert((*name).to_owned(), value.clone());
        }
    }

    /// [`Extra::apply`] as a decoration for streams that outlive the read.
    pub(crate) fn decorator(self) -> impl Fn(&mut Record) + Send + 'static {
        move |record| self.apply(record)
    }
}
