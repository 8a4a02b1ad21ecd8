//! [`ZendeskConnector`]: the `LakeflowConnect` implementation, dispatching each table to the
//! read its definition names.

use chrono::{DateTime, Utc};
use lakeflow_connect::{
    ConnectionOptions, LakeflowConnect, Offset, ReadOutput, Result, TableOptions,
};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::options::Limits;
use lakeflow_kit::options::connection_settings;

use crate::client::ZendeskClient;
use crate::config::{CONNECTION_OPTIONS, ClientSettings};
use crate::read::{self, Ctx};
use crate::tables::{Def, Read, TABLES};

/// Lists serve at most 100 records a page (`page[size]`).
const LIST_PAGE: u64 = 100;

/// The `zendesk` connector.
///
/// Its construction time bounds every incremental read (see [`lakeflow_kit::time::horizon`]):
/// records changed in or after the second it was built are left to a connector built later.
///
/// `Debug` shows the account's URL, never a token.
#[derive(Debug)]
pub struct ZendeskConnector {
    client: ZendeskClient,
    init: DateTime<Utc>,
}

impl ZendeskConnector {
    /// Builds a connector from connection options (`subdomain` or `base_url`; `email` and
    /// `api_token`, or `oauth_token`; budgets).
    ///
    /// # Errors
    /// A missing, unknown or invalid option, named.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        let settings =
            connection_settings(options, CONNECTION_OPTIONS, ClientSettings::from_options)?;
        Ok(Self {
            client: ZendeskClient::new(&settings)?,
            init: Utc::now(),
        })
    }

    /// A request to the API with the connector's credentials, for writes in tests and tools
    /// (`method` is `POST`, `PUT`, `DELETE`, ...; `path` is relative to the account's root).
    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        self.client.request(method, path)
    }

    fn read_with(
        &self,
        def: &Def,
        read: Read,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let max_per_page = match read {
            Read::CursorExport(export) | Read::TimeExport(export) => export.max_per_page,
            Read::Ratings | Read::List { .. } => LIST_PAGE,
        };
        let limits = Limits::per_page(max_per_page);
        let ctx = Ctx::new(def.name, &self.client, options, limits, self.init)?;
        read::read(&ctx, read, start)
    }
}

/// Everything from the registry; reads (and the deletions of `tickets` and `users`) through
/// its `read_with`.
impl LakeflowConnect for ZendeskConnector {
    lakeflow_kit::registry_methods!(TABLES, reads: Self::read_with);
}
