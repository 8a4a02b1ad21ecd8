//! The connection options and their parsing into [`ClientSettings`]: where the account is, how
//! to authenticate, and the request budgets.

use std::time::Duration;

use lakeflow_connect::{ConnectionOptions, Error, OptionSpec, Result, Secret};
use lakeflow_kit::options::{base_url, request_budget, required_secret};

/// The connection options the connector reads (the original's `subdomain`, `email` and
/// `api_token` among them).
pub const CONNECTION_OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional(
        "subdomain",
        "The account's subdomain: `acme` for https://acme.zendesk.com. Required unless \
         `base_url` is given.",
    ),
    OptionSpec::optional(
        "email",
        "The email address of the user the API token belongs to (with `api_token`).",
    ),
    OptionSpec::optional(
        "api_token",
        "An API token (Admin Center > Apps and integrations > Zendesk API), sent with `email` \
         as Basic `{email}/token:{api_token}`.",
    )
    .secret(),
    OptionSpec::optional(
        "oauth_token",
        "An OAuth access token, sent as `Authorization: Bearer` (instead of `email` and \
         `api_token`).",
    )
    .secret(),
    OptionSpec::optional(
        "base_url",
        "API root overriding `subdomain`: https://acme.zendesk.com (a host mapping, or a test \
         server).",
    ),
    OptionSpec::optional(
        "requests_per_minute",
        "The account's API budget: requests per minute across all tables but the exports \
         (default 200, the smallest plan's limit).",
    ),
    OptionSpec::optional(
        "export_requests_per_minute",
        "Requests per minute to the incremental exports (default 10, Zendesk's limit; 30 with \
         the High Volume add-on).",
    ),
];

/// Zendesk's limit for the incremental exports, per minute.
const EXPORT_REQUESTS_PER_MINUTE: u32 = 10;
/// The smallest Support plan's API limit, per minute.
const REQUESTS_PER_MINUTE: u32 = 200;

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub(crate) enum Credentials {
    /// Basic `{email}/token:{api_token}`.
    ApiToken { email: String, token: Secret },
    /// `Authorization: Bearer`.
    OAuth(Secret),
}

/// The connection, parsed. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    /// The account's root, `https://{subdomain}.zendesk.com`.
    pub base_url: String,
    pub credentials: Credentials,
    pub requests_per_minute: u32,
    pub export_requests_per_minute: u32,
}

impl ClientSettings {
    /// Parses (already name-checked) connection options.
    pub(crate) fn from_options(options: &ConnectionOptions) -> Result<Self> {
        let base_url = account_url(options)?;
        let credentials = credentials(options)?;
        Ok(Self {
            base_url,
            credentials,
            requests_per_minute: per_minute(options, "requests_per_minute", REQUESTS_PER_MINUTE)?,
            export_requests_per_minute: per_minute(
                options,
                "export_requests_per_minute",
                EXPORT_REQUESTS_PER_MINUTE,
            )?,
        })
    }

    /// The budget of an endpoint family, per minute.
    pub(crate) fn budget(requests: u32) -> lakeflow_http::RequestBudget {
        lakeflow_http::RequestBudget::new(requests, Duration::from_secs(60))
    }
}

/// `base_url`, or the account's URL from `subdomain`.
fn account_url(options: &ConnectionOptions) -> Result<String> {
    if options.get("base_url").is_some() {
        return base_url(options, "base_url", None);
    }
    let Some(subdomain) = options.get("subdomain") else {
        return Err(Error::MissingOption {
            option: "subdomain".to_owned(),
            table: None,
        });
    };
    let subdomain = subdomain.trim();
    let valid = !subdomain.is_empty()
        && subdomain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(Error::invalid_option(
            "subdomain",
            subdomain,
            "must be the account's subdomain alone, such as `acme` for https://acme.zendesk.com",
        ));
    }
    Ok(format!("https://{subdomain}.zendesk.com"))
}

/// `email` + `api_token`, or `oauth_token`: exactly one of the two.
fn credentials(options: &ConnectionOptions) -> Result<Credentials> {
    let given = |name| options.get(name).is_some();
    match (given("api_token"), given("oauth_token")) {
        (true, true) => Err(Error::invalid_option(
            "oauth_token",
            "",
            "give either `email` with `api_token`, or `oauth_token`, not both",
        )),
        (false, true) => Ok(Credentials::OAuth(required_secret(options, "oauth_token")?)),
        (true, false) => {
            let email = options.require("email")?.trim();
            if !email.contains('@') {
                return Err(Error::invalid_option(
                    "email",
                    email,
                    "must be the email address of the token's user",
                ));
            }
            Ok(Credentials::ApiToken {
                email: email.to_owned(),
                token: required_secret(options, "api_token")?,
            })
        }
        (false, false) => Err(Error::MissingOption {
            option: "api_token".to_owned(),
            table: None,
        }),
    }
}

fn per_minute(options: &ConnectionOptions, name: &str, default: u32) -> Result<u32> {
    Ok(request_budget(options, name)?.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> ConnectionOptions {
        pairs.iter().copied().collect()
    }

    #[test]
    fn the_account_comes_from_the_subdomain_or_base_url() {
        let settings = ClientSettings::from_options(&options(&[
            ("subdomain", "acme"),
            ("email", "me@acme.example"),
            ("api_token", "t"),
        ]))
        .unwrap();
        assert_eq!(settings.base_url, "https://acme.zendesk.com");
        assert_eq!(settings.export_requests_per_minute, 10);
        assert_eq!(settings.requests_per_minute, 200);
        let err = ClientSettings::from_options(&options(&[
            ("subdomain", "acme.zendesk.com/"),
            ("oauth_token", "t"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`subdomain`") && err.contains("alone"),
            "{err}"
        );
        let err = ClientSettings::from_options(&options(&[("oauth_token", "t")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`subdomain`"), "{err}");
    }

    #[test]
    fn exactly_one_way_to_authenticate() {
        let base = ("base_url", "http://127.0.0.1:9");
        let err = ClientSettings::from_options(&options(&[base, ("api_token", "t")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`email`"), "{err}");
        let err = ClientSettings::from_options(&options(&[
            base,
            ("email", "me@acme.example"),
            ("api_token", "t"),
            ("oauth_token", "o"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("not both"), "{err}");
        let err = ClientSettings::from_options(&options(&[base]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`api_token`"), "{err}");
        let err = ClientSettings::from_options(&options(&[
            base,
            ("oauth_token", "o"),
            ("export_requests_per_minute", "0"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("`export_requests_per_minute`"), "{err}");
    }
}
