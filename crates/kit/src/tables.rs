//! Tables as data: one [`TableDef`] per table, and a [`Tables`] registry from which
//! `list_tables`, `read_table_metadata`, `get_table_schema`, the declared table options and the
//! dispatch of reads all derive. Adding a table is adding one definition.
//!
//! A definition says how the table is read with two values of the connector's own choosing:
//! `read` (`R`, for `read_table` and, if given, `read_table_deletes`) and `stream` (`S`, for
//! partitioned streams). They are usually function pointers or plain data (a listing's path);
//! the registry only hands the one of the table asked for back, after checking the table and its
//! options.
//!
//! The table options a connector declares (its descriptor's list) are derived at compile time
//! (see [`OptionUse`] and [`declare`]): each option applies to the tables whose definitions
//! list it, so the two cannot drift apart.

use lakeflow_connect::arrow_schema::SchemaRef;
use lakeflow_connect::{
    Error, IngestionType, OptionSpec, Result, TableMetadata, TableOptions, check_options,
};

/// One table: its name, metadata, schema, options and how it is read.
#[derive(Debug, Clone, Copy)]
pub struct TableDef<R, S = ()> {
    /// The name `list_tables` gives.
    pub name: &'static str,
    /// How the table is ingested (snapshot, CDC, append), as its metadata reports.
    pub ingestion: IngestionType,
    /// Columns (or dot paths) that identify a record.
    pub primary_keys: &'static [&'static str],
    /// The column incremental reads order by (`None` for snapshots).
    pub cursor: Option<&'static str>,
    /// The Arrow schema, built on demand.
    pub schema: fn() -> SchemaRef,
    /// The table options reads take; the `required` ones must be given to read.
    pub options: &'static [OptionSpec],
    /// How `read_table` reads it.
    pub read: R,
    /// How `read_table_deletes` reads it, if the API has a feed of deletions.
    pub deletes: Option<R>,
    /// How its partitioned stream is read, if it has one.
    pub stream: Option<S>,
}

impl<R: Copy, S: Copy> TableDef<R, S> {
    /// A table read with `read`, taking no options until [`TableDef::options`].
    pub const fn new(
        name: &'static str,
        ingestion: IngestionType,
        primary_keys: &'static [&'static str],
        cursor: Option<&'static str>,
        schema: fn() -> SchemaRef,
        read: R,
    ) -> Self {
        Self {
            name,
            ingestion,
            primary_keys,
            cursor,
            schema,
            options: &[],
            read,
            deletes: None,
            stream: None,
        }
    }

    /// A snapshot table keyed by `primary_keys`.
    pub const fn snapshot(
        name: &'static str,
        primary_keys: &'static [&'static str],
        schema: fn() -> SchemaRef,
        read: R,
    ) -> Self {
        Self::new(
            name,
            IngestionType::Snapshot,
            primary_keys,
            None,
            schema,
            read,
        )
    }

    /// The table options its reads take.
    #[must_use]
    pub const fn options(self, options: &'static [OptionSpec]) -> Self {
        Self { options, ..self }
    }

    /// Deletions read with `deletes`.
    #[must_use]
    pub const fn deletes(self, deletes: R) -> Self {
        Self {
            deletes: Some(deletes),
            ..self
        }
    }

    /// A partitioned stream read with `stream`.
    #[must_use]
    pub const fn stream(self, stream: S) -> Self {
        Self {
            stream: Some(stream),
            ..self
        }
    }

    /// Keys, cursor and ingestion type.
    pub fn metadata(&self) -> TableMetadata {
        TableMetadata::new(self.ingestion, self.primary_keys, self.cursor)
    }
}

/// The tables of a connector, and the table options it declares.
#[derive(Debug, Clone, Copy)]
pub struct Tables<R: 'static, S: 'static = ()> {
    defs: &'static [TableDef<R, S>],
    options: &'static [OptionSpec],
}

impl<R: Copy, S: Copy> Tables<R, S> {
    /// The registry of `defs`, in the order `list_tables` gives them, declaring `options` (from
    /// [`declare`], so that each applies to the tables that list it).
    pub const fn new(defs: &'static [TableDef<R, S>], options: &'static [OptionSpec]) -> Self {
        Self { defs, options }
    }

