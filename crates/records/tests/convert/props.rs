//! Property tests: random schemas (nesting up to depth 3) with conforming random values.
//!
//! 1. Round trip: values serialised to canonical JSON, converted, and read back from the Arrow
//!    arrays into the same value model are unchanged.
//! 2. Alternate forms: the same values written in other accepted forms (integers as strings,
//!    booleans as words, timestamps as epoch seconds, single items unwrapped, ...) give exactly
//!    the batch the canonical forms give.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::rec;
use lakeflow_records::records_to_batch;

/// The type model.
#[derive(Debug, Clone)]
enum Ty {
    Bool,
    I32,
    I64,
    F64,
    Utf8,
    Date,
    Ts,
    Dec(u8, i8),
    Bin,
    Struct(Vec<(Ty, bool)>),
    List(Box<Ty>, bool),
    Map(Box<Ty>, bool),
}

/// The value model: dates are days, timestamps microseconds, decimals unscaled.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    F64(f64),
    Str(String),
    Bin(Vec<u8>),
    Items(Vec<Val>),
    Entries(Vec<(String, Val)>),
}

fn field_name(i: usize) -> String {
    format!("f{i}")
}

fn arrow_type(ty: &Ty) -> DataType {
    match ty {
        Ty::Bool => DataType::Boolean,
        Ty::I32 => DataType::Int32,
        Ty::I64 => DataType::Int64,
        Ty::F64 => DataType::Float64,
        Ty::Utf8 => DataType::Utf8,
        Ty::Date => DataType::Date32,
        Ty::Ts => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Ty::Dec(p, s) => DataType::Decimal128(*p, *s),
        Ty::Bin => DataType::Binary,
        Ty::Struct(fields) => DataType::Struct(struct_fields(fields)),
        Ty::List(item, nullable) => {
            DataType::List(Arc::new(Field::new("item", arrow_type(item), *nullable)))
        }
        Ty::Map(value, nullable) => {
            let entries = Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", arrow_type(value), *nullable),
            ]);
            let entries = Field::new("entries", DataType::Struct(entries), false);
            DataType::Map(Arc::new(entries), false)
        }
    }
}

fn struct_fields(fields: &[(Ty, bool)]) -> Fields {
    fields
        .iter()
        .enumerate()
        .map(|(i, (t, n))| Field::new(field_name(i), arrow_type(t), *n))
        .collect()
}

fn ty_strategy() -> impl Strategy<Value = Ty> {
    let leaf = prop_oneof![
        Just(Ty::Bool),
        Just(Ty::I32),
        Just(Ty::I64),
        Just(Ty::F64),
        Just(Ty::Utf8),
        Just(Ty::Date),
        Just(Ty::Ts),
        (1u8..=38, 0i8..=6).prop_map(|(p, s)| Ty::Dec(p, s.min(p.cast_signed()))),
        Just(Ty::Bin),
    ];
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec((inner.clone(), any::<bool>()), 1..4).prop_map(Ty::Struct),
            (inner.clone(), any::<bool>()).prop_map(|(t, n)| Ty::List(Box::new(t), n)),
            (inner, any::<bool>()).prop_map(|(t, n)| Ty::Map(Box::new(t), n)),
        ]
    })
}

fn val_strategy(ty: &Ty, nullable: bool) -> BoxedStrategy<Val> {
    // 1900-01-01 .. 2100-01-01, in days and in microseconds.
    const DAYS: std::ops::Range<i64> = -25_567..47_482;
    const MICROS: std::ops::Range<i64> = -2_208_988_800_000_000..4_102_444_800_000_000;
    let base: BoxedStrategy<Val> = match ty {
        Ty::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        Ty::I32 => any::<i32>().prop_map(|i| Val::Int(i.into())).boxed(),
        Ty::I64 => any::<i64>().prop_map(Val::Int).boxed(),
        Ty::F64 => prop::num::f64::NORMAL.prop_map(Val::F64).boxed(),
        Ty::Utf8 => ".{0,8}".prop_map(Val::Str).boxed(),
        Ty::Date => DAYS.prop_map(Val::Int).boxed(),
        Ty::Ts => prop_oneof![
            MICROS,
            (-2_208_988_800i64..4_102_444_800).prop_map(|s| s * 1_000_000)
        ]
        .prop_map(Val::Int)
        .boxed(),
        Ty::Dec(p, _) => {
            let limit = 10i64.pow(u32::from(*p).min(18));
            (-limit + 1..limit).prop_map(Val::Int).boxed()
        }
        Ty::Bin => prop::collection::vec(any::<u8>(), 0..6)
            .prop_map(Val::Bin)
            .boxed(),
        Ty::Struct(fields) => fields
            .iter()
            .map(|(t, n)| val_strategy(t, *n))
            .collect::<Vec<_>>()
            .prop_map(Val::Items)
            .boxed(),
        Ty::List(item, n) => prop::collection::vec(val_strategy(item, *n), 0..4)
            .prop_map(Val::Items)
            .boxed(),
        Ty::Map(value, n) => {
            prop::collection::btree_map("[a-z]{1,3}", val_strategy(value, *n), 0..3)
                .prop_map(|m| Val::Entries(m.into_iter().collect()))
                .boxed()
        }
    };
    if nullable {
        prop_oneof![1 => Just(Val::Null), 4 => base].boxed()
    } else {
        base
    }
}

