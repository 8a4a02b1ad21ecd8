//! The tables: one definition each (name, metadata, schema, options, how it is read), from
//! which `list_tables`, metadata, schemas, the declared table options and dispatch derive (see
//! [`lakeflow_kit::tables`]). Adding a table is adding one entry to [`DEFS`] (in `defs.rs`).

mod account;
mod dated;
mod defs;
mod fan_out;
mod issues;
mod pulls;
mod repository;

pub(crate) use dated::Rechecked;
pub(crate) use defs::{DEFS, TABLES};
use defs::{Def, Read, Reader};
pub(crate) use fan_out::{Discovered, PartitionRead};

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{Offset, Partition, ReadOutput, RecordStream, Result, TableMetadata};
use serde_json::Value;

use crate::config::REPO;
use crate::read::{Extra, ReadCtx, partitioned};
pub(crate) use issues::UpdatedListing;

/// A table the connector serves: a handle on its definition.
#[derive(Clone, Copy)]
pub struct Table(&'static Def);

impl Table {
    /// Every table, in the order `list_tables` gives them.
    pub const ALL: [Self; DEFS.len()] = {
        let mut all = [Self(&DEFS[0]); DEFS.len()];
        let mut i = 0;
        while i < DEFS.len() {
            all[i] = Self(&DEFS[i]);
            i += 1;
        }
        all
    };

    /// The `issues` table (named like the variant it was, for callers that name it).
    #[allow(non_upper_case_globals)]
    pub const Issues: Self = Self::ALL[0];

    /// The table's name.
    pub const fn name(self) -> &'static str {
        self.0.name
    }

    /// The table called `name`, or an error listing every table.
    ///
    /// # Errors
    /// [`lakeflow_connect::Error::UnknownTable`].
    pub fn parse(name: &str) -> Result<Self> {
        TABLES.get(name).map(Self)
    }

    /// Whether the table reads one repository, named by the `owner` and `repo` options.
    pub fn is_repository_scoped(self) -> bool {
        self.0.options.iter().any(|spec| spec.name == REPO.name)
    }

    /// Keys, cursor and ingestion type.
    pub fn metadata(self) -> TableMetadata {
        self.0.metadata()
    }

    /// The Arrow schema.
    pub fn schema(self) -> SchemaRef {
        (self.0.schema)()
    }

    /// The table options its reads take.
    pub(crate) fn options(self) -> &'static [lakeflow_connect::OptionSpec] {
        self.0.options
    }

    /// How the table is read.
    pub(crate) const fn reader(self) -> Reader {
        self.0.read
    }

    /// The width of one query window when `window_seconds` is not given.
    pub(crate) const fn default_window(self) -> chrono::TimeDelta {
        self.0.read.window
    }

    /// The `since` listing of a table with partitioned streams.
    pub(crate) fn listing(self) -> Option<&'static UpdatedListing> {
        self.0.stream
    }

    /// Whether the table's keys include the repository (`owner`, `repo`), which the connector
    /// then adds to its records.
    fn keyed_by_repository(self) -> bool {
        self.0.primary_keys.contains(&"owner")
    }
}

impl From<&'static Def> for Table {
    fn from(def: &'static Def) -> Self {
        Self(def)
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Table {}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({})", self.name())
    }
}

/// The metadata of `table` read with `options`: with `repo: "*"`, the keys of a table not keyed
/// by its repository start with `repository_owner` and `repository_name`, since ids repeat
/// across repositories for some tables (a commit's `sha` in a fork, a stargazer's `user.id`).
pub(crate) fn metadata(table: Table, options: &lakeflow_connect::TableOptions) -> TableMetadata {
    let mut metadata = table.metadata();
    if crate::config::fans_out(options)
        && table.is_repository_scoped()
        && !table.keyed_by_repository()
    {
        metadata.primary_keys.splice(
            0..0,
            ["repository_owner", "repository_name"].map(str::to_owned),
        );
    }
    metadata
}

/// The fields the connector adds to the records of `table`: the repository they come from, and
/// for the tables keyed by it, `owner` and `repo` too.
pub(crate) fn extra(ctx: &ReadCtx<'_>) -> Result<Extra> {
    if !ctx.table.is_repository_scoped() {
        return Ok(Extra::default());
    }
    let repo = ctx.settings.repo(ctx.table)?;
    let (owner, name) = (
        Value::from(repo.owner.clone()),
        Value::from(repo.name.clone()),
    );
    let mut fields = vec![
        ("repository_owner", owner.clone()),
        ("repository_name", name.clone()),
    ];
    if ctx.table.keyed_by_repository() {
        fields.extend([("owner", owner), ("repo", name)]);
    }
    Ok(Extra(fields))
}

/// Reads one batch (or, for snapshots, the whole table as a stream).
pub(crate) fn read(ctx: &ReadCtx<'_>, start: Option<&Offset>) -> Result<ReadOutput<'static>> {
    read_with(ctx, ctx.table.0.read, start)
}

/// Reads with `reader` (the table's `read`, or its `deletes`).
pub(crate) fn read_with(
    ctx: &ReadCtx<'_>,
    reader: Reader,
    start: Option<&Offset>,
) -> Result<ReadOutput<'static>> {
    if let Some(fan_out) = &ctx.settings.fan_out {
        return fan_out::read(ctx, fan_out, reader, start);
    }
    fan_out::refuse_positions(ctx, start)?;
    let extra = extra(ctx)?;
    match reader.read {
        Read::Batch(read) => {
            let (records, end) = read(ctx, start, &extra)?;
            Ok(ReadOutput::from_records(records, end))
        }
        Read::Snapshot(read) => read(ctx, extra),
        Read::Listing { rest, query } => repository::read_listing(ctx, extra, rest, query),
    }
}

/// The offset a partitioned stream of the table has reached now.
pub(crate) fn latest_offset(ctx: &ReadCtx<'_>) -> Result<Offset> {
    if let Some(fan_out) = &ctx.settings.fan_out {
        return fan_out::latest_offset(ctx, fan_out);
    }
    issues::with_updated_listing(ctx, &Extra::default(), partitioned::latest_offset)
}

/// The partitions of the changes after `start` up to `end`.
pub(crate) fn partitions_between(
    ctx: &ReadCtx<'_>,
    start: Option<&Offset>,
    end: &Offset,
) -> Result<Vec<Partition>> {
    if ctx.settings.fan_out.is_some() {
        return fan_out::partitions_between(ctx, start, end);
    }
    let count = ctx.kit.settings.stream_partitions;
    issues::with_updated_listing(ctx, &Extra::default(), |asc, request| {
        partitioned::partitions_between(asc, request, start, end, count)
    })
}

/// The records of one partition of a stream.
pub(crate) fn read_partition(
    ctx: &ReadCtx<'_>,
    partition: &Partition,
) -> Result<RecordStream<'static>> {
    let extra = extra(ctx)?;
    issues::with_updated_listing(ctx, &extra, |asc, request| {
        partitioned::read_partition(asc, request, partition, extra.clone().decorator())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_fits_every_schema() {
        for table in Table::ALL {
            table
                .metadata()
                .validate(table.name(), &table.schema())
                .unwrap_or_else(|e| panic!("{}: {e}", table.name()));
            assert_eq!(Table::parse(table.name()).unwrap(), table);
        }
        let err = Table::parse("gists").unwrap_err().to_string();
        assert!(
            err.contains("`gists`") && err.contains("stargazers"),
            "{err}"
        );
    }
}
