//! The suite's own tests: a connector that meets the contract passes every check, and each
//! deliberately broken variant fails exactly the check meant to catch its defect, with evidence.

mod common;

use std::sync::{Arc, Mutex};

use common::{DESCRIPTOR, Flaw, LOSSY_FLOAT, Memory, Store, suite, with_opaque_deletes};
use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, LakeflowConnect, ReadOutput, Result, TableOptions,
};
use lakeflow_testkit::{
    Check, Conformance, FAKE_SECRET, Intercept, Limits, Outcome, Report, Wrapped,
    connection_from_env, live_connection, live_connection_with,
};

/// The failed rows as (table, check).
fn failures(report: &Report) -> Vec<(Option<&str>, Check)> {
    report
        .failures()
        .map(|r| (r.table.as_deref(), r.check))
        .collect()
}

/// Runs the suite on `flaw` and asserts that exactly `check` fails for `table`, with evidence
/// containing every one of `evidence`.
fn fails_only(flaw: Flaw, table: Option<&str>, check: Check, evidence: &[&str]) -> Report {
    let report = suite(flaw).run();
    assert_eq!(failures(&report), [(table, check)], "{report}");
    let row = report.row(table, check).unwrap();
    for expected in evidence {
        assert!(
            row.evidence.contains(expected),
            "{expected:?} not in {:?}",
            row.evidence
        );
    }
    report
}

#[test]
fn a_conforming_connector_passes_every_check() {
    let report = suite(Flaw::None).run();
    report.assert_passed();
    for check in Check::ALL {
        assert!(
            report
                .rows
                .iter()
                .any(|r| r.check == check && r.outcome == Outcome::Pass),
            "{check} never passed:\n{report}"
        );
    }
    // Both partition capabilities were exercised, and the tie duplicates are not counted as
    // failures but seen.
    let partitions = &report
        .row(Some("audit_log"), Check::Partitions)
        .unwrap()
        .evidence;
    assert!(partitions.contains("stable partition") && partitions.contains("stream converged"));
    assert_eq!(
        report
            .rows
            .iter()
            .filter(|r| r.check == Check::WriteBack && r.outcome == Outcome::Pass)
            .count(),
        3
    );
}

#[test]
fn a_connector_that_never_converges_fails_termination() {
    let report = fails_only(
        Flaw::NeverTerminates,
        Some("audit_log"),
        Check::Termination,
        &["`audit_log`", "did not converge", "spin"],
    );
    // What needs a full pass is skipped, pointing at termination.
    let resume = report.row(Some("audit_log"), Check::Resume).unwrap();
    assert_eq!(resume.outcome, Outcome::Skip);
    assert!(
        resume.evidence.contains("see `termination`"),
        "{}",
        resume.evidence
    );
}

#[test]
fn a_duplicate_nested_field_fails_schema() {
    fails_only(
        Flaw::DuplicateField,
        Some("tickets"),
        Check::Schema,
        &["`requester.name` appears more than once"],
    );
}

#[test]
fn a_secret_in_an_error_fails_secrets_and_is_redacted_from_the_report() {
    let report = fails_only(
        Flaw::LeaksSecret,
        None,
        Check::Secrets,
        &[
            "secret option `token`",
            "read_table(`tickets`)",
            "token=***",
        ],
    );
    let text = format!("{report}\n{}", serde_json_text(&report));
    assert!(
        !text.contains(FAKE_SECRET),
        "the report itself leaks:\n{text}"
    );
}

fn serde_json_text(report: &Report) -> String {
    serde_json::to_string(report).unwrap()
}

#[test]
fn a_resume_that_skips_a_record_fails_resume() {
    fails_only(
        Flaw::ResumeGap,
        Some("tickets"),
        Check::Resume,
        &["`tickets`", "missing record", "resumed from"],
    );
}

#[test]
fn a_record_that_does_not_fit_the_schema_fails_first_read() {
    fails_only(
        Flaw::BadRecord,
        Some("audit_log"),
        Check::FirstRead,
        &["column `seq`", "not-a-number"],
    );
}

#[test]
fn ignoring_max_records_per_batch_fails_batch_bounds() {
    fails_only(
        Flaw::OversizedBatch,
        Some("tickets"),
        Check::BatchBounds,
        &["`tickets`", "max_records_per_batch=5 returned"],
    );
}

