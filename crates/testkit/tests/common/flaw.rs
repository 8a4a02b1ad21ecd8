//! The `memory` connector's switchable flaws: one defect each, so the suite's tests can show
//! that exactly the check meant to catch it fails, for the table it is in, with evidence.

/// One defect each; the suite's tests check that exactly the matching check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    None,
    /// Check 1: `list_tables` lists `tickets` twice.
    DuplicateTable,
    /// Check 3: `tickets`: the `requester` struct has two `name` fields.
    DuplicateField,
    /// Check 4: `agents`: every second `read_table_metadata` call adds `name` to the keys.
    UnstableMetadata,
    /// Check 4: `agents`: the primary key is `id`, which the schema does not have.
    KeyNotInSchema,
    /// Check 4: `tickets` is `cdc_with_deletes`, but `read_table_deletes` says not supported.
    DeletesNotSupported,
    /// Check 5: `agents`: `agent_id` is declared nullable and agent 6 comes without one.
    NullKey,
    /// Check 5: `agents`: an extra record with every column null.
    AllNullRecord,
    /// Check 5: `audit_log`: record `seq = 2` carries a `seq` that is not an integer.
    BadRecord,
    /// Check 6: `tickets`: `subject` is never filled.
    NullColumn,
    /// Check 7: `audit_log`: a caught-up read returns a new offset every time.
    NeverTerminates,
    /// Check 8: `tickets`: ignores `max_records_per_batch`.
    OversizedBatch,
    /// Check 8: `audit_log`: reads `max_records_per_batch` server pages instead of records, so
    /// a read at the small batch size exceeds it by far more than one page.
    PagesNotRecords,
    /// Check 9: `tickets`: a read from another offset than the one it returned last skips a
    /// record.
    ResumeGap,
    /// Check 9: a read from another offset than the one it returned last also returns the row
    /// at the start position again.
    ResumeReplays,
    /// Checks 9 and 12: `audit_log` offsets carry a float that JSON text changes, and a start
    /// offset whose float differs is refused, so a resume from stored text fails.
    FloatInOffset,
    /// Check 10: `tickets`: a cursor after the connector's construction time restarts the read
    /// from the beginning instead of returning nothing.
    FutureRestarts,
    /// Check 11: `agents`: every second full read leaves out the last agent.
    UnstableSnapshot,
    /// Check 13: `tickets`: the tombstone of ticket 900 comes without its `id`.
    TombstoneWithoutKey,
    /// Check 14: `agents`: the partitioned read leaves out agent 6.
    PartitionsMiss,
    /// Check 15: `tickets`: reads a stale copy of the source that never gets new tickets.
    MissesInserts,
    /// Check 16: `Debug` prints the token.
    DebugLeaksSecret,
    /// Check 16: an offset it cannot parse is reported with the request, token included.
    LeaksSecret,
    /// Check 2: unknown tables are reported as protocol errors.
    WrongUnknownTableError,
    /// Check 3 (a panic): `agents`: `get_table_schema` panics.
    PanicsInSchema,
    /// Check 14: `agents`: each `get_partitions` call lists the partitions in another order.
    UnstablePartitions,
    /// Check 17: retriable errors are not retried.
    NoRetry,
}
