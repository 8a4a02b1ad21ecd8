//! The connection options and their parsing into [`ClientSettings`]: the key, the connected
//! account, the API version and the request budget.

use lakeflow_connect::{ConnectionOptions, Error, OptionSpec, Result, Secret};
use lakeflow_kit::options::{base_url, request_budget, required_secret};

/// Stripe's API.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";
/// The API version the schemas are written against, sent as `Stripe-Version`.
pub const DEFAULT_API_VERSION: &str = "2024-06-20";

/// The connection options the connector reads (the original's `api_key` among them).
pub const CONNECTION_OPTIONS: &[OptionSpec] = &[
    OptionSpec::required(
        "api_key",
        "A secret key (`sk_...`) or, better, a restricted key (`rk_...`) with read access to \
         the tables' resources and to events.",
    )
    .secret(),
    OptionSpec::optional(
        "stripe_account",
        "A connected account (`acct_...`) to read as the platform, sent as `Stripe-Account`.",
    ),
    OptionSpec::optional(
        "api_version",
        "The API version sent as `Stripe-Version` (default 2024-06-20, the one the schemas \
         follow).",
    ),
    OptionSpec::optional(
        "base_url",
        "API root (default https://api.stripe.com; a test server otherwise).",
    ),
    OptionSpec::optional(
        "requests_per_second",
        "The request budget (default by the key: 25 in test mode, 100 in live mode, Stripe's \
         limits).",
    ),
];

/// Stripe's read limits per second.
const TEST_MODE_PER_SECOND: u32 = 25;
const LIVE_MODE_PER_SECOND: u32 = 100;

/// The connection, parsed. `Debug` never shows the key.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub base_url: String,
    pub api_key: Secret,
    pub stripe_account: Option<String>,
    pub api_version: String,
    pub requests_per_second: u32,
}

impl ClientSettings {
    /// Parses (already name-checked) connection options.
    pub(crate) fn from_options(options: &ConnectionOptions) -> Result<Self> {
        let api_key = required_secret(options, "api_key")?;
        // Live-mode keys (`sk_live_`, `rk_live_`) get Stripe's live-mode limit.
        let live = api_key.expose().contains("_live_");
        let stripe_account = match options.get("stripe_account").map(str::trim) {
            None => None,
            Some(account) if account.starts_with("acct_") && account.len() > 5 => {
                Some(account.to_owned())
            }
            Some(other) => {
                return Err(Error::invalid_option(
                    "stripe_account",
                    other,
                    "must be a connected account id such as acct_1032D82eZvKYlo2C",
                ));
            }
        };
        let requests_per_second =
            request_budget(options, "requests_per_second")?.unwrap_or(if live {
                LIVE_MODE_PER_SECOND
            } else {
                TEST_MODE_PER_SECOND
            });
        Ok(Self {
            base_url: base_url(options, "base_url", Some(DEFAULT_BASE_URL))?,
            api_key,
            stripe_account,
            api_version: options
                .get("api_version")
                .map_or(DEFAULT_API_VERSION, str::trim)
                .to_owned(),
            requests_per_second,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<ClientSettings> {
        ClientSettings::from_options(&pairs.iter().copied().collect())
    }

    #[test]
    fn the_budget_follows_the_keys_mode() {
        let test = settings(&[("api_key", "rk_test_51Hx")]).unwrap();
        assert_eq!(test.requests_per_second, 25);
        let live = settings(&[("api_key", "sk_live_51Hx")]).unwrap();
        assert_eq!(live.requests_per_second, 100);
        let set = settings(&[("api_key", "sk_live_51Hx"), ("requests_per_second", "10")]);
        assert_eq!(set.unwrap().requests_per_second, 10);
        assert_eq!(test.base_url, DEFAULT_BASE_URL);
        assert_eq!(test.api_version, DEFAULT_API_VERSION);
    }

    #[test]
    fn a_connected_account_is_an_account_id() {
        let err = settings(&[("api_key", "sk_test_1"), ("stripe_account", "cus_123")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`stripe_account`") && err.contains("acct_"),
            "{err}"
        );
        let ok = settings(&[
            ("api_key", "sk_test_1"),
            ("stripe_account", "acct_1Nv0FGQ9RKHgCVdK"),
        ]);
        assert_eq!(
            ok.unwrap().stripe_account.as_deref(),
            Some("acct_1Nv0FGQ9RKHgCVdK")
        );
        let err = settings(&[]).unwrap_err().to_string();
        assert!(err.contains("`api_key`"), "{err}");
    }
}
