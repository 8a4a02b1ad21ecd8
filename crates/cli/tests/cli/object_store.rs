//! `lakeflow run` and `lakeflow status` against an S3 warehouse, served on 127.0.0.1 by moto's
//! S3 server (PyPI `moto[server]`). `scripts/test.sh` installs moto and runs these tests with
//! `--ignored`, pointing `LAKEFLOW_MOTO_SERVER` at its `moto_server` program.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const EXAMPLE_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/pipelines/example.yaml"
);

/// A moto S3 server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Self {
        let program = std::env::var("LAKEFLOW_MOTO_SERVER").expect(
            "LAKEFLOW_MOTO_SERVER names moto's `moto_server` program (scripts/test.sh sets it)",
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Self { child, endpoint };
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&moto.endpoint).call().is_err() {
            assert!(Instant::now() < deadline, "moto did not start on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Creates a bucket (moto accepts unsigned requests).
    fn bucket(&self, name: &str) {
        ureq::put(&format!("{}/{name}", self.endpoint))
            .send_empty()
            .expect("bucket created");
    }

    /// `lakeflow <args>` in `dir` with the S3 settings a user would export.
    fn lakeflow(&self, dir: &Path, args: &[&str]) -> Output {
        super::lakeflow_command(dir, args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret")
            // One writer per table here; real deployments configure a locking provider or
            // conditional puts instead.
            .env("AWS_S3_ALLOW_UNSAFE_RENAME", "true")
            .output()
            .expect("the lakeflow binary runs")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Table name -> (rows, committed offsets), from `lakeflow status --json`.
fn statuses(status: &Value) -> Vec<(String, Value, Value)> {
    let mut rows: Vec<_> = status
        .as_array()
        .expect("a list of tables")
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_owned(),
                t["rows"].clone(),
                t["offsets"].clone(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[test]
#[ignore = "needs moto's S3 server: scripts/test.sh installs it and runs this test"]
fn the_example_spec_lands_in_an_s3_warehouse_like_in_a_local_one() {
    let moto = Moto::start();
    moto.bucket("lake");
    let dir = tempfile::tempdir().unwrap();
    let s3 = "s3://lake/warehouse";
    let local = dir.path().join("local");
    let local = local.to_str().unwrap();

    let first = json_of(&moto.lakeflow(
        dir.path(),
        &["run", EXAMPLE_SPEC, "--json", "--warehouse", s3],
    ));
    let tables = first.as_array().unwrap();
    assert_eq!(tables.len(), 9, "{first:#}");
    assert!(tables.iter().all(|t| t["status"] == "ok"), "{first:#}");
    assert!(
        !dir.path().join("warehouse").exists(),
        "nothing is written locally"
    );
    let listing = ureq::get(&format!(
        "{}/lake?list-type=2&prefix=warehouse/main/shop/orders/_delta_log/",
        moto.endpoint
    ))
    .call()
    .expect("bucket listing")
    .into_body()
    .read_to_string()
    .unwrap();
    assert!(
        listing.contains("00000000000000000000.json"),
        "the orders table's log is in the bucket: {listing}"
    );

    // A second run reads only what is new: nothing, except metrics placed by the clock.
    let second = json_of(&moto.lakeflow(
        dir.path(),
        &["run", EXAMPLE_SPEC, "--json", "--warehouse", s3],
    ));
    for table in second.as_array().unwrap() {
        let name = table["table"].as_str().unwrap();
        assert_eq!(table["status"], "ok", "{table}");
        if name != "main.ops.metrics" {
            let added = table["inserted"].as_u64().unwrap() + table["appended"].as_u64().unwrap();
            assert_eq!(added, 0, "a second run adds nothing new to {name}: {table}");
        }
    }

    // The same spec into a local warehouse gives the same rows and offsets in every table.
    json_of(&moto.lakeflow(
        dir.path(),
        &["run", EXAMPLE_SPEC, "--json", "--warehouse", local],
    ));
    let in_s3 = statuses(&json_of(&moto.lakeflow(
        dir.path(),
        &["status", EXAMPLE_SPEC, "--json", "--warehouse", s3],
    )));
    let in_local = statuses(&json_of(&moto.lakeflow(
        dir.path(),
        &["status", EXAMPLE_SPEC, "--json", "--warehouse", local],
    )));
    assert_eq!(in_s3.len(), 9);
    for (s3_table, local_table) in in_s3.iter().zip(&in_local) {
        assert_eq!(s3_table.0, local_table.0);
        if s3_table.0 == "main.ops.metrics" {
            continue;
        }
        assert_eq!(s3_table, local_table, "S3 and local differ");
        assert!(s3_table.1.as_u64().unwrap() > 0, "{s3_table:?}");
    }
}

#[test]
#[ignore = "needs moto's S3 server: scripts/test.sh installs it and runs this test"]
fn a_missing_bucket_is_a_clear_error_naming_the_table() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let out = moto.lakeflow(
        dir.path(),
        &["run", EXAMPLE_SPEC, "--warehouse", "s3://no-such-bucket/wh"],
    );
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("main.shop.orders") && text.contains("no-such-bucket"),
        "{text}"
    );
    assert!(!text.contains("testing-secret"), "{text}");
}
