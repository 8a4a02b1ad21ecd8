//! A received response (status, headers, whole body) and JSON path lookups.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::redact::Redactor;
use crate::{Error, Result};

/// A successful (status below 400) response with its whole body read.
///
/// Error statuses never reach here: [`RequestBuilder::send`](crate::RequestBuilder::send)
/// turns them into [`Error`]s after retries.
pub struct Response {
    pub(crate) status: u16,
    /// The URL finally answered (after redirects), without credentials added by [`crate::Auth`].
    pub(crate) url: Url,
    /// Lower-case names, in the order received; a name may repeat.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) redactor: Arc<Redactor>,
}

impl Response {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// Every value of a header (e.g. several `Link` headers), by case-insensitive name.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All headers as (lower-case name, value) pairs, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(None, &e.to_string()))
    }

    /// The value at a JSON path of the body (see [`json_path`]), decoded; a missing path is an
    /// error naming it.
    pub fn json_at<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let body: Value = self.json()?;
        let value = json_path(&body, path)
            .ok_or_else(|| self.decode_error(Some(path), "no such path in the body"))?;
        T::deserialize(value).map_err(|e| self.decode_error(Some(path), &e.to_string()))
    }

    /// The URL that answered, redacted for display.
    pub fn url_redacted(&self) -> String {
        self.redactor.url(&self.url)
    }

    /// A decode error naming this response's URL; decoder messages can quote body text, so they
    /// are scrubbed too.
    pub(crate) fn decode_error(&self, path: Option<&str>, message: &str) -> Error {
        Error::Decode {
            url: self.url_redacted(),
            path: path.map(str::to_owned),
            message: self.redactor.text(message).into_owned(),
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), self.redactor.header(n, v).into_owned()))
            .collect();
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &self.url_redacted())
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

pub(crate) fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value at a dot-separated path: `""` is the whole value, `"data"` a key,
/// `"results.items"` a nested key, and a numeric segment indexes an array (`"items.0.id"`).
pub fn json_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    segments(path).try_fold(value, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Mutable form of [`json_path`].
pub(crate) fn json_path_mut<'a>(value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    segments(path).try_fold(value, |v, seg| match v {
        Value::Object(map) => map.get_mut(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('.').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_paths() {
        let v = json!({"data": [1, 2], "results": {"items": [{"id": "a"}]}, "n": null});
        assert_eq!(json_path(&v, ""), Some(&v));
        assert_eq!(json_path(&v, "data"), Some(&json!([1, 2])));
        assert_eq!(json_path(&v, "results.items.0.id"), Some(&json!("a")));
        assert_eq!(json_path(&v, "n"), Some(&Value::Null));
        assert_eq!(json_path(&v, "missing.key"), None);
        assert_eq!(json_path(&v, "data.7"), None);
        assert_eq!(json_path(&v, "data.x"), None);
        let mut m = v.clone();
        *json_path_mut(&mut m, "results.items.0.id").unwrap() = json!("b");
        assert_eq!(json_path(&m, "results.items.0.id"), Some(&json!("b")));
    }

    #[test]
    fn decoding_names_url_and_path() {
        let response = Response {
            status: 200,
            url: Url::parse("https://api.example.com/items?page=2").unwrap(),
            headers: vec![("link".into(), "<a>".into()), ("Link".into(), "<b>".into())],
            body: br#"{"data": {"count": "many"}}"#.to_vec(),
            redactor: Arc::default(),
        };
        assert_eq!(response.header("LINK"), Some("<a>"));
        assert_eq!(response.header_all("link").count(), 2);
        let err = response.json_at::<u64>("data.count").unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(
                "cannot decode the response of https://api.example.com/items?page=2 at `data.count`"
            ),
            "{shown}"
        );
        let err = response.json_at::<u64>("data.total").unwrap_err();
        assert!(err.to_string().contains("no such path"), "{err}");
        let value: Value = response.json().unwrap();
        assert_eq!(value["data"]["count"], "many");
    }
}
