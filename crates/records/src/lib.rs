//! Converts pages of JSON records into Arrow record batches, with the Lakeflow coercion rules.
//!
//! Connectors hand over records as untyped JSON objects ([`lakeflow_connect::Record`]); this
//! crate turns a page of them into a [`RecordBatch`] of the table's Arrow schema. The
//! [`Converter`] builds a tree of typed column converters once per schema and walks each record
//! once, appending straight into Arrow builders; [`records_to_batch`] is the one-shot form.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Array, Int64Array, TimestampMicrosecondArray};
//! use arrow_schema::{DataType, Field, Schema, TimeUnit};
//! use lakeflow_records::Converter;
//! use serde_json::json;
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("id", DataType::Int64, false),
//!     Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), true),
//! ]));
//! let converter = Converter::new(schema).unwrap();
//! let page = [json!({"id": "7", "at": "1970-01-01T00:00:01Z"}), json!({"id": 8.0})];
//! let records: Vec<_> = page.into_iter().map(|v| v.as_object().unwrap().clone()).collect();
//!
//! let batch = converter.convert(&records).unwrap();
//! let ids = batch.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
//! assert_eq!(ids.values(), &[7, 8]);
//! let at = batch.column(1).as_any().downcast_ref::<TimestampMicrosecondArray>().unwrap();
//! assert_eq!((at.value(0), at.is_null(1)), (1_000_000, true));
//!
//! let bad = [json!({"id": 1, "at": "yesterday"})].map(|v| v.as_object().unwrap().clone());
//! assert_eq!(
//!     converter.convert(&bad).unwrap_err().to_string(),
//!     "record 0, column `at`: cannot convert \"yesterday\" to Timestamp(µs, UTC): \
//!      not a recognised timestamp format",
//! );
//! ```
//!
//! # Coercion rules
//!
//! JSON `null` is null for every type. A column missing from a record is null; keys that are not
//! in the schema are ignored. A null or missing value for a non-nullable field is an error.
//! Surrounding whitespace is ignored in strings parsed as numbers, booleans, dates and times.
//!
//! | Arrow type | accepts |
//! | --- | --- |
//! | Int8–Int64, UInt8–UInt64 | integers; floats and `"12.7"`-style strings truncated toward zero; integer strings; out of range is an error |
//! | Float32, Float64 | numbers; numeric strings (including `inf`, `NaN`) |
//! | Boolean | `true`/`false`; the numbers 0 and 1; any case of `true/t/yes/y/1`, `false/f/no/n/0` |
//! | Date32 | `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY`, `DD-MM-YYYY`; date-times (date of the UTC instant) |
//! | Timestamp (any unit, any zone label; stored as UTC) | RFC 3339 / ISO 8601 (`T` or space, fraction, `Z`/`UTC`/`±HH:MM`/`±HHMM`/`±HH`; no zone = UTC); `YYYY/MM/DD HH:MM:SS`; bare dates (midnight); epoch seconds as numbers or numeric strings, fractions rounded exactly (half away from zero) to the unit |
//! | Decimal128(p, s) | numbers and numeric strings, exactly, rounded half away from zero to `s`; more than `p` digits is an error |
//! | Binary, LargeBinary | strings: standard padded base64, else even-length hex, else the UTF-8 bytes |
//! | Utf8, LargeUtf8 | strings; numbers, booleans, objects and arrays as compact JSON text |
//! | Struct | non-empty objects (an empty object is an error: a missing nested object must be null) |
//! | List, LargeList | arrays; any other non-null value as a one-element list |
//! | Map (non-nullable Utf8 keys) | objects, entries in the object's iteration order |
//!
//! Anything else (e.g. an object for an integer, an array for a struct) is an error. Types
//! without a rule (Utf8View, Dictionary, Time, Duration, ...) are rejected by
//! [`Converter::new`].
//!
//! # Errors and column paths
//!
//! An error converts nothing: no partial batch is returned. Each [`ConvertError`] names the
//! record index within the page, the column path, the offending value (compact JSON, cut to
//! [`MAX_VALUE_CHARS`] characters) and the expected type. Paths join struct fields with `.`, list
//! items as `[index]` and map values as `["key"]` (JSON-quoted): `user.addresses[3].zip`,
//! `labels[0].attrs["color"]`. In schema errors, which concern every item, list items and map
//! values are written `[]`: `labels[].name`.

mod builder;
mod error;
mod fields;
mod nested;
mod parse;
mod plan;
mod temporal;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use lakeflow_connect::Record;

pub use error::{ConvertError, MAX_VALUE_CHARS, Result};

/// Converts pages of records against one schema; build it once, convert many pages.
#[derive(Debug, Clone)]
pub struct Converter {
    schema: SchemaRef,
}

impl Converter {
    /// A converter for `schema`, or [`ConvertError::UnsupportedType`] naming the first column
    /// (path and type) that has no conversion.
    pub fn new(schema: SchemaRef) -> Result<Self> {
        plan::top_level(schema.fields(), 0)?;
        Ok(Self { schema })
    }

    /// The schema batches are produced in.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Converts one page of records into a batch of the converter's schema.
    ///
    /// On error nothing is returned but the error, naming the first offending record.
    pub fn convert(&self, records: &[Record]) -> Result<RecordBatch> {
        let mut columns = plan::top_level(self.schema.fields(), records.len())?;
        for (index, record) in records.iter().enumerate() {
            columns
                .append_object(record)
                .map_err(|fail| fail.into_error(index))?;
        }
        let arrays = columns.finish()?;
        let options = RecordBatchOptions::new().with_row_count(Some(records.len()));
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?)
    }
}

/// Converts one page of records against `schema` (see [`Converter`] to convert many).
pub fn records_to_batch(records: &[Record], schema: &SchemaRef) -> Result<RecordBatch> {
    Converter::new(schema.clone())?.convert(records)
}
