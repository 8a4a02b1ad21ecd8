//! Errors: [`SpecError`] for anything wrong inside a file (with its line), [`Error`] for the rest.

use std::fmt;
use std::path::PathBuf;

/// Result alias used throughout this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem at a known place in a pipeline spec or connections file.
///
/// Displays as `origin:line: path: message`, for example
///
/// ```text
/// pipeline.yaml:7: objects[0].table: unknown key `sorce_table` (expected one of ...)
/// ```
///
/// `path` is the dotted path of the key concerned (`objects[0].table.table_configuration.scd_type`);
/// for an unknown or missing key it is the path of the enclosing mapping. It is left out when
/// empty (the top level), and the line is left out when it is 0 (unknown). The message never
/// contains a connection option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The file the error is in, as given by the caller (`pipeline.yaml`, `/etc/lakeflow.toml`).
    pub origin: String,
    /// The 1-based line; 0 when unknown.
    pub line: usize,
    /// The dotted path of the key concerned; empty for the top level.
    pub path: String,
    /// What is wrong, and when possible what was expected.
    pub message: String,
}

impl SpecError {
    /// An error at `origin:line`, about the key at `path`.
    pub fn new(
        origin: impl Into<String>,
        line: usize,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            origin: origin.into(),
            line,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        f.write_str(": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for SpecError {}

/// Everything that can go wrong loading a pipeline spec or a connections file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file's content is wrong at a known place.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A connections file that was asked for by name does not exist.
    #[error("connections file `{}` ({via}) does not exist", path.display())]
    MissingConnectionsFile {
        /// The file.
        path: PathBuf,
        /// Who named it: `given explicitly` or `named by $LAKEFLOW_CONFIG`.
        via: &'static str,
    },
}

impl Error {
    /// The located error, when the problem is in a file's content.
    pub fn as_spec(&self) -> Option<&SpecError> {
        match self {
            Self::Spec(e) => Some(e),
            _ => None,
        }
    }
}

/// Builds [`SpecError`]s for one file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a>(pub(crate) &'a str);

impl Origin<'_> {
    /// An error at `line` about `path`.
    pub(crate) fn err(self, line: usize, path: &str, message: impl Into<String>) -> Error {
        Error::Spec(SpecError::new(self.0, line, path, message))
    }
}

/// `parent.key`, or `key` at the top level.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_out_empty_parts() {
        let e = SpecError::new("p.yaml", 7, "objects[0].table", "unknown key `x`");
        assert_eq!(e.to_string(), "p.yaml:7: objects[0].table: unknown key `x`");
        let e = SpecError::new("p.yaml", 3, "", "the spec is empty");
        assert_eq!(e.to_string(), "p.yaml:3: the spec is empty");
        let e = SpecError::new("c.toml", 0, "connections", "bad");
        assert_eq!(e.to_string(), "c.toml: connections: bad");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a.b");
    }
}
