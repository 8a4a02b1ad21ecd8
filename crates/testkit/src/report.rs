//! The outcome of a conformance run: one row per (table, check), printable and serialisable.

use std::fmt;

use serde::Serialize;

/// A named check of the suite. The names (`as_str`) are what reports print and serialise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The connector (and the simulator it runs against) could be built, and the table options
    /// given are declared by the descriptor.
    Setup,
    /// 1. `list_tables` is non-empty, without blank names or duplicates.
    ListTables,
    /// 2. Schema, metadata, read and deletes of an unknown table fail with the unknown-table error.
    UnknownTable,
    /// 3. The schema is non-empty, has no duplicate field names at any depth, is convertible and
    ///    stable.
    Schema,
    /// 4. The metadata is stable and consistent with the schema; `cdc_with_deletes` implements
    ///    deletes.
    Metadata,
    /// 5. The first read converts against the schema, with keys present and no all-null record.
    FirstRead,
    /// 6. Every top-level column is non-null in at least one record (allow-list aside).
    ColumnCoverage,
    /// 7. Feeding end offsets back converges within the bounds, for reads and deletes.
    Termination,
    /// 8. Reads honour `max_records_per_batch` (append reads: up to one server page more).
    BatchBounds,
    /// 9. Resuming from every intermediate offset yields exactly the rest of the full pass.
    Resume,
    /// 10. A cursor after now returns no records and the same offset.
    FarFutureOffset,
    /// 11. Two full reads of a snapshot table have the same keys.
    SnapshotStable,
    /// 12. Offsets and partition descriptors survive JSON text unchanged.
    OffsetJson,
    /// 13. Deleted records carry keys and cursor and convert against the schema.
    Deletes,
    /// 14. Partitioned reads and streams agree with the plain read and converge.
    Partitions,
    /// 17. Under injected retriable faults, a full pass returns the same records.
    Faults,
    /// 15. Records written through the write-back helper show up in the next read.
    WriteBack,
    /// 16. No secret connection value appears in any error, panic or Debug output.
    Secrets,
}

impl Check {
    /// Every check, in the order the suite runs them. Checks that change the source (write-back)
    /// or need every other check's output (secrets) come last.
    pub const ALL: [Self; 18] = [
        Self::Setup,
        Self::ListTables,
        Self::UnknownTable,
        Self::Schema,
        Self::Metadata,
        Self::FirstRead,
        Self::ColumnCoverage,
        Self::Termination,
        Self::BatchBounds,
        Self::Resume,
        Self::FarFutureOffset,
        Self::SnapshotStable,
        Self::OffsetJson,
        Self::Deletes,
        Self::Partitions,
        Self::Faults,
        Self::WriteBack,
        Self::Secrets,
    ];

    /// The check's name as printed and serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::ListTables => "list_tables",
            Self::UnknownTable => "unknown_table",
            Self::Schema => "schema",
            Self::Metadata => "metadata",
            Self::FirstRead => "first_read",
            Self::ColumnCoverage => "column_coverage",
            Self::Termination => "termination",
            Self::BatchBounds => "batch_bounds",
            Self::Resume => "resume",
            Self::FarFutureOffset => "far_future_offset",
            Self::SnapshotStable => "snapshot_stable",
            Self::OffsetJson => "offset_json",
            Self::Deletes => "deletes",
            Self::Partitions => "partitions",
            Self::Faults => "faults",
            Self::WriteBack => "write_back",
            Self::Secrets => "secrets",
        }
    }

    /// Whether the check runs once per table (otherwise once per connector).
    pub const fn per_table(self) -> bool {
        !matches!(
            self,
            Self::Setup | Self::ListTables | Self::UnknownTable | Self::Secrets
        )
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The check ran and the connector met it.
    Pass,
    /// The check ran and the connector did not meet it; the evidence says why.
    Fail,
    /// The check does not apply, or cannot run because something it needs failed elsewhere; the
    /// evidence says which.
    Skip,
}

impl Outcome {
    /// `pass`, `fail` or `skip`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The table checked, or `None` for connector-wide checks.
    pub table: Option<String>,
    /// The check.
    pub check: Check,
    /// How it ended.
    pub outcome: Outcome,
    /// What was verified (pass), what went wrong (fail) or why it did not run (skip).
    pub evidence: String,
}

/// How the connector was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// No network: against the connector's simulator, or in-process for sources without one.
    Offline,
    /// Against the real API, with connection options from the caller.
    Live,
}

/// The result of a conformance run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The connector's name.
    pub source: String,
    /// Offline or live.
    pub mode: Mode,
    /// One row per check and table, in the order the checks ran.
    pub rows: Vec<Row>,
}

