//! SCD type 2 on Delta: every version of a key is a row with `__START_AT` and `__END_AT`
//! (`__END_AT` null on the current version), as in Databricks AUTO CDC.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::compute::{cast, concat_batches, interleave};
use deltalake::arrow::row::{Row, RowConverter, Rows, SortField};
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;

use super::dedupe::latest_per_key;
use super::rewrite::{OnMatch, Precedence, pick};
use super::table::Target;
use super::timeline::{Event, From, Outcome, rebuild};
use super::write::{CommitCounts, TOMBSTONE_SEQUENCE};
use crate::error::{PipelineError, Result, TableContext as _};

/// Start of a version (inclusive), in the type of the sequence column.
pub const START_AT: &str = "__START_AT";
/// End of a version (exclusive); null on the current version.
pub const END_AT: &str = "__END_AT";

/// The destination schema of an SCD 2 table: the source columns, then the two version columns.
pub fn history_schema(source: &Schema, sequence_type: &DataType) -> SchemaRef {
    let mut fields: Vec<Field> = source.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(START_AT, sequence_type.clone(), true));
    fields.push(Field::new(END_AT, sequence_type.clone(), true));
    Arc::new(Schema::new(fields))
}

/// New facts about keys for one commit.
pub struct HistoryInput<'a> {
    /// Source rows (the table's source columns) and each one's sequence value.
    pub changes: Option<(&'a RecordBatch, ArrayRef)>,
    /// Deleted keys (key columns) and each delete's sequence value.
    pub deletes: Option<(&'a RecordBatch, ArrayRef)>,
    /// Cdc: the table of changes kept aside (they equalled the state before them, so made no
    /// version) and the sequence column. A change or delete arriving later below one of them
    /// makes it a version again.
    pub kept_aside: Option<(&'a mut Target, &'a str)>,
}

/// A sequence value and where it is, so the output can copy it.
#[derive(Debug, Clone, Copy)]
struct Seq<'a> {
    row: Row<'a>,
    at: (usize, usize),
}

impl PartialEq for Seq<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.row == other.row
    }
}
impl Eq for Seq<'_> {}
impl PartialOrd for Seq<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Seq<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.row.cmp(&other.row)
    }
}

