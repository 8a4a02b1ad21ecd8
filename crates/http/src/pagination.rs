//! Lazy pagination over the common API styles, and the `Link` header parser.

use serde_json::Value;

use crate::link::parse_link_header;
use crate::response::{json_path, json_path_mut};
use crate::{Error, RequestBuilder, Response, Result};

/// How an API links one page to the next. Every style also stops at a page with no records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// One request, one page.
    Single,
    /// RFC 8288 `Link: <url>; rel="next"` (GitHub, GitLab); stops when there is no `next`.
    LinkHeader,
    /// The next page's URL at a JSON path of the body (Zendesk `next_page`, HubSpot
    /// `paging.next.link`); stops when it is missing, null or empty.
    NextUrl {
        /// JSON path of the URL.
        path: String,
    },
    /// A token at a JSON path of the body, sent back as a query parameter; stops when it is
    /// missing, null, empty or repeated.
    Cursor {
        /// JSON path of the token, e.g. `meta.next_cursor`.
        token_path: String,
        /// Query parameter carrying it, e.g. `cursor`.
        param: String,
    },
    /// Page numbers in a query parameter, from `first`; a page shorter than `page_size` (when
    /// given) is the last. Set the page-size parameter on the request yourself.
    PageNumber {
        /// Query parameter, e.g. `page`.
        param: String,
        /// The first page's number (usually 1, sometimes 0).
        first: u64,
        /// Records per full page.
        page_size: Option<u64>,
    },
    /// Offset and limit query parameters; a page shorter than `limit` is the last.
    Offset {
        /// Query parameter for the offset, e.g. `offset`.
        offset_param: String,
        /// Query parameter for the page size, e.g. `limit`.
        limit_param: String,
        /// Records per page.
        limit: u64,
    },
    /// A boolean "more" flag; the next request passes the last record's id (Stripe
    /// `has_more` + `starting_after`).
    HasMore {
        /// JSON path of the flag, e.g. `has_more`.
        has_more_path: String,
        /// Field of a record holding its id, e.g. `id`.
        id_field: String,
        /// Query parameter for the id, e.g. `starting_after`.
        param: String,
    },
    /// A token at a JSON path of the body, sent back in the JSON body of the (POST) request, as
    /// HubSpot's search takes `paging.next.after` in its `after` field; stops when it is
    /// missing, null, empty or repeated. The request must carry a JSON object body.
    BodyCursor {
        /// JSON path of the token, e.g. `paging.next.after`.
        token_path: String,
        /// Top-level field of the request body carrying it, e.g. `after`.
        field: String,
    },
    /// Another style, also ended by a flag in the body: a page whose `flag_path` holds `true` is
    /// the last, whatever link it carries. Zendesk's incremental exports need it: their
    /// `after_url`, `after_cursor` and `next_page` are present on every page, and only
    /// `end_of_stream` says the walk is over (without it the walk costs one more request, for an
    /// empty page, and with Zendesk's overlapping time export it would never end). Built with
    /// [`Pagination::until_flag`].
    UntilFlag {
        /// JSON path of the flag, e.g. `end_of_stream`; only the boolean `true` ends the walk.
        flag_path: String,
        /// The style that links the pages.
        inner: Box<Pagination>,
    },
}

impl Pagination {
    /// [`Pagination::NextUrl`].
    pub fn next_url(path: &str) -> Self {
        Self::NextUrl { path: path.into() }
    }

    /// [`Pagination::Cursor`].
    pub fn cursor(token_path: &str, param: &str) -> Self {
        Self::Cursor {
            token_path: token_path.into(),
            param: param.into(),
        }
    }

    /// [`Pagination::PageNumber`] starting at 1.
    pub fn page_number(param: &str, page_size: Option<u64>) -> Self {
        Self::PageNumber {
            param: param.into(),
            first: 1,
            page_size,
        }
    }

