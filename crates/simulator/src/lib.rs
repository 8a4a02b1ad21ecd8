//! A local HTTP server that serves a source's API from a declarative spec and a corpus, so
//! connector tests run offline, deterministic and realistic.
//!
//! A spec (YAML, one per connector) lists endpoints: path templates, the corpus file each serves,
//! the response wrapper, query parameters with roles (filters, sort, page, page size, offset,
//! cursor), one of several pagination styles (page numbers, GitHub `Link` headers, offset/limit,
//! opaque cursors, Stripe `starting_after`, HubSpot `paging.next.after`, Zendesk cursor and
//! time-based exports), auth, writes that change the in-memory corpus, future records, and named
//! fault profiles. The simulator also records a real API into a cassette through a proxy, and
//! replays cassettes. The format is documented in `docs/simulator.md`.
//!
//! ```no_run
//! use lakeflow_simulator::{FaultProfile, FaultRule, Simulator};
//!
//! # fn main() -> lakeflow_simulator::Result<()> {
//! let sim = Simulator::load(std::path::Path::new("connectors/github/simulator/spec.yaml"))?
//!     .with_faults(FaultProfile::new(7).with_rule(FaultRule::status(503).on_requests([2])))
//!     .start()?;
//! let issues_url = sim.url("/repos/octo/hello/issues?per_page=10");
//! // ... point the connector at sim.base_url() and read ...
//! println!("{}", sim.coverage());
//! # let _ = issues_url;
//! # Ok(())
//! # }
//! ```
//!
//! Specs can be compiled into a binary and used without files on disk:
//!
//! ```
//! use lakeflow_simulator::Simulator;
//!
//! let spec = "
//! name: tiny
//! endpoints:
//!   - path: /items
//!     corpus: items.json
//! ";
//! let sim = Simulator::from_embedded(spec, &[("items.json", r#"[{"id": 1}, {"id": 2}]"#)])
//!     .unwrap()
//!     .start()
//!     .unwrap();
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! sim.stop();
//! ```

mod api;
mod api_error;
mod cassette;
mod corpus;
mod error;
mod faults;
mod http1;
mod log;
mod pagination;
mod proxy;
mod query;
mod replay;
mod server;
mod spec;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use api::OAuthControl;
pub use error::{Error, Result, SpecError};
pub use faults::{FaultAction, FaultProfile, FaultRule, FaultTrigger, RetryAfter};
pub use log::{Coverage, EndpointCoverage, LoggedRequest};

use cassette::Cassette;
use faults::FaultEngine;
use server::{Callback, Server, Service};
use spec::{Files, Spec};

/// JSON arrays in recorded bodies are trimmed to this many elements unless told otherwise.
pub const DEFAULT_ARRAY_LIMIT: usize = 20;

enum Mode {
    Spec(Box<Spec>),
    Record {
        /// The base URL without user info.
        upstream: String,
        /// The user info of the URL given, as an `Authorization` value.
        credentials: Option<proxy::Credentials>,
        cassette: PathBuf,
    },
    Replay(Box<Cassette>),
}

