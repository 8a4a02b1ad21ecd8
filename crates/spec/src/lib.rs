//! Pipeline specs and connections files.
//!
//! A [`PipelineSpec`] (YAML or JSON, the original Lakeflow Community Connectors format) says
//! which connection to read with and which source tables to ingest into which destinations. A
//! [`Connections`] file (TOML) maps connection names to a source and its connection options,
//! with `${VAR}` references to the environment for secrets.
//!
//! Every problem in a file is a [`SpecError`] naming the file, the 1-based line and the key:
//!
//! ```text
//! pipeline.yaml:7: objects[0].table: unknown key `sorce_table` (expected one of source_table, ...)
//! ```
//!
//! # Example
//!
//! ```
//! use lakeflow_spec::{Connections, PipelineSpec, ScdType};
//!
//! let spec = PipelineSpec::parse(
//!     "connection_name: my_github
//! objects:
//!   - table:
//!       source_table: issues
//!       destination_schema: raw
//!       table_configuration:
//!         scd_type: scd_type_2
//!         primary_keys: [id]
//!         owner: octocat
//!         per_page: 100
//! ",
//!     "pipeline.yaml",
//! )?;
//! let issues = &spec.objects[0];
//! assert_eq!(issues.destination().to_string(), "raw.issues");
//! assert_eq!(issues.scd_type, ScdType::Type2);
//! assert_eq!(issues.primary_keys.as_deref(), Some(&["id".to_owned()][..]));
//! assert_eq!(issues.table_options["per_page"], "100");
//! assert_eq!(issues.option_lines["owner"], 9);
//!
//! let connections = Connections::parse(
//!     "[connections.my_github]\nsource = \"github\"\ntoken = \"${GITHUB_TOKEN}\"\n",
//!     "lakeflow.toml",
//! )?;
//! let env = |name: &str| (name == "GITHUB_TOKEN").then(|| "ghp_secret".to_owned());
//! let github = connections.resolve(&spec.connection_name, env)?.expect("defined");
//! assert_eq!(github.source, "github");
//! assert_eq!(github.options.get("token"), Some("ghp_secret"));
//! assert!(!format!("{github:?}").contains("ghp_secret"));
//!
//! let err = PipelineSpec::parse("connection_name: x\nobjects: []\n", "p.yaml").unwrap_err();
//! assert_eq!(err.to_string(), "p.yaml:2: objects: must list at least one table");
//! # Ok::<(), lakeflow_spec::Error>(())
//! ```

mod config;
mod connections;
mod destination;
mod env;
mod error;
mod spec;

pub use config::{SPECIAL_KEYS, ScdType};
pub use connections::{Connections, ResolvedConnection};
pub use destination::Destination;
pub use env::{CONNECTIONS_FILE, find_connections_file};
pub use error::{Error, Result, SpecError};
pub use spec::{ObjectSpec, PipelineSpec};
