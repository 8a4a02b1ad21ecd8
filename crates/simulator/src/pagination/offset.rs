//! `offset`: `?offset=N&limit=M`; optional body fields for the total and whether more remain.

use serde::Deserialize;
use serde_json::Value;

use super::{NeededRole, PageInput, PageOutput, Paginator, config_from, path, window};
use crate::api_error::ApiError;
use crate::value::FieldPath;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    total_key: Option<String>,
    has_more_key: Option<String>,
}

#[derive(Debug)]
struct Offset {
    total_key: Option<FieldPath>,
    has_more_key: Option<FieldPath>,
}

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: Config = config_from(config)?;
    Ok(Box::new(Offset {
        total_key: config.total_key.as_deref().map(path).transpose()?,
        has_more_key: config.has_more_key.as_deref().map(path).transpose()?,
    }))
}

impl Paginator for Offset {
    fn needed_roles(&self) -> &'static [NeededRole] {
        &[NeededRole::Offset]
    }

    fn writes_body(&self) -> bool {
        self.total_key.is_some() || self.has_more_key.is_some()
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let total = input.records.len();
        let start = usize::try_from(input.query.offset.unwrap_or(0)).unwrap_or(usize::MAX);
        let (records, has_more) = window(input.records, start, input.size);
        let mut fields = Vec::new();
        if let Some(key) = &self.total_key {
            fields.push((key.clone(), Value::from(total)));
        }
        if let Some(key) = &self.has_more_key {
            fields.push((key.clone(), Value::from(has_more)));
        }
        Ok(PageOutput::in_body(records, fields))
    }
}
