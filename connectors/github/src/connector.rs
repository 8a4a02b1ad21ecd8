//! [`GithubConnector`]: the `LakeflowConnect` implementation.

use chrono::{DateTime, Utc};
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    ConnectionOptions, LakeflowConnect, Offset, Partition, PartitionedStream, ReadOutput,
    RecordStream, Result, TableMetadata, TableOptions,
};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::ApiClient;
use lakeflow_kit::options::connection_settings;

use crate::client::GithubClient;
use crate::config::fans_out;
use crate::config::{CONNECTION_OPTIONS, ClientSettings, TableSettings};
use crate::read::ReadCtx;
use crate::tables::{self, Discovered, PartitionRead, Rechecked, TABLES, Table};
use lakeflow_kit::time::horizon;

/// The `github` connector.
///
/// Its construction time bounds every incremental read: records changed after the last whole
/// second before it are left to a connector built later, so reading from returned offsets always
/// ends with the end offset equal to the start.
///
/// `Debug` shows the API root, never the token.
#[derive(Debug)]
pub struct GithubConnector {
    client: GithubClient,
    init: DateTime<Utc>,
    /// Pending workflow runs fetched again, kept so that each costs one request per instance.
    rechecked: Rechecked,
    /// The repositories of `repo: "*"` reads, listed once per instance.
    discovered: Discovered,
}

impl GithubConnector {
    /// Builds a connector from connection options (`token`, optional `base_url`, ...).
    ///
    /// # Errors
    /// [`lakeflow_connect::Error::MissingOption`] without a token,
    /// [`lakeflow_connect::Error::UnknownOption`] or
    /// [`lakeflow_connect::Error::InvalidOption`] naming the offending option.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        let settings =
            connection_settings(options, CONNECTION_OPTIONS, ClientSettings::from_options)?;
        Ok(Self {
            client: GithubClient::new(&settings)?,
            init: Utc::now(),
            rechecked: Rechecked::default(),
            discovered: Discovered::default(),
        })
    }

    /// When the connector was built.
    pub fn init_time(&self) -> DateTime<Utc> {
        self.init
    }

    /// The API client.
    pub(crate) fn client(&self) -> &GithubClient {
        &self.client
    }

    /// A request to the API with the connector's credentials and headers, for writes in tests
    /// and tools (`method` is `POST`, `PATCH`, ...; `path` is relative to the base URL).
    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        self.client.request(method, path)
    }
}

impl GithubConnector {
    /// Runs `with` on the read context of one call of `table` (whose options the registry
    /// checked).
    fn with_ctx<T>(
        &self,
        table: Table,
        options: &TableOptions,
        with: impl FnOnce(&ReadCtx<'_>) -> Result<T>,
    ) -> Result<T> {
        let settings = TableSettings::parse(table, options)?;
        with(&ReadCtx {
            kit: lakeflow_kit::ReadCtx {
                table: table.name(),
                source: &self.client,
                settings: settings.read,
                horizon: horizon(self.init),
            },
            client: &self.client,
            table,
            settings: &settings,
            rechecked: &self.rechecked,
            discovered: &self.discovered,
        })
    }
}

impl LakeflowConnect for GithubConnector {
    // Schemas and metadata need no table options: a schema is the same for every repository.
    // Options given are only checked to be ones the connector knows, so that
    // `lakeflow tables github -o owner=...` works for `repositories` too (which takes no `owner`).
    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(TABLES.names())
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        TABLES.schema(table, options)
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        TABLES.metadata(table, options)?;
        Ok(tables::metadata(Table::parse(table)?, options))
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let (table, _) = TABLES.read(table, options)?;
        self.with_ctx(Table::from(table), options, |ctx| tables::read(ctx, start))
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        // GitHub's REST API has no feed of deleted objects: no definition has deletes, and the
        // registry answers `NotSupported`.
        let (table, read) = TABLES.deletes(table, options)?;
        self.with_ctx(Table::from(table), options, |ctx| {
            tables::read_with(ctx, read, start)
        })
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        Some(self)
    }

    fn namespaces(&self) -> Option<&dyn lakeflow_connect::Namespaces> {
        Some(self)
    }
}

