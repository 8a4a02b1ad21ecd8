//! Every accepted input form of every scalar type, with the Arrow value it becomes.

use arrow_array::types::Int64Type;
use arrow_array::{
    Array, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int32Array, LargeBinaryArray, LargeStringArray, PrimitiveArray, StringArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt8Array, UInt64Array,
};
use arrow_schema::{DataType, TimeUnit};
use serde_json::{Value, json};

use super::{as_, column, column_error};

fn ts_utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn int64s(values: &[Value]) -> Vec<Option<i64>> {
    let a = column(DataType::Int64, values);
    as_::<PrimitiveArray<Int64Type>>(&a).iter().collect()
}

fn micros(values: &[Value]) -> Vec<Option<i64>> {
    let a = column(ts_utc(), values);
    as_::<TimestampMicrosecondArray>(&a).iter().collect()
}

fn days(values: &[Value]) -> Vec<Option<i32>> {
    let a = column(DataType::Date32, values);
    as_::<Date32Array>(&a).iter().collect()
}

fn decimals(p: u8, s: i8, values: &[Value]) -> Vec<Option<i128>> {
    let a = column(DataType::Decimal128(p, s), values);
    assert_eq!(a.data_type(), &DataType::Decimal128(p, s));
    as_::<Decimal128Array>(&a).iter().collect()
}

fn bools(values: &[Value]) -> Vec<Option<bool>> {
    let a = column(DataType::Boolean, values);
    as_::<BooleanArray>(&a).iter().collect()
}

#[test]
fn null_is_null_for_every_type() {
    for dt in [
        DataType::Boolean,
        DataType::Int32,
        DataType::Int64,
        DataType::UInt16,
        DataType::Float64,
        DataType::Utf8,
        DataType::LargeUtf8,
        DataType::Binary,
        DataType::Date32,
        ts_utc(),
        DataType::Decimal128(10, 2),
    ] {
        let a = column(dt.clone(), &[Value::Null, json!(null)]);
        assert_eq!((a.len(), a.null_count()), (2, 2), "{dt}");
        assert_eq!(a.data_type(), &dt);
    }
}

#[test]
fn integers_accept_numbers_and_strings() {
    let got = int64s(&[
        json!(5),
        json!(-5),
        json!(1.0),
        json!(12.7),
        json!(-12.7),
        json!("42"),
        json!(" +42 "),
        json!("12.7"),
        json!("-12.7"),
        json!("9223372036854775807"),
        json!(i64::MIN),
    ]);
    let want = [5, -5, 1, 12, -12, 42, 42, 12, -12, i64::MAX, i64::MIN];
    assert_eq!(got, want.map(Some));
}

#[test]
fn narrow_and_unsigned_integers() {
    let a = column(
        DataType::Int32,
        &[json!(2_147_483_647), json!("-2147483648")],
    );
    assert_eq!(as_::<Int32Array>(&a).values(), &[i32::MAX, i32::MIN]);
    let a = column(DataType::Int8, &[json!(-128), json!("127.9")]);
    assert_eq!(as_::<Int8Array>(&a).values(), &[-128, 127]);
    let a = column(DataType::UInt8, &[json!(255), json!("0")]);
    assert_eq!(as_::<UInt8Array>(&a).values(), &[255, 0]);
    let a = column(
        DataType::UInt64,
        &[json!(u64::MAX), json!("18446744073709551615")],
    );
    assert_eq!(as_::<UInt64Array>(&a).values(), &[u64::MAX, u64::MAX]);
}

#[test]
fn out_of_range_integers_are_errors() {
    for (dt, v) in [
        (DataType::Int32, json!(2_147_483_648_i64)),
        (DataType::Int32, json!("-2147483649")),
        (DataType::Int64, json!(u64::MAX)),
        (DataType::Int64, json!("9223372036854775808")),
        (DataType::Int64, json!(1e19)),
        (DataType::UInt32, json!(-1)),
        (DataType::Int8, json!("128")),
    ] {
        let e = column_error(dt.clone(), &v).to_string();
        assert!(e.ends_with(&format!("to {dt}: out of range")), "{e}");
    }
}