/// A configured simulator, not yet running. [`Simulator::start`] binds it.
pub struct Simulator {
    mode: Mode,
    faults: Option<FaultProfile>,
    on_request: Option<Callback>,
    array_limit: usize,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.mode {
            Mode::Spec(spec) => format!("spec `{}`", spec.name),
            Mode::Record {
                upstream, cassette, ..
            } => {
                format!("record {upstream} into {}", cassette.display())
            }
            Mode::Replay(cassette) => format!("replay of {}", cassette.upstream),
        };
        f.debug_struct("Simulator")
            .field("mode", &mode)
            .field("faults", &self.faults)
            .field("array_limit", &self.array_limit)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            faults: None,
            on_request: None,
            array_limit: DEFAULT_ARRAY_LIMIT,
        }
    }

    /// Loads a spec file; corpus files are resolved relative to its directory.
    pub fn load(spec_path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(spec_path).map_err(|cause| Error::Io {
            path: spec_path.to_owned(),
            cause,
        })?;
        let dir = spec_path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .to_owned();
        let file = spec_path.display().to_string();
        let spec = spec::parse_spec(&file, &text, &Files::Dir(dir))?;
        Ok(Self::new(Mode::Spec(Box::new(spec))))
    }

    /// A spec and its corpus files given as strings (`include_str!`): `files` holds
    /// (name as the spec writes it, contents).
    pub fn from_embedded(spec_yaml: &str, files: &[(&str, &str)]) -> Result<Self> {
        let files: BTreeMap<String, String> = files
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        let spec = spec::parse_spec("<embedded spec>", spec_yaml, &Files::Embedded(files))?;
        Ok(Self::new(Mode::Spec(Box::new(spec))))
    }

    /// Record mode: a proxy to `upstream_base_url` (which may include a path prefix) that writes
    /// each request and response to `cassette`, redacted, as it completes.
    ///
    /// User info in the URL (`https://user:password@host`) never reaches the cassette, errors or
    /// `Debug` output: it is removed from the base URL and sent to the upstream as
    /// `Authorization: Basic` on requests that carry no `Authorization` of their own.
    pub fn record(upstream_base_url: &str, cassette: &Path) -> Result<Self> {
        let url = url::Url::parse(upstream_base_url).map_err(|e| Error::Upstream {
            // Where user info ends in a malformed URL is anyone's guess: hide up to the last `@`.
            url: without_userinfo(upstream_base_url, |_| false),
            message: e.to_string(),
        })?;
        let shown = without_userinfo(upstream_base_url, |c| matches!(c, '/' | '?' | '#' | '\\'));
        let invalid = |message: &str| Error::Upstream {
            url: shown.clone(),
            message: message.to_owned(),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a base URL takes no query or fragment"));
        }
        let credentials = (!url.username().is_empty() || url.password().is_some()).then(|| {
            let user = spec::percent_decode(url.username());
            let password = spec::percent_decode(url.password().unwrap_or_default());
            proxy::Credentials::basic(&user, &password)
        });
        Ok(Self::new(Mode::Record {
            upstream: shown.trim_end_matches('/').to_owned(),
            credentials,
            cassette: cassette.to_owned(),
        }))
    }

    /// Replay mode: serve a cassette written by [`Simulator::record`].
    pub fn replay(cassette: &Path) -> Result<Self> {
        Ok(Self::new(Mode::Replay(Box::new(Cassette::load(cassette)?))))
    }

    /// Applies a fault profile from the spec's `faults:` section.
    pub fn with_fault_profile(mut self, name: &str) -> Result<Self> {
        let Mode::Spec(spec) = &self.mode else {
            return Err(Error::Mode(format!(
                "fault profile `{name}`: named profiles come from a spec; use `with_faults` in record or replay mode"
            )));
        };
        match spec.faults.get(name) {
            Some(profile) => {
                self.faults = Some(profile.clone());
                Ok(self)
            }
            None => Err(Error::UnknownFaultProfile {
                name: name.to_owned(),
                known: spec.faults.keys().cloned().collect(),
            }),
        }
    }

    /// Applies a fault profile built in code (checked when the simulator starts).
    #[must_use]
    pub fn with_faults(mut self, profile: FaultProfile) -> Self {
        self.faults = Some(profile);
        self
    }

    /// Calls `callback` with every request as it is answered (the CLI prints the log with it).
    /// Each request is also logged with `tracing` at info level, target `lakeflow_simulator`.
    #[must_use]
    pub fn on_request(mut self, callback: impl Fn(&LoggedRequest) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(callback));
        self
    }

    /// Record mode: trim JSON arrays in the cassette to `limit` elements (default
    /// [`DEFAULT_ARRAY_LIMIT`]).
    #[must_use]
    pub fn with_array_limit(mut self, limit: usize) -> Self {
        self.array_limit = limit;
        self
    }

    /// The spec's name (or what is being recorded or replayed).
    pub fn name(&self) -> String {
        match &self.mode {
            Mode::Spec(spec) => spec.name.clone(),
            Mode::Record { upstream, .. } => format!("record {upstream}"),
            Mode::Replay(cassette) => format!("replay of {}", cassette.upstream),
        }
    }

    /// The fault profiles the spec defines, by name.
    pub fn fault_profiles(&self) -> Vec<String> {
        match &self.mode {
            Mode::Spec(spec) => spec.faults.keys().cloned().collect(),
            Mode::Record { .. } | Mode::Replay(_) => Vec::new(),
        }
    }

    /// The spec's `table_options`: the table options a connector reading this corpus needs
    /// (the account, repository, ... the corpus holds), which an offline conformance run uses
    /// unless given others. Empty in record and replay mode.
    pub fn table_options(&self) -> BTreeMap<String, String> {
        match &self.mode {
            Mode::Spec(spec) => spec.table_options.clone(),
            Mode::Record { .. } | Mode::Replay(_) => BTreeMap::new(),
        }
    }

    /// The spec's `connection_options`: the non-secret connection options a connector needs to
    /// be accepted by this spec (the user name its Basic auth expects, ...), which an offline
    /// conformance run uses unless given others. Empty in record and replay mode.
    pub fn connection_options(&self) -> BTreeMap<String, String> {
        match &self.mode {
            Mode::Spec(spec) => spec.connection_options.clone(),
            Mode::Record { .. } | Mode::Replay(_) => BTreeMap::new(),
        }
    }

    /// Starts on `127.0.0.1` with an ephemeral port.
    pub fn start(self) -> Result<RunningSimulator> {
        self.start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Starts on `addr`.
    pub fn start_on(self, addr: SocketAddr) -> Result<RunningSimulator> {
        let faults = match self.faults {
            Some(profile) => {
                profile.validate().map_err(Error::InvalidFaults)?;
                Some(FaultEngine::new(profile))
            }
            None => None,
        };
        let mut oauth = None;
        let service: Box<dyn Service> = match self.mode {
            Mode::Spec(spec) => {
                let service = api::ApiService::new(*spec);
                oauth = service.oauth_control();
                Box::new(service)
            }
            Mode::Record {
                upstream,
                credentials,
                cassette,
            } => Box::new(proxy::ProxyService::new(
                &upstream,
                credentials,
                cassette,
                self.array_limit,
            )?),
            Mode::Replay(cassette) => Box::new(replay::ReplayService::new(*cassette)),
        };
        let listener = TcpListener::bind(addr).map_err(|cause| Error::Bind { addr, cause })?;
        let server = Server::start(listener, service, faults, self.on_request)
            .map_err(|cause| Error::Bind { addr, cause })?;
        Ok(RunningSimulator { server, oauth })
    }
}

