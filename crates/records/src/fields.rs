//! The fields of a struct or of the top-level record: matching an object's keys to the fields.

use std::sync::OnceLock;

use arrow_array::ArrayRef;
use arrow_schema::{ArrowError, DataType, Field, Fields};
use serde_json::{Map, Value};

use crate::builder::Column;
use crate::error::{Fail, Seg};

/// Whether `serde_json::Map` iterates in key order (it does unless its `preserve_order` feature
/// is enabled somewhere in the build).
fn objects_iterate_sorted() -> bool {
    static SORTED: OnceLock<bool> = OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut probe = Map::new();
        probe.insert("b".to_owned(), Value::Null);
        probe.insert("a".to_owned(), Value::Null);
        probe.keys().next().map(String::as_str) == Some("a")
    })
}

/// Appends a struct field's value (`None` when absent), tagging failures with the field name.
#[inline]
fn append_field(field: &Field, column: &mut dyn Column, v: Option<&Value>) -> Result<(), Fail> {
    append_slot(
        column,
        v,
        field.is_nullable(),
        field.data_type(),
        Fail::missing,
    )
    .map_err(|e| e.at(Seg::Field(field.name().clone())))
}

/// Appends `v` (or null when absent) to `column`, enforcing the slot's nullability.
#[inline]
pub(crate) fn append_slot(
    column: &mut dyn Column,
    v: Option<&Value>,
    nullable: bool,
    data_type: &DataType,
    absent: fn(&DataType) -> Fail,
) -> Result<(), Fail> {
    match v {
        Some(Value::Null) if !nullable => Err(Fail::null(data_type)),
        None if !nullable => Err(absent(data_type)),
        Some(Value::Null) | None => {
            column.append_null();
            Ok(())
        }
        Some(v) => column.append(v),
    }
}

/// The fields of a struct or of the top-level record, with one converter each.
pub(crate) struct FieldSet {
    pub(crate) fields: Fields,
    children: Vec<Box<dyn Column>>,
    /// Field indices in name order, with whether the next one has the same name.
    by_name: Vec<(usize, bool)>,
    /// Whether JSON objects iterate in key order (serde_json without `preserve_order`).
    sorted_objects: bool,
}

impl FieldSet {
    pub(crate) fn new(fields: Fields, children: Vec<Box<dyn Column>>) -> Self {
        let mut order: Vec<usize> = (0..fields.len()).collect();
        order.sort_by(|&a, &b| fields[a].name().cmp(fields[b].name()));
        let by_name = order
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let next = order.get(k + 1).map(|&j| fields[j].name());
                (i, next == Some(fields[i].name()))
            })
            .collect();
        Self {
            fields,
            children,
            by_name,
            sorted_objects: objects_iterate_sorted(),
        }
    }

    /// Appends one object: each field's value, null when absent. Extra keys are ignored.
    #[inline]
    pub(crate) fn append_object(&mut self, object: &Map<String, Value>) -> Result<(), Fail> {
        if self.sorted_objects {
            self.merge_object(object)
        } else {
            for i in 0..self.fields.len() {
                let v = object.get(self.fields[i].name());
                append_field(&self.fields[i], self.children[i].as_mut(), v)?;
            }
            Ok(())
        }
    }

    /// The fast path for key-ordered objects: one merge walk over the object's keys and the
    /// field names in order, instead of one map lookup per field.
    fn merge_object(&mut self, object: &Map<String, Value>) -> Result<(), Fail> {
        let Self {
            fields,
            children,
            by_name,
            ..
        } = self;
        let mut next = 0;
        for (key, value) in object {
            while let Some(&(i, same_name_follows)) = by_name.get(next) {
                let name = fields[i].name();
                if name == key {
                    append_field(&fields[i], children[i].as_mut(), Some(value))?;
                    next += 1;
                    if !same_name_follows {
                        break;
                    }
                } else if name.as_str() < key.as_str() {
                    append_field(&fields[i], children[i].as_mut(), None)?;
                    next += 1;
                } else {
                    break;
                }
            }
            if next == by_name.len() {
                break;
            }
        }
        for &(i, _) in &by_name[next..] {
            append_field(&fields[i], children[i].as_mut(), None)?;
        }
        Ok(())
    }

    pub(crate) fn append_null(&mut self) {
        for child in &mut self.children {
            child.append_null();
        }
    }

    pub(crate) fn finish(&mut self) -> Result<Vec<ArrayRef>, ArrowError> {
        self.children.iter_mut().map(|c| c.finish()).collect()
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_schema::Field;
    use serde_json::json;

    use super::*;
    use crate::builder::IntColumn;

    fn ints(names: &[&str]) -> FieldSet {
        let fields: Fields = names
            .iter()
            .map(|n| Field::new(*n, DataType::Int64, true))
            .collect();
        let children = names
            .iter()
            .map(|_| Box::new(IntColumn::<Int64Type>::new(&DataType::Int64, 4)) as Box<dyn Column>)
            .collect();
        FieldSet::new(fields, children)
    }

    fn run(mut set: FieldSet, sorted: bool) -> Vec<Vec<Option<i64>>> {
        set.sorted_objects = sorted;
        let objects = [
            json!({"a": 1, "b": 2, "c": 3, "d": 4}),
            json!({"0": 0, "b": 5, "zz": 9}),
            json!({}),
            json!({"d": 7, "a": 6}),
        ];
        for o in &objects {
            set.append_object(o.as_object().unwrap()).unwrap();
        }
        let arrays = set.finish().unwrap();
        arrays
            .iter()
            .map(|a| a.as_primitive::<Int64Type>().iter().collect())
            .collect()
    }

    #[test]
    fn merge_walk_matches_lookups_including_duplicate_names() {
        // Schema order differs from key order, and `b` appears twice.
        let names = ["d", "b", "a", "b", "c"];
        let merged = run(ints(&names), true);
        assert_eq!(merged, run(ints(&names), false));
        assert_eq!(merged[0], [Some(4), None, None, Some(7)]);
        assert_eq!(merged[1], [Some(2), Some(5), None, None]);
        assert_eq!(merged[3], merged[1]);
        assert_eq!(merged[2], [Some(1), None, None, Some(6)]);
        assert_eq!(merged[4], [Some(3), None, None, None]);
    }

    #[test]
    fn this_build_iterates_objects_in_key_order() {
        // If `preserve_order` gets enabled, the lookup path is used: still correct, just slower.
        let order: Vec<_> = json!({"b": 1, "a": 2})
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(objects_iterate_sorted(), order == ["a", "b"]);
    }
}
