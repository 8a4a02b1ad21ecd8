//! The request log and the coverage report.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::Serialize;

/// The log keeps this many most recent requests; coverage counts every request regardless.
const LOG_CAPACITY: usize = 100_000;

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    /// 1-based, in the order requests reached the server (the numbering faults use).
    pub number: u64,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request path, without the query.
    pub path: String,
    /// The distinct query keys, in order of first appearance.
    pub query_keys: Vec<String>,
    /// The endpoint that served it (its name), `None` when no endpoint matched.
    pub endpoint: Option<String>,
    /// The status answered; `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
    /// The faults applied (`status 503`, `latency 50ms`, `drop`, ...), comma-separated.
    pub fault: Option<String>,
}

impl fmt::Display for LoggedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}", self.number, self.method, self.path)?;
        if !self.query_keys.is_empty() {
            write!(f, "?{}", self.query_keys.join("&"))?;
        }
        match self.status {
            Some(status) => write!(f, " -> {status}")?,
            None => f.write_str(" -> (no answer)")?,
        }
        if let Some(endpoint) = &self.endpoint {
            write!(f, " [{endpoint}]")?;
        }
        if let Some(fault) = &self.fault {
            write!(f, " (fault: {fault})")?;
        }
        Ok(())
    }
}

/// Per-endpoint counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EndpointCoverage {
    /// The endpoint's name (`GET /items` unless the spec names it).
    pub name: String,
    /// Its method.
    pub method: String,
    /// Its path template.
    pub path: String,
    /// Requests it received (including faulted ones).
    pub requests: u64,
    /// Answers by status (dropped connections are not counted here).
    pub statuses: BTreeMap<u16, u64>,
    /// Every query key it was sent.
    pub query_keys: BTreeSet<String>,
}

/// Which endpoints were exercised, and how.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Coverage {
    /// The spec's name (or `record` / `replay`).
    pub title: String,
    /// Every endpoint, in spec order, hit or not.
    pub endpoints: Vec<EndpointCoverage>,
    /// Requests no endpoint matched, by `METHOD path`.
    pub unmatched: BTreeMap<String, u64>,
}

impl Coverage {
    /// The endpoints that received no request.
    pub fn never_hit(&self) -> Vec<&EndpointCoverage> {
        self.endpoints.iter().filter(|e| e.requests == 0).collect()
    }

    /// The entry for an endpoint name.
    pub fn endpoint(&self, name: &str) -> Option<&EndpointCoverage> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hit = self.endpoints.iter().filter(|e| e.requests > 0).count();
        writeln!(
            f,
            "coverage of `{}`: {hit}/{} endpoints hit",
            self.title,
            self.endpoints.len()
        )?;
        for e in self.endpoints.iter().filter(|e| e.requests > 0) {
            let statuses: Vec<String> =
                e.statuses.iter().map(|(s, n)| format!("{s}x{n}")).collect();
            write!(f, "  {} {} ", e.method, e.path)?;
            if e.name != format!("{} {}", e.method, e.path) {
                write!(f, "[{}] ", e.name)?;
            }
            write!(f, "requests={} statuses={}", e.requests, statuses.join(","))?;
            if !e.query_keys.is_empty() {
                let keys: Vec<&str> = e.query_keys.iter().map(String::as_str).collect();
                write!(f, " query={}", keys.join(","))?;
            }
            writeln!(f)?;
        }
        let never = self.never_hit();
        if !never.is_empty() {
            writeln!(f, "never hit:")?;
            for e in never {
                writeln!(f, "  {} {} [{}]", e.method, e.path, e.name)?;
            }
        }
        if !self.unmatched.is_empty() {
            writeln!(f, "unmatched requests:")?;
            for (request, n) in &self.unmatched {
                writeln!(f, "  {request} x{n}")?;
            }
        }
        Ok(())
    }
}

/// The log and coverage counters behind one lock.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    entries: VecDeque<LoggedRequest>,
    coverage: Coverage,
}

impl Recorder {
    pub(crate) fn new(title: String, endpoints: Vec<(String, String, String)>) -> Self {
        let endpoints = endpoints
            .into_iter()
            .map(|(name, method, path)| EndpointCoverage {
                name,
                method,
                path,
                ..EndpointCoverage::default()
            })
            .collect();
        Self {
            entries: VecDeque::new(),
            coverage: Coverage {
                title,
                endpoints,
                unmatched: BTreeMap::new(),
            },
        }
    }

    pub(crate) fn record(&mut self, entry: LoggedRequest) {
        let known = entry
            .endpoint
            .as_ref()
            .and_then(|name| self.coverage.endpoints.iter_mut().find(|e| &e.name == name));
        match known {
            Some(e) => {
                e.requests += 1;
                if let Some(status) = entry.status {
                    *e.statuses.entry(status).or_default() += 1;
                }
                e.query_keys.extend(entry.query_keys.iter().cloned());
            }
            None => {
                *self
                    .coverage
                    .unmatched
                    .entry(format!("{} {}", entry.method, entry.path))
                    .or_default() += 1;
            }
        }
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.iter().cloned().collect()
    }

    pub(crate) fn coverage(&self) -> Coverage {
        self.coverage.clone()
    }
}
