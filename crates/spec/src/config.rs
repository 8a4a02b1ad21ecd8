//! `table_configuration`: value normalisation and the engine's own keys.
//!
//! Every value becomes a string: strings as they are, integers in decimal, floats as written,
//! booleans as `true`/`false`, lists and mappings as compact JSON text. A value with no content
//! (`key:` or `key: null`) is an error. The keys in [`SPECIAL_KEYS`] are consumed and parsed into
//! typed fields; the others are the connector's table options.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use lakeflow_connect::TableOptions;
use lakeflow_yaml::{Entry, Node, Scalar, ScalarKind, Value, join_path};

use crate::error::{Origin, Result};

/// The `table_configuration` keys the engine consumes; they never reach the connector.
pub const SPECIAL_KEYS: [&str; 4] = ["scd_type", "primary_keys", "sequence_by", "cluster_by"];

/// How a destination table keeps history (`table_configuration.scd_type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ScdType {
    /// `SCD_TYPE_1`: one row per key, updated in place (the default).
    #[default]
    Type1,
    /// `SCD_TYPE_2`: every version of a row is kept, with validity columns.
    Type2,
    /// `APPEND_ONLY`: every record read is appended.
    AppendOnly,
}

impl ScdType {
    /// Every type, in the order of the docs.
    pub const ALL: [Self; 3] = [Self::Type1, Self::Type2, Self::AppendOnly];

    /// The spelling used in specs: `SCD_TYPE_1`, `SCD_TYPE_2` or `APPEND_ONLY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Type1 => "SCD_TYPE_1",
            Self::Type2 => "SCD_TYPE_2",
            Self::AppendOnly => "APPEND_ONLY",
        }
    }
}

impl fmt::Display for ScdType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScdType {
    type Err = String;

    /// Parses a spelling, ignoring case and surrounding blanks.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown scd_type `{s}` (expected one of SCD_TYPE_1, SCD_TYPE_2, APPEND_ONLY)"
                )
            })
    }
}

/// A parsed `table_configuration`.
#[derive(Debug, Default)]
pub(crate) struct TableConfig {
    pub(crate) scd_type: ScdType,
    pub(crate) primary_keys: Option<Vec<String>>,
    pub(crate) sequence_by: Option<String>,
    pub(crate) cluster_by: Vec<String>,
    pub(crate) options: TableOptions,
    pub(crate) option_lines: BTreeMap<String, usize>,
}

/// Parses the `table_configuration` value at `path` (a mapping, or null for none).
pub(crate) fn table_configuration(
    origin: Origin<'_>,
    node: &Node,
    path: &str,
) -> Result<TableConfig> {
    let mut config = TableConfig::default();
    let entries = match &node.value {
        Value::Map(entries) => entries,
        Value::Scalar(Scalar {
            kind: ScalarKind::Null,
            ..
        }) => return Ok(config),
        other => {
            let found = other.describe();
            return Err(origin.err(
                node.line,
                path,
                format!("expected a mapping, found {found}"),
            ));
        }
    };
    for entry in entries {
        let key_path = join_path(path, &entry.key);
        let at = |message: String| origin.err(entry.line, &key_path, message);
        if entry.key.trim().is_empty() {
            return Err(origin.err(entry.line, path, "blank key"));
        }
        if is_null(&entry.value) {
            return Err(at(r#"no value (write "" for an empty string)"#.to_owned()));
        }
        config.option_lines.insert(entry.key.clone(), entry.line);
        match entry.key.as_str() {
            "scd_type" => {
                config.scd_type = string(&entry.value)
                    .ok_or_else(|| at(expected("a string", entry)))?
                    .parse()
                    .map_err(at)?;
            }
            "primary_keys" => {
                let keys = names(origin, entry, &key_path, false)?;
                if keys.is_empty() {
                    return Err(at("must name at least one column".to_owned()));
                }
                config.primary_keys = Some(keys);
            }
            "sequence_by" => {
                let column =
                    string(&entry.value).ok_or_else(|| at(expected("a column name", entry)))?;
                config.sequence_by = Some(non_blank(column).map_err(at)?);
            }
            "cluster_by" => config.cluster_by = names(origin, entry, &key_path, true)?,
            _ => {
                config
                    .options
                    .insert(entry.key.clone(), option_text(&entry.value));
            }
        }
    }
    Ok(config)
}

fn is_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Null)
}

