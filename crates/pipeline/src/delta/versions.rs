//! Applying new facts (changes and deletes) to the versions of an SCD 2 table in one commit, in
//! phases: gather the rows of the touched keys, make them comparable, rebuild each key's
//! versions ([`super::timeline`]), sort what is kept aside, then write.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::compute::{cast, concat, concat_batches, interleave};
use deltalake::arrow::row::{Row, RowConverter, Rows, SortField};
use deltalake::kernel::transaction::CommitProperties;

use super::files::{NewFiles, converter, pick};
use super::history::{END_AT, START_AT, Seq, conform, relaxed, source_columns};
use super::rewrite::{OnMatch, Precedence};
use super::sink::CommitCounts;
use super::table::Target;
use super::timeline::{Event, From, Outcome, rebuild};
use super::tombstones::TOMBSTONE_SEQUENCE;
use crate::error::{PipelineError, Result, TableContext as _};

/// New facts about keys for one commit: rows and each one's sequence value.
#[derive(Default)]
pub(crate) struct Facts<'a> {
    /// Source rows (the table's source columns) and each one's sequence value.
    pub changes: Option<(&'a RecordBatch, ArrayRef)>,
    /// Deleted keys (key columns) and each delete's sequence value.
    pub deletes: Option<(&'a RecordBatch, ArrayRef)>,
}

/// Where the facts meet the table: its keys and tracked columns, the deletes recorded before,
/// and the changes kept aside.
pub(crate) struct ApplyVersions<'a> {
    pub target: &'a mut Target,
    pub keys: &'a [String],
    pub tracked: &'a [String],
    /// Deletes recorded by earlier commits (cdc changes only: a change may fall before one).
    pub tombstones: Option<&'a Target>,
    /// Cdc: the table of changes kept aside (they equalled the state before them, so made no
    /// version) and the sequence column. A change or delete arriving later below one of them
    /// makes it a version again.
    pub kept_aside: Option<(&'a mut Target, &'a str)>,
}

/// Sequence sources, by index into [`Gathered::sequences`].
const STORED_START: usize = 0;
const STORED_END: usize = 1;
const CHANGE_AT: usize = 2;
const DELETE_AT: usize = 3;
const TOMBSTONE_AT: usize = 4;
const NULL_AT: usize = 5;

/// The rows of one commit's touched keys, in the table's types.
struct Gathered {
    name: String,
    target_schema: SchemaRef,
    key_schema: SchemaRef,
    source_fields: Vec<String>,
    source_schema: SchemaRef,
    /// Changes kept aside for the touched keys, then the new ones; the first `n_aside` rows
    /// are the kept-aside ones.
    changes: Option<RecordBatch>,
    n_aside: usize,
    deletes: Option<RecordBatch>,
    stored: RecordBatch,
    tombstones: Option<RecordBatch>,
    /// Every sequence value a version may start or end at (see the indices above).
    sequences: Vec<ArrayRef>,
    sequence_type: DataType,
}

/// Rows picked from two sources, as (source, row): for source columns, 0 the stored rows and 1
/// the changes; for sequence values, the indices above.
type Picks = Vec<(usize, usize)>;

/// The versions to write: where each row's values, start and end come from, and whether it
/// removes the stored version it matches.
#[derive(Default)]
struct Rebuilt {
    picks: Picks,
    starts: Picks,
    ends: Picks,
    remove: Vec<bool>,
    outcome: Outcome,
}

