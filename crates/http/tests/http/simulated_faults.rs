//! The retry rules against a real local server: the simulator's fault profiles (`flaky`,
//! `hostile`, `users_down` from the fake spec) and rules built in code, plus the request budget.
//! Retry delays are milliseconds; only the server-dictated waits of the `hostile` profile
//! (`Retry-After: 1`, a date and a reset one second ahead) take up to a second each, and the
//! timing of each of those is checked there rather than paid for again in separate tests.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lakeflow_http::{
    Auth, Error, HttpClient, Pages, Pagination, RateLimitHeaders, RequestBudget, RetryPolicy,
};
use lakeflow_simulator::{FaultProfile, FaultRule, LoggedRequest};
use serde_json::{Value, json};

use crate::common::fast_retry;
use crate::fake_api::{
    Arrivals, api_key, bearer, client, config, fake, ids, start, start_timed, style, walk,
};

fn with_faults(rules: Vec<FaultRule>) -> FaultProfile {
    rules
        .into_iter()
        .fold(FaultProfile::new(1), FaultProfile::with_rule)
}

fn statuses(log: &[LoggedRequest]) -> Vec<Option<u16>> {
    log.iter().map(|r| r.status).collect()
}

/// The arrival of request `number` (1-based), as stamped by `start_timed`.
fn arrival(arrivals: &Arrivals, number: u64) -> (Instant, SystemTime) {
    let all = arrivals.lock().unwrap();
    let (_, at, wall) = all.iter().find(|(n, ..)| *n == number).unwrap();
    (*at, *wall)
}

/// The first whole second after `at`, which is what a header holding epoch seconds or an HTTP
/// date "one second from `at`" names.
fn next_second(at: SystemTime) -> SystemTime {
    let seconds = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    UNIX_EPOCH + Duration::from_secs(seconds + 1)
}

fn users_page(http: &HttpClient) -> lakeflow_http::Result<Vec<Value>> {
    http.get("/users")
        .pages(Pagination::Single, "users")
        .next()
        .unwrap()
        .map(|page| page.records)
}

#[test]
fn transient_server_errors_are_retried_until_an_answer() {
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::status(500).on_requests([1]),
            FaultRule::status(502).on_requests([2]),
            FaultRule::status(503).on_requests([3]),
            FaultRule::status(504).on_requests([4]),
        ]))
        .start()
        .unwrap();
    let http = HttpClient::new(config(&sim).auth(bearer()).retry(RetryPolicy {
        max_attempts: 6,
        ..fast_retry()
    }))
    .unwrap();
    let users = users_page(&http).unwrap();
    assert_eq!(
        ids(&users),
        ids(&users_page(&client(&start(), bearer())).unwrap())
    );
    assert_eq!(
        statuses(&sim.request_log()),
        [Some(500), Some(502), Some(503), Some(504), Some(200)]
    );
    let stats = http.stats();
    assert_eq!((stats.requests, stats.retries), (5, 4));
    assert!(stats.backoff_wait >= Duration::from_millis(4 * 5));
    assert_eq!(stats.rate_limit_wait, Duration::ZERO);
}

#[test]
fn retry_after_zero_waits_the_minimum_not_a_hot_loop() {
    const FLOOR: Duration = Duration::from_millis(100);
    let (sim, arrivals) = start_timed(fake().with_faults(with_faults(vec![
        FaultRule::status(429).retry_after_seconds(0).on_requests([1, 2]),
    ])));
    let http = HttpClient::new(config(&sim).auth(bearer()).retry(RetryPolicy {
        min_retry_wait: FLOOR,
        ..fast_retry()
    }))
    .unwrap();
    users_page(&http).unwrap();
    assert_eq!(
        statuses(&sim.request_log()),
        [Some(429), Some(429), Some(200)]
    );
    for n in 1..=2 {
        let gap = arrival(&arrivals, n + 1).0 - arrival(&arrivals, n).0;
        assert!(gap >= FLOOR, "retry {n} after {gap:?}");
    }
    let stats = http.stats();
    assert_eq!(stats.retries, 2);
    assert!(stats.rate_limit_wait >= 2 * FLOOR, "{stats:?}");
}

