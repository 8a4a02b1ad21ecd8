//! One row per key: the change with the highest sequence value wins (the later row on ties).

use std::collections::HashMap;

use arrow_array::{RecordBatch, UInt32Array};
use deltalake::arrow::compute::{concat_batches, take_record_batch};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::row::{Row, RowConverter, SortField};

/// Concatenates `batches` and keeps, per key, the row with the highest `sequence` (nulls
/// lowest); rows keep their arrival order otherwise.
pub fn latest_per_key(
    batches: &[RecordBatch],
    keys: &[String],
    sequence: Option<&str>,
) -> Result<RecordBatch, ArrowError> {
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| ArrowError::InvalidArgumentError("no batches".to_owned()))?;
    let all = concat_batches(&schema, batches)?;
    let columns = |names: &[&str]| -> Result<Vec<_>, ArrowError> {
        names
            .iter()
            .map(|n| {
                all.column_by_name(n).cloned().ok_or_else(|| {
                    ArrowError::SchemaError(format!("column `{n}` is not in the records"))
                })
            })
            .collect()
    };
    let key_names: Vec<&str> = keys.iter().map(String::as_str).collect();
    let key_columns = columns(&key_names)?;
    let key_rows = RowConverter::new(
        key_columns
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )?
    .convert_columns(&key_columns)?;
    let seq_rows = match sequence {
        Some(name) => {
            let seq = columns(&[name])?;
            Some(
                RowConverter::new(vec![SortField::new(seq[0].data_type().clone())])?
                    .convert_columns(&seq)?,
            )
        }
        None => None,
    };
    let mut best: HashMap<Row<'_>, usize> = HashMap::with_capacity(all.num_rows());
    for row in 0..all.num_rows() {
        let key = key_rows.row(row);
        match best.get_mut(&key) {
            None => {
                best.insert(key, row);
            }
            Some(kept) => {
                let newer = seq_rows.as_ref().is_none_or(|s| s.row(row) >= s.row(*kept));
                if newer {
                    *kept = row;
                }
            }
        }
    }
    let mut rows: Vec<u32> = best
        .into_values()
        .map(|r| u32::try_from(r).unwrap_or(u32::MAX))
        .collect();
    rows.sort_unstable();
    take_record_batch(&all, &UInt32Array::from(rows))
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
        let out = latest_per_key(&[a, b], &["id".to_owned()], Some("seq")).unwrap();
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
