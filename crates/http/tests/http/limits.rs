//! Rate-limit headers (reactive and proactive) and the request budget.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lakeflow_http::{HttpClient, RateLimitHeaders, RequestBudget, ResetFormat};
use serde_json::json;

use crate::common::{Reply, TestServer, config};

fn relative_reset() -> RateLimitHeaders {
    RateLimitHeaders::new(
        "ratelimit-remaining",
        "ratelimit-reset",
        ResetFormat::SecondsFromNow,
    )
}

#[test]
fn github_rate_limit_403_waits_until_the_reset() {
    // Epoch seconds are whole seconds: the reset is the next full second.
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let server = TestServer::script(vec![
        Reply::text(403, "API rate limit exceeded")
            .header("x-ratelimit-remaining", 0)
            .header("x-ratelimit-reset", reset),
        Reply::json(200, &json!([])),
    ]);
    let http =
        HttpClient::new(config(&server).rate_limit_headers(RateLimitHeaders::github())).unwrap();
    http.get("/repos/o/r/issues").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].wall >= UNIX_EPOCH + Duration::from_secs(reset));
    assert!(http.stats().rate_limit_wait > Duration::ZERO);
}

#[test]
fn rate_limit_429_with_relative_reset_waits_for_it() {
    let server = TestServer::script(vec![
        Reply::status(429)
            .header("ratelimit-remaining", 0)
            .header("ratelimit-reset", 0.3),
        Reply::json(200, &json!({})),
    ]);
    let http = HttpClient::new(config(&server).rate_limit_headers(relative_reset())).unwrap();
    http.get("/x").send().unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(290), "{gap:?}");
    assert!(http.stats().rate_limit_wait >= Duration::from_millis(290));
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
    let http = HttpClient::new(config(&server).rate_limit_headers(relative_reset())).unwrap();
    http.get("/a").send().unwrap();
    http.clone().get("/b").send().unwrap();
    let requests = server.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(240), "{gap:?}");
    assert_eq!(http.stats().retries, 0);
}

#[test]
fn the_budget_holds_across_threads() {
    const PER: Duration = Duration::from_millis(400);
    let server = TestServer::handler(|_| Reply::json(200, &json!({})));
    let http = HttpClient::new(config(&server).budget(RequestBudget::new(5, PER))).unwrap();
    let started = Instant::now();
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
    // 12 requests at 5 per window need three windows: starts at 0, 400 and 800 ms.
    assert!(started.elapsed() >= 2 * PER);
    let mut arrivals: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(arrivals.len(), 12);
    arrivals.sort();
    // Any 6 consecutive arrivals span a window. The client enforces the budget on its own
    // clock; the slack covers the client-to-server delay, which varies on a loaded machine.
    // Without a budget, or with a fixed-window one, 6 arrive within a few milliseconds.
    for six in arrivals.windows(6) {
        let span = six[5] - six[0];
        assert!(
            span >= PER - Duration::from_millis(100),
            "6 requests within {span:?}"
        );
    }
    assert!(arrivals[11] - arrivals[0] >= 2 * PER - Duration::from_millis(100));
    assert!(http.stats().rate_limit_wait >= PER);
}
