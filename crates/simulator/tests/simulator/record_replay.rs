//! Record through a proxy to a local upstream (another simulator), then replay the cassette
//! with the upstream gone.

use serde_json::Value;

use lakeflow_simulator::{Error, Simulator};

use super::{call, get, start_inline};

const UPSTREAM_SPEC: &str = r"
name: upstream
auth: { scheme: bearer, token: secret-token }
endpoints:
  - path: /people
    corpus: people.json
    params:
      page: { role: page }
      per_page: { role: page_size, default: 4, max: 10 }
      api_key: { role: ignored }
    pagination: { style: link_header }
  - path: /people
    method: POST
    corpus: people.json
  - path: /big
    corpus: big.json
";

fn people() -> String {
    let people: Vec<Value> = (1..=10)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "name": format!("Person {i}"),
                "email": format!("person{i}@example.org"),
                "bio": format!("Write to p{i}.private@mail.example.net for details."),
            })
        })
        .collect();
    serde_json::to_string(&people).unwrap()
}

fn big() -> String {
    let rows: Vec<Value> = (1..=30).map(|i| serde_json::json!({ "n": i })).collect();
    serde_json::to_string(&rows).unwrap()
}

fn next_link(link: Option<&str>) -> Option<String> {
    link?
        .split(", ")
        .find(|part| part.ends_with("rel=\"next\""))
        .map(|part| {
            part.split_once('>')
                .unwrap()
                .0
                .trim_start_matches('<')
                .to_owned()
        })
}

/// Walks `/people` from `url` following `Link`; the records seen.
fn walk(url: &str, base: &str) -> Vec<Value> {
    let mut url = url.to_owned();
    let mut seen = Vec::new();
    loop {
        let reply = get(
            &url,
            &[
                ("authorization", "Bearer secret-token"),
                ("x-api-key", "k-123"),
            ],
        );
        assert_eq!(reply.status, 200, "{url}: {:?}", reply.body);
        seen.extend(reply.body.as_array().unwrap().iter().cloned());
        match next_link(reply.header("link")) {
            Some(next) => {
                assert!(
                    next.starts_with(base),
                    "links point at the serving simulator: {next}"
                );
                url = next;
            }
            None => return seen,
        }
    }
}

#[test]
fn record_then_replay_round_trip_with_redaction_and_trimming() {
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("cassette.json");
    let upstream = start_inline(
        UPSTREAM_SPEC,
        &[("people.json", &people()), ("big.json", &big())],
    );
    let recorder = Simulator::record(&upstream.base_url(), &cassette)
        .unwrap()
        .with_array_limit(5)
        .start()
        .unwrap();

    let live = walk(
        &recorder.url("/people?api_key=qsecret"),
        &recorder.base_url(),
    );
    assert_eq!(live.len(), 10);
    assert_eq!(
        live[0]["email"], "person1@example.org",
        "the client gets the real answer"
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&cassette).unwrap()).unwrap();
    assert_eq!(
        written["interactions"].as_array().unwrap().len(),
        3,
        "written as requests complete"
    );

    let created = call(
        "POST",
        &recorder.url("/people"),
        &[
            ("authorization", "Bearer secret-token"),
            ("cookie", "session=abc"),
        ],
        Some(r#"{"name": "Zed", "email": "zed@corp.example"}"#),
    );
    assert_eq!(created.status, 201);
    let big_live = get(
        &recorder.url("/big"),
        &[("authorization", "Bearer secret-token")],
    );
    assert_eq!(
        big_live.body.as_array().unwrap().len(),
        30,
        "trimming applies to the cassette only"
    );
    recorder.stop();
    drop(upstream);

    let text = std::fs::read_to_string(&cassette).unwrap();
    for secret in [
        "secret-token",
        "qsecret",
        "k-123",
        "session=abc",
        "example.org",
        "mail.example.net",
        "corp.example",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` leaked into the cassette"
        );
    }
    assert_eq!(
        text.matches('@').count(),
        text.matches("redacted@example.com").count()
    );
    let cassette_json: Value = serde_json::from_str(&text).unwrap();
    let interactions = cassette_json["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 5);
    let first = &interactions[0];
    let header = |headers: &Value, name: &str| {
        headers
            .as_array()
            .unwrap()
            .iter()
            .find(|pair| pair[0] == name)
            .map(|pair| pair[1].as_str().unwrap().to_owned())
    };
    assert_eq!(
        header(&first["request"]["headers"], "authorization").as_deref(),
        Some("Bearer REDACTED")
    );
    assert_eq!(
        header(&first["request"]["headers"], "x-api-key").as_deref(),
        Some("REDACTED")
    );
    assert_eq!(
        first["request"]["query"],
        serde_json::json!([["api_key", "REDACTED"]])
    );
    let link = header(&first["response"]["headers"], "link").unwrap();
    assert!(
        link.starts_with("<{{base_url}}/people?api_key=REDACTED&page=2>"),
        "{link}"
    );
    assert_eq!(
        interactions[3]["request"]["body"]["json"]["email"],
        "redacted@example.com"
    );
    assert_eq!(
        interactions[4]["response"]["body"]["json"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    let replay = Simulator::replay(&cassette).unwrap().start().unwrap();
    let replayed = walk(&replay.url("/people?api_key=another"), &replay.base_url());
    assert_eq!(super::ids(&replayed, "id"), super::ids(&live, "id"));
    assert!(
        replayed
            .iter()
            .all(|p| p["email"] == "redacted@example.com")
    );
    assert_eq!(
        replayed[0]["bio"],
        "Write to redacted@example.com for details."
    );
    // Query order does not matter; a request seen once more gets the last recording again.
    let again = get(&replay.url("/people?page=2&api_key=x"), &[]);
    assert_eq!(again.status, 200);
    assert_eq!(again.body.as_array().unwrap().len(), 4);
    let missing = get(&replay.url("/people?page=9"), &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.message(),
        "no recorded interaction for GET /people?page=9"
    );
    let coverage = replay.coverage();
    let names: Vec<&str> = coverage.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["GET /people", "POST /people", "GET /big"]);
    assert_eq!(coverage.endpoint("GET /people").unwrap().requests, 5);
    assert_eq!(coverage.never_hit().len(), 2);
}

#[test]
fn an_unreachable_upstream_answers_502() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let recorder = Simulator::record(
        &format!("http://127.0.0.1:{port}"),
        &dir.path().join("c.json"),
    )
    .unwrap()
    .start()
    .unwrap();
    let reply = get(&recorder.url("/x"), &[]);
    assert_eq!(reply.status, 502);
    assert!(
        reply.message().starts_with("upstream request failed"),
        "{}",
        reply.message()
    );
}

#[test]
fn bad_upstreams_and_cassettes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let error = Simulator::record("ftp://example.test", &path).unwrap_err();
    assert!(matches!(error, Error::Upstream { .. }), "{error}");
    assert!(Simulator::record("http://example.test/?q=1", &path).is_err());
    let error = Simulator::replay(&dir.path().join("missing.json")).unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    std::fs::write(
        &path,
        r#"{"version": 1, "upstream": "x", "interactions": [{"request": {}}]}"#,
    )
    .unwrap();
    let error = Simulator::replay(&path).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("cassette `{}`: ", path.display())),
        "{error}"
    );
    let error = Simulator::record("http://example.test", &path)
        .unwrap()
        .with_fault_profile("flaky")
        .unwrap_err();
    assert!(matches!(error, Error::Mode(_)), "{error}");
}
