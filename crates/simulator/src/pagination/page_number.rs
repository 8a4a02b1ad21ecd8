//! `page_number`: `?page=N&per_page=M`; the client stops at a short or empty page. Optionally
//! reports the total count in a body field.

use serde::Deserialize;
use serde_json::Value;

use super::{NeededRole, PageInput, PageOutput, Paginator, config_from, path, window};
use crate::api_error::ApiError;
use crate::value::FieldPath;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    total_key: Option<String>,
}

#[derive(Debug)]
struct PageNumber {
    total_key: Option<FieldPath>,
}

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: Config = config_from(config)?;
    Ok(Box::new(PageNumber {
        total_key: config.total_key.as_deref().map(path).transpose()?,
    }))
}

/// The 0-based index of the requested page and the first record on it.
pub(super) fn page_start(input: &PageInput<'_>) -> (u64, usize) {
    let query = input.query;
    let index = query
        .page
        .unwrap_or(query.page_start)
        .saturating_sub(query.page_start);
    let start = usize::try_from(index)
        .unwrap_or(usize::MAX)
        .saturating_mul(input.size);
    (index, start)
}

impl Paginator for PageNumber {
    fn needed_roles(&self) -> &'static [NeededRole] {
        &[NeededRole::Page]
    }

    fn writes_body(&self) -> bool {
        self.total_key.is_some()
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let total = input.records.len();
        let (_, start) = page_start(&input);
        let (records, _) = window(input.records, start, input.size);
        let fields = self
            .total_key
            .iter()
            .map(|key| (key.clone(), Value::from(total)))
            .collect();
        Ok(PageOutput::in_body(records, fields))
    }
}
