//! The suite's entry point: [`Conformance`], a builder that says how to build the connector,
//! which tables to check with which options, and what the connector may deviate on.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, LakeflowConnect, Offset, Record, TableOptions,
};

use crate::report::{Mode, Report};

/// The value an offline run gives every secret connection option the caller leaves unset, so that
/// a leak is easy to recognise in any output.
///
/// It is also the credential of the offline convention: a connector's simulator spec uses it as
/// its bearer token, API key or basic password, so that `lakeflow test <source>` authenticates
/// against the simulator with no connection options. Live runs never send it.
pub const FAKE_SECRET: &str = "lakeflow-conformance-secret-7f3a";

/// The simulator fault profile check 17 runs under when the spec has one (otherwise the suite's
/// built-in profile: 429 with and without Retry-After, 500 and 503).
pub const FAULT_PROFILE: &str = "conformance";

/// Builds a connector from connection options; the suite builds fresh connectors where the
/// contract needs one (a connector stops reading at its construction time).
pub(crate) type Factory = Arc<
    dyn Fn(&ConnectionOptions) -> lakeflow_connect::Result<Arc<dyn LakeflowConnect>> + Send + Sync,
>;

/// Where connectors come from.
#[derive(Clone)]
pub(crate) enum Source {
    /// `descriptor.connect(options)`, against the descriptor's simulator when it has one.
    Descriptor,
    /// A caller-supplied factory (for connectors built over a shared in-process source).
    Factory(Factory),
}

/// Writes to the source so the suite can check that reads see the change (check 15).
///
/// Implement it for sources a test can write to (a simulator, an in-process source, a sandbox
/// account). Each call must make a change the connector has not read yet.
pub trait WriteBack: Send + Sync {
    /// Creates a new record in `table` and returns fields that identify it in a read: the primary
    /// keys for keyed tables, any distinguishing fields for append tables (paths may be nested,
    /// `a.b`). `Ok(None)` when this helper cannot write to `table`.
    fn insert(&self, table: &str) -> Result<Option<Record>, WriteBackError>;

    /// Deletes an existing record of `table` and returns its primary keys. `Ok(None)` when this
    /// helper cannot delete from `table`.
    fn delete(&self, table: &str) -> Result<Option<Record>, WriteBackError>;
}

/// Why a write-back helper could not write.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteBackError {
    /// The source refused or failed the write.
    #[error("the source rejected the write: {0}")]
    Rejected(String),
    /// The connector reported an error while the helper prepared the write.
    #[error(transparent)]
    Connector(#[from] lakeflow_connect::Error),
}

/// Bounds that keep a misbehaving connector from hanging the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most reads in one pass before it counts as not terminating.
    pub max_reads: usize,
    /// Most records in one pass (summed over its reads) before it counts as not terminating.
    pub max_records: usize,
    /// The `max_records_per_batch` of the small-batch passes (checks 7, 8 and 9).
    pub small_batch: usize,
    /// Reads at `max_records_per_batch = 1` used to measure an append table's server page.
    pub probe_reads: usize,
    /// Most intermediate offsets resumed from (spread evenly over the pass).
    pub max_resume_points: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_reads: 10_000,
            max_records: 100_000,
            small_batch: 5,
            probe_reads: 10,
            max_resume_points: 20,
        }
    }
}

/// The conformance suite for one connector.
///
/// ```no_run
/// # use lakeflow_connect::TableOptions;
/// # fn demo(descriptor: &'static lakeflow_connect::ConnectorDescriptor) {
/// lakeflow_testkit::Conformance::new(descriptor)
///     .table_options("metrics", TableOptions::new())
///     .allow_all_null("users", &["deleted_at"])
///     .run()
///     .assert_passed();
/// # }
/// ```
pub struct Conformance {
    pub(crate) descriptor: &'static ConnectorDescriptor,
    pub(crate) source: Source,
    pub(crate) faults: Option<Factory>,
    pub(crate) mode: Mode,
    pub(crate) connection: ConnectionOptions,
    pub(crate) only_tables: Option<Vec<String>>,
    pub(crate) table_options: BTreeMap<String, TableOptions>,
    pub(crate) common_table_options: TableOptions,
    pub(crate) allow_all_null: BTreeMap<String, BTreeSet<String>>,
    pub(crate) may_be_empty: BTreeSet<String>,
    pub(crate) far_future: BTreeMap<String, Offset>,
    pub(crate) write_back: Option<Box<dyn WriteBack>>,
    pub(crate) limits: Limits,
}