impl ApplyVersions<'_> {
    /// Applies `facts` in one commit carrying `props`, which adds the `staged` data files too
    /// (already written: an SCD 2 snapshot's new keys).
    pub(crate) async fn apply(
        mut self,
        facts: Facts<'_>,
        staged: Option<NewFiles>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let gathered = self.gather(facts).await?;
        let name = gathered.name.clone();
        let comparable = Comparable::new(&gathered, self.keys, self.tracked)?;
        let rebuilt = comparable.rebuild(&gathered);
        let (set_aside, taken_back) = comparable.kept_aside(&gathered, &rebuilt.outcome);

        let empty_changes = RecordBatch::new_empty(gathered.source_schema.clone());
        let change_batch = gathered.changes.as_ref().unwrap_or(&empty_changes);
        let stored_columns = pick(&gathered.stored, &gathered.source_fields).table(&name)?;
        let change_columns = pick(change_batch, &gathered.source_fields).table(&name)?;
        let rows_of = |picks: &[(usize, usize)]| -> Result<Vec<ArrayRef>> {
            stored_columns
                .iter()
                .zip(&change_columns)
                .map(|(a, b)| interleave(&[a.as_ref(), b.as_ref()], picks).table(&name))
                .collect()
        };
        let aside_schema = relaxed(&gathered.source_schema);
        if !set_aside.is_empty() {
            let rows =
                RecordBatch::try_new(aside_schema.clone(), rows_of(&set_aside)?).table(&name)?;
            self.keep_aside(&rows, OnMatch::Upsert(Precedence::Always))
                .await?;
        }
        let rewritten = if rebuilt.picks.is_empty() && staged.is_none() {
            self.target.commit_progress(props).await?;
            CommitCounts::default()
        } else {
            let versions = gathered.versions(rows_of(&rebuilt.picks)?, &rebuilt)?;
            let mut on = self.keys.to_vec();
            on.push(START_AT.to_owned());
            let replace = OnMatch::Versions {
                remove: &rebuilt.remove,
            };
            self.target
                .rewrite_matched(&versions, &on, replace, Some(props), staged)
                .await?
        };
        // After the commit: should it not land, the batch is applied again with these still
        // aside (a kept-aside change equal to a stored version at its start changes nothing).
        if !taken_back.is_empty() {
            let rows = RecordBatch::try_new(aside_schema, rows_of(&taken_back)?).table(&name)?;
            self.keep_aside(&rows, OnMatch::Delete(Precedence::Always))
                .await?;
        }
        let outcome = rebuilt.outcome;
        // Rows count as versions inserted, changed and closed; files as the rewrite wrote them.
        Ok(CommitCounts {
            inserted: outcome.inserted,
            updated: outcome.updated,
            deleted: outcome.deleted,
            files_added: rewritten.files_added,
            files_removed: rewritten.files_removed,
            ..CommitCounts::default()
        })
    }

    /// Adds rows to (or removes them from) the kept-aside changes, by key and sequence.
    async fn keep_aside(&mut self, rows: &RecordBatch, on_match: OnMatch<'_>) -> Result<()> {
        let Some((table, sequence)) = self.kept_aside.as_mut() else {
            return Ok(());
        };
        table.ensure_schema(&rows.schema()).await?;
        let mut on = self.keys.to_vec();
        on.push((*sequence).to_owned());
        table
            .rewrite_matched(rows, &on, on_match, None, None)
            .await?;
        Ok(())
    }

    /// Phase 1: the facts in the table's types, and what the table, the kept-aside changes
    /// and the tombstones hold for the keys they touch.
    async fn gather(&self, facts: Facts<'_>) -> Result<Gathered> {
        let name = self.target.name.clone();
        let target_schema = self
            .target
            .arrow_schema()?
            .ok_or_else(|| PipelineError::State {
                table: name.clone(),
                reason: "the history table does not exist".to_owned(),
            })?;
        let sequence_type = target_schema
            .field_with_name(START_AT)
            .table(&name)?
            .data_type()
            .clone();
        let key_schema = Arc::new(Schema::new(
            self.keys
                .iter()
                .map(|k| {
                    target_schema
                        .field_with_name(k)
                        .map(|f| f.clone().with_nullable(true))
                })
                .collect::<Result<Vec<_>, _>>()
                .table(&name)?,
        ));
        let (source_fields, source_schema) = source_columns(&target_schema).table(&name)?;
        let in_types = |fact: Option<(&RecordBatch, ArrayRef)>, schema: &SchemaRef| {
            fact.map(|(rows, seq)| -> Result<_> {
                Ok((
                    conform(rows, schema).table(&name)?,
                    cast(&seq, &sequence_type).table(&name)?,
                ))
            })
            .transpose()
        };
        let changes = in_types(facts.changes, &source_schema)?;
        let deletes = in_types(facts.deletes, &key_schema)?;

        let mut touched = Vec::new();
        if let Some((rows, _)) = &changes {
            let keys = pick(rows, self.keys).table(&name)?;
            touched.push(RecordBatch::try_new(key_schema.clone(), keys).table(&name)?);
        }
        if let Some((rows, _)) = &deletes {
            touched.push(rows.clone());
        }
        let touched = concat_batches(&key_schema, &touched).table(&name)?;

        // Changes kept aside for these keys go first: they were delivered before this commit.
        let aside = match &self.kept_aside {
            Some((table, sequence)) if table.exists() => {
                let rows = table.rows_for_keys(&touched, self.keys).await?;
                let rows = conform(&rows, &source_schema).table(&name)?;
                let seq =
                    rows.column_by_name(sequence)
                        .cloned()
                        .ok_or_else(|| PipelineError::State {
                            table: name.clone(),
                            reason: format!(
                                "no sequence column `{sequence}` in the kept-aside changes"
                            ),
                        })?;
                Some((rows, cast(&seq, &sequence_type).table(&name)?))
            }
            _ => None,
        };
        let n_aside = aside.as_ref().map_or(0, |(rows, _)| rows.num_rows());
        let changes = match (aside, changes) {
            (Some((rows, seq)), Some((batch, batch_seq))) if n_aside > 0 => {
                let all = concat_batches(&rows.schema(), [&rows, &batch]).table(&name)?;
                let all_seq = concat(&[seq.as_ref(), batch_seq.as_ref()]).table(&name)?;
                Some((all, all_seq))
            }
            (Some(aside), None) if n_aside > 0 => Some(aside),
            (_, changes) => changes,
        };

        let stored = self.target.rows_for_keys(&touched, self.keys).await?;
        let stored = conform(&stored, &target_schema).table(&name)?;
        let tombstones = match self.tombstones {
            Some(table) if table.exists() => {
                let mut fields: Vec<Field> = key_schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                fields.push(Field::new(TOMBSTONE_SEQUENCE, sequence_type.clone(), true));
                let rows = table.rows_for_keys(&touched, self.keys).await?;
                Some(conform(&rows, &Arc::new(Schema::new(fields))).table(&name)?)
            }
            _ => None,
        };

        let empty = new_null_array(&sequence_type, 0);
        let column = |batch: Option<&RecordBatch>, column: &str| {
            batch
                .and_then(|b| b.column_by_name(column).cloned())
                .unwrap_or_else(|| empty.clone())
        };
        let sequences = vec![
            column(Some(&stored), START_AT),
            column(Some(&stored), END_AT),
            changes
                .as_ref()
                .map_or_else(|| empty.clone(), |(_, s)| s.clone()),
            deletes
                .as_ref()
                .map_or_else(|| empty.clone(), |(_, s)| s.clone()),
            column(tombstones.as_ref(), TOMBSTONE_SEQUENCE),
            new_null_array(&sequence_type, 1),
        ];
        Ok(Gathered {
            name,
            target_schema,
            key_schema,
            source_fields,
            source_schema,
            changes: changes.map(|(rows, _)| rows),
            n_aside,
            deletes: deletes.map(|(rows, _)| rows),
            stored,
            tombstones,
            sequences,
            sequence_type,
        })
    }
}

