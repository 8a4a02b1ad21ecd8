//! [`ZendeskConnector`]: the `LakeflowConnect` implementation, dispatching each table to the
//! read its definition names.

use chrono::Utc;
use lakeflow_connect::{ConnectionOptions, LakeflowConnect, Result};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::{ApiClient, Connection};

use crate::client::ZendeskClient;
use crate::config::{CONNECTION_OPTIONS, ClientSettings};
use crate::tables::TABLES;

/// The `zendesk` connector.
///
/// Its construction time bounds every incremental read (see [`lakeflow_kit::time::horizon`]):
/// records changed in or after the second it was built are left to a connector built later.
///
/// `Debug` shows the account's URL, never a token.
#[derive(Debug)]
pub struct ZendeskConnector {
    connection: Connection<ZendeskClient>,
}

impl ZendeskConnector {
    /// Builds a connector from connection options (`subdomain` or `base_url`; `email` and
    /// `api_token`, or `oauth_token`; budgets).
    ///
    /// # Errors
    /// A missing, unknown or invalid option, named.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        let connection = Connection::open(
            options,
            CONNECTION_OPTIONS,
            ClientSettings::from_options,
            ZendeskClient::new,
            Utc::now(),
        )?;
        Ok(Self { connection })
    }

    /// A request to the API with the connector's credentials, for writes in tests and tools
    /// (`method` is `POST`, `PUT`, `DELETE`, ...; `path` is relative to the account's root).
    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        self.connection.client.request(method, path)
    }
}

/// Everything from the registry; reads (and the deletions of `tickets` and `users`) through
/// its connection.
impl LakeflowConnect for ZendeskConnector {
    lakeflow_kit::registry_methods!(TABLES, reads through connection);
}
