//! The `python` source: connectors written in Python for the original project, run unchanged.
//!
//! A connection names the connector's class and passes its options, as strings, as the original
//! does:
//!
//! ```toml
//! [connections.crm]
//! source = "python"
//! class = "my_connectors.crm:CrmConnector"   # or a .py file, or the original's source directory
//! api_key = "..."                            # everything else goes to the connector
//! ```
//!
//! Each connector runs in child processes of the chosen interpreter (`python` option, else
//! `lakeflow --python`, else `$LAKEFLOW_PYTHON`, else `python3`), which run a small host script
//! speaking JSON lines; nothing links against libpython, so the `lakeflow` binary runs built-in
//! connectors on machines without Python. The host provides the original's interface package
//! (`databricks.labs.community_connector.interface`) and a stand-in for `pyspark.sql.types`
//! when they are not installed, so connectors import unmodified.
//!
//! Records stream a chunk at a time and are converted by the records crate like those of any
//! connector. A Python exception is an error naming the connector, the method and the table
//! (the traceback is logged at debug level: `--verbose`); a connector that crashes or does not
//! answer within `timeout_seconds` fails the call it was in, and only that one. Values of
//! options whose names say they are secret (`token`, `secret`, `password`, `key`, ...) never
//! appear in errors or logs.
//!
//! ```no_run
//! use lakeflow_connect::{ConnectionOptions, LakeflowConnect};
//!
//! let options: ConnectionOptions = [("class", "tests/connectors/sample_source.py")]
//!     .into_iter()
//!     .collect();
//! let connector = lakeflow_pyhost::DESCRIPTOR.connect(&options)?;
//! println!("{:?}", connector.list_tables()?);
//! # Ok::<(), lakeflow_connect::Error>(())
//! ```

mod connector;
mod errors;
mod files;
mod marshal;
mod metadata;
mod process;

use std::sync::OnceLock;
use std::time::Duration;

use lakeflow_connect::{
    AuthKind, AuthMethod, ConnectionOptions, ConnectorDescriptor, Error, LakeflowConnect,
    OptionSpec, Redactor, Result, parse_option,
};
use serde_json::{Map, Value};

pub use connector::{PythonConnector, PythonSettings};

/// The connection options of the `python` source itself; every other option is the
/// connector's.
pub const CONNECTION_OPTIONS: &[OptionSpec] = &[
    OptionSpec::required(
        "class",
        "The Python connector: `package.module:Class` (importable by the interpreter, or from \
         the working directory), a `.py` file, or a directory holding `<dir>.py` (the \
         original's layout); `:Class` picks a class when the module defines several.",
    ),
    OptionSpec::optional(
        "python",
        "The interpreter to run it with (default: `lakeflow --python`, else $LAKEFLOW_PYTHON, \
         else `python3`).",
    ),
    OptionSpec::optional(
        "pythonpath",
        "Directories to import the connector and its modules from, separated like PATH, put \
         in front of $PYTHONPATH.",
    ),
    OptionSpec::optional(
        "timeout_seconds",
        "Longest one call may go unanswered (a read: per chunk of records) before the \
         connector is stopped as hung (default 600).",
    ),
    OptionSpec::any("Passed to the connector's constructor, as a string."),
];

/// Table options are the connector's own: all passed through.
pub const TABLE_OPTIONS: &[OptionSpec] = &[OptionSpec::any(
    "Passed to the connector's methods, as a string.",
)];

/// The connector authenticates itself, with the options it takes.
pub const AUTH_METHODS: &[AuthMethod] = &[AuthMethod::new(
    AuthKind::None,
    &[],
    "The Python connector authenticates itself, with whatever options it takes.",
)];

/// What the registry lists about the `python` source.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "python",
    description: "A Python connector written for the original Lakeflow Community Connectors, \
                  run unchanged (`class` names it).",
    connection_options: CONNECTION_OPTIONS,
    table_options: TABLE_OPTIONS,
    auth: AUTH_METHODS,
    constructor: construct,
    simulator: None,
};

const DEFAULT_TIMEOUT_SECONDS: u64 = 600;

/// Option names that mark a value as secret (case-insensitive substrings).
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "key",
    "credential",
    "auth",
    "cookie",
    "session",
];

/// The interpreter `lakeflow --python` chose for this process.
static INTERPRETER: OnceLock<String> = OnceLock::new();

/// Sets the interpreter Python connectors run with when their connection names none (the
/// CLI's `--python`). The first call wins.
pub fn set_interpreter(python: impl Into<String>) {
    let _ = INTERPRETER.set(python.into());
}

fn interpreter(options: &ConnectionOptions) -> String {
    options
        .get("python")
        .map(str::to_owned)
        .or_else(|| INTERPRETER.get().cloned())
        .or_else(|| {
            std::env::var("LAKEFLOW_PYTHON")
                .ok()
                .filter(|p| !p.is_empty())
        })
        .unwrap_or_else(|| "python3".to_owned())
}

/// Whether option `name` holds a secret by its name.
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

fn construct(options: &ConnectionOptions) -> Result<Box<dyn LakeflowConnect>> {
    let class = options.require("class")?.trim().to_owned();
    if class.is_empty() {
        return Err(Error::invalid_option("class", "", "must name a connector"));
    }
    let seconds = parse_option(
        options.get("timeout_seconds"),
        "timeout_seconds",
        DEFAULT_TIMEOUT_SECONDS,
    )?;
    if seconds == 0 {
        return Err(Error::invalid_option(
            "timeout_seconds",
            "0",
            "must be at least 1",
        ));
    }
    let mut secrets = ConnectionOptions::new();
    let mut passed = Map::new();
    for key in options.keys() {
        let value = options.get(key).unwrap_or_default();
        if options.is_secret(key) || looks_secret(key) {
            secrets.insert_secret(key, value);
        }
        if !matches!(key, "class" | "python" | "pythonpath" | "timeout_seconds") {
            passed.insert(key.to_owned(), Value::from(value));
        }
    }
    let settings = PythonSettings {
        python: interpreter(options),
        class,
        pythonpath: options.get("pythonpath").map(str::to_owned),
        timeout: Duration::from_secs(seconds),
    };
    let connector = PythonConnector::start(settings, passed, Redactor::new(&secrets))?;
    Ok(Box::new(connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_names_are_recognised() {
        for name in [
            "api_key",
            "API_TOKEN",
            "client_secret",
            "password",
            "oauth_refresh",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["rows", "region", "start_date", "max_records_per_batch"] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
