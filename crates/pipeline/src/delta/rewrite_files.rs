//! Pass 2 of a rewrite by key: the data files where a change wins are rewritten with the
//! changes in place of the rows they win over, on several tasks at once (each with its own new
//! files); the caller commits every remove and add together.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use deltalake::kernel::Action;
use deltalake::logstore::ObjectStoreRef;
use futures::TryStreamExt as _;

use super::files::{DataFile, NewFiles, fit, interleave_rows, open_file};
use super::rewrite::{Matching, Precedence, PrecedenceKind};
use super::sink::CommitCounts;
use super::table::Target;
use crate::error::{PipelineError, Result, TableContext as _};

/// The fewest files a rewriting task of its own is started for.
const FILES_PER_TASK: usize = 4;

/// What every rewriting task shares: the changes, their keys and sequences, and what a
/// winning change does.
pub(super) struct Rewriting {
    pub(super) name: String,
    pub(super) schema: SchemaRef,
    pub(super) changes: RecordBatch,
    pub(super) on: Vec<String>,
    pub(super) sequence: Option<String>,
    pub(super) precedence: PrecedenceKind,
    /// Per change: whether it removes the row it wins over (else it replaces it).
    pub(super) removes: Vec<bool>,
    pub(super) matching: Matching,
}

/// What rewriting files did: rows updated and deleted, the removes of the files rewritten, and
/// the writer of the new files (not yet committed).
pub(super) struct Rewritten {
    pub(super) counts: CommitCounts,
    pub(super) actions: Vec<Action>,
    pub(super) writer: NewFiles,
}

impl Rewriting {
    /// Rewrites `files`, split by size over up to one task per core, each taking at least
    /// [`FILES_PER_TASK`] files (a task holds a row group read and one written: a small rewrite
    /// is short anyway, and stays in one task's memory); the first group goes to `writer`,
    /// whose new files the result carries, and the other tasks' new files come back as add
    /// actions among its `actions`.
    pub(super) async fn rewrite_all(
        self: Arc<Self>,
        target: &Target,
        store: &ObjectStoreRef,
        files: Vec<DataFile>,
        writer: NewFiles,
    ) -> Result<Rewritten> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let tasks = cores.min(files.len() / FILES_PER_TASK).max(1);
        let mut groups = by_size(files, tasks).into_iter();
        let first = groups.next().unwrap_or_default();
        let mut others = Vec::new();
        for group in groups {
            let writer = NewFiles::for_table(target)?;
            let task = Arc::clone(&self).rewrite(store.clone(), group, writer);
            others.push(tokio::spawn(task));
        }
        let mut done = Arc::clone(&self)
            .rewrite(store.clone(), first, writer)
            .await?;
        for task in others {
            let other = task.await.map_err(|e| PipelineError::State {
                table: self.name.clone(),
                reason: format!("rewriting data files panicked: {e}"),
            })??;
            done.counts += other.counts;
            done.actions.extend(other.actions);
            done.actions.extend(other.writer.into_adds().await?);
        }
        Ok(done)
    }

    /// Rewrites `files` one row group at a time into `writer`.
    async fn rewrite(
        self: Arc<Self>,
        store: ObjectStoreRef,
        files: Vec<DataFile>,
        mut writer: NewFiles,
    ) -> Result<Rewritten> {
        let name = &self.name;
        let precedence = Precedence::new(self.precedence, self.sequence.as_deref());
        let decide = self.matching.decide(&self.on, precedence);
        let mut counts = CommitCounts::default();
        let mut actions = Vec::new();
        for file in files {
            let mut rows = open_file(&store, &file, None).await.table(name)?;
            while let Some(batch) = rows.try_next().await.table(name)? {
                let batch = fit(&batch, &self.schema).table(name)?;
                let mut picks: Vec<(usize, usize)> = Vec::with_capacity(batch.num_rows());
                for (row, found) in decide.rows(&batch).table(name)? {
                    match found {
                        Some((change, true)) if self.removes[change] => counts.deleted += 1,
                        Some((change, true)) => {
                            counts.updated += 1;
                            picks.push((1, change));
                        }
                        _ => picks.push((0, row)),
                    }
                }
                if !picks.is_empty() {
                    let out = interleave_rows(&[&batch, &self.changes], &picks).table(name)?;
                    writer.write(&out).await?;
                }
            }
            actions.push(Action::Remove(file.remove));
        }
        Ok(Rewritten {
            counts,
            actions,
            writer,
        })
    }
}

/// `files` in at most `groups` groups of about equal bytes (largest first, each to the
/// lightest group), none empty.
fn by_size(mut files: Vec<DataFile>, groups: usize) -> Vec<Vec<DataFile>> {
    files.sort_by_key(|f| std::cmp::Reverse(f.size));
    let mut split: Vec<(u64, Vec<DataFile>)> = Vec::new();
    for file in files {
        if split.len() < groups.max(1) {
            split.push((file.size, vec![file]));
        } else if let Some(lightest) = split.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            lightest.0 += file.size;
            lightest.1.push(file);
        }
    }
    split.into_iter().map(|(_, files)| files).collect()
}

#[cfg(test)]
mod tests {
    use deltalake::Path;
    use deltalake::kernel::Remove;

    use super::{DataFile, by_size};

    fn file(name: &str, size: u64) -> DataFile {
        DataFile {
            path: Path::from(name),
            size,
            remove: Remove {
                path: name.to_owned(),
                ..Remove::default()
            },
        }
    }

    fn names(groups: &[Vec<DataFile>]) -> Vec<Vec<String>> {
        let names = |g: &Vec<DataFile>| g.iter().map(|f| f.path.to_string()).collect();
        groups.iter().map(names).collect()
    }

    #[test]
    fn files_are_split_into_groups_of_about_equal_bytes() {
        let files = vec![file("a", 10), file("b", 70), file("c", 30), file("d", 40)];
        let groups = by_size(files, 2);
        assert_eq!(names(&groups), [vec!["b", "a"], vec!["d", "c"]]);
        let one = by_size(vec![file("a", 1)], 4);
        assert_eq!(names(&one), [vec!["a"]], "no empty group");
        assert!(by_size(Vec::new(), 2).is_empty());
        assert_eq!(by_size(vec![file("a", 1), file("b", 2)], 0).len(), 1);
    }
}
