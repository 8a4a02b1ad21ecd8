//! The dict `read_table_metadata` returns, as [`TableMetadata`].

use lakeflow_connect::{Error, IngestionType, Result, TableMetadata};
use serde_json::Value;

/// `{"primary_keys": [...], "cursor_field": "...", "ingestion_type": "..."}`. As in the
/// original, `ingestion_type` defaults to `cdc`, and a single key may be given as a string.
pub(crate) fn from_python(table: &str, value: Value) -> Result<TableMetadata> {
    let invalid = |reason: String| Error::InvalidMetadata {
        table: table.to_owned(),
        reason,
    };
    let Value::Object(map) = value else {
        return Err(invalid("read_table_metadata must return a dict".to_owned()));
    };
    let primary_keys = match map.get("primary_keys") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(key)) => vec![key.clone()],
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("`primary_keys` holds {k}, not a column name")))
            })
            .collect::<Result<_>>()?,
        Some(other) => return Err(invalid(format!("`primary_keys` is {other}, not a list"))),
    };
    let cursor_field = match map.get("cursor_field") {
        None | Some(Value::Null) => None,
        Some(Value::String(cursor)) if cursor.is_empty() => None,
        Some(Value::String(cursor)) => Some(cursor.clone()),
        Some(other) => {
            return Err(invalid(format!(
                "`cursor_field` is {other}, not a column name"
            )));
        }
    };
    let ingestion_type = match map.get("ingestion_type") {
        None | Some(Value::Null) => IngestionType::Cdc,
        Some(Value::String(kind)) => kind.parse().map_err(invalid)?,
        Some(other) => return Err(invalid(format!("`ingestion_type` is {other}, not a name"))),
    };
    Ok(TableMetadata {
        primary_keys,
        cursor_field,
        ingestion_type,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_originals_forms_are_read_and_bad_ones_named() {
        let metadata = from_python(
            "orders",
            json!({"primary_keys": "id", "cursor_field": "updated_at"}),
        )
        .unwrap();
        assert_eq!(metadata.primary_keys, ["id"]);
        assert_eq!(
            metadata.ingestion_type,
            IngestionType::Cdc,
            "the original's default"
        );
        let metadata = from_python(
            "users",
            json!({"primary_keys": ["id"], "ingestion_type": "snapshot"}),
        )
        .unwrap();
        assert_eq!(metadata.ingestion_type, IngestionType::Snapshot);
        let err = from_python("t", json!({"ingestion_type": "full"}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`t`") && err.contains("unknown ingestion type"),
            "{err}"
        );
        let err = from_python("t", json!({"primary_keys": [1]}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("primary_keys"), "{err}");
    }
}
