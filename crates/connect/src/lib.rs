//! The Lakeflow connector interface.
//!
//! A source connector implements [`LakeflowConnect`]: the five methods of the original Python
//! interface (`list_tables`, `get_table_schema`, `read_table_metadata`, `read_table`,
//! `read_table_deletes`). Schemas are Arrow schemas; records are untyped JSON objects that the
//! records crate converts; offsets are opaque JSON objects the connector owns. A
//! [`ConnectorDescriptor`] tells registries, the CLI and docs what a connector is called and which
//! options it reads.
//!
//! ```
//! use lakeflow_connect::{IngestionType, TableMetadata};
//! use arrow_schema::{DataType, Field, Schema};
//!
//! let schema = Schema::new(vec![
//!     Field::new("id", DataType::Int64, false),
//!     Field::new("updated_at", DataType::Utf8, true),
//! ]);
//! let meta = TableMetadata::new(IngestionType::Cdc, &["id"], Some("updated_at"));
//! meta.validate("users", &schema).unwrap();
//! assert_eq!(serde_json::to_string(&meta.ingestion_type).unwrap(), "\"cdc\"");
//! ```

mod auth;
mod connector;
mod descriptor;
mod error;
mod forward;
mod metadata;
mod options;
mod redact;

pub use auth::{AuthKind, AuthMethod};
pub use connector::{
    LakeflowConnect, Namespaces, Offset, Partition, PartitionedRead, PartitionedStream, ReadOutput,
    Record, RecordStream, json_kind,
};
pub use descriptor::{
    ConnectorDescriptor, Constructor, EmbeddedSimulatorSpec, RoutedOption, find_connector,
};
pub use error::{Error, Result};
pub use metadata::{IngestionType, TableMetadata, field_at_path};
pub use options::{
    ANY_OPTION, ConnectionOptions, MAX_RECORDS_PER_BATCH, OptionSpec, Secret, TableOptions,
    check_options, parse_option, positive_option,
};
pub use redact::{MIN_REDACTED_CHARS, Redactor};

/// Re-exported so connectors and consumers use the same Arrow schema types.
pub use arrow_schema;
