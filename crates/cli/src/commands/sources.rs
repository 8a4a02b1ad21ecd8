//! `lakeflow sources`: the connectors of the registry.

use anyhow::Result;
use lakeflow_connect::{AuthMethod, OptionSpec};
use serde::Serialize;

use crate::output::{ListFormat, print_json, print_text_table};

#[derive(Serialize)]
struct SourceInfo {
    name: &'static str,
    description: &'static str,
    /// How the source authenticates: `{method, options, description}` each.
    auth: &'static [AuthMethod],
    connection_options: Vec<OptionInfo>,
    table_options: Vec<OptionInfo>,
}

#[derive(Serialize)]
struct OptionInfo {
    name: &'static str,
    required: bool,
    secret: bool,
    description: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tables: &'static [&'static str],
}

impl From<&OptionSpec> for OptionInfo {
    fn from(o: &OptionSpec) -> Self {
        Self {
            name: o.name,
            required: o.required,
            secret: o.secret,
            description: o.description,
            tables: o.tables,
        }
    }
}

pub fn run(format: ListFormat) -> Result<()> {
    let sources: Vec<SourceInfo> = lakeflow_connectors::CONNECTORS
        .iter()
        .map(|d| SourceInfo {
            name: d.name,
            description: d.description,
            auth: d.auth,
            connection_options: d.connection_options.iter().map(Into::into).collect(),
            table_options: d.table_options.iter().map(Into::into).collect(),
        })
        .collect();
    match format {
        ListFormat::Json => print_json(&sources),
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = sources
                .iter()
                .map(|s| {
                    let required: Vec<&str> = s
                        .connection_options
                        .iter()
                        .filter(|o| o.required)
                        .map(|o| o.name)
                        .collect();
                    vec![
                        s.name.to_owned(),
                        if required.is_empty() {
                            "-".to_owned()
                        } else {
                            required.join(", ")
                        },
                        auth_column(s.auth),
                        s.description.to_owned(),
                    ]
                })
                .collect();
            print_text_table(
                &["SOURCE", "REQUIRED OPTIONS", "AUTH", "DESCRIPTION"],
                &rows,
            )
        }
    }
}

/// The AUTH cell: the method names (`api_token, oauth_refresh_token`), `-` when none is declared.
fn auth_column(auth: &[AuthMethod]) -> String {
    if auth.is_empty() {
        return "-".to_owned();
    }
    auth.iter()
        .map(|m| m.kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}