    /// Every definition, in order.
    pub const fn defs(&self) -> &'static [TableDef<R, S>] {
        self.defs
    }

    /// The table options the connector declares (its descriptor's list).
    pub const fn declared_options(&self) -> &'static [OptionSpec] {
        self.options
    }

    /// The table names, for `list_tables`.
    pub fn names(&self) -> Vec<String> {
        self.defs.iter().map(|def| def.name.to_owned()).collect()
    }

    /// Every key and cursor column that is not a top-level field of its table's schema, as
    /// `table.column`: none for a registry whose definitions agree with their schemas (a check
    /// for connectors' tests; dot paths into structs count as missing).
    pub fn missing_columns(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for def in self.defs {
            let schema = (def.schema)();
            for column in def.primary_keys.iter().chain(def.cursor.iter()) {
                if schema.field_with_name(column).is_err() {
                    missing.push(format!("{}.{column}", def.name));
                }
            }
        }
        missing
    }

    /// The definition of `table`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`] listing every table.
    pub fn get(&self, table: &str) -> Result<&'static TableDef<R, S>> {
        self.defs
            .iter()
            .find(|def| def.name == table)
            .ok_or_else(|| {
                let names: Vec<&str> = self.defs.iter().map(|def| def.name).collect();
                Error::unknown_table(table, &names)
            })
    }

    /// The metadata of `table`. Options are only checked to be ones the connector declares (for
    /// any table): metadata is the same whatever they say.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], or [`Error::UnknownOption`] naming an option no table takes.
    pub fn metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        let def = self.get(table)?;
        self.check_known(options)?;
        Ok(def.metadata())
    }

    /// The schema of `table`; options are checked as by [`Tables::metadata`].
    ///
    /// # Errors
    /// As [`Tables::metadata`].
    pub fn schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        let def = self.get(table)?;
        self.check_known(options)?;
        Ok((def.schema)())
    }

    /// The definition of `table` and how to read it, once its options are checked: every
    /// option given is one the table takes, and every required one is given.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::UnknownOption`] or [`Error::MissingOption`] naming
    /// the table.
    pub fn read(
        &self,
        table: &str,
        options: &TableOptions,
    ) -> Result<(&'static TableDef<R, S>, R)> {
        let def = self.checked(table, options)?;
        Ok((def, def.read))
    }

    /// As [`Tables::read`], for `read_table_deletes`.
    ///
    /// # Errors
    /// Those of [`Tables::read`], and [`Error::NotSupported`] for a table without deletions.
    pub fn deletes(
        &self,
        table: &str,
        options: &TableOptions,
    ) -> Result<(&'static TableDef<R, S>, R)> {
        let def = self.get(table)?;
        let deletes = def
            .deletes
            .ok_or_else(|| Error::not_supported(def.name, "read_table_deletes"))?;
        self.checked(table, options)?;
        Ok((def, deletes))
    }

    /// As [`Tables::read`], for the calls of a partitioned stream.
    ///
    /// # Errors
    /// Those of [`Tables::read`], and [`Error::NotSupported`] for a table without a stream.
    pub fn stream(
        &self,
        table: &str,
        options: &TableOptions,
    ) -> Result<(&'static TableDef<R, S>, S)> {
        let def = self.checked(table, options)?;
        let stream = def
            .stream
            .ok_or_else(|| Error::not_supported(def.name, "partitioned streams"))?;
        Ok((def, stream))
    }

    fn checked(&self, table: &str, options: &TableOptions) -> Result<&'static TableDef<R, S>> {
        let def = self.get(table)?;
        check_options(
            options.keys().map(String::as_str),
            def.options,
            Some(def.name),
        )?;
        Ok(def)
    }

    fn check_known(&self, options: &TableOptions) -> Result<()> {
        let given = options.keys().map(String::as_str);
        check_options(given, &self.options_for_any_table(), None)
    }

    /// The declared options, each applying everywhere and none required: what "an option some
    /// table takes" means.
    fn options_for_any_table(&self) -> Vec<OptionSpec> {
        self.options
            .iter()
            .map(|spec| OptionSpec {
                required: false,
                tables: &[],
                ..*spec
            })
            .collect()
    }
}

/// Which tables list each of `O` options, among `T` definitions: the data [`declare`] turns into
/// the declared options. Built at compile time into a `static`, whose name lists the options'
/// `tables` point into.
#[derive(Debug)]
pub struct OptionUse<const T: usize, const O: usize> {
    tables: [[&'static str; T]; O],
    counts: [usize; O],
}

impl<const T: usize, const O: usize> OptionUse<T, O> {
    /// Which of `defs` list each option of `catalogue` (by name). Fails to compile (or panics)
    /// if a definition lists an option missing from the catalogue, if an option is listed by
    /// no definition, or if `T` is not the number of definitions.
    pub const fn new<R, S>(defs: &[TableDef<R, S>], catalogue: &[OptionSpec; O]) -> Self {
        assert!(
            defs.len() == T,
            "OptionUse<T, _>: T must be the number of tables"
        );
        let mut tables = [[""; T]; O];
        let mut counts = [0; O];
        let mut t = 0;
        while t < T {
            let options = defs[t].options;
            let mut i = 0;
            while i < options.len() {
                let Some(o) = position(catalogue, options[i].name) else {
                    panic!("a table lists an option missing from the declared table options");
                };
                tables[o][counts[o]] = defs[t].name;
                counts[o] += 1;
                i += 1;
            }
            t += 1;
        }
        let mut o = 0;
        while o < O {
            assert!(
                counts[o] > 0,
                "a declared table option is listed by no table"
            );
            o += 1;
        }
        Self { tables, counts }
    }
}

/// The options of `catalogue`, in its order, each applying to the tables that list it (no
/// restriction when every table does), as in `uses`. Descriptions and flags are the catalogue's.
pub const fn declare<const T: usize, const O: usize>(
    catalogue: [OptionSpec; O],
    uses: &'static OptionUse<T, O>,
) -> [OptionSpec; O] {
    let mut declared = catalogue;
    let mut o = 0;
    while o < O {
        let count = uses.counts[o];
        declared[o].tables = if count == T {
            &[]
        } else {
            uses.tables[o].split_at(count).0
        };
        o += 1;
    }
    declared
}

const fn position(catalogue: &[OptionSpec], name: &str) -> Option<usize> {
    let mut i = 0;
    while i < catalogue.len() {
        if same(catalogue[i].name, name) {
            return Some(i);
        }
        i += 1;
    }
    None
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
#[path = "tables_tests.rs"]
mod tests;
