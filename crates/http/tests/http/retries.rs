//! Which failures are retried, how long the client waits, and where it stops.

use std::time::{Duration, Instant, SystemTime};

use lakeflow_http::{Error, HttpClient, RetryPolicy};
use serde_json::{Value, json};

use crate::common::{Fault, Reply, TestServer, client, config, fast_retry, refused_url};

fn ok() -> Reply {
    Reply::json(200, &json!({"ok": true}))
}

#[test]
fn each_retriable_status_is_retried_then_succeeds() {
    for status in [408, 429, 500, 502, 503, 504] {
        let server = TestServer::script(vec![Reply::text(status, "try later"), ok()]);
        let body: Value = client(&server).get_json("/thing").unwrap();
        assert_eq!(body, json!({"ok": true}), "{status}");
        assert_eq!(server.count(), 2, "{status}");
    }
}

#[test]
fn client_errors_are_not_retried() {
    for status in [400, 404, 422] {
        let server = TestServer::script(vec![
            Reply::text(status, "{\"message\": \"Not Found\"}"),
            ok(),
        ]);
        let err = client(&server).get("/missing").send().unwrap_err();
        assert!(
            matches!(err, Error::Status { status: s, .. } if s == status),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("\"message\": \"Not Found\""),
            "{err}"
        );
        assert!(err.to_string().contains("/missing"), "{err}");
        assert!(!err.is_retriable());
        assert_eq!(server.count(), 1, "{status}");
    }
}

#[test]
fn plain_403_and_401_are_auth_errors_without_retry() {
    // With rate-limit headers declared and quota left, a 403 is a permission problem.
    let server = TestServer::script(vec![
        Reply::text(403, "Resource not accessible by integration")
            .header("x-ratelimit-remaining", 4999)
            .header("x-ratelimit-reset", 4_000_000_000_u64),
        ok(),
    ]);
    let github = HttpClient::new(
        config(&server).rate_limit_headers(lakeflow_http::RateLimitHeaders::github()),
    )
    .unwrap();
    let err = github.get("/repos/o/r").send().unwrap_err();
    assert!(matches!(err, Error::Auth { status: 403, .. }), "{err:?}");
    assert!(err.to_string().contains("not accessible"), "{err}");
    assert_eq!(server.count(), 1);

    // Without declared headers, even "remaining: 0" does not make a 403 a rate limit.
    let server = TestServer::script(vec![
        Reply::status(403).header("x-ratelimit-remaining", 0),
        ok(),
    ]);
    let err = client(&server).get("/x").send().unwrap_err();
    assert!(matches!(err, Error::Auth { status: 403, .. }), "{err:?}");
    assert_eq!(server.count(), 1);

    let server = TestServer::script(vec![Reply::text(401, "Bad credentials"), ok()]);
    let err = client(&server).get("/x").send().unwrap_err();
    assert!(matches!(err, Error::Auth { status: 401, .. }), "{err:?}");
    let connect: lakeflow_connect::Error = err.into();
    assert!(
        matches!(connect, lakeflow_connect::Error::Auth { .. }),
        "{connect:?}"
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn retry_after_seconds_is_honoured() {
    let server = TestServer::script(vec![Reply::status(503).header("Retry-After", 1), ok()]);
    let started = Instant::now();
    client(&server).get("/x").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_secs(1));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn retry_after_http_date_is_honoured() {
    // An HTTP date has whole seconds: aim one second ahead and expect no request before it.
    let target = chrono::Utc::now() + chrono::Duration::seconds(1);
    let date = target.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let not_before: SystemTime = chrono::DateTime::parse_from_rfc2822(&date).unwrap().into();
    let server = TestServer::script(vec![Reply::status(429).header("Retry-After", &date), ok()]);
    let http = client(&server);
    http.get("/x").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].wall >= not_before, "retried before {date}");
    assert!(http.stats().rate_limit_wait > Duration::ZERO);
}

