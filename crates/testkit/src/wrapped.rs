//! [`Wrapped`]: a connector plus injected behaviour, for tests that need a connector which keeps
//! something alive, fails on purpose or changes one answer, and is otherwise the connector itself.

use arrow_schema::SchemaRef;
use lakeflow_connect::{
    LakeflowConnect, Namespaces, Offset, PartitionedRead, PartitionedStream, ReadOutput, Result,
    TableMetadata, TableOptions,
};

/// Behaviour injected around a connector. Each method gets the wrapped connector and the call's
/// arguments; every default forwards the call unchanged, capabilities included, so an intercept
/// overrides only what it changes, and may use what it knows of `C`. A type with nothing to
/// override (say, a guard that keeps a simulator running) is an intercept with an empty impl for
/// every connector type.
pub trait Intercept<C: ?Sized + LakeflowConnect>: std::fmt::Debug + Send + Sync {
    /// Intercepts [`LakeflowConnect::list_tables`].
    fn list_tables(&self, inner: &C) -> Result<Vec<String>> {
        inner.list_tables()
    }

    /// Intercepts [`LakeflowConnect::get_table_schema`].
    fn get_table_schema(
        &self,
        inner: &C,
        table: &str,
        options: &TableOptions,
    ) -> Result<SchemaRef> {
        inner.get_table_schema(table, options)
    }

    /// Intercepts [`LakeflowConnect::read_table_metadata`].
    fn read_table_metadata(
        &self,
        inner: &C,
        table: &str,
        options: &TableOptions,
    ) -> Result<TableMetadata> {
        inner.read_table_metadata(table, options)
    }

    /// Intercepts [`LakeflowConnect::read_table`].
    fn read_table<'a>(
        &'a self,
        inner: &'a C,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'a>> {
        inner.read_table(table, start, options)
    }

    /// Intercepts [`LakeflowConnect::read_table_deletes`].
    fn read_table_deletes<'a>(
        &'a self,
        inner: &'a C,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'a>> {
        inner.read_table_deletes(table, start, options)
    }

    /// Intercepts [`LakeflowConnect::partitioned_reads`].
    fn partitioned_reads<'a>(&'a self, inner: &'a C) -> Option<&'a dyn PartitionedRead> {
        inner.partitioned_reads()
    }

    /// Intercepts [`LakeflowConnect::partitioned_streams`].
    fn partitioned_streams<'a>(&'a self, inner: &'a C) -> Option<&'a dyn PartitionedStream> {
        inner.partitioned_streams()
    }

    /// Intercepts [`LakeflowConnect::namespaces`].
    fn namespaces<'a>(&'a self, inner: &'a C) -> Option<&'a dyn Namespaces> {
        inner.namespaces()
    }
}

/// A connector `C` with the behaviour of an [`Intercept`] `I` around it. Dropping it drops the
/// connector, then the intercept.
///
/// ```
/// use lakeflow_testkit::{Intercept, Wrapped};
///
/// /// Keeps a resource (a simulator, a temporary directory) alive as long as the connector.
/// #[derive(Debug)]
/// struct KeepAlive(String);
/// impl<C: lakeflow_connect::LakeflowConnect> Intercept<C> for KeepAlive {}
///
/// fn wrap<C: lakeflow_connect::LakeflowConnect>(connector: C) -> Wrapped<C, KeepAlive> {
///     Wrapped::new(connector, KeepAlive("resource".to_owned()))
/// }
/// ```
#[derive(Debug)]
pub struct Wrapped<C, I> {
    inner: C,
    intercept: I,
}

impl<C: LakeflowConnect, I: Intercept<C>> Wrapped<C, I> {
    /// `inner` with `intercept` around it.
    pub fn new(inner: C, intercept: I) -> Self {
        Self { inner, intercept }
    }

    /// The wrapped connector.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The injected behaviour.
    pub fn intercept(&self) -> &I {
        &self.intercept
    }
}

// Every method goes through the intercept: a default here would bypass both it and the wrapped
// connector's own method.
#[deny(clippy::missing_trait_methods)]
impl<C: LakeflowConnect, I: Intercept<C>> LakeflowConnect for Wrapped<C, I> {
    fn list_tables(&self) -> Result<Vec<String>> {
        self.intercept.list_tables(&self.inner)
    }

    fn get_table_schema(&self, table: &str, options: &TableOptions) -> Result<SchemaRef> {
        self.intercept.get_table_schema(&self.inner, table, options)
    }

    fn read_table_metadata(&self, table: &str, options: &TableOptions) -> Result<TableMetadata> {
        self.intercept
            .read_table_metadata(&self.inner, table, options)
    }

    fn read_table(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.intercept
            .read_table(&self.inner, table, start, options)
    }

    fn read_table_deletes(
        &self,
        table: &str,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'_>> {
        self.intercept
            .read_table_deletes(&self.inner, table, start, options)
    }

    fn partitioned_reads(&self) -> Option<&dyn PartitionedRead> {
        self.intercept.partitioned_reads(&self.inner)
    }

    fn partitioned_streams(&self) -> Option<&dyn PartitionedStream> {
        self.intercept.partitioned_streams(&self.inner)
    }

    fn namespaces(&self) -> Option<&dyn Namespaces> {
        self.intercept.namespaces(&self.inner)
    }
}
