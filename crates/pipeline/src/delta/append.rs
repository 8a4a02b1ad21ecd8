//! Appending: each read goes to new data files as it arrives, and the commit adds them, so
//! memory holds one read and one row group, whatever the commit's size.

use arrow_array::RecordBatch;
use deltalake::kernel::transaction::CommitProperties;

use super::files::NewFiles;
use super::sink::{CommitCounts, Operation};
use super::table::Target;
use crate::error::Result;

/// An append flow's operation.
#[derive(Default)]
pub(crate) struct Append {
    /// The files of the next commit, started by its first rows.
    files: Option<NewFiles>,
    rows: usize,
}

impl Operation for Append {
    async fn write(&mut self, target: &Target, batch: &RecordBatch) -> Result<()> {
        let files = match &mut self.files {
            Some(files) => files,
            None => self.files.insert(NewFiles::for_table(target)?),
        };
        self.rows += batch.num_rows();
        files.write(batch).await
    }

    async fn commit(
        &mut self,
        target: &mut Target,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let appended = std::mem::take(&mut self.rows);
        let files = match self.files.take() {
            Some(files) if appended > 0 => files.append(target, props).await?,
            _ => {
                target.commit_progress(props).await?;
                CommitCounts::default()
            }
        };
        Ok(CommitCounts { appended, ..files })
    }
}
