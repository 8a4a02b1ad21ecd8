//! `export_cursor` (Zendesk cursor-based incremental export): records in cursor-field order;
//! the body carries `after_cursor`, `after_url`, `before_cursor`, `before_url` and
//! `end_of_stream`. The token remembers the position (cursor value and id of the last record
//! served) and the filter parameters of the first request, so a client sends only `cursor=`
//! afterwards. At the end of the stream the token stays valid: records written later (stamped
//! with a newer cursor value) are served by the next call, as Zendesk does. A token past the
//! endpoint's future records misses them, by design (see "Future records" in docs/simulator.md).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ExportOrder, PageInput, PageOutput, Paginator, TokenCodec, config_from, path};
use crate::api_error::ApiError;
use crate::query::SortSpec;
use crate::value::SortKey;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "super::default_cursor_field")]
    cursor_field: String,
    #[serde(default = "super::default_id")]
    id_field: String,
}

#[derive(Debug)]
struct ExportCursor {
    order: ExportOrder,
}

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: Config = config_from(config)?;
    Ok(Box::new(ExportCursor {
        order: ExportOrder::new(&config.cursor_field, &config.id_field)?,
    }))
}

impl ExportCursor {
    fn position(&self, record: &Value) -> (SortKey, SortKey) {
        (
            SortKey::of(self.order.cursor_field.first(record)),
            SortKey::of(self.order.id_field.first(record)),
        )
    }

    fn decode(tokens: &TokenCodec, token: &str, param: &str) -> Result<Value, ApiError> {
        let state = tokens.decode(token, param)?;
        let well_formed = state
            .get("after")
            .is_some_and(|a| a.is_null() || a.is_array())
            && state.get("q").is_some_and(Value::is_array);
        if well_formed {
            Ok(state)
        } else {
            Err(ApiError::bad_request(format!(
                "invalid cursor in `{param}`"
            )))
        }
    }
}

impl Paginator for ExportCursor {
    fn forced_sort(&self) -> Option<Vec<SortSpec>> {
        Some(self.order.sort())
    }

    fn saved_params(
        &self,
        cursor: &str,
        tokens: &TokenCodec,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let state = Self::decode(tokens, cursor, "cursor")?;
        let pairs = state["q"].as_array().map(Vec::as_slice).unwrap_or_default();
        Ok(pairs
            .iter()
            .filter_map(|pair| {
                let name = pair.get(0)?.as_str()?;
                let value = pair.get(1)?.as_str()?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect())
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let query = input.query;
        let param = query.cursor_param.as_deref().unwrap_or("cursor");
        let mut after = Value::Null;
        if let Some(token) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
            after = Self::decode(input.tokens, token, param)?["after"].clone();
        }
        let start = match after.as_array() {
            Some(pair) if pair.len() == 2 => {
                let bound = (SortKey::of(Some(&pair[0])), SortKey::of(Some(&pair[1])));
                input
                    .records
                    .iter()
                    .position(|r| self.position(r) > bound)
                    .unwrap_or(input.records.len())
            }
            _ => 0,
        };
        let total = input.records.len();
        let end = start.saturating_add(input.size).min(total);
        let records: Vec<Arc<Value>> = input.records[start..end].to_vec();
        if let Some(last) = records.last() {
            after = json!([
                self.order
                    .cursor_field
                    .first(last)
                    .cloned()
                    .unwrap_or(Value::Null),
                self.order
                    .id_field
                    .first(last)
                    .cloned()
                    .unwrap_or(Value::Null),
            ]);
        }
        let saved: Vec<Value> = query
            .filter_pairs
            .iter()
            .map(|(name, value)| json!([name, value]))
            .collect();
        let token = input.tokens.encode(&json!({ "after": after, "q": saved }));
        // The token carries the filters, so the URL needs only the cursor (and the page size).
        let mut changes: Vec<(&str, Option<String>)> = vec![(param, Some(token.clone()))];
        changes.extend(
            query
                .filter_pairs
                .iter()
                .map(|(name, _)| (name.as_str(), None)),
        );
        let after_url = input.url.with(&changes);
        let fields = vec![
            (
                path("after_url").map_err(ApiError::internal)?,
                Value::String(after_url),
            ),
            (
                path("after_cursor").map_err(ApiError::internal)?,
                Value::String(token),
            ),
            (path("before_url").map_err(ApiError::internal)?, Value::Null),
            (
                path("before_cursor").map_err(ApiError::internal)?,
                Value::Null,
            ),
            (
                path("end_of_stream").map_err(ApiError::internal)?,
                Value::Bool(end >= total),
            ),
        ];
        Ok(PageOutput::in_body(records, fields))
    }
}