/// The text of a string scalar.
fn string(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar(s) if s.kind == ScalarKind::Str => Some(&s.text),
        _ => None,
    }
}

fn expected(what: &str, entry: &Entry) -> String {
    format!("expected {what}, found {}", entry.value.value.describe())
}

fn non_blank(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        Err("blank column name".to_owned())
    } else {
        Ok(name.to_owned())
    }
}

/// A list of column names: a YAML list, JSON list text (`'["a","b"]'`), one name, or (when
/// `commas`) comma-separated names.
fn names(origin: Origin<'_>, entry: &Entry, path: &str, commas: bool) -> Result<Vec<String>> {
    let at = |line: usize, path: &str, message: String| origin.err(line, path, message);
    let list = match &entry.value.value {
        Value::Seq(items) => {
            let mut list = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                let name = string(item).ok_or_else(|| {
                    let found = item.value.describe();
                    at(
                        item.line,
                        &item_path,
                        format!("expected a column name, found {found}"),
                    )
                })?;
                list.push(non_blank(name).map_err(|m| at(item.line, &item_path, m))?);
            }
            list
        }
        Value::Scalar(s) if s.kind == ScalarKind::Str => {
            let text = s.text.trim();
            let split = |text: &str| -> Result<Vec<String>, String> {
                if text.starts_with('[') {
                    let list: Vec<String> = serde_json::from_str(text)
                        .map_err(|e| format!("not a JSON list of column names: {e}"))?;
                    list.iter().map(|n| non_blank(n)).collect()
                } else if commas {
                    text.split(',').map(non_blank).collect()
                } else if text.contains(',') {
                    Err(format!(
                        "`{text}` is not a column name; write a list: [a, b]"
                    ))
                } else {
                    Ok(vec![non_blank(text)?])
                }
            };
            split(text).map_err(|m| at(entry.line, path, m))?
        }
        _ => {
            return Err(at(
                entry.line,
                path,
                expected("a list of column names", entry),
            ));
        }
    };
    let mut seen = HashSet::with_capacity(list.len());
    if let Some(name) = list.iter().find(|name| !seen.insert(name.as_str())) {
        return Err(at(
            entry.line,
            path,
            format!("column `{name}` is listed twice"),
        ));
    }
    Ok(list)
}

/// The string a connector sees for a (non-null) option value.
fn option_text(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => scalar_text(s),
        _ => node.to_json().to_string(),
    }
}

fn scalar_text(s: &Scalar) -> String {
    match s.kind {
        ScalarKind::Bool(b) => b.to_string(),
        ScalarKind::Int => s
            .integer()
            .map_or_else(|| s.text.clone(), |i| i.to_string()),
        ScalarKind::Null => String::new(),
        ScalarKind::Float | ScalarKind::Str => s.text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scd_type_parses_any_case_and_displays_canonically() {
        assert_eq!("scd_type_2".parse::<ScdType>().unwrap(), ScdType::Type2);
        assert_eq!(
            " Append_Only ".parse::<ScdType>().unwrap(),
            ScdType::AppendOnly
        );
        assert_eq!(ScdType::default().to_string(), "SCD_TYPE_1");
        let err = "type3".parse::<ScdType>().unwrap_err();
        assert!(
            err.contains("`type3`") && err.contains("APPEND_ONLY"),
            "{err}"
        );
    }

    #[test]
    fn integers_are_normalised_to_decimal() {
        let int = |text: &str| Scalar {
            text: text.to_owned(),
            kind: ScalarKind::Int,
        };
        assert_eq!(scalar_text(&int("0x1F")), "31");
        assert_eq!(scalar_text(&int("+7")), "7");
        let huge = "1".repeat(60);
        let s = Scalar {
            text: huge.clone(),
            kind: ScalarKind::Int,
        };
        assert_eq!(scalar_text(&s), huge);
    }
}