#[test]
fn a_panic_in_the_connector_fails_the_check_that_provoked_it() {
    fails_only(
        Flaw::PanicsInSchema,
        Some("agents"),
        Check::Schema,
        &["panicked", "schema registry of agents"],
    );
}

#[test]
fn the_wrong_error_for_an_unknown_table_fails_unknown_table() {
    fails_only(
        Flaw::WrongUnknownTableError,
        None,
        Check::UnknownTable,
        &["failed with another error", "no endpoint"],
    );
}

#[test]
fn unstable_partitions_fail_partitions() {
    fails_only(
        Flaw::UnstablePartitions,
        Some("agents"),
        Check::Partitions,
        &["`agents`", "not stable"],
    );
}

#[test]
fn not_retrying_fails_faults() {
    let report = suite(Flaw::NoRetry).run();
    let failed = failures(&report);
    assert!(
        !failed.is_empty() && failed.iter().all(|(_, c)| *c == Check::Faults),
        "{report}"
    );
    assert!(
        report
            .failures()
            .all(|r| r.evidence.contains("under faults") && r.evidence.contains("503")),
        "{report}"
    );
}

#[test]
fn a_column_never_filled_fails_coverage_unless_allowed() {
    fails_only(
        Flaw::NullColumn,
        Some("tickets"),
        Check::ColumnCoverage,
        &["subject"],
    );
    suite(Flaw::NullColumn)
        .allow_all_null("tickets", &["subject"])
        .run()
        .assert_passed();
}

#[test]
fn undeclared_table_options_fail_setup_for_that_table_only() {
    let mut options = TableOptions::new();
    options.insert("colour".into(), "red".into());
    let report = suite(Flaw::None).table_options("agents", options).run();
    assert_eq!(
        failures(&report),
        [(Some("agents"), Check::Setup)],
        "{report}"
    );
    assert!(
        report
            .row(Some("agents"), Check::Setup)
            .unwrap()
            .evidence
            .contains("colour")
    );
    assert!(
        report
            .rows
            .iter()
            .all(|r| r.check == Check::Setup || r.table.as_deref() != Some("agents"))
    );
}

#[test]
fn a_connector_that_cannot_be_built_fails_setup_and_skips_the_rest() {
    let mut connection = ConnectionOptions::new();
    connection.insert("region", "mars");
    let report = Conformance::new(&DESCRIPTOR).connection(connection).run();
    assert_eq!(failures(&report), [(None, Check::Setup)], "{report}");
    assert!(
        report
            .row(None, Check::Setup)
            .unwrap()
            .evidence
            .contains("mars")
    );
    assert_eq!(report.counts(), (0, 1, Check::ALL.len() - 1));
}

#[test]
fn the_descriptor_path_and_table_selection_work() {
    let report = Conformance::new(&DESCRIPTOR).tables(&["agents"]).run();
    report.assert_passed();
    assert!(
        report
            .rows
            .iter()
            .all(|r| r.table.as_deref().is_none_or(|t| t == "agents"))
    );
    // Descriptor-built connectors are `dyn LakeflowConnect`, whose `Debug` is scanned too.
    let secrets = &report.row(None, Check::Secrets).unwrap().evidence;
    assert!(secrets.contains("the Debug output of"), "{secrets}");
    // Without a simulator or fault factory, faults are skipped with a reason.
    let faults = report.row(Some("agents"), Check::Faults).unwrap();
    assert_eq!(faults.outcome, Outcome::Skip);
    assert!(faults.evidence.contains("faults_with"));
}

#[test]
fn a_tight_record_bound_stops_a_pass() {
    let limits = Limits {
        max_records: 3,
        ..Limits::default()
    };
    let report = suite(Flaw::None).tables(&["agents"]).limits(limits).run();
    let row = report.row(Some("agents"), Check::Termination).unwrap();
    assert_eq!(row.outcome, Outcome::Fail, "{report}");
    assert!(
        row.evidence.contains("without converging"),
        "{}",
        row.evidence
    );
}

