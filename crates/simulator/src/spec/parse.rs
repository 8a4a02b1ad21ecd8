//! YAML spec -> [`Spec`]. Parsing is layered: each mapping is deserialized on its own with
//! `deny_unknown_fields`, so an error names the endpoint, the key path and the line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::endpoint::parse_endpoint;
use super::params::parse_auth_setting;
use lakeflow_yaml::join_path;

use super::yaml::{self, Doc};
use super::{RateLimitSpec, Spec};
use crate::api::{Auth, AuthScheme, ErrorFormat, OAuthSpec};
use crate::corpus;
use crate::error::{Error, Result, SpecError};
use crate::faults::FaultProfile;
use crate::value::parse_now;

/// Where corpus files come from.
#[derive(Debug, Clone)]
pub(crate) enum Files {
    /// Relative to the spec's directory.
    Dir(PathBuf),
    /// Compiled into the binary: (relative name, contents).
    Embedded(BTreeMap<String, String>),
}

impl Files {
    fn read(&self, name: &str) -> std::result::Result<String, String> {
        match self {
            Self::Dir(dir) => {
                let path = dir.join(name);
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read corpus file `{}`: {e}", path.display()))
            }
            Self::Embedded(files) => files.get(name).cloned().ok_or_else(|| {
                let known: Vec<&str> = files.keys().map(String::as_str).collect();
                format!(
                    "corpus file `{name}` is not among the embedded files ({})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )
            }),
        }
    }
}

/// Error context: the file and its line index.
pub(super) struct Ctx<'a> {
    file: &'a str,
    doc: &'a Doc,
}

impl Ctx<'_> {
    pub(super) fn error(&self, path: &str, location: &str, message: impl Into<String>) -> Error {
        Error::Spec(SpecError::new(
            self.file,
            self.doc.line(path),
            location,
            message,
        ))
    }

    /// Deserializes one mapping; an unknown key's error points at that key's line.
    pub(super) fn de<T: DeserializeOwned>(
        &self,
        value: &Value,
        path: &str,
        location: &str,
    ) -> Result<T> {
        serde_json::from_value(value.clone())
            .map_err(|e| self.serde_error(&e.to_string(), path, location))
    }

    pub(super) fn serde_error(&self, message: &str, path: &str, location: &str) -> Error {
        let key = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next());
        let at = key.map_or_else(|| path.to_owned(), |key| join_path(path, key));
        self.error(&at, location, message)
    }
}

