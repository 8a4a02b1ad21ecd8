//! End-to-end tests of the `lakeflow` binary against the embedded `example` source.

use std::process::{Command, Output};

use serde_json::Value;

mod github;
mod hubspot;
mod inputs;
mod inspect;
mod kill;
mod new;
mod object_store;
mod python;
mod secrets;
mod simulate;
mod storage;
mod stripe;
mod zendesk;

pub(crate) fn lakeflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakeflow"))
        .args(args)
        .output()
        .expect("the lakeflow binary runs")
}

/// `lakeflow <args>` run in `dir`, with none of the user's `LAKEFLOW_*` settings.
pub(crate) fn lakeflow_command(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lakeflow"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("LAKEFLOW_WAREHOUSE")
        .env_remove("LAKEFLOW_CONFIG")
        .env_remove("LAKEFLOW_LOG");
    command
}

/// The single cell of a one-value `lakeflow query` run in `dir`.
pub(crate) fn query_scalar(dir: &std::path::Path, sql: &str) -> String {
    let out = lakeflow_command(dir, &["query", sql]).output().unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // A one-cell table: the value is on the fourth line.
    let cell = text.lines().nth(3).unwrap_or_default();
    cell.trim_matches(|c: char| c == '|' || c.is_whitespace())
        .to_owned()
}

/// `lakeflow run spec.yaml` in `dir`, which must succeed (its stderr is the failure message).
pub(crate) fn run_spec(dir: &std::path::Path) {
    run_spec_with(dir, &[]);
}

