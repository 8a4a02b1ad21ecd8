//! [`StripeConnector`]: the `LakeflowConnect` implementation.

use chrono::{DateTime, Utc};
use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Result};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::{ApiClient, Connection};

use crate::client::StripeClient;
use crate::config::{CONNECTION_OPTIONS, ClientSettings};
use crate::tables::TABLES;

/// The `stripe` connector.
///
/// Its construction time bounds every read (see [`lakeflow_kit::time::horizon`]) and decides
/// which events Stripe still keeps (30 days).
///
/// `Debug` shows the client, never the key.
#[derive(Debug)]
pub struct StripeConnector {
    connection: Connection<StripeClient>,
}

impl StripeConnector {
    /// Builds a connector from connection options (`api_key`, optional `stripe_account`,
    /// `api_version`, `base_url`, `requests_per_second`).
    ///
    /// # Errors
    /// A missing, unknown or invalid option, named.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        Self::new_at(options, Utc::now())
    }

    /// As [`StripeConnector::new`], for a connector whose clock reads `now` (tests of what
    /// depends on the date, such as the events Stripe still keeps).
    ///
    /// # Errors
    /// As [`StripeConnector::new`].
    pub fn new_at(options: &ConnectionOptions, now: DateTime<Utc>) -> Result<Self> {
        let connection = Connection::open(
            options,
            CONNECTION_OPTIONS,
            ClientSettings::from_options,
            StripeClient::new,
            now,
        )?;
        Ok(Self { connection })
    }

    /// A request to the API with the connector's key and headers, for writes in tests and tools
    /// (`method` is `POST` or `DELETE`; `path` is relative to the API root).
    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        self.connection.client.request(method, path)
    }
}

/// Everything from the registry; reads (and the deletions of the tables whose objects Stripe
/// deletes) through its connection.
impl LakeflowConnect for StripeConnector {
    lakeflow_kit::registry_methods!(TABLES, reads through connection);
}
