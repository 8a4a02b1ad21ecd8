//! The checks, one module per group. Each returns a [`Verdict`] for one table (or for the
//! connector); prerequisites that failed elsewhere turn into skips that name the check reporting
//! them, so one defect fails one check.

mod batching;
mod deletes;
mod faults;
mod listing;
mod partitions;
mod reads;
mod resume;
mod schema;
mod secrets;
mod writeback;

use crate::context::{Run, TableCtx, Verdict, skip};
use crate::report::Check;

/// The table name used to provoke unknown-table errors.
pub(crate) const UNKNOWN_TABLE: &str = "lakeflow_conformance_no_such_table";

pub(crate) fn run(run: &Run, check: Check, table: Option<&TableCtx>) -> Verdict {
    let Some(t) = table else {
        return match check {
            Check::ListTables => listing::list_tables(run),
            Check::UnknownTable => listing::unknown_table(run),
            Check::Secrets => secrets::secrets(run),
            _ => Ok(skip("no table to check")),
        };
    };
    match check {
        Check::Schema => schema::schema(run, t),
        Check::Metadata => schema::metadata(run, t),
        Check::FirstRead => reads::first_read(run, t),
        Check::ColumnCoverage => reads::column_coverage(run, t),
        Check::Termination => batching::termination(run, t),
        Check::BatchBounds => batching::batch_bounds(run, t),
        Check::Resume => resume::resume(run, t),
        Check::FarFutureOffset => reads::far_future_offset(run, t),
        Check::SnapshotStable => reads::snapshot_stable(run, t),
        Check::OffsetJson => resume::offset_json(run, t),
        Check::Deletes => deletes::deletes(run, t),
        Check::Partitions => partitions::partitions(run, t),
        Check::Faults => faults::faults(run, t),
        Check::WriteBack => writeback::write_back(run, t),
        Check::Setup | Check::ListTables | Check::UnknownTable | Check::Secrets => {
            Ok(skip("not a per-table check"))
        }
    }
}