/// `url` without the user info of its authority, which ends at the first character for which
/// `ends_authority` holds (or at the end).
fn without_userinfo(url: &str, ends_authority: impl Fn(char) -> bool) -> String {
    let Some(start) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let end = url[start..]
        .find(ends_authority)
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &url[start + at + 1..]),
        None => url.to_owned(),
    }
}

/// A running simulator. Dropping it (or [`RunningSimulator::stop`]) closes every connection and
/// joins every thread.
pub struct RunningSimulator {
    server: Server,
    oauth: Option<OAuthControl>,
}

impl fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSimulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl RunningSimulator {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The base URL joined with `path` (which may carry a query).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url())
        } else {
            format!("{}/{path}", self.base_url())
        }
    }

    /// Every request so far (the most recent 100 000), in arrival order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.server.shared().recorder().entries()
    }

    /// Per-endpoint counts, endpoints never hit, unmatched requests.
    pub fn coverage(&self) -> Coverage {
        self.server.shared().recorder().coverage()
    }

    /// The OAuth server's controls (expire access tokens, revoke refresh tokens, count grants),
    /// when the spec has `oauth:`.
    pub fn oauth(&self) -> Option<&OAuthControl> {
        self.oauth.as_ref()
    }

    /// Stops the server and joins its threads.
    pub fn stop(mut self) {
        self.server.stop();
    }
}
