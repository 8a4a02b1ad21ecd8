//! `lakeflow tables <source>`: the tables a source lists, with their metadata.

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use crate::options::SourceOptions;
use crate::output::{ListFormat, print_json, print_text_table};

#[derive(Debug, Args)]
pub struct TablesArgs {
    /// The source (see `lakeflow sources`).
    pub source: String,
    #[command(flatten)]
    pub options: SourceOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Serialize)]
struct TableInfo {
    name: String,
    ingestion_type: String,
    primary_keys: Vec<String>,
    cursor_field: Option<String>,
}

pub fn run(args: &TablesArgs) -> Result<()> {
    let (connector, table_options, _) = args.options.connect(&args.source)?;
    let mut tables = Vec::new();
    for name in connector.list_tables()? {
        let meta = connector
            .read_table_metadata(&name, &table_options)
            .with_context(|| format!("reading metadata of table `{name}`"))?;
        tables.push(TableInfo {
            name,
            ingestion_type: meta.ingestion_type.to_string(),
            primary_keys: meta.primary_keys,
            cursor_field: meta.cursor_field,
        });
    }
    match args.format {
        ListFormat::Json => print_json(&tables),
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = tables
                .into_iter()
                .map(|t| {
                    vec![
                        t.name,
                        t.ingestion_type,
                        t.primary_keys.join(", "),
                        t.cursor_field.unwrap_or_else(|| "-".to_owned()),
                    ]
                })
                .collect();
            print_text_table(&["TABLE", "INGESTION", "PRIMARY KEYS", "CURSOR"], &rows)
        }
    }
}
