//! Integration tests for `lakeflow-spec`: one binary, one module per concern.

mod connections;
mod hostile;
mod pipeline;
mod props;
mod search;
mod table_configuration;

use lakeflow_spec::{PipelineSpec, SpecError};

/// Parses `text` as `pipeline.yaml`, expecting success.
pub fn parse(text: &str) -> PipelineSpec {
    PipelineSpec::parse(text, "pipeline.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// Parses `text` as `pipeline.yaml`, expecting a located error.
pub fn parse_err(text: &str) -> SpecError {
    let err = PipelineSpec::parse(text, "pipeline.yaml").expect_err("the spec should be rejected");
    err.as_spec()
        .unwrap_or_else(|| panic!("not a located error: {err}"))
        .clone()
}

/// A spec with one table whose `table_configuration` is `config` (indented 8 spaces); the first
/// configuration line is line 6.
pub fn with_config(config: &str) -> String {
    format!(
        "connection_name: c\nobjects:\n  - table:\n      source_table: t\n      table_configuration:\n{config}"
    )
}
