//! What every connector's HTTP client and read context share: building the client with a base
//! URL error that names the option, the context one read needs (the kit's, the connector's
//! client, its construction time), and the write requests of tests and tools.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Error, Result, TableOptions};
use lakeflow_http::{HttpClient, HttpConfig, RequestBuilder};
use serde_json::Value;

use crate::PageSource;
use crate::options::Limits;
use crate::source::ReadCtx;

/// The HTTP client of `config`, whose root is `base_url`.
///
/// # Errors
/// [`Error::InvalidOption`] naming `base_url` when the client cannot be built from it.
pub fn http_client(config: HttpConfig, base_url: &str) -> Result<HttpClient> {
    HttpClient::new(config).map_err(|e| Error::invalid_option("base_url", base_url, e.to_string()))
}

/// Everything one read of a table needs, for connectors whose reads also call their own client
/// (`C`) and depend on when the connector was built.
pub struct ClientCtx<'a, C> {
    /// The read as the kit's strategies see it.
    pub kit: ReadCtx<'a>,
    /// The connector's client, for requests of its own.
    pub client: &'a C,
    /// When the connector was built.
    pub init: DateTime<Utc>,
}

impl<'a, C: PageSource> ClientCtx<'a, C> {
    /// The context of one read of `table` through `client` by a connector built at `init`
    /// (see [`ReadCtx::new`]).
    ///
    /// # Errors
    /// An invalid option, named.
    pub fn new(
        table: &'a str,
        client: &'a C,
        options: &TableOptions,
        limits: Limits,
        init: DateTime<Utc>,
    ) -> Result<Self> {
        Ok(Self {
            kit: ReadCtx::new(table, client, options, limits, init)?,
            client,
            init,
        })
    }
}

/// Sends a write `request` (made with `method`) and returns the answer: a `DELETE` goes without
/// a body and answers null (APIs answer it with no content), any other method sends `body` as
/// JSON and answers the response's JSON. For the write-back of tests and tools.
///
/// # Errors
/// The HTTP client's.
pub fn send_write(
    request: RequestBuilder,
    method: &str,
    body: &Value,
) -> lakeflow_http::Result<Value> {
    if method == "DELETE" {
        request.send().map(|_| Value::Null)
    } else {
        request.json(body).send_json()
    }
}
