//! [`HubSpotConnector`]: the `LakeflowConnect` implementation, and which table is which.

use chrono::{DateTime, Utc};
use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    ConnectionOptions, Error, IngestionType, LakeflowConnect, Offset, OptionSpec, ReadOutput,
    Result, TableMetadata, TableOptions, check_options,
};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::options::{LOOKBACK, MAX_RECORDS, PER_PAGE, START_DATE};
use lakeflow_kit::{ApiClient, Connection};

use crate::client::HubSpotClient;
use crate::config::{CONNECTION_OPTIONS, ClientSettings};
use crate::objects::{Catalogue, CrmObject, STANDARD, select, select_associates};
use crate::read::Reader;
use crate::schema;

/// `properties`: which properties a CRM object's table reads.
pub const PROPERTIES: OptionSpec = OptionSpec::optional(
    "properties",
    "CRM objects only: the properties to read, separated by commas (default: every property \
     the properties API defines). The schema's `properties` struct then has only those.",
);

/// `include_properties`: the original's name for `properties`.
pub const INCLUDE_PROPERTIES: OptionSpec = OptionSpec::optional(
    "include_properties",
    "The original's name for `properties` (give one of the two).",
);

/// `exclude_properties`: properties not to read.
pub const EXCLUDE_PROPERTIES: OptionSpec = OptionSpec::optional(
    "exclude_properties",
    "CRM objects only: properties not to read, separated by commas (as in the original).",
);

/// `associations`: which associated objects' ids a CRM object's rows carry.
pub const ASSOCIATIONS: OptionSpec = OptionSpec::optional(
    "associations",
    "CRM objects only: the associated objects whose ids to read, separated by commas, among \
     contacts, companies, deals and tickets (default: those the object associates with); \
     `none` reads none.",
);

/// The table options the connector declares.
pub const TABLE_OPTIONS: &[OptionSpec] = &[
    START_DATE,
    LOOKBACK,
    MAX_RECORDS,
    PER_PAGE,
    PROPERTIES,
    INCLUDE_PROPERTIES,
    EXCLUDE_PROPERTIES,
    ASSOCIATIONS,
];

/// What a CRM object's table takes.
const OBJECT_OPTIONS: &[OptionSpec] = TABLE_OPTIONS;
/// What the owners table takes.
const OWNER_OPTIONS: &[OptionSpec] = &[START_DATE, LOOKBACK, MAX_RECORDS];

/// The tables besides the CRM objects.
const OWNERS: &str = "owners";
const PIPELINES: [(&str, &str); 2] = [("deal_pipelines", "deals"), ("ticket_pipelines", "tickets")];

/// What a table name stands for.
enum Table {
    Object(CrmObject),
    Owners,
    /// The table, and the object whose pipelines it lists.
    Pipelines(&'static str, &'static str),
}

impl Table {
    /// The table options the table takes.
    const fn options(&self) -> &'static [OptionSpec] {
        match self {
            Self::Object(_) => OBJECT_OPTIONS,
            Self::Owners => OWNER_OPTIONS,
            Self::Pipelines(..) => &[],
        }
    }
}

/// The `hubspot` connector.
///
/// Its construction time bounds every read (see [`lakeflow_kit::time::horizon`]). The custom
/// objects and property definitions it asks for are kept for its lifetime (one run).
///
/// `Debug` shows the clients, never a secret.
#[derive(Debug)]
pub struct HubSpotConnector {
    connection: Connection<HubSpotClient>,
    catalogue: Catalogue,
}

impl HubSpotConnector {
    /// Builds a connector from connection options (`access_token`, or `client_id`,
    /// `client_secret` and `refresh_token`; optional `base_url` and budgets).
    ///
    /// # Errors
    /// A missing, unknown or invalid option, named.
    pub fn new(options: &ConnectionOptions) -> Result<Self> {
        Self::new_at(options, Utc::now())
    }

    /// As [`HubSpotConnector::new`], for a connector whose clock reads `now`.
    ///
    /// # Errors
    /// As [`HubSpotConnector::new`].
    pub fn new_at(options: &ConnectionOptions, now: DateTime<Utc>) -> Result<Self> {
        Ok(Self {
            connection: Connection::open(
                options,
                CONNECTION_OPTIONS,
                ClientSettings::from_options,
                HubSpotClient::new,
                now,
            )?,
            catalogue: Catalogue::default(),
        })
    }

