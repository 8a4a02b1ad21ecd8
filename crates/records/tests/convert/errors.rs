//! Every error: wrong shapes, unparseable text, ranges, precision, empty structs, missing and null
//! non-nullable values, unsupported types; each message names record, path, value and type.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use lakeflow_records::{ConvertError, Converter, MAX_VALUE_CHARS};
use serde_json::{Value, json};

use super::{batch_error, column_error, list_of, map_of, schema_of};

fn ts_utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn point() -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("x", DataType::Int64, false),
        Field::new("label", DataType::Utf8, true),
    ]))
}

/// Asserts an [`ConvertError::InvalidValue`] with these parts, and returns its message.
fn assert_invalid(e: &ConvertError, record: usize, path: &str, value: &str, expected: &str) {
    let ConvertError::InvalidValue {
        record: r,
        path: p,
        value: v,
        expected: x,
        ..
    } = e
    else {
        panic!("not an invalid value: {e:?}");
    };
    assert_eq!(
        (*r, p.as_str(), v.as_str(), x.as_str()),
        (record, path, value, expected)
    );
    let shown = e.to_string();
    let prefix =
        format!("record {record}, column `{path}`: cannot convert {value} to {expected}: ");
    assert!(shown.starts_with(&prefix), "{shown}");
}

#[test]
fn message_format_matches_the_contract() {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "user",
        DataType::Struct(Fields::from(vec![Field::new("created_at", ts_utc(), true)])),
        true,
    )]));
    let mut rows = vec![json!({"user": {"created_at": "2024-01-01T00:00:00Z"}}); 17];
    rows.push(json!({"user": {"created_at": "yesterday"}}));
    let e = batch_error(&schema, rows);
    assert_eq!(
        e.to_string(),
        "record 17, column `user.created_at`: cannot convert \"yesterday\" to \
         Timestamp(µs, UTC): not a recognised timestamp format"
    );
    assert_eq!((e.path(), e.record()), ("user.created_at", Some(17)));
}

#[test]
fn wrong_shapes_are_errors_for_every_type() {
    let cases = [
        (DataType::Int64, json!({"a": 1}), "Int64", "an object"),
        (DataType::Int32, json!(true), "Int32", "a boolean"),
        (DataType::Float64, json!([1.5]), "Float64", "an array"),
        (DataType::Boolean, json!([true]), "Boolean", "an array"),
        (DataType::Date32, json!(20_240_101), "Date32", "a number"),
        (ts_utc(), json!({}), "Timestamp(µs, UTC)", "an object"),
        (
            DataType::Decimal128(5, 2),
            json!(false),
            "Decimal128(5, 2)",
            "a boolean",
        ),
        (DataType::Binary, json!(12), "Binary", "a number"),
        (point(), json!([{"x": 1}]), "Struct", "an array"),
        (point(), json!("x"), "Struct", "a string"),
        (map_of(DataType::Int64, true), json!([1]), "Map", "an array"),
        (map_of(DataType::Int64, true), json!(3), "Map", "a number"),
    ];
    for (dt, v, expected, got) in cases {
        let e = column_error(dt, &v);
        assert_invalid(&e, 0, "c", &v.to_string(), expected);
        assert!(
            e.to_string()
                .ends_with(&format!("unexpected JSON value: {got}")),
            "{e}"
        );
    }
}

#[test]
fn unparseable_strings_are_errors() {
    let cases = [
        (DataType::Int64, "abc", "not an integer"),
        (DataType::Int64, "1e3", "not an integer"),
        (DataType::Float64, "one", "not a number"),
        (DataType::Boolean, "maybe", "not a recognised boolean"),
        (
            DataType::Date32,
            "2024-02-30",
            "not a recognised date format",
        ),
        (
            DataType::Date32,
            "yesterday",
            "not a recognised date format",
        ),
        (
            ts_utc(),
            "2024-01-01T25:00:00Z",
            "not a recognised timestamp format",
        ),
        (DataType::Decimal128(10, 2), "1.2.3", "not a decimal number"),
    ];
    for (dt, s, reason) in cases {
        let e = column_error(dt.clone(), &json!(s));
        assert!(e.to_string().contains(reason), "{dt}: {e}");
        assert_eq!(e.path(), "c");
    }
    let e = column_error(DataType::Boolean, &json!(2));
    assert!(
        e.to_string()
            .ends_with("only the numbers 0 and 1 are booleans"),
        "{e}"
    );
}

#[test]
fn decimal_precision_overflow_is_an_error() {
    for v in [json!("1000.00"), json!(1000), json!(-999.995), json!("1e3")] {
        let e = column_error(DataType::Decimal128(5, 2), &v);
        assert_invalid(&e, 0, "c", &v.to_string(), "Decimal128(5, 2)");
        assert!(e.to_string().ends_with("exceeds the precision"), "{e}");
    }
}

#[test]
fn timestamp_overflow_is_an_error() {
    let dt = DataType::Timestamp(TimeUnit::Nanosecond, None);
    let e = column_error(dt, &json!("9999-01-01T00:00:00Z"));
    assert!(
        e.to_string().ends_with("out of range for the time unit"),
        "{e}"
    );
}

