//! Leaf column converters: each owns an Arrow builder and appends JSON values to it under the
//! crate's coercion rules. Nested converters are in [`crate::nested`].

use std::fmt::Write as _;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, GenericBinaryBuilder, GenericStringBuilder, PrimitiveBuilder,
};
use arrow_array::types::{Date32Type, Decimal128Type};
use arrow_array::{ArrayRef, ArrowPrimitiveType, OffsetSizeTrait};
use arrow_schema::{ArrowError, DataType, TimeUnit};
use serde_json::{Number, Value};

use crate::error::Fail;
use crate::parse::{self, OUT_OF_RANGE};
use crate::temporal;

/// Appends JSON values of one column to an Arrow builder.
///
/// `append` takes a non-null value; nullability is checked by the enclosing converter, which
/// calls `append_null` for nulls and for slots under a null parent.
pub(crate) trait Column {
    /// Appends a (non-null) value, or explains why it cannot be converted.
    fn append(&mut self, v: &Value) -> Result<(), Fail>;
    /// Appends a null slot.
    fn append_null(&mut self);
    /// The finished array (the converter is not used afterwards).
    fn finish(&mut self) -> Result<ArrayRef, ArrowError>;
}

/// Signed and unsigned integers of every width.
pub(crate) struct IntColumn<T: ArrowPrimitiveType> {
    builder: PrimitiveBuilder<T>,
    data_type: DataType,
}

impl<T: ArrowPrimitiveType> IntColumn<T> {
    pub(crate) fn new(data_type: &DataType, capacity: usize) -> Self {
        Self {
            builder: PrimitiveBuilder::with_capacity(capacity),
            data_type: data_type.clone(),
        }
    }
}

impl<T> Column for IntColumn<T>
where
    T: ArrowPrimitiveType,
    T::Native: TryFrom<i64> + TryFrom<i128>,
{
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let wide = match v {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    // Fast path: a JSON integer.
                    let x = T::Native::try_from(i)
                        .map_err(|_| Fail::invalid(v, &self.data_type, OUT_OF_RANGE))?;
                    self.builder.append_value(x);
                    return Ok(());
                }
                parse::int_from_number(n)
            }
            Value::String(s) => parse::int_from_str(s),
            _ => return Err(Fail::shape(v, &self.data_type)),
        };
        let x = wide
            .and_then(|w| T::Native::try_from(w).map_err(|_| OUT_OF_RANGE))
            .map_err(|reason| Fail::invalid(v, &self.data_type, reason))?;
        self.builder.append_value(x);
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

/// A float type that a parsed `f64` narrows to.
pub(crate) trait FromF64 {
    fn from_f64(f: f64) -> Self;
}

impl FromF64 for f64 {
    fn from_f64(f: f64) -> Self {
        f
    }
}

impl FromF64 for f32 {
    #[allow(clippy::cast_possible_truncation)] // narrowing is the point
    fn from_f64(f: f64) -> Self {
        f as f32
    }
}

/// Float32 and Float64.
pub(crate) struct FloatColumn<T: ArrowPrimitiveType> {
    builder: PrimitiveBuilder<T>,
    data_type: DataType,
}

impl<T: ArrowPrimitiveType> FloatColumn<T> {
    pub(crate) fn new(data_type: &DataType, capacity: usize) -> Self {
        Self {
            builder: PrimitiveBuilder::with_capacity(capacity),
            data_type: data_type.clone(),
        }
    }
}

impl<T> Column for FloatColumn<T>
where
    T: ArrowPrimitiveType,
    T::Native: FromF64,
{
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let f = match v {
            Value::Number(n) => n.as_f64().ok_or("not a finite number"),
            Value::String(s) => parse::float_from_str(s),
            _ => return Err(Fail::shape(v, &self.data_type)),
        }
        .map_err(|reason| Fail::invalid(v, &self.data_type, reason))?;
        self.builder.append_value(T::Native::from_f64(f));
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

/// Boolean: JSON booleans, the numbers 0 and 1, and the recognised strings.
pub(crate) struct BoolColumn {
    builder: BooleanBuilder,
}

impl BoolColumn {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            builder: BooleanBuilder::with_capacity(capacity),
        }
    }
}

impl Column for BoolColumn {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let b = match v {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => match n.as_u64() {
                Some(0) => Ok(false),
                Some(1) => Ok(true),
                _ => Err("only the numbers 0 and 1 are booleans"),
            },
            Value::String(s) => parse::bool_from_str(s),
            _ => return Err(Fail::shape(v, &DataType::Boolean)),
        }
        .map_err(|reason| Fail::invalid(v, &DataType::Boolean, reason))?;
        self.builder.append_value(b);
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

/// Date32 from the accepted date and date-time strings.
pub(crate) struct DateColumn {
    builder: PrimitiveBuilder<Date32Type>,
}

impl DateColumn {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            builder: PrimitiveBuilder::with_capacity(capacity),
        }
    }
}