#[test]
fn retry_after_zero_waits_the_minimum_not_a_hot_loop() {
    let server = TestServer::script(vec![
        Reply::status(429).header("Retry-After", 0),
        Reply::status(429).header("Retry-After", 0),
        ok(),
    ]);
    let policy = RetryPolicy {
        min_retry_wait: Duration::from_millis(60),
        ..fast_retry()
    };
    let http = HttpClient::new(config(&server).retry(policy)).unwrap();
    http.get("/x").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for pair in requests.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(60), "{gap:?}");
    }
    assert!(http.stats().rate_limit_wait >= Duration::from_millis(120));
}

#[test]
fn a_rate_limit_without_a_wait_uses_the_declared_floor_and_retry_after_wins_over_it() {
    let server = TestServer::script(vec![
        // Neither Retry-After nor a reset: GitHub's secondary limit, wait the declared floor.
        Reply::status(429),
        // The server says how long: that, not the floor.
        Reply::status(429).header("Retry-After", 0),
        ok(),
    ]);
    let policy = RetryPolicy {
        min_retry_wait: Duration::from_millis(10),
        rate_limited_wait: Duration::from_millis(400),
        ..fast_retry()
    };
    let http = HttpClient::new(config(&server).retry(policy)).unwrap();
    http.get("/x").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let first_gap = requests[1].at - requests[0].at;
    let second_gap = requests[2].at - requests[1].at;
    assert!(first_gap >= Duration::from_millis(400), "{first_gap:?}");
    assert!(second_gap < Duration::from_millis(300), "{second_gap:?}");
    assert!(second_gap >= Duration::from_millis(10), "{second_gap:?}");
}

#[test]
fn repeated_rate_limits_without_a_wait_back_off_exponentially_from_the_floor() {
    // GitHub's secondary limit: three 429s with no wait of their own. The floor doubles per
    // retry (40, 80, 160 ms), far above the 40 ms backoff cap, so a constant floor would fail.
    let server = TestServer::script(vec![
        Reply::status(429),
        Reply::status(429),
        Reply::status(429),
        ok(),
    ]);
    let policy = RetryPolicy {
        rate_limited_wait: Duration::from_millis(40),
        ..fast_retry()
    };
    let http = HttpClient::new(config(&server).retry(policy.clone())).unwrap();
    http.get("/x").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    let gaps: Vec<Duration> = requests.windows(2).map(|p| p[1].at - p[0].at).collect();
    for (gap, floor) in gaps.iter().zip([40, 80, 160]) {
        assert!(*gap >= Duration::from_millis(floor), "{gaps:?}");
    }
    assert!(gaps[2] < Duration::from_millis(1_000), "{gaps:?}");

    // The doubling wait still answers to the time budget: 40 + 80 fit in 150 ms, 160 more
    // does not, so the client gives up after three attempts instead of sleeping past it.
    let server = TestServer::handler(|_| Reply::status(429));
    let tight = RetryPolicy {
        max_elapsed: Duration::from_millis(150),
        max_attempts: 10,
        ..policy
    };
    let http = HttpClient::new(config(&server).retry(tight)).unwrap();
    let err = http.get("/x").send().unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("time limit"), "{err}");
}