    /// A request to the API with the connector's token, for writes in tests and tools (`path`
    /// is relative to the API root).
    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        self.connection.client.request(method, path)
    }

    fn table(&self, name: &str) -> Result<Table> {
        if name == OWNERS {
            return Ok(Table::Owners);
        }
        if let Some((table, object)) = PIPELINES.iter().find(|(table, _)| *table == name) {
            return Ok(Table::Pipelines(table, object));
        }
        match self.catalogue.object(&self.connection.client, name)? {
            Some(object) => Ok(Table::Object(object)),
            None => {
                let names = self.list_tables()?;
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                Err(Error::unknown_table(name, &names))
            }
        }
    }

    /// The properties a read of `object` asks for and its schema holds: `properties` (or the
    /// original's `include_properties`), less the original's `exclude_properties`.
    fn properties(
        &self,
        object: &CrmObject,
        options: &TableOptions,
    ) -> Result<Vec<schema::Property>> {
        let value = |spec: &OptionSpec| lakeflow_kit::options::value(options, spec.name);
        let include = match (value(&PROPERTIES), value(&INCLUDE_PROPERTIES)) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_option(
                    INCLUDE_PROPERTIES.name,
                    value(&INCLUDE_PROPERTIES).unwrap_or_default(),
                    "give `properties` or `include_properties` (the same option), not both",
                ));
            }
            (given, other) => given.or(other),
        };
        let all = self.catalogue.properties(&self.connection.client, object)?;
        select(&object.table, &all, include, value(&EXCLUDE_PROPERTIES))
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            client: &self.connection.client,
            init: self.connection.init,
        }
    }
}

impl LakeflowConnect for HubSpotConnector {
    /// The standard objects, the custom objects of the portal (by name), owners and the two
    /// pipeline tables. Without the scope to read custom object schemas, the rest.
    fn list_tables(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = STANDARD.iter().map(|&name| name.to_owned()).collect();
        match self.catalogue.custom(&self.connection.client) {
            Ok(custom) => names.extend(custom.iter().map(|object| object.table.clone())),
            Err(Error::Auth { message }) => {
                tracing::warn!(%message, "custom objects are not listed: the token cannot read their schemas");
            }
            Err(other) => return Err(other),
        }
        names.push(OWNERS.to_owned());
        names.extend(PIPELINES.iter().map(|(table, _)| (*table).to_owned()));
        Ok(names)
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        check_declared(options)?;
        Ok(match self.table(table)? {
            Table::Object(object) => {
                schema::object_schema(&self.properties(&object, options)?, &object.associates)
            }
            Table::Owners => schema::owners(),
            Table::Pipelines(..) => schema::pipelines(),
        })
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        check_declared(options)?;
        Ok(match self.table(table)? {
            Table::Object(_) => {
                TableMetadata::new(IngestionType::CdcWithDeletes, &["id"], Some("updatedAt"))
            }
            Table::Owners => TableMetadata::new(IngestionType::Cdc, &["id"], Some("updatedAt")),
            Table::Pipelines(..) => TableMetadata::new(IngestionType::Snapshot, &["id"], None),
        })
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        let kind = self.table(table)?;
        check(options, kind.options(), table)?;
        match kind {
            Table::Object(object) => {
                let properties = self.properties(&object, options)?;
                let option = lakeflow_kit::options::value(options, ASSOCIATIONS.name);
                let associates = select_associates(&object, option)?;
                let reader = self.reader();
                reader.changes(&object, &properties, &associates, start, options)
            }
            Table::Owners => self.reader().owners(start, options),
            Table::Pipelines(table, object) => self.reader().pipelines(table, object, options),
        }
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        match self.table(table)? {
            Table::Object(object) => {
                check(options, OBJECT_OPTIONS, table)?;
                self.reader().archived(&object, start, options)
            }
            Table::Owners | Table::Pipelines(..) => {
                Err(Error::not_supported(table, "read_table_deletes"))
            }
        }
    }
}

/// Checks that `options` are ones `table` takes.
fn check(options: &TableOptions, specs: &[OptionSpec], table: &str) -> Result<()> {
    check_options(options.keys().map(String::as_str), specs, Some(table))
}

/// Checks that `options` are ones some table takes (schemas and metadata need none).
fn check_declared(options: &TableOptions) -> Result<()> {
    check_options(options.keys().map(String::as_str), TABLE_OPTIONS, None)
}