#[test]
fn a_replayed_record_fails_resume_for_append_but_is_a_tie_for_cdc() {
    // On resume, the flawed connector re-reads the row at the start cursor. For the append table
    // that duplicates a row; for the cdc table the row ties with the cut's cursor (harmless).
    fails_only(
        Flaw::ResumeReplays,
        Some("audit_log"),
        Check::Resume,
        &["`audit_log`", "record delivered twice"],
    );
    let report = suite(Flaw::ResumeReplays).run();
    let tickets = report.row(Some("tickets"), Check::Resume).unwrap();
    assert_eq!(tickets.outcome, Outcome::Pass, "{report}");
    assert!(
        !tickets
            .evidence
            .contains(" 0 duplicates at a tied cursor; "),
        "{}",
        tickets.evidence
    );
}

#[test]
fn connection_options_come_from_the_environment() {
    const NAME: &str = "connection_options_come_from_the_environment";
    if std::env::var_os("LAKEFLOW_MEMORY_REGION").is_some() {
        let options = connection_from_env(&DESCRIPTOR);
        assert_eq!(options.get("region"), Some("eu"));
        assert_eq!(options.get("token"), Some("from-env"));
        assert!(live_connection(&DESCRIPTOR).is_some());
        // Options given explicitly (`lakeflow test -o region=us`) win over the environment.
        let given: ConnectionOptions = [("region", "us")].into_iter().collect();
        let merged = live_connection_with(&DESCRIPTOR, &given).unwrap();
        assert_eq!(merged.get("region"), Some("us"));
        assert_eq!(merged.get("token"), Some("from-env"));
        return;
    }
    // Setting variables in this process needs `unsafe` (forbidden here): run this very test again
    // in a child process that has them.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--test-threads", "1"])
        .env("LAKEFLOW_MEMORY_REGION", "eu")
        .env("LAKEFLOW_MEMORY_TOKEN", "from-env")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "{stdout}"
    );
    assert_eq!(connection_from_env(&DESCRIPTOR).keys().count(), 0);
    assert!(live_connection(&DESCRIPTOR).is_none());
    // Without variables, options given explicitly are enough for a live run.
    let given: ConnectionOptions = [("token", "given")].into_iter().collect();
    let options = live_connection_with(&DESCRIPTOR, &given).unwrap();
    assert_eq!(options.get("token"), Some("given"));
}

#[test]
fn a_table_listed_twice_fails_list_tables() {
    fails_only(
        Flaw::DuplicateTable,
        None,
        Check::ListTables,
        &["`tickets` is listed more than once"],
    );
}

#[test]
fn metadata_that_changes_between_calls_fails_metadata() {
    fails_only(
        Flaw::UnstableMetadata,
        Some("agents"),
        Check::Metadata,
        &["a second call returned other metadata", "\"name\""],
    );
}

#[test]
fn a_key_that_is_not_in_the_schema_fails_metadata_only() {
    let report = fails_only(
        Flaw::KeyNotInSchema,
        Some("agents"),
        Check::Metadata,
        &["primary key `id` is not a field of the schema"],
    );
    // Checks that look records up by key do not also fail (or pass vacuously): they wait for
    // metadata that fits the schema.
    let stable = report.row(Some("agents"), Check::SnapshotStable).unwrap();
    assert_eq!(stable.outcome, Outcome::Skip, "{report}");
    assert!(
        stable.evidence.contains("see `metadata`"),
        "{}",
        stable.evidence
    );
    let first = &report
        .row(Some("agents"), Check::FirstRead)
        .unwrap()
        .evidence;
    assert!(first.contains("keys not checked"), "{first}");
}

#[test]
fn a_cdc_with_deletes_table_without_deletes_fails_metadata_only() {
    let report = fails_only(
        Flaw::DeletesNotSupported,
        Some("tickets"),
        Check::Metadata,
        &["`tickets` is cdc_with_deletes but read_table_deletes is not supported"],
    );
    let deletes = report.row(Some("tickets"), Check::Deletes).unwrap();
    assert_eq!(deletes.outcome, Outcome::Skip, "{report}");
    assert!(
        deletes.evidence.contains("see `metadata`"),
        "{}",
        deletes.evidence
    );
    // The records feed is still checked, and the evidence says the deletes were left out.
    let termination = report.row(Some("tickets"), Check::Termination).unwrap();
    assert_eq!(termination.outcome, Outcome::Pass, "{report}");
    assert!(
        termination
            .evidence
            .contains("read_table_deletes not checked"),
        "{}",
        termination.evidence
    );
}

#[test]
fn a_null_primary_key_fails_first_read() {
    fails_only(
        Flaw::NullKey,
        Some("agents"),
        Check::FirstRead,
        &["`agents`", "primary key `agent_id` is null", "Agent 6"],
    );
}

