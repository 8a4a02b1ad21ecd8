//! `table_configuration`: special keys and value normalisation.

use lakeflow_spec::{ObjectSpec, SPECIAL_KEYS, ScdType};

use crate::{parse, parse_err, with_config};

fn object(config: &str) -> ObjectSpec {
    parse(&with_config(config)).objects.remove(0)
}

/// The error for `config`, as `line: path: message` without the file name.
fn error(config: &str) -> String {
    let e = parse_err(&with_config(config));
    format!("{}: {}: {}", e.line, e.path, e.message)
}

const TC: &str = "objects[0].table.table_configuration";

#[test]
fn scd_type_default_values_and_errors() {
    assert_eq!(
        parse("connection_name: c\nobjects: [{table: {source_table: t}}]").objects[0].scd_type,
        ScdType::Type1
    );
    for (text, want) in [
        ("SCD_TYPE_1", ScdType::Type1),
        ("scd_type_2", ScdType::Type2),
        ("Append_Only", ScdType::AppendOnly),
        ("'APPEND_ONLY'", ScdType::AppendOnly),
    ] {
        assert_eq!(
            object(&format!("        scd_type: {text}\n")).scd_type,
            want,
            "{text}"
        );
    }
    assert_eq!(
        error("        owner: x\n        scd_type: SCD_TYPE_3\n"),
        format!(
            "7: {TC}.scd_type: unknown scd_type `SCD_TYPE_3` (expected one of SCD_TYPE_1, SCD_TYPE_2, APPEND_ONLY)"
        )
    );
    assert_eq!(
        error("        scd_type: 2\n"),
        format!("6: {TC}.scd_type: expected a string, found an integer")
    );
    assert_eq!(ScdType::Type2.to_string(), "SCD_TYPE_2");
    assert_eq!(ScdType::AppendOnly.to_string(), "APPEND_ONLY");
}

#[test]
fn primary_keys_in_all_three_forms() {
    let keys = |config: &str| object(config).primary_keys.unwrap();
    assert_eq!(keys("        primary_keys: [org, id]\n"), ["org", "id"]);
    assert_eq!(
        keys("        primary_keys:\n          - org\n          - id\n"),
        ["org", "id"]
    );
    assert_eq!(
        keys("        primary_keys: '[\"org\", \"id\"]'\n"),
        ["org", "id"]
    );
    assert_eq!(keys("        primary_keys: id\n"), ["id"]);
    assert_eq!(keys("        primary_keys: \" id \"\n"), ["id"]);
    assert_eq!(
        object("        primary_keys: [id]\n").table_options.len(),
        0
    );
}

#[test]
fn primary_keys_errors() {
    assert_eq!(
        error("        primary_keys: []\n"),
        format!("6: {TC}.primary_keys: must name at least one column")
    );
    assert_eq!(
        error("        primary_keys: '[]'\n"),
        format!("6: {TC}.primary_keys: must name at least one column")
    );
    assert_eq!(
        error("        primary_keys: a, b\n"),
        format!("6: {TC}.primary_keys: `a, b` is not a column name; write a list: [a, b]")
    );
    assert_eq!(
        error("        primary_keys:\n          - a\n          - 7\n"),
        format!("8: {TC}.primary_keys[1]: expected a column name, found an integer")
    );
    assert!(
        error("        primary_keys: '[\"a\", 1]'\n").contains("not a JSON list of column names")
    );
    assert!(error("        primary_keys: '[a'\n").contains("not a JSON list of column names"));
    assert_eq!(
        error("        primary_keys: [a, a]\n"),
        format!("6: {TC}.primary_keys: column `a` is listed twice")
    );
    assert_eq!(
        error("        primary_keys: {a: 1}\n"),
        format!("6: {TC}.primary_keys: expected a list of column names, found a mapping")
    );
    assert_eq!(
        error("        primary_keys: [a, '']\n"),
        format!("6: {TC}.primary_keys[1]: blank column name")
    );
}

