//! Property tests with hostile input: random Arrow schemas (supported types nested up to four
//! levels, odd parameters, unsupported types) and random JSON values (wrong types, huge and
//! tiny numbers, odd strings, deep nesting, values that almost fit). The converter never
//! panics: `Converter::new` accepts a schema or names the unsupported column, and `convert`
//! returns a batch of the page or an error naming the record index and the column path of the
//! first offending value, the same one converting that record alone reports.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::Record;
use lakeflow_records::{ConvertError, Converter};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::props::config;

/// Field and key names: ordinary, duplicated, empty, dotted, non-ASCII.
const NAMES: &[&str] = &["a", "b", "id", "a", "", "a.b", "é", "[0]"];

fn name() -> impl Strategy<Value = String> {
    select(NAMES).prop_map(str::to_owned)
}

fn field(data_type: DataType) -> impl Strategy<Value = Field> {
    (name(), any::<bool>())
        .prop_map(move |(n, nullable)| Field::new(n, data_type.clone(), nullable))
}

/// A leaf type, with odd parameters (decimal precision and scale out of range, unknown time
/// zones) and some types that have no conversion.
fn leaf_type() -> impl Strategy<Value = DataType> {
    let unit = select(
        &[
            TimeUnit::Second,
            TimeUnit::Millisecond,
            TimeUnit::Microsecond,
            TimeUnit::Nanosecond,
        ][..],
    );
    let zone = select(&[None, Some("UTC"), Some("+05:30"), Some("Not/AZone")][..]);
    prop_oneof![
        24 => select(vec![
            DataType::Boolean,
            DataType::Int8,
            DataType::Int16,
            DataType::Int32,
            DataType::Int64,
            DataType::UInt8,
            DataType::UInt16,
            DataType::UInt32,
            DataType::UInt64,
            DataType::Float32,
            DataType::Float64,
            DataType::Utf8,
            DataType::LargeUtf8,
            DataType::Date32,
            DataType::Binary,
            DataType::LargeBinary,
        ]),
        6 => (unit, zone).prop_map(|(u, z)| DataType::Timestamp(u, z.map(Into::into))),
        6 => (1u8..=38, -10i8..=40).prop_map(|(p, s)| DataType::Decimal128(p, s)),
        // Rarely, as one bad leaf rejects the whole schema.
        1 => select(vec![
            DataType::Decimal128(0, 0),
            DataType::Decimal128(39, 2),
            DataType::Null,
            DataType::Utf8View,
            DataType::Date64,
            DataType::Time32(TimeUnit::Second),
            DataType::Duration(TimeUnit::Second),
            DataType::Decimal256(10, 2),
            DataType::Float16,
        ]),
    ]
}

fn map_type(
    value: DataType,
    value_nullable: bool,
    key_type: DataType,
    key_nullable: bool,
) -> DataType {
    let entries = Fields::from(vec![
        Field::new("key", key_type, key_nullable),
        Field::new("value", value, value_nullable),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

/// Any type, nested up to four levels: structs (possibly empty, names possibly repeated),
/// lists, maps (sometimes with keys that are not non-nullable Utf8).
fn data_type() -> BoxedStrategy<DataType> {
    leaf_type()
        .prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                12 => prop::collection::vec(inner.clone().prop_flat_map(field), 1..4)
                    .prop_map(|f| DataType::Struct(Fields::from(f))),
                // Unsupported: a struct needs a field.
                1 => Just(DataType::Struct(Fields::empty())),
                6 => (inner.clone(), any::<bool>())
                    .prop_map(|(t, n)| DataType::List(Arc::new(Field::new("item", t, n)))),
                1 => (inner.clone(), any::<bool>())
                    .prop_map(|(t, n)| DataType::LargeList(Arc::new(Field::new("item", t, n)))),
                8 => (inner.clone(), any::<bool>())
                    .prop_map(|(t, n)| map_type(t, n, DataType::Utf8, false)),
                // Unsupported: map keys must be non-nullable Utf8.
                1 => (inner, select(vec![(DataType::Utf8, true), (DataType::Int32, false)]))
                    .prop_map(|(t, (k, kn))| map_type(t, true, k, kn)),
            ]
        })
        .boxed()
}