#[test]
fn a_403_is_throttling_only_when_declared_headers_say_so() {
    // The retry of a declared rate-limit 403 (waiting for the reset) is in the hostile walk.
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::status(403).on_requests([1]),
            FaultRule::status(403)
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "{epoch+1}")
                .on_requests([2]),
        ]))
        .start()
        .unwrap();
    // With GitHub's headers declared, a 403 without them is a permission error.
    let github = HttpClient::new(
        config(&sim)
            .auth(bearer())
            .rate_limit_headers(RateLimitHeaders::github()),
    )
    .unwrap();
    let err = users_page(&github).unwrap_err();
    assert!(matches!(err, Error::Auth { status: 403, .. }), "{err:?}");
    assert_eq!(sim.request_log().len(), 1, "not retried");
    // Without declared headers, even "remaining: 0" is not a rate limit.
    let plain = client(&sim, bearer());
    let err = users_page(&plain).unwrap_err();
    assert!(matches!(err, Error::Auth { status: 403, .. }), "{err:?}");
    assert_eq!(sim.request_log().len(), 2, "not retried");
    assert_eq!(github.stats().retries + plain.stats().retries, 0);
}

#[test]
fn slow_answers_time_out_then_are_retried_or_reported() {
    const READ_TIMEOUT: Duration = Duration::from_millis(150);
    let (sim, arrivals) =
        start_timed(fake().with_faults(with_faults(vec![FaultRule::slow(1500).on_requests([1])])));
    let http = HttpClient::new(config(&sim).auth(bearer()).read_timeout(READ_TIMEOUT)).unwrap();
    users_page(&http).unwrap();
    let log = sim.request_log();
    assert_eq!(statuses(&log), [Some(200), Some(200)]);
    assert_eq!(log[0].fault.as_deref(), Some("slow 1500ms"));
    // The client gave up at its read timeout rather than waiting out the stall.
    let gap = arrival(&arrivals, 2).0 - arrival(&arrivals, 1).0;
    assert!(
        gap >= READ_TIMEOUT && gap < Duration::from_millis(1500),
        "{gap:?}"
    );

    // Always slow: the attempts end in a timeout error.
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::slow(1500).on_endpoint("/users"),
        ]))
        .start()
        .unwrap();
    let http = HttpClient::new(
        config(&sim)
            .auth(bearer())
            .read_timeout(READ_TIMEOUT)
            .retry(RetryPolicy {
                max_attempts: 2,
                ..fast_retry()
            }),
    )
    .unwrap();
    let started = Instant::now();
    let err = users_page(&http).unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1500));
    let Error::RetriesExhausted {
        attempts: 2, last, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(matches!(**last, Error::Timeout { .. }), "{last:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(sim.request_log().len(), 2);
}

#[test]
fn truncated_and_dropped_answers_are_retried() {
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::truncate().on_requests([1]),
            FaultRule::drop_connection().on_requests([2]),
        ]))
        .start()
        .unwrap();
    let http = client(&sim, bearer());
    let users = users_page(&http).unwrap();
    assert_eq!(users, users_page(&client(&start(), bearer())).unwrap());
    let log = sim.request_log();
    let faults: Vec<Option<&str>> = log.iter().map(|r| r.fault.as_deref()).collect();
    assert_eq!(faults, [Some("truncate"), Some("drop"), None]);
    // A dropped connection has no status.
    assert_eq!(statuses(&log), [Some(200), None, Some(200)]);
    assert_eq!(http.stats().retries, 2);
}

#[test]
fn attempts_are_bounded_and_other_endpoints_unaffected() {
    let sim = fake()
        .with_fault_profile("users_down")
        .unwrap()
        .start()
        .unwrap();
    let policy = RetryPolicy {
        max_attempts: 3,
        ..fast_retry()
    };
    let http = HttpClient::new(config(&sim).auth(bearer()).retry(policy.clone())).unwrap();
    let err = users_page(&http).unwrap_err();
    let Error::RetriesExhausted { attempts, last, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 3);
    assert!(
        matches!(**last, Error::Status { status: 503, .. }),
        "{last:?}"
    );
    assert!(
        err.to_string().contains("attempt limit of 3 reached"),
        "{err}"
    );
    let log = sim.request_log();
    assert_eq!(statuses(&log), [Some(503); 3]);
    assert!(log.iter().all(|r| r.path == "/users"));
    assert_eq!(http.stats().retries, 2);

    let events = HttpClient::new(config(&sim).auth(api_key()).retry(policy)).unwrap();
    let served = walk(style("offset").pages(&events));
    style("offset").check(&served, SystemTime::now());
    assert_eq!(events.stats().retries, 0);
}

