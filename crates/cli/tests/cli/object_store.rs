//! `lakeflow run`, `status` and `query` against object-store warehouses served on 127.0.0.1: S3
//! by moto's server (PyPI `moto[server]`), Azure Blob Storage by Azurite (npm `azurite`).
//! `scripts/test.sh` installs both and runs these tests with `--ignored`, naming the programs in
//! `LAKEFLOW_MOTO_SERVER` and `LAKEFLOW_AZURITE_BLOB`.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};
use serde_json::Value;

const EXAMPLE_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/pipelines/example.yaml"
);

/// Azurite's well-known development account.
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A local object-store server, stopped when dropped, with the settings a user would export.
struct Store {
    child: Child,
    endpoint: String,
    env: Vec<(&'static str, String)>,
    /// A secret that must never appear in output.
    secret: &'static str,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn program(variable: &str) -> String {
    std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable} names the server program (scripts/test.sh sets it)"))
}

impl Store {
    fn start(
        mut command: Command,
        endpoint: String,
        env: Vec<(&'static str, String)>,
        secret: &'static str,
    ) -> Self {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let store = Self {
            child,
            endpoint,
            env,
            secret,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        // Both servers listen once they are ready to answer.
        let address = store.endpoint.trim_start_matches("http://").to_owned();
        while TcpStream::connect(&address).is_err() {
            assert!(Instant::now() < deadline, "{command:?} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        store
    }

    /// moto's S3 server; buckets are made with unsigned requests.
    fn moto() -> Self {
        let port = free_port();
        let mut command = Command::new(program("LAKEFLOW_MOTO_SERVER"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let endpoint = format!("http://127.0.0.1:{port}");
        let env = vec![
            ("AWS_ENDPOINT_URL", endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing-secret".to_owned()),
            // One writer per table here; real deployments configure a locking provider or
            // conditional puts instead.
            ("AWS_S3_ALLOW_UNSAFE_RENAME", "true".to_owned()),
        ];
        Self::start(command, endpoint, env, "testing-secret")
    }

    /// Azurite's blob service, in memory.
    fn azurite() -> Self {
        let port = free_port();
        let mut command = Command::new(program("LAKEFLOW_AZURITE_BLOB"));
        command.args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()]);
        command.args(["--inMemoryPersistence", "--silent", "--skipApiVersionCheck"]);
        let endpoint = format!("http://127.0.0.1:{port}");
        let env = vec![
            ("AZURE_STORAGE_USE_EMULATOR", "true".to_owned()),
            ("AZURITE_BLOB_STORAGE_URL", endpoint.clone()),
            ("AZURE_STORAGE_ACCOUNT_NAME", AZURITE_ACCOUNT.to_owned()),
            ("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY.to_owned()),
        ];
        Self::start(command, endpoint, env, AZURITE_KEY)
    }

    /// An S3 bucket (moto accepts unsigned requests).
    fn bucket(&self, name: &str) {
        ureq::put(&format!("{}/{name}", self.endpoint))
            .send_empty()
            .expect("bucket created");
    }

    /// An Azure container, with a request signed by the account key (Shared Key).
    fn container(&self, name: &str) {
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let version = "2021-08-06";
        let canonical = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container"
        );
        let key = STANDARD
            .decode(AZURITE_KEY)
            .expect("the account key is base64");
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key length");
        mac.update(canonical.as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        ureq::put(&format!(
            "{}/{AZURITE_ACCOUNT}/{name}?restype=container",
            self.endpoint
        ))
        .header("x-ms-date", &date)
        .header("x-ms-version", version)
        .header(
            "Authorization",
            &format!("SharedKey {AZURITE_ACCOUNT}:{signature}"),
        )
        .send_empty()
        .expect("container created");
    }

    /// `lakeflow <args>` in `dir` with this store's settings.
    fn lakeflow(&self, dir: &Path, args: &[&str]) -> Output {
        super::lakeflow_command(dir, args)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("the lakeflow binary runs")
    }
}

impl Drop for Store {
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

/// (table, rows, committed offsets) of every table, from `lakeflow status --json`.
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

/// The example spec into `remote` twice and into a local warehouse once: every table, its
/// status and a query agree.
fn lands_like_a_local_warehouse(store: &Store, remote: &str) {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local");
    let local = local.to_str().unwrap();
    let run = |warehouse: &str| {
        json_of(&store.lakeflow(
            dir.path(),
            &["run", EXAMPLE_SPEC, "--json", "--warehouse", warehouse],
        ))
    };

    let first = run(remote);
    let tables = first.as_array().unwrap();
    assert_eq!(tables.len(), 9, "{first:#}");
    assert!(tables.iter().all(|t| t["status"] == "ok"), "{first:#}");
    assert!(
        !dir.path().join("warehouse").exists(),
        "nothing is written locally"
    );

    // A second run reads only what is new: nothing, except metrics placed by the clock.
    for table in run(remote).as_array().unwrap() {
        let name = table["table"].as_str().unwrap();
        assert_eq!(table["status"], "ok", "{table}");
        if name != "main.ops.metrics" {
            let added = table["inserted"].as_u64().unwrap() + table["appended"].as_u64().unwrap();
            assert_eq!(added, 0, "a second run adds nothing new to {name}: {table}");
        }
    }

    run(local);
    let status = |warehouse: &str| {
        statuses(&json_of(&store.lakeflow(
            dir.path(),
            &["status", EXAMPLE_SPEC, "--json", "--warehouse", warehouse],
        )))
    };
    let (in_remote, in_local) = (status(remote), status(local));
    assert_eq!((in_remote.len(), in_local.len()), (9, 9));
    for (remote_table, local_table) in in_remote.iter().zip(&in_local) {
        assert_eq!(remote_table.0, local_table.0);
        if remote_table.0 == "main.ops.metrics" {
            continue;
        }
        assert_eq!(remote_table, local_table, "remote and local differ");
        assert!(remote_table.1.as_u64().unwrap() > 0, "{remote_table:?}");
    }

    // Every data file the remote tables reference is in the store.
    let verified = json_of(&store.lakeflow(
        dir.path(),
        &[
            "status",
            EXAMPLE_SPEC,
            "--json",
            "--verify",
            "--warehouse",
            remote,
        ],
    ));
    for table in verified.as_array().unwrap() {
        assert_eq!(table["files"]["missing"], 0, "{table}");
        assert!(
            table["files"]["referenced"].as_u64().unwrap() > 0,
            "{table}"
        );
    }

    // SQL over the remote tables, by their spec names.
    let sql = "SELECT status, COUNT(*) AS n FROM main.shop.orders GROUP BY status ORDER BY status";
    let query = |warehouse: &str| {
        let out = store.lakeflow(dir.path(), &["query", sql, "--warehouse", warehouse]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let remote_rows = query(remote);
    assert!(remote_rows.lines().count() > 4, "{remote_rows}");
    assert_eq!(remote_rows, query(local));
}

#[test]
#[ignore = "needs moto's S3 server: scripts/test.sh installs it and runs this test"]
fn the_example_spec_lands_in_an_s3_warehouse_like_in_a_local_one() {
    let moto = Store::moto();
    moto.bucket("lake");
    lands_like_a_local_warehouse(&moto, "s3://lake/warehouse");
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
}

#[test]
#[ignore = "needs Azurite: scripts/test.sh installs it and runs this test"]
fn the_example_spec_lands_in_an_azure_warehouse_like_in_a_local_one() {
    let azurite = Store::azurite();
    azurite.container("lake");
    lands_like_a_local_warehouse(&azurite, "az://lake/warehouse");
}

#[test]
#[ignore = "needs moto's S3 server and Azurite: scripts/test.sh installs them and runs this test"]
fn a_missing_bucket_or_container_is_a_clear_error_naming_the_table() {
    for (store, url, missing) in [
        (Store::moto(), "s3://no-such-bucket/wh", "no-such-bucket"),
        (
            Store::azurite(),
            "az://no-such-container/wh",
            "no-such-container",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = store.lakeflow(dir.path(), &["run", EXAMPLE_SPEC, "--warehouse", url]);
        assert!(!out.status.success());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("main.shop.orders") && text.contains(missing),
            "{text}"
        );
        assert!(!text.contains(store.secret), "{text}");
    }
}