fn schema() -> impl Strategy<Value = SchemaRef> {
    prop::collection::vec(data_type().prop_flat_map(field), 0..5)
        .prop_map(|fields| Arc::new(Schema::new(fields)))
}

/// Strings that are almost numbers, dates, booleans or base64, and some that are not at all.
const ODD_STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "+7",
    "12.7",
    ".5",
    "5.",
    ".",
    "-",
    "1e3",
    "1e999999999",
    "-1e-999999999",
    "1e",
    "NaN",
    "inf",
    "-infinity",
    "99999999999999999999999999999999999999999",
    "0.000000000000000000000000000000000000000001",
    "true",
    "Yes",
    "n",
    "2024-02-29",
    "2023-02-29",
    "1970-01-01T00:00:00Z",
    "1970-01-01 24:00:00",
    "9999-12-31T23:59:59.999999999+23:59",
    "0000-01-01",
    "01/02/1970",
    "1970-01-01T00:00:00.",
    "1970-01-01T00:00:00+2",
    "1970-01-01Té",
    "ééééééééééé",
    "aGk=",
    "0aFf10",
    "abc",
    "\u{0}",
    "\u{feff}1",
    "１２",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        select(
            &[
                f64::MAX,
                -f64::MAX,
                f64::MIN_POSITIVE,
                5e-324,
                -0.0,
                0.5,
                -2.5,
                1e18,
                1.8446744073709552e19,
                9.3e18,
            ][..]
        )
        .prop_map(|f| json!(f)),
        select(
            &[
                i64::MIN,
                i64::MAX,
                0,
                -1,
                1,
                255,
                256,
                65_536,
                4_294_967_296
            ][..]
        )
        .prop_map(Value::from),
    ]
}

fn string() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => select(ODD_STRINGS).prop_map(Value::from),
        1 => "\\PC{0,16}".prop_map(Value::from),
        1 => (1usize..400).prop_map(|n| Value::from("9".repeat(n))),
    ]
}

/// Any JSON value, nested up to five levels.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string(),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((name(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A value meant for `data_type`: mostly of a plausible kind (which may still not fit), now and
/// then anything at all.
fn value_for(data_type: &DataType) -> BoxedStrategy<Value> {
    let plausible: BoxedStrategy<Value> = match data_type {
        DataType::Struct(fields) => {
            let members: Vec<_> = fields
                .iter()
                .map(|f| {
                    let name = f.name().clone();
                    prop::option::weighted(0.8, value_for(f.data_type()))
                        .prop_map(move |v| v.map(|v| (name.clone(), v)))
                })
                .collect();
            (members, prop::option::weighted(0.2, (name(), any_json())))
                .prop_map(|(members, extra)| {
                    let object: Map<String, Value> =
                        members.into_iter().flatten().chain(extra).collect();
                    Value::Object(object)
                })
                .boxed()
        }
        DataType::List(item) | DataType::LargeList(item) => prop_oneof![
            4 => prop::collection::vec(value_for(item.data_type()), 0..4).prop_map(Value::Array),
            1 => value_for(item.data_type()),
        ]
        .boxed(),
        DataType::Map(entries, _) => {
            let value = match entries.data_type() {
                DataType::Struct(f) if f.len() == 2 => value_for(f[1].data_type()),
                _ => any_json(),
            };
            prop::collection::vec((name(), value), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect()))
                .boxed()
        }
        DataType::Boolean => {
            prop_oneof![any::<bool>().prop_map(Value::Bool), number(), string()].boxed()
        }
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::Date32
        | DataType::Timestamp(..) => prop_oneof![3 => string(), 1 => number()].boxed(),
        _ => prop_oneof![3 => number(), 1 => string()].boxed(),
    };
    prop_oneof![
        10 => plausible,
        1 => Just(Value::Null),
        1 => any_json(),
    ]
    .boxed()
}

/// A schema and a page of 0-5 records meant for it.
fn page() -> impl Strategy<Value = (SchemaRef, Vec<Record>)> {
    schema().prop_flat_map(|schema| {
        let record = value_for(&DataType::Struct(schema.fields().clone())).prop_map(|v| match v {
            Value::Object(m) => m,
            other => Map::from_iter([("a".to_owned(), other)]),
        });
        (Just(schema), prop::collection::vec(record, 0..6))
    })
}