#[test]
fn floats_accept_numbers_and_numeric_strings() {
    let a = column(
        DataType::Float64,
        &[
            json!(1.5),
            json!(2),
            json!("3.25"),
            json!(" -1e3 "),
            json!("inf"),
        ],
    );
    assert_eq!(
        as_::<Float64Array>(&a).values(),
        &[1.5, 2.0, 3.25, -1000.0, f64::INFINITY]
    );
    let a = column(DataType::Float64, &[json!("NaN")]);
    assert!(as_::<Float64Array>(&a).value(0).is_nan());
    let a = column(DataType::Float32, &[json!(0.5), json!("-2.25"), json!(7)]);
    assert_eq!(as_::<Float32Array>(&a).values(), &[0.5, -2.25, 7.0]);
}

#[test]
fn booleans_accept_literals_numbers_and_words() {
    let truthy = [
        "true", "TRUE", "t", "T", "yes", "Yes", "y", "Y", "1", " true ",
    ];
    let falsy = ["false", "False", "f", "F", "no", "NO", "n", "N", "0"];
    let mut values = vec![json!(true), json!(1)];
    values.extend(truthy.iter().map(|s| json!(s)));
    assert!(bools(&values).iter().all(|b| *b == Some(true)));
    let mut values = vec![json!(false), json!(0)];
    values.extend(falsy.iter().map(|s| json!(s)));
    assert!(bools(&values).iter().all(|b| *b == Some(false)));
}

#[test]
fn dates_accept_four_forms_and_datetimes() {
    let got = days(&[
        json!("2024-03-05"),
        json!("03/05/2024"),
        json!("05-03-2024"),
        json!("2024/03/05"),
        json!("2024-03-05T23:59:59"),
        json!("2024-03-05T23:30:00-01:00"),
        json!("2024-03-05T00:30:00+01:00"),
        json!("1969-12-31"),
    ]);
    let d = 19_787; // 2024-03-05
    assert_eq!(got, [d, d, d, d, d, d + 1, d - 1, -1].map(Some));
}

#[test]
fn timestamps_accept_iso_forms() {
    let base = 1_704_164_645_000_000; // 2024-01-02T03:04:05Z
    let got = micros(&[
        json!("2024-01-02T03:04:05Z"),
        json!("2024-01-02T03:04:05z"),
        json!("2024-01-02T05:04:05+02:00"),
        json!("2024-01-02T01:34:05-0130"),
        json!("2024-01-02T04:04:05+01"),
        json!("2024-01-02T03:04:05"),
        json!("2024-01-02 03:04:05"),
        json!("2024-01-02 03:04:05 UTC"),
        json!("2024/01/02 03:04:05"),
        json!("2024-01-02T03:04:05.123456Z"),
        json!("2024-01-02 03:04:05.5"),
        json!("2024-01-02T03:04:05.1234567Z"),
        json!("2024-01-02T03:04"),
        json!("2024-01-02"),
    ]);
    let want = [
        base,
        base,
        base,
        base,
        base,
        base,
        base,
        base,
        base,
        base + 123_456,
        base + 500_000,
        base + 123_456,
        base - 5_000_000,
        base - 11_045_000_000,
    ];
    assert_eq!(got, want.map(Some));
}

#[test]
fn timestamps_accept_epoch_seconds() {
    let got = micros(&[
        json!(1_700_000_000),
        json!(1_700_000_000.25),
        json!("1700000000"),
        json!(" 1700000000.5 "),
        json!(-1),
        json!(0),
    ]);
    let base = 1_700_000_000_000_000;
    let want = [base, base + 250_000, base, base + 500_000, -1_000_000, 0];
    assert_eq!(got, want.map(Some));
}

#[test]
fn fractional_epochs_are_exact_in_every_unit() {
    let dt = DataType::Timestamp(TimeUnit::Nanosecond, None);
    let a = column(dt, &[json!("1.123456789"), json!("-0.5"), json!("1.7e9")]);
    let want = [1_123_456_789, -500_000_000, 1_700_000_000_000_000_000];
    assert_eq!(as_::<TimestampNanosecondArray>(&a).values(), &want);
    // JSON floats are read from their shortest text, then rounded half away from zero.
    let dt = DataType::Timestamp(TimeUnit::Millisecond, None);
    let a = column(dt, &[json!(0.1), json!(1.0005), json!(-1.0005), json!(1e3)]);
    assert_eq!(
        as_::<TimestampMillisecondArray>(&a).values(),
        &[100, 1_001, -1_001, 1_000_000]
    );
}

