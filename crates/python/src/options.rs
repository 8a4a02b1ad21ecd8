//! The data source's options: the original's framework options, the source name, and the
//! connector's connection and table options, told apart by the connector's descriptor.
//!
//! Spark hands a Python data source its options with lower-cased keys, so every name here is
//! matched without regard to case and stored under its declared spelling.

use std::collections::BTreeMap;

use lakeflow_connect::{ConnectionOptions, ConnectorDescriptor, Error, Result, TableOptions};
use serde_json::Value;

use crate::registry;

/// The table to read: a source table or one of the virtual tables.
pub const TABLE_NAME: &str = "tableName";
/// The tables `_community_table_metadata` describes: a JSON list of names.
pub const TABLE_NAME_LIST: &str = "tableNameList";
/// Per-table options for `_community_table_metadata`: a JSON object of table -> options.
pub const TABLE_CONFIGS: &str = "tableConfigs";
/// `true` to stream the deleted-records feed (`read_table_deletes`) instead of the records.
pub const IS_DELETE_FLOW: &str = "isDeleteFlow";
/// The namespace `_community_tables` lists: a JSON list of path segments.
pub const NAMESPACE: &str = "namespace";
/// The parent namespace `_community_namespaces` lists under: a JSON list of path segments.
pub const NAMESPACE_PREFIX: &str = "namespacePrefix";
/// The connector to use (what a Unity Catalog connection's `sourceName` says in the original).
pub const SOURCE: &str = "source";
/// Accepted as a synonym of [`SOURCE`], the property name of the original's UC connections.
pub const SOURCE_NAME: &str = "sourceName";

/// Options the Databricks runtime adds when a read names a Unity Catalog connection. They
/// configure the platform, not the connector, so they are accepted and dropped.
const PLATFORM_OPTIONS: [&str; 2] = ["databricks.connection", "externalOptionsAllowList"];

/// Every option name that is not the connector's.
pub const FRAMEWORK_OPTIONS: [&str; 8] = [
    TABLE_NAME,
    TABLE_NAME_LIST,
    TABLE_CONFIGS,
    IS_DELETE_FLOW,
    NAMESPACE,
    NAMESPACE_PREFIX,
    SOURCE,
    SOURCE_NAME,
];

/// The data source options, parsed and routed.
#[derive(Debug, Clone)]
pub struct SparkOptions {
    /// The connector.
    pub descriptor: &'static ConnectorDescriptor,
    /// Options the connector is built from.
    pub connection: ConnectionOptions,
    /// Options for the table read (the connector's declared table options).
    pub table: TableOptions,
    /// `tableName`, when given.
    pub table_name: Option<String>,
    /// `isDeleteFlow`.
    pub is_delete_flow: bool,
    /// `tableNameList`, when given.
    pub table_name_list: Option<Vec<String>>,
    /// `tableConfigs` (empty when not given).
    pub table_configs: BTreeMap<String, TableOptions>,
    /// `namespace`, when given.
    pub namespace: Option<Vec<String>>,
    /// `namespacePrefix`, when given.
    pub namespace_prefix: Option<Vec<String>>,
}

impl SparkOptions {
    /// Parses data source options. `default_source` is the source bound by `register(spark,
    /// source)`; a `source` option overrides it.
    ///
    /// # Errors
    /// A missing or unknown source, an option the connector declares neither as a connection
    /// nor as a table option, or a framework option with a malformed value; each names the
    /// option.
    pub fn parse<'a>(
        default_source: Option<&str>,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let mut framework: BTreeMap<&'static str, &str> = BTreeMap::new();
        let mut rest: Vec<(&str, &str)> = Vec::new();
        for (key, value) in options {
            if let Some(name) = canonical(key, &FRAMEWORK_OPTIONS) {
                let name = if name == SOURCE_NAME { SOURCE } else { name };
                framework.insert(name, value);
            } else if canonical(key, &PLATFORM_OPTIONS).is_none()
                && canonical(key, &lakeflow_spec::SPECIAL_KEYS).is_none()
            {
                // The engine's own `table_configuration` keys never reach a connector (as in
                // the spec crate), so passing a whole table_configuration as options works.
                rest.push((key, value));
            }
        }
        let source = framework
            .get(SOURCE)
            .copied()
            .or(default_source)
            .ok_or_else(|| Error::MissingOption {
                option: SOURCE.to_owned(),
                table: None,
            })?;
        let descriptor = registry::find(source.trim())?;

