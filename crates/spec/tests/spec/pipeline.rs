//! The spec's structure: keys, names, destinations, documents, files.

use lakeflow_spec::{Destination, Error, ObjectSpec, PipelineSpec, ScdType};

use crate::{parse, parse_err};

const FULL: &str = "\
# A full spec.
connection_name: my_github
objects:
  - table:
      source_table: issues
      destination_catalog: main
      destination_schema: raw
      destination_table: gh_issues
      table_configuration:
        scd_type: SCD_TYPE_2
        primary_keys: [id]
        sequence_by: updated_at
        cluster_by: \"a, b\"
        owner: octocat
  - table:
      source_table: pulls
";

#[test]
fn full_spec_parses_with_lines() {
    let spec = parse(FULL);
    assert_eq!(spec.origin, "pipeline.yaml");
    assert_eq!(
        (spec.connection_name.as_str(), spec.connection_line),
        ("my_github", 2)
    );
    let [issues, pulls] = &spec.objects[..] else {
        panic!("two objects")
    };
    assert_eq!((issues.line, issues.index, issues.source_line), (4, 0, 5));
    assert_eq!(issues.source_table, "issues");
    assert_eq!(issues.destination_catalog.as_deref(), Some("main"));
    assert_eq!(issues.destination_schema.as_deref(), Some("raw"));
    assert_eq!(issues.destination_table, "gh_issues");
    assert_eq!(issues.scd_type, ScdType::Type2);
    assert_eq!(issues.primary_keys, Some(vec!["id".to_owned()]));
    assert_eq!(issues.sequence_by.as_deref(), Some("updated_at"));
    assert_eq!(issues.cluster_by, ["a", "b"]);
    assert_eq!(issues.table_options.len(), 1);
    assert_eq!(issues.table_options["owner"], "octocat");
    assert_eq!(issues.option_lines["scd_type"], 10);
    assert_eq!(issues.option_lines["owner"], 14);
    assert_eq!(issues.destination().to_string(), "main.raw.gh_issues");
    assert_eq!(
        issues.destination().path_segments(),
        ["main", "raw", "gh_issues"]
    );

    assert_eq!((pulls.line, pulls.index), (15, 1));
    assert_eq!(pulls.destination_table, "pulls", "defaults to source_table");
    assert_eq!(pulls.scd_type, ScdType::Type1);
    assert_eq!(pulls.primary_keys, None);
    assert!(pulls.cluster_by.is_empty() && pulls.table_options.is_empty());
    assert_eq!(pulls.destination().to_string(), "pulls");
    assert_eq!(pulls.destination().path_segments(), ["pulls"]);
}

#[test]
fn unknown_keys_are_rejected_at_every_level() {
    let e = parse_err("connection_name: c\nobjcts: []\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:2: unknown key `objcts` (expected one of connection_name, objects)"
    );

    let e = parse_err("connection_name: c\nobjects:\n  - table: {source_table: t}\n    extra: 1\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:4: objects[0]: unknown key `extra` (expected one of table)"
    );

    let text = "connection_name: c\nobjects:\n  - table:\n      source_table: a\n  - table:\n      source_table: t\n      sorce_table: t\n";
    assert_eq!(
        parse_err(text).to_string(),
        "pipeline.yaml:7: objects[1].table: unknown key `sorce_table` (expected one of source_table, \
         destination_catalog, destination_schema, destination_table, table_configuration)"
    );
}

#[test]
fn connection_name_must_be_a_non_blank_string() {
    for value in ["\"  \"", "''", "", "~"] {
        let e = parse_err(&format!(
            "objects: [{{table: {{source_table: t}}}}]\nconnection_name: {value}\n"
        ));
        assert_eq!(
            (e.line, e.path.as_str(), e.message.as_str()),
            (2, "connection_name", "must not be blank"),
            "{value}"
        );
    }
    let e = parse_err("connection_name: 42\nobjects: [{table: {source_table: t}}]\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:1: connection_name: expected a string, found an integer (quote it: \"42\")"
    );
    let e = parse_err("connection_name: [a]\nobjects: [{table: {source_table: t}}]\n");
    assert_eq!(e.message, "expected a string, found a list");
    assert_eq!(
        parse("connection_name: ' padded '\nobjects: [{table: {source_table: t}}]\n")
            .connection_name,
        "padded"
    );
}

