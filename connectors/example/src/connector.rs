//! [`ExampleConnector`]: the `LakeflowConnect` implementation over the simulated API.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    ConnectionOptions, Error, LakeflowConnect, Offset, ReadOutput, Result, TableMetadata,
    TableOptions, check_options,
};
use serde_json::Value;

use crate::client::ApiClient;
use crate::options::{CONNECTION_OPTIONS, ClientConfig, TableSettings};
use crate::read::{Limit, ReadSpec, SnapshotPages, read_after_cursor, read_window};
use crate::source::{ExampleSource, Request, SourceConfig};
use crate::tables::Table;
use crate::time::now_micros;

/// The `example` connector.
///
/// Its construction time caps every incremental read: a read whose cursor is at or past it
/// returns nothing and the same offset, so reading from returned offsets always terminates.
/// Rows changed later are read by a connector built later.
#[derive(Debug)]
pub struct ExampleConnector {
    client: ApiClient,
    init: DateTime<Utc>,
}

impl ExampleConnector {
    /// Builds a connector and its own simulated source from connection options.
    ///
    /// # Errors
    /// [`Error::UnknownOption`] or [`Error::InvalidOption`] naming the offending option.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        check_options(options.keys(), CONNECTION_OPTIONS, None)?;
        let source = ExampleSource::new(SourceConfig::from_options(options)?);
        Ok(Self::with_source(
            Arc::new(source),
            ClientConfig::from_options(options)?,
        ))
    }

    /// A connector reading `source`, which the caller may also write through.
    pub fn with_source(source: Arc<ExampleSource>, config: ClientConfig) -> Self {
        Self {
            client: ApiClient { source, config },
            init: now_micros(),
        }
    }

    /// The source this connector reads.
    pub fn source(&self) -> &Arc<ExampleSource> {
        &self.client.source
    }

    /// When the connector was built: incremental reads stop at this instant.
    pub fn init_time(&self) -> DateTime<Utc> {
        self.init
    }

    fn spec<'a>(
        &'a self,
        settings: &'a TableSettings,
        params: &'a [(&'static str, String)],
    ) -> ReadSpec<'a> {
        ReadSpec {
            client: &self.client,
            settings,
            params,
            init: self.init,
        }
    }
}

impl LakeflowConnect for ExampleConnector {
    fn list_tables(&self) -> Result<Vec<String>> {
        let page = self.client.get("table listing", Request::new("tables"))?;
        page.records
            .iter()
            .map(|table| match table.get("name") {
                Some(Value::String(name)) => Ok(name.clone()),
                other => Err(Error::Protocol {
                    message: format!("table listing: a table without a name: {other:?}"),
                }),
            })
            .collect()
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        let table = Table::parse(table)?;
        TableSettings::parse(table, options)?;
        Ok(table.schema())
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        let table = Table::parse(table)?;
        TableSettings::parse(table, options)?;
        Ok(table.metadata())
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let table = Table::parse(table)?;
        let settings = TableSettings::parse(table, options)?;
        let feed = table.feed();
        let spec = self.spec(&settings, &settings.params);
        let (records, end) = match table {
            Table::Products => {
                let params = settings.params.clone();
                let pages = SnapshotPages::new(&self.client, table.name(), feed.endpoint, params);
                return Ok(ReadOutput::streaming(pages, None));
            }
            Table::Events => read_after_cursor(&spec, &feed, start, Limit::BeforeFetch)?,
            Table::Users | Table::Orders => {
                read_after_cursor(&spec, &feed, start, Limit::OnTheFly)?
            }
            Table::Metrics => read_window(&spec, &feed, start)?,
        };
        Ok(ReadOutput::from_records(records, end))
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let parsed = Table::parse(table)?;
        let settings = TableSettings::parse(parsed, options)?;
        let Some(feed) = parsed.deletes_feed() else {
            return Err(Error::not_supported(table, "read_table_deletes"));
        };
        // The deletes endpoint takes no filters: tombstones carry only the key and the time,
        // and deleting a key the destination never had is harmless.
        let spec = self.spec(&settings, &[]);
        let (records, end) = read_after_cursor(&spec, &feed, start, Limit::OnTheFly)?;
        Ok(ReadOutput::from_records(records, end))
    }
}
