//! Cassettes: recorded request/response pairs, with secrets and e-mail addresses redacted and
//! long JSON arrays trimmed, so a recording of a real API can be committed next to a connector.
//!
//! Redacted: secret headers, secret query and form parameters (also inside URLs), JSON fields
//! with secret names at any depth, user info in URLs, and e-mail addresses.
//!
//! The upstream base URL in response headers and bodies is stored as `{{base_url}}` and replaced
//! with the serving simulator's base URL on replay, so pagination links stay on the simulator.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// Stands for the upstream base URL in recorded responses.
pub(crate) const BASE_URL_PLACEHOLDER: &str = "{{base_url}}";
/// What secrets are replaced with.
pub(crate) const REDACTED: &str = "REDACTED";
/// What e-mail addresses are replaced with.
pub(crate) const REDACTED_EMAIL: &str = "redacted@example.com";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cassette {
    pub(crate) version: u32,
    pub(crate) upstream: String,
    pub(crate) interactions: Vec<Interaction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Interaction {
    pub(crate) request: RecordedRequest,
    pub(crate) response: RecordedResponse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordedRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) query: Vec<(String, String)>,
    #[serde(default)]
    pub(crate) headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Body::is_empty")]
    pub(crate) body: Body,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordedResponse {
    pub(crate) status: u16,
    #[serde(default)]
    pub(crate) headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Body::is_empty")]
    pub(crate) body: Body,
}

/// A body as JSON when it parses, as text when it is UTF-8, as base64 otherwise.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base64: Option<String>,
}

impl Body {
    fn is_empty(&self) -> bool {
        self.json.is_none() && self.text.is_none() && self.base64.is_none()
    }

    /// Redacts and trims a body for the cassette; `upstream` becomes the placeholder.
    /// `content_type` (the body's `Content-Type` header) tells form bodies apart; a text body
    /// that looks like a form (`a=1&b=2`) is treated as one too.
    pub(crate) fn record(
        bytes: &[u8],
        content_type: Option<&str>,
        upstream: &str,
        array_limit: usize,
    ) -> Self {
        if bytes.is_empty() {
            return Self::default();
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Self {
                base64: Some(STANDARD.encode(bytes)),
                ..Self::default()
            };
        };
        let text = text.replace(upstream, BASE_URL_PLACEHOLDER);
        match serde_json::from_str::<Value>(&text) {
            Ok(mut json) => {
                scrub_json(&mut json, array_limit);
                Self {
                    json: Some(json),
                    ..Self::default()
                }
            }
            Err(_) => {
                let form = content_type.is_some_and(is_form_type) || looks_like_form(&text);
                Self {
                    text: Some(if form {
                        redact_form(&text)
                    } else {
                        redact_text(&text)
                    }),
                    ..Self::default()
                }
            }
        }
    }

    /// The bytes to serve, with the placeholder replaced by `base_url`.
    pub(crate) fn replay(&self, base_url: &str) -> Vec<u8> {
        if let Some(json) = &self.json {
            json.to_string()
                .replace(BASE_URL_PLACEHOLDER, base_url)
                .into_bytes()
        } else if let Some(text) = &self.text {
            text.replace(BASE_URL_PLACEHOLDER, base_url).into_bytes()
        } else if let Some(encoded) = &self.base64 {
            STANDARD.decode(encoded).unwrap_or_default()
        } else {
            Vec::new()
        }
    }
}

impl Cassette {
    pub(crate) fn new(upstream: &str) -> Self {
        Self {
            version: 1,
            upstream: upstream.to_owned(),
            interactions: Vec::new(),
        }
    }

    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|cause| Error::Io {
            path: path.to_owned(),
            cause,
        })?;
        let cassette: Self = serde_json::from_str(&text).map_err(|e| Error::Cassette {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if cassette.version != 1 {
            return Err(Error::Cassette {
                path: path.to_owned(),
                message: format!("unsupported version {} (expected 1)", cassette.version),
            });
        }
        Ok(cassette)
    }

    /// Writes the whole cassette through a temporary file, so a reader never sees half of it.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let io = |cause| Error::Io {
            path: path.to_owned(),
            cause,
        };
        let mut text = serde_json::to_string_pretty(self).map_err(|e| Error::Cassette {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        text.push('\n');
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        std::fs::write(&temporary, text).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }
}