#[test]
fn timestamps_of_other_units_and_zones_store_utc() {
    let values = [json!("1970-01-01T01:00:01.123456789+01:00"), json!(2)];
    let a = column(DataType::Timestamp(TimeUnit::Second, None), &values);
    assert_eq!(as_::<TimestampSecondArray>(&a).values(), &[1, 2]);
    let dt = DataType::Timestamp(TimeUnit::Millisecond, Some("+05:00".into()));
    let a = column(dt.clone(), &values);
    assert_eq!(a.data_type(), &dt);
    assert_eq!(
        as_::<TimestampMillisecondArray>(&a).values(),
        &[1_123, 2_000]
    );
    let dt = DataType::Timestamp(TimeUnit::Nanosecond, Some("Europe/Paris".into()));
    let a = column(dt, &values);
    let want = [1_123_456_789, 2_000_000_000];
    assert_eq!(as_::<TimestampNanosecondArray>(&a).values(), &want);
}

#[test]
fn decimals_are_exact_and_round_half_away_from_zero() {
    let got = decimals(
        10,
        2,
        &[
            json!("123.456"),
            json!("-0.125"),
            json!("0.124"),
            json!(1.005),
            json!(7),
            json!(-7),
            json!("1e2"),
            json!("1.5E-1"),
            json!(" 12345678.99 "),
            json!(0.1),
        ],
    );
    let want = [
        12_346,
        -13,
        12,
        101,
        700,
        -700,
        10_000,
        15,
        1_234_567_899,
        10,
    ];
    assert_eq!(got, want.map(Some));
    // A string never goes through f64: 38 significant digits survive.
    let max = "9".repeat(38);
    assert_eq!(decimals(38, 0, &[json!(max)]), [Some(10_i128.pow(38) - 1)]);
    assert_eq!(decimals(38, 10, &[json!("0.00000000005")]), [Some(1)]);
    // Negative scale.
    assert_eq!(
        decimals(5, -2, &[json!(12_345), json!("150")]),
        [Some(123), Some(2)]
    );
}

#[test]
fn binary_is_base64_then_hex_then_raw() {
    let values = [
        json!("aGVsbG8="),
        json!("0aff10"),
        json!("DEADbeef00"),
        json!("not base64!"),
        json!(""),
    ];
    let a = column(DataType::Binary, &values);
    let got: Vec<&[u8]> = as_::<BinaryArray>(&a).iter().map(Option::unwrap).collect();
    let raw: &[u8] = b"not base64!";
    let want: [&[u8]; 5] = [
        b"hello",
        &[0x0a, 0xff, 0x10],
        &[0xde, 0xad, 0xbe, 0xef, 0],
        raw,
        b"",
    ];
    assert_eq!(got, want);
    let a = column(DataType::LargeBinary, &[json!("aGk=")]);
    assert_eq!(as_::<LargeBinaryArray>(&a).value(0), b"hi");
}

#[test]
fn strings_take_any_value_as_json_text() {
    let values = [
        json!("plain"),
        json!(5),
        json!(-1.5),
        json!(true),
        json!({"a": null, "b": [1, 2]}),
        json!([1, "x", {"k": false}]),
        json!(""),
    ];
    let want = [
        "plain",
        "5",
        "-1.5",
        "true",
        r#"{"a":null,"b":[1,2]}"#,
        r#"[1,"x",{"k":false}]"#,
        "",
    ];
    let a = column(DataType::Utf8, &values);
    let got: Vec<&str> = as_::<StringArray>(&a).iter().map(Option::unwrap).collect();
    assert_eq!(got, want);
    let a = column(DataType::LargeUtf8, &values);
    let got: Vec<&str> = as_::<LargeStringArray>(&a)
        .iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(got, want);
}
