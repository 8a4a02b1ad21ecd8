//! Integration tests: real HTTP against a running simulator, through ureq or raw TCP.

mod auth;
mod faults;
mod filters;
mod list_cache;
mod oauth;
mod observability;
mod pagination;
mod record_replay;
mod search;
mod spec_errors;
mod writes;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use lakeflow_simulator::{RunningSimulator, Simulator};
use serde_json::Value;

/// Credentials of the fake spec.
pub(crate) const BEARER: (&str, &str) = ("authorization", "Bearer test-token");
pub(crate) const API_KEY: (&str, &str) = ("x-api-key", "test-key");

pub(crate) fn basic() -> (&'static str, String) {
    let token =
        base64::engine::general_purpose::STANDARD.encode("agent@example.com/token:zendesk-token");
    ("authorization", format!("Basic {token}"))
}

pub(crate) fn fake_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs/fake")
}

pub(crate) fn fake() -> Simulator {
    Simulator::load(&fake_dir().join("spec.yaml")).expect("the fake spec loads")
}

pub(crate) fn start_fake() -> RunningSimulator {
    fake().start().expect("the fake simulator starts")
}

/// A corpus file of the fake spec.
pub(crate) fn corpus(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(fake_dir().join(name)).unwrap();
    if name.ends_with(".ndjson") {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

/// An embedded spec with its files, started.
pub(crate) fn start_inline(spec: &str, files: &[(&str, &str)]) -> RunningSimulator {
    Simulator::from_embedded(spec, files)
        .expect("the spec loads")
        .start()
        .expect("starts")
}

/// An answer: status, headers (lower-case names), JSON body (`Null` when empty, a string when
/// not JSON).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `message` of an error body.
    pub(crate) fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// Any request; `body` is sent as JSON unless a content-type header says otherwise.
pub(crate) fn try_call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Reply, ureq::Error> {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    let has_type = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = match body {
        Some(body) => {
            if !has_type {
                request = request.header("content-type", "application/json");
            }
            agent.run(request.body(body.to_owned()).unwrap())?
        }
        None => agent.run(request.body(()).unwrap())?,
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let text = response.body_mut().read_to_string()?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

pub(crate) fn call(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    try_call(&agent(Duration::from_secs(10)), method, url, headers, body)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

pub(crate) fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    call("GET", url, headers, None)
}

/// Sends a raw request on a fresh connection and reads until the server closes or `limit`
/// elapses: the bytes received.
pub(crate) fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(request.as_bytes())?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    Ok(received)
}

/// The ids (as JSON values) of records.
pub(crate) fn ids(records: &[Value], field: &str) -> Vec<Value> {
    records.iter().map(|r| r[field].clone()).collect()
}

/// Sorts records by a string or number field (then id), ascending or descending, like the
/// simulator should.
pub(crate) fn sorted_by(mut records: Vec<Value>, field: &str, descending: bool) -> Vec<Value> {
    let key = |r: &Value| (r[field].as_f64(), r[field].as_str().map(str::to_owned));
    records.sort_by(|a, b| {
        let order = key(a).partial_cmp(&key(b)).unwrap();
        if descending { order.reverse() } else { order }
    });
    records
}

#[test]
fn handles_cross_threads() {
    // Test suites share simulators between threads (a reader thread, a writer thread).
    fn check<T: Send + Sync>() {}
    check::<Simulator>();
    check::<RunningSimulator>();
    check::<lakeflow_simulator::Error>();
}
