//! Reads: a paged snapshot, and the three incremental batching patterns of the connector guide.

mod append;
mod cdc;
mod cursor;

use lakeflow_connect::{Record, Result};

use crate::client::ApiClient;
use crate::source::Request;

pub(crate) use cdc::{Limit, ReadSpec, read_after_cursor, read_window};

/// Every page of `endpoint`, fetched lazily as the caller consumes records, so a snapshot
/// never needs the whole table in memory.
pub(crate) struct SnapshotPages<'a> {
    client: &'a ApiClient,
    context: String,
    endpoint: &'static str,
    params: Vec<(&'static str, String)>,
    buffer: std::vec::IntoIter<Record>,
    next_token: Option<String>,
    done: bool,
}

impl<'a> SnapshotPages<'a> {
    pub(crate) fn new(
        client: &'a ApiClient,
        table: &str,
        endpoint: &'static str,
        params: Vec<(&'static str, String)>,
    ) -> Self {
        Self {
            client,
            context: format!("table `{table}`"),
            endpoint,
            params,
            buffer: Vec::new().into_iter(),
            next_token: None,
            done: false,
        }
    }

    fn fetch(&mut self) -> Result<()> {
        let mut request = Request::new(self.endpoint)
            .param("page_size", self.client.config.page_size.to_string());
        for (name, value) in &self.params {
            request = request.param(*name, value.as_str());
        }
        if let Some(token) = self.next_token.take() {
            request = request.param("page_token", token);
        }
        let page = self.client.get(&self.context, request)?;
        self.done = page.next_page_token.is_none();
        self.next_token = page.next_page_token;
        self.buffer = page.records.into_iter();
        Ok(())
    }
}

impl Iterator for SnapshotPages<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.buffer.next() {
                return Some(Ok(record));
            }
            if self.done {
                return None;
            }
            if let Err(error) = self.fetch() {
                // One error ends the stream: the caller must not see a partial snapshot as whole.
                self.done = true;
                return Some(Err(error));
            }
        }
    }
}
