//! The suite's simulator path: a small HTTP connector whose descriptor embeds a simulator spec.
//! `Conformance::new` starts the simulator, passes its URL as `base_url`, gives the unset token
//! `FAKE_SECRET` (the credential the spec accepts, by convention), and runs check 17 under the
//! spec's `conformance` fault profile (429 with Retry-After, 503), or the suite's built-in one.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use chrono::Utc;
use lakeflow_connect::arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, EmbeddedSimulatorSpec, Error, IngestionType,
    LakeflowConnect, MAX_RECORDS_PER_BATCH, Offset, OptionSpec, ReadOutput, Record, Result, Secret,
    TableMetadata, TableOptions, positive_option,
};
use lakeflow_testkit::{Check, Conformance, FAKE_SECRET, Outcome};
use serde_json::{Value, json};

/// The spec without fault profiles, accepting the bearer token `$token` (a macro, so `concat!`
/// can add profiles). The convention is `FAKE_SECRET`'s value.
macro_rules! endpoints {
    () => {
        endpoints!("lakeflow-conformance-secret-7f3a")
    };
    ($token:literal) => {
        concat!(
            "
name: items
auth: { scheme: bearer, token: ",
            $token,
            " }
endpoints:
  - name: items
    path: /items
    corpus: items.json
    records_key: items
    sort: { field: updated_at, direction: asc }
    strict: true
    params:
      offset: { role: offset }
      limit: { role: limit, default: 3, max: 3 }
      updated_after: { role: filter, field: updated_at, op: gt }
    pagination: { style: offset, total_key: total, has_more_key: has_more }
"
        )
    };
}

const SPEC: &str = concat!(
    endpoints!(),
    "
faults:
  conformance:
    seed: 3
    rules:
      - { status: 429, retry_after: 0, rate: 0.2 }
      - { status: 503, rate: 0.1 }
"
);

const ITEMS: &str = r#"[
  {"id": 1, "name": "anvil", "updated_at": "2024-05-01T10:00:00Z"},
  {"id": 2, "name": "rope", "updated_at": "2024-05-01T11:00:00Z"},
  {"id": 3, "name": "kite", "updated_at": "2024-05-02T09:30:00Z"},
  {"id": 4, "name": "lamp", "updated_at": "2024-05-03T08:00:00Z"},
  {"id": 5, "name": "saw", "updated_at": "2024-05-04T12:00:00Z"},
  {"id": 6, "name": "tent", "updated_at": "2024-05-05T07:45:00Z"},
  {"id": 7, "name": "map", "updated_at": "2024-05-06T16:20:00Z"}
]"#;

static WITH_FAULTS: EmbeddedSimulatorSpec = EmbeddedSimulatorSpec {
    spec: SPEC,
    files: &[("items.json", ITEMS)],
};

static CONNECTION: &[OptionSpec] = &[
    OptionSpec::optional("base_url", "API root."),
    OptionSpec::required("token", "Bearer token.").secret(),
    OptionSpec::optional("retries", "Retries of a retriable failure (default 5)."),
];

static TABLE_OPTIONS: &[OptionSpec] = &[OptionSpec::optional(
    MAX_RECORDS_PER_BATCH,
    "Most records per read (default 4).",
)];

static DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "items",
    description: "Items over HTTP, for the suite's simulator tests.",
    connection_options: CONNECTION,
    table_options: TABLE_OPTIONS,
    auth: &[],
    constructor: construct,
    simulator: Some(&WITH_FAULTS),
};

fn construct(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    Ok(Box::new(Items::new(options)?))
}

/// Reads `GET /items?updated_after=<cursor>&limit=3` page by page (limit-on-the-fly). `Debug`
/// shows the token as `Secret(***)`.
#[derive(Debug)]
struct Items {
    agent: ureq::Agent,
    base_url: String,
    token: Secret,
    retries: u32,
    init: String,
}