#[test]
fn required_keys_and_list_shapes() {
    let e = parse_err("\n\nobjects: [{table: {source_table: t}}]\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:3: missing required key `connection_name`"
    );
    let e = parse_err("connection_name: c\n");
    assert_eq!(e.message, "missing required key `objects`");
    let e = parse_err("connection_name: c\nobjects: []\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:2: objects: must list at least one table"
    );
    let e = parse_err("connection_name: c\nobjects:\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:2: objects: expected a list, found null"
    );
    let e = parse_err("connection_name: c\nobjects:\n  - {}\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:3: objects[0]: missing required key `table`"
    );
    let e = parse_err("connection_name: c\nobjects:\n  - table: issues\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:3: objects[0].table: expected a mapping, found a string"
    );
    let e = parse_err("connection_name: c\nobjects:\n  - table:\n      destination_table: x\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:3: objects[0].table: missing required key `source_table`"
    );
    let e = parse_err("connection_name: c\nobjects:\n  - table:\n      source_table: ' '\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:4: objects[0].table.source_table: must not be blank"
    );
    let e = parse_err("- a\n- b\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:1: expected a mapping, found a list"
    );
}

#[test]
fn same_destination_twice_is_an_error_naming_both_lines() {
    let text = "connection_name: c\nobjects:\n  - table:\n      source_table: issues\n      destination_schema: Raw\n\
                \x20 - table:\n      source_table: pulls\n      destination_schema: raw\n      destination_table: ISSUES\n";
    let e = parse_err(text);
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:6: objects[1].table: destination `raw.ISSUES` is also written by objects[0] (line 3)"
    );
    // Without a destination_table, the default (source_table) collides too.
    let e = parse_err(
        "connection_name: c\nobjects:\n  - table: {source_table: a}\n  - table: {source_table: A}\n",
    );
    assert_eq!(
        (e.line, e.message.as_str()),
        (4, "destination `A` is also written by objects[0] (line 3)")
    );
}

#[test]
fn same_source_twice_with_different_destinations_is_two_flows() {
    let text = "connection_name: c\nobjects:\n  - table: {source_table: issues}\n  \
                - table: {source_table: issues, destination_table: issues_history, \
                table_configuration: {scd_type: SCD_TYPE_2}}\n  \
                - table: {source_table: issues, destination_schema: raw}\n";
    let spec = parse(text);
    let destinations: Vec<String> = spec
        .objects
        .iter()
        .map(|o| o.destination().to_string())
        .collect();
    assert_eq!(destinations, ["issues", "issues_history", "raw.issues"]);
    assert!(spec.objects.iter().all(|o| o.source_table == "issues"));
}

#[test]
fn destination_names_must_be_safe_path_segments() {
    let spec = |catalog: &str, schema: &str, table: &str| {
        format!(
            "connection_name: c\nobjects:\n  - table:\n      source_table: t\n      destination_catalog: \"{catalog}\"\n      \
             destination_schema: \"{schema}\"\n      destination_table: \"{table}\"\n"
        )
    };
    for (text, key, line) in [
        (spec("m", "s", "../etc"), "destination_table", 7),
        (spec("m", "s", "a/b"), "destination_table", 7),
        (spec("m", "s", "."), "destination_table", 7),
        (spec("m", "..", "t"), "destination_schema", 6),
        (spec("m", "a\\\\b", "t"), "destination_schema", 6),
        (spec("x/y", "s", "t"), "destination_catalog", 5),
    ] {
        let e = parse_err(&text);
        assert_eq!(
            (e.line, e.path.as_str()),
            (line, format!("objects[0].table.{key}").as_str()),
            "{e}"
        );
        assert!(
            e.message.contains("cannot be used as a directory name"),
            "{e}"
        );
    }
    // The default destination is checked at source_table's line.
    let e = parse_err("connection_name: c\nobjects:\n  - table:\n      source_table: org/repo\n");
    assert_eq!(
        (e.line, e.path.as_str()),
        (4, "objects[0].table.source_table")
    );
    assert!(e.message.ends_with("; set destination_table"), "{e}");
    let spec = parse(
        "connection_name: c\nobjects:\n  - table: {source_table: org/repo, destination_table: repo}\n",
    );
    assert_eq!(spec.objects[0].destination().path_segments(), ["repo"]);

    assert!(Destination::check_segment("ok_name-1.v2").is_ok());
    assert!(Destination::check_segment("tab\there").is_err());
    assert!(Destination::check_segment("").is_err());
}

