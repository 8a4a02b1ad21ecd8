//! Building one request: URL, query, headers, body, and whether it may be repeated.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::replace_header;
use crate::pagination::{Pages, Pagination};
use crate::{Error, HttpClient, Response, Result};

/// Methods that mean the same thing when repeated (RFC 9110 section 9.2.2), so retrying them
/// after a failure is safe.
const IDEMPOTENT: &[&str] = &["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"];

/// A request being built; nothing is sent until [`send`](Self::send) (or a page is pulled from
/// [`pages`](Self::pages)). Cheap to clone.
///
/// `Debug` shows the method, the redacted URL and header names with sensitive values hidden.
#[derive(Clone)]
pub struct RequestBuilder {
    pub(crate) client: HttpClient,
    pub(crate) method: String,
    /// The target, or why it could not be built (reported by `send`, never panicking).
    pub(crate) url: std::result::Result<Url, (String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) body_error: Option<String>,
    pub(crate) idempotent: bool,
}

impl RequestBuilder {
    pub(crate) fn new(client: HttpClient, method: &str, url: &str) -> Self {
        let method = method.to_ascii_uppercase();
        let idempotent = IDEMPOTENT.contains(&method.as_str());
        let url = client.url(url).map_err(|e| match e {
            Error::InvalidUrl { url, reason } => (url, reason),
            other => (String::new(), other.to_string()),
        });
        Self {
            client,
            method,
            url,
            headers: Vec::new(),
            body: None,
            body_error: None,
            idempotent,
        }
    }

    /// Appends a query parameter (values are percent-encoded).
    #[must_use]
    pub fn query(mut self, name: &str, value: impl fmt::Display) -> Self {
        if let Ok(url) = &mut self.url {
            url.query_pairs_mut().append_pair(name, &value.to_string());
        }
        self
    }

    /// Sets a query parameter, replacing any value it already has (pagination uses this).
    #[must_use]
    pub fn set_query(mut self, name: &str, value: impl fmt::Display) -> Self {
        if let Ok(url) = &mut self.url {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != name)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair(name, &value.to_string());
        }
        self
    }

    /// Sets a header for this request, replacing a configured default of the same name.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        replace_header(&mut self.headers, name.into(), value.into());
        self
    }

    /// Sends `body` as JSON (`Content-Type: application/json`).
    #[must_use]
    pub fn json(mut self, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Some(bytes);
                self.header("content-type", "application/json")
            }
            Err(e) => {
                self.body_error = Some(format!("cannot serialize the JSON body: {e}"));
                self
            }
        }
    }

    /// Sets one top-level field of the JSON object body (pagination in the body uses this); a
    /// body that is not a JSON object is an error when sent.
    #[must_use]
    pub(crate) fn set_body_field(mut self, name: &str, value: serde_json::Value) -> Self {
        let parsed = self
            .body
            .as_deref()
            .map(serde_json::from_slice::<serde_json::Value>);
        match parsed {
            Some(Ok(serde_json::Value::Object(mut object))) => {
                object.insert(name.to_owned(), value);
                self.json(&object)
            }
            _ => {
                self.body_error = Some(format!(
                    "cannot set `{name}` for the next page: the request body is not a JSON object"
                ));
                self
            }
        }
    }

    /// Sends raw bytes with the given content type.
    #[must_use]
    pub fn body(mut self, bytes: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = Some(bytes.into());
        self.header("content-type", content_type)
    }

    /// Declares that repeating this request is harmless (e.g. a search sent as POST), so it is
    /// retried like a GET. Without this, POST and PATCH are retried only when the server cannot
    /// have acted on them: connection refused, or rate limited.
    #[must_use]
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Sends the request, retrying per the client's policy. Statuses of 400 and above are
    /// errors: [`Error::Auth`], [`Error::RateLimited`], [`Error::Status`].
    pub fn send(&self) -> Result<Response> {
        let url = self
            .url
            .as_ref()
            .map_err(|(url, reason)| Error::InvalidUrl {
                url: url.clone(),
                reason: reason.clone(),
            })?;
        if let Some(reason) = &self.body_error {
            return Err(Error::InvalidRequest {
                method: self.method.clone(),
                url: self.client.redactor().url(url),
                reason: reason.clone(),
            });
        }
        self.client.execute(self, url)
    }

    /// Sends the request and decodes the JSON body.
    pub fn send_json<T: DeserializeOwned>(&self) -> Result<T> {
        self.send()?.json()
    }

    /// A lazy iterator over the pages this request starts, following `pagination`; each page's
    /// records are the array at `records_path` (`""` for a top-level array, `"data"`,
    /// `"results.items"`). No request is made until the first page is pulled.
    pub fn pages(self, pagination: Pagination, records_path: &str) -> Pages {
        Pages::new(self, pagination, records_path)
    }

    /// The target URL, when it could be built (it may hold secrets the caller put in the query;
    /// prefer `Debug` for display).
    pub fn url(&self) -> Option<&Url> {
        self.url.as_ref().ok()
    }

    /// The same request aimed at another URL (pagination `next` links), query and all.
    pub(crate) fn with_url(mut self, url: Url) -> Self {
        self.url = Ok(url);
        self
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redactor = self.client.redactor();
        let url = match &self.url {
            Ok(url) => redactor.url(url),
            Err((url, reason)) => format!("invalid: {url} ({reason})"),
        };
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), redactor.header(n, v).into_owned()))
            .collect();
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("url", &url)
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("idempotent", &self.idempotent)
            .finish_non_exhaustive()
    }
}
