//! Semantic errors shared by every connector and consumer.

use std::time::Duration;

/// Result alias used throughout the interface.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
///
/// Every variant names the table, option or field concerned. No variant ever carries a secret:
/// connectors hold secrets in [`crate::Secret`], whose `Display` is redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No connector of that name is registered.
    #[error("unknown source `{name}`; available sources: {}", available.join(", "))]
    UnknownSource {
        /// The name asked for.
        name: String,
        /// The registered names.
        available: Vec<String>,
    },
    /// The table is not served by this connector.
    #[error("unknown table `{table}`; available tables: {}", available.join(", "))]
    UnknownTable {
        /// The table asked for.
        table: String,
        /// The tables the connector serves (may be empty when unknown).
        available: Vec<String>,
    },
    /// A required connection or table option was not given.
    #[error("missing required option `{option}`{}", for_table(table.as_deref()))]
    MissingOption {
        /// The option name.
        option: String,
        /// The table it is required for, when it is a table option.
        table: Option<String>,
    },
    /// An option was given that the connector does not understand.
    #[error("unknown option `{option}`{}; known options: {}", for_table(table.as_deref()), known.join(", "))]
    UnknownOption {
        /// The option name.
        option: String,
        /// The table it was given for, when it is a table option.
        table: Option<String>,
        /// The options the connector does understand.
        known: Vec<String>,
    },
    /// An option has a value the connector cannot use.
    #[error("invalid value {value:?} for option `{option}`: {reason}")]
    InvalidOption {
        /// The option name.
        option: String,
        /// The offending value (never a secret: secrets are not echoed).
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An offset handed back to the connector is not one it produced.
    #[error("invalid offset for table `{table}`: {reason}")]
    InvalidOffset {
        /// The table being read.
        table: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Table metadata is inconsistent with itself or with the table schema.
    #[error("invalid metadata for table `{table}`: {reason}")]
    InvalidMetadata {
        /// The table concerned.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// Records or schema do not match what was declared.
    #[error("schema mismatch in table `{table}` at `{field}`: {reason}")]
    SchemaMismatch {
        /// The table concerned.
        table: String,
        /// The column path.
        field: String,
        /// What does not match.
        reason: String,
    },
    /// The source rejected the credentials.
    #[error("authentication failed: {message}")]
    Auth {
        /// What the source said (never the credential itself).
        message: String,
    },
    /// The source asked us to slow down and retries were exhausted.
    #[error("rate limited by the source{}: {message}", retry_hint(*retry_after))]
    RateLimited {
        /// How long the source asked us to wait, if it said.
        retry_after: Option<Duration>,
        /// Context.
        message: String,
    },
    /// The source could not be reached or answered with a server error.
    #[error("transport error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Transport {
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// Context.
        message: String,
        /// Whether retrying the same request might succeed.
        retriable: bool,
    },
    /// The source answered with something we cannot interpret.
    #[error("unexpected response from the source: {message}")]
    Protocol {
        /// What was unexpected.
        message: String,
    },
    /// The connector's own code failed: an exception raised by a Python connector, a connector
    /// process that crashed or stopped answering. The message names the connector, the method
    /// and the table.
    #[error("{message}")]
    Connector {
        /// What failed, where.
        message: String,
    },
    /// The connector does not implement this operation for this table.
    #[error("`{operation}` is not supported for table `{table}`")]
    NotSupported {
        /// The table concerned.
        table: String,
        /// The operation, e.g. `read_table_deletes`.
        operation: String,
    },
}

fn for_table(table: Option<&str>) -> String {
    table
        .map(|t| format!(" for table `{t}`"))
        .unwrap_or_default()
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(" (retry after {}s)", d.as_secs()))
        .unwrap_or_default()
}

impl Error {
    /// This error with the message of a variant that is one free text (auth, rate limit,
    /// transport, protocol, connector) passed through `f`; other variants as they are.
    #[must_use]
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            Self::Auth { message } => Self::Auth {
                message: f(message),
            },
            Self::RateLimited {
                retry_after,
                message,
            } => Self::RateLimited {
                retry_after,
                message: f(message),
            },
            Self::Transport {
                status,
                message,
                retriable,
            } => Self::Transport {
                status,
                message: f(message),
                retriable,
            },
            Self::Protocol { message } => Self::Protocol {
                message: f(message),
            },
            Self::Connector { message } => Self::Connector {
                message: f(message),
            },
            other => other,
        }
    }

    /// Shorthand for [`Error::UnknownTable`].
    pub fn unknown_table(table: &str, available: &[&str]) -> Self {
        Self::UnknownTable {
            table: table.to_owned(),
            available: available.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Shorthand for [`Error::NotSupported`].
    pub fn not_supported(table: &str, operation: &str) -> Self {
        Self::NotSupported {
            table: table.to_owned(),
            operation: operation.to_owned(),
        }
    }

    /// Shorthand for [`Error::InvalidOption`].
    pub fn invalid_option(option: &str, value: &str, reason: impl Into<String>) -> Self {
        Self::InvalidOption {
            option: option.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidOffset`].
    pub fn invalid_offset(table: &str, reason: impl Into<String>) -> Self {
        Self::InvalidOffset {
            table: table.to_owned(),
            reason: reason.into(),
        }
    }

    /// Whether repeating the failed call may succeed (rate limits, transient transport errors).
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::RateLimited { .. } => true,
            Self::Transport { retriable, .. } => *retriable,
            _ => false,
        }
    }
}