#[test]
fn catalog_needs_a_schema() {
    let e = parse_err(
        "connection_name: c\nobjects:\n  - table:\n      source_table: t\n      destination_catalog: main\n",
    );
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:5: objects[0].table.destination_catalog: destination_catalog needs destination_schema as well"
    );
    // Null optional keys count as absent.
    let spec = parse(
        "connection_name: c\nobjects:\n  - table: {source_table: t, destination_catalog: null, destination_schema: ~}\n",
    );
    assert_eq!(spec.objects[0].destination().to_string(), "t");
}

#[test]
fn duplicate_keys_are_errors_at_every_level() {
    let e = parse_err("connection_name: a\nobjects: []\nconnection_name: b\n");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:3: duplicate key `connection_name` (first given on line 1)"
    );
    let e = parse_err(
        "connection_name: c\nobjects:\n  - table:\n      source_table: a\n      source_table: b\n",
    );
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:5: objects[0].table: duplicate key `source_table` (first given on line 4)"
    );
    let e = parse_err(&crate::with_config("        owner: a\n        owner: b\n"));
    assert_eq!(
        (e.line, e.path.as_str()),
        (7, "objects[0].table.table_configuration")
    );
}

fn without_lines(mut spec: PipelineSpec) -> PipelineSpec {
    spec.origin.clear();
    spec.connection_line = 0;
    for o in &mut spec.objects {
        *o = ObjectSpec {
            line: 0,
            source_line: 0,
            option_lines: o.option_lines.keys().map(|k| (k.clone(), 0)).collect(),
            ..o.clone()
        };
    }
    spec
}

#[test]
fn json_spec_is_equivalent_to_yaml() {
    let json = r#"{
  "connection_name": "my_github",
  "objects": [
    {"table": {
      "source_table": "issues",
      "destination_catalog": "main",
      "destination_schema": "raw",
      "destination_table": "gh_issues",
      "table_configuration": {
        "scd_type": "SCD_TYPE_2",
        "primary_keys": ["id"],
        "sequence_by": "updated_at",
        "cluster_by": "a, b",
        "owner": "octocat"
      }
    }},
    {"table": {"source_table": "pulls"}}
  ]
}"#;
    let from_json = PipelineSpec::parse(json, "pipeline.json").unwrap();
    assert_eq!(from_json.objects[0].option_lines["owner"], 14);
    assert_eq!(without_lines(from_json), without_lines(parse(FULL)));
    let e = PipelineSpec::parse(
        "{\"connection_name\": \"c\",\n \"objects\": [], \"x\": 1}",
        "p.json",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.json:2: unknown key `x` (expected one of connection_name, objects)"
    );
}

#[test]
fn documents_syntax_and_anchors() {
    let e = parse_err(
        "connection_name: c\nobjects: [{table: {source_table: t}}]\n---\nconnection_name: d\n",
    );
    assert_eq!(
        (e.line, e.message.as_str()),
        (3, "only one document is allowed (found a second `---`)")
    );
    let e = parse_err("");
    assert_eq!(
        e.to_string(),
        "pipeline.yaml:1: the spec is empty (expected connection_name and objects)"
    );
    let e = parse_err("connection_name: c\nobjects: [\n");
    assert_eq!(e.origin, "pipeline.yaml");
    assert!(e.line >= 2, "{e}");
    let e = parse_err("connection_name: &n c\nobjects: [{table: {source_table: *n}}]\n");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("anchors"), "{e}");
}