impl Column for DateColumn {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let Value::String(s) = v else {
            return Err(Fail::shape(v, &DataType::Date32));
        };
        let days = temporal::parse_date(s)
            .ok_or_else(|| Fail::invalid(v, &DataType::Date32, "not a recognised date format"))?;
        self.builder.append_value(days);
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

/// Timestamps of any unit and zone label, stored as UTC since the epoch.
pub(crate) struct TimestampColumn<T: ArrowPrimitiveType<Native = i64>> {
    builder: PrimitiveBuilder<T>,
    unit: TimeUnit,
    data_type: DataType,
}

impl<T: ArrowPrimitiveType<Native = i64>> TimestampColumn<T> {
    pub(crate) fn new(data_type: &DataType, unit: TimeUnit, capacity: usize) -> Self {
        Self {
            builder: PrimitiveBuilder::with_capacity(capacity).with_data_type(data_type.clone()),
            unit,
            data_type: data_type.clone(),
        }
    }
}

impl<T: ArrowPrimitiveType<Native = i64>> Column for TimestampColumn<T> {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let t = match v {
            Value::String(s) => match temporal::parse_datetime(s) {
                Some(instant) => temporal::instant_in(instant, self.unit).ok_or(TIME_RANGE),
                None => epoch_from_str(s, self.unit),
            },
            Value::Number(n) => match n.as_i64() {
                Some(secs) => temporal::epoch_int(secs, self.unit).ok_or(TIME_RANGE),
                None => epoch_from_number(n, self.unit),
            },
            _ => return Err(Fail::shape(v, &self.data_type)),
        }
        .map_err(|reason| Fail::invalid(v, &self.data_type, reason))?;
        self.builder.append_value(t);
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

const TIME_RANGE: &str = "out of range for the time unit";

/// Epoch seconds written as text: an integer, else exact decimal text rounded to the unit.
fn epoch_from_str(s: &str, unit: TimeUnit) -> Result<i64, &'static str> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<i64>() {
        return temporal::epoch_int(secs, unit).ok_or(TIME_RANGE);
    }
    let scaled = parse::decimal_from_str(t, 38, temporal::fraction_digits(unit))
        .map_err(|_| "not a recognised timestamp format")?;
    i64::try_from(scaled).map_err(|_| TIME_RANGE)
}

/// Epoch seconds as a non-integer JSON number, from its text, rounded to the unit.
fn epoch_from_number(n: &Number, unit: TimeUnit) -> Result<i64, &'static str> {
    let scaled = parse::decimal_from_number(n, 38, temporal::fraction_digits(unit))
        .map_err(|_| TIME_RANGE)?;
    i64::try_from(scaled).map_err(|_| TIME_RANGE)
}

/// Decimal128 from numbers and numeric strings, exactly.
pub(crate) struct DecimalColumn {
    builder: PrimitiveBuilder<Decimal128Type>,
    precision: u8,
    scale: i8,
    data_type: DataType,
}

impl DecimalColumn {
    pub(crate) fn new(precision: u8, scale: i8, capacity: usize) -> Self {
        let data_type = DataType::Decimal128(precision, scale);
        Self {
            builder: PrimitiveBuilder::with_capacity(capacity).with_data_type(data_type.clone()),
            precision,
            scale,
            data_type,
        }
    }
}

impl Column for DecimalColumn {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let d = match v {
            Value::Number(n) => parse::decimal_from_number(n, self.precision, self.scale),
            Value::String(s) => parse::decimal_from_str(s, self.precision, self.scale),
            _ => return Err(Fail::shape(v, &self.data_type)),
        }
        .map_err(|reason| Fail::invalid(v, &self.data_type, reason))?;
        self.builder.append_value(d);
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

/// Utf8 and LargeUtf8: strings as they are, anything else as its compact JSON text.
pub(crate) struct StringColumn<O: OffsetSizeTrait> {
    builder: GenericStringBuilder<O>,
}

impl<O: OffsetSizeTrait> StringColumn<O> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            builder: GenericStringBuilder::with_capacity(capacity, capacity * 16),
        }
    }
}

impl<O: OffsetSizeTrait> Column for StringColumn<O> {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        match v {
            Value::String(s) => self.builder.append_value(s),
            Value::Bool(b) => self.builder.append_value(if *b { "true" } else { "false" }),
            other => {
                // Numbers, objects and arrays: `Display` writes compact JSON, straight into the
                // builder's value buffer; the empty append then closes the value.
                let _ = write!(self.builder, "{other}");
                self.builder.append_value("");
            }
        }
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}

/// Binary and LargeBinary from base64, hex or raw UTF-8 text.
pub(crate) struct BinaryColumn<O: OffsetSizeTrait> {
    builder: GenericBinaryBuilder<O>,
    scratch: Vec<u8>,
    data_type: DataType,
}

impl<O: OffsetSizeTrait> BinaryColumn<O> {
    pub(crate) fn new(data_type: &DataType, capacity: usize) -> Self {
        Self {
            builder: GenericBinaryBuilder::with_capacity(capacity, capacity * 16),
            scratch: Vec::new(),
            data_type: data_type.clone(),
        }
    }
}

impl<O: OffsetSizeTrait> Column for BinaryColumn<O> {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let Value::String(s) = v else {
            return Err(Fail::shape(v, &self.data_type));
        };
        let bytes = parse::binary_from_str(s, &mut self.scratch);
        self.builder.append_value(bytes);
        Ok(())
    }

    fn append_null(&mut self) {
        self.builder.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.builder.finish()))
    }
}