/// `endpoint `NAME`, key `KEY`` (or without the key).
pub(super) fn at(endpoint: &str, key: &str) -> String {
    if key.is_empty() {
        format!("endpoint `{endpoint}`")
    } else {
        format!("endpoint `{endpoint}`, key `{key}`")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: String,
    #[allow(dead_code)] // documentation only
    description: Option<String>,
    now: Option<String>,
    auth: Option<Value>,
    oauth: Option<Value>,
    rate_limit: Option<Value>,
    error_body: Option<Value>,
    endpoints: Vec<Value>,
    #[serde(default)]
    faults: BTreeMap<String, Value>,
    #[serde(default)]
    table_options: BTreeMap<String, Value>,
    #[serde(default)]
    connection_options: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    requests: u64,
    window_seconds: f64,
    #[serde(default = "default_limit_status")]
    status: u16,
    #[serde(default)]
    retry_after: bool,
}

fn default_limit_status() -> u16 {
    403
}

/// Parses and validates a spec; `file` names it in errors.
pub(crate) fn parse_spec(file: &str, text: &str, files: &Files) -> Result<Spec> {
    let doc = yaml::parse(text, file)?;
    let ctx = Ctx { file, doc: &doc };
    let raw: RawSpec = ctx.de(&doc.root, "", "")?;
    let now = match &raw.now {
        Some(text) => Some(parse_now(text).ok_or_else(|| {
            ctx.error(
                "now",
                "key `now`",
                format!("`{text}` is not an RFC 3339 date-time"),
            )
        })?),
        None => None,
    };
    let oauth = match &raw.oauth {
        Some(value) => {
            let spec: OAuthSpec = ctx.de(value, "oauth", "key `oauth`")?;
            spec.validate()
                .map_err(|message| ctx.error("oauth", "key `oauth`", message))?;
            Some(spec)
        }
        None => None,
    };
    let auth = match (&raw.auth, &oauth) {
        (Some(_), Some(_)) => {
            return Err(ctx.error(
                "auth",
                "key `auth`",
                "`auth` and `oauth` exclude each other: with `oauth`, endpoints take the access tokens it issues",
            ));
        }
        (Some(value), None) => parse_auth_setting(&ctx, value, "auth", "key `auth`")?,
        (None, Some(_)) => Some(Auth {
            scheme: AuthScheme::OAuth,
            wrong_status: 401,
        }),
        (None, None) => None,
    };
    let rate_limit = raw
        .rate_limit
        .as_ref()
        .map(|value| parse_rate_limit(&ctx, value))
        .transpose()?;
    let errors = match &raw.error_body {
        Some(value) => ErrorFormat::from_spec(value)
            .map_err(|message| ctx.serde_error(&message, "error_body", "key `error_body`"))?,
        None => ErrorFormat::default(),
    };
    let mut faults = BTreeMap::new();
    for (name, value) in &raw.faults {
        let path = join_path("faults", name);
        let profile = FaultProfile::from_spec(value).map_err(|(rule, message)| {
            let rule_path = rule.map_or_else(|| path.clone(), |i| format!("{path}.rules[{i}]"));
            let location = rule.map_or_else(
                || format!("fault profile `{name}`"),
                |i| format!("fault profile `{name}`, rule {}", i + 1),
            );
            ctx.serde_error(&message, &rule_path, &location)
        })?;
        faults.insert(name.clone(), profile);
    }
    let table_options = scalar_options(&ctx, "table_options", "table option", &raw.table_options)?;
    let connection_options = scalar_options(
        &ctx,
        "connection_options",
        "connection option",
        &raw.connection_options,
    )?;
    let mut spec = Spec {
        name: raw.name,
        now,
        table_options,
        connection_options,
        rate_limit,
        oauth,
        errors,
        endpoints: Vec::new(),
        faults,
        corpora: BTreeMap::new(),
    };
    for (index, value) in raw.endpoints.iter().enumerate() {
        let endpoint = parse_endpoint(&ctx, &mut spec, files, auth.as_ref(), value, index)?;
        spec.endpoints.push(endpoint);
    }
    if spec.endpoints.is_empty() {
        return Err(ctx.error(
            "endpoints",
            "key `endpoints`",
            "at least one endpoint is required",
        ));
    }
    Ok(spec)
}

fn parse_rate_limit(ctx: &Ctx<'_>, value: &Value) -> Result<RateLimitSpec> {
    let raw: RawRateLimit = ctx.de(value, "rate_limit", "key `rate_limit`")?;
    if raw.requests == 0 || !(raw.window_seconds > 0.0 && raw.window_seconds.is_finite()) {
        return Err(ctx.error(
            "rate_limit",
            "key `rate_limit`",
            "`requests` and `window_seconds` must be positive",
        ));
    }
    if !matches!(raw.status, 403 | 429) {
        return Err(ctx.error(
            "rate_limit.status",
            "key `rate_limit.status`",
            "must be 403 or 429",
        ));
    }
    Ok(RateLimitSpec {
        requests: raw.requests,
        window: std::time::Duration::from_secs_f64(raw.window_seconds),
        status: raw.status,
        retry_after: raw.retry_after,
    })
}

/// Loads a corpus file once; later endpoints naming it share the records.
pub(super) fn load_corpus(
    ctx: &Ctx<'_>,
    spec: &mut Spec,
    files: &Files,
    name: &str,
    path: &str,
    location: &str,
) -> Result<()> {
    if spec.corpora.contains_key(name) {
        return Ok(());
    }
    let text = files.read(name).map_err(|m| ctx.error(path, location, m))?;
    let records = corpus::parse(&text)
        .map_err(|m| ctx.error(path, location, format!("corpus file `{name}`: {m}")))?;
    spec.corpora.insert(name.to_owned(), records);
    Ok(())
}

/// Options given as a mapping of names to scalars (`table_options`, `connection_options`), as
/// text.
fn scalar_options(
    ctx: &Ctx<'_>,
    key: &str,
    what: &str,
    raw: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, String>> {
    let mut options = BTreeMap::new();
    for (name, value) in raw {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(ctx.error(
                    &join_path(key, name),
                    &format!("{what} `{name}`"),
                    "must be a string, a number or a boolean",
                ));
            }
        };
        options.insert(name.clone(), text);
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROWS: &str = "endpoints:\n  - path: /rows\n    corpus: rows.json\n";

    fn parse(head: &str) -> Result<Spec> {
        let files = Files::Embedded(BTreeMap::from([(
            "rows.json".to_owned(),
            r#"[{"id": 1}]"#.to_owned(),
        )]));
        parse_spec("spec.yaml", &format!("name: x\n{head}{ROWS}"), &files)
    }

    #[test]
    fn table_options_are_read_as_text_and_default_to_none() {
        assert!(parse("").unwrap().table_options.is_empty());
        let spec =
            parse("table_options: { owner: acme, repo: rover, limit: 5, all: true }\n").unwrap();
        let expected = [
            ("all", "true"),
            ("limit", "5"),
            ("owner", "acme"),
            ("repo", "rover"),
        ]
        .map(|(name, text)| (name.to_owned(), text.to_owned()));
        assert_eq!(spec.table_options, BTreeMap::from(expected));
        let spec = parse("connection_options: { email: me@example.com }\n").unwrap();
        assert_eq!(spec.connection_options["email"], "me@example.com");
        let err = parse("table_options:\n  owner: [acme]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "spec.yaml:3: table option `owner`: must be a string, a number or a boolean"
        );
    }
}
