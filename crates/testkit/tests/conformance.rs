//! The suite's own tests: a connector that meets the contract passes every check, and each
//! deliberately broken variant fails exactly the check meant to catch its defect, with evidence.

mod common;

use common::{DESCRIPTOR, Flaw, suite};
use lakeflow_testkit::{
    Check, Conformance, FAKE_SECRET, Limits, Outcome, Report, connection_from_env, live_connection,
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
    let mut options = lakeflow_connect::TableOptions::new();
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
    let mut connection = lakeflow_connect::ConnectionOptions::new();
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
    // Without a factory the connector's Debug output cannot be scanned; the evidence says so.
    assert!(
        report
            .row(None, Check::Secrets)
            .unwrap()
            .evidence
            .contains("not available")
    );
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
}
