//! Errors of the ingestion engine.

/// Result alias of the engine.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// What stops a flow or a run. Each variant names the table concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The spec or the connections file is invalid.
    #[error(transparent)]
    Spec(#[from] lakeflow_spec::Error),
    /// A flow cannot run as configured (missing keys, unknown columns, ...), found before running.
    #[error("{origin}:{line}: table `{table}`: {reason}")]
    Plan {
        /// The spec file.
        origin: String,
        /// The line of the object in the spec.
        line: usize,
        /// The destination table.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// The connector failed.
    #[error("table `{table}`: {cause}")]
    Connector {
        /// The destination table.
        table: String,
        /// The connector's error.
        cause: lakeflow_connect::Error,
    },
    /// Delta Lake failed.
    #[error("table `{table}`: Delta Lake: {cause}")]
    Delta {
        /// The destination table.
        table: String,
        /// The delta-rs error.
        cause: deltalake::DeltaTableError,
    },
    /// Reading or writing the table's files failed (a full or read-only disk, a store that
    /// refuses); nothing of the commit landed.
    #[error("table `{table}`: storage: {cause}")]
    Storage {
        /// The destination table.
        table: String,
        /// The object store's error.
        cause: deltalake::ObjectStoreError,
    },
    /// The table's schema changed in a way the destination cannot follow.
    #[error("table `{table}`: incompatible schema change at column `{column}`: {reason}")]
    SchemaChange {
        /// The destination table.
        table: String,
        /// The column.
        column: String,
        /// What changed.
        reason: String,
    },
    /// The connector did not converge (end offset never equal to start offset).
    #[error(
        "table `{table}`: not caught up after {reads} reads; the connector may never converge (raise --max-reads)"
    )]
    NotConverging {
        /// The destination table.
        table: String,
        /// Reads made.
        reads: usize,
    },
    /// Pipeline state (offsets) is missing or inconsistent.
    #[error("table `{table}`: pipeline state: {reason}")]
    State {
        /// The destination table.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// A SQL query was refused (not read-only) or failed.
    #[error("query: {reason}")]
    Query {
        /// What is wrong.
        reason: String,
    },
    /// The warehouse location is invalid.
    #[error("warehouse `{location}`: {reason}")]
    Warehouse {
        /// The location given.
        location: String,
        /// What is wrong.
        reason: String,
    },
}

/// Adds the table name to errors of lower layers.
pub(crate) trait TableContext<T> {
    fn table(self, table: &str) -> Result<T>;
}

impl<T> TableContext<T> for Result<T, deltalake::DeltaTableError> {
    fn table(self, table: &str) -> Result<T> {
        self.map_err(|source| {
            if is_commit_conflict(&source) {
                return PipelineError::State {
                    table: table.to_owned(),
                    reason: format!(
                        "another run is writing this table: its commit landed first and \
                         nothing of this one did ({source})"
                    ),
                };
            }
            match source {
                // delta-rs calls every storage failure of a commit a failed read of the log.
                deltalake::DeltaTableError::ObjectStore { source } => PipelineError::Storage {
                    table: table.to_owned(),
                    cause: source,
                },
                cause => PipelineError::Delta {
                    table: table.to_owned(),
                    cause,
                },
            }
        })
    }
}

/// Whether a commit lost to a concurrent one (the same flow's `txn`, a full refresh's new
/// metadata, files both removed): the other run's commit stands, this one left no trace.
fn is_commit_conflict(error: &deltalake::DeltaTableError) -> bool {
    use deltalake::kernel::transaction::TransactionError;
    matches!(
        error,
        deltalake::DeltaTableError::VersionAlreadyExists(_)
            | deltalake::DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::VersionAlreadyExists(_)
                    | TransactionError::MaxCommitAttempts(_)
            }
    )
}

impl<T> TableContext<T> for Result<T, lakeflow_connect::Error> {
    fn table(self, table: &str) -> Result<T> {
        self.map_err(|cause| PipelineError::Connector {
            table: table.to_owned(),
            cause,
        })
    }
}

/// Errors of the libraries under delta-rs, which it wraps in its own.
macro_rules! delta_context {
    ($($error:ty),*) => {$(
        impl<T> TableContext<T> for Result<T, $error> {
            fn table(self, table: &str) -> Result<T> {
                self.map_err(|e| PipelineError::Delta {
                    table: table.to_owned(),
                    cause: e.into(),
                })
            }
        }
    )*};
}

delta_context!(
    deltalake::datafusion::error::DataFusionError,
    deltalake::arrow::error::ArrowError,
    deltalake::parquet::errors::ParquetError
);
