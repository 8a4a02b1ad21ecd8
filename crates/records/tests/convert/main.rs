//! Integration tests of the JSON -> Arrow conversion: one binary, one submodule per concern.

mod errors;
mod hostile;
mod nested;
mod props;
mod scalars;

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use lakeflow_connect::Record;
use lakeflow_records::{ConvertError, Converter, records_to_batch};
use serde_json::{Value, json};

/// The object inside `v` (panics on anything else: test inputs are objects).
/// A `List` of `item`.
pub(crate) fn list_of(item: DataType, nullable: bool) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, nullable)))
}

/// A `Map` from Utf8 keys to `value`.
pub(crate) fn map_of(value: DataType, value_nullable: bool) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", value, value_nullable),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

pub(crate) fn rec(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// A one-column schema: `c` of `data_type`.
pub(crate) fn schema_of(data_type: DataType, nullable: bool) -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("c", data_type, nullable)]))
}

/// Converts `{"c": v}` for each value into a nullable column `c` of `data_type`.
pub(crate) fn try_column(data_type: DataType, values: &[Value]) -> Result<ArrayRef, ConvertError> {
    let records: Vec<Record> = values.iter().map(|v| rec(json!({ "c": v }))).collect();
    let batch = records_to_batch(&records, &schema_of(data_type, true))?;
    Ok(batch.column(0).clone())
}

/// As [`try_column`], panicking on error.
pub(crate) fn column(data_type: DataType, values: &[Value]) -> ArrayRef {
    try_column(data_type, values).unwrap_or_else(|e| panic!("conversion failed: {e}"))
}

/// The error converting `{"c": v}` into a nullable column of `data_type`.
pub(crate) fn column_error(data_type: DataType, v: &Value) -> ConvertError {
    match try_column(data_type, std::slice::from_ref(v)) {
        Ok(a) => panic!("expected an error, got {a:?}"),
        Err(e) => e,
    }
}

/// Converts `records` against `schema`, panicking on error.
pub(crate) fn batch(schema: &SchemaRef, records: Vec<Value>) -> RecordBatch {
    let records: Vec<Record> = records.into_iter().map(rec).collect();
    Converter::new(schema.clone())
        .and_then(|c| c.convert(&records))
        .unwrap_or_else(|e| panic!("conversion failed: {e}"))
}

/// The error converting `records` against `schema`.
pub(crate) fn batch_error(schema: &SchemaRef, records: Vec<Value>) -> ConvertError {
    let records: Vec<Record> = records.into_iter().map(rec).collect();
    match records_to_batch(&records, schema) {
        Ok(b) => panic!("expected an error, got {b:?}"),
        Err(e) => e,
    }
}

/// Downcasts an array to its concrete type.
pub(crate) fn as_<T: 'static>(a: &dyn Array) -> &T {
    a.as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("unexpected array type {}", a.data_type()))
}

#[test]
fn empty_page_gives_empty_batch() {
    let schema = schema_of(DataType::Int64, false);
    let b = batch(&schema, vec![]);
    assert_eq!(b.num_rows(), 0);
    assert_eq!(b.schema(), schema);
}

#[test]
fn converter_reports_its_schema_and_is_reusable() {
    let schema = schema_of(DataType::Int64, true);
    let converter = Converter::new(schema.clone()).unwrap();
    assert!(Arc::ptr_eq(converter.schema(), &schema));
    let bad = vec![rec(json!({"c": "x"}))];
    assert!(converter.convert(&bad).is_err());
    let good = vec![rec(json!({"c": 1})), rec(json!({"c": 2}))];
    assert_eq!(converter.convert(&good).unwrap().num_rows(), 2);
}

#[test]
fn missing_columns_are_null_and_extra_keys_ignored() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Utf8, true),
    ]));
    let b = batch(
        &schema,
        vec![
            json!({"a": 1, "zzz": [1, 2]}),
            json!({"b": "x", "extra": {}}),
        ],
    );
    assert_eq!(b.num_rows(), 2);
    assert!(b.column(0).is_valid(0) && b.column(0).is_null(1));
    assert!(b.column(1).is_null(0) && b.column(1).is_valid(1));
}

#[test]
fn records_with_no_columns_give_rows() {
    let schema = Arc::new(Schema::empty());
    let b = batch(&schema, vec![json!({"a": 1}), json!({})]);
    assert_eq!((b.num_rows(), b.num_columns()), (2, 0));
}
