//! Fault injection: every kind, seeded determinism, request numbers (global and per endpoint),
//! and the spec-level rate limit emulation.

use std::ops::RangeInclusive;
use std::sync::mpsc;
use std::time::Duration;

use lakeflow_simulator::{Error, FaultProfile, FaultRule};

use super::{API_KEY, BEARER, agent, fake, get, raw_exchange, start_inline, try_call};

/// Whole Unix seconds now.
fn epoch_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What a server computing `floor(now) + offset` can have sent while `f` ran: bracketed by the
/// clock read before and after, so it holds however long `f` takes.
fn epoch_bracket<T>(offset: i64, f: impl FnOnce() -> T) -> (T, RangeInclusive<i64>) {
    let before = epoch_now();
    let out = f();
    (out, before + offset..=epoch_now() + offset)
}

#[test]
fn hostile_profile_applies_one_fault_per_request_number() {
    let sim = fake()
        .with_fault_profile("hostile")
        .unwrap()
        .start()
        .unwrap();
    let url = sim.url("/users");
    let client = agent(Duration::from_secs(10));
    let fetch = || try_call(&client, "GET", &url, &[BEARER], None);

    let first = fetch().unwrap();
    assert_eq!(
        (first.status, first.header("retry-after")),
        (429, Some("1"))
    );
    assert!(
        first.message().contains("simulated fault"),
        "error body in the spec's format"
    );

    let (second, a_second_ahead) = epoch_bracket(1, || fetch().unwrap());
    assert_eq!(second.status, 429);
    let date = second.header("retry-after").unwrap();
    let at = chrono::DateTime::parse_from_rfc2822(date).unwrap_or_else(|e| panic!("{date}: {e}"));
    assert!(
        a_second_ahead.contains(&at.timestamp()),
        "an HTTP date a second ahead: {date}, expected in {a_second_ahead:?}"
    );

    assert_eq!(fetch().unwrap().status, 502);

    let (fourth, a_second_ahead) = epoch_bracket(1, || fetch().unwrap());
    assert_eq!(fourth.status, 403);
    assert_eq!(fourth.header("x-ratelimit-remaining"), Some("0"));
    let reset: i64 = fourth.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(
        a_second_ahead.contains(&reset),
        "{reset}: {a_second_ahead:?}"
    );

    assert!(
        fetch().is_err(),
        "a truncated body is an error for the client"
    );
    assert!(
        fetch().is_err(),
        "a dropped connection is an error for the client"
    );

    // The stall is ten times the client's timeout: the client, not the answer, ends it.
    let slow = try_call(
        &agent(Duration::from_millis(300)),
        "GET",
        &url,
        &[BEARER],
        None,
    );
    assert!(
        matches!(slow, Err(ureq::Error::Timeout(_))),
        "a 3 s stall exceeds a 300 ms timeout: {slow:?}"
    );

    assert_eq!(fetch().unwrap().status, 500);
    assert_eq!(fetch().unwrap().status, 200, "then normal service");

    let log = sim.request_log();
    let statuses: Vec<Option<u16>> = log.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            Some(429),
            Some(429),
            Some(502),
            Some(403),
            Some(200),
            None,
            Some(200),
            Some(500),
            Some(200)
        ]
    );
    let faults: Vec<Option<&str>> = log.iter().map(|r| r.fault.as_deref()).collect();
    assert_eq!(
        faults,
        [
            Some("status 429"),
            Some("status 429"),
            Some("status 502"),
            Some("status 403"),
            Some("truncate"),
            Some("drop"),
            Some("slow 3000ms"),
            Some("status 500"),
            None
        ]
    );
}

#[test]
fn truncated_bodies_and_dropped_connections_on_the_wire() {
    let profile = FaultProfile::new(0)
        .with_rule(FaultRule::truncate().on_requests([1]))
        .with_rule(FaultRule::drop_connection().on_requests([2]));
    let sim = fake().with_faults(profile).start().unwrap();
    let request = "GET /users HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer test-token\r\n\r\n";

    let received = raw_exchange(sim.local_addr(), request).unwrap();
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        body.len() < length,
        "{} bytes sent of {length} announced",
        body.len()
    );
    assert!(!body.is_empty());

    match raw_exchange(sim.local_addr(), request) {
        Ok(bytes) => assert!(
            bytes.is_empty(),
            "no answer at all, got {}",
            String::from_utf8_lossy(&bytes)
        ),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
    let full = raw_exchange(
        sim.local_addr(),
        &request.replace("Host: test\r\n", "Host: test\r\nConnection: close\r\n"),
    )
    .unwrap();
    assert!(
        String::from_utf8_lossy(&full).ends_with('}'),
        "the third request is whole"
    );
}

