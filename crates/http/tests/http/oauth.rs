//! OAuth 2 against the simulator's authorization server (`oauth:` in a spec): the refresh-token
//! and client-credentials grants, a token expiring in the middle of a paginated read, refresh
//! before expiry on the injected clock, rotation, and the errors of a revoked refresh token or
//! a wrong client secret, with no secret in them.

use std::time::Duration;

use lakeflow_connect::Secret;
use lakeflow_http::{Auth, Error, HttpClient, HttpConfig, OAuth2, Pagination, VirtualClock};
use lakeflow_simulator::{RunningSimulator, Simulator};
use serde_json::{Value, json};

use crate::common::fast_retry;

const CLIENT_SECRET: &str = "cs-very-secret-1";
const REFRESH_TOKEN: &str = "rt-initial-secret-1";

/// A spec whose API takes only the simulator's access tokens; `extra` adds `oauth:` keys.
fn start(extra: &str) -> RunningSimulator {
    let spec = format!(
        "
name: oauth-api
oauth:
  client_id: lakeflow-test
  client_secret: {CLIENT_SECRET}
  refresh_tokens: [{REFRESH_TOKEN}]
  token_lifetime_seconds: 3600
{extra}
endpoints:
  - path: /items
    corpus: items.json
    records_key: items
    sort: {{ field: id, direction: asc }}
    params:
      page: {{ role: page }}
      per_page: {{ role: page_size, default: 5, max: 5 }}
    pagination: {{ style: page_number }}
"
    );
    let items: Vec<Value> = (1..=23).map(|id| json!({"id": id})).collect();
    Simulator::from_embedded(&spec, &[("items.json", &Value::from(items).to_string())])
        .unwrap()
        .start()
        .unwrap()
}

fn refresh_grant(sim: &RunningSimulator, client_secret: &str) -> OAuth2 {
    OAuth2::refresh_token(
        sim.url("/oauth/token"),
        "lakeflow-test",
        Secret::new(client_secret),
        Secret::new(REFRESH_TOKEN),
    )
    .source_name("connection `crm`")
}

fn client(sim: &RunningSimulator, oauth: OAuth2, clock: &VirtualClock) -> HttpClient {
    HttpClient::new(
        HttpConfig::default()
            .base_url(sim.base_url())
            .retry(fast_retry())
            .clock(clock.clone())
            .auth(Auth::oauth(oauth)),
    )
    .unwrap()
}

