//! Structs, lists and maps, alone and nested to depth.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, BooleanArray, Int64Array, LargeListArray, ListArray, MapArray, StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use serde_json::json;

use super::{as_, batch, column, list_of, map_of, schema_of};

fn point() -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("x", DataType::Int64, false),
        Field::new("label", DataType::Utf8, true),
    ]))
}

fn ints(a: &dyn Array) -> Vec<Option<i64>> {
    as_::<Int64Array>(a).iter().collect()
}

#[test]
fn structs_take_objects_ignoring_extra_keys() {
    let a = column(
        point(),
        &[
            json!({"x": 1, "label": "a", "extra": [1]}),
            json!({"x": "2"}),
            json!(null),
            json!({"x": 3, "label": null}),
        ],
    );
    let s = as_::<StructArray>(&a);
    assert_eq!(s.len(), 4);
    assert_eq!(
        (0..4).map(|i| s.is_valid(i)).collect::<Vec<_>>(),
        [true, true, false, true]
    );
    let x = ints(s.column(0));
    assert_eq!((x[0], x[1], x[3]), (Some(1), Some(2), Some(3)));
    let labels = as_::<StringArray>(s.column(1));
    assert_eq!(labels.value(0), "a");
    assert!(labels.is_null(1) && labels.is_null(2) && labels.is_null(3));
}

#[test]
fn null_struct_under_nullable_column_with_non_nullable_children() {
    // A null parent masks its non-nullable children: the batch is still valid Arrow.
    let inner = DataType::Struct(Fields::from(vec![Field::new("p", point(), false)]));
    let a = column(inner, &[json!(null), json!({"p": {"x": 5}})]);
    let s = as_::<StructArray>(&a);
    assert!(s.is_null(0) && s.is_valid(1));
    let p = s.column(0).as_struct();
    assert_eq!(ints(p.column(0))[1], Some(5));
}

#[test]
fn lists_take_arrays_and_wrap_scalars() {
    let a = column(
        list_of(DataType::Int64, true),
        &[
            json!([1, "2", null]),
            json!(7),
            json!("8"),
            json!([]),
            json!(null),
        ],
    );
    let l = as_::<ListArray>(&a);
    assert_eq!(l.value_offsets(), &[0, 3, 4, 5, 5, 5]);
    assert!(l.is_null(4) && l.is_valid(3));
    assert_eq!(ints(l.values()), [Some(1), Some(2), None, Some(7), Some(8)]);
}

#[test]
fn objects_wrap_into_one_element_lists_of_structs() {
    let a = column(list_of(point(), false), &[json!({"x": 4})]);
    let l = as_::<ListArray>(&a);
    assert_eq!(l.value_length(0), 1);
    assert_eq!(ints(l.values().as_struct().column(0)), [Some(4)]);
}

#[test]
fn large_lists_work_like_lists() {
    let dt = DataType::LargeList(Arc::new(Field::new("item", DataType::Boolean, true)));
    let a = column(dt, &[json!([true, "no"]), json!(null), json!(1)]);
    let l = as_::<LargeListArray>(&a);
    assert_eq!(l.value_offsets(), &[0, 2, 2, 3]);
    let values: Vec<_> = as_::<BooleanArray>(l.values()).iter().collect();
    assert_eq!(values, [Some(true), Some(false), Some(true)]);
}

#[test]
fn maps_take_objects_in_iteration_order() {
    let a = column(
        map_of(DataType::Int64, true),
        &[
            json!({"a": 1, "b": "2", "c": null}),
            json!({}),
            json!(null),
            json!({"z": 26}),
        ],
    );
    let m = as_::<MapArray>(&a);
    assert_eq!(m.value_offsets(), &[0, 3, 3, 3, 4]);
    assert!(m.is_null(2) && m.is_valid(1));
    let keys: Vec<_> = as_::<StringArray>(m.keys()).iter().flatten().collect();
    assert_eq!(keys, ["a", "b", "c", "z"]);
    assert_eq!(ints(m.values()), [Some(1), Some(2), None, Some(26)]);
}

/// `list<struct<a: list<map<utf8, int64>>, tag: utf8>>`, three levels of nesting under the list.
#[test]
fn deep_nesting_round_trips() {
    let inner = DataType::Struct(Fields::from(vec![
        Field::new("a", list_of(map_of(DataType::Int64, true), true), true),
        Field::new("tag", DataType::Utf8, true),
    ]));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("deep", list_of(inner, true), true),
    ]));
    let b = batch(
        &schema,
        vec![
            json!({"id": 1, "deep": [
                {"a": [{"k1": 1, "k2": 2}, {}, null], "tag": "t"},
                null,
                {"a": {"solo": "3"}},
            ]}),
            json!({"id": 2, "deep": null}),
            json!({"id": 3}),
        ],
    );
    assert_eq!(b.num_rows(), 3);
    let deep = b.column(1).as_list::<i32>();
    assert_eq!(deep.value_offsets(), &[0, 3, 3, 3]);
    assert!(deep.is_null(1) && deep.is_null(2));
    let items = deep.values().as_struct();
    assert_eq!(
        (0..3).map(|i| items.is_valid(i)).collect::<Vec<_>>(),
        [true, false, true]
    );
    let tags = items.column(1).as_string::<i32>();
    assert_eq!((tags.value(0), tags.is_null(2)), ("t", true));
    // `a` of item 0 holds three maps, item 2's scalar object was wrapped into one.
    let a = items.column(0).as_list::<i32>();
    assert_eq!(a.value_offsets(), &[0, 3, 3, 4]);
    let maps = a.values().as_map();
    assert_eq!(maps.value_offsets(), &[0, 2, 2, 2, 3]);
    assert!(maps.is_valid(1) && maps.is_null(2));
    let keys: Vec<_> = maps.keys().as_string::<i32>().iter().flatten().collect();
    assert_eq!(keys, ["k1", "k2", "solo"]);
    let values: Vec<_> = maps.values().as_primitive::<Int64Type>().iter().collect();
    assert_eq!(values, [Some(1), Some(2), Some(3)]);
}

#[test]
fn nested_batches_match_arrow_json_on_canonical_input() {
    // On input arrow-json also understands, both produce the same arrays.
    let dt = list_of(
        DataType::Struct(Fields::from(vec![
            Field::new("m", map_of(DataType::Utf8, true), true),
            Field::new("p", point(), true),
            Field::new("n", list_of(DataType::Float64, true), true),
        ])),
        true,
    );
    let schema = schema_of(dt, true);
    let rows = vec![
        json!({"c": [{"m": {"a": "x", "b": null}, "p": {"x": 1, "label": "l"}, "n": [1.5, null]}]}),
        json!({"c": null}),
        json!({"c": [null, {"m": null, "p": null, "n": []}]}),
    ];
    let ours = batch(&schema, rows.clone());
    let mut decoder = arrow_json::ReaderBuilder::new(schema)
        .build_decoder()
        .unwrap();
    decoder.serialize(&rows).unwrap();
    let theirs = decoder.flush().unwrap().unwrap();
    assert_eq!(ours, theirs);
}