#[test]
fn a_record_with_every_column_null_fails_first_read() {
    fails_only(
        Flaw::AllNullRecord,
        Some("agents"),
        Check::FirstRead,
        &["`agents`: record 7 has every column null"],
    );
}

#[test]
fn an_append_read_more_than_a_page_over_the_bound_fails_batch_bounds() {
    // Pages of 4 records: at max_records_per_batch=5 a read may return up to 5 - 1 + 4.
    fails_only(
        Flaw::PagesNotRecords,
        Some("audit_log"),
        Check::BatchBounds,
        &[
            "`audit_log`",
            "max_records_per_batch=5 returned 20 records (at most 8 allowed)",
        ],
    );
}

#[test]
fn a_far_future_cursor_that_restarts_the_read_fails_far_future_offset() {
    fails_only(
        Flaw::FutureRestarts,
        Some("tickets"),
        Check::FarFutureOffset,
        &["`tickets`: read_table from", "2400-", "returned 10 records"],
    );
}

/// Injects nothing: a [`Wrapped`] with it must be the connector itself.
#[derive(Debug)]
struct Nothing;

impl<C: LakeflowConnect> Intercept<C> for Nothing {}

#[test]
fn a_wrapped_connector_keeps_its_deletes_and_every_capability() {
    let memory = || Memory::new(Store::shared(), Flaw::None, None, &ConnectionOptions::new());
    let options = TableOptions::new();
    for wrapped in [
        Box::new(Wrapped::new(memory().unwrap(), Nothing)) as Box<dyn LakeflowConnect>,
        Box::new(with_opaque_deletes(memory().unwrap())),
    ] {
        assert!(wrapped.partitioned_reads().is_some(), "{wrapped:?}");
        assert!(wrapped.partitioned_streams().is_some(), "{wrapped:?}");
        assert!(wrapped.namespaces().is_none(), "{wrapped:?}");
        // The connector's own deletes feed, not the trait's default `NotSupported`.
        let (tombstones, end) = wrapped
            .read_table_deletes("tickets", None, &options)
            .and_then(ReadOutput::collect)
            .unwrap();
        assert!(!tombstones.is_empty() && end.is_some(), "{wrapped:?}");
    }
    // Through a pointer too: `Arc` forwards what the wrapper forwards.
    let shared: Arc<dyn LakeflowConnect> = Arc::new(Wrapped::new(memory().unwrap(), Nothing));
    let streams = shared.partitioned_streams().expect("forwarded");
    assert!(streams.latest_offset("audit_log", &options).is_ok());
}

/// The suite on `tickets` of connectors whose deletes offsets hold no timestamp.
fn opaque_deletes(flaw: Flaw) -> Report {
    let store = Store::shared();
    Conformance::with_factory(&DESCRIPTOR, move |options| {
        Memory::new(Arc::clone(&store), flaw, None, options).map(with_opaque_deletes)
    })
    .tables(&["tickets"])
    .run()
}

#[test]
fn a_deletes_offset_without_a_timestamp_does_not_hide_a_records_failure() {
    let report = opaque_deletes(Flaw::FutureRestarts);
    assert_eq!(
        failures(&report),
        [(Some("tickets"), Check::FarFutureOffset)],
        "{report}"
    );
    let row = report.row(Some("tickets"), Check::FarFutureOffset).unwrap();
    assert!(
        row.evidence.contains("returned 10 records"),
        "{}",
        row.evidence
    );
    // Without the flaw the records feed passes and the deletes feed cannot be checked: a skip
    // that says both.
    let report = opaque_deletes(Flaw::None);
    report.assert_passed();
    let row = report.row(Some("tickets"), Check::FarFutureOffset).unwrap();
    assert_eq!(row.outcome, Outcome::Skip, "{report}");
    for expected in [
        "no timestamp-like value in the read_table_deletes offset",
        "no records",
    ] {
        assert!(
            row.evidence.contains(expected),
            "{expected:?} not in {}",
            row.evidence
        );
    }
}