/// Every item id, read through all pages.
fn read_all(client: &HttpClient) -> Vec<u64> {
    client
        .get("/items")
        .query("per_page", 5)
        .pages(Pagination::page_number("page", Some(5)), "items")
        .records()
        .map(|record| record.unwrap()["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn refresh_token_grant_gets_a_token_once_and_reuses_it() {
    let sim = start("");
    let clock = VirtualClock::new();
    let client = client(&sim, refresh_grant(&sim, CLIENT_SECRET), &clock);
    assert_eq!(read_all(&client), (1..=23).collect::<Vec<_>>());
    assert_eq!(sim.oauth().unwrap().grants(), 1);
}

#[test]
fn a_token_expiring_mid_read_is_renewed_and_every_record_comes_once() {
    // Each access token serves two API requests; the read takes five pages.
    let sim = start("  token_uses: 2\n  rotate_refresh_tokens: true");
    let clock = VirtualClock::new();
    let client = client(&sim, refresh_grant(&sim, CLIENT_SECRET), &clock);
    assert_eq!(read_all(&client), (1..=23).collect::<Vec<_>>());
    // Pages 3 and 5 met an expired token (401), were renewed with the rotated refresh token
    // (the first one is no longer valid after rotation) and repeated once.
    assert_eq!(sim.oauth().unwrap().grants(), 3);
    let unauthorized = sim
        .request_log()
        .iter()
        .filter(|r| r.status == Some(401))
        .count();
    assert_eq!(unauthorized, 2);
}

#[test]
fn expire_now_is_survived_by_one_renewal() {
    let sim = start("");
    let clock = VirtualClock::new();
    let client = client(&sim, refresh_grant(&sim, CLIENT_SECRET), &clock);
    assert_eq!(read_all(&client).len(), 23);
    sim.oauth().unwrap().expire_access_tokens();
    assert_eq!(read_all(&client).len(), 23);
    assert_eq!(sim.oauth().unwrap().grants(), 2);
}

#[test]
fn tokens_are_renewed_before_expiry_on_the_injected_clock() {
    let sim = start("");
    let clock = VirtualClock::new();
    let client = client(
        &sim,
        refresh_grant(&sim, CLIENT_SECRET).refresh_margin(Duration::from_secs(60)),
        &clock,
    );
    let get = || client.get("/items").send().unwrap();
    get();
    assert_eq!(sim.oauth().unwrap().grants(), 1);
    // 3600 s lifetime, 60 s margin: still good at 3539 s...
    clock.advance(Duration::from_secs(3539));
    get();
    assert_eq!(sim.oauth().unwrap().grants(), 1);
    // ... renewed at 3540 s, before the server would refuse it.
    clock.advance(Duration::from_secs(1));
    get();
    assert_eq!(sim.oauth().unwrap().grants(), 2);
    let unauthorized = sim.request_log().iter().any(|r| r.status == Some(401));
    assert!(!unauthorized, "renewal happened only after a 401");
}

#[test]
fn client_credentials_grant() {
    let sim = start("");
    let clock = VirtualClock::new();
    let oauth = OAuth2::client_credentials(
        sim.url("/oauth/token"),
        "lakeflow-test",
        Secret::new(CLIENT_SECRET),
    )
    .scope("items:read");
    let client = client(&sim, oauth, &clock);
    assert_eq!(read_all(&client).len(), 23);
    assert_eq!(sim.oauth().unwrap().grants(), 1);
}

/// Every secret of the tests, and the access tokens the simulator issues (`sim-access-N`).
fn assert_no_secret(text: &str) {
    for secret in [CLIENT_SECRET, REFRESH_TOKEN, "sim-access-", "sim-refresh-"] {
        assert!(!text.contains(secret), "`{secret}` shown in: {text}");
    }
}

#[test]
fn a_revoked_refresh_token_is_a_clear_auth_error_without_secrets() {
    let sim = start("");
    let clock = VirtualClock::new();
    let client = client(&sim, refresh_grant(&sim, CLIENT_SECRET), &clock);
    client.get("/items").send().unwrap();
    let oauth = sim.oauth().unwrap();
    oauth.revoke_refresh_token(REFRESH_TOKEN);
    oauth.expire_access_tokens();
    let error = client.get("/items").send().unwrap_err();
    let (display, debug) = (error.to_string(), format!("{error:?}"));
    assert!(
        matches!(&error, Error::OAuth { code: Some(code), status: Some(400), .. } if code == "invalid_grant"),
        "{debug}"
    );
    assert!(display.contains("connection `crm`"), "{display}");
    assert!(
        display.contains("authorize connection `crm` again"),
        "{display}"
    );
    assert_no_secret(&display);
    assert_no_secret(&debug);
    assert_no_secret(&format!("{client:?}"));
    let connect = lakeflow_connect::Error::from(error);
    assert!(
        matches!(&connect, lakeflow_connect::Error::Auth { .. }),
        "{connect:?}"
    );
    assert_no_secret(&connect.to_string());
    assert_no_secret(&format!("{connect:?}"));
}

#[test]
fn a_wrong_client_secret_is_a_clear_auth_error_without_secrets() {
    let sim = start("");
    let clock = VirtualClock::new();
    let client = client(&sim, refresh_grant(&sim, "cs-wrong-secret-2"), &clock);
    let error = client.get("/items").send().unwrap_err();
    let (display, debug) = (error.to_string(), format!("{error:?}"));
    assert!(
        matches!(&error, Error::OAuth { code: Some(code), status: Some(401), .. } if code == "invalid_client"),
        "{debug}"
    );
    assert!(display.contains("client secret was rejected"), "{display}");
    for text in [&display, &debug] {
        assert!(!text.contains("cs-wrong-secret-2"), "{text}");
        assert_no_secret(text);
    }
}
