//! SCD type 2 on Delta: every version of a key is a row with `__START_AT` and `__END_AT`
//! (`__END_AT` null on the current version), as in Databricks AUTO CDC.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::compute::{cast, concat_batches};
use deltalake::arrow::row::Row;
use deltalake::datafusion::prelude::SessionContext;

use super::table::Target;
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

/// A sequence value and where it is, so the output can copy it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seq<'a> {
    pub row: Row<'a>,
    pub at: (usize, usize),
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
    /// The table's rows whose keys are in `keys_batch`, as one batch in the table's schema.
    pub(crate) async fn rows_for_keys(
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