    /// [`Pagination::Offset`] starting at 0.
    pub fn offset(offset_param: &str, limit_param: &str, limit: u64) -> Self {
        Self::Offset {
            offset_param: offset_param.into(),
            limit_param: limit_param.into(),
            limit,
        }
    }

    /// Stripe's style: `has_more`, `id`, `starting_after`.
    pub fn stripe() -> Self {
        Self::HasMore {
            has_more_path: "has_more".into(),
            id_field: "id".into(),
            param: "starting_after".into(),
        }
    }

    /// This style, also stopped by a page whose body holds `true` at `flag_path`
    /// ([`Pagination::UntilFlag`]):
    /// `Pagination::next_url("after_url").until_flag("end_of_stream")` walks a Zendesk cursor
    /// export.
    #[must_use]
    pub fn until_flag(self, flag_path: &str) -> Self {
        Self::UntilFlag {
            flag_path: flag_path.into(),
            inner: Box::new(self),
        }
    }

    /// The style that links pages, under any [`Pagination::UntilFlag`] wrappers.
    fn links(&self) -> &Self {
        match self {
            Self::UntilFlag { inner, .. } => inner.links(),
            other => other,
        }
    }
}

/// One page: its records, the rest of its body, and its response headers.
#[derive(Debug)]
pub struct Page {
    /// 1 for the first page.
    pub number: usize,
    /// The records (the array at the records path, taken out of `body`).
    pub records: Vec<Value>,
    /// The body, with the records replaced by `null`.
    pub body: Value,
    /// The response, without its body bytes (status, headers).
    pub response: Response,
}

/// Pages of a paginated request, fetched one at a time as the iterator is pulled; dropping it
/// (or stopping) makes no further request. Ends after the first error.
#[derive(Debug)]
pub struct Pages {
    next: Option<RequestBuilder>,
    /// Pages fetched on a thread of their own (see [`Pages::read_ahead`]).
    pub(crate) ahead: Option<crate::read_ahead::Ahead>,
    pagination: Pagination,
    records_path: String,
    fetched: usize,
    last_token: Option<String>,
    offset: u64,
    page: u64,
}

impl Pages {
    pub(crate) fn new(request: RequestBuilder, pagination: Pagination, records_path: &str) -> Self {
        let (request, offset, page) = match pagination.links() {
            Pagination::PageNumber { param, first, .. } => {
                (request.set_query(param, first), 0, *first)
            }
            Pagination::Offset {
                offset_param,
                limit_param,
                limit,
            } => (
                request
                    .set_query(offset_param, 0)
                    .set_query(limit_param, limit),
                0,
                0,
            ),
            _ => (request, 0, 0),
        };
        Self {
            next: Some(request),
            ahead: None,
            pagination,
            records_path: records_path.to_owned(),
            fetched: 0,
            last_token: None,
            offset,
            page,
        }
    }

    /// Pages that make no request.
    pub(crate) fn empty() -> Self {
        Self {
            next: None,
            ahead: None,
            pagination: Pagination::Single,
            records_path: String::new(),
            fetched: 0,
            last_token: None,
            offset: 0,
            page: 0,
        }
    }

    /// Whether the pages read so far say there is another (before the first, `true`).
    pub fn has_next(&self) -> bool {
        self.next.is_some() || self.ahead.is_some()
    }

    /// The records of every page, one at a time (pages are still fetched lazily).
    pub fn records(self) -> Records {
        Records {
            pages: self,
            current: Vec::new().into_iter(),
        }
    }

