//! The request log, the coverage report, the request callback and routing answers.

use std::sync::{Arc, Mutex};

use lakeflow_simulator::LoggedRequest;

use super::{API_KEY, BEARER, call, fake, get, start_fake};

#[test]
fn the_log_records_every_request_as_answered() {
    let sim = start_fake();
    get(&sim.url("/users?page=2&per_page=5&page=3"), &[BEARER]);
    get(&sim.url("/users"), &[]);
    get(&sim.url("/nope?x=1"), &[BEARER]);
    let log = sim.request_log();
    assert_eq!(log.len(), 3);
    assert_eq!(
        log[0],
        LoggedRequest {
            number: 1,
            method: "GET".into(),
            path: "/users".into(),
            query_keys: vec!["page".into(), "per_page".into()],
            endpoint: Some("users".into()),
            status: Some(200),
            fault: None,
        }
    );
    assert_eq!(log[1].status, Some(401));
    assert_eq!(
        (log[2].endpoint.as_deref(), log[2].status),
        (None, Some(404))
    );
    assert_eq!(
        log[0].to_string(),
        "#1 GET /users?page&per_page -> 200 [users]"
    );
}

#[test]
fn coverage_counts_statuses_and_query_keys_and_lists_endpoints_never_hit() {
    let sim = start_fake();
    get(&sim.url("/users?per_page=5"), &[BEARER]);
    get(&sim.url("/users?role=admin"), &[]);
    get(&sim.url("/events"), &[API_KEY]);
    get(&sim.url("/missing"), &[BEARER]);
    get(&sim.url("/missing"), &[BEARER]);
    let coverage = sim.coverage();
    let users = coverage.endpoint("users").unwrap();
    assert_eq!(users.requests, 2);
    assert_eq!(users.statuses.get(&200), Some(&1));
    assert_eq!(users.statuses.get(&401), Some(&1));
    assert_eq!(
        users
            .query_keys
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["per_page", "role"]
    );
    let never: Vec<&str> = coverage
        .never_hit()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert!(never.contains(&"issues") && !never.contains(&"users") && !never.contains(&"events"));
    assert_eq!(never.len(), coverage.endpoints.len() - 2);
    assert_eq!(coverage.unmatched.get("GET /missing"), Some(&2));

    let text = coverage.to_string();
    assert!(text.starts_with("coverage of `fake`: 2/"), "{text}");
    assert!(
        text.contains("GET /users [users] requests=2 statuses=200x1,401x1 query=per_page,role"),
        "{text}"
    );
    assert!(text.contains("never hit:\n"), "{text}");
    assert!(
        text.contains("GET /repos/{owner}/{repo}/issues [issues]"),
        "{text}"
    );
    assert!(text.contains("GET /missing x2"), "{text}");
}

#[test]
fn the_callback_sees_each_request() {
    let seen: Arc<Mutex<Vec<LoggedRequest>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let sim = fake()
        .on_request(move |r| sink.lock().unwrap().push(r.clone()))
        .start()
        .unwrap();
    get(&sim.url("/users"), &[BEARER]);
    get(&sim.url("/users/1"), &[BEARER]);
    assert_eq!(*seen.lock().unwrap(), sim.request_log());
}

#[test]
fn wrong_methods_answer_405_with_allow() {
    let sim = start_fake();
    let reply = call("DELETE", &sim.url("/users"), &[BEARER], None);
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET"));
    let reply = call(
        "PUT",
        &sim.url("/v1/customers/cus_0001"),
        &[BEARER],
        Some("{}"),
    );
    assert_eq!(reply.header("allow"), Some("GET, DELETE"));
}

#[test]
fn malformed_requests_are_rejected_on_the_wire() {
    let sim = start_fake();
    let chunked = "POST /v1/customers HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let answer =
        String::from_utf8(super::raw_exchange(sim.local_addr(), chunked).unwrap()).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 411 Length Required"),
        "{answer}"
    );
    let garbage =
        String::from_utf8(super::raw_exchange(sim.local_addr(), "NONSENSE\r\n\r\n").unwrap())
            .unwrap();
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
    // Keep-alive: two requests on one connection, the second closing it.
    let two = "GET /users HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer test-token\r\n\r\nGET /users?page=2 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer test-token\r\nConnection: close\r\n\r\n";
    let answer = String::from_utf8(super::raw_exchange(sim.local_addr(), two).unwrap()).unwrap();
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 2);
    assert_eq!(
        sim.request_log().len(),
        2,
        "rejected requests never reach the service"
    );
}

#[test]
fn stopping_joins_even_with_idle_and_stalled_connections() {
    let sim = fake()
        .with_faults(
            lakeflow_simulator::FaultProfile::new(0)
                .with_rule(lakeflow_simulator::FaultRule::slow(60_000)),
        )
        .start()
        .unwrap();
    let addr = sim.local_addr();
    let _idle = std::net::TcpStream::connect(addr).unwrap();
    let mut stalled = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut stalled, b"GET /users HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    // A stalled answer is logged before its body trickles out: wait for that, not for a time.
    let mut polls = 0;
    while sim.request_log().is_empty() {
        polls += 1;
        assert!(
            polls < 6000,
            "the stalled request never reached the simulator"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // `stop` must not wait out the minute's stall. A watchdog, not a measurement: only a stop
    // that waits for the stall (or hangs) can miss it.
    let (stopped, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        sim.stop();
        let _ = stopped.send(());
    });
    assert!(
        done.recv_timeout(std::time::Duration::from_secs(30))
            .is_ok(),
        "stop waited for the stalled answer"
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is released"
    );
}