impl Gathered {
    /// The rebuilt versions as rows of the table: source columns, then start and end.
    fn versions(&self, source_columns: Vec<ArrayRef>, rebuilt: &Rebuilt) -> Result<RecordBatch> {
        let name = &self.name;
        let sequences: Vec<&dyn Array> = self.sequences.iter().map(AsRef::as_ref).collect();
        let mut columns = source_columns;
        columns.push(interleave(&sequences, &rebuilt.starts).table(name)?);
        columns.push(interleave(&sequences, &rebuilt.ends).table(name)?);
        RecordBatch::try_new(self.stored.schema(), columns).table(name)
    }
}

/// Phase 2: keys, sequence values and tracked values of the gathered rows, comparable as bytes.
struct Comparable {
    sequences: Vec<Rows>,
    stored_keys: Rows,
    stored_values: Rows,
    change_keys: Option<Rows>,
    change_values: Option<Rows>,
    delete_keys: Option<Rows>,
    tombstone_keys: Option<Rows>,
}

impl Comparable {
    fn new(gathered: &Gathered, keys: &[String], tracked: &[String]) -> Result<Self> {
        let name = &gathered.name;
        let key_converter = converter(&gathered.key_schema, keys).table(name)?;
        let value_converter = converter(&gathered.target_schema, tracked).table(name)?;
        let sequence_converter =
            RowConverter::new(vec![SortField::new(gathered.sequence_type.clone())]).table(name)?;
        let rows_of = |converter: &RowConverter, batch: &RecordBatch, names: &[String]| {
            converter
                .convert_columns(&pick(batch, names).table(name)?)
                .table(name)
        };
        let keys_of = |batch: Option<&RecordBatch>| {
            batch.map(|b| rows_of(&key_converter, b, keys)).transpose()
        };
        Ok(Self {
            sequences: gathered
                .sequences
                .iter()
                .map(|a| sequence_converter.convert_columns(std::slice::from_ref(a)))
                .collect::<Result<_, _>>()
                .table(name)?,
            stored_keys: rows_of(&key_converter, &gathered.stored, keys)?,
            stored_values: rows_of(&value_converter, &gathered.stored, tracked)?,
            change_keys: keys_of(gathered.changes.as_ref())?,
            change_values: gathered
                .changes
                .as_ref()
                .map(|c| rows_of(&value_converter, c, tracked))
                .transpose()?,
            delete_keys: keys_of(gathered.deletes.as_ref())?,
            tombstone_keys: keys_of(gathered.tombstones.as_ref())?,
        })
    }