    fn fetch(&mut self, request: RequestBuilder) -> Result<Page> {
        let mut response = request.send()?;
        let mut body: Value = if response.bytes().iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            response.json()?
        };
        let records = take_records(&mut body, &self.records_path)
            .map_err(|message| response.decode_error(Some(&self.records_path), &message))?;
        self.next = if records.is_empty() {
            None
        } else {
            self.follow(request, &response, &body, &records)?
        };
        self.fetched += 1;
        response.body = Vec::new();
        Ok(Page {
            number: self.fetched,
            records,
            body,
            response,
        })
    }

    /// The request for the page after this one, if any.
    fn follow(
        &mut self,
        request: RequestBuilder,
        response: &Response,
        body: &Value,
        records: &[Value],
    ) -> Result<Option<RequestBuilder>> {
        let count = u64::try_from(records.len()).unwrap_or(u64::MAX);
        let mut pagination = &self.pagination;
        while let Pagination::UntilFlag { flag_path, inner } = pagination {
            if json_path(body, flag_path) == Some(&Value::Bool(true)) {
                return Ok(None);
            }
            pagination = inner;
        }
        let next = match pagination {
            // `UntilFlag` cannot remain after the loop above; listed to keep the match exhaustive.
            Pagination::Single | Pagination::UntilFlag { .. } => None,
            Pagination::LinkHeader => {
                let next = response
                    .header_all("link")
                    .flat_map(parse_link_header)
                    .find(|(rel, _)| rel == "next")
                    .map(|(_, url)| url);
                Self::join(request, response, next.as_deref())?
            }
            Pagination::NextUrl { path } => {
                let next = json_path(body, path).and_then(Value::as_str);
                Self::join(request, response, next)?
            }
            Pagination::Cursor { token_path, param } => {
                let token = json_path(body, token_path).and_then(scalar_text);
                // A server handing back the same cursor would loop forever.
                match token.filter(|t| self.last_token.as_ref() != Some(t)) {
                    Some(token) => {
                        let next = request.set_query(param, &token);
                        self.last_token = Some(token);
                        Some(next)
                    }
                    None => None,
                }
            }
            Pagination::BodyCursor { token_path, field } => {
                let token = json_path(body, token_path).and_then(scalar_text);
                match token.filter(|t| self.last_token.as_ref() != Some(t)) {
                    Some(token) => {
                        let next = request.set_body_field(field, Value::String(token.clone()));
                        self.last_token = Some(token);
                        Some(next)
                    }
                    None => None,
                }
            }
            Pagination::PageNumber {
                param, page_size, ..
            } => {
                if page_size.is_some_and(|size| count < size) {
                    None
                } else {
                    self.page += 1;
                    Some(request.set_query(param, self.page))
                }
            }
            Pagination::Offset {
                offset_param,
                limit,
                ..
            } => {
                if count < *limit {
                    None
                } else {
                    self.offset += count;
                    Some(request.set_query(offset_param, self.offset))
                }
            }
            Pagination::HasMore {
                has_more_path,
                id_field,
                param,
            } => {
                if json_path(body, has_more_path) == Some(&Value::Bool(true)) {
                    let id = records
                        .last()
                        .and_then(|r| json_path(r, id_field))
                        .and_then(scalar_text)
                        .ok_or_else(|| {
                            response.decode_error(
                                Some(id_field),
                                "the last record has no id to continue from",
                            )
                        })?;
                    Some(request.set_query(param, id))
                } else {
                    None
                }
            }
        };
        Ok(next)
    }

    /// The request for a `next` URL, resolved against the page's own URL.
    fn join(
        request: RequestBuilder,
        response: &Response,
        next: Option<&str>,
    ) -> Result<Option<RequestBuilder>> {
        let Some(next) = next.filter(|n| !n.trim().is_empty()) else {
            return Ok(None);
        };
        let url = response
            .url
            .join(next.trim())
            .map_err(|e| Error::InvalidUrl {
                url: response.redactor.text(next).into_owned(),
                reason: format!("invalid next-page URL: {e}"),
            })?;
        Ok(Some(request.with_url(url)))
    }
}

impl Iterator for Pages {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Ok(page) = self.next_ahead() {
            return page;
        }
        // Taking the request first makes the iterator end after an error.
        let request = self.next.take()?;
        Some(self.fetch(request))
    }
}

