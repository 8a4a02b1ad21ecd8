//! Stargazers: the `star+json` media type, and resuming at the page a read stopped on.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use lakeflow_connect::LakeflowConnect;
use lakeflow_github::GithubConnector;
use serde_json::json;

use crate::common::{connection, connector, counts, read_all, rover, simulator, sorted};

/// Serves one canned stargazers page and hands back the request head it received. (The
/// simulator serves bodies whatever the `Accept` header says, so it cannot show which media type
/// was asked for.)
fn capture_one_request() -> (String, mpsc::Receiver<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                break;
            }
            head.push(line);
        }
        let body = json!([{
            "starred_at": "2024-02-03T04:05:06Z",
            "user": {"login": "ada-robotics", "id": 300_123, "type": "User", "site_admin": false}
        }])
        .to_string();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        tx.send(head).unwrap();
    });
    (url, rx)
}

#[test]
fn stargazers_ask_for_the_star_media_type() {
    let (url, head) = capture_one_request();
    let github = GithubConnector::new(&connection(&url, &[])).unwrap();
    let (records, end) = github
        .read_table("stargazers", None, &rover(&[]))
        .unwrap()
        .collect()
        .unwrap();
    let head = head.recv().unwrap();
    let header = |name: &str| {
        head.iter()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v.trim().to_owned())
    };
    assert!(
        head[0].starts_with("GET /repos/acme-robotics/rover/stargazers?"),
        "{head:?}"
    );
    assert_eq!(
        header("accept").as_deref(),
        Some("application/vnd.github.star+json")
    );
    assert_eq!(
        header("x-github-api-version").as_deref(),
        Some("2022-11-28")
    );
    assert!(header("user-agent").is_some_and(|ua| ua.starts_with("lakeflow-github/")));
    assert_eq!(
        header("authorization").as_deref(),
        Some(format!("Bearer {}", crate::common::TOKEN).as_str())
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["user"]["id"], 300_123);
    assert_eq!(records[0]["repository_name"], "rover");
    assert_eq!(end.unwrap()["cursor"], "2024-02-03T04:05:06Z");
}

#[test]
fn stargazers_resume_at_the_page_they_stopped_on() {
    let sim = simulator(None);
    let github = connector(&sim);
    let options = rover(&[("per_page", "5"), ("max_records_per_batch", "4")]);
    let run = read_all(&github, "stargazers", None, &options);
    let want = sorted(
        crate::common::corpus("stargazers.json")
            .iter()
            .map(|r| r["user"]["id"].clone())
            .collect(),
    );
    let got: Vec<_> = run.records().map(|r| r["user"]["id"].clone()).collect();
    assert_eq!(sorted(got.clone()), want);
    assert!(
        counts(got).values().all(|n| *n == 1),
        "append: nothing twice"
    );
    // A read deep into the listing starts near its position, not at page 1.
    let late = run.offsets[run.offsets.len() - 2].clone().unwrap();
    assert!(late["page"].as_u64().unwrap() > 5, "{late:?}");
    let before = sim.request_log().len();
    let (records, end) = github
        .read_table("stargazers", Some(&late), &options)
        .unwrap()
        .collect()
        .unwrap();
    assert!(records.len() <= 4);
    assert!(
        sim.request_log().len() - before <= 2,
        "resumed at the hinted page"
    );
    // A hint computed for another page size is rescaled, and a stale one is corrected.
    let rescaled = read_all(
        &github,
        "stargazers",
        Some(late.clone()),
        &rover(&[("per_page", "2")]),
    );
    let mut stale = late.clone();
    stale.insert("page".to_owned(), json!(99));
    let corrected = read_all(&github, "stargazers", Some(stale), &options);
    let tail: Vec<_> = records.iter().map(|r| r["user"]["id"].clone()).collect();
    let next = read_all(&github, "stargazers", end, &options);
    let mut expected = tail;
    expected.extend(next.records().map(|r| r["user"]["id"].clone()));
    for other in [&rescaled, &corrected] {
        let ids: Vec<_> = other.records().map(|r| r["user"]["id"].clone()).collect();
        assert_eq!(ids, expected);
    }
}
