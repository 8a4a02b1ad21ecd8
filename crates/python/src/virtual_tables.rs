//! The framework's virtual tables: `_community_table_metadata`, `_community_tables` and
//! `_community_namespaces`, with the original's names, schemas and rules.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use lakeflow_connect::{ConnectorDescriptor, Error, LakeflowConnect, Result};

use crate::options::{NAMESPACE, SparkOptions, TABLE_NAME};

/// What every virtual table name starts with; other names with it are rejected as typos.
pub const PREFIX: &str = "_community_";

/// A virtual table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Virtual {
    /// Keys, cursor and ingestion type of the tables in `tableNameList`, in the order given.
    Metadata,
    /// The tables of the source (of one namespace, for sources with namespaces).
    Tables,
    /// The namespaces under `namespacePrefix` (none for flat sources).
    Namespaces,
}

impl Virtual {
    /// Every virtual table, in the original's order.
    pub const ALL: [Self; 3] = [Self::Metadata, Self::Namespaces, Self::Tables];

    /// Its table name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Metadata => "_community_table_metadata",
            Self::Tables => "_community_tables",
            Self::Namespaces => "_community_namespaces",
        }
    }

    /// The virtual table called `table`: `Ok(None)` for a name without the reserved prefix, an
    /// error listing the valid names for an unknown one with it.
    pub fn parse(table: &str) -> Result<Option<Self>> {
        if !table.starts_with(PREFIX) {
            return Ok(None);
        }
        Self::ALL
            .into_iter()
            .find(|v| v.name() == table)
            .map(Some)
            .ok_or_else(|| Error::unknown_table(table, &Self::ALL.map(Self::name)))
    }

    /// Its schema, already in the shape Spark reads (see [`crate::spark`]).
    pub fn schema(self) -> SchemaRef {
        let fields = match self {
            Self::Metadata => vec![
                Field::new(TABLE_NAME, DataType::Utf8, false),
                Field::new("primary_keys", string_list(), true),
                Field::new("cursor_field", DataType::Utf8, true),
                Field::new("ingestion_type", DataType::Utf8, true),
            ],
            Self::Namespaces => vec![Field::new(NAMESPACE, string_list(), false)],
            Self::Tables => vec![
                Field::new(NAMESPACE, string_list(), false),
                Field::new(TABLE_NAME, DataType::Utf8, false),
            ],
        };
        Arc::new(Schema::new(fields))
    }

    /// The table's rows.
    pub fn read(
        self,
        options: &SparkOptions,
        connector: &dyn LakeflowConnect,
    ) -> Result<RecordBatch> {
        match self {
            Self::Metadata => metadata(options, connector),
            Self::Tables => tables(options, connector),
            Self::Namespaces => namespaces(options, connector),
        }
    }
}

fn string_list() -> DataType {
    DataType::List(Arc::new(Field::new("element", DataType::Utf8, true)))
}

fn list_builder() -> ListBuilder<StringBuilder> {
    ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
        "element",
        DataType::Utf8,
        true,
    )))
}

fn batch(table: Virtual, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(table.schema(), columns).map_err(|e| Error::SchemaMismatch {
        table: table.name().to_owned(),
        field: String::new(),
        reason: e.to_string(),
    })
}

/// One row per table of `tableNameList`, in the order given (the caller's); no rows without the
/// option, as in the original. A table without primary keys (an append table) has null
/// `primary_keys`, as the original leaves the key out.
fn metadata(options: &SparkOptions, connector: &dyn LakeflowConnect) -> Result<RecordBatch> {
    let names = options.table_name_list.as_deref().unwrap_or_default();
    let mut table_names = StringBuilder::new();
    let mut keys = list_builder();
    let mut cursors = StringBuilder::new();
    let mut types = StringBuilder::new();
    let no_options = lakeflow_connect::TableOptions::new();
    for table in names {
        let table_options = options.table_configs.get(table).unwrap_or(&no_options);
        check_table_options(options.descriptor, table, table_options)?;
        let meta = connector.read_table_metadata(table, table_options)?;
        table_names.append_value(table);
        if meta.primary_keys.is_empty() {
            keys.append_null();
        } else {
            keys.append_value(meta.primary_keys.iter().map(Some));
        }
        cursors.append_option(meta.cursor_field.as_deref());
        types.append_value(meta.ingestion_type.as_str());
    }
    batch(
        Virtual::Metadata,
        vec![
            Arc::new(table_names.finish()),
            Arc::new(keys.finish()),
            Arc::new(cursors.finish()),
            Arc::new(types.finish()),
        ],
    )
}

fn check_table_options(
    descriptor: &ConnectorDescriptor,
    table: &str,
    options: &lakeflow_connect::TableOptions,
) -> Result<()> {
    descriptor.check_table_options(table, options.keys().map(String::as_str))
}

/// The tables, sorted. Sources with namespaces need `namespace` (`[]` for the root); flat
/// sources reject it, so a caller expecting namespaces learns that it is wrong.
fn tables(options: &SparkOptions, connector: &dyn LakeflowConnect) -> Result<RecordBatch> {
    let (namespace, mut names) = match (connector.namespaces(), &options.namespace) {
        (Some(namespaces), Some(namespace)) => {
            (namespace.clone(), namespaces.list_tables_in(namespace)?)
        }
        (Some(_), None) => {
            return Err(Error::InvalidOption {
                option: NAMESPACE.to_owned(),
                value: String::new(),
                reason: format!(
                    "required to read `{}` from source `{}`, which has namespaces: give a JSON \
                     list (`[]` for the root; `{}` lists the namespaces)",
                    Virtual::Tables.name(),
                    options.descriptor.name,
                    Virtual::Namespaces.name()
                ),
            });
        }
        (None, Some(namespace)) => {
            return Err(Error::InvalidOption {
                option: NAMESPACE.to_owned(),
                value: serde_json::to_string(namespace).unwrap_or_default(),
                reason: format!(
                    "source `{}` has no namespaces: omit the option",
                    options.descriptor.name
                ),
            });
        }
        (None, None) => (Vec::new(), connector.list_tables()?),
    };
    names.sort();
    let mut namespaces = list_builder();
    let mut table_names = StringBuilder::new();
    for name in &names {
        namespaces.append_value(namespace.iter().map(Some));
        table_names.append_value(name);
    }
    batch(
        Virtual::Tables,
        vec![
            Arc::new(namespaces.finish()),
            Arc::new(table_names.finish()),
        ],
    )
}

/// The namespaces under `namespacePrefix` (the root when not given), sorted; none for flat
/// sources.
fn namespaces(options: &SparkOptions, connector: &dyn LakeflowConnect) -> Result<RecordBatch> {
    let mut found = match connector.namespaces() {
        Some(namespaces) => {
            namespaces.list_namespaces(options.namespace_prefix.as_deref().unwrap_or_default())?
        }
        None => Vec::new(),
    };
    found.sort();
    let mut column = list_builder();
    for namespace in &found {
        column.append_value(namespace.iter().map(Some));
    }
    batch(Virtual::Namespaces, vec![Arc::new(column.finish())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_the_reserved_prefix_must_be_virtual_tables() {
        assert_eq!(Virtual::parse("orders").unwrap(), None);
        assert_eq!(
            Virtual::parse("_community_tables").unwrap(),
            Some(Virtual::Tables)
        );
        let err = Virtual::parse("_community_table").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown table `_community_table`; available tables: _community_table_metadata, \
             _community_namespaces, _community_tables"
        );
    }
}