impl Items {
    fn new(options: &ConnectionOptions) -> Result<Self> {
        let retries = match options.get("retries") {
            None => 5,
            Some(raw) => raw
                .parse()
                .map_err(|_| Error::invalid_option("retries", raw, "not a whole number"))?,
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Ok(Self {
            agent,
            base_url: options
                .get("base_url")
                .unwrap_or("https://items.invalid")
                .to_owned(),
            token: Secret::new(options.require("token")?),
            retries,
            init: Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        })
    }

    fn page(&self, after: Option<&str>, limit: usize) -> Result<Vec<Record>> {
        let transport = |message: String| Error::Transport {
            status: None,
            message,
            retriable: false,
        };
        for attempt in 0..=self.retries {
            let mut request = self
                .agent
                .get(format!("{}/items", self.base_url))
                .header("Authorization", format!("Bearer {}", self.token.expose()))
                .query("limit", limit.to_string());
            if let Some(after) = after {
                request = request.query("updated_after", after);
            }
            let mut response = request
                .call()
                .map_err(|e| transport(format!("items: {e}")))?;
            let status = response.status().as_u16();
            if matches!(status, 429 | 500..=599) && attempt < self.retries {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(0);
                thread::sleep(Duration::from_millis(wait * 1000 + 1));
                continue;
            }
            if matches!(status, 401 | 403) {
                // What the source said, never the token.
                return Err(Error::Auth {
                    message: format!("items: the source answered {status}"),
                });
            }
            if status != 200 {
                return Err(Error::Transport {
                    status: Some(status),
                    message: "items: the source answered with an error".to_owned(),
                    retriable: matches!(status, 429 | 500..=599),
                });
            }
            let body: Value = response
                .body_mut()
                .read_json()
                .map_err(|e| transport(format!("items: {e}")))?;
            let records = body["items"].as_array().cloned().unwrap_or_default();
            return Ok(records
                .into_iter()
                .filter_map(|r| r.as_object().cloned())
                .collect());
        }
        unreachable!("the last attempt returns")
    }
}

impl LakeflowConnect for Items {
    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(vec!["items".to_owned()])
    }

    fn get_table_schema(&self, table: &str, _options: &TableOptions) -> Result<SchemaRef> {
        check(table)?;
        Ok(Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new(
                "updated_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
        ])))
    }

    fn read_table_metadata(&self, table: &str, _options: &TableOptions) -> Result<TableMetadata> {
        check(table)?;
        Ok(TableMetadata::new(
            IngestionType::Cdc,
            &["id"],
            Some("updated_at"),
        ))
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        check(table)?;
        let max = usize::try_from(positive_option(options, MAX_RECORDS_PER_BATCH, 4)?)
            .unwrap_or(usize::MAX);
        let cursor = match start.map(|o| o.get("cursor")) {
            None => None,
            Some(Some(Value::String(cursor))) => Some(cursor.clone()),
            Some(_) => return Err(Error::invalid_offset(table, "no `cursor`")),
        };
        if cursor.as_ref().is_some_and(|c| *c >= self.init) {
            return Ok(ReadOutput::caught_up(start.cloned()));
        }
        let mut records: Vec<Record> = Vec::new();
        let mut after = cursor;
        while records.len() < max {
            let page = self.page(after.as_deref(), (max - records.len()).min(3))?;
            let Some(last) = page.last() else { break };
            after = last["updated_at"].as_str().map(str::to_owned);
            records.extend(page);
        }
        let end = match after {
            Some(cursor) => json!({"cursor": cursor}).as_object().cloned(),
            None => start.cloned(),
        };
        Ok(ReadOutput::from_records(records, end))
    }
}

fn check(table: &str) -> Result<()> {
    if table == "items" {
        Ok(())
    } else {
        Err(Error::unknown_table(table, &["items"]))
    }
}

#[test]
fn a_simulator_backed_connector_passes_with_no_connection_options() {
    // The convention: the spec's credential is the value the suite gives unset secrets.
    assert!(SPEC.contains(&format!("token: {FAKE_SECRET} ")), "{SPEC}");
    let report = Conformance::new(&DESCRIPTOR).run();
    report.assert_passed();
    let setup = report.row(None, Check::Setup).unwrap();
    assert!(
        setup.evidence.contains("simulator at http://127.0.0.1:"),
        "{}",
        setup.evidence
    );
    for check in [Check::FirstRead, Check::Resume, Check::Secrets] {
        assert_eq!(
            report.outcome(check.per_table().then_some("items"), check),
            Some(Outcome::Pass),
            "{check}: {report}"
        );
    }
    let faults = report.row(Some("items"), Check::Faults).unwrap();
    assert_eq!(faults.outcome, Outcome::Pass, "{report}");
    assert!(
        faults.evidence.contains("`conformance` fault profile"),
        "{}",
        faults.evidence
    );
}

