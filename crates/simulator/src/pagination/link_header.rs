//! `link_header`: page numbers plus a GitHub-style `Link` header. Like GitHub, `prev` and
//! `first` appear after the first page, `next` and `last` before the last one, and there is no
//! header at all when everything fits on one page.

use serde::Deserialize;
use serde_json::Value;

use super::page_number::page_start;
use super::{NeededRole, PageInput, PageOutput, Paginator, config_from, window};
use crate::api_error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {}

#[derive(Debug)]
struct LinkHeader;

pub(super) fn build(config: Value) -> Result<Box<dyn Paginator>, String> {
    let Config {} = config_from(config)?;
    Ok(Box::new(LinkHeader))
}

impl Paginator for LinkHeader {
    fn needed_roles(&self) -> &'static [NeededRole] {
        &[NeededRole::Page]
    }

    fn writes_body(&self) -> bool {
        false
    }

    fn paginate(&self, input: PageInput<'_>) -> Result<PageOutput, ApiError> {
        let query = input.query;
        let total = input.records.len();
        let (index, start) = page_start(&input);
        let pages = u64::try_from(total.div_ceil(input.size.max(1)))
            .unwrap_or(u64::MAX)
            .max(1);
        let first = query.page_start;
        let current = first.saturating_add(index);
        let last = first + pages - 1;
        let param = query.page_param.as_deref().unwrap_or("page");
        let link = |page: u64, rel: &str| {
            let url = input.url.with(&[(param, Some(page.to_string()))]);
            format!("<{url}>; rel=\"{rel}\"")
        };
        let mut links = Vec::new();
        if current > first {
            links.push(link(current.min(last + 1) - 1, "prev"));
        }
        if current < last {
            links.push(link(current + 1, "next"));
            links.push(link(last, "last"));
        }
        if current > first {
            links.push(link(first, "first"));
        }
        let (records, _) = window(input.records, start, input.size);
        let headers = if links.is_empty() {
            Vec::new()
        } else {
            vec![("link".to_owned(), links.join(", "))]
        };
        Ok(PageOutput {
            records,
            fields: Vec::new(),
            headers,
        })
    }
}
