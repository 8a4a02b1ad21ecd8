//! Credentials: missing ones answer 401, wrong ones 401 or 403 as the spec says, with JSON bodies.

use super::{API_KEY, BEARER, basic, get, start_fake, start_inline};

#[test]
fn bearer_missing_and_wrong() {
    let sim = start_fake();
    let missing = get(&sim.url("/users"), &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.message(), "Requires authentication");
    assert!(
        missing
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    assert!(
        missing
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let wrong = get(&sim.url("/users"), &[("authorization", "Bearer nope")]);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.message(), "Bad credentials");
    let other_scheme = get(&sim.url("/users"), &[("authorization", "token test-token")]);
    assert_eq!(other_scheme.status, 401);
    assert_eq!(get(&sim.url("/users"), &[BEARER]).status, 200);
}

#[test]
fn api_key_header_answers_403_when_wrong() {
    let sim = start_fake();
    assert_eq!(get(&sim.url("/events"), &[]).status, 401);
    assert_eq!(
        get(&sim.url("/events"), &[("x-api-key", "nope")]).status,
        403
    );
    // The endpoint's own scheme replaces the spec's: a bearer token does not open it.
    assert_eq!(get(&sim.url("/events"), &[BEARER]).status, 401);
    assert_eq!(get(&sim.url("/events"), &[API_KEY]).status, 200);
}

#[test]
fn basic_credentials() {
    let sim = start_fake();
    let url = sim.url("/api/v2/tickets/101.json");
    let missing = get(&url, &[]);
    assert_eq!(missing.status, 401);
    assert!(
        missing
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    let wrong = base64_header("agent@example.com/token:wrong");
    assert_eq!(get(&url, &[("authorization", &wrong)]).status, 401);
    let auth = basic();
    assert_eq!(get(&url, &[(auth.0, auth.1.as_str())]).status, 200);
}

fn base64_header(credentials: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

#[test]
fn query_keys_and_public_endpoints() {
    let spec = r"
name: keys
auth: { scheme: api_key, query: api_key, value: k1 }
endpoints:
  - path: /private
    corpus: rows.json
    strict: true
  - path: /public
    corpus: rows.json
    auth: none
";
    let sim = start_inline(spec, &[("rows.json", r#"[{"id": 1}]"#)]);
    assert_eq!(get(&sim.url("/private"), &[]).status, 401);
    assert_eq!(get(&sim.url("/private?api_key=k2"), &[]).status, 401);
    // The key parameter is accepted by a strict endpoint.
    assert_eq!(get(&sim.url("/private?api_key=k1"), &[]).status, 200);
    assert_eq!(get(&sim.url("/public"), &[]).status, 200);
}
