//! Property tests: random bytes, YAML token soup, and structured-but-wrong YAML, JSON and TOML
//! (wrong types for keys, deep nesting, anchors and aliases, unknown and duplicate keys) thrown
//! at the spec and connections parsers. Nothing panics, and every rejection is an error located
//! in the file that names no secret.

use lakeflow_spec::{Connections, PipelineSpec, SpecError};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed};

/// `cases` cases from a fixed seed, so that the suite is the same on every run; set
/// `PROPTEST_CASES` and `PROPTEST_RNG_SEED` for deeper or other runs. No regression files are
/// written into the source tree: a failing case is printed.
pub fn config(cases: u32) -> Config {
    // `Config::default()` has read the `PROPTEST_*` variables.
    let from_env = Config::default();
    let set = |name: &str| std::env::var_os(name).is_some();
    Config {
        cases: if set("PROPTEST_CASES") {
            from_env.cases
        } else {
            cases
        },
        rng_seed: if set("PROPTEST_RNG_SEED") {
            from_env.rng_seed
        } else {
            RngSeed::Fixed(0x1a4e_f10e)
        },
        failure_persistence: None,
        ..from_env
    }
}

/// A rejection must be a located error: this file, a line within it (or 0), a message.
fn check_located(err: &lakeflow_spec::Error, origin: &str, text: &str) -> SpecError {
    let Some(located) = err.as_spec() else {
        panic!("not a located error: {err}");
    };
    assert_eq!(located.origin, origin, "{err}");
    assert!(!located.message.trim().is_empty(), "{err}");
    // YAML counts a lone `\r` as a line break too.
    let lines = text.matches(['\n', '\r']).count() + 1;
    assert!(
        located.line <= lines,
        "line {} of {lines}: {err}",
        located.line
    );
    located.clone()
}

/// Parses `text` as a spec: a valid spec keeps its invariants, an invalid one is located.
fn check_spec(text: &str) {
    match PipelineSpec::parse(text, "p.yaml") {
        Ok(spec) => {
            assert!(!spec.objects.is_empty());
            for object in &spec.objects {
                assert!(!object.source_table.trim().is_empty());
                assert!(!object.destination_table.trim().is_empty());
                assert!(!object.destination().to_string().is_empty());
            }
        }
        Err(err) => {
            check_located(&err, "p.yaml", text);
        }
    }
}

const SECRET: &str = "s3cr3t-value";