#[test]
fn cluster_by_in_all_four_forms() {
    let cluster = |config: &str| object(config).cluster_by;
    assert_eq!(cluster("        cluster_by: [a, b]\n"), ["a", "b"]);
    assert_eq!(cluster("        cluster_by: '[\"a\",\"b\"]'\n"), ["a", "b"]);
    assert_eq!(cluster("        cluster_by: a, b\n"), ["a", "b"]);
    assert_eq!(cluster("        cluster_by: \"a,b\"\n"), ["a", "b"]);
    assert_eq!(cluster("        cluster_by: a\n"), ["a"]);
    assert!(cluster("        cluster_by: []\n").is_empty());
    assert_eq!(
        error("        cluster_by: a,,b\n"),
        format!("6: {TC}.cluster_by: blank column name")
    );
    assert_eq!(
        error("        cluster_by: true\n"),
        format!("6: {TC}.cluster_by: expected a list of column names, found a boolean")
    );
}

#[test]
fn sequence_by_is_one_column() {
    assert_eq!(
        object("        sequence_by: updated_at\n")
            .sequence_by
            .as_deref(),
        Some("updated_at")
    );
    assert_eq!(
        error("        sequence_by: [a]\n"),
        format!("6: {TC}.sequence_by: expected a column name, found a list")
    );
    assert_eq!(
        error("        sequence_by: ''\n"),
        format!("6: {TC}.sequence_by: blank column name")
    );
}

#[test]
fn values_are_normalised_to_strings() {
    let o = object(
        "        text: hello world\n        quoted: \"123\"\n        int: 100\n        hex: 0x1F\n        \
         negative: -5\n        float: 2.50\n        yes_is_text: yes\n        flag: True\n        off: false\n        \
         list: [1, \"a\", true, null, 1.5]\n        map: {b: 2, a: [x]}\n        block:\n          k: v\n        \
         empty: ''\n        max_records_per_batch: 500\n",
    );
    let options: Vec<(&str, &str)> = o
        .table_options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        options,
        [
            ("block", r#"{"k":"v"}"#),
            ("empty", ""),
            ("flag", "true"),
            ("float", "2.50"),
            ("hex", "31"),
            ("int", "100"),
            ("list", r#"[1,"a",true,null,1.5]"#),
            ("map", r#"{"a":["x"],"b":2}"#),
            ("max_records_per_batch", "500"),
            ("negative", "-5"),
            ("off", "false"),
            ("quoted", "123"),
            ("text", "hello world"),
            ("yes_is_text", "yes"),
        ]
    );
    assert_eq!(o.option_lines["text"], 6);
    assert_eq!(o.option_lines["block"], 17);
}

#[test]
fn a_key_without_a_value_is_an_error_naming_it() {
    assert_eq!(
        error("        owner: x\n        repo:\n"),
        format!("7: {TC}.repo: no value (write \"\" for an empty string)")
    );
    assert_eq!(
        error("        repo: ~\n"),
        format!("6: {TC}.repo: no value (write \"\" for an empty string)")
    );
    assert_eq!(
        error("        scd_type: null\n"),
        format!("6: {TC}.scd_type: no value (write \"\" for an empty string)")
    );
    // An empty table_configuration is fine.
    assert!(object("        {}\n").table_options.is_empty());
    assert!(
        parse("connection_name: c\nobjects: [{table: {source_table: t, table_configuration: }}]\n")
            .objects[0]
            .table_options
            .is_empty()
    );
    let e = parse_err(
        "connection_name: c\nobjects: [{table: {source_table: t, table_configuration: [a]}}]\n",
    );
    assert_eq!(
        e.to_string(),
        format!("pipeline.yaml:2: {TC}: expected a mapping, found a list")
    );
}

#[test]
fn special_keys_are_consumed_and_lines_kept_for_all() {
    let o = object(
        "        scd_type: APPEND_ONLY\n        primary_keys: id\n        sequence_by: ts\n        cluster_by: a\n        owner: me\n",
    );
    assert_eq!(o.table_options.keys().collect::<Vec<_>>(), ["owner"]);
    for key in SPECIAL_KEYS {
        assert!(o.option_lines.contains_key(key), "{key}");
    }
    assert_eq!(o.option_lines["cluster_by"], 9);
}