/// `lakeflow run spec.yaml ARGS` in `dir`, which must succeed.
pub(crate) fn run_spec_with(dir: &std::path::Path, args: &[&str]) {
    let mut command = vec!["run", "spec.yaml"];
    command.extend_from_slice(args);
    let out = lakeflow_command(dir, &command).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A pipeline spec as the original writes one: `connection` and one entry per source table.
pub(crate) fn original_spec(connection: &str, tables: &[&str]) -> String {
    let mut spec = format!("connection_name: {connection}\nobjects:\n");
    for table in tables {
        spec.push_str(&format!("  - table:\n      source_table: {table}\n"));
    }
    spec
}

/// A count queried in `dir`.
pub(crate) fn query_count(dir: &std::path::Path, sql: &str) -> u64 {
    let cell = query_scalar(dir, sql);
    cell.parse()
        .unwrap_or_else(|_| panic!("{sql}: not a count: {cell:?}"))
}

/// A temp directory holding `spec` as `spec.yaml` and a `lakeflow.toml` whose connection `ex`
/// is the example source with no injected errors.
pub(crate) fn example_spec_dir(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.yaml"), spec).unwrap();
    std::fs::write(
        dir.path().join("lakeflow.toml"),
        "[connections.ex]\nsource = \"example\"\nerror_rate = \"0\"\n",
    )
    .unwrap();
    dir
}

/// Runs a command that must succeed and returns its stdout.
pub(crate) fn stdout_of(args: &[&str]) -> String {
    let out = lakeflow(args);
    assert!(
        out.status.success(),
        "lakeflow {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a command that must fail and returns its single stderr line.
pub(crate) fn error_of(args: &[&str]) -> String {
    let out = lakeflow(args);
    assert!(!out.status.success(), "lakeflow {args:?} should fail");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 output");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one error line expected: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn ndjson_rows(args: &[&str]) -> Vec<serde_json::Map<String, Value>> {
    stdout_of(args)
        .lines()
        .map(
            |line| match serde_json::from_str(line).expect("a JSON line") {
                Value::Object(row) => row,
                other => panic!("not an object: {other}"),
            },
        )
        .collect()
}

#[test]
fn sources_lists_the_example_source() {
    let text = stdout_of(&["sources"]);
    assert!(text.lines().any(|l| l.starts_with("example ")), "{text}");
    let json: Value = serde_json::from_str(&stdout_of(&["sources", "--format", "json"])).unwrap();
    let example = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "example")
        .expect("example listed");
    assert!(
        example["table_options"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "max_records_per_batch")
    );
}

#[test]
fn sources_shows_how_github_authenticates() {
    let text = stdout_of(&["sources"]);
    let header = text.lines().next().unwrap_or_default();
    assert!(header.contains(" AUTH "), "{text}");
    let github = text
        .lines()
        .find(|l| l.starts_with("github "))
        .unwrap_or_else(|| panic!("github listed: {text}"));
    assert!(github.contains("api_token"), "{github}");
    let json: Value = serde_json::from_str(&stdout_of(&["sources", "--format", "json"])).unwrap();
    let github = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "github")
        .expect("github listed");
    assert_eq!(github["auth"][0]["method"], "api_token", "{github}");
    assert_eq!(github["auth"][0]["options"], serde_json::json!(["token"]));
}

#[test]
fn tables_lists_metadata_and_hides_metrics() {
    let json: Value =
        serde_json::from_str(&stdout_of(&["tables", "example", "--format", "json"])).unwrap();
    let tables = json.as_array().unwrap();
    let find = |name: &str| tables.iter().find(|t| t["name"] == name).cloned();
    assert!(
        find("metrics").is_none(),
        "metrics is hidden from discovery"
    );
    let orders = find("orders").expect("orders listed");
    assert_eq!(orders["ingestion_type"], "cdc_with_deletes");
    assert_eq!(orders["primary_keys"], serde_json::json!(["order_id"]));
    assert_eq!(orders["cursor_field"], "updated_at");
    assert_eq!(find("products").unwrap()["ingestion_type"], "snapshot");
    assert_eq!(find("events").unwrap()["ingestion_type"], "append");
    assert_eq!(find("users").unwrap()["ingestion_type"], "cdc");
    let text = stdout_of(&["tables", "example"]);
    assert!(text.starts_with("TABLE"), "{text}");
}

#[test]
fn tables_of_github_need_no_table_options() {
    // Only reads need `owner` and `repo`. Listing the tables and their metadata needs neither,
    // and options given for the repository's tables do not break `repositories` (which takes no
    // `repo`) or the account's tables (which take neither). (The token is a connection option:
    // the connector is built before it lists.)
    let repository = ["-o", "owner=acme-robotics", "-o", "repo=rover"];
    for extra in [&[][..], &repository[..]] {
        let mut args = vec!["tables", "github", "--format", "json", "-o", "token=t"];
        args.extend_from_slice(extra);
        let json: Value = serde_json::from_str(&stdout_of(&args)).unwrap();
        let names: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(names.len(), 18, "{args:?}: {names:?}");
        assert!(
            names.contains(&"issues") && names.contains(&"repositories"),
            "{names:?}"
        );
    }
}

#[test]
fn test_github_passes_offline_with_no_options() {
    // The simulator spec declares the repository its corpus holds, so the offline suite needs
    // no `-o owner=... -o repo=...`. Three tables keep the run short: an incremental and a
    // snapshot table of the repository, and `repositories`, which takes no repository.
    let out = stdout_of(&[
        "test",
        "github",
        "--table",
        "issues",
        "--table",
        "branches",
        "--table",
        "repositories",
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["outcome"] != "fail"), "{report:#}");
    let setup = &rows[0];
    assert_eq!(setup["check"], "setup");
    assert!(
        setup["evidence"]
            .as_str()
            .unwrap()
            .contains("table options from the simulator spec: [owner=acme-robotics, repo=rover]"),
        "{setup}"
    );
    for table in ["issues", "branches", "repositories"] {
        let read = rows
            .iter()
            .find(|r| r["table"] == table && r["check"] == "first_read")
            .unwrap_or_else(|| panic!("no first read of {table}: {report:#}"));
        assert_eq!(read["outcome"], "pass", "{read}");
    }
}

#[test]
fn schema_shows_nested_fields_of_a_hidden_table() {
    let text = stdout_of(&["schema", "example", "metrics"]);
    // A nested struct column is printed with its children indented below it.
    assert!(text.lines().any(|l| l.starts_with("  ")), "{text}");
    let json: Value = serde_json::from_str(&stdout_of(&[
        "schema", "example", "products", "--format", "json",
    ]))
    .unwrap();
    let product_id = &json.as_array().unwrap()[0];
    assert_eq!(product_id["name"], "product_id");
}

#[test]
fn read_orders_deletes_prints_typed_rows() {
    let rows = ndjson_rows(&[
        "read",
        "example",
        "orders",
        "--deletes",
        "--format",
        "ndjson",
    ]);
    assert!(!rows.is_empty(), "the example source has deleted orders");
    for row in &rows {
        assert!(row["order_id"].is_i64(), "typed key: {row:?}");
        assert!(row["updated_at"].is_string(), "{row:?}");
    }
    let table = stdout_of(&["read", "example", "orders", "--deletes"]);
    assert!(table.contains("order_id"), "{table}");
}

#[test]
fn read_hidden_metrics_terminates() {
    let rows = ndjson_rows(&["read", "example", "metrics", "--format", "ndjson"]);
    assert!(!rows.is_empty());
}

#[test]
fn small_batches_read_the_same_rows_as_one_big_read() {
    for table in ["events", "users", "orders"] {
        let all = ndjson_rows(&["read", "example", table, "--format", "ndjson"]);
        let small = ndjson_rows(&[
            "read",
            "example",
            table,
            "--format",
            "ndjson",
            "-o",
            "max_records_per_batch=7",
        ]);
        assert!(!all.is_empty(), "{table}");
        // cdc tables may repeat a key where the cursor ties at a batch boundary; compare sets.
        let key = |rows: &[serde_json::Map<String, Value>]| {
            let mut keys: Vec<String> = rows
                .iter()
                .map(|r| Value::Object(r.clone()).to_string())
                .collect();
            keys.sort();
            keys.dedup();
            keys
        };
        assert_eq!(key(&all), key(&small), "{table}");
    }
}

#[test]
fn limit_and_offset_resume() {
    let out = lakeflow(&[
        "read",
        "example",
        "events",
        "--format",
        "ndjson",
        "-o",
        "max_records_per_batch=10",
        "--limit",
        "10",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 10);
    // The resume offset is on stderr; reading from the final offset of a full read gives nothing.
    let full = lakeflow(&["read", "example", "events", "--format", "ndjson"]);
    let stderr = String::from_utf8(full.stderr).unwrap();
    let offset = stderr.rsplit("next offset: ").next().unwrap().trim();
    assert!(offset.starts_with('{'), "{stderr}");
    let rest = ndjson_rows(&[
        "read", "example", "events", "--format", "ndjson", "--offset", offset,
    ]);
    assert!(rest.is_empty(), "caught up from the final offset");
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    assert!(error_of(&["tables", "nosuch"]).contains("unknown source `nosuch`"));
    let e = error_of(&["read", "example", "nosuch"]);
    assert!(
        e.contains("unknown table `nosuch`") && e.contains("products"),
        "{e}"
    );
    let e = error_of(&["read", "example", "events", "--offset", "{not json"]);
    assert!(e.contains("malformed JSON"), "{e}");
    let e = error_of(&["read", "example", "events", "--offset", "[1]"]);
    assert!(e.contains("expected a JSON object"), "{e}");
    let e = error_of(&["read", "example", "events", "-o", "colour=red"]);
    assert!(e.contains("unknown option `colour`"), "{e}");
    let e = error_of(&["read", "example", "events", "-o", "category=x"]);
    assert!(e.contains("`category`") && e.contains("`events`"), "{e}");
    let e = error_of(&[
        "read",
        "example",
        "events",
        "-o",
        "max_records_per_batch=zero",
    ]);
    assert!(e.contains("max_records_per_batch"), "{e}");
}

/// `run`, `validate`, `status` and `query` on the shipped example spec and on bad specs.
mod pipeline {
    use std::path::Path;
    use std::process::{Command, Output};

    use serde_json::Value;

    const EXAMPLE_SPEC: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/pipelines/example.yaml"
    );

    fn lakeflow_in(dir: &Path, args: &[&str]) -> Output {
        super::lakeflow_command(dir, args).output().unwrap()
    }

    fn json_of(out: &Output) -> Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    #[test]
    fn the_example_spec_lands_every_table_then_runs_incrementally() {
        let dir = tempfile::tempdir().unwrap();
        let first_run = lakeflow_in(dir.path(), &["run", EXAMPLE_SPEC, "--json"]);
        // Libraries' internal log lines (Delta's MERGE metrics, its "no files in log segment"
        // for a table about to be created) are not shown by default.
        let stderr = String::from_utf8_lossy(&first_run.stderr);
        assert!(
            !stderr.contains("WARN") && !stderr.contains("ERROR"),
            "{stderr}"
        );
        let first = json_of(&first_run);
        let tables = first.as_array().unwrap();
        assert_eq!(tables.len(), 9);
        assert!(tables.iter().all(|t| t["status"] == "ok"), "{first:#}");
        assert!(
            dir.path()
                .join("warehouse/main/shop/orders/_delta_log")
                .is_dir()
        );
        let events = tables
            .iter()
            .find(|t| t["table"] == "main.shop.events")
            .unwrap();
        assert_eq!(events["appended"], 100);

        let second = json_of(&lakeflow_in(dir.path(), &["run", EXAMPLE_SPEC, "--json"]));
        for table in second.as_array().unwrap() {
            let name = table["table"].as_str().unwrap();
            if name == "main.ops.metrics" {
                // Its samples are placed relative to the clock: a later run may see new ones.
                continue;
            }
            let added = table["inserted"].as_u64().unwrap() + table["appended"].as_u64().unwrap();
            assert_eq!(added, 0, "a second run adds nothing new to {name}: {table}");
        }

        let status = json_of(&lakeflow_in(
            dir.path(),
            &["status", EXAMPLE_SPEC, "--json"],
        ));
        let events = status
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == "main.shop.events")
            .unwrap();
        assert_eq!(events["rows"], 100);
        assert_eq!(events["offsets"][0][1]["cursor"], "2025-01-01T00:01:40Z");

        let out = lakeflow_in(
            dir.path(),
            &["query", "SELECT COUNT(*) AS n FROM main.shop.events"],
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("| 100 |"),
            "{out:?}"
        );
    }

    #[test]
    fn bad_specs_fail_with_their_line_and_create_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("bad.yaml");
        std::fs::write(
            &spec,
            "connection_name: example\nobjects:\n  - table:\n      source_table: users\n      table_configuration:\n        colour: red\n",
        )
        .unwrap();
        let spec = spec.to_str().unwrap();
        for command in ["validate", "run"] {
            let out = lakeflow_in(dir.path(), &[command, spec]);
            assert!(!out.status.success());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("bad.yaml:6") && stderr.contains("`colour`"),
                "{command}: {stderr}"
            );
        }
        assert!(
            !dir.path().join("warehouse").exists(),
            "nothing was created"
        );

        std::fs::write(
            dir.path().join("nope.yaml"),
            "connection_name: nope\nobjects:\n  - table: {source_table: x}\n",
        )
        .unwrap();
        let out = lakeflow_in(dir.path(), &["validate", "nope.yaml"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("unknown connection `nope`"), "{stderr}");
    }

    #[test]
    fn connections_come_from_lakeflow_toml_with_environment_references() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lakeflow.toml"),
            "[connections.shop]\nsource = \"example\"\nseed = \"${SHOP_SEED}\"\nerror_rate = \"0\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("spec.yaml"),
            "connection_name: shop\nobjects:\n  - table: {source_table: users}\n",
        )
        .unwrap();
        let out = lakeflow_in(dir.path(), &["validate", "spec.yaml"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("SHOP_SEED"),
            "{stderr}"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_lakeflow"))
            .current_dir(dir.path())
            .args(["run", "spec.yaml", "--json"])
            .env("SHOP_SEED", "7")
            .output()
            .unwrap();
        let summary = json_of(&out);
        assert_eq!(summary[0]["status"], "ok", "{summary}");
    }
}