/// `issues`, `issue_comments` and `review_comments` split the changes between two offsets into
/// time ranges (`stream_partitions` of them). With `repo: "*"`, the tables whose offsets can say
/// "everything up to an instant" split them into one partition per repository. Other tables
/// answer `NotSupported`.
impl PartitionedStream for GithubConnector {
    fn latest_offset(&self, table: &str, options: &TableOptions) -> Result<Offset> {
        self.with_ctx(
            stream_table(table, options)?,
            options,
            tables::latest_offset,
        )
    }

    fn partitions_between(
        &self,
        table: &str,
        start: Option<&Offset>,
        end: &Offset,
        options: &TableOptions,
    ) -> Result<Vec<Partition>> {
        self.with_ctx(stream_table(table, options)?, options, |ctx| {
            tables::partitions_between(ctx, start, end)
        })
    }

    fn read_stream_partition(
        &self,
        table: &str,
        partition: &Partition,
        options: &TableOptions,
    ) -> Result<RecordStream<'_>> {
        let table = stream_table(table, options)?;
        if fans_out(options) {
            let read = PartitionRead::parse(table.name(), partition)?;
            return Ok(Box::new(RepositoryBatches {
                github: self,
                table,
                options: options.clone(),
                read,
                current: Vec::new().into_iter(),
                done: false,
            }));
        }
        self.with_ctx(table, options, |ctx| tables::read_partition(ctx, partition))
    }
}

/// The records of one repository's partition of `repo: "*"`, read a batch at a time as they
/// are pulled, so that a long backlog never sits in memory whole.
struct RepositoryBatches<'a> {
    github: &'a GithubConnector,
    table: Table,
    options: TableOptions,
    read: PartitionRead,
    current: std::vec::IntoIter<lakeflow_connect::Record>,
    done: bool,
}

impl Iterator for RepositoryBatches<'_> {
    type Item = Result<lakeflow_connect::Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.current.next() {
                return Some(Ok(record));
            }
            if self.done {
                return None;
            }
            let read = &mut self.read;
            let batch = self
                .github
                .with_ctx(self.table, &self.options, |ctx| read.next_batch(ctx));
            match batch {
                Ok((records, last)) => {
                    self.done = last;
                    self.current = records.into_iter();
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
    }
}

/// `table`, once the registry has checked its options and that it has a partitioned stream:
/// with `repo: \"*\"` one partition per repository (the read says whether the table can), else
/// the table's own.
fn stream_table(table: &str, options: &TableOptions) -> Result<Table> {
    if fans_out(options) {
        return TABLES.read(table, options).map(|(def, _)| Table::from(def));
    }
    TABLES
        .stream(table, options)
        .map(|(def, _)| Table::from(def))
}

#[cfg(test)]
mod tests {
    use lakeflow_testkit::fixtures::table_options as options;

    use super::*;

    #[test]
    fn metadata_and_schemas_need_no_table_options() {
        // Nothing is requested: the base URL is never reached.
        let connection: ConnectionOptions = [("token", "t"), ("base_url", "http://127.0.0.1:9")]
            .into_iter()
            .collect();
        let github = GithubConnector::new(&connection).unwrap();
        let repository = options(&[("owner", "acme"), ("repo", "rover")]);
        for name in github.list_tables().unwrap() {
            // Without options, and with the options of another table (`repositories` takes no
            // `owner`), as `lakeflow tables github -o owner=... -o repo=...` asks.
            for given in [TableOptions::new(), repository.clone()] {
                let metadata = github.read_table_metadata(&name, &given);
                let schema = github.get_table_schema(&name, &given);
                assert!(metadata.is_ok() && schema.is_ok(), "{name}: {given:?}");
            }
        }
        let err = github
            .read_table_metadata("issues", &options(&[("colour", "red")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("unknown option `colour`"), "{err}");
        // Reads still need the repository.
        let err = github
            .read_table("issues", None, &TableOptions::new())
            .err()
            .unwrap()
            .to_string();
        assert_eq!(err, "missing required option `repo` for table `issues`");
    }
}
