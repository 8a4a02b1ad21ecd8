//! The HTTP client as Stripe wants it: the key as Bearer, a pinned `Stripe-Version`, the
//! connected account as `Stripe-Account`, `has_more`/`starting_after` pagination, a request
//! budget per second, retries on 429 and wherever Stripe says `Stripe-Should-Retry: true`, and
//! errors that say what to fix.

use std::time::Duration;

use lakeflow_connect::{Error, Result};
use lakeflow_http::{
    Auth, HttpClient, HttpConfig, Pages, Pagination, RequestBudget, RequestBuilder, RetryPolicy,
};

use crate::config::ClientSettings;

const USER_AGENT: &str = concat!("lakeflow-stripe/", env!("CARGO_PKG_VERSION"));

/// Attempts per request: enough to ride out a burst of 429s and 5xx.
const MAX_ATTEMPTS: u32 = 8;

/// A Stripe API client; cheap to clone. `Debug` never shows the key.
#[derive(Debug, Clone)]
pub(crate) struct StripeClient {
    http: HttpClient,
}

impl StripeClient {
    pub(crate) fn new(settings: &ClientSettings) -> Result<Self> {
        let mut config = HttpConfig::default()
            .base_url(settings.base_url.clone())
            .auth(Auth::bearer(settings.api_key.clone()))
            .budget(RequestBudget::new(
                settings.requests_per_second,
                Duration::from_secs(1),
            ))
            .retry(RetryPolicy {
                max_attempts: MAX_ATTEMPTS,
                ..RetryPolicy::default()
            })
            .retry_hint_header("Stripe-Should-Retry")
            .header("Stripe-Version", settings.api_version.clone())
            .user_agent(USER_AGENT);
        if let Some(account) = &settings.stripe_account {
            config = config.header("Stripe-Account", account.clone());
        }
        Ok(Self {
            http: lakeflow_kit::http_client(config, &settings.base_url)?,
        })
    }
}

/// GETs and writes (the write-back of tests creates, updates and deletes customers).
impl lakeflow_kit::ApiClient for StripeClient {
    fn http(&self) -> &HttpClient {
        &self.http
    }
}

impl lakeflow_kit::PageSource for StripeClient {
    fn service(&self) -> &str {
        "Stripe"
    }

    /// Follows `has_more` with `starting_after` (the last id of the page).
    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        request.pages(Pagination::stripe(), records_path)
    }

    /// Stripe pages by id, not by number: a page hint cannot be used, and the read walks its
    /// window from the start to the record it stopped after.
    fn at_page(&self, request: RequestBuilder, _page: u64) -> RequestBuilder {
        request
    }

    fn errors(&self) -> lakeflow_kit::ErrorMap {
        with_context
    }
}

/// An HTTP error while reading `context`, with what Stripe's answer usually means.
pub(crate) fn with_context(context: &str, error: lakeflow_http::Error) -> Error {
    let text = error.to_string();
    let hint = match error.status() {
        Some(401) => Some(
            "Stripe refused the key: check `api_key` (a typo, a revoked or expired key)".to_owned(),
        ),
        Some(403) => Some(format!(
            "the key may not read this: a restricted key needs read access to {} (Stripe names \
             the permission in its message), or with `stripe_account` the account is not \
             connected to this platform",
            resource(&text)
        )),
        Some(400 | 404) if text.contains("live mode") || text.contains("test mode") => Some(
            "a test-mode key cannot read live-mode objects, nor the reverse: use a key of the \
             mode the data is in"
                .to_owned(),
        ),
        _ => None,
    };
    lakeflow_kit::with_hint(context, hint.as_deref(), error)
}

/// The resource a request's URL reads (`/v1/customers?...` -> `customers`), in words.
fn resource(text: &str) -> String {
    text.split("/v1/")
        .nth(1)
        .and_then(|rest| rest.split(['?', '/', ' ']).next())
        .filter(|name| !name.is_empty())
        .map_or_else(|| "this resource".to_owned(), |name| format!("`{name}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_is_named_from_the_request() {
        assert_eq!(
            resource("GET https://api.stripe.com/v1/invoiceitems?limit=100 was refused"),
            "`invoiceitems`"
        );
        assert_eq!(resource("GET https://x.test/other"), "this resource");
    }
}