/// The environment of the TOML tests: two variables set to secrets, the rest unset.
fn env(name: &str) -> Option<String> {
    match name {
        "A" | "TOKEN" => Some(format!("{SECRET}-{name}")),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// Parses and resolves `text` as a connections file: values taken from the environment are
/// held as secrets and no error or `Debug` output shows one.
fn check_connections(text: &str) {
    let connections = match Connections::parse(text, "c.toml") {
        Ok(c) => c,
        Err(err) => {
            check_located(&err, "c.toml", text);
            return;
        }
    };
    assert!(!format!("{connections:?}").contains(SECRET));
    let names: Vec<String> = connections.names().map(str::to_owned).collect();
    for name in &names {
        match connections.resolve(name, env) {
            Ok(Some(resolved)) => {
                assert!(!resolved.source.trim().is_empty());
                assert!(!format!("{resolved:?}").contains(SECRET), "{resolved:?}");
                for key in resolved.options.keys() {
                    let value = resolved.options.get(key).unwrap_or_default();
                    if value.contains(SECRET) {
                        assert!(resolved.options.is_secret(key), "{name}.{key}");
                    }
                }
            }
            Ok(None) => panic!("`{name}` is listed but does not resolve"),
            Err(err) => {
                let located = check_located(&err, "c.toml", text);
                assert!(!located.to_string().contains(SECRET), "{located}");
            }
        }
    }
}

// --- Unstructured input -------------------------------------------------------------------

/// Fragments of YAML syntax and of the spec's vocabulary, concatenated at random.
const YAML_TOKENS: &[&str] = &[
    "connection_name",
    "objects",
    "table",
    "source_table",
    "destination_table",
    "table_configuration",
    "scd_type",
    "primary_keys",
    "cluster_by",
    "SCD_TYPE_2",
    "x",
    ":",
    ": ",
    " ",
    "  ",
    "\n",
    "\n  ",
    "\n    ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!!str ",
    "!!int ",
    "!!map ",
    "!custom ",
    "'",
    "\"",
    "# c",
    "|",
    ">-",
    "---",
    "...",
    "~",
    "null",
    "true",
    "1",
    "-1.5e3",
    "0x1F",
    ".inf",
    "é",
    "\t",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2024:\n",
    "? ",
    "\\",
    "${X}",
    "\"\\u00e9\"",
    "\u{feff}",
    "\r",
    "<<: ",
    "..",
    "/",
    "1e999999999",
];

fn yaml_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(select(YAML_TOKENS), 0..64).prop_map(|tokens| tokens.concat())
}

/// Fragments of TOML syntax and of the connections file's vocabulary.
const TOML_TOKENS: &[&str] = &[
    "[connections.gh]",
    "[connections]",
    "[[connections]]",
    "[connections.\"a b\"]",
    "[other]",
    "connections",
    "source",
    "token",
    "=",
    " = ",
    "\"",
    "'",
    "\"\"\"",
    "${A}",
    "${TOKEN}",
    "${MISSING}",
    "$${",
    "${",
    "${}",
    "github",
    "\n",
    " ",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "0x1F",
    "1_000",
    "inf",
    "nan",
    "1979-05-27T07:32:00Z",
    "true",
    "#",
    "\\",
    "\\u00e9",
    "é",
];

fn toml_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(select(TOML_TOKENS), 0..64).prop_map(|tokens| tokens.concat())
}

// --- Structured YAML ----------------------------------------------------------------------

/// A YAML node: scalars are already written out (plain or quoted).
#[derive(Debug, Clone)]
enum Yaml {
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
    Anchored(&'static str, Box<Yaml>),
    Alias(&'static str),
}

/// Plain scalars: names, YAML 1.1 look-alikes, numbers, nulls, dates.
const WORDS: &[&str] = &[
    "issues",
    "events",
    "main",
    "raw",
    "id",
    "SCD_TYPE_1",
    "scd_type_2",
    "APPEND_ONLY",
    "SCD_TYPE_3",
    "yes",
    "no",
    "on",
    "null",
    "~",
    "true",
    "False",
    "0",
    "-12",
    "0o17",
    "0x1F",
    "1.5",
    ".nan",
    "-.inf",
    "1e3",
    "2024-01-01",
    "a, b",
    "[\"a\",\"b\"]",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(WORDS).prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => any::<f64>().prop_map(|f| format!("{f:?}")),
        1 => Just("9".repeat(60)),
        3 => "\\PC{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        1 => select(&["\"\"", "\"  \"", "\".\"", "\"..\"", "\"a/b\"", "\"\\u0000\"", "\"\\t\""][..])
            .prop_map(str::to_owned),
    ]
}

/// Mapping keys: the spec's vocabulary, misspellings, odd and non-string keys.
const KEYS: &[&str] = &[
    "connection_name",
    "objects",
    "table",
    "source_table",
    "sorce_table",
    "destination_catalog",
    "destination_schema",
    "destination_table",
    "table_configuration",
    "scd_type",
    "primary_keys",
    "sequence_by",
    "cluster_by",
    "owner",
    "per_page",
    "\"\"",
    "\" \"",
    "1",
    "null",
    "true",
    "\"a.b\"",
    "\"é\"",
];

fn key() -> impl Strategy<Value = String> {
    select(KEYS).prop_map(str::to_owned)
}