#[test]
fn writes_are_repeated_only_when_the_server_cannot_have_acted() {
    let sim = fake()
        .with_faults(with_faults(vec![
            // Numbered among the endpoint's own requests, the POSTs.
            FaultRule::status(503)
                .on_endpoint("create customer")
                .on_requests([1]),
            FaultRule::status(429)
                .retry_after_seconds(0)
                .on_endpoint("create customer")
                .on_requests([2]),
        ]))
        .start()
        .unwrap();
    let http = client(&sim, bearer());
    let customer = json!({"email": "once@customer.test", "name": "Once"});
    let count = || {
        walk(style("starting_after").pages(&http))
            .iter()
            .filter(|c| c["email"] == "once@customer.test")
            .count()
    };
    // A 5xx may come after the server acted: a POST is not repeated.
    let err = http
        .post("/v1/customers")
        .json(&customer)
        .send()
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 503, .. }), "{err:?}");
    assert_eq!(sim.request_log().len(), 1);
    assert_eq!(count(), 0);
    // A 429 means it did not: repeated, and created once.
    let before = sim.request_log().len();
    http.post("/v1/customers").json(&customer).send().unwrap();
    let posts: Vec<Option<u16>> = statuses(&sim.request_log()[before..]);
    assert_eq!(posts, [Some(429), Some(200)]);
    assert_eq!(count(), 1);
}

#[test]
fn budget_spaces_requests_to_the_simulator() {
    const PER: Duration = Duration::from_millis(250);
    let (sim, arrivals) = start_timed(fake());
    let http = HttpClient::new(
        config(&sim)
            .auth(bearer())
            .budget(RequestBudget::new(3, PER)),
    )
    .unwrap();
    let started = Instant::now();
    let users = walk(
        http.get("/users")
            .query("per_page", 5)
            .pages(Pagination::page_number("page", Some(5)), "users"),
    );
    style("page_number").check(&users, SystemTime::now());
    let requests = arrivals.lock().unwrap().len();
    assert!(
        requests >= 7,
        "{requests} requests: the walk must need three windows"
    );
    // Request 7 cannot start before two windows after request 1 (3 per window).
    assert!(started.elapsed() >= 2 * PER);
    // Any 4 consecutive arrivals span a window. The client enforces the budget on its own
    // clock; the slack covers the varying client-to-server delay. Without a budget, 4 arrive
    // within a few milliseconds.
    let at: Vec<Instant> = arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|(_, at, _)| *at)
        .collect();
    for four in at.windows(4) {
        let span = four[3] - four[0];
        assert!(
            span >= PER - Duration::from_millis(100),
            "4 requests within {span:?}"
        );
    }
    assert!(http.stats().rate_limit_wait >= PER, "{:?}", http.stats());
}

/// The records the same walk yields from a simulator without faults.
fn fault_free(auth: Auth, pages: impl Fn(&HttpClient) -> Pages) -> Vec<Value> {
    let sim = start();
    walk(pages(&client(&sim, auth)))
}

