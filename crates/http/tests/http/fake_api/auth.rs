//! The three auth schemes of the fake spec: missing and wrong credentials are auth errors,
//! not retried and never shown; the right ones get data.

use lakeflow_connect::Secret;
use lakeflow_http::{Auth, Error, HttpClient, RateLimitHeaders};
use serde_json::Value;

use super::{api_key, basic, bearer, config, corpus, start};

#[test]
fn credentials_are_required_checked_and_never_shown() {
    // Recognisable wrong secrets: if one leaked into an error, the assertions below find it.
    const WRONG: &str = "wrong-SECRET-9f3a7c";
    let sim = start();
    // (scheme, endpoint, its corpus and records key, right and wrong credentials, status of a
    // wrong one)
    let cases = [
        (
            "bearer",
            "/users",
            ("users.json", "users"),
            bearer(),
            Auth::bearer(Secret::new(WRONG)),
            401,
        ),
        (
            "api key header",
            "/events",
            ("events.json", "events"),
            api_key(),
            Auth::api_key_header("X-Api-Key", Secret::new(WRONG)),
            // The spec answers a wrong key with 403, not 401.
            403,
        ),
        (
            "basic",
            "/api/v2/deleted_tickets.json",
            ("deleted_tickets.json", "deleted_tickets"),
            basic(),
            Auth::basic("agent@example.com/token", Secret::new(WRONG)),
            401,
        ),
    ];
    let wrong_basic = base64_of(&format!("agent@example.com/token:{WRONG}"));
    for (scheme, path, (file, key), right, wrong, wrong_status) in cases {
        // The GitHub rate-limit headers are declared (the simulator sends them): a 403 with quota
        // left is still an auth error.
        let make = |auth: Option<Auth>| {
            let config = config(&sim).rate_limit_headers(RateLimitHeaders::github());
            HttpClient::new(match auth {
                Some(auth) => config.auth(auth),
                None => config,
            })
            .unwrap()
        };
        for (what, auth, status) in [("missing", None, 401), ("wrong", Some(wrong), wrong_status)] {
            let before = sim.request_log().len();
            let err = make(auth).get(path).send().unwrap_err();
            assert!(
                matches!(err, Error::Auth { status: s, .. } if s == status),
                "{scheme}, {what}: {err:?}"
            );
            assert_eq!(
                sim.request_log().len(),
                before + 1,
                "{scheme}, {what}: retried"
            );
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains(WRONG), "{scheme}: {shown}");
                assert!(!shown.contains(&wrong_basic), "{scheme}: {shown}");
            }
            let connect: lakeflow_connect::Error = err.into();
            assert!(matches!(connect, lakeflow_connect::Error::Auth { .. }));
        }
        let body: Value = make(Some(right)).get(path).send_json().unwrap();
        let records = body[key].as_array().unwrap();
        let known = corpus(file);
        assert!(!records.is_empty(), "{scheme}: {body}");
        assert!(
            records.iter().all(|r| known.contains(r)),
            "{scheme}: {body}"
        );
    }
    // Each scheme's right credential got data, and nothing was retried.
    let statuses: Vec<Option<u16>> = sim.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == Some(200)).count(), 3);
    assert_eq!(statuses.len(), 9);
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
