//! The `LakeflowConnect` methods a [`Tables`](crate::Tables) registry answers by itself, as a
//! macro a connector's `impl LakeflowConnect` expands.

/// The `LakeflowConnect` methods a [`Tables`] registry answers by itself: `list_tables`,
/// `get_table_schema` and `read_table_metadata`, for a connector's `impl LakeflowConnect`.
/// Schemas and metadata need no table options (options given are only checked to be ones some
/// table takes).
///
/// ```ignore
/// impl LakeflowConnect for MyConnector {
///     lakeflow_kit::registry_methods!(TABLES);
///
///     fn read_table(&self, table: &str, start: Option<&Offset>, options: &TableOptions)
///         -> Result<ReadOutput<'_>> { /* ... */ }
/// }
/// ```
///
/// With `reads through field`, also `read_table` and `read_table_deletes`, each reading the
/// definition's read (a [`TableRead`](crate::TableRead)) the registry checked through the
/// connector's [`Connection`](crate::Connection) `field`:
///
/// ```ignore
/// impl LakeflowConnect for MyConnector {
///     lakeflow_kit::registry_methods!(TABLES, reads through connection);
/// }
/// ```
#[macro_export]
macro_rules! registry_methods {
    ($tables:expr, reads through $connection:ident) => {
        $crate::registry_methods!($tables);

        fn read_table(
            &self,
            table: &str,
            start: ::std::option::Option<&::lakeflow_connect::Offset>,
            options: &::lakeflow_connect::TableOptions,
        ) -> ::lakeflow_connect::Result<::lakeflow_connect::ReadOutput<'_>> {
            let (def, read) = $tables.read(table, options)?;
            self.$connection.read(def.name, read, start, options)
        }

        fn read_table_deletes(
            &self,
            table: &str,
            start: ::std::option::Option<&::lakeflow_connect::Offset>,
            options: &::lakeflow_connect::TableOptions,
        ) -> ::lakeflow_connect::Result<::lakeflow_connect::ReadOutput<'_>> {
            let (def, read) = $tables.deletes(table, options)?;
            self.$connection.read(def.name, read, start, options)
        }
    };
    ($tables:expr) => {
        fn list_tables(
            &self,
        ) -> ::lakeflow_connect::Result<::std::vec::Vec<::std::string::String>> {
            ::std::result::Result::Ok($tables.names())
        }

        fn get_table_schema(
            &self,
            table: &str,
            options: &::lakeflow_connect::TableOptions,
        ) -> ::lakeflow_connect::Result<::lakeflow_connect::arrow_schema::SchemaRef> {
            $tables.schema(table, options)
        }

        fn read_table_metadata(
            &self,
            table: &str,
            options: &::lakeflow_connect::TableOptions,
        ) -> ::lakeflow_connect::Result<::lakeflow_connect::TableMetadata> {
            $tables.metadata(table, options)
        }
    };
}