#[test]
fn a_403_naming_the_secondary_limit_is_rate_limited_where_headers_are_declared() {
    // GitHub documents secondary-limit 403s without Retry-After or exhausted headers.
    let secondary = || {
        Reply::text(
            403,
            r#"{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest"}"#,
        )
        .header("x-ratelimit-remaining", 4000)
    };
    let server = TestServer::script(vec![secondary(), ok()]);
    let policy = RetryPolicy {
        rate_limited_wait: Duration::from_millis(50),
        ..fast_retry()
    };
    let github = HttpClient::new(
        config(&server)
            .retry(policy.clone())
            .rate_limit_headers(lakeflow_http::RateLimitHeaders::github()),
    )
    .unwrap();
    github.get("/search").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(50));
    assert!(github.stats().rate_limit_wait >= Duration::from_millis(50));

    // When it persists, the error says rate limited (not a permission problem).
    let server = TestServer::handler(move |_| secondary());
    let github = HttpClient::new(
        config(&server)
            .retry(RetryPolicy {
                max_attempts: 2,
                ..policy.clone()
            })
            .rate_limit_headers(lakeflow_http::RateLimitHeaders::github()),
    )
    .unwrap();
    let err = github.get("/search").send().unwrap_err();
    let Error::RetriesExhausted { last, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(**last, Error::RateLimited { status: 403, .. }),
        "{last:?}"
    );

    // A source that declares no rate-limit headers reads the same 403 as a permission error.
    let server = TestServer::script(vec![secondary(), ok()]);
    let plain = HttpClient::new(config(&server).retry(policy)).unwrap();
    let err = plain.get("/search").send().unwrap_err();
    assert!(matches!(err, Error::Auth { status: 403, .. }), "{err:?}");
    assert_eq!(server.count(), 1);
}

