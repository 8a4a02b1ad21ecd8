//! What connectors' conformance tests assert the same way about a [`Report`]: that the checks
//! they expect of a table came out as they should, beyond [`Report::assert_passed`] (which a
//! run whose checks were all skipped also passes).

use crate::report::{Check, Outcome, Report};

/// The checks every table of a connector passes, snapshot or incremental.
pub const TABLE_CHECKS: [Check; 6] = [
    Check::Schema,
    Check::Metadata,
    Check::FirstRead,
    Check::ColumnCoverage,
    Check::Termination,
    Check::Faults,
];

/// The checks of reading in batches: an incremental table passes them, a snapshot skips them.
pub const BATCH_CHECKS: [Check; 3] = [Check::BatchBounds, Check::Resume, Check::FarFutureOffset];

impl Report {
    /// Asserts that each of `checks` came out `want` for `table` (`None`: the connector-wide
    /// rows), naming the table and the check when one did not.
    #[track_caller]
    pub fn assert_outcomes(&self, table: Option<&str>, checks: &[Check], want: Outcome) {
        let name = table.unwrap_or("(connector)");
        for &check in checks {
            assert_eq!(self.outcome(table, check), Some(want), "{name} {check}");
        }
    }

    /// Asserts that `table` passed [`TABLE_CHECKS`], and [`BATCH_CHECKS`] if it is
    /// `incremental` (else that it skipped them).
    #[track_caller]
    pub fn assert_table_checked(&self, table: &str, incremental: bool) {
        self.assert_outcomes(Some(table), &TABLE_CHECKS, Outcome::Pass);
        let batched = if incremental {
            Outcome::Pass
        } else {
            Outcome::Skip
        };
        self.assert_outcomes(Some(table), &BATCH_CHECKS, batched);
    }
}