/// A random schema (1-4 columns) and 0-5 rows of conforming values.
fn page_strategy() -> impl Strategy<Value = (Vec<(Ty, bool)>, Vec<Vec<Val>>)> {
    prop::collection::vec((ty_strategy(), any::<bool>()), 1..5).prop_flat_map(|cols| {
        let row: Vec<_> = cols.iter().map(|(t, n)| val_strategy(t, *n)).collect();
        (Just(cols), prop::collection::vec(row, 0..6))
    })
}

/// SplitMix64, choosing among alternate forms.
struct Choices(u64);

impl Choices {
    fn pick(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// A choice among `n` forms: the canonical one (0) when `alt` is `None`.
fn pick(alt: &mut Option<Choices>, n: u64) -> u64 {
    alt.as_mut().map_or(0, |c| c.pick(n))
}

fn decimal_text(unscaled: i64, scale: i8) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let s = usize::try_from(scale).unwrap_or(0);
    if s == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (int, frac) = padded.split_at(padded.len() - s);
    format!("{sign}{int}.{frac}")
}

fn date(days: i64) -> NaiveDate {
    NaiveDate::from_epoch_days(i32::try_from(days).unwrap()).unwrap()
}

/// JSON for `v` of type `ty`: canonical when `alt` is `None`, else in a randomly chosen
/// alternate accepted form.
fn to_json(ty: &Ty, v: &Val, alt: &mut Option<Choices>) -> Value {
    match (ty, v) {
        (_, Val::Null) => Value::Null,
        (Ty::Bool, Val::Bool(b)) => match pick(alt, 3) {
            0 => json!(b),
            1 => json!(if *b { "Yes" } else { "0" }),
            _ => json!(u8::from(*b)),
        },
        (Ty::I32 | Ty::I64, Val::Int(i)) => match pick(alt, 3) {
            0 => json!(i),
            1 => json!(i.to_string()),
            _ => json!(format!("{i}.9")),
        },
        (Ty::F64, Val::F64(f)) => match pick(alt, 2) {
            0 => json!(f),
            _ => json!(f.to_string()),
        },
        (Ty::Utf8, Val::Str(s)) => json!(s),
        (Ty::Date, Val::Int(d)) => {
            let format = [
                "%Y-%m-%d",
                "%m/%d/%Y",
                "%d-%m-%Y",
                "%Y/%m/%d",
                "%Y-%m-%dT12:00:00Z",
            ];
            let i = usize::try_from(pick(alt, 5)).unwrap();
            json!(date(*d).format(format[i]).to_string())
        }
        (Ty::Ts, Val::Int(us)) => {
            let t = DateTime::from_timestamp_micros(*us).unwrap();
            match pick(alt, 4) {
                0 => json!(t.to_rfc3339_opts(SecondsFormat::Micros, true)),
                1 => {
                    let east = FixedOffset::east_opt(-(3 * 3600 + 1800)).unwrap();
                    json!(
                        t.with_timezone(&east)
                            .to_rfc3339_opts(SecondsFormat::AutoSi, false)
                    )
                }
                2 => json!(t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string()),
                _ if us % 1_000_000 == 0 => json!(us / 1_000_000),
                _ => json!(decimal_text(*us, 6)),
            }
        }
        (Ty::Dec(_, s), Val::Int(u)) => {
            let text = decimal_text(*u, *s);
            match pick(alt, 3) {
                0 => json!(text),
                1 if u.unsigned_abs() < 1_000_000_000_000_000 => {
                    json!(text.parse::<f64>().unwrap())
                }
                _ => json!(format!("{text}{}4", if *s == 0 { "." } else { "" })),
            }
        }
        (Ty::Bin, Val::Bin(b)) => {
            if b.len() % 2 == 1 && pick(alt, 2) == 1 {
                json!(b.iter().map(|x| format!("{x:02X}")).collect::<String>())
            } else {
                json!(STANDARD.encode(b))
            }
        }
        (Ty::Struct(fields), Val::Items(items)) => {
            let mut m = Map::new();
            for (i, ((t, _), x)) in fields.iter().zip(items).enumerate() {
                m.insert(field_name(i), to_json(t, x, alt));
            }
            if alt.is_some() {
                m.insert("zz_extra".to_owned(), json!({"ignored": true}));
            }
            Value::Object(m)
        }
        (Ty::List(item, _), Val::Items(items)) => {
            let json: Vec<Value> = items.iter().map(|x| to_json(item, x, alt)).collect();
            let unwrap = json.len() == 1 && !json[0].is_null() && !json[0].is_array();
            if unwrap && pick(alt, 2) == 1 {
                json.into_iter().next().unwrap()
            } else {
                Value::Array(json)
            }
        }
        (Ty::Map(value, _), Val::Entries(entries)) => Value::Object(
            entries
                .iter()
                .map(|(k, x)| (k.clone(), to_json(value, x, alt)))
                .collect(),
        ),
        other => panic!("value does not match its type: {other:?}"),
    }
}

fn convert(cols: &[(Ty, bool)], rows: &[Vec<Val>], seed: Option<u64>) -> RecordBatch {
    let schema: SchemaRef = Arc::new(Schema::new(struct_fields(cols)));
    let mut alt = seed.map(Choices);
    let records: Vec<_> = rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            for (i, ((t, _), v)) in cols.iter().zip(row).enumerate() {
                let omit = v == &Val::Null && pick(&mut alt, 2) == 1;
                if !omit {
                    m.insert(field_name(i), to_json(t, v, &mut alt));
                }
            }
            rec(Value::Object(m))
        })
        .collect();
    records_to_batch(&records, &schema).unwrap_or_else(|e| panic!("conversion failed: {e}"))
}