#[test]
fn attempts_are_bounded() {
    let server = TestServer::handler(|_| Reply::text(503, "down for maintenance"));
    let policy = RetryPolicy {
        max_attempts: 3,
        ..fast_retry()
    };
    let http = HttpClient::new(config(&server).retry(policy)).unwrap();
    let err = http.get("/x").send().unwrap_err();
    match &err {
        Error::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert!(
                matches!(**last, Error::Status { status: 503, .. }),
                "{last:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains("gave up after 3 attempts"), "{shown}");
    assert!(shown.contains("attempt limit of 3 reached"), "{shown}");
    assert!(shown.contains("down for maintenance"), "{shown}");
    assert_eq!(server.count(), 3);
    assert_eq!(http.stats().retries, 2);
    match lakeflow_connect::Error::from(err) {
        lakeflow_connect::Error::Transport {
            status, retriable, ..
        } => assert_eq!((status, retriable), (Some(503), true)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn total_time_is_bounded() {
    let server = TestServer::handler(|_| Reply::status(502));
    let policy = RetryPolicy {
        max_attempts: 100,
        max_elapsed: Duration::from_millis(150),
        base_delay: Duration::from_millis(30),
        ..fast_retry()
    };
    let http = HttpClient::new(config(&server).retry(policy)).unwrap();
    let started = Instant::now();
    let err = http.get("/x").send().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    let Error::RetriesExhausted { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert!((2..10).contains(attempts), "{attempts}");
    assert!(err.to_string().contains("time limit of 0.150s"), "{err}");

    // A wait longer than the whole budget is not even started: the rate limit is reported.
    let server = TestServer::script(vec![Reply::status(429).header("Retry-After", 3600), ok()]);
    let started = Instant::now();
    let err = client(&server).get("/x").send().unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(
        matches!(err, Error::RateLimited { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
    match lakeflow_connect::Error::from(err) {
        lakeflow_connect::Error::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn read_timeouts_are_retried_then_reported() {
    let slow = || ok().delay(Duration::from_millis(400));
    let server = TestServer::script(vec![slow(), ok()]);
    let http = HttpClient::new(config(&server).read_timeout(Duration::from_millis(100))).unwrap();
    http.get("/x").send().unwrap();
    // Two requests: the first was abandoned at the read timeout, not waited out.
    assert_eq!(server.count(), 2);

    let server = TestServer::handler(move |_| slow());
    let policy = RetryPolicy {
        max_attempts: 2,
        ..fast_retry()
    };
    let http = HttpClient::new(
        config(&server)
            .read_timeout(Duration::from_millis(100))
            .retry(policy),
    )
    .unwrap();
    let err = http.get("/x").send().unwrap_err();
    let Error::RetriesExhausted { last, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(matches!(**last, Error::Timeout { .. }), "{last:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(server.count(), 2);
}

#[test]
fn refused_connections_are_retried_then_reported() {
    let http = HttpClient::new(
        lakeflow_http::HttpConfig::default()
            .base_url(refused_url())
            .retry(RetryPolicy {
                max_attempts: 3,
                ..fast_retry()
            }),
    )
    .unwrap();
    let err = http.get("/x").send().unwrap_err();
    let Error::RetriesExhausted {
        attempts: 3, last, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        matches!(
            **last,
            Error::Connect {
                retriable: true,
                ..
            }
        ),
        "{last:?}"
    );
    assert_eq!(http.stats().requests, 3);
    let connect: lakeflow_connect::Error = err.into();
    assert!(connect.is_retriable(), "{connect:?}");
}

#[test]
fn truncated_bodies_and_dropped_connections_are_retried() {
    let server = TestServer::script(vec![
        Reply::json(200, &json!({"items": [1, 2, 3, 4, 5, 6]})).fault(Fault::Truncate),
        Reply::status(200).fault(Fault::Drop),
        Reply::json(200, &json!({"items": [1]})),
    ]);
    let body: Value = client(&server).get_json("/items").unwrap();
    assert_eq!(body, json!({"items": [1]}));
    assert_eq!(server.count(), 3);
}

#[test]
fn writes_are_retried_only_when_safe_or_opted_in() {
    let server = TestServer::script(vec![Reply::status(500), ok()]);
    let err = client(&server)
        .post("/charges")
        .json(&json!({"amount": 5}))
        .send()
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 500, .. }), "{err:?}");
    assert_eq!(server.count(), 1);

    // A search sent as POST may be repeated.
    let server = TestServer::script(vec![Reply::status(500), ok()]);
    client(&server)
        .post("/search")
        .idempotent()
        .json(&json!({"q": "x"}))
        .send()
        .unwrap();
    assert_eq!(server.count(), 2);

    // A 429 means the server did not act on it: repeating is safe even for a POST.
    let server = TestServer::script(vec![Reply::status(429), ok()]);
    client(&server)
        .post("/charges")
        .json(&json!({"amount": 5}))
        .send()
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].body, br#"{"amount":5}"#);
    assert_eq!(requests[1].header("content-type"), Some("application/json"));
}

#[test]
fn counters_add_up() {
    let server = TestServer::script(vec![
        Reply::text(503, "busy"),
        Reply::json(200, &json!({"a": 1})),
        Reply::text(201, "created"),
    ]);
    let http = client(&server);
    let body: Value = http.get_json("/a").unwrap();
    assert_eq!(body, json!({"a": 1}));
    let response = http.post("/b").body("hello", "text/plain").send().unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.text(), "created");
    assert_eq!(response.header("Content-Length"), Some("7"));
    let stats = http.stats();
    assert_eq!(stats.requests, 3);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.bytes_received, 4 + 7 + 7);
    assert_eq!(stats.bytes_sent, 5);
    // One backoff of base_delay (no jitter), no rate-limit wait.
    assert!(stats.backoff_wait >= Duration::from_millis(5));
    assert_eq!(stats.rate_limit_wait, Duration::ZERO);
    // Clones share the counters.
    assert_eq!(http.clone().stats(), stats);
}

#[test]
fn redirects_are_followed() {
    let server = TestServer::handler(|r| match r.path() {
        "/old" => Reply::status(301).header("Location", "/new?x=1"),
        _ => ok(),
    });
    let response = client(&server).get("/old").send().unwrap();
    assert_eq!(response.status(), 200);
    let requests = server.requests();
    assert_eq!(requests[1].target, "/new?x=1");
}

#[test]
fn redirect_loops_and_oversized_bodies_fail_without_retry() {
    let server = TestServer::handler(|_| Reply::status(302).header("Location", "/again"));
    let err = client(&server).get("/start").send().unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    assert_eq!(server.count(), 11);

    let server = TestServer::script(vec![Reply::text(200, &"x".repeat(100)), ok()]);
    let http = HttpClient::new(config(&server).max_body_bytes(10)).unwrap();
    let err = http.get("/big").send().unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    assert_eq!(server.count(), 1);
}
