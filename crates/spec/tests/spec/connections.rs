//! The connections file: format, resolution, environment expansion, redaction.

use lakeflow_spec::{Connections, ResolvedConnection, SpecError};

const FILE: &str = r#"# lakeflow.toml
[connections.my_github]
source = "github"
token = "${GITHUB_TOKEN}"
base_url = "https://api.github.com"
header = "literal $${NOT_A_VAR} and ${USER_AGENT}-x"

[connections.local_example]
source = "example"
seed = 7
ratio = 0.5
verbose = true
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "GITHUB_TOKEN" => Some("ghp_s3cr3t".into()),
        "USER_AGENT" => Some("lakeflow".into()),
        _ => None,
    }
}

fn parse_err(text: &str) -> SpecError {
    let err = Connections::parse(text, "lakeflow.toml").expect_err("should be rejected");
    err.as_spec()
        .unwrap_or_else(|| panic!("not located: {err}"))
        .clone()
}

#[test]
fn resolves_connections_with_expanded_options() {
    let c = Connections::parse(FILE, "lakeflow.toml").unwrap();
    assert_eq!(c.origin(), Some("lakeflow.toml"));
    assert_eq!(
        c.names().collect::<Vec<_>>(),
        ["local_example", "my_github"]
    );
    assert_eq!(
        (c.line("my_github"), c.line("local_example")),
        (Some(2), Some(8))
    );

    let gh = c.resolve("my_github", env).unwrap().unwrap();
    assert_eq!(
        (gh.name.as_str(), gh.source.as_str()),
        ("my_github", "github")
    );
    assert_eq!(
        gh.options.keys().collect::<Vec<_>>(),
        ["base_url", "header", "token"]
    );
    assert_eq!(gh.options.get("token"), Some("ghp_s3cr3t"));
    assert_eq!(gh.options.get("base_url"), Some("https://api.github.com"));
    assert_eq!(
        gh.options.get("header"),
        Some("literal ${NOT_A_VAR} and lakeflow-x")
    );

    let ex = c.resolve("local_example", |_| None).unwrap().unwrap();
    assert_eq!(ex.source, "example");
    assert_eq!(ex.options.get("seed"), Some("7"));
    assert_eq!(ex.options.get("ratio"), Some("0.5"));
    assert_eq!(ex.options.get("verbose"), Some("true"));
    assert_eq!(ex.options.get("source"), None);

    assert_eq!(c.resolve("nope", env).unwrap(), None);
    let implicit = ResolvedConnection::implicit("example");
    assert_eq!(
        (implicit.source.as_str(), implicit.options.keys().count()),
        ("example", 0)
    );
}

#[test]
fn a_missing_variable_names_connection_key_and_variable_but_no_value() {
    let c = Connections::parse(FILE, "lakeflow.toml").unwrap();
    let only_token = |name: &str| (name == "GITHUB_TOKEN").then(|| "ghp_s3cr3t".to_owned());
    let err = c.resolve("my_github", only_token).unwrap_err();
    let message = err.to_string();
    assert_eq!(
        message,
        "lakeflow.toml:6: connections.my_github.header: environment variable `USER_AGENT` is not set"
    );
    for value in ["ghp_s3cr3t", "api.github.com", "literal", "NOT_A_VAR"] {
        assert!(!message.contains(value), "{message} leaks {value}");
    }
    let e = Connections::parse(
        "[connections.x]\nsource = \"s\"\ntoken = \"${OPEN\"\n",
        "c.toml",
    )
    .unwrap();
    let err = e.resolve("x", env).unwrap_err().to_string();
    assert!(
        err.starts_with("c.toml:3: connections.x.token: `${` without a closing `}`"),
        "{err}"
    );
}

#[test]
fn debug_never_shows_values() {
    let c = Connections::parse(FILE, "lakeflow.toml").unwrap();
    let debug = format!("{c:?}");
    assert!(
        debug.contains("my_github") && debug.contains("token"),
        "{debug}"
    );
    assert!(
        !debug.contains("GITHUB_TOKEN") && !debug.contains("api.github.com"),
        "{debug}"
    );
    let resolved = c.resolve("my_github", env).unwrap().unwrap();
    let debug = format!("{resolved:?}");
    assert!(
        debug.contains("token") && !debug.contains("ghp_s3cr3t"),
        "{debug}"
    );
    assert!(!debug.contains("lakeflow-x"), "{debug}");
}