/// Records across pages; see [`Pages::records`].
#[derive(Debug)]
pub struct Records {
    pages: Pages,
    current: std::vec::IntoIter<Value>,
}

impl Iterator for Records {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.current.next() {
                return Some(Ok(record));
            }
            match self.pages.next()? {
                Ok(page) => self.current = page.records.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Takes the records array out of `body`. Missing or null means no records (APIs often omit
/// empty lists); anything else that is not an array is an error.
fn take_records(body: &mut Value, path: &str) -> std::result::Result<Vec<Value>, String> {
    match json_path_mut(body, path).map(Value::take) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(records)) => Ok(records),
        Some(other) => Err(format!(
            "expected an array of records, found {}",
            lakeflow_connect::json_kind(&other)
        )),
    }
}

/// A token or id as text: strings (non-empty) and numbers.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn records_at_paths() {
        let mut body = json!({"results": {"items": [1, 2]}, "meta": {}});
        assert_eq!(
            take_records(&mut body, "results.items").unwrap(),
            [json!(1), json!(2)]
        );
        assert_eq!(body["results"]["items"], Value::Null);
        let mut top = json!([{"id": 1}]);
        assert_eq!(take_records(&mut top, "").unwrap().len(), 1);
        assert!(take_records(&mut json!({}), "data").unwrap().is_empty());
        assert_eq!(
            take_records(&mut json!({"data": {"a": 1}}), "data").unwrap_err(),
            "expected an array of records, found an object"
        );
        assert_eq!(scalar_text(&json!(42)), Some("42".into()));
        assert_eq!(scalar_text(&json!("")), None);
    }

    /// The link `follow` finds for one page of `pages`, whose body is `body`.
    fn next_after(pages: &mut Pages, body: &Value) -> Option<String> {
        let request = pages.next.clone().unwrap();
        let response = Response {
            status: 200,
            url: request.url().unwrap().clone(),
            headers: Vec::new(),
            body: Vec::new(),
            redactor: std::sync::Arc::default(),
        };
        pages
            .follow(request, &response, body, &[json!({"id": 1})])
            .unwrap()
            .map(|next| next.url().unwrap().to_string())
    }

    #[test]
    fn a_flag_ends_the_walk_whatever_the_inner_style_links_to() {
        let client = crate::HttpClient::new(
            crate::HttpConfig::default().base_url("https://fake.zendesk.test"),
        )
        .unwrap();
        let export = Pagination::next_url("next_page").until_flag("meta.end_of_stream");
        let mut pages = client.get("/export").pages(export, "tickets");
        let page = |end: Value| json!({"next_page": "/export?start_time=9", "meta": {"end_of_stream": end}});
        assert_eq!(
            next_after(&mut pages, &page(json!(false))).as_deref(),
            Some("https://fake.zendesk.test/export?start_time=9")
        );
        assert_eq!(next_after(&mut pages, &page(json!(true))), None);
        // Only the boolean `true` ends it; a missing flag or another value leaves the link.
        assert!(next_after(&mut pages, &page(json!("true"))).is_some());
        assert!(next_after(&mut pages, &json!({"next_page": "/export?start_time=9"})).is_some());

        // The wrapped style still sets its first-page parameters and counts pages, and wrappers
        // nest.
        let numbered = Pagination::page_number("page", None)
            .until_flag("done")
            .until_flag("end_of_stream");
        let mut pages = client.get("/items").pages(numbered, "items");
        let first = pages.next.as_ref().unwrap().url().unwrap().to_string();
        assert_eq!(first, "https://fake.zendesk.test/items?page=1");
        assert_eq!(
            next_after(&mut pages, &json!({"done": false})).as_deref(),
            Some("https://fake.zendesk.test/items?page=2")
        );
        assert_eq!(next_after(&mut pages, &json!({"done": true})), None);
        assert_eq!(
            next_after(&mut pages, &json!({"end_of_stream": true})),
            None
        );
    }
}
