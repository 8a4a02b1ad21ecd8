//! `cursor`: an opaque token in a body field (`next_cursor`, or nested like Slack's
//! `response_metadata.next_cursor`); the field is null on the last page.

use serde::Deserialize;
use serde_json::{Value, json};

use super::token::offset_of;
use super::{NeededRole, PageInput, PageOutput, Paginator, config_from, path, window};
use crate::api::ApiError;
use crate::value::FieldPath;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_next_key")]
    next_key: String,
    has_more_key: Option<String>,
}

fn default_next_key() -> String {
    "next_cursor".to_owned()
}

#[derive(Debug)]
struct Cursor {
    next_key: FieldPath,
    has_more_key: Option<FieldPath>,
}

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: Config = config_from(config)?;
    Ok(Box::new(Cursor {
        next_key: path(&config.next_key)?,
        has_more_key: config.has_more_key.as_deref().map(path).transpose()?,
    }))
}

impl Paginator for Cursor {
    fn needed_roles(&self) -> &'static [NeededRole] {
        &[NeededRole::Cursor]
    }

    fn writes_body(&self) -> bool {
        true
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let query = input.query;
        let start = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(token) => {
                let param = query.cursor_param.as_deref().unwrap_or("cursor");
                offset_of(&input.tokens.decode(token, param)?, param)?
            }
            None => 0,
        };
        let (records, has_more) = window(input.records, start, input.size);
        let next = if has_more {
            Value::String(
                input
                    .tokens
                    .encode(&json!({ "offset": start + records.len() })),
            )
        } else {
            Value::Null
        };
        let mut fields = vec![(self.next_key.clone(), next)];
        if let Some(key) = &self.has_more_key {
            fields.push((key.clone(), Value::from(has_more)));
        }
        Ok(PageOutput {
            records,
            fields,
            headers: Vec::new(),
        })
    }
}
