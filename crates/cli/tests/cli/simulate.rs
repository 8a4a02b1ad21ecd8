//! `lakeflow simulate` and `lakeflow test`.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use serde_json::Value;

use crate::{error_of, lakeflow};

const FAKE_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../simulator/specs/fake/spec.yaml"
);

/// A `lakeflow simulate` process, killed on drop.
pub(crate) struct Served {
    child: Child,
    stdout: BufReader<ChildStdout>,
    pub(crate) base_url: String,
}

impl Served {
    pub(crate) fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lakeflow"))
            .arg("simulate")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the lakeflow binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut base_url = String::new();
        stdout.read_line(&mut base_url).expect("the URL line");
        Self {
            child,
            stdout,
            base_url: base_url.trim().to_owned(),
        }
    }

    fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("a log line");
        line
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn simulate_serves_a_spec_file_and_logs_each_request() {
    let mut served = Served::start(&[FAKE_SPEC, "--port", "0"]);
    assert!(
        served.base_url.starts_with("http://127.0.0.1:"),
        "first line is the URL: {}",
        served.base_url
    );
    let mut response = ureq::get(format!("{}/users?per_page=5", served.base_url))
        .header("Authorization", "Bearer test-token")
        .call()
        .expect("the simulator answers");
    let body: Value = response.body_mut().read_json().expect("JSON body");
    assert_eq!(body["users"].as_array().map(Vec::len), Some(5), "{body}");
    let logged = served.next_line();
    assert!(
        logged.contains("GET /users") && logged.contains("200"),
        "{logged}"
    );

    // Without the token, the simulator answers like the real API would.
    let denied = ureq::get(format!("{}/users", served.base_url)).call();
    assert!(
        matches!(denied, Err(ureq::Error::StatusCode(401))),
        "{denied:?}"
    );
    assert!(served.next_line().contains("401"));
}

#[test]
fn simulate_with_a_fault_profile_injects_its_faults() {
    let mut served = Served::start(&[FAKE_SPEC, "--port", "0", "--faults", "hostile"]);
    // The `hostile` profile answers its first request with 429 and `Retry-After: 1`.
    let first = ureq::get(format!("{}/users", served.base_url))
        .header("Authorization", "Bearer test-token")
        .call();
    assert!(
        matches!(first, Err(ureq::Error::StatusCode(429))),
        "{first:?}"
    );
    assert!(served.next_line().contains("429"));
}

fn get_users(base_url: &str) -> Value {
    ureq::get(format!("{base_url}/users?per_page=3"))
        .header("Authorization", "Bearer test-token")
        .call()
        .expect("an answer")
        .body_mut()
        .read_json()
        .expect("JSON body")
}

#[test]
fn simulate_records_a_cassette_through_a_proxy_and_replays_it() {
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("users.cassette");
    let cassette = cassette.to_str().unwrap();
    let upstream = Served::start(&[FAKE_SPEC, "--port", "0", "--quiet"]);
    let expected = get_users(&upstream.base_url);

    let mut proxy = Served::start(&[
        "--port",
        "0",
        "--record",
        &upstream.base_url,
        "--cassette",
        cassette,
    ]);
    assert_eq!(get_users(&proxy.base_url), expected, "the proxy forwards");
    assert!(proxy.next_line().contains("GET /users"));
    drop(proxy);
    drop(upstream);

    let text = std::fs::read_to_string(cassette).expect("the cassette was written");
    assert!(
        !text.contains("test-token"),
        "the credential is redacted: {text}"
    );
    for user in expected["users"].as_array().unwrap() {
        let email = user["email"].as_str().unwrap();
        assert!(!text.contains(email), "e-mail addresses are redacted");
    }
    // The replay serves what was recorded: the same records, e-mail addresses redacted.
    let mut redacted = expected;
    for user in redacted["users"].as_array_mut().unwrap() {
        user["email"] = Value::from("redacted@example.com");
    }
    let replay = Served::start(&["--port", "0", "--replay", cassette]);
    assert_eq!(
        get_users(&replay.base_url),
        redacted,
        "the replay answers alike"
    );
}

#[test]
fn simulate_rejects_bad_targets_with_one_clear_line() {
    let err = error_of(&["simulate", "example", "--port", "0"]);
    assert!(err.contains("no simulator spec"), "{err}");
    let err = error_of(&["simulate", "no-such-source", "--port", "0"]);
    assert!(err.contains("`no-such-source`"), "{err}");
    let err = error_of(&["simulate", FAKE_SPEC, "--port", "0", "--faults", "gentle"]);
    assert!(
        err.contains("gentle") && err.contains("hostile"),
        "names the unknown profile and the known ones: {err}"
    );
}

#[test]
fn test_command_passes_the_example_source() {
    let out = lakeflow(&["test", "example", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    let rows = report["rows"].as_array().expect("rows");
    let outcome_of = |table: &str, check: &str| {
        rows.iter()
            .find(|r| r["table"] == table && r["check"] == check)
            .map(|r| r["outcome"].clone())
    };
    // Checks that exercise real reads must have run, not been skipped.
    for (table, check) in [
        ("events", "resume"),
        ("users", "termination"),
        ("products", "snapshot_stable"),
        ("orders", "deletes"),
    ] {
        assert_eq!(
            outcome_of(table, check),
            Some(Value::from("pass")),
            "{table}/{check}"
        );
    }
    assert!(rows.iter().all(|r| r["outcome"] != "fail"), "{stdout}");
}

#[test]
fn test_command_live_without_credentials_says_what_it_needs() {
    let err = error_of(&["test", "example", "--live"]);
    assert!(err.contains("LAKEFLOW_"), "{err}");
    let err = error_of(&["test", "example", "--table", "nope"]);
    assert!(err.contains("nope"), "{err}");
}