/// Reads slot `i` of `a` back into the value model.
fn read(ty: &Ty, a: &dyn Array, i: usize) -> Val {
    if a.is_null(i) {
        return Val::Null;
    }
    match ty {
        Ty::Bool => Val::Bool(a.as_boolean().value(i)),
        Ty::I32 => Val::Int(a.as_primitive::<Int32Type>().value(i).into()),
        Ty::I64 => Val::Int(a.as_primitive::<Int64Type>().value(i)),
        Ty::F64 => Val::F64(a.as_primitive::<Float64Type>().value(i)),
        Ty::Utf8 => Val::Str(a.as_string::<i32>().value(i).to_owned()),
        Ty::Date => Val::Int(a.as_primitive::<Date32Type>().value(i).into()),
        Ty::Ts => Val::Int(
            a.as_primitive::<arrow_array::types::TimestampMicrosecondType>()
                .value(i),
        ),
        Ty::Dec(..) => {
            let u = a.as_primitive::<Decimal128Type>().value(i);
            Val::Int(i64::try_from(u).unwrap())
        }
        Ty::Bin => Val::Bin(a.as_binary::<i32>().value(i).to_vec()),
        Ty::Struct(fields) => {
            let s = a.as_struct();
            let items = fields
                .iter()
                .zip(s.columns())
                .map(|((t, _), c)| read(t, c.as_ref(), i))
                .collect();
            Val::Items(items)
        }
        Ty::List(item, _) => {
            let l = a.as_list::<i32>();
            let values = l.value(i);
            Val::Items((0..values.len()).map(|j| read(item, &values, j)).collect())
        }
        Ty::Map(value, _) => {
            let m = a.as_map();
            let range = m.value_offsets()[i]..m.value_offsets()[i + 1];
            let keys = m.keys().as_string::<i32>();
            let entries = range
                .map(|j| {
                    let j = usize::try_from(j).unwrap();
                    (keys.value(j).to_owned(), read(value, m.values(), j))
                })
                .collect();
            Val::Entries(entries)
        }
    }
}

/// `cases` cases from a fixed seed, so that the suite is the same on every run; set
/// `PROPTEST_CASES` and `PROPTEST_RNG_SEED` for deeper or other runs. No regression files are
/// written into the source tree: a failing case is printed.
pub fn config(cases: u32) -> ProptestConfig {
    // `ProptestConfig::default()` has read the `PROPTEST_*` variables.
    let from_env = ProptestConfig::default();
    let set = |name: &str| std::env::var_os(name).is_some();
    ProptestConfig {
        cases: if set("PROPTEST_CASES") {
            from_env.cases
        } else {
            cases
        },
        rng_seed: if set("PROPTEST_RNG_SEED") {
            from_env.rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(0x1a4e_f10e)
        },
        failure_persistence: None,
        ..from_env
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn canonical_json_round_trips((cols, rows) in page_strategy()) {
        let batch = convert(&cols, &rows, None);
        prop_assert_eq!(batch.num_rows(), rows.len());
        for (r, row) in rows.iter().enumerate() {
            for (c, ((ty, _), want)) in cols.iter().zip(row).enumerate() {
                let got = read(ty, batch.column(c).as_ref(), r);
                prop_assert_eq!(&got, want, "row {} column {}", r, c);
            }
        }
    }

    #[test]
    fn alternate_forms_equal_canonical((cols, rows) in page_strategy(), seed in any::<u64>()) {
        let canonical = convert(&cols, &rows, None);
        let alternate = convert(&cols, &rows, Some(seed));
        prop_assert_eq!(canonical, alternate);
    }
}