        let mut connection = ConnectionOptions::new();
        let mut table = TableOptions::new();
        for (key, value) in rest {
            let route = descriptor
                .route_option(key)
                .ok_or_else(|| Error::UnknownOption {
                    option: key.to_owned(),
                    table: None,
                    known: known_options(descriptor),
                })?;
            if route.connection {
                connection.insert(route.name.clone(), value);
            }
            if route.table {
                table.insert(route.name, value.to_owned());
            }
        }

        Ok(Self {
            descriptor,
            connection,
            table,
            table_name: framework.get(TABLE_NAME).map(|t| t.trim().to_owned()),
            is_delete_flow: framework
                .get(IS_DELETE_FLOW)
                .map(|v| parse_bool(IS_DELETE_FLOW, v))
                .transpose()?
                .unwrap_or(false),
            table_name_list: framework
                .get(TABLE_NAME_LIST)
                .map(|v| parse_name_list(TABLE_NAME_LIST, v))
                .transpose()?,
            table_configs: framework
                .get(TABLE_CONFIGS)
                .map(|v| parse_table_configs(v))
                .transpose()?
                .unwrap_or_default(),
            namespace: framework
                .get(NAMESPACE)
                .map(|v| parse_json_list(NAMESPACE, v))
                .transpose()?,
            namespace_prefix: framework
                .get(NAMESPACE_PREFIX)
                .map(|v| parse_json_list(NAMESPACE_PREFIX, v))
                .transpose()?,
        })
    }

    /// `tableName`, or an error saying it is required.
    pub fn require_table(&self) -> Result<&str> {
        self.table_name
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::MissingOption {
                option: TABLE_NAME.to_owned(),
                table: None,
            })
    }
}

/// The declared spelling of `key` among `names`, ignoring case.
fn canonical<'n>(key: &str, names: &[&'n str]) -> Option<&'n str> {
    names
        .iter()
        .find(|name| name.eq_ignore_ascii_case(key.trim()))
        .copied()
}

/// Every option a user may give for `descriptor`, for error messages.
pub fn known_options(descriptor: &ConnectorDescriptor) -> Vec<String> {
    descriptor
        .connection_options
        .iter()
        .chain(descriptor.table_options)
        .map(|o| o.name.to_owned())
        .chain(FRAMEWORK_OPTIONS.iter().map(|&n| n.to_owned()))
        .collect()
}

fn parse_bool(option: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err(Error::invalid_option(
            option,
            value,
            "expected `true` or `false`",
        )),
    }
}

/// A JSON list of strings, as the original requires for `namespace` and `namespacePrefix`.
fn parse_json_list(option: &str, value: &str) -> Result<Vec<String>> {
    let reason = "expected a JSON list of strings, e.g. [\"a\", \"b\"]";
    match serde_json::from_str::<Value>(value) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(Error::invalid_option(option, value, reason)),
            })
            .collect(),
        _ => Err(Error::invalid_option(option, value, reason)),
    }
}

/// `tableNameList`: a JSON list of strings (the original), or the comma-separated names its
/// earlier versions took.
fn parse_name_list(option: &str, value: &str) -> Result<Vec<String>> {
    if value.trim_start().starts_with('[') {
        return parse_json_list(option, value);
    }
    Ok(value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect())
}

