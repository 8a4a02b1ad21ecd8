//! Hostile inputs: deep nesting, huge files, alias bombs. Each was a crash or a hang once, or
//! pins a limit the property tests (`props.rs`) rely on.

use lakeflow_spec::{Connections, PipelineSpec};

/// `depth` nested flow lists: `[[[...]]]`.
fn flow_lists(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn spec_error(text: &str) -> String {
    PipelineSpec::parse(text, "p.yaml").unwrap_err().to_string()
}

#[test]
fn deeply_nested_block_yaml_is_an_error_not_a_stack_overflow() {
    // `- - - x` nests one block list per dash; yaml-rust2's `Parser::load` recursed once per
    // level and overflowed the stack.
    let err = spec_error(&format!("{}x\n", "- ".repeat(50_000)));
    assert_eq!(
        err,
        "p.yaml:1: [0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]\
         [0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]\
         [0][0][0][0][0][0][0][0]: lists and mappings are nested more than 64 levels deep"
    );
    let mappings: String = (0..100).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    let err = spec_error(&mappings);
    assert!(err.contains("nested more than 64 levels"), "{err}");
}

#[test]
fn deeply_nested_flow_yaml_is_an_error() {
    let err = spec_error(&flow_lists(200));
    assert!(err.contains("nested more than 64 levels"), "{err}");
    // The scanner stops at 255 flow levels before any tree is built.
    let err = spec_error(&flow_lists(100_000));
    assert!(err.starts_with("p.yaml:1: "), "{err}");
}

#[test]
fn deeply_nested_option_value_is_an_error() {
    let spec = |value: &str| {
        format!(
            "connection_name: c\nobjects:\n  - table:\n      source_table: t\n      \
             table_configuration:\n        x: {value}\n"
        )
    };
    let err = spec_error(&spec(&flow_lists(200)));
    assert!(
        err.starts_with("p.yaml:6: objects[0].table.table_configuration.x"),
        "{err}"
    );
    assert!(err.contains("nested more than 64 levels"), "{err}");
    assert!(PipelineSpec::parse(&spec(&flow_lists(100_000)), "p.yaml").is_err());
    // Nesting within the limit is still an option value (compact JSON).
    let parsed = PipelineSpec::parse(&spec(&flow_lists(50)), "p.yaml").unwrap();
    assert_eq!(parsed.objects[0].table_options["x"], flow_lists(50));
}

#[test]
fn deeply_nested_toml_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let text = format!(
        "[connections.c]\nsource = \"s\"\nx = {}\n",
        flow_lists(depth)
    );
    assert!(Connections::parse(&text, "c.toml").is_err());
    let text = format!("a = {}1{}\n", "{b = ".repeat(depth), "}".repeat(depth));
    assert!(Connections::parse(&text, "c.toml").is_err());
}

/// A spec whose one table has `config` (lines indented 8 spaces) as its table_configuration.
fn spec_with_config(config: &str) -> String {
    format!(
        "connection_name: c\nobjects:\n  - table:\n      source_table: t\n      \
         table_configuration:\n{config}"
    )
}

// The next three took 47 s to 8 minutes in a debug build before (a quadratic duplicate-key
// scan, a quadratic duplicate-column check, a newline count from the start of the file per TOML
// key); they take about a second now. No time is asserted: a regression shows as a hang.

#[test]
fn a_mapping_with_many_keys_parses_in_linear_time() {
    let keys: String = (0..100_000).map(|i| format!("        k{i}: 1\n")).collect();
    let spec = PipelineSpec::parse(&spec_with_config(&keys), "p.yaml").unwrap();
    assert_eq!(spec.objects[0].table_options.len(), 100_000);
    let duplicate = format!("{keys}        k7: 2\n");
    let err = spec_error(&spec_with_config(&duplicate));
    assert!(
        err.ends_with("duplicate key `k7` (first given on line 13)"),
        "{err}"
    );
}

#[test]
fn a_long_column_list_is_checked_in_linear_time() {
    let columns: String = (0..100_000).map(|i| format!("c{i},")).collect();
    let config = format!("        cluster_by: \"{columns}c0\"\n");
    let err = spec_error(&spec_with_config(&config));
    assert!(err.ends_with("column `c0` is listed twice"), "{err}");
}

#[test]
fn a_connections_file_with_many_keys_parses_in_linear_time() {
    let keys: String = (0..100_000).map(|i| format!("k{i} = 1\n")).collect();
    let text = format!("[connections.c]\nsource = \"s\"\n{keys}bad = [1]\n");
    let err = Connections::parse(&text, "c.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "c.toml:100003: connections.c.bad: expected a string, number or boolean, found an array"
    );
}

#[test]
fn an_alias_bomb_is_rejected_at_its_first_anchor() {
    // "Billion laughs": nine levels of nine aliases would expand to 9^9 strings.
    let mut bomb = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, name) in ('a'..='h').zip('b'..='i') {
        let items = vec![format!("*{prev}"); 9].join(", ");
        bomb.push_str(&format!("{name}: &{name} [{items}]\n"));
    }
    assert_eq!(
        spec_error(&bomb),
        "p.yaml:1: anchors (`&name`) are not supported"
    );
    // An alias without an anchor is rejected too, as is the same bomb in flow (JSON-like) form.
    assert_eq!(
        spec_error("a: *x\n"),
        "p.yaml:1: while parsing node, found unknown anchor"
    );
    let flow = format!("{{{}}}", bomb.trim_end().replace('\n', ", "));
    assert!(spec_error(&flow).contains("anchors (`&name`) are not supported"));
}

#[test]
fn an_error_at_the_end_of_the_input_is_on_its_last_line() {
    // The YAML scanner marks the end of the input on the line after the last one.
    assert_eq!(
        spec_error("["),
        "p.yaml:1: while parsing a node, did not find expected node content"
    );
    assert_eq!(
        spec_error("!!str "),
        "p.yaml:1: expected a mapping, found a string"
    );
    assert!(spec_error("a: 1\r\nb: [").starts_with("p.yaml:2: "));
}