/// Converts a page and checks the outcome: a batch of the page, or an error about a value that
/// names the first failing record and a column path, as converting that record alone does.
fn check(schema: &SchemaRef, records: &[Record]) {
    let converter = match Converter::new(schema.clone()) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                matches!(e, ConvertError::UnsupportedType { .. }),
                "a schema error is about a type: {e}"
            );
            assert!(e.record().is_none(), "{e}");
            assert!(e.to_string().starts_with("column `"), "{e}");
            return;
        }
    };
    match converter.convert(records) {
        Ok(batch) => {
            assert_eq!(batch.num_rows(), records.len());
            assert_eq!(&batch.schema(), schema);
        }
        Err(e) => {
            assert!(
                !matches!(e, ConvertError::Arrow(_)),
                "Arrow refused a batch: {e}"
            );
            let index = e.record().unwrap_or_else(|| panic!("no record index: {e}"));
            assert!(index < records.len(), "{e}");
            let prefix = format!("record {index}, column `{}`: ", e.path());
            assert!(e.to_string().starts_with(&prefix), "{e}");
            assert!(
                schema
                    .fields()
                    .iter()
                    .any(|f| e.path().starts_with(f.name().as_str())),
                "the path names a column: {e}"
            );
            converter
                .convert(&records[..index])
                .unwrap_or_else(|e| panic!("the records before the failing one convert: {e}"));
            let alone = converter
                .convert(&records[index..=index])
                .expect_err("the failing record fails alone too");
            assert_eq!(alone.record(), Some(0));
            assert_eq!(alone.path(), e.path());
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_pages_convert_or_fail_with_a_located_error((schema, records) in page()) {
        check(&schema, &records);
    }

    #[test]
    fn any_json_against_any_schema_never_panics(
        schema in schema(),
        records in prop::collection::vec(any_json(), 0..4),
    ) {
        let records: Vec<Record> = records
            .into_iter()
            .map(|v| match v {
                Value::Object(m) => m,
                other => Map::from_iter([("a".to_owned(), other)]),
            })
            .collect();
        check(&schema, &records);
    }
}

/// `depth` arrays nested in each other around `inner`.
fn nested_arrays(depth: usize, inner: Value) -> Value {
    (0..depth).fold(inner, |v, _| Value::Array(vec![v]))
}

#[test]
fn deeply_nested_values_convert_or_fail_cleanly() {
    // serde_json parses at most 128 levels, so no connector hands over anything deeper.
    let deep = nested_arrays(127, json!({"a": 1}));
    let schema = |data_type: DataType| {
        Arc::new(Schema::new(vec![Field::new("c", data_type, true)])) as SchemaRef
    };
    let records = vec![Map::from_iter([("c".to_owned(), deep)])];
    // As text: the compact JSON.
    let batch = Converter::new(schema(DataType::Utf8))
        .unwrap()
        .convert(&records)
        .unwrap();
    assert_eq!(batch.num_rows(), 1);
    // As a number: an error that shows the value cut short.
    let err = Converter::new(schema(DataType::Int64))
        .unwrap()
        .convert(&records)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("record 0, column `c`: cannot convert [[[["),
        "{err}"
    );
    assert!(err.to_string().contains("…"), "{err}");
    // As lists of lists: converted as deep as the schema goes, then an error at the path.
    let lists = (0..3).fold(DataType::Int64, |t, _| {
        DataType::List(Arc::new(Field::new("item", t, true)))
    });
    let err = Converter::new(schema(lists))
        .unwrap()
        .convert(&records)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("record 0, column `c[0][0][0]`: "),
        "{err}"
    );
}

#[test]
fn generated_pages_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(config(300));
    let strategy = page();
    let (mut unsupported, mut converted, mut rejected) = (0, 0, 0);
    for _ in 0..300 {
        let (schema, records) = strategy.new_tree(&mut runner).unwrap().current();
        match Converter::new(schema).map(|c| c.convert(&records)) {
            Err(_) => unsupported += 1,
            Ok(Ok(_)) => converted += 1,
            Ok(Err(_)) => rejected += 1,
        }
    }
    let outcomes = [unsupported, converted, rejected];
    assert!(
        outcomes.iter().all(|&n| n >= 30),
        "unsupported schema, converted, rejected value: {outcomes:?} of 300"
    );
}
