//! The HTTP clients as HubSpot wants them: one token (a private app's, or OAuth access tokens
//! renewed from the refresh token) shared by a client for the API at the account's burst budget
//! and one for CRM search at its own budget; `paging.next.after` pagination (in the query for
//! lists, in the JSON body for searches); and errors that say what to fix.

use std::time::Duration;

use lakeflow_connect::{Error, Result};
use lakeflow_http::{
    Auth, HttpClient, HttpConfig, OAuth2, Pages, Pagination, RequestBudget, RequestBuilder,
    RetryPolicy,
};

use crate::config::{ClientSettings, Credentials};

const USER_AGENT: &str = concat!("lakeflow-hubspot/", env!("CARGO_PKG_VERSION"));

/// Attempts per request: enough to ride out a burst of 429s and 5xx.
const MAX_ATTEMPTS: u32 = 8;

/// Where `paging.next.after` goes back: a list takes it in the query, a search in its body.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: HttpClient,
    pagination: Pagination,
}

impl lakeflow_kit::PageSource for Api {
    fn service(&self) -> &str {
        "HubSpot"
    }

    fn pages(&self, request: RequestBuilder, records_path: &str) -> Pages {
        request.pages(self.pagination.clone(), records_path)
    }

    /// HubSpot pages by `after`, not by number.
    fn at_page(&self, request: RequestBuilder, _page: u64) -> RequestBuilder {
        request
    }

    fn errors(&self) -> lakeflow_kit::ErrorMap {
        with_context
    }
}

/// The HubSpot clients; cheap to clone. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub(crate) struct HubSpotClient {
    /// Lists, properties, schemas, owners, pipelines and writes.
    pub lists: Api,
    /// `POST /crm/v3/objects/{object}/search`.
    pub search: Api,
}

impl HubSpotClient {
    pub(crate) fn new(settings: &ClientSettings) -> Result<Self> {
        let auth = match &settings.credentials {
            Credentials::PrivateApp(token) => Auth::bearer(token.clone()),
            Credentials::OAuth {
                client_id,
                client_secret,
                refresh_token,
            } => Auth::oauth(
                OAuth2::refresh_token(
                    format!("{}/oauth/v1/token", settings.base_url),
                    client_id.clone(),
                    client_secret.clone(),
                    refresh_token.clone(),
                )
                .source_name("HubSpot"),
            ),
        };
        // Clones of one `Auth` share the OAuth session: both clients renew one token.
        let client = |budget: RequestBudget| {
            let config = HttpConfig::default()
                .base_url(settings.base_url.clone())
                .auth(auth.clone())
                .budget(budget)
                .retry(RetryPolicy {
                    max_attempts: MAX_ATTEMPTS,
                    ..RetryPolicy::default()
                })
                .lasting_limit(is_daily_limit)
                .user_agent(USER_AGENT);
            lakeflow_kit::http_client(config, &settings.base_url)
        };
        Ok(Self {
            lists: Api {
                http: client(RequestBudget::new(
                    settings.per_10_seconds,
                    Duration::from_secs(10),
                ))?,
                pagination: Pagination::cursor("paging.next.after", "after"),
            },
            search: Api {
                http: client(RequestBudget::new(
                    settings.search_per_second,
                    Duration::from_secs(1),
                ))?,
                pagination: Pagination::BodyCursor {
                    token_path: "paging.next.after".into(),
                    field: "after".into(),
                },
            },
        })
    }

    /// A search of `object` (its body still to be set).
    pub(crate) fn search(&self, object: &str) -> RequestBuilder {
        self.search
            .http
            .request("POST", &format!("/crm/v3/objects/{object}/search"))
            .idempotent()
    }
}

/// GETs and writes through the lists' client (the write-back of tests creates, updates and
/// archives contacts).
impl lakeflow_kit::ApiClient for HubSpotClient {
    fn http(&self) -> &HttpClient {
        &self.lists.http
    }
}

/// Whether a 429's body is HubSpot's daily limit (`"policyName": "DAILY"`), which no retry
/// within minutes will see lifted.
fn is_daily_limit(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body).is_ok_and(|body| body["policyName"] == "DAILY")
}

/// An HTTP error while reading `context`, with what HubSpot's answer usually means.
pub(crate) fn with_context(context: &str, error: lakeflow_http::Error) -> Error {
    let hint = hint(error.status(), &error.to_string());
    lakeflow_kit::with_hint(context, hint.as_deref(), error)
}

fn hint(status: Option<u16>, text: &str) -> Option<String> {
    match status? {
        401 => Some(
            "HubSpot refused the token even after renewing it: check `access_token` (a private \
             app token revoked or rotated) or, for an OAuth app, that it is still installed in \
             the portal (a new install gives a new `refresh_token`)"
                .to_owned(),
        ),
        403 => Some(match required_scopes(text) {
            Some(scopes) => format!(
                "the token lacks the scope {scopes}: add it to the private app (Settings > \
                 Integrations > Private apps) or to the OAuth app's scopes, and reinstall"
            ),
            None => {
                "the token may not read this: check the app's scopes for this object".to_owned()
            }
        }),
        429 if text.contains("DAILY") => Some(
            "the portal's daily API limit is used up (HubSpot's DAILY policy); it resets at \
             midnight in the portal's time zone, so run again after that"
                .to_owned(),
        ),
        429 => Some(
            "HubSpot's burst limit: lower `requests_per_10_seconds` or \
             `search_requests_per_second`, or share the limit with fewer other apps"
                .to_owned(),
        ),
        _ => None,
    }
}

/// The scopes a 403 names (`"requiredGranularScopes":["crm.objects.contacts.read"]`), quoted.
fn required_scopes(text: &str) -> Option<String> {
    let (_, rest) = text
        .split_once("requiredGranularScopes")
        .or_else(|| text.split_once("requiredScopes"))?;
    let list = rest.split_once('[')?.1.split_once(']')?.0;
    let scopes: Vec<String> = list
        .split(',')
        .map(|scope| scope.trim().trim_matches(['"', '\\']).trim())
        .filter(|scope| !scope.is_empty())
        .map(|scope| format!("`{scope}`"))
        .collect();
    (!scopes.is_empty()).then(|| scopes.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_403_names_the_scope_hubspot_reports() {
        let text = r#"GET /crm/v3/objects/deals was refused with HTTP 403: {"status":"error","message":"This app hasn't been granted all required scopes","errors":[{"context":{"requiredGranularScopes":["crm.objects.deals.read"]}}],"category":"MISSING_SCOPES"}"#;
        let said = hint(Some(403), text).unwrap();
        assert!(said.contains("`crm.objects.deals.read`"), "{said}");
        assert!(hint(Some(403), "refused").unwrap().contains("scopes"));
        let daily = hint(Some(429), r#"{"policyName":"DAILY"}"#).unwrap();
        assert!(daily.contains("midnight"), "{daily}");
        assert!(hint(Some(500), "").is_none());
    }
}