#[test]
fn latency_delays_answers() {
    // Held back: with a minute's latency on `/users`, requests that came after it are all
    // answered while it is not (checked by order, not by the clock).
    let sim = fake()
        .with_faults(
            FaultProfile::new(0).with_rule(FaultRule::latency(60_000).on_endpoint("/users")),
        )
        .start()
        .unwrap();
    let (done, finished) = mpsc::channel();
    let users = sim.url("/users");
    let delayed = std::thread::spawn(move || {
        let reply = try_call(
            &agent(Duration::from_secs(600)),
            "GET",
            &users,
            &[BEARER],
            None,
        );
        done.send(()).unwrap();
        reply
    });
    let events = sim.url("/events");
    let mut overtaken = false;
    for _ in 0..3000 {
        assert_eq!(get(&events, &[API_KEY]).status, 200);
        // A number missing from the log: `/users` was counted, and is still held back.
        let log = sim.request_log();
        if log.iter().map(|r| r.number).max() > Some(log.len() as u64) {
            overtaken = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(overtaken, "the delayed request never reached the simulator");
    assert!(
        finished.try_recv().is_err(),
        "answered before a later request"
    );
    assert!(sim.request_log().iter().all(|r| r.path == "/events"));
    // Stopping cuts the wait short (the connection is closed, not answered).
    sim.stop();
    assert!(delayed.join().unwrap().is_err());

    // Then answered as usual.
    let sim = fake()
        .with_faults(FaultProfile::new(0).with_rule(FaultRule::latency(50)))
        .start()
        .unwrap();
    assert_eq!(get(&sim.url("/users"), &[BEARER]).status, 200);
    assert_eq!(sim.request_log()[0].fault.as_deref(), Some("latency 50ms"));
}

fn statuses(profile: FaultProfile, count: usize) -> Vec<u16> {
    let sim = fake().with_faults(profile).start().unwrap();
    (0..count)
        .map(|_| get(&sim.url("/users"), &[BEARER]).status)
        .collect()
}

#[test]
fn faults_are_deterministic_for_a_seed() {
    let profile = |seed| {
        FaultProfile::new(seed)
            .with_rule(FaultRule::status(429).rate(0.3))
            .with_rule(FaultRule::status(503).rate(0.1))
    };
    let first = statuses(profile(1), 40);
    assert_eq!(first, statuses(profile(1), 40));
    assert_ne!(first, statuses(profile(2), 40));
    assert!(first.contains(&429) && first.contains(&200), "{first:?}");

    let flaky = || {
        let sim = fake().with_fault_profile("flaky").unwrap().start().unwrap();
        (0..40)
            .map(|_| get(&sim.url("/users"), &[BEARER]).status)
            .collect::<Vec<_>>()
    };
    assert_eq!(flaky(), flaky());
}

#[test]
fn request_numbers_count_per_endpoint_when_the_rule_names_one() {
    let profile = FaultProfile::new(0).with_rule(
        FaultRule::status(503)
            .on_requests([2])
            .on_endpoint("/v1/customers"),
    );
    let sim = fake().with_faults(profile).start().unwrap();
    let customers = sim.url("/v1/customers");
    let users = sim.url("/users");
    let got: Vec<u16> = [&customers, &users, &users, &customers, &customers]
        .iter()
        .map(|url| get(url, &[BEARER]).status)
        .collect();
    assert_eq!(got, [200, 200, 200, 503, 200]);

    // Named profile: the users endpoint is down, others work.
    let sim = fake()
        .with_fault_profile("users_down")
        .unwrap()
        .start()
        .unwrap();
    assert_eq!(get(&sim.url("/users"), &[BEARER]).status, 503);
    assert_eq!(get(&sim.url("/users?page=2"), &[BEARER]).status, 503);
    assert_eq!(get(&sim.url("/events"), &[API_KEY]).status, 200);
}

#[test]
fn invalid_programmatic_profiles_are_refused_at_start() {
    let error = fake()
        .with_faults(FaultProfile::new(0).with_rule(FaultRule::truncate().rate(1.5)))
        .start()
        .unwrap_err();
    assert!(matches!(error, Error::InvalidFaults(_)));
    assert_eq!(
        error.to_string(),
        "invalid fault profile: rule 1: rate 1.5 is not between 0 and 1"
    );
}

#[test]
fn rate_limit_emulation_counts_a_window_and_sends_github_headers() {
    // An hour's window, so that the requests below all fall in it however slow the machine.
    let spec = |window: u32, requests: u32| {
        format!(
            "
name: limited
rate_limit: {{ requests: {requests}, window_seconds: {window}, status: 429, retry_after: true }}
endpoints:
  - path: /rows
    corpus: rows.json
"
        )
    };
    let rows = [("rows.json", r#"[{"id": 1}]"#)];
    let sim = start_inline(&spec(3600, 3), &rows);
    let url = sim.url("/rows");
    // The window opens with the first request and resets an hour later, in whole seconds up.
    let (replies, reset_range) = epoch_bracket(3600, || {
        ["2", "1", "0"].map(|remaining| (remaining, get(&url, &[])))
    });
    let reset_range = *reset_range.start()..=*reset_range.end() + 1;
    for (remaining, reply) in replies {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(reply.header("x-ratelimit-remaining"), Some(remaining));
        let reset: i64 = reply.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset_range.contains(&reset), "{reset}: {reset_range:?}");
    }
    let limited = get(&url, &[]);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=3600).contains(&retry_after),
        "the rest of the window: {retry_after}"
    );
    assert_eq!(limited.message(), "API rate limit exceeded");

    // A one-second window of one request: after sleeping past it (at least a second, however
    // loaded the machine), a new window.
    let sim = start_inline(&spec(1, 1), &rows);
    let url = sim.url("/rows");
    let first = get(&url, &[]);
    assert_eq!(first.header("x-ratelimit-remaining"), Some("0"));
    std::thread::sleep(Duration::from_millis(1100));
    let reply = get(&url, &[]);
    assert_eq!(
        (reply.status, reply.header("x-ratelimit-remaining")),
        (200, Some("0")),
        "a new window"
    );
    let reset = |r: &super::Reply| {
        r.header("x-ratelimit-reset")
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    assert!(reset(&reply) > reset(&first), "a later reset");

    let fake = super::start_fake();
    let reply = get(&fake.url("/nowhere"), &[]);
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.header("x-ratelimit-limit"),
        Some("5000"),
        "headers on every response"
    );
}