/// `tableConfigs`: `{"table": {"option": value, ...}, ...}`. Values that are not strings are
/// written as JSON text (numbers `7`, booleans `true`), as the spec crate does.
fn parse_table_configs(value: &str) -> Result<BTreeMap<String, TableOptions>> {
    let reason = "expected a JSON object mapping each table to an object of options";
    let Ok(Value::Object(tables)) = serde_json::from_str::<Value>(value) else {
        return Err(Error::invalid_option(TABLE_CONFIGS, value, reason));
    };
    tables
        .into_iter()
        .map(|(table, options)| {
            let Value::Object(options) = options else {
                return Err(Error::invalid_option(TABLE_CONFIGS, value, reason));
            };
            let options = options
                .into_iter()
                .filter(|(key, _)| canonical(key, &lakeflow_spec::SPECIAL_KEYS).is_none())
                .map(|(key, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, text)
                })
                .collect();
            Ok((table, options))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(options: &[(&str, &str)]) -> Result<SparkOptions> {
        SparkOptions::parse(None, options.iter().copied())
    }

    #[test]
    fn routes_lower_cased_keys_to_their_declared_names() {
        // Spark lower-cases option keys before a Python data source sees them.
        let o = parse(&[
            ("source", "example"),
            ("tablename", "orders"),
            ("isdeleteflow", "TRUE"),
            ("seed", "7"),
            ("MAX_RECORDS_PER_BATCH", "5"),
            ("databricks.connection", "my_conn"),
            ("scd_type", "SCD_TYPE_2"),
        ])
        .unwrap();
        assert_eq!(o.descriptor.name, "example");
        assert_eq!(o.table_name.as_deref(), Some("orders"));
        assert!(o.is_delete_flow);
        assert_eq!(o.connection.get("seed"), Some("7"));
        assert_eq!(o.connection.keys().count(), 1);
        assert_eq!(
            o.table,
            TableOptions::from([("max_records_per_batch".into(), "5".into())])
        );
    }

    #[test]
    fn the_source_comes_from_the_option_or_the_registration() {
        let bound = SparkOptions::parse(Some("example"), [("tableName", "users")]).unwrap();
        assert_eq!(bound.descriptor.name, "example");
        let by_uc_name = parse(&[("sourcename", "example")]).unwrap();
        assert_eq!(by_uc_name.descriptor.name, "example");
        let err = parse(&[("tableName", "users")]).unwrap_err().to_string();
        assert_eq!(err, "missing required option `source`");
        let err = parse(&[("source", "nope")]).unwrap_err().to_string();
        assert!(
            err.starts_with("unknown source `nope`; available sources: example"),
            "{err}"
        );
    }

    #[test]
    fn a_source_taking_any_option_gets_undeclared_ones_both_ways() {
        let o = parse(&[
            ("source", "python"),
            ("class", "connector.py"),
            ("tableName", "ticks"),
            ("total", "10"),
        ])
        .unwrap();
        assert_eq!(o.connection.get("class"), Some("connector.py"));
        assert_eq!(o.connection.get("total"), Some("10"));
        assert_eq!(o.table.get("total").map(String::as_str), Some("10"));
        assert!(
            !o.table.contains_key("class"),
            "a declared option goes its own way"
        );
    }

    #[test]
    fn unknown_and_malformed_options_are_named() {
        let err = parse(&[("source", "example"), ("colour", "red")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown option `colour`; known options: seed,"),
            "{err}"
        );
        assert!(err.contains("tableName"), "{err}");
        let err = parse(&[("source", "example"), ("isDeleteFlow", "yes please")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`isDeleteFlow`: expected `true` or `false`"),
            "{err}"
        );
        let err = parse(&[("source", "example"), ("namespace", "a.b")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`namespace`: expected a JSON list"), "{err}");
        let err = parse(&[("source", "example"), ("tableConfigs", "[1]")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`tableConfigs`"), "{err}");
    }

    #[test]
    fn lists_and_table_configs() {
        let o = parse(&[
            ("source", "example"),
            ("tableNameList", r#"["users", "orders"]"#),
            (
                "tableConfigs",
                r#"{"orders": {"status": "paid", "max_records_per_batch": 10, "primary_keys": ["x"]}}"#,
            ),
            ("namespacePrefix", "[]"),
            ("namespace", r#"["shop", "eu"]"#),
        ])
        .unwrap();
        assert_eq!(o.table_name_list.unwrap(), ["users", "orders"]);
        let orders = &o.table_configs["orders"];
        assert_eq!(orders["status"], "paid");
        assert_eq!(orders["max_records_per_batch"], "10");
        assert!(!orders.contains_key("primary_keys"));
        assert_eq!(o.namespace_prefix.unwrap(), Vec::<String>::new());
        assert_eq!(o.namespace.unwrap(), ["shop", "eu"]);
        let comma = parse(&[("source", "example"), ("tableNameList", "users, orders,")]).unwrap();
        assert_eq!(comma.table_name_list.unwrap(), ["users", "orders"]);
    }

    #[test]
    fn debug_output_hides_connection_values() {
        let o = parse(&[
            ("source", "example"),
            ("tableName", "orders"),
            ("api_key", "sk-live-DEBUG-0xC0FFEE"),
            ("seed", "4242"),
        ])
        .unwrap();
        assert_eq!(o.connection.get("api_key"), Some("sk-live-DEBUG-0xC0FFEE"));
        for shown in [format!("{o:?}"), format!("{o:#?}")] {
            assert!(!shown.contains("sk-live-DEBUG-0xC0FFEE"), "{shown}");
            assert!(!shown.contains("4242"), "{shown}");
            // The keys stay, so the output still says which options were given.
            assert!(
                shown.contains("api_key") && shown.contains("seed"),
                "{shown}"
            );
        }
    }
}
