//! [`{{Name}}Connector`]: the `LakeflowConnect` implementation, dispatching each table to the
//! kit's strategy its definition names.

use chrono::{DateTime, Utc};
use lakeflow_connect::{
    ConnectionOptions, LakeflowConnect, Offset, ReadOutput, Result, TableOptions,
};
use lakeflow_kit::ascending::{Ascending, read_since};
use lakeflow_kit::options::{Limits, connection_settings};
use lakeflow_kit::time::format_ts;
use lakeflow_kit::{ReadCtx, Snapshot};

use crate::CONNECTION_OPTIONS;
use crate::client::{{Name}}Client;
use crate::tables::{Read, TABLES};

/// The API serves at most 100 records a page.
const LIMITS: Limits = Limits::per_page(100);

/// The `{{name}}` connector.
///
/// Its construction time bounds every incremental read (see [`lakeflow_kit::time::horizon`]):
/// records changed in or after the second it was built are left to a connector built later.
///
/// `Debug` shows the client, never the token.
#[derive(Debug)]
pub struct {{Name}}Connector {
    client: {{Name}}Client,
    init: DateTime<Utc>,
}

impl {{Name}}Connector {
    /// Builds a connector from connection options (`base_url`, `api_token`).
    ///
    /// # Errors
    /// A missing, unknown or invalid option, named.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        Ok(Self {
            client: connection_settings(options, CONNECTION_OPTIONS, {{Name}}Client::new)?,
            init: Utc::now(),
        })
    }
}

impl LakeflowConnect for {{Name}}Connector {
    lakeflow_kit::registry_methods!(TABLES);

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let (def, read) = TABLES.read(table, options)?;
        let ctx = ReadCtx::new(def.name, &self.client, options, LIMITS, self.init)?;
        let settings = ctx.settings;
        match read {
            Read::Ascending { path } => {
                let asc = Ascending {
                    ctx: &ctx,
                    cursor: def.cursor.unwrap_or("updated_at"),
                    key: def.primary_keys.first().copied().unwrap_or("id"),
                    keep: |_| true,
                    filters_since: true,
                    decorate: &|_| {},
                };
                let request = |since: Option<DateTime<Utc>>| {
                    let request = self
                        .client
                        .get(path)
                        .query("sort", "updated_at")
                        .query("direction", "asc")
                        .query("per_page", settings.per_page);
                    match since {
                        Some(since) => request.query("since", format_ts(since)),
                        None => request,
                    }
                };
                let (records, end) = read_since(&asc, start, &request)?;
                Ok(ReadOutput::from_records(records, end))
            }
            Read::Snapshot { path } => {
                let request = self.client.get(path).query("per_page", settings.per_page);
                Ok(Snapshot::read(&ctx, request, "", |_| {}))
            }
        }
    }
}
