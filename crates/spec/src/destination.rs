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

/// Characters a destination name may not contain: path separators, and what a URL gives a
/// meaning (`%` escapes, a `?` query, a `#` fragment, a `:` scheme).
const FORBIDDEN: [char; 6] = ['/', '\\', '%', '?', '#', ':'];

/// Characters of a name quoted in an error message.
const SHOWN_CHARS: usize = 40;

impl Destination {
    /// The longest catalog, schema or table name, in bytes: the usual limit of a file or
    /// directory name (`NAME_MAX`).
    pub const MAX_SEGMENT_BYTES: usize = 255;

    /// The longest destination (`catalog.schema.table`), in bytes: a table's files sit up to
    /// about 100 bytes below it, and an object store key may have 1,024 bytes (S3), which leaves
    /// room for the warehouse's own prefix.
    pub const MAX_BYTES: usize = 512;

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

    /// Checks that `name` is usable as one directory name and one URL path segment: not blank,
    /// `.` or `..`, at most [`Self::MAX_SEGMENT_BYTES`] bytes, not starting with `_` or `.`
    /// (Delta's and lakeflow's own folders, which `lakeflow query` skips), and free of `/`, `\`,
    /// control characters and the characters a URL gives a meaning (`%`, `?`, `#`, `:`). The
    /// error says why, quoting at most the first few dozen characters of the name.
    pub fn check_segment(name: &str) -> Result<(), String> {
        if name.trim().is_empty() {
            return Err("must not be blank".to_owned());
        }
        if name.len() > Self::MAX_SEGMENT_BYTES {
            return Err(format!(
                "`{}` is {} bytes long; a name may have at most {} (a directory name's limit)",
                Self::shortened(name),
                name.len(),
                Self::MAX_SEGMENT_BYTES
            ));
        }
        if name == "."
            || name == ".."
            || name
                .chars()
                .any(|c| FORBIDDEN.contains(&c) || c.is_control())
        {
            return Err(format!(
                "`{}` cannot be used as a directory name (no `.`, `..`, `/`, `\\`, `%`, `?`, `#`, `:` or control characters)",
                Self::shortened(name)
            ));
        }
        if name.starts_with(['_', '.']) {
            return Err(format!(
                "`{}` cannot be used as a directory name: names starting with `_` or `.` are reserved (Delta's `_delta_log`, lakeflow's `_lakeflow`)",
                Self::shortened(name)
            ));
        }
        Ok(())
    }

    /// Checks the whole destination: every part, and their length together (see
    /// [`Self::MAX_BYTES`]).
    pub fn check(&self) -> Result<(), String> {
        for segment in self.path_segments() {
            Self::check_segment(segment)?;
        }
        let len = self
            .path_segments()
            .iter()
            .map(|s| s.len() + 1)
            .sum::<usize>()
            - 1;
        if len > Self::MAX_BYTES {
            return Err(format!(
                "destination `{}` is {len} bytes long; catalog, schema and table together may have at most {}",
                Self::shortened(&self.to_string()),
                Self::MAX_BYTES
            ));
        }
        Ok(())
    }

    /// `name` for a message: escaped, and cut after [`SHOWN_CHARS`] characters.
    fn shortened(name: &str) -> String {
        let mut shown: String = name.chars().take(SHOWN_CHARS).collect();
        if shown.len() < name.len() {
            shown.push('…');
        }
        shown.escape_debug().to_string()
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
