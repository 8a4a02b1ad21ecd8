//! The HTTP client as the {{Name}} API wants it: a bearer token, JSON, `Link` pagination and
//! the toolkit's retries.

use lakeflow_connect::{ConnectionOptions, Result};
use lakeflow_http::{Auth, HttpClient, HttpConfig, Pages, Pagination, RequestBuilder};
use lakeflow_kit::options::{base_url, required_secret};

const USER_AGENT: &str = concat!("lakeflow-{{kebab}}/", env!("CARGO_PKG_VERSION"));

/// A {{Name}} API client; cheap to clone. `Debug` never shows the token.
#[derive(Debug, Clone)]
pub(crate) struct {{Name}}Client {
    http: HttpClient,
}

impl {{Name}}Client {
    /// Builds the client from `base_url` and `api_token`.
    pub(crate) fn new(options: &ConnectionOptions) -> Result<Self> {
        let base_url = base_url(options, "base_url", None)?;
        let config = HttpConfig::default()
            .base_url(base_url.clone())
            .auth(Auth::bearer(required_secret(options, "api_token")?))
            .header("Accept", "application/json")
            .user_agent(USER_AGENT);
        Ok(Self {
            http: lakeflow_kit::http_client(config, &base_url)?,
        })
    }

    /// A GET of `path` (relative to the base URL).
    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(path)
    }
}

impl lakeflow_kit::PageSource for {{Name}}Client {
    fn service(&self) -> &str {
        "{{Name}}"
    }

    /// Follows `Link: rel="next"`.
    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        request.pages(Pagination::LinkHeader, records_path)
    }
}
