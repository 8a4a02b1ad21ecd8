//! Pagination styles. Each style is one module implementing [`Paginator`]; [`build`] maps a
//! spec's `pagination.style` to it. Adding a style means adding a module and one line in
//! [`STYLES`].
//!
//! A paginator receives the endpoint's records already filtered and sorted, and returns the page
//! plus the body fields and headers that tell the client where the next page is.

mod export_cursor;
mod link_header;
mod offset;
mod offset_token;
mod page_number;
mod starting_after;
mod time_export;
mod token;

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use token::TokenCodec;

use crate::api_error::ApiError;
use crate::query::{ParsedQuery, SortSpec, UrlBuilder};
use crate::value::FieldPath;

/// The parameter roles a style reads; the spec must declare a parameter for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NeededRole {
    Page,
    Offset,
    Cursor,
}

impl NeededRole {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Offset => "offset",
            Self::Cursor => "cursor",
        }
    }
}

/// What a paginator works on.
pub(crate) struct PageInput<'a> {
    /// The endpoint's records after filters and sort (borrowed from the list cache, so a page
    /// costs O(page), not O(records)).
    pub(crate) records: &'a [Arc<Value>],
    pub(crate) query: &'a ParsedQuery,
    /// The page size after defaults and the maximum were applied.
    pub(crate) size: usize,
    pub(crate) url: &'a UrlBuilder,
    pub(crate) tokens: &'a TokenCodec,
}

/// One page and what the response says about the next.
#[derive(Debug, Default)]
pub(crate) struct PageOutput {
    pub(crate) records: Vec<Arc<Value>>,
    /// Body fields set next to the records (`has_more`, `paging.next.after`, ...).
    pub(crate) fields: Vec<(FieldPath, Value)>,
    pub(crate) headers: Vec<(String, String)>,
}

impl PageOutput {
    /// A page whose position is told by body fields only.
    fn in_body(records: Vec<Arc<Value>>, fields: Vec<(FieldPath, Value)>) -> Self {
        Self {
            records,
            fields,
            headers: Vec::new(),
        }
    }
}

pub(crate) trait Paginator: Send + Sync + fmt::Debug {
    /// The parameter roles this style reads; by default the cursor, which most styles walk by.
    fn needed_roles(&self) -> &'static [NeededRole] {
        &[NeededRole::Cursor]
    }

    /// Whether the style writes body fields, which needs an object body (`records_key`); by
    /// default it does, as every cursor style tells the next position in the body.
    fn writes_body(&self) -> bool {
        true
    }

    /// A sort the style imposes (export styles walk in cursor order), replacing any other.
    fn forced_sort(&self) -> Option<Vec<SortSpec>> {
        None
    }

    /// Query parameters a cursor token carries, restored when the request does not repeat them.
    fn saved_params(
        &self,
        _cursor: &str,
        _tokens: &TokenCodec,
    ) -> Result<Vec<(String, String)>, ApiError> {
        Ok(Vec::new())
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError>;
}

/// No pagination: every matching record in one response.
#[derive(Debug)]
struct NoPagination;

impl Paginator for NoPagination {
    fn needed_roles(&self) -> &'static [NeededRole] {
        &[]
    }

    fn writes_body(&self) -> bool {
        false
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        Ok(PageOutput {
            records: input.records.to_vec(),
            ..PageOutput::default()
        })
    }
}

type Builder = fn(Value) -> Result<Box<dyn Paginator>, String>;

/// Every style by name.
const STYLES: &[(&str, Builder)] = &[
    ("none", |config| {
        let _: Empty = config_from(config)?;
        Ok(Box::new(NoPagination))
    }),
    ("page_number", page_number::build),
    ("link_header", link_header::build),
    ("offset", offset::build),
    ("cursor", offset_token::build_cursor),
    ("starting_after", starting_after::build),
    ("next_after", offset_token::build_next_after),
    ("export_cursor", export_cursor::build),
    ("time_export", time_export::build),
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// The known style names, for messages.
pub(crate) fn style_names() -> Vec<&'static str> {
    STYLES.iter().map(|(name, _)| *name).collect()
}

/// Builds a style from its name and the rest of the `pagination:` mapping.
pub(crate) fn build(style: &str, config: Value) -> Result<Box<dyn Paginator>, String> {
    match STYLES.iter().find(|(name, _)| *name == style) {
        Some((_, builder)) => builder(config),
        None => Err(format!(
            "unknown pagination style `{style}`; known styles: {}",
            style_names().join(", ")
        )),
    }
}

/// The paginator used when an endpoint has no `pagination:`.
pub(crate) fn none() -> Box<dyn Paginator> {
    Box::new(NoPagination)
}

/// Deserializes a style's own keys (the `style` key already removed).
fn config_from<T: DeserializeOwned>(config: Value) -> Result<T, String> {
    serde_json::from_value(config).map_err(|e| e.to_string())
}

fn path(text: &str) -> Result<FieldPath, String> {
    FieldPath::parse(text)
}

/// `records[start..start + size]` (clamped) and whether records remain after it.
fn window(records: &[Arc<Value>], start: usize, size: usize) -> (Vec<Arc<Value>>, bool) {
    let total = records.len();
    let end = start.saturating_add(size).min(total);
    let has_more = end < total;
    let page = records
        .get(start.min(end)..end)
        .map(<[Arc<Value>]>::to_vec)
        .unwrap_or_default();
    (page, has_more)
}

/// A record's identifier as text, for matching `starting_after=<id>`.
fn id_text(record: &Value, id_field: &FieldPath) -> Option<String> {
    match id_field.first(record)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The order export styles walk records in: by cursor field, ties broken by id.
#[derive(Debug)]
struct ExportOrder {
    cursor_field: FieldPath,
    id_field: FieldPath,
}

impl ExportOrder {
    fn new(cursor_field: &str, id_field: &str) -> Result<Self, String> {
        Ok(Self {
            cursor_field: path(cursor_field)?,
            id_field: path(id_field)?,
        })
    }

    /// The sort the style imposes ([`Paginator::forced_sort`]).
    fn sort(&self) -> Vec<SortSpec> {
        vec![
            SortSpec::ascending(self.cursor_field.clone()),
            SortSpec::ascending(self.id_field.clone()),
        ]
    }
}

/// The record field most export-style paginators walk by default.
fn default_cursor_field() -> String {
    "updated_at".to_owned()
}

/// The record id field paginators use by default.
fn default_id() -> String {
    "id".to_owned()
}
