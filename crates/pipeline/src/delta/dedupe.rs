//! One row per key: the change with the highest sequence value wins (the later row on ties).

use std::collections::HashMap;

use arrow_array::{Array, ArrayRef, RecordBatch};
use deltalake::arrow::compute::interleave;
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::row::{Row, RowConverter, SortField};

/// One batch of `batches` holding, per key, the row with the highest `sequence` (nulls
/// lowest; the later row on ties); rows keep their arrival order otherwise. The rows are
/// gathered straight from the batches (no concatenated copy first), one column at a time, and
/// each column of `batches` is released once gathered: the held rows and their compacted copy
/// are never both whole in memory (unless the caller keeps `batches` too). A single batch
/// without a repeated key comes back as it is.
pub fn latest_per_key(
    batches: Vec<RecordBatch>,
    keys: &[String],
    sequence: Option<&str>,
) -> Result<RecordBatch, ArrowError> {
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| ArrowError::InvalidArgumentError("no batches".to_owned()))?;
    let columns = |batch: &RecordBatch, names: &[String]| -> Result<Vec<ArrayRef>, ArrowError> {
        names
            .iter()
            .map(|n| {
                batch.column_by_name(n).cloned().ok_or_else(|| {
                    ArrowError::SchemaError(format!("column `{n}` is not in the records"))
                })
            })
            .collect()
    };
    let converter = |names: &[String]| -> Result<RowConverter, ArrowError> {
        let fields = columns(&batches[0], names)?
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect();
        RowConverter::new(fields)
    };
    let sequence: Vec<String> = sequence.map(str::to_owned).into_iter().collect();
    let key_converter = converter(keys)?;
    let seq_converter = (!sequence.is_empty())
        .then(|| converter(&sequence))
        .transpose()?;
    let mut key_rows = Vec::with_capacity(batches.len());
    let mut seq_rows = Vec::with_capacity(batches.len());
    for batch in &batches {
        key_rows.push(key_converter.convert_columns(&columns(batch, keys)?)?);
        if let Some(seq) = &seq_converter {
            seq_rows.push(seq.convert_columns(&columns(batch, &sequence)?)?);
        }
    }
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    // Per key: (batch, row) of the change kept so far.
    let mut best: HashMap<Row<'_>, (usize, usize)> = HashMap::with_capacity(total);
    for (b, rows) in key_rows.iter().enumerate() {
        for row in 0..rows.num_rows() {
            match best.get_mut(&rows.row(row)) {
                None => {
                    best.insert(rows.row(row), (b, row));
                }
                Some(kept) => {
                    let newer = seq_rows
                        .get(b)
                        .is_none_or(|s| s.row(row) >= seq_rows[kept.0].row(kept.1));
                    if newer {
                        *kept = (b, row);
                    }
                }
            }
        }
    }
    if let [only] = batches.as_slice()
        && best.len() == only.num_rows()
    {
        return Ok(only.clone());
    }
    let mut picks: Vec<(usize, usize)> = best.into_values().collect();
    picks.sort_unstable();
    // Each column's arrays, taken out of the batches so that gathering a column can free it.
    let mut by_column: Vec<Vec<ArrayRef>> = (0..schema.fields().len())
        .map(|c| batches.iter().map(|b| b.column(c).clone()).collect())
        .collect();
    drop(batches);
    let columns = by_column
        .iter_mut()
        .map(|arrays| {
            let sources: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
            let gathered = interleave(&sources, &picks);
            arrays.clear();
            gathered
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema, columns)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn highest_sequence_wins_and_ties_go_to_the_later_row() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("v", DataType::Utf8, true),
            Field::new("seq", DataType::Int64, true),
        ]));
        let batch = |ids: Vec<i64>, vs: Vec<&str>, seqs: Vec<Option<i64>>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(StringArray::from(vs)),
                    Arc::new(Int64Array::from(seqs)),
                ],
            )
            .unwrap()
        };
        let a = batch(
            vec![1, 2, 1],
            vec!["a3", "b1", "a1"],
            vec![Some(3), Some(1), Some(1)],
        );
        let b = batch(
            vec![2, 3, 3],
            vec!["b1'", "c-null", "c0"],
            vec![Some(1), None, Some(0)],
        );
        let out = latest_per_key(vec![a, b], &["id".to_owned()], Some("seq")).unwrap();
        let v: Vec<&str> = out
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .iter()
            .map(Option::unwrap)
            .collect();
        assert_eq!(v, ["a3", "b1'", "c0"]);
    }
}
