//! [`SpecError`]: a problem at a known line and key of a file.

use std::fmt;

/// Result alias of this crate: loading fails with a [`SpecError`].
pub type Result<T, E = SpecError> = std::result::Result<T, E>;

/// A problem at a known place in a spec file (a pipeline spec, a connections file, a simulator
/// spec or one of its corpus files).
///
/// Displays as `origin:line: path: message`, for example
///
/// ```text
/// pipeline.yaml:7: objects[0].table: unknown key `sorce_table` (expected one of ...)
/// spec.yaml:14: endpoint `GET /issues`, key `params.since`: unknown field `rol`, expected ...
/// ```
///
/// The path is left out when empty (the top level), and the line when it is 0 (unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The file the error is in, as given by the caller (`pipeline.yaml`, `<embedded spec>`).
    pub origin: String,
    /// The 1-based line; 0 when unknown.
    pub line: usize,
    /// Where in the file: the dotted path of the key concerned
    /// (`objects[0].table.table_configuration.scd_type`; for an unknown or missing key, the
    /// enclosing mapping's), or a description of the place (`endpoint `GET /issues`, key
    /// `params.since``); empty for the top level.
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

/// The dotted path of `key` inside the mapping at `parent`: `parent.key`, or `key` at the top
/// level.
pub fn join_path(parent: &str, key: &str) -> String {
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
        assert_eq!(join_path("", "a"), "a");
        assert_eq!(join_path("a", "b"), "a.b");
    }
}