/// Any node, nested up to 5 levels, anchors and aliases included.
fn node() -> BoxedStrategy<Yaml> {
    let leaf = prop_oneof![
        8 => scalar().prop_map(Yaml::Scalar),
        1 => select(&["a", "b"][..]).prop_map(Yaml::Alias),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            3 => prop::collection::vec(inner.clone(), 0..4).prop_map(Yaml::Seq),
            3 => prop::collection::vec((key(), inner.clone()), 0..4).prop_map(Yaml::Map),
            1 => (select(&["a", "b"][..]), inner)
                .prop_map(|(name, node)| Yaml::Anchored(name, Box::new(node))),
        ]
    })
    .boxed()
}

/// Mostly `right`, sometimes any node at all.
fn or_wrong(right: impl Strategy<Value = Yaml> + 'static) -> BoxedStrategy<Yaml> {
    prop_oneof![6 => right, 1 => node()].boxed()
}

fn name() -> BoxedStrategy<Yaml> {
    or_wrong(
        select(&["issues", "events", "gh", "raw", "main", "x"][..])
            .prop_map(|s| Yaml::Scalar(s.to_owned())),
    )
}

/// A mapping with each of `keys` present with its probability, values from `value`, and
/// sometimes an extra entry with any key (unknown, duplicate or not a string).
fn entries(
    keys: &'static [(&'static str, f64)],
    value: impl Fn(&'static str) -> BoxedStrategy<Yaml>,
) -> BoxedStrategy<Yaml> {
    let each: Vec<_> = keys
        .iter()
        .map(|&(k, p)| prop::option::weighted(p, value(k).prop_map(move |v| (k.to_owned(), v))))
        .collect();
    let extra = prop::option::weighted(0.1, (key(), node()));
    (each, extra)
        .prop_map(|(each, extra)| Yaml::Map(each.into_iter().flatten().chain(extra).collect()))
        .boxed()
}

fn words(words: &'static [&'static str]) -> BoxedStrategy<Yaml> {
    or_wrong(select(words).prop_map(|s| Yaml::Scalar(s.to_owned())))
}

/// A spec's shape, with wrong parts here and there.
fn spec_like() -> BoxedStrategy<Yaml> {
    let config = entries(
        &[
            ("scd_type", 0.3),
            ("primary_keys", 0.3),
            ("sequence_by", 0.2),
            ("cluster_by", 0.2),
            ("owner", 0.3),
        ],
        |k| match k {
            "scd_type" => words(&["SCD_TYPE_1", "scd_type_2", "Append_Only"]),
            "primary_keys" | "cluster_by" => words(&["id", "[id, at]", "\"a, b\"", "'[\"a\"]'"]),
            _ => name(),
        },
    );
    let table = entries(
        &[
            ("source_table", 0.9),
            ("destination_catalog", 0.2),
            ("destination_schema", 0.3),
            ("destination_table", 0.3),
            ("table_configuration", 0.5),
        ],
        move |k| {
            if k == "table_configuration" {
                or_wrong(config.clone())
            } else {
                name()
            }
        },
    );
    let item = entries(&[("table", 0.95)], move |_| or_wrong(table.clone()));
    let objects = or_wrong(prop::collection::vec(or_wrong(item), 1..4).prop_map(Yaml::Seq));
    entries(&[("connection_name", 0.95), ("objects", 0.95)], move |k| {
        if k == "objects" {
            objects.clone()
        } else {
            name()
        }
    })
}

/// Flow style: `{k: v, ...}` and `[a, ...]`, which is JSON when the scalars are.
fn flow(node: &Yaml, out: &mut String) {
    match node {
        Yaml::Scalar(s) => out.push_str(s),
        Yaml::Alias(name) => {
            out.push('*');
            out.push_str(name);
        }
        Yaml::Anchored(name, inner) => {
            out.push_str(&format!("&{name} "));
            flow(inner, out);
        }
        Yaml::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out);
            }
            out.push(']');
        }
        Yaml::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&format!("{key}: "));
                flow(value, out);
            }
            out.push('}');
        }
    }
}

fn is_block_collection(node: &Yaml) -> bool {
    matches!(node, Yaml::Seq(v) if !v.is_empty()) || matches!(node, Yaml::Map(v) if !v.is_empty())
}

