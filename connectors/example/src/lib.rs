//! The `example` connector: a simulated, in-process REST API and the connector that reads it.
//!
//! It needs no network and no credentials, and exercises every part of the Lakeflow contract:
//!
//! | table | ingestion | keys | cursor | batching |
//! |---|---|---|---|---|
//! | `products` | snapshot | `product_id` | | paged, `category` filter |
//! | `events` | append | | `created_at` | limit-before-fetch (`limit`) |
//! | `users` | cdc | `user_id` | `updated_at` | limit-on-the-fly |
//! | `orders` | cdc_with_deletes | `order_id` | `updated_at` | limit-on-the-fly, deletes feed |
//! | `metrics` (hidden) | cdc | `metric_id` | `observed_at` | sliding window (`window_seconds`) |
//!
//! The data is generated from a seed, the API pages its responses, rejects unknown parameters
//! with a 400, fails a configurable share of calls with retriable 429/500/503 errors, and takes
//! writes ([`ExampleSource::insert`], [`ExampleSource::upsert`], [`ExampleSource::delete`]) so
//! tests can check that a later read sees them.
//!
//! ```
//! use lakeflow_connect::{ConnectionOptions, LakeflowConnect, TableOptions};
//!
//! let options: ConnectionOptions = [("seed", "7")].into_iter().collect();
//! let connector = lakeflow_example::DESCRIPTOR.connect(&options)?;
//! assert_eq!(connector.list_tables()?, ["products", "events", "users", "orders"]);
//!
//! // Read `events` in batches of about 30 until the offset stops moving.
//! let table_options = TableOptions::from([("max_records_per_batch".into(), "30".into())]);
//! let (mut offset, mut total) = (None, 0);
//! loop {
//!     let read = connector.read_table("events", offset.as_ref(), &table_options)?;
//!     let (records, end) = read.collect()?;
//!     total += records.len();
//!     if end == offset {
//!         break;
//!     }
//!     offset = end;
//! }
//! assert_eq!(total, 100);
//! assert_eq!(offset.unwrap()["cursor"], "2025-01-01T00:01:40Z");
//! # Ok::<(), lakeflow_connect::Error>(())
//! ```

mod client;
mod connector;
mod options;
mod read;
mod source;
mod tables;
mod time;

use lakeflow_connect::{
    AuthKind, AuthMethod, ConnectionOptions, ConnectorDescriptor, LakeflowConnect, Result,
};

pub use connector::ExampleConnector;
pub use options::{CONNECTION_OPTIONS, ClientConfig, TABLE_OPTIONS};
pub use source::{
    ApiError, DEFAULT_ERROR_RATE, DEFAULT_SEED, ExampleSource, MAX_PAGE_SIZE, Page, Request,
    SourceConfig,
};

/// How the connector authenticates: an optional API key that the simulated store checks when
/// one is set.
pub const AUTH_METHODS: &[AuthMethod] = &[AuthMethod::new(
    AuthKind::ApiKey,
    &["api_key"],
    "Optional dummy API key sent with every call (the simulated store checks it when set).",
)];

/// What the registry lists about the `example` connector.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "example",
    description: "Simulated in-process store API (products, events, users, orders, hidden metrics) \
                  for trying and testing Lakeflow without a network.",
    connection_options: CONNECTION_OPTIONS,
    table_options: TABLE_OPTIONS,
    auth: AUTH_METHODS,
    constructor: construct,
    simulator: None,
};

fn construct(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    Ok(Box::new(ExampleConnector::new(options)?))
}