#[test]
fn flaky_profile_walk_changes_nothing_but_timing() {
    let sim = fake().with_fault_profile("flaky").unwrap().start().unwrap();
    let http = HttpClient::new(config(&sim).auth(bearer()).retry(RetryPolicy {
        max_attempts: 6,
        max_elapsed: Duration::from_secs(20),
        ..fast_retry()
    }))
    .unwrap();
    // The seed decides which requests fail. A short walk keeps the odds of the profile's
    // `Retry-After: 1` (whose wait the hostile walk checks) low, so the binary stays quick; the
    // assertions hold whichever faults are drawn, and require at least one failure.
    let users = style("page_number");
    let served = walk(users.pages(&http));
    assert_eq!(served, fault_free(bearer(), |c| users.pages(c)));
    users.check(&served, SystemTime::now());

    let log = sim.request_log();
    let failed: Vec<&LoggedRequest> = log.iter().filter(|r| r.status != Some(200)).collect();
    assert!(
        !failed.is_empty(),
        "the profile injected no failure: {log:?}"
    );
    let throttled = failed.iter().filter(|r| r.status == Some(429)).count();
    let stats = http.stats();
    assert_eq!(stats.retries, failed.len() as u64, "one retry per failure");
    assert_eq!(stats.requests, log.len() as u64);
    // Each 429 carried `Retry-After: 1`.
    assert!(stats.rate_limit_wait >= Duration::from_secs(throttled as u64));
}

#[test]
fn hostile_profile_walk_survives_each_fault_as_it_demands() {
    const READ_TIMEOUT: Duration = Duration::from_millis(300);
    let (sim, arrivals) = start_timed(fake().with_fault_profile("hostile").unwrap());
    let http = HttpClient::new(
        config(&sim)
            .auth(bearer())
            .read_timeout(READ_TIMEOUT)
            .rate_limit_headers(RateLimitHeaders::github())
            .retry(RetryPolicy {
                max_attempts: 10,
                max_elapsed: Duration::from_secs(20),
                ..fast_retry()
            }),
    )
    .unwrap();
    let issues = style("link_header");
    let served = walk(issues.pages(&http));
    assert_eq!(served, fault_free(bearer(), |c| issues.pages(c)));
    issues.check(&served, SystemTime::now());

    // All eight faults hit the first page's request, one attempt after another.
    let log = sim.request_log();
    let first: Vec<(Option<u16>, Option<&str>)> = log[..9]
        .iter()
        .map(|r| (r.status, r.fault.as_deref()))
        .collect();
    assert_eq!(
        first,
        [
            (Some(429), Some("status 429")),
            (Some(429), Some("status 429")),
            (Some(502), Some("status 502")),
            (Some(403), Some("status 403")),
            (Some(200), Some("truncate")),
            (None, Some("drop")),
            (Some(200), Some("slow 3000ms")),
            (Some(500), Some("status 500")),
            (Some(200), None),
        ]
    );
    assert!(
        log[9..]
            .iter()
            .all(|r| r.status == Some(200) && r.fault.is_none())
    );

    // `Retry-After: 1`: a full second between the attempts.
    let (at1, wall1) = arrival(&arrivals, 1);
    let gap = arrival(&arrivals, 2).0 - at1;
    assert!(
        gap >= Duration::from_secs(1),
        "Retry-After: 1 honoured? {gap:?}"
    );
    // `Retry-After: <HTTP date one second ahead>`: the server dated it from when it handled
    // request 2, at least a second after request 1 was logged, so the date is no earlier than
    // this whole second, and the retry must not come before it.
    let (_, wall3) = arrival(&arrivals, 3);
    assert!(
        wall3 >= next_second(wall1 + Duration::from_secs(1)),
        "Retry-After date"
    );
    // 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` one second ahead (epoch
    // seconds, from when the server handled request 4, after request 3 was logged): the retry
    // waited for the reset.
    let (_, wall5) = arrival(&arrivals, 5);
    assert!(wall5 >= next_second(wall3), "x-ratelimit-reset honoured");
    // The stalled answer was abandoned at the read timeout, not waited out.
    let stalled = arrival(&arrivals, 8).0 - arrival(&arrivals, 7).0;
    assert!(
        stalled >= READ_TIMEOUT && stalled < Duration::from_secs(3),
        "{stalled:?}"
    );

    let stats = http.stats();
    assert_eq!(stats.retries, 8, "{stats:?}");
    assert_eq!(stats.requests, log.len() as u64);
    // The three server-dictated waits count as rate limiting, at least the full second of the
    // first; the others are backoff.
    assert!(stats.rate_limit_wait >= Duration::from_secs(1), "{stats:?}");
    assert!(stats.backoff_wait > Duration::ZERO, "{stats:?}");
}
