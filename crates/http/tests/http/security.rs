//! Credentials on the wire, where they may go, the User-Agent, and redaction everywhere else.

use lakeflow_connect::Secret;
use lakeflow_http::{Auth, DEFAULT_USER_AGENT, HttpClient, RetryPolicy};
use serde_json::json;

use crate::capture::capture_logs;
use crate::common::{Reply, TestServer, config, fast_retry};

/// A recognisable fake credential that must never be shown.
const SECRET: &str = "sk_FAKE_7f3a9c2e5b1d";

fn ok() -> Reply {
    Reply::json(200, &json!({}))
}

#[test]
fn credentials_are_sent_in_the_declared_form() {
    let server = TestServer::handler(|_| ok());
    let with = |auth: Auth| HttpClient::new(config(&server).auth(auth)).unwrap();

    with(Auth::bearer(Secret::new("tok_1")))
        .get("/a")
        .send()
        .unwrap();
    with(Auth::basic(
        "me@example.com/token",
        Secret::new("p@ss:word"),
    ))
    .get("/b")
    .send()
    .unwrap();
    with(Auth::api_key_header("X-Api-Key", Secret::new("key_3")))
        .get("/c")
        .send()
        .unwrap();
    with(Auth::api_key_query("api_key", Secret::new("key 4&")))
        .get("/d?page=2")
        .send()
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests[0].header("authorization"), Some("Bearer tok_1"));
    // base64("me@example.com/token:p@ss:word")
    assert_eq!(
        requests[1].header("authorization"),
        Some("Basic bWVAZXhhbXBsZS5jb20vdG9rZW46cEBzczp3b3Jk")
    );
    assert_eq!(requests[2].header("x-api-key"), Some("key_3"));
    assert_eq!(requests[2].header("authorization"), None);
    assert_eq!(requests[3].query("api_key").as_deref(), Some("key 4&"));
    assert_eq!(requests[3].query("page").as_deref(), Some("2"));
}

#[test]
fn user_agent_defaults_to_the_crate_and_can_be_set() {
    let server = TestServer::handler(|_| ok());
    HttpClient::new(config(&server))
        .unwrap()
        .get("/a")
        .send()
        .unwrap();
    HttpClient::new(config(&server).user_agent("lakeflow-github/1.2"))
        .unwrap()
        .get("/b")
        .send()
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        DEFAULT_USER_AGENT,
        concat!("lakeflow-rs/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(requests[0].header("user-agent"), Some(DEFAULT_USER_AGENT));
    assert_eq!(
        requests[1].header("user-agent"),
        Some("lakeflow-github/1.2")
    );
}

#[test]
fn base_url_prefix_and_default_headers_are_kept() {
    let server = TestServer::handler(|_| ok());
    let http = HttpClient::new(
        config(&server)
            .base_url(server.url("/api/v3"))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28"),
    )
    .unwrap();
    http.get("/repos/o/r")
        .header("accept", "text/plain")
        .send()
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.target, "/api/v3/repos/o/r");
    // The request's own header replaces the default of the same name.
    assert_eq!(request.header("accept"), Some("text/plain"));
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
}

#[test]
fn credentials_never_follow_a_redirect_to_another_origin() {
    let elsewhere = TestServer::handler(|_| ok());
    let target = elsewhere.url("/landing");
    let home = TestServer::handler(move |_| Reply::status(302).header("Location", &target));
    let http = HttpClient::new(config(&home).auth(Auth::bearer(Secret::new(SECRET)))).unwrap();
    http.get("/start").send().unwrap();
    assert_eq!(
        home.requests()[0].header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    let landed = elsewhere.requests();
    assert_eq!(landed.len(), 1);
    assert_eq!(landed[0].header("authorization"), None);
}

#[test]
fn secrets_never_appear_in_debug_errors_or_logs() {
    // A server that echoes the credential back, as some APIs do in error bodies.
    let server = TestServer::script(vec![
        Reply::text(503, &format!("invalid token {SECRET}")),
        Reply::text(404, &format!("{{\"error\": \"no repo for key {SECRET}\"}}")),
        Reply::text(401, &format!("Bad credentials: Bearer {SECRET}")),
        Reply::text(500, SECRET),
        Reply::text(500, SECRET),
    ]);
    let bearer = config(&server).auth(Auth::bearer(Secret::new(SECRET)));
    let in_query = config(&server)
        .auth(Auth::api_key_query("key", Secret::new(SECRET)))
        .retry(RetryPolicy {
            max_attempts: 2,
            ..fast_retry()
        })
        .header("X-Api-Key", SECRET);
    let mut shown = vec![format!("{bearer:?}"), format!("{in_query:?}")];
    let ((), log) = capture_logs(|| {
        let http = HttpClient::new(bearer).unwrap();
        shown.push(format!("{http:?}"));
        let request = http
            .get("/repos?access_token=x")
            .query("token", SECRET)
            .header("Authorization", format!("token {SECRET}"));
        shown.push(format!("{request:?}"));
        // 503 then 404: one retry, then a status error quoting the body.
        let err = request.send().unwrap_err();
        assert!(
            matches!(err, lakeflow_http::Error::Status { status: 404, .. }),
            "{err:?}"
        );
        shown.extend([err.to_string(), format!("{err:?}")]);
        let err = http.get("/user").send().unwrap_err();
        assert!(matches!(err, lakeflow_http::Error::Auth { .. }), "{err:?}");
        shown.extend([err.to_string(), format!("{err:?}")]);
        shown.push(lakeflow_connect::Error::from(err).to_string());

        let keyed = HttpClient::new(in_query).unwrap();
        shown.push(format!("{keyed:?}"));
        let err = keyed.get("/items").send().unwrap_err();
        assert!(
            matches!(err, lakeflow_http::Error::RetriesExhausted { .. }),
            "{err:?}"
        );
        // The key travels in the query on the wire only; the echoed body is masked.
        assert!(
            err.to_string().contains("/items returned HTTP 500: ***"),
            "{err}"
        );
        shown.extend([err.to_string(), format!("{err:?}")]);
    });
    // The log did record the exchanges (method, URL, status, attempt), just not the secret.
    assert!(log.contains("HTTP request"), "{log}");
    assert!(
        log.contains("status=503") && log.contains("attempt=2"),
        "{log}"
    );
    assert!(log.contains("token=***"), "{log}");
    shown.push(log);
    // The secret did go on the wire, so its absence above is redaction, not omission.
    assert!(server.requests().iter().any(|r| r.target.contains(SECRET)));
    for text in &shown {
        assert!(!text.contains(SECRET), "secret leaked in: {text}");
        assert!(!text.contains("7f3a9c2e5b1d"), "secret leaked in: {text}");
    }
}

#[test]
fn transport_log_directives_parse() {
    let filter = format!("debug,{}", lakeflow_http::TRANSPORT_LOG_DIRECTIVES);
    let parsed = tracing_subscriber::EnvFilter::try_new(&filter).unwrap();
    // Both transport targets are capped at warn.
    let shown = parsed.to_string();
    assert!(
        shown.contains("ureq=warn") && shown.contains("ureq_proto=warn"),
        "{shown}"
    );
}