/// Casts `batch` to `schema` column by column (Delta reads strings back as views).
pub(crate) fn conform(
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, deltalake::arrow::error::ArrowError> {
    let cols = schema
        .fields()
        .iter()
        .map(|f| {
            let c = batch.column_by_name(f.name()).ok_or_else(|| {
                deltalake::arrow::error::ArrowError::SchemaError(format!(
                    "no column `{}`",
                    f.name()
                ))
            })?;
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                cast(c, f.data_type())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(relaxed(schema), cols)
}

/// `schema` with every column nullable.
pub(crate) fn relaxed(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ))
}

impl Target {
    /// Applies changes and deletes to an SCD 2 table in one commit.
    pub async fn apply_history(
        &mut self,
        keys: &[String],
        tracked: &[String],
        mut input: HistoryInput<'_>,
        tombstones: Option<&Target>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let name = self.name.clone();
        let target_schema = self.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: name.clone(),
            reason: "the history table does not exist".to_owned(),
        })?;
        let seq_type = target_schema
            .field_with_name(START_AT)
            .table(&name)?
            .data_type()
            .clone();
        let key_schema = Arc::new(Schema::new(
            keys.iter()
                .map(|k| {
                    target_schema
                        .field_with_name(k)
                        .map(|f| f.clone().with_nullable(true))
                })
                .collect::<Result<Vec<_>, _>>()
                .table(&name)?,
        ));
        let (source_fields, source_schema) = source_columns(&target_schema).table(&name)?;

        // The keys touched by this commit.
        let mut key_parts = Vec::new();
        let changes = match &input.changes {
            Some((batch, seq)) => Some((
                conform(batch, &source_schema).table(&name)?,
                cast(seq, &seq_type).table(&name)?,
            )),
            None => None,
        };
        let deletes = match &input.deletes {
            Some((batch, seq)) => Some((
                conform(batch, &key_schema).table(&name)?,
                cast(seq, &seq_type).table(&name)?,
            )),
            None => None,
        };
        if let Some((c, _)) = &changes {
            key_parts.push(
                RecordBatch::try_new(key_schema.clone(), pick(c, keys).table(&name)?)
                    .table(&name)?,
            );
        }
        if let Some((d, _)) = &deletes {
            key_parts.push(d.clone());
        }
        let touched = concat_batches(&key_schema, &key_parts).table(&name)?;

        // Changes kept aside for these keys go first: they were delivered before this commit.
        let aside = match &input.kept_aside {
            Some((table, sequence)) if table.exists() => {
                let rows = table.rows_for_keys(&touched, keys).await?;
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
                Some((rows, cast(&seq, &seq_type).table(&name)?))
            }
            _ => None,
        };
        let n_aside = aside.as_ref().map_or(0, |(rows, _)| rows.num_rows());
        let changes = match (aside, changes) {
            (Some((rows, seq)), Some((batch, batch_seq))) if n_aside > 0 => {
                let all = concat_batches(&rows.schema(), [&rows, &batch]).table(&name)?;
                let all_seq =
                    deltalake::arrow::compute::concat(&[seq.as_ref(), batch_seq.as_ref()])
                        .table(&name)?;
                Some((all, all_seq))
            }
            (Some(aside), None) if n_aside > 0 => Some(aside),
            (_, changes) => changes,
        };

        // What the table and the tombstones hold for those keys.
        let stored = self.rows_for_keys(&touched, keys).await?;
        let stored = conform(&stored, &target_schema).table(&name)?;
        let tombs = match tombstones {
            Some(t) if t.exists() => {
                let mut tomb_schema: Vec<Field> = key_schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                tomb_schema.push(Field::new(TOMBSTONE_SEQUENCE, seq_type.clone(), true));
                let rows = t.rows_for_keys(&touched, keys).await?;
                Some(conform(&rows, &Arc::new(Schema::new(tomb_schema))).table(&name)?)
            }
            _ => None,
        };

        // Comparable forms: keys, sequence values, tracked values.
        let key_fields: Vec<SortField> = key_schema
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect();
        let key_conv = RowConverter::new(key_fields).table(&name)?;
        let seq_conv = RowConverter::new(vec![SortField::new(seq_type.clone())]).table(&name)?;
        let tracked_types: Vec<SortField> = tracked
            .iter()
            .map(|t| {
                target_schema
                    .field_with_name(t)
                    .map(|f| SortField::new(f.data_type().clone()))
            })
            .collect::<Result<_, _>>()
            .table(&name)?;
        let value_conv = RowConverter::new(tracked_types).table(&name)?;
        let empty_seq = new_null_array(&seq_type, 0);
        let null_seq = new_null_array(&seq_type, 1);
        // Sequence sources, by index: 0 stored start, 1 stored end, 2 change seq, 3 delete seq,
        // 4 tombstone seq, 5 a null.
        let seq_arrays: Vec<ArrayRef> = vec![
            stored
                .column_by_name(START_AT)
                .cloned()
                .unwrap_or_else(|| empty_seq.clone()),
            stored
                .column_by_name(END_AT)
                .cloned()
                .unwrap_or_else(|| empty_seq.clone()),
            changes
                .as_ref()
                .map_or_else(|| empty_seq.clone(), |(_, s)| s.clone()),
            deletes
                .as_ref()
                .map_or_else(|| empty_seq.clone(), |(_, s)| s.clone()),
            tombs
                .as_ref()
                .and_then(|t| t.column_by_name(TOMBSTONE_SEQUENCE).cloned())
                .unwrap_or_else(|| empty_seq.clone()),
            null_seq,
        ];
        let seq_rows: Vec<Rows> = seq_arrays
            .iter()
            .map(|a| seq_conv.convert_columns(std::slice::from_ref(a)))
            .collect::<Result<_, _>>()
            .table(&name)?;
        let keys_of = |batch: &RecordBatch| -> Result<Rows> {
            key_conv
                .convert_columns(&pick(batch, keys).table(&name)?)
                .table(&name)
        };
        let values_of = |batch: &RecordBatch| -> Result<Rows> {
            value_conv
                .convert_columns(&pick(batch, tracked).table(&name)?)
                .table(&name)
        };
        let stored_keys = keys_of(&stored)?;
        let stored_values = values_of(&stored)?;
        let seq = |source: usize, row: usize| Seq {
            row: seq_rows[source].row(row),
            at: (source, row),
        };

        let mut events: HashMap<Row<'_>, Vec<Event<Seq<'_>, Row<'_>>>> = HashMap::new();
        for row in 0..stored.num_rows() {
            let end = stored
                .column_by_name(END_AT)
                .is_some_and(|c| c.is_valid(row))
                .then(|| seq(1, row));
            events
                .entry(stored_keys.row(row))
                .or_default()
                .push(Event::Stored {
                    start: seq(0, row),
                    end,
                    values: stored_values.row(row),
                    row,
                });
        }
        let tomb_keys = tombs.as_ref().map(&keys_of).transpose()?;
        if let Some(tomb_keys) = &tomb_keys {
            for row in 0..tomb_keys.num_rows() {
                events
                    .entry(tomb_keys.row(row))
                    .or_default()
                    .push(Event::Tombstone { at: seq(4, row) });
            }
        }
        let change_keys = changes.as_ref().map(|(c, _)| keys_of(c)).transpose()?;
        let change_values = changes.as_ref().map(|(c, _)| values_of(c)).transpose()?;
        if let (Some(ck), Some(cv)) = (&change_keys, &change_values) {
            for row in 0..ck.num_rows() {
                let (at, values) = (seq(2, row), cv.row(row));
                events
                    .entry(ck.row(row))
                    .or_default()
                    .push(if row < n_aside {
                        Event::Echo { at, values, row }
                    } else {
                        Event::Change { at, values, row }
                    });
            }
        }
        let delete_keys = deletes.as_ref().map(|(d, _)| keys_of(d)).transpose()?;
        if let Some(dk) = &delete_keys {
            for row in 0..dk.num_rows() {
                events
                    .entry(dk.row(row))
                    .or_default()
                    .push(Event::Delete { at: seq(3, row) });
            }
        }
        // Rebuild each key's history; gather the rows to write.
        let mut picks: Vec<(usize, usize)> = Vec::new();
        let mut remove: Vec<bool> = Vec::new();
        let mut starts: Vec<(usize, usize)> = Vec::new();
        let mut ends: Vec<(usize, usize)> = Vec::new();
        let mut outcome = Outcome::default();
        for key_events in events.values() {
            let (versions, o) = rebuild(key_events);
            outcome.inserted += o.inserted;
            outcome.updated += o.updated;
            outcome.deleted += o.deleted;
            outcome.unchanged.extend(o.unchanged);
            for v in versions {
                remove.push(v.remove);
                picks.push(match v.from {
                    From::Stored(r) => (0, r),
                    From::Change(r) => (1, r),
                });
                starts.push(v.start.at);
                ends.push(v.end.map_or((5, 0), |e| e.at));
            }
        }
        let empty_changes = RecordBatch::new_empty(source_schema.clone());
        let change_batch = changes.as_ref().map_or(&empty_changes, |(c, _)| c);
        let stored_columns = pick(&stored, &source_fields).table(&name)?;
        let change_columns = pick(change_batch, &source_fields).table(&name)?;
        let pick_source = |picks: &[(usize, usize)]| -> Result<Vec<ArrayRef>> {
            stored_columns
                .iter()
                .zip(&change_columns)
                .map(|(a, b)| interleave(&[a.as_ref(), b.as_ref()], picks).table(&name))
                .collect()
        };

        // What to keep aside from now on: this commit's unchanged changes and stored versions;
        // what to take back: kept-aside changes that are versions now (or lost a tie).
        let mut still_aside = vec![false; n_aside];
        let mut set_aside: Vec<(usize, usize)> = Vec::new();
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
                0 => (stored_keys.row(r), seq_rows[0].row(r)),
                _ => (change_keys.as_ref()?.row(r), seq_rows[2].row(r)),
            };
            Some((key.as_ref().to_vec(), seq.as_ref().to_vec()))
        };
        let set_aside_ids: std::collections::HashSet<_> =
            set_aside.iter().filter_map(|&at| identity(at)).collect();
        let taken_back: Vec<(usize, usize)> = (0..n_aside)
            .filter(|&r| !still_aside[r])
            .map(|r| (1, r))
            .filter(|&at| identity(at).is_none_or(|id| !set_aside_ids.contains(&id)))
            .collect();
        let relaxed = relaxed(&source_schema);
        if let Some((table, sequence)) = input.kept_aside.as_mut()
            && !set_aside.is_empty()
        {
            let rows =
                RecordBatch::try_new(relaxed.clone(), pick_source(&set_aside)?).table(&name)?;
            table.ensure_schema(&relaxed).await?;
            let mut on = keys.to_vec();
            on.push((*sequence).to_owned());
            table
                .rewrite_matched(&rows, &on, OnMatch::Upsert(Precedence::Always), None)
                .await?;
        }

        if picks.is_empty() && self.staged.is_none() {
            self.commit_progress(props).await?;
        } else {
            self.write_versions(
                &stored,
                keys,
                &pick_source(&picks)?,
                &seq_arrays,
                &starts,
                &ends,
                &remove,
                props,
            )
            .await?;
        }
        // After the commit: should it not land, the batch is applied again with these still
        // aside (a kept-aside change equal to a stored version at its start changes nothing).
        if let Some((table, sequence)) = input.kept_aside.as_mut()
            && !taken_back.is_empty()
        {
            let rows =
                RecordBatch::try_new(relaxed.clone(), pick_source(&taken_back)?).table(&name)?;
            let mut on = keys.to_vec();
            on.push((*sequence).to_owned());
            table
                .rewrite_matched(&rows, &on, OnMatch::Delete(Precedence::Always), None)
                .await?;
        }
        Ok(CommitCounts {
            inserted: outcome.inserted,
            updated: outcome.updated,
            deleted: outcome.deleted,
            appended: 0,
        })
    }

    /// Writes the rebuilt versions (source columns, then start and end picked from the sequence
    /// sources) in one commit.
    #[expect(clippy::too_many_arguments)]
    async fn write_versions(
        &mut self,
        stored: &RecordBatch,
        keys: &[String],
        source_columns: &[ArrayRef],
        seq_arrays: &[ArrayRef],
        starts: &[(usize, usize)],
        ends: &[(usize, usize)],
        remove: &[bool],
        props: CommitProperties,
    ) -> Result<()> {
        let name = self.name.clone();
        let mut out_columns: Vec<ArrayRef> = source_columns.to_vec();
        let seq_refs: Vec<&dyn Array> = seq_arrays.iter().map(AsRef::as_ref).collect();
        out_columns.push(interleave(&seq_refs, starts).table(&name)?);
        out_columns.push(interleave(&seq_refs, ends).table(&name)?);
        let out = RecordBatch::try_new(stored.schema(), out_columns).table(&name)?;

        let mut on = keys.to_vec();
        on.push(START_AT.to_owned());
        let replace = OnMatch::Versions { remove };
        self.rewrite_matched(&out, &on, replace, Some(props))
            .await?;
        Ok(())
    }

    /// The table's rows whose keys are in `keys_batch`, as one batch in the table's schema.
    async fn rows_for_keys(
        &self,
        keys_batch: &RecordBatch,
        keys: &[String],
    ) -> Result<RecordBatch> {
        let schema = self.arrow_schema()?.ok_or_else(|| PipelineError::State {
            table: self.name.clone(),
            reason: "the table does not exist".to_owned(),
        })?;
        let ctx = SessionContext::new();
        ctx.register_batch("k", keys_batch.clone())
            .table(&self.name)?;
        ctx.register_table("t", self.table.table_provider().await.table(&self.name)?)
            .table(&self.name)?;
        let on = keys
            .iter()
            .map(|k| format!("k.\"{k}\" = t.\"{k}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!("SELECT t.* FROM t WHERE EXISTS (SELECT 1 FROM k WHERE {on})");
        let batches = self.sql_batches(&ctx, &sql).await?;
        let Some(first) = batches.first() else {
            return Ok(RecordBatch::new_empty(schema));
        };
        concat_batches(&first.schema(), &batches).table(&self.name)
    }
}

/// A history table's source columns (all but `__START_AT` and `__END_AT`): names and schema.
pub(crate) fn source_columns(
    schema: &Schema,
) -> Result<(Vec<String>, SchemaRef), deltalake::arrow::error::ArrowError> {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| n != START_AT && n != END_AT)
        .collect();
    let projected = schema.project(&source_indices(schema, &names))?;
    Ok((names, Arc::new(projected)))
}

