//! Rate-limit headers (reactive and proactive) and the request budget, on a virtual clock: the
//! tests check the waits the client made, not wall time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lakeflow_http::{
    HttpClient, HttpConfig, RateLimitHeaders, RequestBudget, ResetFormat, VirtualClock,
};
use serde_json::json;

use crate::common::{Reply, TestServer, config};

fn relative_reset() -> RateLimitHeaders {
    RateLimitHeaders::new(
        "ratelimit-remaining",
        "ratelimit-reset",
        ResetFormat::SecondsFromNow,
    )
}

/// A client built from `config` on a virtual clock starting at `wall`.
fn timed(config: HttpConfig, wall: SystemTime) -> (HttpClient, VirtualClock) {
    let clock = VirtualClock::starting_at(wall);
    (HttpClient::new(config.clock(clock.clone())).unwrap(), clock)
}

#[test]
fn github_rate_limit_403_waits_until_the_reset() {
    // The reset is three whole seconds after the client's clock reads the answer.
    const NOW: u64 = 1_900_000_000;
    let server = TestServer::script(vec![
        Reply::text(403, "API rate limit exceeded")
            .header("x-ratelimit-remaining", 0)
            .header("x-ratelimit-reset", NOW + 3),
        Reply::json(200, &json!([])),
    ]);
    let (http, clock) = timed(
        config(&server).rate_limit_headers(RateLimitHeaders::github()),
        UNIX_EPOCH + Duration::from_secs(NOW),
    );
    http.get("/repos/o/r/issues").send().unwrap();
    assert_eq!(server.count(), 2);
    // One wait until the reset (the retry's), not a second one for the recorded pause.
    assert_eq!(clock.sleeps(), [Duration::from_secs(3)]);
    assert_eq!(http.stats().rate_limit_wait, Duration::from_secs(3));
}

#[test]
fn rate_limit_429_with_relative_reset_waits_for_it() {
    let server = TestServer::script(vec![
        Reply::status(429)
            .header("ratelimit-remaining", 0)
            .header("ratelimit-reset", 0.3),
        Reply::json(200, &json!({})),
    ]);
    let (http, clock) = timed(
        config(&server).rate_limit_headers(relative_reset()),
        SystemTime::now(),
    );
    http.get("/x").send().unwrap();
    assert_eq!(server.count(), 2);
    assert_eq!(clock.sleeps(), [Duration::from_millis(300)]);
    assert_eq!(http.stats().rate_limit_wait, Duration::from_millis(300));
}

#[test]
fn a_used_up_window_pauses_the_next_request() {
    // The first answer succeeds but says the window is empty: the next request (from any
    // clone) waits for the reset instead of collecting a 429.
    let server = TestServer::script(vec![
        Reply::json(200, &json!({}))
            .header("ratelimit-remaining", 0)
            .header("ratelimit-reset", 0.25),
        Reply::json(200, &json!({})),
    ]);
    let (http, clock) = timed(
        config(&server).rate_limit_headers(relative_reset()),
        SystemTime::now(),
    );
    http.get("/a").send().unwrap();
    assert_eq!(clock.sleeps(), []);
    http.clone().get("/b").send().unwrap();
    assert_eq!(clock.sleeps(), [Duration::from_millis(250)]);
    assert_eq!(server.count(), 2);
    assert_eq!(http.stats().retries, 0);
}

#[test]
fn the_budget_holds_across_threads() {
    const PER: Duration = Duration::from_millis(400);
    let server = TestServer::handler(|_| Reply::json(200, &json!({})));
    let (http, clock) = timed(
        config(&server).budget(RequestBudget::new(5, PER)),
        SystemTime::now(),
    );
    std::thread::scope(|scope| {
        for t in 0..3 {
            let http = http.clone();
            scope.spawn(move || {
                for i in 0..4 {
                    http.get(&format!("/t{t}/{i}")).send().unwrap();
                }
            });
        }
    });
    assert_eq!(server.count(), 12);
    // 12 requests at 5 per window need three windows: the last cannot start before two
    // windows have passed on the client's clock. Without a budget nothing waits at all. (The
    // window rule itself, on the starts the limiter grants, is a unit test of the limiter.)
    assert!(clock.elapsed() >= 2 * PER, "{clock:?}");
    assert!(!clock.sleeps().is_empty());
    assert!(http.stats().rate_limit_wait > Duration::ZERO);
}