impl fmt::Debug for Conformance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conformance")
            .field("source", &self.descriptor.name)
            .field("mode", &self.mode)
            .field("connection", &self.connection)
            .field("table_options", &self.table_options)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Conformance {
    /// The suite for a registered connector, built with `descriptor.connect`. Offline, a
    /// connector with a simulator spec runs against a fresh simulator whose URL is passed as the
    /// `base_url` connection option.
    pub fn new(descriptor: &'static ConnectorDescriptor) -> Self {
        Self {
            descriptor,
            source: Source::Descriptor,
            faults: None,
            mode: Mode::Offline,
            connection: ConnectionOptions::new(),
            only_tables: None,
            table_options: BTreeMap::new(),
            common_table_options: TableOptions::new(),
            allow_all_null: BTreeMap::new(),
            may_be_empty: BTreeSet::new(),
            far_future: BTreeMap::new(),
            write_back: None,
            limits: Limits::default(),
        }
    }

    /// The suite for connectors built by `factory` (for example over an in-process source the
    /// test also writes to). The factory is called for every fresh connector the suite needs,
    /// with the connection options (including fake secrets offline).
    pub fn with_factory<C, F>(descriptor: &'static ConnectorDescriptor, factory: F) -> Self
    where
        C: LakeflowConnect + 'static,
        F: Fn(&ConnectionOptions) -> lakeflow_connect::Result<C> + Send + Sync + 'static,
    {
        Self {
            source: Source::Factory(typed_factory(factory)),
            ..Self::new(descriptor)
        }
    }

    /// The suite against the real API with the connection options of the environment (see
    /// [`crate::live_connection`]), or `None` when they are not all set (the live test then
    /// passes without running).
    pub fn live_from_env(descriptor: &'static ConnectorDescriptor) -> Option<Self> {
        let options = live_connection(descriptor)?;
        Some(Self::new(descriptor).live().connection(options))
    }

    /// Runs against the real API: no simulator; connection options come from
    /// [`Conformance::connection`] (see [`crate::live_connection_with`]), and secret options left
    /// unset stay unset (the real API must never see [`FAKE_SECRET`]). The faults check is
    /// skipped.
    #[must_use]
    pub fn live(mut self) -> Self {
        self.mode = Mode::Live;
        self
    }

    /// Connection options. Offline, secret options left unset get [`FAKE_SECRET`], the
    /// credential a simulator spec accepts by convention; live, they stay unset.
    #[must_use]
    pub fn connection(mut self, options: ConnectionOptions) -> Self {
        self.connection = options;
        self
    }

    /// Checks only these tables (default: every listed table plus every table given options).
    #[must_use]
    pub fn tables(mut self, tables: &[&str]) -> Self {
        self.only_tables = Some(tables.iter().map(|t| (*t).to_owned()).collect());
        self
    }

    /// Table options for `table`. A table that `list_tables` hides is checked when it is given
    /// options (even empty ones).
    #[must_use]
    pub fn table_options(mut self, table: &str, options: TableOptions) -> Self {
        self.table_options.insert(table.to_owned(), options);
        self
    }

    /// Table options for every checked table that the descriptor says they apply to (options
    /// given per table with [`Conformance::table_options`] win). This is how `lakeflow test`
    /// passes `-o owner=... -o repo=...` to every repository-scoped table.
    ///
    /// Offline against the descriptor's simulator, the spec's `table_options` (what its corpus
    /// needs to be read, such as the repository it holds) fill in the options left out here.
    #[must_use]
    pub fn common_table_options(mut self, options: TableOptions) -> Self {
        self.common_table_options = options;
        self
    }

    /// Top-level columns of `table` that may be null in every record of a full read (check 6).
    #[must_use]
    pub fn allow_all_null(mut self, table: &str, columns: &[&str]) -> Self {
        self.allow_all_null
            .entry(table.to_owned())
            .or_default()
            .extend(columns.iter().map(|c| (*c).to_owned()));
        self
    }

    /// Declares that the first read of incremental `table` may return no records (check 5).
    #[must_use]
    pub fn may_be_empty(mut self, table: &str) -> Self {
        self.may_be_empty.insert(table.to_owned());
        self
    }

    /// The offset check 10 uses for `table`, when the suite cannot derive one (it moves every
    /// timestamp-like value of a real offset to the year 2400/2200).
    #[must_use]
    pub fn far_future_offset(mut self, table: &str, offset: Offset) -> Self {
        self.far_future.insert(table.to_owned(), offset);
        self
    }

    /// The helper that writes to the source for check 15.
    #[must_use]
    pub fn write_back(mut self, helper: Box<dyn WriteBack>) -> Self {
        self.write_back = Some(helper);
        self
    }

    /// Builds connectors that read the same data through injected retriable faults (check 17),
    /// for sources without a simulator. Simulator-backed connectors get the spec's
    /// `conformance` fault profile instead, or the suite's built-in one when the spec has none.
    #[must_use]
    pub fn faults_with<C, F>(mut self, factory: F) -> Self
    where
        C: LakeflowConnect + 'static,
        F: Fn(&ConnectionOptions) -> lakeflow_connect::Result<C> + Send + Sync + 'static,
    {
        self.faults = Some(typed_factory(factory));
        self
    }

    /// Overrides the bounds.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Runs every check and returns the report. Never panics because of the connector: panics
    /// inside it are caught and reported as failures of the check that provoked them.
    pub fn run(self) -> Report {
        crate::runner::run(self)
    }
}

/// The factory that connects with the descriptor itself.
pub(crate) fn descriptor_factory(descriptor: &'static ConnectorDescriptor) -> Factory {
    Arc::new(move |options: &ConnectionOptions| {
        let connector: Arc<dyn LakeflowConnect> = Arc::from(descriptor.connect(options)?);
        Ok(connector)
    })
}

fn typed_factory<C, F>(factory: F) -> Factory
where
    C: LakeflowConnect + 'static,
    F: Fn(&ConnectionOptions) -> lakeflow_connect::Result<C> + Send + Sync + 'static,
{
    Arc::new(move |options: &ConnectionOptions| {
        let connector: Arc<dyn LakeflowConnect> = Arc::new(factory(options)?);
        Ok(connector)
    })
}

/// The environment variable the live mode reads `option` of `descriptor` from:
/// `LAKEFLOW_<SOURCE>_<OPTION>`, upper-cased, with every other character than ASCII letters and
/// digits turned into `_`.
pub fn env_var_name(descriptor: &ConnectorDescriptor, option: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("LAKEFLOW_{}_{}", clean(descriptor.name), clean(option))
}

/// Connection options of `descriptor` read from the environment (see [`env_var_name`]); options
/// whose variable is unset (or not valid UTF-8) are left out.
pub fn connection_from_env(descriptor: &ConnectorDescriptor) -> ConnectionOptions {
    descriptor
        .connection_options
        .iter()
        .filter_map(|spec| {
            std::env::var(env_var_name(descriptor, spec.name))
                .ok()
                .map(|value| (spec.name, value))
        })
        .collect()
}

/// The connection options for a live run, when the environment holds at least one of the
/// descriptor's variables and every required option: how a connector's test decides to also run
/// live. [`live_connection_with`] also takes options given explicitly.
pub fn live_connection(descriptor: &ConnectorDescriptor) -> Option<ConnectionOptions> {
    live_connection_with(descriptor, &ConnectionOptions::new())
}

/// The connection options for a live run: `given` (options the caller has explicitly, such as
/// `lakeflow test -o key=value`) merged over the environment ([`connection_from_env`]; a given
/// option wins over its variable). `None` when the merged options are empty or miss a required
/// option (see [`missing_live_options`] to say which).
pub fn live_connection_with(
    descriptor: &ConnectorDescriptor,
    given: &ConnectionOptions,
) -> Option<ConnectionOptions> {
    let mut options = connection_from_env(descriptor);
    for key in given.keys() {
        if let Some(value) = given.get(key) {
            options.insert(key, value);
        }
    }
    let any = options.keys().next().is_some();
    (any && missing_live_options(descriptor, &options).is_empty()).then_some(options)
}

/// The required connection options of `descriptor` that neither `given` nor the environment
/// provides, for an error message (each is set with `-o NAME=...` or [`env_var_name`]).
pub fn missing_live_options(
    descriptor: &ConnectorDescriptor,
    given: &ConnectionOptions,
) -> Vec<&'static str> {
    let from_env = connection_from_env(descriptor);
    descriptor
        .connection_options
        .iter()
        .filter(|spec| {
            spec.required && given.get(spec.name).is_none() && from_env.get(spec.name).is_none()
        })
        .map(|spec| spec.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakeflow_connect::{OptionSpec, Result};

    fn construct(_: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
        Err(lakeflow_connect::Error::Protocol {
            message: "unused".into(),
        })
    }

    static DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
        name: "my-source",
        description: "test",
        connection_options: &[
            OptionSpec::required("api.token", "token").secret(),
            OptionSpec::optional("base_url", "url"),
        ],
        table_options: &[],
        auth: &[],
        constructor: construct,
        simulator: None,
    };

    #[test]
    fn env_names_are_upper_cased_and_sanitised() {
        assert_eq!(
            env_var_name(&DESCRIPTOR, "api.token"),
            "LAKEFLOW_MY_SOURCE_API_TOKEN"
        );
        assert_eq!(
            env_var_name(&DESCRIPTOR, "base_url"),
            "LAKEFLOW_MY_SOURCE_BASE_URL"
        );
    }

    #[test]
    fn explicit_options_count_for_a_live_run() {
        // No `LAKEFLOW_MY_SOURCE_*` variable is set in the test environment.
        assert!(live_connection(&DESCRIPTOR).is_none());
        let url_only: ConnectionOptions = [("base_url", "https://x.test")].into_iter().collect();
        assert!(live_connection_with(&DESCRIPTOR, &url_only).is_none());
        assert_eq!(missing_live_options(&DESCRIPTOR, &url_only), ["api.token"]);
        let mut complete = url_only.clone();
        complete.insert("api.token", "t0ken-given");
        let options = live_connection_with(&DESCRIPTOR, &complete).unwrap();
        assert_eq!(options.get("api.token"), Some("t0ken-given"));
        assert_eq!(options.get("base_url"), Some("https://x.test"));
        assert!(missing_live_options(&DESCRIPTOR, &complete).is_empty());
    }
}