#[test]
fn a_spec_that_refuses_the_fake_secret_fails_with_a_pointer_to_the_convention() {
    static OTHER_TOKEN: EmbeddedSimulatorSpec = EmbeddedSimulatorSpec {
        spec: endpoints!("sim-token"),
        files: &[("items.json", ITEMS)],
    };
    static REFUSING: ConnectorDescriptor = ConnectorDescriptor {
        simulator: Some(&OTHER_TOKEN),
        ..DESCRIPTOR
    };
    let report = Conformance::new(&REFUSING).run();
    let failed: Vec<_> = report
        .failures()
        .map(|r| (r.table.as_deref(), r.check))
        .collect();
    assert_eq!(failed, [(Some("items"), Check::FirstRead)], "{report}");
    let evidence = &report
        .row(Some("items"), Check::FirstRead)
        .unwrap()
        .evidence;
    for expected in ["authentication failed", "FAKE_SECRET", "simulator spec"] {
        assert!(
            evidence.contains(expected),
            "{expected:?} not in {evidence}"
        );
    }
    // A token given explicitly is used instead of the fake one.
    let token: ConnectionOptions = [("token", "sim-token")].into_iter().collect();
    Conformance::new(&REFUSING)
        .connection(token)
        .run()
        .assert_passed();
}

#[test]
fn without_retries_the_fault_profile_fails_faults_only() {
    let connection: ConnectionOptions = [("retries", "0")].into_iter().collect();
    let report = Conformance::new(&DESCRIPTOR).connection(connection).run();
    let failed: Vec<_> = report
        .failures()
        .map(|r| (r.table.as_deref(), r.check))
        .collect();
    assert_eq!(failed, [(Some("items"), Check::Faults)], "{report}");
}

static NO_FAULTS: EmbeddedSimulatorSpec = EmbeddedSimulatorSpec {
    spec: endpoints!(),
    files: &[("items.json", ITEMS)],
};

/// The connector with a spec that has no `conformance` fault profile.
static PLAIN: ConnectorDescriptor = ConnectorDescriptor {
    simulator: Some(&NO_FAULTS),
    ..DESCRIPTOR
};

#[test]
fn a_spec_without_the_conformance_profile_gets_the_built_in_faults() {
    let report = Conformance::new(&PLAIN).run();
    report.assert_passed();
    let faults = report.row(Some("items"), Check::Faults).unwrap();
    assert_eq!(faults.outcome, Outcome::Pass, "{report}");
    assert!(
        faults.evidence.contains("built-in fault profile"),
        "{}",
        faults.evidence
    );
    // The built-in profile really injects faults: without retries the pass breaks on them.
    let connection: ConnectionOptions = [("retries", "0")].into_iter().collect();
    let report = Conformance::new(&PLAIN).connection(connection).run();
    let faults = report.row(Some("items"), Check::Faults).unwrap();
    assert_eq!(faults.outcome, Outcome::Fail, "{report}");
    assert!(
        faults.evidence.contains("built-in fault profile") && faults.evidence.contains("429"),
        "{}",
        faults.evidence
    );
}

/// A table option every read needs (like GitHub's `owner`), which the spec below supplies.
static SCOPED_TABLE_OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional(MAX_RECORDS_PER_BATCH, "Most records per read (default 4)."),
    OptionSpec::required("shop", "The shop whose items are read."),
];

static SCOPED_SPEC: EmbeddedSimulatorSpec = EmbeddedSimulatorSpec {
    spec: concat!(endpoints!(), "table_options: { shop: north }\n"),
    files: &[("items.json", ITEMS)],
};

#[test]
fn an_offline_run_takes_the_table_options_the_simulator_spec_declares() {
    static SCOPED: ConnectorDescriptor = ConnectorDescriptor {
        table_options: SCOPED_TABLE_OPTIONS,
        simulator: Some(&SCOPED_SPEC),
        ..DESCRIPTOR
    };
    let report = Conformance::new(&SCOPED).run();
    report.assert_passed();
    let setup = report.row(None, Check::Setup).unwrap();
    assert!(
        setup
            .evidence
            .contains("table options from the simulator spec: [shop=north]"),
        "{}",
        setup.evidence
    );
    // Options the caller gives win over the spec's.
    let given = TableOptions::from([("shop".to_owned(), "south".to_owned())]);
    let report = Conformance::new(&SCOPED).common_table_options(given).run();
    report.assert_passed();
    let setup = report.row(None, Check::Setup).unwrap();
    assert!(!setup.evidence.contains("shop=north"), "{}", setup.evidence);
    // Without the spec's options the table cannot be set up: what the spec's options fix.
    static UNSCOPED: ConnectorDescriptor = ConnectorDescriptor {
        table_options: SCOPED_TABLE_OPTIONS,
        simulator: Some(&NO_FAULTS),
        ..DESCRIPTOR
    };
    let report = Conformance::new(&UNSCOPED).run();
    let setup = report.row(Some("items"), Check::Setup).unwrap();
    assert_eq!(setup.outcome, Outcome::Fail, "{report}");
    assert!(
        setup.evidence.contains("missing required option `shop`"),
        "{}",
        setup.evidence
    );
}
