//! What every connector's HTTP client and read context share: building the client with a base
//! URL error that names the option, its GETs and writes ([`ApiClient`]), the connection a
//! connector holds ([`Connection`]: the client and its construction time), the context one read
//! needs (the kit's, the connector's client, its construction time), and the write requests of
//! tests and tools.

use chrono::{DateTime, Utc};
use lakeflow_connect::{
    ConnectionOptions, Error, Offset, OptionSpec, ReadOutput, Result, TableOptions,
};
use lakeflow_http::{HttpClient, HttpConfig, RequestBuilder};
use serde_json::Value;

use crate::PageSource;
use crate::options::{Limits, connection_settings};
use crate::source::ReadCtx;

/// The HTTP client of `config`, whose root is `base_url`.
///
/// # Errors
/// [`Error::InvalidOption`] naming `base_url` when the client cannot be built from it.
pub fn http_client(config: HttpConfig, base_url: &str) -> Result<HttpClient> {
    HttpClient::new(config).map_err(|e| Error::invalid_option("base_url", base_url, e.to_string()))
}

/// A connector's API client: the HTTP client its GETs and writes go through (with the
/// credentials and headers the API wants).
pub trait ApiClient {
    /// The HTTP client of GETs and writes.
    fn http(&self) -> &HttpClient;

    /// A GET of `path` (relative to the API root).
    fn get(&self, path: &str) -> RequestBuilder {
        self.http().get(path)
    }

    /// A request with any method, for the writes of tests and tools (`path` is relative to the
    /// API root).
    fn request(&self, method: &str, path: &str) -> RequestBuilder {
        self.http().request(method, path)
    }
}

/// What a connector built from connection options holds: its API client, and when it was built
/// (which bounds every read, see [`crate::time::horizon`]).
#[derive(Debug)]
pub struct Connection<C> {
    /// The API client.
    pub client: C,
    /// When the connector was built.
    pub init: DateTime<Utc>,
}

impl<C> Connection<C> {
    /// The connection of `options`: checked against the connection options the connector
    /// declares (`declared`), parsed by `parse` into the settings `build` makes the client of,
    /// for a connector whose clock reads `now`.
    ///
    /// # Errors
    /// A missing, unknown or invalid option, named.
    pub fn open<S>(
        options: &ConnectionOptions,
        declared: &[OptionSpec],
        parse: impl FnOnce(&ConnectionOptions) -> Result<S>,
        build: impl FnOnce(&S) -> Result<C>,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let settings = connection_settings(options, declared, parse)?;
        Ok(Self {
            client: build(&settings)?,
            init: now,
        })
    }
}

impl<C: PageSource> Connection<C> {
    /// One batch of `table` (or its deletions) from `start`: `read` (what the table's
    /// definition says) in the context its table options and the API's limits make.
    ///
    /// # Errors
    /// An invalid option, named, or the read's error.
    pub fn read<R: TableRead<C>>(
        &self,
        table: &str,
        read: R,
        start: Option<&Offset>,
        options: &TableOptions,
    ) -> Result<ReadOutput<'static>> {
        let ctx = ClientCtx::new(table, &self.client, options, read.limits(), self.init)?;
        read.read(&ctx, start)
    }
}

/// How a connector reads a table its [`Tables`](crate::Tables) registry resolved (the read of
/// its [`TableDef`](crate::TableDef)), through the connector's client `C`; see
/// [`registry_methods!`](crate::registry_methods) with `reads through`.
pub trait TableRead<C> {
    /// The API's limits for this read.
    fn limits(&self) -> Limits;

    /// One batch of the table (or its deletions) from `start`.
    ///
    /// # Errors
    /// The read's.
    fn read(self, ctx: &ClientCtx<'_, C>, start: Option<&Offset>) -> Result<ReadOutput<'static>>;
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
