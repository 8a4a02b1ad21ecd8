//! `next_after` (HubSpot): `paging.next.after` holds the token for the next page and
//! `paging.next.link` the full URL; the whole `paging` object is absent on the last page.

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
    #[serde(default = "default_link_key")]
    link_key: Option<String>,
}

fn default_next_key() -> String {
    "paging.next.after".to_owned()
}

#[allow(clippy::unnecessary_wraps)] // serde default for an Option field
fn default_link_key() -> Option<String> {
    Some("paging.next.link".to_owned())
}

#[derive(Debug)]
struct NextAfter {
    next_key: FieldPath,
    link_key: Option<FieldPath>,
}

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: Config = config_from(config)?;
    Ok(Box::new(NextAfter {
        next_key: path(&config.next_key)?,
        link_key: config.link_key.as_deref().map(path).transpose()?,
    }))
}

impl Paginator for NextAfter {
    fn needed_roles(&self) -> &'static [NeededRole] {
        &[NeededRole::Cursor]
    }

    fn writes_body(&self) -> bool {
        true
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let query = input.query;
        let param = query.cursor_param.as_deref().unwrap_or("after");
        let start = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(token) => offset_of(&input.tokens.decode(token, param)?, param)?,
            None => 0,
        };
        let (records, has_more) = window(input.records, start, input.size);
        let mut fields = Vec::new();
        if has_more {
            let token = input
                .tokens
                .encode(&json!({ "offset": start + records.len() }));
            if let Some(key) = &self.link_key {
                let link = input.url.with(&[(param, Some(token.clone()))]);
                fields.push((key.clone(), Value::String(link)));
            }
            fields.push((self.next_key.clone(), Value::String(token)));
        }
        Ok(PageOutput {
            records,
            fields,
            headers: Vec::new(),
        })
    }
}
