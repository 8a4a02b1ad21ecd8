//! [`StripeConnector`]: the `LakeflowConnect` implementation.

use chrono::{DateTime, TimeDelta, Utc};
use lakeflow_connect::{
    ConnectionOptions, LakeflowConnect, Offset, ReadOutput, Result, TableOptions,
};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::options::Limits;
use lakeflow_kit::options::connection_settings;

use crate::client::StripeClient;
use crate::config::{CONNECTION_OPTIONS, ClientSettings};
use crate::read::{self, Ctx};
use crate::tables::{Def, Read, TABLES};

/// Stripe lists at most 100 objects a page; backfill windows are a week wide.
const LIMITS: Limits = Limits {
    max_per_page: 100,
    window: TimeDelta::days(7),
};

/// The `stripe` connector.
///
/// Its construction time bounds every read (see [`lakeflow_kit::time::horizon`]) and decides
/// which events Stripe still keeps (30 days).
///
/// `Debug` shows the client, never the key.
#[derive(Debug)]
pub struct StripeConnector {
    client: StripeClient,
    init: DateTime<Utc>,
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
        let settings =
            connection_settings(options, CONNECTION_OPTIONS, ClientSettings::from_options)?;
        Ok(Self {
            client: StripeClient::new(&settings)?,
            init: now,
        })
    }

    /// A request to the API with the connector's key and headers, for writes in tests and tools
    /// (`method` is `POST` or `DELETE`; `path` is relative to the API root).
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
        let ctx = Ctx::new(def.name, &self.client, options, LIMITS, self.init)?;
        read::read(&ctx, read, start)
    }
}

/// Everything from the registry; reads (and the deletions of the tables whose objects Stripe
/// deletes) through its `read_with`.
impl LakeflowConnect for StripeConnector {
    lakeflow_kit::registry_methods!(TABLES, reads: Self::read_with);
}
