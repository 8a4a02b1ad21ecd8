//! Changes by key without delta-rs MERGE, whose memory grows with the target table: the files
//! that may hold a changed key are found from their statistics, probed on the key columns, and
//! only those with a row that actually changes are rewritten, one row group at a time. Memory
//! follows the commit's changes plus one row group, whatever the size of the table; the removes,
//! the adds and the flow's progress land in one commit.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_schema::DataType;
use deltalake::arrow::compute::{cast, take_record_batch};
use deltalake::arrow::row::{Row, RowConverter, Rows};
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::DeltaOperation;
use futures::TryStreamExt as _;
use serde_json::Value;

use super::files::{DataFile, NewFiles, converter, fit, open_file, pick, project};
use super::rewrite_files::{Rewriting, Rewritten};
use super::sink::CommitCounts;
use super::table::Target;
use crate::error::{PipelineError, Result, TableContext as _};

/// Rows of the changes inserted at a time.
const INSERT_ROWS: usize = 8192;

/// Which row of a matched pair wins, by a sequence column of the same name in both.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Precedence<'a> {
    /// The change always wins.
    Always,
    /// The change wins when its sequence is at least the table row's, or the row has none.
    NotOlder(&'a str),
    /// The change wins when its sequence is greater than the table row's, or the row has none.
    Newer(&'a str),
}

/// A [`Precedence`] without its column, to keep beside an owned column name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PrecedenceKind {
    Always,
    NotOlder,
    Newer,
}

impl<'a> Precedence<'a> {
    /// The precedence of `kind` by `column` (`Always` without one).
    pub(crate) fn new(kind: PrecedenceKind, column: Option<&'a str>) -> Self {
        match (kind, column) {
            (PrecedenceKind::NotOlder, Some(c)) => Self::NotOlder(c),
            (PrecedenceKind::Newer, Some(c)) => Self::Newer(c),
            _ => Self::Always,
        }
    }

    pub(crate) fn kind(self) -> PrecedenceKind {
        match self {
            Self::Always => PrecedenceKind::Always,
            Self::NotOlder(_) => PrecedenceKind::NotOlder,
            Self::Newer(_) => PrecedenceKind::Newer,
        }
    }

    fn column(self) -> Option<&'a str> {
        match self {
            Self::Always => None,
            Self::NotOlder(c) | Self::Newer(c) => Some(c),
        }
    }
}