    fn seq(&self, source: usize, row: usize) -> Seq<'_> {
        Seq {
            row: self.sequences[source].row(row),
            at: (source, row),
        }
    }

    /// Phase 3: every touched key's events, and its versions rebuilt from them.
    fn rebuild(&self, gathered: &Gathered) -> Rebuilt {
        let mut events: HashMap<Row<'_>, Vec<Event<Seq<'_>, Row<'_>>>> = HashMap::new();
        let stored_end = gathered.stored.column_by_name(END_AT);
        for row in 0..gathered.stored.num_rows() {
            let end = stored_end
                .is_some_and(|c| c.is_valid(row))
                .then(|| self.seq(STORED_END, row));
            events
                .entry(self.stored_keys.row(row))
                .or_default()
                .push(Event::Stored {
                    start: self.seq(STORED_START, row),
                    end,
                    values: self.stored_values.row(row),
                    row,
                });
        }
        if let Some(keys) = &self.tombstone_keys {
            for row in 0..keys.num_rows() {
                let at = self.seq(TOMBSTONE_AT, row);
                events
                    .entry(keys.row(row))
                    .or_default()
                    .push(Event::Tombstone { at });
            }
        }
        if let (Some(keys), Some(values)) = (&self.change_keys, &self.change_values) {
            for row in 0..keys.num_rows() {
                let (at, values) = (self.seq(CHANGE_AT, row), values.row(row));
                events
                    .entry(keys.row(row))
                    .or_default()
                    .push(if row < gathered.n_aside {
                        Event::Echo { at, values, row }
                    } else {
                        Event::Change { at, values, row }
                    });
            }
        }
        if let Some(keys) = &self.delete_keys {
            for row in 0..keys.num_rows() {
                let at = self.seq(DELETE_AT, row);
                events
                    .entry(keys.row(row))
                    .or_default()
                    .push(Event::Delete { at });
            }
        }
        let mut rebuilt = Rebuilt::default();
        for key_events in events.values() {
            let (versions, outcome) = rebuild(key_events);
            rebuilt.outcome.inserted += outcome.inserted;
            rebuilt.outcome.updated += outcome.updated;
            rebuilt.outcome.deleted += outcome.deleted;
            rebuilt.outcome.unchanged.extend(outcome.unchanged);
            for version in versions {
                rebuilt.remove.push(version.remove);
                rebuilt.picks.push(match version.from {
                    From::Stored(r) => (0, r),
                    From::Change(r) => (1, r),
                });
                rebuilt.starts.push(version.start.at);
                rebuilt
                    .ends
                    .push(version.end.map_or((NULL_AT, 0), |e| e.at));
            }
        }
        rebuilt
    }

    /// Phase 4: what to keep aside from now on (this commit's unchanged changes and stored
    /// versions) and what to take back (kept-aside changes that are versions now, or lost a
    /// tie), as (stored 0 / changes 1, row) picks.
    fn kept_aside(&self, gathered: &Gathered, outcome: &Outcome) -> (Picks, Picks) {
        let n_aside = gathered.n_aside;
        let mut still_aside = vec![false; n_aside];
        let mut set_aside = Picks::new();
        for from in &outcome.unchanged {
            match *from {
                From::Change(r) if r < n_aside => still_aside[r] = true,
                From::Change(r) => set_aside.push((1, r)),
                From::Stored(r) => set_aside.push((0, r)),
            }
        }
        // A change set aside again under the same key and sequence value (it won a tie with the
        // kept-aside one) replaces it in place: not taken back after the commit.
        let identity = |(source, r): (usize, usize)| -> Option<(Vec<u8>, Vec<u8>)> {
            let (key, seq) = match source {
                0 => (self.stored_keys.row(r), self.sequences[STORED_START].row(r)),
                _ => (
                    self.change_keys.as_ref()?.row(r),
                    self.sequences[CHANGE_AT].row(r),
                ),
            };
            Some((key.as_ref().to_vec(), seq.as_ref().to_vec()))
        };
        let set_aside_ids: HashSet<_> = set_aside.iter().filter_map(|&at| identity(at)).collect();
        let taken_back = (0..n_aside)
            .filter(|&r| !still_aside[r])
            .map(|r| (1, r))
            .filter(|&at| identity(at).is_none_or(|id| !set_aside_ids.contains(&id)))
            .collect();
        (set_aside, taken_back)
    }
}