#[test]
fn structural_errors_name_file_line_and_key() {
    let e = parse_err("[connections.a]\nsource = \"s\"\n\n[conections.b]\nsource = \"s\"\n");
    assert_eq!(
        e.to_string(),
        "lakeflow.toml:4: unknown key `conections` (expected one of connections)"
    );
    let e = parse_err("[connections.a]\nsource = \"s\"\n[connections.b]\nurl = \"x\"\n");
    assert_eq!(
        e.to_string(),
        "lakeflow.toml:3: connections.b: missing required key `source`"
    );
    let e = parse_err("[connections.a]\nsource = \"s\"\nscopes = [\"repo\"]\n");
    assert_eq!(
        e.to_string(),
        "lakeflow.toml:3: connections.a.scopes: expected a string, number or boolean, found an array"
    );
    let e = parse_err("[connections.a]\nsource = \"s\"\nauth = { user = \"u\" }\n");
    assert_eq!((e.line, e.path.as_str()), (3, "connections.a.auth"));
    let e = parse_err("[connections.a]\nsource = \"s\"\nsince = 2024-01-01\n");
    assert!(e.message.ends_with("found a date-time"), "{e}");
    let e = parse_err("[connections.a]\nsource = 1\n");
    assert_eq!(
        e.to_string(),
        "lakeflow.toml:2: connections.a.source: expected a string (the source name)"
    );
    let e = parse_err("[connections.a]\nsource = \" \"\n");
    assert_eq!(e.message, "must not be blank");
    let e = parse_err("connections = 3\n");
    assert_eq!(
        e.to_string(),
        "lakeflow.toml:1: connections: expected a table, found an integer"
    );
    let e = parse_err("[connections]\na = \"x\"\n");
    assert_eq!(
        e.to_string(),
        "lakeflow.toml:2: connections.a: expected a table ([connections.a]), found a string"
    );
}

#[test]
fn toml_syntax_errors_and_duplicates_have_lines() {
    let e = parse_err("[connections.a]\nsource = \"s\"\nsource = \"t\"\n");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("duplicate key"), "{e}");
    let e = parse_err("[connections.a]\nsource = \"s\"\ntoken = \n");
    assert_eq!(e.line, 3, "{e}");
    assert!(e.to_string().starts_with("lakeflow.toml:3: "), "{e}");
}

#[test]
fn empty_sets() {
    let c = Connections::new();
    assert!(c.is_empty());
    assert_eq!(c.origin(), None);
    assert_eq!(c.resolve("x", env).unwrap(), None);
    let c = Connections::parse("# nothing yet\n", "lakeflow.toml").unwrap();
    assert!(c.is_empty());
    assert_eq!(c.origin(), Some("lakeflow.toml"));
}

#[test]
fn values_from_the_environment_are_held_as_secrets_whatever_the_option() {
    let c = Connections::parse(FILE, "lakeflow.toml").unwrap();
    let gh = c.resolve("my_github", env).unwrap().unwrap();
    // `token` and `header` took something from the environment; `base_url` is literal.
    assert!(gh.options.is_secret("token") && gh.options.is_secret("header"));
    assert!(!gh.options.is_secret("base_url"));
    let text =
        "[connections.x]\nsource = \"s\"\nbase_url = \"${GITHUB_TOKEN}\"\nescaped = \"$${X}\"\n";
    let x = Connections::parse(text, "c.toml")
        .unwrap()
        .resolve("x", env)
        .unwrap()
        .unwrap();
    assert_eq!(x.options.get("base_url"), Some("ghp_s3cr3t"));
    assert!(x.options.is_secret("base_url") && !x.options.is_secret("escaped"));
}

#[test]
fn the_source_is_written_out_not_taken_from_the_environment() {
    let err = parse_err("[connections.x]\nsource = \"${SOURCE}\"\n");
    assert_eq!(
        err.to_string(),
        "lakeflow.toml:2: connections.x.source: must name the source itself, not an environment variable"
    );
    let text = "[connections.x]\nsource = \"odd$${name\"\n";
    let x = Connections::parse(text, "c.toml").unwrap();
    assert_eq!(x.resolve("x", env).unwrap().unwrap().source, "odd${name");
}
