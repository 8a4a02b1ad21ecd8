//! Nested column converters: structs, lists and maps. Each owns its children's converters, its
//! offsets and its null bitmap, and tags a child's failure with the path segment leading to it.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, GenericListArray, MapArray, OffsetSizeTrait, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, FieldRef, Fields};
use serde_json::Value;

use crate::builder::Column;
use crate::error::{Fail, Seg};
use crate::fields::{FieldSet, append_slot};

/// Struct: a JSON object with at least one key.
pub(crate) struct StructColumn {
    set: FieldSet,
    nulls: NullBufferBuilder,
    data_type: DataType,
}

impl StructColumn {
    pub(crate) fn new(set: FieldSet, capacity: usize) -> Self {
        let data_type = DataType::Struct(set.fields.clone());
        Self {
            set,
            nulls: NullBufferBuilder::new(capacity),
            data_type,
        }
    }
}

impl Column for StructColumn {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        match v {
            Value::Object(object) if object.is_empty() => Err(Fail::invalid(
                v,
                &self.data_type,
                "an empty object is not a struct (a missing nested object must be null)",
            )),
            Value::Object(object) => {
                self.set.append_object(object)?;
                self.nulls.append_non_null();
                Ok(())
            }
            _ => Err(Fail::shape(v, &self.data_type)),
        }
    }

    fn append_null(&mut self) {
        self.nulls.append_null();
        self.set.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        let arrays = self.set.finish()?;
        let array = StructArray::try_new(self.set.fields.clone(), arrays, self.nulls.finish())?;
        Ok(Arc::new(array))
    }
}

/// List and LargeList: a JSON array, or any other non-null value as a one-element list.
pub(crate) struct ListColumn<O: OffsetSizeTrait> {
    item_field: FieldRef,
    item: Box<dyn Column>,
    offsets: Vec<O>,
    len: usize,
    nulls: NullBufferBuilder,
    data_type: DataType,
}

impl<O: OffsetSizeTrait> ListColumn<O> {
    pub(crate) fn new(
        data_type: &DataType,
        item_field: FieldRef,
        item: Box<dyn Column>,
        capacity: usize,
    ) -> Self {
        let mut offsets = Vec::with_capacity(capacity + 1);
        offsets.push(O::usize_as(0));
        Self {
            item_field,
            item,
            offsets,
            len: 0,
            nulls: NullBufferBuilder::new(capacity),
            data_type: data_type.clone(),
        }
    }

    fn append_item(&mut self, v: &Value) -> Result<(), Fail> {
        append_slot(
            self.item.as_mut(),
            Some(v),
            self.item_field.is_nullable(),
            self.item_field.data_type(),
            Fail::null,
        )
    }

    fn push_offset(&mut self, v: &Value) -> Result<(), Fail> {
        let end = O::from_usize(self.len)
            .ok_or_else(|| Fail::invalid(v, &self.data_type, "too many list items in the page"))?;
        self.offsets.push(end);
        Ok(())
    }
}

impl<O: OffsetSizeTrait> Column for ListColumn<O> {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.append_item(item).map_err(|e| e.at(Seg::Index(i)))?;
                }
                self.len += items.len();
            }
            scalar => {
                self.append_item(scalar).map_err(|e| e.at(Seg::Index(0)))?;
                self.len += 1;
            }
        }
        self.push_offset(v)?;
        self.nulls.append_non_null();
        Ok(())
    }

    fn append_null(&mut self) {
        self.offsets
            .push(*self.offsets.last().unwrap_or(&O::usize_as(0)));
        self.nulls.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::take(&mut self.offsets)));
        let values = self.item.finish()?;
        let array = GenericListArray::<O>::try_new(
            self.item_field.clone(),
            offsets,
            values,
            self.nulls.finish(),
        )?;
        Ok(Arc::new(array))
    }
}

/// Map with Utf8 keys: a JSON object, entries in the object's iteration order.
pub(crate) struct MapColumn {
    entries_field: FieldRef,
    entry_fields: Fields,
    keys: StringBuilder,
    values: Box<dyn Column>,
    offsets: Vec<i32>,
    len: usize,
    nulls: NullBufferBuilder,
    sorted: bool,
    data_type: DataType,
}

impl MapColumn {
    /// `entries_field` must be a struct of a non-nullable Utf8 key and a value (checked by the
    /// planner).
    pub(crate) fn new(
        entries_field: FieldRef,
        entry_fields: Fields,
        values: Box<dyn Column>,
        sorted: bool,
        capacity: usize,
    ) -> Self {
        let mut offsets = Vec::with_capacity(capacity + 1);
        offsets.push(0);
        Self {
            data_type: DataType::Map(entries_field.clone(), sorted),
            entries_field,
            entry_fields,
            keys: StringBuilder::with_capacity(capacity, capacity * 8),
            values,
            offsets,
            len: 0,
            nulls: NullBufferBuilder::new(capacity),
            sorted,
        }
    }
}

impl Column for MapColumn {
    fn append(&mut self, v: &Value) -> Result<(), Fail> {
        let Value::Object(object) = v else {
            return Err(Fail::shape(v, &self.data_type));
        };
        let value_field = &self.entry_fields[1];
        for (key, value) in object {
            self.keys.append_value(key);
            append_slot(
                self.values.as_mut(),
                Some(value),
                value_field.is_nullable(),
                value_field.data_type(),
                Fail::null,
            )
            .map_err(|e| e.at(Seg::Key(key.clone())))?;
        }
        self.len += object.len();
        let end = i32::try_from(self.len)
            .map_err(|_| Fail::invalid(v, &self.data_type, "too many map entries in the page"))?;
        self.offsets.push(end);
        self.nulls.append_non_null();
        Ok(())
    }

    fn append_null(&mut self) {
        self.offsets.push(*self.offsets.last().unwrap_or(&0));
        self.nulls.append_null();
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        let keys: ArrayRef = Arc::new(self.keys.finish());
        let values = self.values.finish()?;
        let entries = StructArray::try_new(self.entry_fields.clone(), vec![keys, values], None)?;
        let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::take(&mut self.offsets)));
        let array = MapArray::try_new(
            self.entries_field.clone(),
            offsets,
            entries,
            self.nulls.finish(),
            self.sorted,
        )?;
        Ok(Arc::new(array))
    }
}
