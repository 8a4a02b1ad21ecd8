//! The generic conformance suite every Lakeflow connector passes.
//!
//! A connector's test hands the suite its descriptor (and, for sources without a simulator, a
//! factory over an in-process source); the suite builds the connector — offline against the
//! descriptor's simulator spec, or live against the real API — runs every check on every table,
//! and returns a [`Report`] with one row per table and check: pass, fail or skip, with evidence.
//!
//! Offline, every secret connection option left unset is [`FAKE_SECRET`] (except those of the
//! descriptor's other ways to authenticate than its first: a connector taking an API token or
//! an OAuth token gets one), and a simulator spec accepts that value as its credential by
//! convention; other connection options left unset come from the spec's `connection_options`
//! (the user name its Basic auth expects), and table options from its `table_options` (the
//! account or repository its corpus holds). So an offline run needs no options.
//!
//! ```no_run
//! use lakeflow_connect::{ConnectorDescriptor, TableOptions};
//! use lakeflow_testkit::{Conformance, live_connection};
//!
//! // The body of `connectors/<name>/tests/conformance.rs`, for a registered `DESCRIPTOR`.
//! fn conformance(descriptor: &'static ConnectorDescriptor) {
//!     Conformance::new(descriptor)
//!         .table_options("metrics", TableOptions::new()) // a table the listing hides
//!         .allow_all_null("users", &["middle_name"]) // a column the source never fills
//!         .run()
//!         .assert_passed();
//!     // The same checks against the real API when its credentials are in the environment.
//!     if let Some(options) = live_connection(descriptor) {
//!         Conformance::new(descriptor).live().connection(options).run().assert_passed();
//!     }
//! }
//! ```
//!
//! The checks (see [`Check`]): the table listing; unknown tables; schema; metadata; the first
//! read; column coverage; termination; batch bounds; resume from every intermediate offset;
//! far-future offsets; snapshot stability; offsets as JSON text; deletes; partitioned reads and
//! streams; faults; write-back; secrets. They are independent: a failing check does not stop the
//! others, a check whose prerequisite failed is skipped naming the check that reports it, and a
//! panic inside the connector fails the check that provoked it. Reads are bounded ([`Limits`]),
//! so a connector that never converges fails instead of hanging the test.

mod checks;
mod config;
mod context;
mod cursor;
pub mod drain;
mod expect;
pub mod fixtures;
pub mod memory;
mod pass;
mod probe;
mod report;
mod runner;
mod simulator;
mod wrapped;

pub use config::{
    Conformance, FAKE_SECRET, FAULT_PROFILE, Limits, WriteBack, WriteBackError,
    connection_from_env, env_var_name, live_connection, live_connection_with, missing_live_options,
};
pub use expect::{BATCH_CHECKS, TABLE_CHECKS};
pub use report::{Check, Mode, Outcome, Report, Row};
pub use simulator::{BASE_URL, FaultySimulator, faults_from_simulator};
pub use wrapped::{Intercept, Wrapped};