/// What a winning change does to the table row it matches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnMatch<'a> {
    /// Replaces it; changes that match no row are inserted.
    Upsert(Precedence<'a>),
    /// Removes it; changes that match no row do nothing.
    Delete(Precedence<'a>),
    /// SCD 2 versions: a change always replaces the row it matches, or removes it where
    /// `remove` (one flag per change) says so; changes that match no row and are not removals
    /// are inserted.
    Versions { remove: &'a [bool] },
}

impl<'a> OnMatch<'a> {
    fn precedence(self) -> Precedence<'a> {
        match self {
            Self::Upsert(p) | Self::Delete(p) => p,
            Self::Versions { .. } => Precedence::Always,
        }
    }

    /// Whether a winning `change` removes the row it matches.
    fn removes(self, change: usize) -> bool {
        match self {
            Self::Upsert(_) => false,
            Self::Delete(_) => true,
            Self::Versions { remove } => remove.get(change).copied().unwrap_or(false),
        }
    }

    /// Whether a `change` that matches no row is inserted.
    fn inserts(self, change: usize) -> bool {
        match self {
            Self::Upsert(_) => true,
            Self::Delete(_) => false,
            Self::Versions { remove } => !remove.get(change).copied().unwrap_or(false),
        }
    }
}

/// The sequence values of changes and table rows, comparable as bytes.
struct Sequences {
    converter: RowConverter,
    changes: Rows,
}

impl Target {
    /// Applies `changes` (one row per value of the `on` columns) to the rows they match on
    /// `on`, in one commit carrying `progress` (a commit that changes nothing still records it)
    /// that also adds the `staged` files, already written.
    pub(crate) async fn rewrite_matched(
        &mut self,
        changes: &RecordBatch,
        on: &[String],
        on_match: OnMatch<'_>,
        progress: Option<CommitProperties>,
        staged: Option<NewFiles>,
    ) -> Result<CommitCounts> {
        let name = self.name.clone();
        let schema = self.existing_schema()?;
        let changes = fit(changes, &schema).table(&name)?;
        let precedence = on_match.precedence();
        let matching = Matching::new(&schema, &changes, on, precedence).table(&name)?;
        let decide = matching.decide(on, precedence);
        let Probe { matched, changing } = self.probe(&changes, on, &decide).await?;
        // Pass 2: rewrite the files where a change wins (in parallel), then insert what
        // matched nothing.
        let writer = match staged {
            Some(staged) => staged,
            None => NewFiles::for_table(self)?,
        };
        let removes = (0..changes.num_rows())
            .map(|i| on_match.removes(i))
            .collect();
        let rewriting = Arc::new(Rewriting {
            name: name.clone(),
            schema: schema.clone(),
            changes: changes.clone(),
            on: on.to_vec(),
            sequence: precedence.column().map(str::to_owned),
            precedence: precedence.kind(),
            removes,
            matching,
        });
        let store = self.table.object_store();
        let Rewritten {
            mut counts,
            actions,
            mut writer,
        } = rewriting
            .rewrite_all(self, &store, changing, writer)
            .await?;
        let unmatched: Vec<u32> = (0..changes.num_rows())
            .filter(|&i| !matched[i] && on_match.inserts(i))
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        counts.inserted = unmatched.len();
        // In slices, so that inserting a whole load copies one slice at a time.
        for rows in unmatched.chunks(INSERT_ROWS) {
            let inserts =
                take_record_batch(&changes, &UInt32Array::from(rows.to_vec())).table(&name)?;
            writer.write(&inserts).await?;
        }
        let operation = DeltaOperation::Update { predicate: None };
        counts += writer.commit(self, actions, operation, progress).await?;
        Ok(counts)
    }

    /// Whether applying `changes` (as [`Self::rewrite_matched`] would) rewrites any data file:
    /// whether one of them matches a row of the table and wins over it.
    pub(crate) async fn rewrites_any(
        &self,
        changes: &RecordBatch,
        on: &[String],
        precedence: Precedence<'_>,
    ) -> Result<bool> {
        let name = &self.name;
        let Some(schema) = self.arrow_schema()? else {
            return Ok(false);
        };
        let changes = fit(changes, &schema).table(name)?;
        let matching = Matching::new(&schema, &changes, on, precedence).table(name)?;
        let decide = matching.decide(on, precedence);
        Ok(!self.probe(&changes, on, &decide).await?.changing.is_empty())
    }

    fn existing_schema(&self) -> Result<arrow_schema::SchemaRef> {
        self.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: self.name.clone(),
            reason: "cannot change rows of a table that does not exist".to_owned(),
        })
    }

    /// Pass 1: the key (and sequence) columns of every file that may hold a changed key, read
    /// to find which changes match a row and which files hold a row a change wins over.
    async fn probe(
        &self,
        changes: &RecordBatch,
        on: &[String],
        decide: &Decide<'_>,
    ) -> Result<Probe> {
        let name = &self.name;
        let schema = self.existing_schema()?;
        let store = self.table.object_store();
        let mut probe: Vec<String> = on.to_vec();
        probe.extend(decide.precedence.column().map(str::to_owned));
        let probe_schema = project(&schema, &probe).table(name)?;
        let mut matched = vec![false; changes.num_rows()];
        let mut changing = Vec::new();
        for file in self.candidate_files(changes, on)? {
            let mut rows = open_file(&store, &file, Some(&probe)).await.table(name)?;
            let mut changes_file = false;
            while let Some(batch) = rows.try_next().await.table(name)? {
                let batch = fit(&batch, &probe_schema).table(name)?;
                for (_, found) in decide.rows(&batch).table(name)? {
                    if let Some((change, wins)) = found {
                        matched[change] = true;
                        changes_file |= wins;
                    }
                }
            }
            if changes_file {
                changing.push(file);
            }
        }
        Ok(Probe { matched, changing })
    }

    /// The files whose statistics do not rule out holding one of the changes' keys (pruned on
    /// the first key column when it is an integer, the common case of ids).
    fn candidate_files(&self, changes: &RecordBatch, on: &[String]) -> Result<Vec<DataFile>> {
        let bounds = on
            .first()
            .and_then(|c| sorted_integers(changes, c).map(|v| (c, v)));
        Ok(self
            .data_files()?
            .into_iter()
            .filter(|(stats, _)| {
                bounds
                    .as_ref()
                    .is_none_or(|(column, values)| may_hold(stats.as_deref(), column, values))
            })
            .map(|(_, file)| file)
            .collect())
    }
}

/// What pass 1 found: which changes match a table row, and the files to rewrite.
struct Probe {
    matched: Vec<bool>,
    changing: Vec<DataFile>,
}

/// The changes' keys (and sequences) as comparable rows, indexed by key.
pub(crate) struct Matching {
    on_converter: RowConverter,
    change_keys: Rows,
    sequences: Option<Sequences>,
}

