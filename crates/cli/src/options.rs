//! `--option key=value` parsing and routing to connection or table options.

use anyhow::{Context, Result, bail};
use clap::Args;
use lakeflow_connect::{ConnectionOptions, ConnectorDescriptor, LakeflowConnect, TableOptions};

/// Options shared by every command that talks to a source.
#[derive(Debug, Args)]
pub struct SourceOptions {
    /// A connection or table option, `key=value` (repeatable). Which options a source
    /// understands is listed by `lakeflow sources --format json`.
    #[arg(long = "option", short = 'o', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub options: Vec<(String, String)>,
}

fn parse_key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected KEY=VALUE, got {raw:?}")),
    }
}

/// The options split by what the connector declares them to be.
pub struct RoutedOptions {
    pub connection: ConnectionOptions,
    pub table: TableOptions,
}

impl SourceOptions {
    /// Splits `--option`s into connection and table options using the descriptor. An option the
    /// connector declares neither way is an error naming it and listing what is known.
    pub fn route(&self, descriptor: &ConnectorDescriptor) -> Result<RoutedOptions> {
        let mut connection = ConnectionOptions::new();
        let mut table = TableOptions::new();
        for (key, value) in &self.options {
            if descriptor.is_connection_option(key) {
                connection.insert(key, value);
            } else if descriptor.is_table_option(key) {
                table.insert(key.clone(), value.clone());
            } else {
                let known: Vec<&str> = descriptor
                    .connection_options
                    .iter()
                    .chain(descriptor.table_options)
                    .map(|o| o.name)
                    .collect();
                bail!(
                    "unknown option `{key}` for source `{}`; known options: {}",
                    descriptor.name,
                    known.join(", ")
                );
            }
        }
        Ok(RoutedOptions { connection, table })
    }

    /// Finds the source, routes the options and builds the connector.
    pub fn connect(
        &self,
        source: &str,
    ) -> Result<(
        Box<dyn LakeflowConnect>,
        TableOptions,
        &'static ConnectorDescriptor,
    )> {
        let descriptor = lakeflow_connectors::find(source)?;
        let routed = self.route(descriptor)?;
        let connector = descriptor
            .connect(&routed.connection)
            .with_context(|| format!("cannot connect to source `{source}`"))?;
        Ok((connector, routed.table, descriptor))
    }
}

/// Rejects table options the connector does not declare for this table.
pub fn check_table_options(
    descriptor: &ConnectorDescriptor,
    table: &str,
    options: &TableOptions,
) -> Result<()> {
    descriptor.check_table_options(table, options.keys().map(String::as_str))?;
    Ok(())
}

/// Error context naming the source and table a command works on.
pub fn table_context(source: &str, table: &str) -> String {
    format!("source `{source}`, table `{table}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_parsing() {
        assert_eq!(
            parse_key_value("a=b=c").unwrap(),
            ("a".to_owned(), "b=c".to_owned())
        );
        assert_eq!(
            parse_key_value("k=").unwrap(),
            ("k".to_owned(), String::new())
        );
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }
}
