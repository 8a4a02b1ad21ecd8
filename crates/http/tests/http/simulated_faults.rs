//! The retry rules against a real local server: the simulator's fault profiles (`flaky`,
//! `hostile`, `users_down` from the fake spec) and rules built in code, plus the request budget.
//! The client runs on a virtual clock: its waits are recorded, not spent, and the tests check
//! them instead of wall time. Only the simulator's stalls are real, and those are checked by
//! what the client did (a timeout, a retry), never by how long it took.

use std::time::{Duration, SystemTime};

use lakeflow_http::{
    Auth, Error, HttpClient, HttpConfig, Pages, Pagination, RateLimitHeaders, RequestBudget,
    RetryPolicy, VirtualClock,
};
use lakeflow_simulator::{FaultProfile, FaultRule, LoggedRequest};
use serde_json::{Value, json};

use crate::common::fast_retry;
use crate::fake_api::{api_key, bearer, client, config, fake, ids, start, style, walk};

fn with_faults(rules: Vec<FaultRule>) -> FaultProfile {
    rules
        .into_iter()
        .fold(FaultProfile::new(1), FaultProfile::with_rule)
}

fn statuses(log: &[LoggedRequest]) -> Vec<Option<u16>> {
    log.iter().map(|r| r.status).collect()
}

/// A client built from `config` on a virtual clock, which records its waits.
fn timed(config: HttpConfig) -> (HttpClient, VirtualClock) {
    let clock = VirtualClock::new();
    (HttpClient::new(config.clock(clock.clone())).unwrap(), clock)
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
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
    let (http, clock) = timed(config(&sim).auth(bearer()).retry(RetryPolicy {
        max_attempts: 6,
        ..fast_retry()
    }));
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
    // Exponential backoff from 5 ms, capped at 40 ms.
    assert_eq!(clock.sleeps(), [ms(5), ms(10), ms(20), ms(40)]);
    assert_eq!(stats.backoff_wait, ms(75));
    assert_eq!(stats.rate_limit_wait, Duration::ZERO);
}

#[test]
fn retry_after_zero_waits_the_minimum_not_a_hot_loop() {
    const FLOOR: Duration = Duration::from_millis(100);
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::status(429)
                .retry_after_seconds(0)
                .on_requests([1, 2]),
        ]))
        .start()
        .unwrap();
    let (http, clock) = timed(config(&sim).auth(bearer()).retry(RetryPolicy {
        min_retry_wait: FLOOR,
        ..fast_retry()
    }));
    users_page(&http).unwrap();
    assert_eq!(
        statuses(&sim.request_log()),
        [Some(429), Some(429), Some(200)]
    );
    assert_eq!(clock.sleeps(), [FLOOR, FLOOR]);
    let stats = http.stats();
    assert_eq!(stats.retries, 2);
    assert_eq!(stats.rate_limit_wait, 2 * FLOOR, "{stats:?}");
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
    // Stalls of a minute against a read timeout of 150 ms: only the timeout can end an attempt
    // (stopping the simulator at the end of the test cuts the stalls short).
    const READ_TIMEOUT: Duration = Duration::from_millis(150);
    let sim = fake()
        .with_faults(with_faults(vec![FaultRule::slow(60_000).on_requests([1])]))
        .start()
        .unwrap();
    let (http, clock) = timed(config(&sim).auth(bearer()).read_timeout(READ_TIMEOUT));
    users_page(&http).unwrap();
    let log = sim.request_log();
    assert_eq!(statuses(&log), [Some(200), Some(200)]);
    assert_eq!(log[0].fault.as_deref(), Some("slow 60000ms"));
    // The client abandoned the stalled answer and retried after one backoff.
    assert_eq!(clock.sleeps(), [ms(5)]);
    assert_eq!(http.stats().retries, 1);

    // Always slow: the attempts end in a timeout error.
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::slow(60_000).on_endpoint("/users"),
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
    let err = users_page(&http).unwrap_err();
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
    let sim = start();
    let (http, clock) = timed(
        config(&sim)
            .auth(bearer())
            .budget(RequestBudget::new(3, PER)),
    );
    let users = walk(
        http.get("/users")
            .query("per_page", 5)
            .pages(Pagination::page_number("page", Some(5)), "users"),
    );
    style("page_number").check(&users, SystemTime::now());
    let requests = sim.request_log().len();
    assert!(
        requests >= 7,
        "{requests} requests: the walk must need three windows"
    );
    // One request after another, 3 per window: requests 4 and 7 each waited for the window
    // to pass since requests 1 and 4, on the client's clock. Without a budget nothing waits.
    assert_eq!(clock.sleeps()[..2], [PER, PER], "{clock:?}");
    assert_eq!(clock.sleeps().len(), (requests - 1) / 3);
    assert_eq!(http.stats().rate_limit_wait, clock.elapsed());
}

/// The records the same walk yields from a simulator without faults.
fn fault_free(auth: Auth, pages: impl Fn(&HttpClient) -> Pages) -> Vec<Value> {
    let sim = start();
    walk(pages(&client(&sim, auth)))
}