#[test]
fn offsets_that_do_not_survive_json_text_fail_resume_and_offset_json() {
    // The flaw relies on serde_json's default float parsing, which is best-effort.
    let text = serde_json::to_string(&LOSSY_FLOAT).unwrap();
    let back: f64 = serde_json::from_str(&text).unwrap();
    assert_ne!(
        back, LOSSY_FLOAT,
        "serde_json now parses floats exactly (feature `float_roundtrip`?): pick another float"
    );
    let report = suite(Flaw::FloatInOffset).run();
    assert_eq!(
        failures(&report),
        [
            (Some("audit_log"), Check::Resume),
            (Some("audit_log"), Check::OffsetJson)
        ],
        "{report}"
    );
    let resume = &report
        .row(Some("audit_log"), Check::Resume)
        .unwrap()
        .evidence;
    assert!(
        resume.contains("resumed from") && resume.contains("another version"),
        "{resume}"
    );
    let json = &report
        .row(Some("audit_log"), Check::OffsetJson)
        .unwrap()
        .evidence;
    assert!(json.contains("came back from JSON as"), "{json}");
}

#[test]
fn snapshot_reads_with_different_keys_fail_snapshot_stable() {
    fails_only(
        Flaw::UnstableSnapshot,
        Some("agents"),
        Check::SnapshotStable,
        &["`agents`: key [6] is in the first full read only"],
    );
}

#[test]
fn a_deleted_record_without_its_key_fails_deletes() {
    fails_only(
        Flaw::TombstoneWithoutKey,
        Some("tickets"),
        Check::Deletes,
        &["`tickets`: deleted record 0 has no `id`"],
    );
}

#[test]
fn partitions_that_miss_a_record_fail_partitions() {
    fails_only(
        Flaw::PartitionsMiss,
        Some("agents"),
        Check::Partitions,
        &["`agents`: the partitions miss", "\"agent_id\":6"],
    );
}

#[test]
fn an_insert_that_never_shows_up_fails_write_back() {
    fails_only(
        Flaw::MissesInserts,
        Some("tickets"),
        Check::WriteBack,
        &["`tickets`: inserted {\"id\":5000}", "does not have it"],
    );
}

#[test]
fn a_secret_in_debug_output_fails_secrets() {
    let report = fails_only(
        Flaw::DebugLeaksSecret,
        None,
        Check::Secrets,
        &[
            "secret option `token`",
            "the Debug output of",
            "token: Some(\"***\")",
        ],
    );
    assert!(!report.to_string().contains(FAKE_SECRET), "{report}");
}

/// The memory connector with its `Debug` leaking the token, built by a descriptor (so the suite
/// only has a `dyn LakeflowConnect`).
static LEAKY: ConnectorDescriptor = ConnectorDescriptor {
    name: "leaky",
    auth: &[],
    constructor: leaky,
    ..DESCRIPTOR
};

fn leaky(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    let connector = Memory::new(Store::shared(), Flaw::DebugLeaksSecret, None, options)?;
    Ok(Box::new(connector))
}

#[test]
fn the_debug_output_of_a_descriptor_built_connector_is_searched() {
    let report = Conformance::new(&LEAKY).tables(&["agents"]).run();
    assert_eq!(failures(&report), [(None, Check::Secrets)], "{report}");
    let row = report.row(None, Check::Secrets).unwrap();
    assert!(
        row.evidence
            .contains("appears in the Debug output of the connector"),
        "{}",
        row.evidence
    );
}

#[test]
fn unset_secrets_are_faked_offline_and_left_unset_live() {
    let tokens = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let suite = |live: bool| {
        let seen = Arc::clone(&tokens);
        let suite = Conformance::with_factory(&DESCRIPTOR, move |options| {
            let token = options.get("token").map(str::to_owned);
            seen.lock().unwrap().push(token);
            Memory::new(Store::shared(), Flaw::None, None, options)
        })
        .tables(&["agents"]);
        if live { suite.live() } else { suite }
    };
    suite(false).run().assert_passed();
    let offline = std::mem::take(&mut *tokens.lock().unwrap());
    assert!(
        !offline.is_empty() && offline.iter().all(|t| t.as_deref() == Some(FAKE_SECRET)),
        "{offline:?}"
    );
    let report = suite(true).run();
    report.assert_passed();
    let live = tokens.lock().unwrap().clone();
    assert!(
        !live.is_empty() && live.iter().all(Option::is_none),
        "{live:?}"
    );
    // With no secret to look for, the secrets check says so instead of passing.
    assert_eq!(report.outcome(None, Check::Secrets), Some(Outcome::Skip));
}
