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

/// Records `exchange` through a proxy to `upstream_base`; the cassette's text.
fn record_text(
    upstream_base: &str,
    exchange: impl FnOnce(&lakeflow_simulator::RunningSimulator),
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("cassette.json");
    let recorder = Simulator::record(upstream_base, &cassette)
        .unwrap()
        .start()
        .unwrap();
    exchange(&recorder);
    recorder.stop();
    std::fs::read_to_string(&cassette).unwrap()
}

fn assert_nowhere(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "`{secret}` leaked into the cassette:\n{text}"
        );
    }
}

const OAUTH_SPEC: &str = r"
name: oauth
endpoints:
  - path: /oauth/token
    method: POST
    corpus: grants.json
  - path: /accounts
    corpus: accounts.json
";

const ACCOUNTS: &str = r#"[{
  "id": 1,
  "name": "main",
  "token": "tok-RESPONSE",
  "settings": {
    "API_KEY": "ak-RESPONSE",
    "webhooks": [{"url": "https://hooks.example.test/in", "signingSecret": "wh-RESPONSE"}]
  }
}]"#;

#[test]
fn secret_json_fields_are_redacted_at_any_depth_in_requests_and_responses() {
    let upstream = start_inline(
        OAUTH_SPEC,
        &[("grants.json", "[]"), ("accounts.json", ACCOUNTS)],
    );
    let request = r#"{
        "client_id": "app-1",
        "client_secret": "cs-REQUEST",
        "grant": {"Access_Token": "at-REQUEST", "refreshToken": "rt-REQUEST",
                  "extra": [{"PASSWORD": "pw-REQUEST", "secret": "s-REQUEST", "token": "t-REQUEST"}]}
    }"#;
    let text = record_text(&upstream.base_url(), |recorder| {
        let created = call("POST", &recorder.url("/oauth/token"), &[], Some(request));
        assert_eq!(created.status, 201, "{:?}", created.body);
        assert_eq!(
            created.body["grant"]["extra"][0]["PASSWORD"], "pw-REQUEST",
            "the client gets the real answer"
        );
        let accounts = get(&recorder.url("/accounts"), &[]);
        assert_eq!(accounts.body[0]["settings"]["API_KEY"], "ak-RESPONSE");
    });
    assert_nowhere(
        &text,
        &[
            "cs-REQUEST",
            "at-REQUEST",
            "rt-REQUEST",
            "pw-REQUEST",
            "s-REQUEST",
            "t-REQUEST",
            "tok-RESPONSE",
            "ak-RESPONSE",
            "wh-RESPONSE",
        ],
    );
    let cassette: Value = serde_json::from_str(&text).unwrap();
    let post = &cassette["interactions"][0];
    for body in [
        &post["request"]["body"]["json"],
        &post["response"]["body"]["json"],
    ] {
        assert_eq!(body["client_id"], "app-1", "other fields stay: {body}");
        assert_eq!(body["client_secret"], "REDACTED");
        assert_eq!(body["grant"]["Access_Token"], "REDACTED");
        assert_eq!(body["grant"]["extra"][0]["PASSWORD"], "REDACTED");
    }
    let account = &cassette["interactions"][1]["response"]["body"]["json"][0];
    assert_eq!(account["name"], "main");
    assert_eq!(account["token"], "REDACTED");
    assert_eq!(
        account["settings"]["webhooks"][0]["signingSecret"],
        "REDACTED"
    );
    assert_eq!(
        account["settings"]["webhooks"][0]["url"],
        "https://hooks.example.test/in"
    );
}

#[test]
fn form_bodies_are_redacted_from_their_first_parameter() {
    let upstream = start_inline(
        OAUTH_SPEC,
        &[("grants.json", "[]"), ("accounts.json", ACCOUNTS)],
    );
    let form =
        "client_secret=cs-FORM&grant_type=refresh_token&refresh_token=rt-FORM&password=pw-FORM";
    let text = record_text(&upstream.base_url(), |recorder| {
        let created = call(
            "POST",
            &recorder.url("/oauth/token"),
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(form),
        );
        assert_eq!(created.status, 201, "{:?}", created.body);
        assert_eq!(created.body["client_secret"], "cs-FORM");
    });
    assert_nowhere(&text, &["cs-FORM", "rt-FORM", "pw-FORM"]);
    let cassette: Value = serde_json::from_str(&text).unwrap();
    let interaction = &cassette["interactions"][0];
    assert_eq!(
        interaction["request"]["body"]["text"],
        "client_secret=REDACTED&grant_type=refresh_token&refresh_token=REDACTED&password=REDACTED"
    );
    assert_eq!(
        interaction["response"]["body"]["json"]["grant_type"],
        "refresh_token"
    );
}

/// A one-shot upstream answering a form body, as GitHub's OAuth token endpoint does by default.
fn form_upstream() -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            line.clear();
        }
        let body = "access_token=gho_FORMRESPONSE&scope=repo&token_type=bearer";
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-www-form-urlencoded; charset=utf-8\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    (base, handle)
}

#[test]
fn form_responses_are_redacted_too() {
    let (base, upstream) = form_upstream();
    let text = record_text(&base, |recorder| {
        let reply = get(&recorder.url("/login/oauth/access_token"), &[]);
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body,
            "access_token=gho_FORMRESPONSE&scope=repo&token_type=bearer"
        );
    });
    upstream.join().unwrap();
    assert_nowhere(&text, &["gho_FORMRESPONSE"]);
    let cassette: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        cassette["interactions"][0]["response"]["body"]["text"],
        "access_token=REDACTED&scope=repo&token_type=bearer"
    );
}

#[test]
fn user_info_in_the_upstream_url_is_sent_but_never_written() {
    let upstream = start_inline(
        r"
name: guarded
auth: { scheme: basic, username: rec, password: pw/USERINFO }
endpoints:
  - path: /people
    corpus: people.json
",
        &[("people.json", &people())],
    );
    let with_user = format!("http://rec:pw%2FUSERINFO@{}", upstream.local_addr());
    let dir = tempfile::tempdir().unwrap();
    let simulator = Simulator::record(&with_user, &dir.path().join("c.json")).unwrap();
    for shown in [format!("{simulator:?}"), simulator.name()] {
        assert_nowhere(&shown, &["USERINFO", "rec:"]);
    }
    let text = record_text(&with_user, |recorder| {
        let reply = get(&recorder.url("/people"), &[]);
        assert_eq!(
            reply.status, 200,
            "the user info goes upstream as basic auth"
        );
        let reply = get(
            &recorder.url("/people"),
            &[("authorization", "Basic d3Jvbmc6d3Jvbmc=")],
        );
        assert_eq!(reply.status, 401, "a client's own Authorization wins");
    });
    assert_nowhere(&text, &["USERINFO", "rec:", "@127.0.0.1"]);
    let cassette: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(cassette["upstream"], upstream.base_url());

    let path = dir.path().join("c.json");
    for bad in [
        "ftp://rec:pw-ERROR@example.test",
        "http://rec:pw-ERROR@example.test/?q=1",
        "http://rec:pw-ERROR@exa mple.test",
        "http://rec:pw/ERROR@example.test",
    ] {
        let error = Simulator::record(bad, &path).unwrap_err();
        assert!(matches!(error, Error::Upstream { .. }), "{error}");
        let message = error.to_string();
        assert_nowhere(&message, &["pw-ERROR", "pw/ERROR", "rec:"]);
        assert!(
            message.contains("://example.test") || message.contains("://exa mple.test"),
            "{message}"
        );
    }
}