#[test]
fn flaky_profile_walk_changes_nothing_but_timing() {
    let sim = fake().with_fault_profile("flaky").unwrap().start().unwrap();
    let (http, clock) = timed(config(&sim).auth(bearer()).retry(RetryPolicy {
        max_attempts: 6,
        max_elapsed: Duration::from_secs(20),
        ..fast_retry()
    }));
    // The seed decides which requests fail; the assertions hold whichever faults are drawn, and
    // require at least one failure.
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
    // Each 429 carried `Retry-After: 1`, waited in full; every other wait is a short backoff.
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), failed.len(), "{sleeps:?}");
    let one_second = sleeps.iter().filter(|w| **w == Duration::from_secs(1));
    assert_eq!(one_second.count(), throttled, "{sleeps:?}");
    assert_eq!(
        stats.rate_limit_wait,
        Duration::from_secs(throttled as u64),
        "{stats:?}"
    );
}

#[test]
fn hostile_profile_walk_survives_each_fault_as_it_demands() {
    // The profile's stall is 3 s, ten times the read timeout.
    const READ_TIMEOUT: Duration = Duration::from_millis(300);
    let sim = fake()
        .with_fault_profile("hostile")
        .unwrap()
        .start()
        .unwrap();
    let (http, clock) = timed(
        config(&sim)
            .auth(bearer())
            .read_timeout(READ_TIMEOUT)
            .rate_limit_headers(RateLimitHeaders::github())
            .retry(RetryPolicy {
                max_attempts: 10,
                max_elapsed: Duration::from_secs(20),
                ..fast_retry()
            }),
    );
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

    // One wait per fault, each as the fault demands. The simulator dates its `Retry-After`
    // and its rate-limit reset a second ahead of its own, real, clock, so how long those two
    // waits are on the virtual one varies; they are the server's, never below the minimum.
    // (Their exact reading is in `retries` and `limits`, against fixed dates.)
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 8, "{sleeps:?}");
    assert_eq!(sleeps[0], Duration::from_secs(1), "Retry-After: 1");
    assert!(sleeps[1] >= ms(20), "Retry-After date: {sleeps:?}");
    assert!(sleeps[3] >= ms(20), "x-ratelimit-reset: {sleeps:?}");
    // The others are the backoff for attempts 3, 5, 6, 7 and 8: 20 ms, then the 40 ms cap.
    let backoffs = [sleeps[2], sleeps[4], sleeps[5], sleeps[6], sleeps[7]];
    assert_eq!(backoffs, [ms(20), ms(40), ms(40), ms(40), ms(40)]);

    let stats = http.stats();
    assert_eq!(stats.retries, 8, "{stats:?}");
    assert_eq!(stats.requests, log.len() as u64);
    // The three server-dictated waits count as rate limiting; the others are backoff.
    assert_eq!(stats.rate_limit_wait, sleeps[0] + sleeps[1] + sleeps[3]);
    assert_eq!(stats.backoff_wait, ms(180), "{stats:?}");
}

#[test]
fn a_retry_hint_header_decides_what_is_retried() {
    // Stripe's `Stripe-Should-Retry`: `true` on a 409 (a lock timeout) retries it; `false` on a
    // 503 stops at once; without the header configured, the status alone decides.
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::status(409)
                .header("Stripe-Should-Retry", "true")
                .on_requests([1]),
            FaultRule::status(503)
                .header("Stripe-Should-Retry", "false")
                .on_requests([3]),
        ]))
        .start()
        .unwrap();
    let hinted = config(&sim)
        .auth(bearer())
        .retry(fast_retry())
        .retry_hint_header("Stripe-Should-Retry");
    let (http, _) = timed(hinted);
    assert!(users_page(&http).is_ok(), "the 409 was retried");
    let err = users_page(&http).unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert_eq!(
        statuses(&sim.request_log()),
        [Some(409), Some(200), Some(503)],
        "the 503 marked not to retry was not"
    );

    let plain = fake()
        .with_faults(with_faults(vec![
            FaultRule::status(409)
                .header("Stripe-Should-Retry", "true")
                .on_requests([1]),
        ]))
        .start()
        .unwrap();
    let (http, _) = timed(config(&plain).auth(bearer()).retry(fast_retry()));
    assert_eq!(users_page(&http).unwrap_err().status(), Some(409));
}

#[test]
fn a_lasting_rate_limit_is_not_retried() {
    // HubSpot's daily limit answers 429 like its burst limit; only the body tells them apart.
    let daily = json!({"status": "error", "message": "You have reached your daily limit.",
        "errorType": "RATE_LIMIT", "policyName": "DAILY"});
    let burst = json!({"status": "error", "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT", "policyName": "SECONDLY"});
    let sim = fake()
        .with_faults(with_faults(vec![
            FaultRule::status(429).body(burst).on_requests([1]),
            FaultRule::status(429).body(daily).on_requests([3]),
        ]))
        .start()
        .unwrap();
    let is_daily = |body: &str| body.contains("\"DAILY\"");
    let (http, _) = timed(
        config(&sim)
            .auth(bearer())
            .retry(fast_retry())
            .lasting_limit(is_daily),
    );
    assert!(users_page(&http).is_ok(), "the burst limit was waited out");
    let err = users_page(&http).unwrap_err();
    assert_eq!(err.status(), Some(429), "{err}");
    assert!(err.to_string().contains("DAILY"), "{err}");
    assert_eq!(
        statuses(&sim.request_log()),
        [Some(429), Some(200), Some(429)],
        "the daily limit was not retried"
    );
}