impl Matching {
    fn new(
        schema: &arrow_schema::SchemaRef,
        changes: &RecordBatch,
        on: &[String],
        precedence: Precedence<'_>,
    ) -> Result<Self, deltalake::arrow::error::ArrowError> {
        let on_converter = converter(schema, on)?;
        let change_keys = on_converter.convert_columns(&pick(changes, on)?)?;
        let sequences = match precedence.column() {
            Some(seq) => {
                let names = [seq.to_owned()];
                let converter = converter(schema, &names)?;
                let changes = converter.convert_columns(&pick(changes, &names)?)?;
                Some(Sequences { converter, changes })
            }
            None => None,
        };
        Ok(Self {
            on_converter,
            change_keys,
            sequences,
        })
    }

    pub(crate) fn decide<'a>(&'a self, on: &'a [String], precedence: Precedence<'a>) -> Decide<'a> {
        let index = (0..self.change_keys.num_rows())
            .map(|i| (self.change_keys.row(i), i))
            .collect();
        Decide {
            on,
            on_converter: &self.on_converter,
            index,
            sequences: self.sequences.as_ref(),
            precedence,
        }
    }
}

/// Decides, row by row, which change a table row matches and whether the change wins.
pub(crate) struct Decide<'a> {
    on: &'a [String],
    on_converter: &'a RowConverter,
    index: HashMap<Row<'a>, usize>,
    sequences: Option<&'a Sequences>,
    precedence: Precedence<'a>,
}

impl Decide<'_> {
    /// For each row of `batch` (which holds at least the `on` and sequence columns): the index
    /// of the change it matches and whether that change wins.
    pub(crate) fn rows(
        &self,
        batch: &RecordBatch,
    ) -> Result<Matches, deltalake::arrow::error::ArrowError> {
        let keys = self.on_converter.convert_columns(&pick(batch, self.on)?)?;
        let table_seq = match (self.sequences, self.precedence.column()) {
            (Some(s), Some(column)) => {
                let array = pick(batch, &[column.to_owned()])?;
                Some((s.converter.convert_columns(&array)?, array[0].clone()))
            }
            _ => None,
        };
        Ok((0..batch.num_rows())
            .map(|row| {
                let found = self.index.get(&keys.row(row)).map(|&change| {
                    let wins = match (&table_seq, self.sequences) {
                        (Some((rows, array)), Some(s)) if !array.is_null(row) => {
                            let (new, old) = (s.changes.row(change), rows.row(row));
                            match self.precedence {
                                Precedence::Always => true,
                                Precedence::NotOlder(_) => new >= old,
                                Precedence::Newer(_) => new > old,
                            }
                        }
                        _ => true,
                    };
                    (change, wins)
                });
                (row, found)
            })
            .collect())
    }
}

/// For each row of a batch: the change it matches, and whether that change wins.
pub(crate) type Matches = Vec<(usize, Option<(usize, bool)>)>;

/// The non-null values of an integer column, sorted; `None` for other types.
fn sorted_integers(batch: &RecordBatch, column: &str) -> Option<Vec<i64>> {
    let array = batch.column_by_name(column)?;
    let integer = matches!(
        array.data_type(),
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    );
    if !integer {
        return None;
    }
    let values = cast(array, &DataType::Int64).ok()?;
    let values = values.as_any().downcast_ref::<arrow_array::Int64Array>()?;
    let mut sorted: Vec<i64> = values.iter().flatten().collect();
    sorted.sort_unstable();
    Some(sorted)
}

/// Whether a file whose statistics are `stats` may hold one of `sorted` in `column`
/// (a file without statistics may hold anything).
fn may_hold(stats: Option<&str>, column: &str, sorted: &[i64]) -> bool {
    let Some(stats) = stats.and_then(|s| serde_json::from_str::<Value>(s).ok()) else {
        return true;
    };
    let bound = |which: &str| stats.get(which)?.get(column)?.as_i64();
    let (Some(min), Some(max)) = (bound("minValues"), bound("maxValues")) else {
        return true;
    };
    let first = sorted.partition_point(|&v| v < min);
    sorted.get(first).is_some_and(|&v| v <= max)
}

#[cfg(test)]
mod tests {
    use super::may_hold;

    #[test]
    fn files_are_pruned_by_integer_key_ranges() {
        let stats = r#"{"numRecords":3,"minValues":{"id":10},"maxValues":{"id":20}}"#;
        assert!(may_hold(Some(stats), "id", &[1, 15, 30]));
        assert!(may_hold(Some(stats), "id", &[10]));
        assert!(may_hold(Some(stats), "id", &[20]));
        assert!(!may_hold(Some(stats), "id", &[1, 9, 21, 30]));
        assert!(!may_hold(Some(stats), "id", &[]));
        assert!(may_hold(Some(stats), "other", &[1]), "no bounds: keep");
        assert!(may_hold(None, "id", &[1]), "no statistics: keep");
    }
}
