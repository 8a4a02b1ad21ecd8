//! Where a table is written: catalog, schema and table, each a safe directory name.

use std::fmt;

/// A destination table: optional catalog and schema, and the table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination {
    /// The catalog, when given.
    pub catalog: Option<String>,
    /// The schema, when given.
    pub schema: Option<String>,
    /// The table name.
    pub table: String,
}

impl Destination {
    /// The directory names under the destination root: `[catalog, schema, table]`, leaving out
    /// the parts not given. Specs guarantee each is a safe path segment.
    pub fn path_segments(&self) -> Vec<&str> {
        [
            self.catalog.as_deref(),
            self.schema.as_deref(),
            Some(self.table.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Checks that `name` is usable as one directory name: not empty, `.` or `..`, and free of
    /// `/`, `\` and control characters. The error says why.
    pub fn check_segment(name: &str) -> Result<(), String> {
        if name.trim().is_empty() {
            return Err("must not be blank".to_owned());
        }
        if name == "."
            || name == ".."
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control)
        {
            return Err(format!(
                "`{}` cannot be used as a directory name (no `.`, `..`, `/`, `\\` or control characters)",
                name.escape_debug()
            ));
        }
        Ok(())
    }

    /// The key two destinations are compared by: every part lower-cased.
    pub(crate) fn identity(&self) -> (Option<String>, Option<String>, String) {
        (
            self.catalog.as_deref().map(str::to_lowercase),
            self.schema.as_deref().map(str::to_lowercase),
            self.table.to_lowercase(),
        )
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path_segments().join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_segments_leave_out_missing_parts() {
        let d = Destination {
            catalog: None,
            schema: Some("raw".into()),
            table: "issues".into(),
        };
        assert_eq!(d.to_string(), "raw.issues");
        assert_eq!(d.path_segments(), ["raw", "issues"]);
        let upper = Destination {
            schema: Some("RAW".into()),
            table: "Issues".into(),
            ..d.clone()
        };
        assert_eq!(d.identity(), upper.identity());
    }
}
