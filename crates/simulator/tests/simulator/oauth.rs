//! The OAuth 2 authorization server (`oauth:`): grants, expiry by use and on demand, rotation,
//! revocation, RFC 6749 error answers, and the spec errors around it.

use base64::Engine as _;

use super::{call, get, start_inline};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn start(extra: &str) -> lakeflow_simulator::RunningSimulator {
    let spec = format!(
        "
name: oauth
oauth:
  client_id: app
  client_secret: app-secret
  refresh_tokens: [rt-1]
  token_lifetime_seconds: 120
{extra}
endpoints:
  - path: /items
    corpus: items.json
  - path: /health
    corpus: items.json
    auth: none
"
    );
    start_inline(&spec, &[("items.json", r#"[{"id": 1}]"#)])
}

fn token(sim: &lakeflow_simulator::RunningSimulator, body: &str) -> super::Reply {
    call("POST", &sim.url("/oauth/token"), &[FORM], Some(body))
}

fn bearer(reply: &super::Reply) -> String {
    format!("Bearer {}", reply.body["access_token"].as_str().unwrap())
}

#[test]
fn refresh_grant_issues_tokens_that_expire_by_use() {
    let sim = start("  token_uses: 2");
    let granted = token(
        &sim,
        "grant_type=refresh_token&refresh_token=rt-1&client_id=app&client_secret=app-secret",
    );
    assert_eq!(granted.status, 200, "{:?}", granted.body);
    assert_eq!(granted.body["expires_in"], 120);
    assert_eq!(granted.body["token_type"], "Bearer");
    assert!(granted.body.get("refresh_token").is_none());
    let auth = bearer(&granted);
    let items = sim.url("/items");
    assert_eq!(get(&items, &[("authorization", &auth)]).status, 200);
    assert_eq!(get(&items, &[("authorization", &auth)]).status, 200);
    let expired = get(&items, &[("authorization", &auth)]);
    assert_eq!(expired.status, 401);
    assert!(
        expired
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(get(&items, &[]).status, 401);
    assert_eq!(
        get(&items, &[("authorization", "Bearer made-up")]).status,
        401
    );
    assert_eq!(get(&sim.url("/health"), &[]).status, 200);
    assert_eq!(sim.oauth().unwrap().grants(), 1);
}

#[test]
fn expire_now_rotation_and_revocation() {
    let sim = start("  rotate_refresh_tokens: true");
    let control = sim.oauth().unwrap();
    let items = sim.url("/items");
    let first = token(
        &sim,
        "grant_type=refresh_token&refresh_token=rt-1&client_id=app&client_secret=app-secret",
    );
    let auth = bearer(&first);
    assert_eq!(get(&items, &[("authorization", &auth)]).status, 200);
    control.expire_access_tokens();
    assert_eq!(get(&items, &[("authorization", &auth)]).status, 401);
    // Rotation: the old refresh token is spent, the new one works.
    let rotated = first.body["refresh_token"].as_str().unwrap().to_owned();
    let reused = token(
        &sim,
        "grant_type=refresh_token&refresh_token=rt-1&client_id=app&client_secret=app-secret",
    );
    assert_eq!(reused.status, 400);
    assert_eq!(reused.body["error"], "invalid_grant");
    let body = format!(
        "grant_type=refresh_token&refresh_token={rotated}&client_id=app&client_secret=app-secret"
    );
    assert_eq!(token(&sim, &body).status, 200);
    control.revoke_all_refresh_tokens();
    let revoked = token(&sim, &body);
    assert_eq!(
        (revoked.status, &revoked.body["error"]),
        (400, &"invalid_grant".into())
    );
    assert!(!format!("{control:?}").contains("app-secret"));
}

#[test]
fn client_credentials_with_basic_client_auth_and_errors() {
    let sim = start("");
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("app:app-secret")
    );
    let granted = call(
        "POST",
        &sim.url("/oauth/token"),
        &[FORM, ("authorization", &basic)],
        Some("grant_type=client_credentials&scope=read"),
    );
    assert_eq!(granted.status, 200, "{:?}", granted.body);
    assert_eq!(granted.body["scope"], "read");
    assert_eq!(
        get(&sim.url("/items"), &[("authorization", &bearer(&granted))]).status,
        200
    );
    let wrong = token(
        &sim,
        "grant_type=client_credentials&client_id=app&client_secret=nope",
    );
    assert_eq!(
        (wrong.status, &wrong.body["error"]),
        (401, &"invalid_client".into())
    );
    let odd = token(
        &sim,
        "grant_type=password&client_id=app&client_secret=app-secret",
    );
    assert_eq!(
        (odd.status, &odd.body["error"]),
        (400, &"unsupported_grant_type".into())
    );
    assert_eq!(sim.oauth().unwrap().grants(), 1);
}

#[test]
fn oauth_spec_errors() {
    let load = |head: &str| {
        lakeflow_simulator::Simulator::from_embedded(
            &format!("name: x\n{head}\nendpoints:\n  - path: /items\n    corpus: items.json\n"),
            &[("items.json", "[]")],
        )
        .unwrap_err()
        .to_string()
    };
    let both =
        load("auth: { scheme: bearer, token: t }\noauth: { client_id: a, client_secret: b }");
    assert!(both.contains("exclude each other"), "{both}");
    let zero = load("oauth: { client_id: a, client_secret: b, token_uses: 0 }");
    assert!(zero.contains("at least 1"), "{zero}");
    let unknown = load("oauth: { client_id: a, client_secret: b, lifetime: 3 }");
    assert!(unknown.contains("lifetime"), "{unknown}");
}
