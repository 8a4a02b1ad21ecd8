//! What a failed call becomes: an error naming the connector, the method and the table, with
//! the Python traceback logged (shown by `--verbose`), never in the message.

use std::fmt;

use lakeflow_connect::Error;
use serde_json::Value;

use crate::process::Failure;

/// One call of a connector method, as errors name it.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    pub class: &'a str,
    pub method: &'static str,
    pub table: Option<String>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(class: &'a str, method: &'static str, table: Option<&str>) -> Self {
        Self {
            class,
            method,
            table: table.map(str::to_owned),
        }
    }
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Python connector `{}`: `{}`", self.class, self.method)?;
        match &self.table {
            Some(table) => write!(f, " of table `{table}`"),
            None => Ok(()),
        }
    }
}

/// The error of `call` failing with `failure`; `python` is the interpreter, for hints.
pub(crate) fn failure_error(call: &Call<'_>, failure: Failure, python: &str) -> Error {
    let message = match failure {
        Failure::Raised(error) => {
            let text = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or_default();
            if let Some(traceback) = error.get("traceback").and_then(Value::as_str) {
                tracing::debug!(target: "lakeflow_pyhost", "{call} raised:\n{traceback}");
            }
            let (kind, message) = (text("type"), text("message"));
            let module = text("module");
            match text("method") {
                // The host names where the exception came from; the import is the usual one.
                "import" if !module.is_empty() => format!(
                    "Python connector `{}` cannot be imported: module `{module}` is missing \
                     (install it for `{python}`, or point `python` at an interpreter that has it)",
                    call.class
                ),
                "import" => format!(
                    "Python connector `{}` cannot be imported: {kind}: {message}",
                    call.class
                ),
                "__init__" => format!(
                    "Python connector `{}`: the constructor raised {kind}: {message}",
                    call.class
                ),
                _ => format!("{call} raised {kind}: {message}"),
            }
        }
        Failure::Died { what, stderr } => {
            tracing::debug!(target: "lakeflow_pyhost", "{call}: the host's last output:\n{stderr}");
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
            match last {
                Some(line) => format!("{call} failed: {what}; its last output: {}", line.trim()),
                None => format!("{call} failed: {what}"),
            }
        }
        Failure::Hung(timeout) => format!(
            "{call} did not answer within {}s; its process was stopped (raise the connection \
             option `timeout_seconds` if the source is just slow)",
            timeout.as_secs()
        ),
    };
    Error::Connector { message }
}
