//! Connector descriptors: what a registry lists about each connector.

use std::fmt;

use crate::{
    ConnectionOptions, Error, LakeflowConnect, OptionSpec, Redactor, Result, check_options,
};

/// Builds a connector from its connection options.
pub type Constructor = fn(&ConnectionOptions) -> Result<Box<dyn LakeflowConnect>>;

/// Everything the CLI, docs, bindings and tests need to know about a connector before building it.
#[derive(Clone, Copy)]
pub struct ConnectorDescriptor {
    /// The source name users type (`example`, `github`).
    pub name: &'static str,
    /// One line describing the source.
    pub description: &'static str,
    /// The connection parameters it is constructed from.
    pub connection_options: &'static [OptionSpec],
    /// The table options it understands (each may apply to some tables only).
    pub table_options: &'static [OptionSpec],
    /// Builds the connector.
    pub constructor: Constructor,
    /// The simulator spec and corpus its tests run against, compiled in so that
    /// `lakeflow simulate <name>` serves it from any build. `None` for sources that need no
    /// HTTP server (the `example` source simulates its API in process).
    pub simulator: Option<&'static EmbeddedSimulatorSpec>,
}

/// A simulator spec and the corpus files it names, embedded with `include_str!`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedSimulatorSpec {
    /// The spec's YAML text.
    pub spec: &'static str,
    /// The files the spec refers to: (name relative to the spec, contents).
    pub files: &'static [(&'static str, &'static str)],
}

impl fmt::Debug for ConnectorDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorDescriptor")
            .field("name", &self.name)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl ConnectorDescriptor {
    /// Validates the connection options (all required present, none unknown) and builds the
    /// connector. Values the options hold as secret ([`ConnectionOptions::insert_secret`]) are
    /// scrubbed from the constructor's errors and from everything the connector reports
    /// ([`Redactor`]).
    pub fn connect(&self, options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
        check_options(options.keys(), self.connection_options, None)?;
        let redactor = Redactor::new(options);
        let connector = (self.constructor)(options).map_err(|e| redactor.redact_error(e))?;
        Ok(redactor.wrap(connector))
    }

    /// Checks table options for `table` against the declared table options.
    pub fn check_table_options<'a>(
        &self,
        table: &str,
        given: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        check_options(given, self.table_options, Some(table))
    }

    /// Whether `name` is a declared connection option.
    pub fn is_connection_option(&self, name: &str) -> bool {
        self.connection_options.iter().any(|o| o.name == name)
    }

    /// Whether `name` is a declared table option (for any table).
    pub fn is_table_option(&self, name: &str) -> bool {
        self.table_options.iter().any(|o| o.name == name)
    }
}

/// Finds a descriptor by name in a registry list, with an error listing the known names.
pub fn find_connector<'a>(
    registry: &'a [ConnectorDescriptor],
    name: &str,
) -> Result<&'a ConnectorDescriptor> {
    registry
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| Error::UnknownSource {
            name: name.to_owned(),
            available: registry.iter().map(|d| d.name.to_owned()).collect(),
        })
}
