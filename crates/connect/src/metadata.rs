//! Table metadata, ingestion types, and validation of metadata against a schema.

use std::fmt;
use std::str::FromStr;

use arrow_schema::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How a table is ingested. Serialised exactly as the original: `snapshot`, `cdc`,
/// `cdc_with_deletes`, `append`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestionType {
    /// Every read returns the whole table.
    Snapshot,
    /// Changed rows since a cursor, upserted by primary key.
    Cdc,
    /// As `Cdc`, plus a feed of deleted keys.
    CdcWithDeletes,
    /// New rows since a cursor, appended.
    Append,
}

impl IngestionType {
    /// Every ingestion type.
    pub const ALL: [Self; 4] = [
        Self::Snapshot,
        Self::Cdc,
        Self::CdcWithDeletes,
        Self::Append,
    ];

    /// The serialised name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Cdc => "cdc",
            Self::CdcWithDeletes => "cdc_with_deletes",
            Self::Append => "append",
        }
    }

    /// Whether reads follow a cursor (everything but snapshot).
    pub const fn is_incremental(self) -> bool {
        !matches!(self, Self::Snapshot)
    }
}

impl fmt::Display for IngestionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IngestionType {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!("unknown ingestion type `{s}` (expected snapshot, cdc, cdc_with_deletes or append)")
            })
    }
}

/// What the engine needs to know to land a table: keys, cursor and ingestion type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMetadata {
    /// Columns (or nested paths, dot-separated) that identify a row.
    #[serde(default)]
    pub primary_keys: Vec<String>,
    /// The column (or nested path) that orders changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_field: Option<String>,
    /// How the table is ingested.
    pub ingestion_type: IngestionType,
}

impl TableMetadata {
    /// Snapshot metadata with the given keys.
    pub fn snapshot(primary_keys: &[&str]) -> Self {
        Self::new(IngestionType::Snapshot, primary_keys, None)
    }

    /// Metadata of any type.
    pub fn new(ingestion_type: IngestionType, primary_keys: &[&str], cursor: Option<&str>) -> Self {
        Self {
            primary_keys: primary_keys.iter().map(|k| (*k).to_owned()).collect(),
            cursor_field: cursor.map(str::to_owned),
            ingestion_type,
        }
    }

    /// Checks the metadata is complete for its ingestion type and that every key and the cursor
    /// name a field of `schema` (dot-separated paths descend into structs).
    ///
    /// Rules: `cdc` and `cdc_with_deletes` need primary keys and a cursor; `snapshot` needs primary
    /// keys; `append` needs a cursor only if it reads incrementally, so it is not required.
    pub fn validate(&self, table: &str, schema: &Schema) -> Result<()> {
        let invalid = |reason: String| Error::InvalidMetadata {
            table: table.to_owned(),
            reason,
        };
        let kind = self.ingestion_type;
        let needs_keys = !matches!(kind, IngestionType::Append);
        let needs_cursor = matches!(kind, IngestionType::Cdc | IngestionType::CdcWithDeletes);
        if needs_keys && self.primary_keys.is_empty() {
            return Err(invalid(format!(
                "ingestion type `{kind}` requires primary keys"
            )));
        }
        if needs_cursor && self.cursor_field.is_none() {
            return Err(invalid(format!(
                "ingestion type `{kind}` requires a cursor field"
            )));
        }
        for key in &self.primary_keys {
            if field_at_path(schema, key).is_none() {
                return Err(invalid(format!(
                    "primary key `{key}` is not a field of the schema"
                )));
            }
        }
        if let Some(cursor) = &self.cursor_field
            && field_at_path(schema, cursor).is_none()
        {
            return Err(invalid(format!(
                "cursor field `{cursor}` is not a field of the schema"
            )));
        }
        Ok(())
    }
}

/// The field at a dot-separated path (`commit.committer.date`), descending through structs.
pub fn field_at_path<'a>(schema: &'a Schema, path: &str) -> Option<&'a Field> {
    let mut parts = path.split('.');
    let mut field = schema.field_with_name(parts.next()?).ok()?;
    for part in parts {
        let DataType::Struct(children) = field.data_type() else {
            return None;
        };
        field = children.iter().find(|f| f.name() == part)?;
    }
    Some(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{Fields, TimeUnit};

    fn schema() -> Schema {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let committer = Fields::from(vec![Field::new("date", ts.clone(), true)]);
        let commit = Fields::from(vec![Field::new(
            "committer",
            DataType::Struct(committer),
            true,
        )]);
        Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("updated_at", ts, true),
            Field::new("commit", DataType::Struct(commit), true),
        ])
    }

    #[test]
    fn ingestion_types_serialise_as_the_original() {
        for (t, s) in [
            (IngestionType::Snapshot, "\"snapshot\""),
            (IngestionType::Cdc, "\"cdc\""),
            (IngestionType::CdcWithDeletes, "\"cdc_with_deletes\""),
            (IngestionType::Append, "\"append\""),
        ] {
            assert_eq!(serde_json::to_string(&t).unwrap(), s);
            assert_eq!(serde_json::from_str::<IngestionType>(s).unwrap(), t);
            assert_eq!(s.trim_matches('"').parse::<IngestionType>().unwrap(), t);
        }
        assert!("CDC".parse::<IngestionType>().is_err());
    }

    #[test]
    fn validate_accepts_nested_paths() {
        let m = TableMetadata::new(
            IngestionType::Append,
            &["id"],
            Some("commit.committer.date"),
        );
        m.validate("commits", &schema()).unwrap();
        assert!(field_at_path(&schema(), "commit.committer.date").is_some());
        assert!(field_at_path(&schema(), "commit.author").is_none());
        assert!(field_at_path(&schema(), "id.x").is_none());
    }

    #[test]
    fn validate_names_what_is_missing() {
        let s = schema();
        let cases = [
            (
                TableMetadata::new(IngestionType::Cdc, &[], Some("updated_at")),
                "requires primary keys",
            ),
            (
                TableMetadata::new(IngestionType::CdcWithDeletes, &["id"], None),
                "requires a cursor field",
            ),
            (TableMetadata::snapshot(&[]), "requires primary keys"),
            (TableMetadata::snapshot(&["nope"]), "primary key `nope`"),
            (
                TableMetadata::new(IngestionType::Cdc, &["id"], Some("commit.x")),
                "cursor field `commit.x`",
            ),
        ];
        for (meta, expected) in cases {
            let err = meta.validate("t", &s).unwrap_err().to_string();
            assert!(err.contains(expected) && err.contains("`t`"), "{err}");
        }
        TableMetadata::new(IngestionType::Append, &[], None)
            .validate("t", &s)
            .unwrap();
    }
}