impl Report {
    /// Whether no check failed (skips are not failures).
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed rows.
    pub fn failures(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.outcome == Outcome::Fail)
    }

    /// The row of `check` for `table` (`None` for connector-wide checks).
    pub fn row(&self, table: Option<&str>, check: Check) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.check == check && r.table.as_deref() == table)
    }

    /// The outcome of `check` for `table` (`None` for connector-wide checks).
    pub fn outcome(&self, table: Option<&str>, check: Check) -> Option<Outcome> {
        self.row(table, check).map(|r| r.outcome)
    }

    /// How many rows passed, failed and were skipped.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |o: Outcome| self.rows.iter().filter(|r| r.outcome == o).count();
        (
            count(Outcome::Pass),
            count(Outcome::Fail),
            count(Outcome::Skip),
        )
    }

    /// One line: source, mode and the counts.
    pub fn summary(&self) -> String {
        let (pass, fail, skip) = self.counts();
        let mode = match self.mode {
            Mode::Offline => "offline",
            Mode::Live => "live",
        };
        format!(
            "conformance of `{}` ({mode}): {pass} passed, {fail} failed, {skip} skipped",
            self.source
        )
    }

    /// Panics with the summary and a table of the failed rows unless every check passed or was
    /// skipped. Meant for `cargo test`.
    #[track_caller]
    pub fn assert_passed(&self) {
        let failures: Vec<&Row> = self.failures().collect();
        assert!(
            failures.is_empty(),
            "{}\n{}",
            self.summary(),
            render(&failures)
        );
    }
}

impl fmt::Display for Report {
    /// The summary line, then every row as an aligned table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<&Row> = self.rows.iter().collect();
        write!(f, "{}\n{}", self.summary(), render(&rows))
    }
}

/// Renders rows as a table: table, check and outcome columns padded, the evidence last; a
/// multi-line evidence is indented under its row.
fn render(rows: &[&Row]) -> String {
    const HEADERS: [&str; 4] = ["TABLE", "CHECK", "OUTCOME", "EVIDENCE"];
    let table_of = |r: &Row| r.table.clone().unwrap_or_else(|| "-".to_owned());
    let table_width = rows
        .iter()
        .map(|r| table_of(r).chars().count())
        .chain([HEADERS[0].len()])
        .max()
        .unwrap_or_default();
    let check_width = rows
        .iter()
        .map(|r| r.check.as_str().len())
        .chain([HEADERS[1].len()])
        .max()
        .unwrap_or_default();
    let outcome_width = HEADERS[2].len();
    let indent = " ".repeat(table_width + check_width + outcome_width + 6);
    let mut out = format!(
        "{:table_width$}  {:check_width$}  {:outcome_width$}  {}\n",
        HEADERS[0], HEADERS[1], HEADERS[2], HEADERS[3]
    );
    for row in rows {
        let mut lines = row.evidence.lines();
        out.push_str(&format!(
            "{:table_width$}  {:check_width$}  {:outcome_width$}  {}\n",
            table_of(row),
            row.check.as_str(),
            row.outcome.as_str(),
            lines.next().unwrap_or_default()
        ));
        for line in lines {
            out.push_str(&indent);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: Option<&str>, check: Check, outcome: Outcome, evidence: &str) -> Row {
        Row {
            table: table.map(str::to_owned),
            check,
            outcome,
            evidence: evidence.to_owned(),
        }
    }

    #[test]
    fn renders_aligned_rows_and_serialises_names() {
        let report = Report {
            source: "demo".into(),
            mode: Mode::Offline,
            rows: vec![
                row(None, Check::ListTables, Outcome::Pass, "2 tables"),
                row(Some("users"), Check::Resume, Outcome::Fail, "gap\nat 3"),
            ],
        };
        let text = report.to_string();
        assert!(text.starts_with("conformance of `demo` (offline): 1 passed, 1 failed"));
        assert!(
            text.contains("-      list_tables  pass     2 tables\n"),
            "{text}"
        );
        assert!(
            text.contains("users  resume       fail     gap\n"),
            "{text}"
        );
        assert!(
            text.ends_with(&format!("\n{}at 3\n", " ".repeat(29))),
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][1]["check"], "resume");
        assert_eq!(json["rows"][1]["outcome"], "fail");
        assert_eq!(json["rows"][0]["table"], serde_json::Value::Null);
        assert_eq!(json["mode"], "offline");
        assert!(!report.passed());
        assert_eq!(
            report.outcome(Some("users"), Check::Resume),
            Some(Outcome::Fail)
        );
        for check in Check::ALL {
            assert_eq!(serde_json::to_value(check).unwrap(), check.as_str());
        }
    }

    #[test]
    #[should_panic(expected = "users  resume  fail     gap")]
    fn assert_passed_lists_the_failures() {
        Report {
            source: "demo".into(),
            mode: Mode::Live,
            rows: vec![row(Some("users"), Check::Resume, Outcome::Fail, "gap")],
        }
        .assert_passed();
    }
}