#[test]
fn load_names_the_file_and_error_helpers_locate_options() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipeline.yaml");
    std::fs::write(
        &path,
        crate::with_config("        owner: me\n        colour: red\n"),
    )
    .unwrap();
    let spec = PipelineSpec::load(&path).unwrap();
    assert_eq!(spec.origin, path.display().to_string());
    let object = &spec.objects[0];
    let e = spec.option_error(
        object,
        "colour",
        "option `colour` is unknown to the connector",
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}:7: objects[0].table.table_configuration: option `colour` is unknown to the connector",
            path.display()
        )
    );
    let e = spec.option_error(object, "missing", "option `missing` is required");
    assert_eq!((e.line, e.path.as_str()), (3, "objects[0].table"));
    assert_eq!(
        spec.error_at(1, "connection_name", "no such source")
            .to_string(),
        format!("{}:1: connection_name: no such source", path.display())
    );

    let missing = dir.path().join("nope.yaml");
    let err = PipelineSpec::load(&missing).unwrap_err();
    assert!(matches!(err, Error::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.yaml"), "{err}");
}

#[test]
fn destination_names_longer_than_a_file_system_allows_are_rejected_with_a_short_message() {
    let spec = |schema: &str, table: &str| {
        format!(
            "connection_name: c\nobjects:\n  - table:\n      source_table: t\n      destination_catalog: main\n      \
             destination_schema: \"{schema}\"\n      destination_table: \"{table}\"\n"
        )
    };
    // One name too long for a directory: the error names the line and the key, and quotes the
    // start of the name only.
    let long = "x".repeat(70_000);
    let e = parse_err(&spec("s", &long));
    assert_eq!(
        (e.line, e.path.as_str()),
        (7, "objects[0].table.destination_table"),
        "{e}"
    );
    assert!(
        e.message.contains("70000 bytes") && e.message.contains("255"),
        "{e}"
    );
    assert!(e.to_string().len() < 300, "the message is short: {e}");
    // A multi-byte name is measured in bytes and cut at a character boundary.
    let e = parse_err(&spec(&"é".repeat(200), "t"));
    assert_eq!(e.path, "objects[0].table.destination_schema", "{e}");
    assert!(
        e.message.contains("400 bytes") && e.message.contains('…'),
        "{e}"
    );
    // 255 bytes is fine for one name; three such names are too long together.
    let at_limit = "y".repeat(255);
    parse(&spec("s", &at_limit));
    let e = parse_err(&spec(&at_limit, &at_limit));
    assert_eq!((e.line, e.path.as_str()), (3, "objects[0].table"), "{e}");
    assert!(e.message.contains("at most 512"), "{e}");
    // The default destination (from source_table) is checked too.
    let e = parse_err(&format!(
        "connection_name: c\nobjects:\n  - table:\n      source_table: \"{long}\"\n"
    ));
    assert_eq!(e.path, "objects[0].table.source_table", "{e}");
    assert!(e.to_string().len() < 300, "{e}");
}

#[test]
fn destination_names_that_would_break_a_path_or_url_are_rejected() {
    // As written inside YAML double quotes (`\0` is NUL, `\x1b` ESC).
    for name in [
        "a%2Fb",
        "%2e%2e",
        "t?x=1",
        "t#frag",
        "c:tmp",
        "_delta_log",
        "_lakeflow",
        ".hidden",
        "nul\\0byte",
        "esc\\x1b[31m",
    ] {
        let text = format!(
            "connection_name: c\nobjects:\n  - table:\n      source_table: t\n      destination_table: \"{name}\"\n"
        );
        let e = parse_err(&text);
        assert_eq!(
            (e.line, e.path.as_str()),
            (5, "objects[0].table.destination_table"),
            "{name:?}: {e}"
        );
        assert!(
            e.message.contains("cannot be used as a directory name"),
            "{name:?}: {e}"
        );
        assert!(
            !e.message.chars().any(char::is_control),
            "control characters are escaped: {e:?}"
        );
    }
    for name in ["orders_v2", "My Table", "ключ", "a.b-c"] {
        assert!(Destination::check_segment(name).is_ok(), "{name}");
    }
}
