//! The connection options and their parsing into [`ClientSettings`]: a private app's token or an
//! OAuth client with its refresh token, the API root and the request budgets.

use lakeflow_connect::{ConnectionOptions, Error, OptionSpec, Result, Secret};
use lakeflow_kit::options::{base_url, request_budget, required_secret};

/// HubSpot's API.
pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";

/// The connection options the connector reads (the original's `access_token` among them).
pub const CONNECTION_OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional(
        "access_token",
        "A private app's access token (`pat-...`), with the `crm.objects.*.read` and \
         `crm.schemas.*.read` scopes of the tables read. Give this, or the three OAuth options.",
    )
    .secret(),
    OptionSpec::optional(
        "client_id",
        "The OAuth app's client id (with `client_secret` and `refresh_token`).",
    ),
    OptionSpec::optional("client_secret", "The OAuth app's client secret.").secret(),
    OptionSpec::optional(
        "refresh_token",
        "A refresh token of the portal to read, from the app's install; access tokens (30 \
         minutes) are fetched and renewed with it.",
    )
    .secret(),
    OptionSpec::optional(
        "base_url",
        "API root (default https://api.hubapi.com; a test server otherwise). OAuth tokens come \
         from `<base_url>/oauth/v1/token`.",
    ),
    OptionSpec::optional(
        "requests_per_10_seconds",
        "The burst budget of the account's tier (default 100: free and Starter portals and \
         OAuth apps; 190 for Professional and Enterprise private apps).",
    ),
    OptionSpec::optional(
        "search_requests_per_second",
        "The budget of CRM search requests, which HubSpot limits separately (default 4, under \
         its 5 per second).",
    ),
];

const DEFAULT_PER_10_SECONDS: u32 = 100;
const DEFAULT_SEARCH_PER_SECOND: u32 = 4;

/// How the connector authenticates. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub(crate) enum Credentials {
    /// A private app's static token, sent as Bearer.
    PrivateApp(Secret),
    /// The OAuth refresh-token grant.
    OAuth {
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
    },
}

/// The connection, parsed. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub base_url: String,
    pub credentials: Credentials,
    pub per_10_seconds: u32,
    pub search_per_second: u32,
}

impl ClientSettings {
    /// Parses (already name-checked) connection options.
    pub(crate) fn from_options(options: &ConnectionOptions) -> Result<Self> {
        Ok(Self {
            base_url: base_url(options, "base_url", Some(DEFAULT_BASE_URL))?,
            credentials: credentials(options)?,
            per_10_seconds: request_budget(options, "requests_per_10_seconds")?
                .unwrap_or(DEFAULT_PER_10_SECONDS),
            search_per_second: request_budget(options, "search_requests_per_second")?
                .unwrap_or(DEFAULT_SEARCH_PER_SECOND),
        })
    }
}

/// `access_token`, or `client_id` + `client_secret` + `refresh_token`: exactly one of the two.
fn credentials(options: &ConnectionOptions) -> Result<Credentials> {
    const OAUTH: [&str; 3] = ["client_id", "client_secret", "refresh_token"];
    let oauth_given: Vec<&str> = OAUTH
        .into_iter()
        .filter(|name| options.get(name).is_some())
        .collect();
    match (options.get("access_token").is_some(), oauth_given.len()) {
        (true, 0) => Ok(Credentials::PrivateApp(required_secret(
            options,
            "access_token",
        )?)),
        (true, _) => Err(Error::invalid_option(
            "access_token",
            "***",
            "give either `access_token` (a private app) or `client_id`, `client_secret` and \
             `refresh_token` (an OAuth app), not both",
        )),
        (false, 0) => Err(Error::MissingOption {
            option: "access_token".to_owned(),
            table: None,
        }),
        (false, _) => {
            let client_id = options
                .get("client_id")
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| Error::MissingOption {
                    option: "client_id".to_owned(),
                    table: None,
                })?;
            Ok(Credentials::OAuth {
                client_id: client_id.to_owned(),
                client_secret: required_secret(options, "client_secret")?,
                refresh_token: required_secret(options, "refresh_token")?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<ClientSettings> {
        let mut options = ConnectionOptions::new();
        for (name, value) in pairs {
            if ["access_token", "client_secret", "refresh_token"].contains(name) {
                options.insert_secret(*name, *value);
            } else {
                options.insert(*name, *value);
            }
        }
        ClientSettings::from_options(&options)
    }

    #[test]
    fn a_private_app_token_or_an_oauth_client_not_both() {
        let app = settings(&[("access_token", "pat-na1-0f1e")]).unwrap();
        assert!(matches!(app.credentials, Credentials::PrivateApp(_)));
        assert_eq!((app.per_10_seconds, app.search_per_second), (100, 4));
        assert_eq!(app.base_url, DEFAULT_BASE_URL);
        let oauth = settings(&[
            ("client_id", "c1"),
            ("client_secret", "s1"),
            ("refresh_token", "r1"),
            ("requests_per_10_seconds", "190"),
        ])
        .unwrap();
        assert!(matches!(oauth.credentials, Credentials::OAuth { .. }));
        assert_eq!(oauth.per_10_seconds, 190);
        let both = settings(&[("access_token", "pat-1"), ("client_id", "c1")]);
        let err = both.unwrap_err().to_string();
        assert!(err.contains("not both") && !err.contains("pat-1"), "{err}");
        let err = settings(&[]).unwrap_err().to_string();
        assert!(err.contains("`access_token`"), "{err}");
        let half = settings(&[("client_id", "c1"), ("client_secret", "s1")]);
        let err = half.unwrap_err().to_string();
        assert!(err.contains("`refresh_token`"), "{err}");
        let debug = format!(
            "{:?}",
            settings(&[("access_token", "pat-na1-0f1e")]).unwrap()
        );
        assert!(!debug.contains("pat-na1-0f1e"), "{debug}");
    }
}
