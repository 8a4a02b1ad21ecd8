//! `time_export` (Zendesk time-based incremental export): `?start_time=<epoch seconds>` answers
//! records whose cursor is at or after it, in cursor order, with `next_page`, `count`,
//! `end_time` and `end_of_stream`. A page never splits the records of one second: it grows past
//! the page size to include them all. With `overlap: false` (default) `end_time` is one second
//! past the last record, so walking `next_page` yields every record once; with `overlap: true`
//! it is the last record's second, as Zendesk does, and the boundary records come again on the
//! next page (clients must de-duplicate); a page then always reaches past its start second, so
//! walking `next_page` always progresses.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{ExportOrder, PageInput, PageOutput, Paginator, config_from, path};
use crate::api_error::ApiError;
use crate::query::SortSpec;
use crate::value::{Operand, SortKey, compare_to_operand, parse_instant, parse_number};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "super::default_cursor_field")]
    cursor_field: String,
    #[serde(default = "super::default_id")]
    id_field: String,
    #[serde(default)]
    overlap: bool,
}

#[derive(Debug)]
struct TimeExport {
    order: ExportOrder,
    overlap: bool,
}

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let config: Config = config_from(config)?;
    Ok(Box::new(TimeExport {
        order: ExportOrder::new(&config.cursor_field, &config.id_field)?,
        overlap: config.overlap,
    }))
}

impl TimeExport {
    /// The whole epoch second of a record's cursor; `None` when it has no usable cursor.
    fn second(&self, record: &Value) -> Option<i64> {
        SortKey::of(self.order.cursor_field.first(record))
            .as_micros()
            .map(|m| m.div_euclid(1_000_000))
    }
}

impl Paginator for TimeExport {
    fn forced_sort(&self) -> Option<Vec<SortSpec>> {
        Some(self.order.sort())
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let query = input.query;
        let param = query.cursor_param.as_deref().unwrap_or("start_time");
        let Some(raw) = query.cursor.as_deref() else {
            return Err(ApiError::bad_request(format!("`{param}` is required")));
        };
        let start_seconds = match (parse_number(raw), parse_instant(raw)) {
            (Some(n), _) if n.fract() == 0.0 && n >= 0.0 => format!("{n:.0}"),
            (_, Some(micros)) => micros.div_euclid(1_000_000).to_string(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "`{param}` must be a Unix epoch time in seconds, got `{raw}`"
                )));
            }
        };
        let start = Operand::new(&start_seconds);
        let eligible: Vec<&Arc<Value>> = input
            .records
            .iter()
            .filter(|r| {
                self.order
                    .cursor_field
                    .first(r)
                    .and_then(|v| compare_to_operand(v, &start))
                    .is_some_and(std::cmp::Ordering::is_ge)
            })
            .collect();
        let mut end = input.size.min(eligible.len());
        let start_second = start_seconds.parse::<i64>().unwrap_or_default();
        let second_at = |i: usize| self.second(eligible[i]);
        if let Some(mut last_second) = end.checked_sub(1).and_then(second_at) {
            loop {
                while end < eligible.len() && second_at(end) == Some(last_second) {
                    end += 1;
                }
                // With overlap the next page starts at the last second again: a page holding only
                // the start second would be served forever, so it takes the next second too.
                let stuck = self.overlap && last_second <= start_second;
                match (stuck, eligible.get(end).and_then(|r| self.second(r))) {
                    (true, Some(next)) => last_second = next,
                    _ => break,
                }
            }
        }
        let end_of_stream = end >= eligible.len();
        let end_time = match eligible[..end].last().and_then(|r| self.second(r)) {
            Some(second) if self.overlap => second,
            Some(second) => second + 1,
            None => start_second,
        };
        let next_page = input.url.with(&[(param, Some(end_time.to_string()))]);
        let records: Vec<Arc<Value>> = eligible.into_iter().take(end).cloned().collect();
        let fields = vec![
            (
                path("next_page").map_err(ApiError::internal)?,
                Value::String(next_page),
            ),
            (
                path("count").map_err(ApiError::internal)?,
                Value::from(records.len()),
            ),
            (
                path("end_time").map_err(ApiError::internal)?,
                Value::from(end_time),
            ),
            (
                path("end_of_stream").map_err(ApiError::internal)?,
                Value::Bool(end_of_stream),
            ),
        ];
        Ok(PageOutput::in_body(records, fields))
    }
}
