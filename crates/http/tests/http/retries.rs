//! Which failures are retried, how long the client waits, and where it stops.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lakeflow_http::{Error, HttpClient, RetryPolicy, VirtualClock};
use serde_json::{Value, json};

use crate::capture::retry_events;
use crate::common::{
    Fault, Reply, TestServer, answer_once_then_close, client, config, fast_retry, refused_addr,
};

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

/// A client for `server` on a virtual clock that starts at `wall`; the clock records the waits.
fn timed(server: &TestServer, policy: RetryPolicy, wall: SystemTime) -> (HttpClient, VirtualClock) {
    let clock = VirtualClock::starting_at(wall);
    let http = HttpClient::new(config(server).retry(policy).clock(clock.clone())).unwrap();
    (http, clock)
}

/// A whole second in 2030, so dates and epoch seconds in replies are exact.
fn in_2030() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

#[test]
fn retry_after_seconds_is_honoured() {
    let server = TestServer::script(vec![Reply::status(503).header("Retry-After", 1), ok()]);
    let (http, clock) = timed(&server, fast_retry(), in_2030());
    http.get("/x").send().unwrap();
    assert_eq!(server.count(), 2);
    assert_eq!(clock.sleeps(), [Duration::from_secs(1)]);
}

#[test]
fn retry_after_http_date_is_honoured() {
    // Two seconds after the client's clock reads the answer: a wait of exactly two seconds.
    let date = "Sun, 17 Mar 2030 17:46:42 GMT";
    let server = TestServer::script(vec![Reply::status(429).header("Retry-After", date), ok()]);
    let (http, clock) = timed(&server, fast_retry(), in_2030());
    http.get("/x").send().unwrap();
    assert_eq!(server.count(), 2);
    assert_eq!(clock.sleeps(), [Duration::from_secs(2)]);
    assert_eq!(http.stats().rate_limit_wait, Duration::from_secs(2));
}

#[test]
fn retry_after_zero_waits_the_minimum_not_a_hot_loop() {
    let server = TestServer::script(vec![
        Reply::status(429).header("Retry-After", 0),
        Reply::status(429).header("Retry-After", 0),
        ok(),
    ]);
    let policy = RetryPolicy {
        min_retry_wait: ms(60),
        ..fast_retry()
    };
    let (http, clock) = timed(&server, policy, in_2030());
    http.get("/x").send().unwrap();
    assert_eq!(server.count(), 3);
    assert_eq!(clock.sleeps(), [ms(60), ms(60)]);
    assert_eq!(http.stats().rate_limit_wait, ms(120));
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
        min_retry_wait: ms(10),
        rate_limited_wait: ms(400),
        ..fast_retry()
    };
    let (http, clock) = timed(&server, policy, in_2030());
    http.get("/x").send().unwrap();
    assert_eq!(server.count(), 3);
    // The floor, then Retry-After's 0 raised to the minimum wait.
    assert_eq!(clock.sleeps(), [ms(400), ms(10)]);
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
        rate_limited_wait: ms(40),
        ..fast_retry()
    };
    let (http, clock) = timed(&server, policy.clone(), in_2030());
    http.get("/x").send().unwrap();
    assert_eq!(server.count(), 4);
    assert_eq!(clock.sleeps(), [ms(40), ms(80), ms(160)]);

    // The doubling wait still answers to the time budget: 40 + 80 fit in 150 ms, 160 more
    // does not, so the client gives up after three attempts instead of sleeping past it.
    let server = TestServer::handler(|_| Reply::status(429));
    let tight = RetryPolicy {
        max_elapsed: ms(150),
        max_attempts: 10,
        ..policy
    };
    let (http, clock) = timed(&server, tight, in_2030());
    let err = http.get("/x").send().unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, elapsed, .. } if elapsed == ms(120)),
        "{err:?}"
    );
    assert!(err.to_string().contains("time limit"), "{err}");
    assert_eq!(clock.sleeps(), [ms(40), ms(80)]);
    assert_eq!(server.count(), 3);
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
        rate_limited_wait: ms(50),
        ..fast_retry()
    };
    let clock = VirtualClock::new();
    let github = HttpClient::new(
        config(&server)
            .retry(policy.clone())
            .rate_limit_headers(lakeflow_http::RateLimitHeaders::github())
            .clock(clock.clone()),
    )
    .unwrap();
    github.get("/search").send().unwrap();
    assert_eq!(server.count(), 2);
    assert_eq!(clock.sleeps(), [ms(50)]);
    assert_eq!(github.stats().rate_limit_wait, ms(50));

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
        max_elapsed: ms(150),
        base_delay: ms(30),
        ..fast_retry()
    };
    let (http, clock) = timed(&server, policy, in_2030());
    let err = http.get("/x").send().unwrap_err();
    // 30, then 40 (the cap) three times: 150 ms; one more 40 would pass the limit.
    assert_eq!(clock.sleeps(), [ms(30), ms(40), ms(40), ms(40)]);
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 5, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("time limit of 0.150s"), "{err}");
    assert_eq!(server.count(), 5);

    // A wait longer than the whole budget is not even started: the rate limit is reported.
    let server = TestServer::script(vec![Reply::status(429).header("Retry-After", 3600), ok()]);
    let (http, clock) = timed(&server, fast_retry(), in_2030());
    let err = http.get("/x").send().unwrap_err();
    assert_eq!(clock.sleeps(), []);
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
    // A stall far beyond the read timeout, so that only the timeout can end the attempt.
    let slow = || ok().delay(Duration::from_secs(60));
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
fn a_refused_first_contact_fails_after_a_few_quick_retries_naming_the_address() {
    // GitHub's budget of 8 attempts; the server has never answered this client.
    let addr = refused_addr();
    let policy = RetryPolicy {
        max_attempts: 8,
        first_contact_attempts: 4,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(30),
        ..fast_retry()
    };
    let clock = VirtualClock::new();
    let http = HttpClient::new(
        lakeflow_http::HttpConfig::default()
            .base_url(format!("http://{addr}/api"))
            .retry(policy)
            .clock(clock.clone()),
    )
    .unwrap();
    let err = http
        .get("/x?access_token=s3cret-token&state=all")
        .send()
        .unwrap_err();
    // Three quick retries (0.5 + 1 + 2 s) instead of seven (over a minute).
    assert_eq!(clock.sleeps(), [ms(500), ms(1000), ms(2000)]);
    assert_eq!(http.stats().requests, 4);
    let Error::Unreachable {
        attempts: 4,
        ref last,
        ..
    } = err
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
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to {addr}: connection refused (gave up after 4 attempts in 3.500s, \
             and it has never answered); check that the source is running and that its URL is \
             right"
        )
    );
    // A connector sees a transport error with the same message.
    let connect: lakeflow_connect::Error = err.into();
    assert!(
        matches!(&connect, lakeflow_connect::Error::Transport { status: None, message, .. }
            if message.contains("connection refused")),
        "{connect:?}"
    );
}