/// Headers whose values are credentials or sessions.
pub(crate) fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization"
            | "proxy-authorization"
            | "cookie"
            | "set-cookie"
            | "x-api-key"
            | "api-key"
            | "apikey"
    ) || [
        "token",
        "secret",
        "api-key",
        "api_key",
        "apikey",
        "password",
        "session",
        "signature",
    ]
    .iter()
    .any(|part| name.contains(part))
}

/// Query and form parameters whose values are credentials. A bracketed name
/// (`credentials[password]`) is judged by its innermost key as well.
pub(crate) fn is_secret_param(name: &str) -> bool {
    if let Some(inner) = name
        .strip_suffix(']')
        .and_then(|head| head.rsplit_once('['))
        .map(|(_, inner)| inner)
        && is_secret_param(inner)
    {
        return true;
    }
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "api_key"
            | "apikey"
            | "key"
            | "token"
            | "access_token"
            | "refresh_token"
            | "secret"
            | "client_secret"
            | "password"
            | "signature"
            | "sig"
            | "code"
    ) || ["_token", "_key", "_secret", "_password"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// JSON object keys whose values are credentials, compared case-insensitively and ignoring `_`
/// and `-` (so `access_token`, `accessToken` and `Access-Token` are one name). Pagination tokens
/// (`next_page_token`, `sync_token`) are not secrets: a replay must be able to follow them.
pub(crate) fn is_secret_field(name: &str) -> bool {
    let name: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        name.as_str(),
        "token"
            | "accesstoken"
            | "refreshtoken"
            | "idtoken"
            | "authtoken"
            | "apitoken"
            | "bearertoken"
            | "sessiontoken"
            | "password"
            | "passwd"
            | "passphrase"
            | "secret"
            | "clientsecret"
            | "apikey"
            | "privatekey"
            | "secretkey"
            | "secretaccesskey"
    ) || ["secret", "password", "apikey"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// A header value for the cassette. `Authorization: Bearer x` keeps its scheme.
pub(crate) fn redact_header(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return redact_text(value);
    }
    match value.split_once(' ') {
        Some((scheme, _))
            if name.eq_ignore_ascii_case("authorization")
                || name.eq_ignore_ascii_case("proxy-authorization") =>
        {
            format!("{scheme} {REDACTED}")
        }
        _ => REDACTED.to_owned(),
    }
}

pub(crate) fn redact_param(name: &str, value: &str) -> String {
    if is_secret_param(name) {
        REDACTED.to_owned()
    } else {
        redact_emails(value)
    }
}

/// Replaces the values of fields with secret names (see [`is_secret_field`]) at any depth with
/// [`REDACTED`] (`null` and booleans stay: they hold no secret), redacts every other string with
/// [`redact_text`], and trims arrays longer than `array_limit`.
pub(crate) fn scrub_json(value: &mut Value, array_limit: usize) {
    match value {
        Value::String(s) => {
            let redacted = redact_text(s);
            if redacted != *s {
                *s = redacted;
            }
        }
        Value::Array(items) => {
            items.truncate(array_limit);
            for item in items {
                scrub_json(item, array_limit);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if is_secret_field(key) && !matches!(item, Value::Null | Value::Bool(_)) {
                    *item = Value::String(REDACTED.to_owned());
                } else {
                    scrub_json(item, array_limit);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Redacts user info and secret query parameters of URLs, and e-mail addresses, in free text.
pub(crate) fn redact_text(text: &str) -> String {
    redact_emails(&redact_url_params(&strip_userinfo(text)))
}

/// Whether a `Content-Type` is `application/x-www-form-urlencoded`.
fn is_form_type(content_type: &str) -> bool {
    content_type
        .trim_start()
        .get(..33)
        .is_some_and(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Whether a text is shaped like a form body: `key=value` pairs joined by `&`, without spaces.
fn looks_like_form(text: &str) -> bool {
    let text = text.trim_end();
    !text.is_empty()
        && !text.contains(char::is_whitespace)
        && text.split('&').all(|pair| {
            pair.split_once('=').is_some_and(|(key, _)| {
                !key.is_empty()
                    && key.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']' | '%')
                    })
            })
        })
}

/// Redacts a form body (`client_secret=abc&grant_type=x`): the values of secret parameters,
/// starting with the first one, and in the other values (decoded) e-mail addresses, user info and
/// secret parameters of URLs. Untouched pairs are kept byte for byte.
pub(crate) fn redact_form(text: &str) -> String {
    let decode = |part: &str| crate::spec::percent_decode(&part.replace('+', " "));
    text.split('&')
        .map(|pair| {
            let Some((key, value)) = pair.split_once('=') else {
                return redact_text(pair);
            };
            if is_secret_param(&decode(key)) {
                return format!("{key}={REDACTED}");
            }
            let decoded = decode(value);
            let redacted = redact_text(&decoded);
            if redacted == decoded {
                pair.to_owned()
            } else {
                let encoded: String =
                    url::form_urlencoded::byte_serialize(redacted.as_bytes()).collect();
                format!("{key}={encoded}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Removes the user info (`user:password@`) of every URL in `text`:
/// `https://me:pw@host/x` becomes `https://host/x`.
pub(crate) fn strip_userinfo(text: &str) -> String {
    let authority_ends = |c: char| {
        c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\' | '`')
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let authority_start = at + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority = &rest[..rest.find(authority_ends).unwrap_or(rest.len())];
        if let Some(user_end) = authority.rfind('@') {
            rest = &rest[user_end + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Replaces the values of secret query parameters in URLs inside `text`
/// (`/x?api_key=abc&page=2` becomes `/x?api_key=REDACTED&page=2`), as in `Link` headers and
/// `next_page` fields.
pub(crate) fn redact_url_params(text: &str) -> String {
    let ends =
        |c: char| c.is_whitespace() || matches!(c, '&' | '>' | '"' | '\'' | ';' | '#' | ',' | '?');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['?', '&']) {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let key_end = rest
            .find(|c: char| c == '=' || ends(c))
            .unwrap_or(rest.len());
        if rest[key_end..].starts_with('=') && is_secret_param(&rest[..key_end]) {
            out.push_str(&rest[..=key_end]);
            out.push_str(REDACTED);
            let value = &rest[key_end + 1..];
            rest = &value[value.find(ends).unwrap_or(value.len())..];
        }
    }
    out.push_str(rest);
    out
}

/// Replaces `local@domain.tld` addresses with [`REDACTED_EMAIL`].
pub(crate) fn redact_emails(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_local =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
    let is_domain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'@' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > copied && is_local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        // A sentence may end right after the address.
        while end > i + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let domain = &text[i + 1..end];
        let tld_ok = domain.rsplit_once('.').is_some_and(|(head, tld)| {
            !head.is_empty() && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
        });
        if start < i && tld_ok && !domain.starts_with('.') {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED_EMAIL);
            copied = end;
            i = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn redacts_emails_in_text() {
        assert_eq!(
            redact_emails("mail ada.l+x@example.org. or bob@corp.io, not a@b or @x.com"),
            "mail redacted@example.com. or redacted@example.com, not a@b or @x.com"
        );
        assert_eq!(redact_emails("no address"), "no address");
    }

    #[test]
    fn scrubs_json_and_trims_arrays() {
        let mut value = json!({"users": [{"email": "a@b.co"}, {"email": "c@d.co"}, {"email": "e@f.co"}], "note": "x"});
        scrub_json(&mut value, 2);
        assert_eq!(
            value,
            json!({"users": [{"email": REDACTED_EMAIL}, {"email": REDACTED_EMAIL}], "note": "x"})
        );
    }

    #[test]
    fn redacts_secret_parameters_inside_urls() {
        assert_eq!(
            redact_url_params(
                "<http://h/x?api_key=abc&page=2>; rel=\"next\", <http://h/x?page=1&access_token=t>"
            ),
            "<http://h/x?api_key=REDACTED&page=2>; rel=\"next\", <http://h/x?page=1&access_token=REDACTED>"
        );
        assert_eq!(redact_url_params("a & b? key"), "a & b? key");
    }

    #[test]
    fn redacts_secret_headers_and_params() {
        assert_eq!(
            redact_header("Authorization", "Bearer abc"),
            "Bearer REDACTED"
        );
        assert_eq!(redact_header("x-api-key", "abc"), REDACTED);
        assert_eq!(redact_header("Set-Cookie", "s=1; Path=/"), REDACTED);
        assert_eq!(
            redact_header("accept", "application/json"),
            "application/json"
        );
        assert_eq!(redact_param("api_key", "k"), REDACTED);
        assert_eq!(redact_param("email", "a@b.io"), REDACTED_EMAIL);
        assert_eq!(redact_param("page", "2"), "2");
    }

    #[test]
    fn bodies_round_trip_with_the_placeholder() {
        let body = Body::record(
            br#"{"next":"http://up:1/x?page=2"}"#,
            None,
            "http://up:1",
            10,
        );
        assert_eq!(body.json, Some(json!({"next": "{{base_url}}/x?page=2"})));
        assert_eq!(
            body.replay("http://127.0.0.1:9"),
            br#"{"next":"http://127.0.0.1:9/x?page=2"}"#.to_vec()
        );
        let binary = Body::record(&[0xff, 0x00], None, "http://up:1", 10);
        assert_eq!(binary.replay("x"), vec![0xff, 0x00]);
    }

    #[test]
    fn redacts_secret_json_fields_at_any_depth() {
        let mut value = json!({
            "access_token": "a", "Refresh_Token": "r", "token_type": "bearer",
            "user": {"name": "x", "Password": "p", "has_password": true, "secret": null},
            "apps": [{"clientSecret": "c", "API-KEY": 42, "credentials": {"token": {"v": "t"}}}],
            "next_page_token": "page-2",
        });
        scrub_json(&mut value, 10);
        assert_eq!(
            value,
            json!({
                "access_token": REDACTED, "Refresh_Token": REDACTED, "token_type": "bearer",
                "user": {"name": "x", "Password": REDACTED, "has_password": true, "secret": null},
                "apps": [{"clientSecret": REDACTED, "API-KEY": REDACTED, "credentials": {"token": REDACTED}}],
                "next_page_token": "page-2",
            })
        );
    }

    #[test]
    fn redacts_form_bodies_from_their_first_key() {
        assert_eq!(
            redact_form("client_secret=s1&grant_type=refresh_token&refresh_token=r1&scope=a+b"),
            "client_secret=REDACTED&grant_type=refresh_token&refresh_token=REDACTED&scope=a+b"
        );
        assert_eq!(
            redact_form("auth%5Bpassword%5D=p&email=ada%40example.org&next=%2Fx%3Ftoken%3Dt"),
            "auth%5Bpassword%5D=REDACTED&email=redacted%40example.com&next=%2Fx%3Ftoken%3DREDACTED"
        );
        let body = |bytes: &[u8], content_type| {
            Body::record(bytes, content_type, "http://up:1", 10)
                .text
                .unwrap()
        };
        assert_eq!(
            body(
                b"access_token=gho_1&scope=repo&token_type=bearer",
                Some("application/x-www-form-urlencoded; charset=utf-8"),
            ),
            "access_token=REDACTED&scope=repo&token_type=bearer"
        );
        assert_eq!(
            body(b"password=p&user=u\n", None),
            "password=REDACTED&user=u\n",
            "a body shaped like a form is one"
        );
        assert_eq!(
            body(b"password=p is not a form", Some("text/plain")),
            "password=p is not a form"
        );
    }

    #[test]
    fn strips_user_info_from_urls() {
        assert_eq!(
            strip_userinfo("https://me:pw@api.example.com/x?y=1"),
            "https://api.example.com/x?y=1"
        );
        assert_eq!(
            redact_text("<http://tok@h:1/a>; rel=\"next\", see https://h.io/@user or ada@h.io"),
            "<http://h:1/a>; rel=\"next\", see https://h.io/@user or redacted@example.com"
        );
        assert_eq!(strip_userinfo("no url, a@b"), "no url, a@b");
    }
}
