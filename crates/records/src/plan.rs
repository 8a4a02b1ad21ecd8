//! Building the tree of column converters that mirrors a schema, rejecting unsupported types.

use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_schema::{DataType, Field, Fields, TimeUnit};

use crate::builder::{
    BinaryColumn, BoolColumn, Column, DateColumn, DecimalColumn, FloatColumn, IntColumn,
    StringColumn, TimestampColumn,
};
use crate::error::{ConvertError, Seg, render_path};
use crate::fields::FieldSet;
use crate::nested::{ListColumn, MapColumn, StructColumn};

/// An unsupported type somewhere in the schema, with the path to it (innermost segment first).
struct Unsupported {
    path: Vec<Seg>,
    data_type: String,
    reason: &'static str,
}

impl Unsupported {
    fn new(data_type: &DataType, reason: &'static str) -> Self {
        Self {
            path: Vec::new(),
            data_type: data_type.to_string(),
            reason,
        }
    }

    fn at(mut self, seg: Seg) -> Self {
        self.path.push(seg);
        self
    }
}

/// Converters for the top-level fields of a schema, each preallocated for `capacity` rows.
pub(crate) fn top_level(fields: &Fields, capacity: usize) -> Result<FieldSet, ConvertError> {
    field_set(fields, capacity).map_err(|u| ConvertError::UnsupportedType {
        path: render_path(&u.path),
        data_type: u.data_type,
        reason: u.reason.to_owned(),
    })
}

fn field_set(fields: &Fields, capacity: usize) -> Result<FieldSet, Unsupported> {
    let children = fields
        .iter()
        .map(|f| column(f.data_type(), capacity).map_err(|u| u.at(Seg::Field(f.name().clone()))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FieldSet::new(fields.clone(), children))
}

fn column(data_type: &DataType, cap: usize) -> Result<Box<dyn Column>, Unsupported> {
    use DataType as D;
    Ok(match data_type {
        D::Boolean => Box::new(BoolColumn::new(cap)),
        D::Int8 => Box::new(IntColumn::<Int8Type>::new(data_type, cap)),
        D::Int16 => Box::new(IntColumn::<Int16Type>::new(data_type, cap)),
        D::Int32 => Box::new(IntColumn::<Int32Type>::new(data_type, cap)),
        D::Int64 => Box::new(IntColumn::<Int64Type>::new(data_type, cap)),
        D::UInt8 => Box::new(IntColumn::<UInt8Type>::new(data_type, cap)),
        D::UInt16 => Box::new(IntColumn::<UInt16Type>::new(data_type, cap)),
        D::UInt32 => Box::new(IntColumn::<UInt32Type>::new(data_type, cap)),
        D::UInt64 => Box::new(IntColumn::<UInt64Type>::new(data_type, cap)),
        D::Float32 => Box::new(FloatColumn::<Float32Type>::new(data_type, cap)),
        D::Float64 => Box::new(FloatColumn::<Float64Type>::new(data_type, cap)),
        D::Date32 => Box::new(DateColumn::new(cap)),
        D::Timestamp(unit, _) => {
            let unit = *unit;
            match unit {
                TimeUnit::Second => Box::new(TimestampColumn::<TimestampSecondType>::new(
                    data_type, unit, cap,
                )),
                TimeUnit::Millisecond => Box::new(
                    TimestampColumn::<TimestampMillisecondType>::new(data_type, unit, cap),
                ),
                TimeUnit::Microsecond => Box::new(
                    TimestampColumn::<TimestampMicrosecondType>::new(data_type, unit, cap),
                ),
                TimeUnit::Nanosecond => Box::new(TimestampColumn::<TimestampNanosecondType>::new(
                    data_type, unit, cap,
                )),
            }
        }
        D::Decimal128(precision, scale) => {
            if *precision == 0 || *precision > 38 {
                return Err(Unsupported::new(
                    data_type,
                    "decimal precision must be 1 to 38",
                ));
            }
            Box::new(DecimalColumn::new(*precision, *scale, cap))
        }
        D::Utf8 => Box::new(StringColumn::<i32>::new(cap)),
        D::LargeUtf8 => Box::new(StringColumn::<i64>::new(cap)),
        D::Binary => Box::new(BinaryColumn::<i32>::new(data_type, cap)),
        D::LargeBinary => Box::new(BinaryColumn::<i64>::new(data_type, cap)),
        D::Struct(fields) => {
            if fields.is_empty() {
                return Err(Unsupported::new(
                    data_type,
                    "a struct needs at least one field",
                ));
            }
            Box::new(StructColumn::new(field_set(fields, cap)?, cap))
        }
        D::List(item) => {
            let inner = column(item.data_type(), cap).map_err(|u| u.at(Seg::AnyItem))?;
            Box::new(ListColumn::<i32>::new(data_type, item.clone(), inner, cap))
        }
        D::LargeList(item) => {
            let inner = column(item.data_type(), cap).map_err(|u| u.at(Seg::AnyItem))?;
            Box::new(ListColumn::<i64>::new(data_type, item.clone(), inner, cap))
        }
        D::Map(entries, sorted) => {
            let D::Struct(entry_fields) = entries.data_type() else {
                return Err(Unsupported::new(data_type, "map entries must be a struct"));
            };
            let [key, value] = entry_fields.as_ref() else {
                return Err(Unsupported::new(
                    data_type,
                    "map entries must have two fields",
                ));
            };
            if !is_map_key(key) || entries.is_nullable() {
                return Err(Unsupported::new(
                    data_type,
                    "map keys must be non-nullable Utf8 and entries non-nullable",
                ));
            }
            let values = column(value.data_type(), cap).map_err(|u| u.at(Seg::AnyItem))?;
            Box::new(MapColumn::new(
                entries.clone(),
                entry_fields.clone(),
                values,
                *sorted,
                cap,
            ))
        }
        _ => {
            return Err(Unsupported::new(
                data_type,
                "no JSON conversion for this type",
            ));
        }
    })
}

fn is_map_key(key: &Field) -> bool {
    key.data_type() == &DataType::Utf8 && !key.is_nullable()
}