#[test]
fn empty_object_for_a_struct_is_an_error() {
    let e = column_error(point(), &json!({}));
    assert_invalid(&e, 0, "c", "{}", "Struct");
    let all_nullable = DataType::Struct(Fields::from(vec![Field::new("a", DataType::Utf8, true)]));
    let e = column_error(list_of(all_nullable, true), &json!([{"a": "x"}, {}]));
    assert_invalid(&e, 0, "c[1]", "{}", "Struct");
    assert!(
        e.to_string()
            .contains("a missing nested object must be null")
    );
}

#[test]
fn missing_non_nullable_fields_are_errors() {
    let schema = schema_of(DataType::Int64, false);
    let e = batch_error(&schema, vec![json!({"c": 1}), json!({"other": 2})]);
    assert!(
        matches!(e, ConvertError::MissingField { record: 1, .. }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "record 1, column `c`: missing value for non-nullable Int64"
    );
    // Nested: a struct inside a list inside a struct.
    let dt = DataType::Struct(Fields::from(vec![Field::new(
        "pts",
        list_of(point(), true),
        true,
    )]));
    let e = column_error(dt, &json!({"pts": [{"x": 1}, {"label": "no x"}]}));
    assert!(matches!(e, ConvertError::MissingField { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "record 0, column `c.pts[1].x`: missing value for non-nullable Int64"
    );
}

#[test]
fn nulls_in_non_nullable_slots_are_errors() {
    let schema = schema_of(DataType::Utf8, false);
    let e = batch_error(
        &schema,
        vec![json!({"c": "a"}), json!({"c": "b"}), json!({"c": null})],
    );
    assert_eq!(
        e.to_string(),
        "record 2, column `c`: null for non-nullable Utf8"
    );
    let e = column_error(list_of(DataType::Int64, false), &json!([1, null]));
    assert_eq!(
        e.to_string(),
        "record 0, column `c[1]`: null for non-nullable Int64"
    );
    let e = column_error(
        map_of(DataType::Int64, false),
        &json!({"ok": 1, "k\"q": null}),
    );
    assert!(matches!(e, ConvertError::NullValue { .. }), "{e:?}");
    assert_eq!(e.path(), r#"c["k\"q"]"#);
    let e = column_error(point(), &json!({"x": null}));
    assert_eq!(
        e.to_string(),
        "record 0, column `c.x`: null for non-nullable Int64"
    );
}

#[test]
fn errors_deep_in_nesting_name_the_full_path() {
    let dt = list_of(
        DataType::Struct(Fields::from(vec![Field::new(
            "tags",
            map_of(list_of(DataType::Int32, true), true),
            true,
        )])),
        true,
    );
    let v = json!([null, {"tags": {"a": [1], "b": [2, "x"]}}]);
    let e = column_error(dt, &v);
    assert_invalid(&e, 0, r#"c[1].tags["b"][1]"#, "\"x\"", "Int32");
}

#[test]
fn long_values_are_truncated_in_messages() {
    let long = "y".repeat(200);
    let e = column_error(DataType::Int64, &json!(long));
    let ConvertError::InvalidValue { value, .. } = &e else {
        panic!("{e:?}");
    };
    let want = format!("\"{}…", "y".repeat(MAX_VALUE_CHARS - 1));
    assert_eq!(value, &want);
    assert!(!e.to_string().contains(&long));
    // Objects are shown as compact JSON, cut on a character boundary.
    let obj: Value = json!({"k": "é".repeat(100)});
    let e = column_error(DataType::Float64, &obj);
    let ConvertError::InvalidValue { value, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(value.chars().count(), MAX_VALUE_CHARS + 1);
    assert!(value.starts_with(r#"{"k":"éé"#) && value.ends_with('…'));
}

#[test]
fn unsupported_types_are_rejected_up_front_with_their_path() {
    let labels = list_of(
        DataType::Struct(Fields::from(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8View, true),
        ])),
        true,
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("ok", DataType::Int64, true),
        Field::new("labels", labels, true),
    ]));
    let e = Converter::new(schema).unwrap_err();
    assert!(matches!(e, ConvertError::UnsupportedType { .. }), "{e:?}");
    assert_eq!(e.path(), "labels[].name");
    assert!(
        e.to_string()
            .starts_with("column `labels[].name`: unsupported type Utf8View")
    );

    let int_keys = {
        let entries = Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Int64, false),
                Field::new("value", DataType::Utf8, true),
            ])),
            false,
        );
        DataType::Map(Arc::new(entries), false)
    };
    for (dt, path) in [
        (DataType::Time64(TimeUnit::Microsecond), "c"),
        (int_keys, "c"),
        (map_of(DataType::Duration(TimeUnit::Second), true), "c[]"),
        (DataType::Struct(Fields::empty()), "c"),
        (DataType::Decimal128(0, 0), "c"),
    ] {
        let e = Converter::new(schema_of(dt.clone(), true)).unwrap_err();
        assert_eq!(e.path(), path, "{dt}");
        assert_eq!(e.record(), None);
    }
}

#[test]
fn into_connect_error_is_a_schema_mismatch() {
    let e = column_error(DataType::Int64, &json!("abc"));
    match e.into_connect_error("issues") {
        lakeflow_connect::Error::SchemaMismatch {
            table,
            field,
            reason,
        } => {
            assert_eq!((table.as_str(), field.as_str()), ("issues", "c"));
            assert_eq!(
                reason,
                "record 0: cannot convert \"abc\" to Int64: not an integer"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}
