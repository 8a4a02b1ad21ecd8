//! Arrow as Spark reads it from a Python data source.
//!
//! Spark accepts Arrow batches from a Python data source only if their schema equals, type for
//! type, what `pyspark.sql.pandas.types.to_arrow_schema(schema, timezone="UTC")` gives for the
//! source's Spark schema. Connector schemas are plain Arrow and may differ in ways that mean
//! nothing to Spark but still fail that check (a list item called `item` instead of `element`,
//! `LargeUtf8`, a second-precision timestamp). [`spark_schema`] rewrites a connector schema into
//! that exact shape, and [`to_spark`] casts batches into it; columns already in shape are shared,
//! not copied.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::{Error, Result};

/// The time zone Spark labels instants with in the batches it reads.
pub const UTC: &str = "UTC";

/// `schema` in the shape Spark expects, or an error naming the first column without a Spark
/// type.
pub fn spark_schema(table: &str, schema: &Schema) -> Result<SchemaRef> {
    let fields = schema
        .fields()
        .iter()
        .map(|f| spark_field(table, f.name(), f))
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

fn spark_field(table: &str, path: &str, field: &Field) -> Result<Field> {
    Ok(Field::new(
        field.name(),
        spark_type(table, path, field.data_type())?,
        field.is_nullable(),
    ))
}

fn spark_type(table: &str, path: &str, data_type: &DataType) -> Result<DataType> {
    use DataType as T;
    let unsupported = || Error::SchemaMismatch {
        table: table.to_owned(),
        field: path.to_owned(),
        reason: format!("type {data_type} has no Spark SQL equivalent"),
    };
    Ok(match data_type {
        T::Null
        | T::Boolean
        | T::Int8
        | T::Int16
        | T::Int32
        | T::Int64
        | T::Float32
        | T::Float64
        | T::Utf8
        | T::Binary
        | T::Date32 => data_type.clone(),
        // Spark has no unsigned integers: each widens to the next signed type that holds it.
        T::UInt8 => T::Int16,
        T::UInt16 => T::Int32,
        T::UInt32 => T::Int64,
        T::UInt64 => T::Decimal128(20, 0),
        T::Float16 => T::Float32,
        T::LargeUtf8 | T::Utf8View => T::Utf8,
        T::LargeBinary | T::BinaryView => T::Binary,
        T::Date64 => T::Date32,
        // Instants are UTC (naive ones too, by the coercion rules); Spark's TimestampType is
        // microseconds labelled with the session zone, which the data source path fixes to UTC.
        T::Timestamp(_, _) => T::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        T::Decimal128(p, s) if *p <= 38 => data_type.clone(),
        T::List(item) | T::LargeList(item) | T::FixedSizeList(item, _) => {
            let element = format!("{path}[]");
            T::List(Arc::new(Field::new(
                "element",
                spark_type(table, &element, item.data_type())?,
                item.is_nullable(),
            )))
        }
        T::Struct(fields) => T::Struct(
            fields
                .iter()
                .map(|f| spark_field(table, &format!("{path}.{}", f.name()), f))
                .collect::<Result<Fields>>()?,
        ),
        T::Map(entries, _) => {
            let T::Struct(kv) = entries.data_type() else {
                return Err(unsupported());
            };
            let [key, value] = kv.iter().collect::<Vec<_>>()[..] else {
                return Err(unsupported());
            };
            let value_path = format!("{path}[]");
            let entries = Field::new(
                "entries",
                T::Struct(Fields::from(vec![
                    Field::new(
                        "key",
                        spark_type(table, &value_path, key.data_type())?,
                        false,
                    ),
                    Field::new(
                        "value",
                        spark_type(table, &value_path, value.data_type())?,
                        value.is_nullable(),
                    ),
                ])),
                false,
            );
            T::Map(Arc::new(entries), false)
        }
        _ => return Err(unsupported()),
    })
}

/// Casts `batch` into `target` (from [`spark_schema`] of the batch's schema). Columns whose type
/// is already right are passed through without copying.
pub fn to_spark(table: &str, batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch> {
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(column, field): (&ArrayRef, &FieldRef)| {
            if column.data_type() == field.data_type() {
                return Ok(column.clone());
            }
            cast_with_options(column, field.data_type(), &options).map_err(|e| {
                Error::SchemaMismatch {
                    table: table.to_owned(),
                    field: field.name().clone(),
                    reason: format!("cannot cast to Spark's {}: {e}", field.data_type()),
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let row_count = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(target.clone(), columns, &row_count).map_err(|e| {
        Error::SchemaMismatch {
            table: table.to_owned(),
            field: String::new(),
            reason: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder};
    use arrow_array::{Array, Int64Array, ListArray, UInt64Array};

    #[test]
    fn rewrites_what_spark_spells_differently() {
        let item = Arc::new(Field::new("item", DataType::LargeUtf8, true));
        let schema = Schema::new(vec![
            Field::new("id", DataType::UInt64, false),
            Field::new("tags", DataType::List(item), true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Second, Some("+02:00".into())),
                true,
            ),
            Field::new(
                "s",
                DataType::Struct(Fields::from(vec![Field::new("n", DataType::UInt8, true)])),
                true,
            ),
        ]);
        let spark = spark_schema("t", &schema).unwrap();
        let expected = Schema::new(vec![
            Field::new("id", DataType::Decimal128(20, 0), false),
            Field::new(
                "tags",
                DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
                true,
            ),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "s",
                DataType::Struct(Fields::from(vec![Field::new("n", DataType::Int16, true)])),
                true,
            ),
        ]);
        assert_eq!(spark.as_ref(), &expected);
    }

    #[test]
    fn unsupported_types_name_the_column() {
        let schema = Schema::new(vec![Field::new(
            "s",
            DataType::Struct(Fields::from(vec![Field::new(
                "d",
                DataType::Duration(TimeUnit::Second),
                true,
            )])),
            true,
        )]);
        let err = spark_schema("trips", &schema).unwrap_err().to_string();
        assert_eq!(
            err,
            "schema mismatch in table `trips` at `s.d`: type Duration(s) has no Spark SQL equivalent"
        );
    }

    #[test]
    fn casts_only_the_columns_that_differ() {
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("a");
        tags.append(true);
        tags.append(false);
        let mut ids = Int64Builder::new();
        ids.append_values(&[1, 2], &[true, true]);
        let ids: ArrayRef = Arc::new(ids.finish());
        let big: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX, 0]));
        let batch = RecordBatch::try_from_iter([
            ("id", ids.clone()),
            ("tags", Arc::new(tags.finish()) as ArrayRef),
            ("big", big),
        ])
        .unwrap();
        let target = spark_schema("t", &batch.schema()).unwrap();
        let out = to_spark("t", &batch, &target).unwrap();
        assert_eq!(out.schema(), target);
        // The Int64 column is the same buffer, not a copy.
        let out_ids = out.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let in_ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(out_ids.values().as_ptr(), in_ids.values().as_ptr());
        let tags = out.column(1).as_any().downcast_ref::<ListArray>().unwrap();
        assert_eq!((tags.value_length(0), tags.is_null(1)), (1, true));
        let big = out.column(2).to_data();
        assert_eq!(big.data_type(), &DataType::Decimal128(20, 0));
    }
}