pub(crate) fn source_indices(schema: &Schema, names: &[String]) -> Vec<usize> {
    names
        .iter()
        .filter_map(|n| schema.index_of(n).ok())
        .collect()
}

impl Target {
    /// One batch of a commit's batches (an error naming `what` when there are none).
    fn concat(&self, batches: &[RecordBatch], what: &str) -> Result<RecordBatch> {
        let first = batches.first().ok_or_else(|| PipelineError::State {
            table: self.name.clone(),
            reason: what.to_owned(),
        })?;
        concat_batches(&first.schema(), batches).table(&self.name)
    }

    /// SCD 2 for a cdc commit: every change of a tracked column makes a version.
    #[expect(clippy::too_many_arguments)]
    pub async fn upsert_history(
        &mut self,
        batches: &[RecordBatch],
        keys: &[String],
        sequence: &str,
        tracked: &[String],
        tombstones: Option<&Target>,
        kept_aside: Option<&mut Target>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let changes = self.concat(batches, "no changes to apply")?;
        let seq =
            changes
                .column_by_name(sequence)
                .cloned()
                .ok_or_else(|| PipelineError::State {
                    table: self.name.clone(),
                    reason: format!("no sequence column `{sequence}` in the records"),
                })?;
        let input = HistoryInput {
            changes: Some((&changes, seq)),
            deletes: None,
            kept_aside: kept_aside.map(|t| (t, sequence)),
        };
        self.apply_history(keys, tracked, input, tombstones, props)
            .await
    }

    /// SCD 2 for a deletes commit: each delete closes the key's current version.
    #[expect(clippy::too_many_arguments)]
    pub async fn delete_history(
        &mut self,
        batches: &[RecordBatch],
        keys: &[String],
        sequence: &str,
        tracked: &[String],
        tombstones: &mut Target,
        kept_aside: Option<&mut Target>,
        props: CommitProperties,
    ) -> Result<CommitCounts> {
        let mut key_and_sequence = keys.to_vec();
        key_and_sequence.push(sequence.to_owned());
        let distinct = latest_per_key(batches, &key_and_sequence, None).table(&self.name)?;
        tombstones.record(&distinct, keys, sequence, true).await?;
        // Every delete closes what is open at its time, not only each key's newest.
        let all = self.concat(batches, "no deletes to apply")?;
        let seq = all
            .column_by_name(sequence)
            .cloned()
            .ok_or_else(|| PipelineError::State {
                table: self.name.clone(),
                reason: format!("no sequence column `{sequence}` in the deleted records"),
            })?;
        let input = HistoryInput {
            changes: None,
            deletes: Some((&all, seq)),
            kept_aside: kept_aside.map(|t| (t, sequence)),
        };
        self.apply_history(keys, tracked, input, None, props).await
    }
}
