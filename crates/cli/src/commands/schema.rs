//! `lakeflow schema <source> <table>`: a table's Arrow schema.

use anyhow::{Context, Result};
use clap::Args;
use lakeflow_connect::arrow_schema::{DataType, Field};
use serde_json::{Value, json};

use crate::options::{SourceOptions, check_table_options, table_context};
use crate::output::{ListFormat, print_json};

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The source (see `lakeflow sources`).
    pub source: String,
    /// The table (see `lakeflow tables <source>`); hidden tables work too.
    pub table: String,
    #[command(flatten)]
    pub options: SourceOptions,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

pub fn run(args: &SchemaArgs) -> Result<()> {
    let (connector, table_options, descriptor) = args.options.connect(&args.source)?;
    check_table_options(descriptor, &args.table, &table_options)?;
    let schema = connector
        .get_table_schema(&args.table, &table_options)
        .with_context(|| table_context(&args.source, &args.table))?;
    match args.format {
        ListFormat::Json => {
            let fields: Vec<Value> = schema.fields().iter().map(|f| field_json(f)).collect();
            print_json(&fields)
        }
        ListFormat::Table => {
            let mut lines = Vec::new();
            for field in schema.fields() {
                field_lines(field, 0, &mut lines);
            }
            println!("{}", lines.join("\n"));
            Ok(())
        }
    }
}

/// A short type name: nested types are spelled out by the children below them.
fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Struct(_) => "Struct".to_owned(),
        DataType::List(_) | DataType::LargeList(_) => "List".to_owned(),
        DataType::Map(_, _) => "Map".to_owned(),
        DataType::Timestamp(unit, tz) => {
            let tz = tz.as_deref().unwrap_or("naive");
            format!("Timestamp({unit:?}, {tz})")
        }
        other => other.to_string(),
    }
}

fn nullability(field: &Field) -> &'static str {
    if field.is_nullable() { "" } else { " NOT NULL" }
}

fn field_lines(field: &Field, depth: usize, lines: &mut Vec<String>) {
    let indent = "  ".repeat(depth);
    lines.push(format!(
        "{indent}{}: {}{}",
        field.name(),
        type_name(field.data_type()),
        nullability(field)
    ));
    match field.data_type() {
        DataType::Struct(children) => {
            for child in children {
                field_lines(child, depth + 1, lines);
            }
        }
        DataType::List(item) | DataType::LargeList(item) | DataType::Map(item, _) => {
            field_lines(item, depth + 1, lines);
        }
        _ => {}
    }
}

fn field_json(field: &Field) -> Value {
    let mut value = json!({
        "name": field.name(),
        "type": type_name(field.data_type()),
        "nullable": field.is_nullable(),
    });
    match field.data_type() {
        DataType::Struct(children) => {
            value["fields"] = children.iter().map(|f| field_json(f)).collect();
        }
        DataType::List(item) | DataType::LargeList(item) | DataType::Map(item, _) => {
            value["item"] = field_json(item);
        }
        _ => {}
    }
    value
}