#[test]
fn refusals_after_the_server_has_answered_get_the_whole_budget() {
    let (addr, served) = answer_once_then_close();
    let clock = VirtualClock::new();
    let http = HttpClient::new(
        lakeflow_http::HttpConfig::default()
            .base_url(format!("http://{addr}"))
            .retry(RetryPolicy {
                max_attempts: 6,
                first_contact_attempts: 2,
                ..fast_retry()
            })
            .clock(clock.clone()),
    )
    .unwrap();
    http.get("/first").send().unwrap();
    served.join().unwrap();
    // The port is closed now: the source went away mid-run, which is worth the whole budget.
    let err = http.get("/second").send().unwrap_err();
    let Error::RetriesExhausted {
        attempts: 6,
        ref last,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(matches!(**last, Error::Connect { .. }), "{last:?}");
    assert!(err.to_string().contains("Connection refused"), "{err}");
    assert_eq!(clock.sleeps().len(), 5);
    assert_eq!(http.stats().retries, 5);
}

#[test]
fn each_retry_emits_an_event_with_reason_attempt_and_wait() {
    let server = TestServer::script(vec![
        Reply::status(503),
        Reply::status(429).header("Retry-After", 2),
        ok(),
    ]);
    let (http, _clock) = timed(&server, fast_retry(), in_2030());
    let events = retry_events(|| {
        http.get("/x?api_key=s3cret-key").send().unwrap();
    });
    assert_eq!(
        events,
        [
            "reason=HTTP 503 attempt=2 max_attempts=5 wait_ms=5",
            "reason=rate limited (HTTP 429) attempt=3 max_attempts=5 wait_ms=2000",
        ]
    );

    // A refused first contact: the first-contact limit is the maximum the event states.
    let http = HttpClient::new(
        lakeflow_http::HttpConfig::default()
            .base_url(format!("http://{}", refused_addr()))
            .retry(RetryPolicy {
                max_attempts: 8,
                first_contact_attempts: 3,
                ..fast_retry()
            })
            .clock(VirtualClock::new()),
    )
    .unwrap();
    let events = retry_events(|| {
        http.get("/x").send().unwrap_err();
    });
    assert_eq!(
        events,
        [
            "reason=connection refused attempt=2 max_attempts=3 wait_ms=5",
            "reason=connection refused attempt=3 max_attempts=3 wait_ms=10",
        ]
    );
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
    let (http, _clock) = timed(&server, fast_retry(), in_2030());
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
    assert_eq!(stats.backoff_wait, ms(5));
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