/// Block style, collections indented two spaces per level; anything else in flow style.
fn block(node: &Yaml, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Yaml::Seq(items) if !items.is_empty() => {
            for item in items {
                if is_block_collection(item) {
                    out.push_str(&format!("{pad}-\n"));
                    block(item, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}- "));
                    flow(item, out);
                    out.push('\n');
                }
            }
        }
        Yaml::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                if is_block_collection(value) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    block(value, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{key}: "));
                    flow(value, out);
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            flow(other, out);
            out.push('\n');
        }
    }
}

fn render(node: &Yaml, as_block: bool) -> String {
    let mut out = String::new();
    if as_block {
        block(node, 0, &mut out);
    } else {
        flow(node, &mut out);
    }
    out
}

// --- Structured TOML ----------------------------------------------------------------------

/// TOML values: strings with environment references and escapes, every other type.
fn toml_value() -> impl Strategy<Value = String> {
    let reference = select(
        &[
            "${A}",
            "${TOKEN}",
            "${EMPTY}",
            "${MISSING}",
            "$${A}",
            "${",
            "${}",
            "$",
            "text",
            " ",
        ][..],
    );
    let string = prop::collection::vec(reference, 0..4)
        .prop_map(|parts| serde_json::to_string(&parts.concat()).unwrap());
    prop_oneof![
        6 => string,
        1 => "\\PC{0,10}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        3 => select(&[
            "0x1F", "1_000", "-0", "+5", "99999999999999999999999", "inf", "-nan", "1.5e3",
            "true", "false", "1979-05-27T07:32:00Z", "07:32:00", "[1, 2]", "[]",
            "{a = 1}", "'${A}'", "\"\"\"\nmulti ${A}\"\"\"", "\"github\"", "\"example\"",
        ][..])
        .prop_map(str::to_owned),
    ]
}

fn toml_key() -> impl Strategy<Value = String> {
    select(
        &[
            "source", "source", "token", "base_url", "seed", "x", "\"a.b\"", "a.b", "\"\"", "\"é\"",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// A connections file's shape: table headers (right and wrong) with `key = value` lines.
fn toml_like() -> impl Strategy<Value = String> {
    let header = select(
        &[
            "[connections.gh]",
            "[connections.ex]",
            "[connections.\"a b\"]",
            "[connections]",
            "[[connections]]",
            "[other]",
            "[connections.gh.nested]",
            "",
        ][..],
    );
    let line = (toml_key(), toml_value()).prop_map(|(k, v)| format!("{k} = {v}\n"));
    let section = (header, prop::collection::vec(line, 0..5))
        .prop_map(|(header, lines)| format!("{header}\n{}", lines.concat()));
    prop::collection::vec(section, 0..4).prop_map(|sections| sections.concat())
}

// --- The properties -----------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        check_spec(&text);
        check_connections(&text);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,64}") {
        check_spec(&text);
        check_connections(&text);
    }

    #[test]
    fn yaml_token_soup_never_panics(text in yaml_soup()) {
        check_spec(&text);
    }

    #[test]
    fn toml_token_soup_never_panics(text in toml_soup()) {
        check_connections(&text);
    }

    #[test]
    fn wrongly_shaped_yaml_and_json_are_located_errors(
        tree in spec_like(),
        as_block in any::<bool>(),
    ) {
        check_spec(&render(&tree, as_block));
    }

    #[test]
    fn arbitrary_yaml_trees_are_located_errors(tree in node(), as_block in any::<bool>()) {
        check_spec(&render(&tree, as_block));
    }

    #[test]
    fn wrongly_shaped_connections_files_never_echo_secrets(text in toml_like()) {
        check_connections(&text);
    }
}

#[test]
fn generated_specs_are_valid_often_enough_to_test_the_success_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(config(200));
    let strategy = spec_like();
    let valid = (0..200)
        .filter(|i| {
            let tree = strategy.new_tree(&mut runner).unwrap().current();
            PipelineSpec::parse(&render(&tree, i % 2 == 0), "p.yaml").is_ok()
        })
        .count();
    assert!(valid >= 10, "only {valid} of 200 generated specs are valid");
}
