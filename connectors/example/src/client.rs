//! The connector's API client: retries with exponential backoff, and the mapping of API errors
//! to semantic errors that name the table or option concerned.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use lakeflow_connect::Error;

use crate::options::{CONNECTION_OPTIONS, ClientConfig, TABLE_OPTIONS};
use crate::source::{ApiError, ExampleSource, Page, Request};

/// The longest single backoff sleep, whatever `retry_base_ms` and the attempt count say.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub(crate) struct ApiClient {
    pub source: Arc<ExampleSource>,
    pub config: ClientConfig,
}

impl ApiClient {
    /// Sends `request`, retrying retriable failures. `context` names what is being read (for
    /// example "table `users`") in errors.
    pub(crate) fn get(&self, context: &str, request: Request) -> lakeflow_connect::Result<Page> {
        let request = request.api_key(self.config.api_key.clone());
        let mut attempt = 0;
        loop {
            match self.source.get(&request) {
                Ok(page) => return Ok(page),
                Err(error) if error.is_retriable() && attempt < self.config.max_retries => {
                    thread::sleep(self.backoff(attempt));
                    attempt += 1;
                }
                Err(error) => return Err(to_error(context, &request, error, attempt + 1)),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.config
            .retry_base
            .saturating_mul(1_u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(MAX_BACKOFF)
    }
}

fn to_error(context: &str, request: &Request, error: ApiError, attempts: u32) -> Error {
    let ApiError {
        status,
        message,
        param,
    } = error;
    match status {
        401 | 403 => Error::Auth {
            message: format!("{context}: {message}"),
        },
        429 => Error::RateLimited {
            retry_after: None,
            message: format!("{context}: gave up after {attempts} attempts: {message}"),
        },
        400 => match param {
            // A 400 about a user-given option is the option's fault; name it.
            Some(param) if is_option(&param) => {
                let value = request.get(&param).unwrap_or_default();
                Error::invalid_option(&param, value, format!("rejected by the source: {message}"))
            }
            _ => Error::Protocol {
                message: format!("{context}: HTTP 400: {message}"),
            },
        },
        500.. => Error::Transport {
            status: Some(status),
            message: format!("{context}: gave up after {attempts} attempts: {message}"),
            retriable: true,
        },
        _ => Error::Protocol {
            message: format!("{context}: HTTP {status}: {message}"),
        },
    }
}

fn is_option(name: &str) -> bool {
    TABLE_OPTIONS
        .iter()
        .chain(CONNECTION_OPTIONS)
        .any(|spec| spec.name == name)
}
