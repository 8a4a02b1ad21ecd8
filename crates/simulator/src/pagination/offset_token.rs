//! The styles whose opaque token holds the offset of the next page:
//!
//! - `cursor`: the token in a body field (`next_cursor`, or nested like Slack's
//!   `response_metadata.next_cursor`), null on the last page; optionally a `has_more` field.
//! - `next_after` (HubSpot): `paging.next.after` holds the token and `paging.next.link` the
//!   full URL; the whole `paging` object is absent on the last page.

use serde::Deserialize;
use serde_json::{Value, json};

use super::token::offset_of;
use super::{PageInput, PageOutput, Paginator, config_from, path, window};
use crate::api_error::ApiError;
use crate::value::FieldPath;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CursorConfig {
    #[serde(default = "default_cursor_key")]
    next_key: String,
    has_more_key: Option<String>,
}

fn default_cursor_key() -> String {
    "next_cursor".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NextAfterConfig {
    #[serde(default = "default_after_key")]
    next_key: String,
    #[serde(default = "default_link_key")]
    link_key: Option<String>,
}

fn default_after_key() -> String {
    "paging.next.after".to_owned()
}

#[allow(clippy::unnecessary_wraps)] // serde default for an Option field
fn default_link_key() -> Option<String> {
    Some("paging.next.link".to_owned())
}

/// What the body says about the next page besides its token.
#[derive(Debug)]
enum Beside {
    /// `cursor`: the token field is null on the last page; a has-more flag when configured.
    HasMore(Option<FieldPath>),
    /// `next_after`: every field is absent on the last page; a link when configured.
    Link(Option<FieldPath>),
}

#[derive(Debug)]
struct OffsetToken {
    /// The cursor parameter's name when the endpoint declares none, for links and messages.
    default_param: &'static str,
    next_key: FieldPath,
    beside: Beside,
}

pub(super) fn build_cursor(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: CursorConfig = config_from(config)?;
    Ok(Box::new(OffsetToken {
        default_param: "cursor",
        next_key: path(&config.next_key)?,
        beside: Beside::HasMore(config.has_more_key.as_deref().map(path).transpose()?),
    }))
}

pub(super) fn build_next_after(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: NextAfterConfig = config_from(config)?;
    Ok(Box::new(OffsetToken {
        default_param: "after",
        next_key: path(&config.next_key)?,
        beside: Beside::Link(config.link_key.as_deref().map(path).transpose()?),
    }))
}

impl Paginator for OffsetToken {
    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let query = input.query;
        let param = query.cursor_param.as_deref().unwrap_or(self.default_param);
        let start = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(token) => offset_of(&input.tokens.decode(token, param)?, param)?,
            None => 0,
        };
        let (records, has_more) = window(input.records, start, input.size);
        let next = has_more.then(|| {
            input
                .tokens
                .encode(&json!({ "offset": start + records.len() }))
        });
        let mut fields = Vec::new();
        match (&self.beside, next) {
            (Beside::HasMore(has_more_key), next) => {
                fields.push((
                    self.next_key.clone(),
                    next.map_or(Value::Null, Value::String),
                ));
                if let Some(key) = has_more_key {
                    fields.push((key.clone(), Value::from(has_more)));
                }
            }
            (Beside::Link(link_key), Some(token)) => {
                if let Some(key) = link_key {
                    let link = input.url.with(&[(param, Some(token.clone()))]);
                    fields.push((key.clone(), Value::String(link)));
                }
                fields.push((self.next_key.clone(), Value::String(token)));
            }
            (Beside::Link(_), None) => {}
        }
        Ok(PageOutput::in_body(records, fields))
    }
}
