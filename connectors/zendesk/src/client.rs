//! The HTTP client as Zendesk wants it: Basic `{email}/token:{api_token}` or a Bearer OAuth
//! token, two request budgets (the account's, and the incremental exports' own), `Retry-After`
//! on 429, cursor pagination for lists, and errors that say what to fix.

use lakeflow_connect::{Error, Result};
use lakeflow_http::{Auth, HttpClient, HttpConfig, Pages, Pagination, RequestBuilder, RetryPolicy};

use crate::config::{ClientSettings, Credentials};

const USER_AGENT: &str = concat!("lakeflow-zendesk/", env!("CARGO_PKG_VERSION"));

/// Attempts per request: enough to ride out a few 429s (each waits its `Retry-After`) and 5xx.
const MAX_ATTEMPTS: u32 = 8;

/// A Zendesk API client; cheap to clone. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub(crate) struct ZendeskClient {
    /// Lists and writes, under the account's budget.
    http: HttpClient,
    /// The incremental exports, under their own budget (10 a minute by default).
    exports: HttpClient,
}

impl ZendeskClient {
    pub(crate) fn new(settings: &ClientSettings) -> Result<Self> {
        let build = |requests_per_minute| {
            let config = HttpConfig::default()
                .base_url(settings.base_url.clone())
                .auth(auth(&settings.credentials))
                .budget(ClientSettings::budget(requests_per_minute))
                .retry(RetryPolicy {
                    max_attempts: MAX_ATTEMPTS,
                    ..RetryPolicy::default()
                })
                .header("Accept", "application/json")
                .user_agent(USER_AGENT);
            lakeflow_kit::http_client(config, &settings.base_url)
        };
        Ok(Self {
            http: build(settings.requests_per_minute)?,
            exports: build(settings.export_requests_per_minute)?,
        })
    }

    /// A GET of an incremental export, under the exports' budget.
    pub(crate) fn export(&self, path: &str) -> RequestBuilder {
        self.exports.get(path)
    }
}

/// GETs and writes under the account's budget (the write-back of tests creates, updates and
/// deletes tickets); paths are relative to the account's root.
impl lakeflow_kit::ApiClient for ZendeskClient {
    fn http(&self) -> &HttpClient {
        &self.http
    }
}

fn auth(credentials: &Credentials) -> Auth {
    match credentials {
        Credentials::ApiToken { email, token } => {
            Auth::basic(format!("{email}/token"), token.clone())
        }
        Credentials::OAuth(token) => Auth::bearer(token.clone()),
    }
}

impl lakeflow_kit::PageSource for ZendeskClient {
    fn service(&self) -> &str {
        "Zendesk"
    }

    /// Lists follow `meta.after_cursor` with `page[after]` (cursor pagination: offset paging
    /// fails past 10,000 records). Exports are paged by the kit with their own tokens.
    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        request.pages(
            Pagination::Cursor {
                token_path: "meta.after_cursor".into(),
                param: "page[after]".into(),
            },
            records_path,
        )
    }

    fn errors(&self) -> lakeflow_kit::ErrorMap {
        with_context
    }
}

/// An HTTP error while reading `context`, with what Zendesk's answer usually means.
pub(crate) fn with_context(context: &str, error: lakeflow_http::Error) -> Error {
    let hint = match error.status() {
        Some(401) => Some(
            "Zendesk refused the credentials: check `email` and `api_token` (and that token \
             access is on in Admin Center), or `oauth_token`",
        ),
        Some(403) => Some(
            "the user lacks a permission this endpoint needs: the incremental exports need an \
             admin, an OAuth token needs the `read` scope",
        ),
        Some(404) => Some(
            "no such Zendesk account or endpoint: check `subdomain` (or `base_url`); articles \
             and topics also need Help Center and community to be on",
        ),
        Some(400 | 422) if error.to_string().contains("start_time") => Some(
            "Zendesk refuses an export's start_time in the future or within the last minute: \
             check `start_date` and the clock",
        ),
        _ => None,
    };
    lakeflow_kit::with_hint(context, hint, error)
}
