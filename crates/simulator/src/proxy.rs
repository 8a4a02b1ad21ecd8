//! Record mode: forward every request to the upstream base URL with ureq, answer with the
//! upstream's response (its base URL rewritten to the simulator's), and append the pair to the
//! cassette file after each request.
//!
//! The upstream base URL never holds user info here: [`crate::Simulator::record`] removes it and
//! passes it as [`Credentials`].

use std::fmt;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ureq::http;

use crate::api::ErrorFormat;
use crate::api_error::ApiError;
use crate::cassette::{
    Body, Cassette, Interaction, RecordedRequest, RecordedResponse, redact_header, redact_param,
};
use crate::error::Result;
use crate::http1::{Request, Response};
use crate::server::{CallContext, EndpointInfo, RouteInfo, Service};

/// Largest upstream body read.
const MAX_UPSTREAM_BODY: u64 = 64 * 1024 * 1024;

/// Hop-by-hop and framing headers, which the proxy sets itself on each side.
const NOT_FORWARDED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "content-length",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "accept-encoding",
    "content-encoding",
    "proxy-connection",
];

/// The user info of the upstream URL, as an `Authorization: Basic` value. Never displayed.
#[derive(Clone)]
pub(crate) struct Credentials(String);

impl Credentials {
    pub(crate) fn basic(user: &str, password: &str) -> Self {
        Self(format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{password}"))
        ))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(REDACTED)")
    }
}

/// The upstream's answer, framing headers removed.
struct Upstream {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

pub(crate) struct ProxyService {
    /// The base URL, without user info.
    upstream: String,
    credentials: Option<Credentials>,
    cassette_path: PathBuf,
    array_limit: usize,
    agent: ureq::Agent,
    cassette: Mutex<Cassette>,
    own_base: OnceLock<String>,
}

impl ProxyService {
    /// Creates the service and writes an empty cassette (so the path is known to be writable).
    pub(crate) fn new(
        upstream: &str,
        credentials: Option<Credentials>,
        cassette_path: PathBuf,
        array_limit: usize,
    ) -> Result<Self> {
        let cassette = Cassette::new(upstream);
        cassette.save(&cassette_path)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Ok(Self {
            upstream: upstream.to_owned(),
            credentials,
            cassette_path,
            array_limit,
            agent,
            cassette: Mutex::new(cassette),
            own_base: OnceLock::new(),
        })
    }

    fn forward(&self, request: &Request) -> std::result::Result<Upstream, String> {
        let mut url = format!("{}{}", self.upstream, request.path);
        if !request.raw_query.is_empty() {
            url.push('?');
            url.push_str(&request.raw_query);
        }
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(&url);
        for (name, value) in &request.headers {
            if !NOT_FORWARDED.contains(&name.as_str()) {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        if let Some(Credentials(authorization)) = &self.credentials
            && request.header("authorization").is_none()
        {
            builder = builder.header("authorization", authorization.as_str());
        }
        let sent = if request.body.is_empty() {
            builder
                .body(())
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| e.to_string()))
        } else {
            builder
                .body(request.body.clone())
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| e.to_string()))
        };
        let mut response = sent?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| !NOT_FORWARDED.contains(&name.as_str()))
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_UPSTREAM_BODY)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(Upstream {
            status,
            headers,
            body,
        })
    }

    fn record(&self, request: &Request, status: u16, headers: &[(String, String)], body: &[u8]) {
        let interaction = Interaction {
            request: RecordedRequest {
                method: request.method.clone(),
                path: request.path.clone(),
                query: request
                    .query
                    .iter()
                    .map(|(k, v)| (k.clone(), redact_param(k, v)))
                    .collect(),
                headers: request
                    .headers
                    .iter()
                    .filter(|(name, _)| !NOT_FORWARDED.contains(&name.as_str()))
                    .map(|(k, v)| (k.clone(), redact_header(k, v)))
                    .collect(),
                body: Body::record(
                    &request.body,
                    request.header("content-type"),
                    &self.upstream,
                    self.array_limit,
                ),
            },
            response: RecordedResponse {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            redact_header(
                                k,
                                &v.replace(&self.upstream, crate::cassette::BASE_URL_PLACEHOLDER),
                            ),
                        )
                    })
                    .collect(),
                body: Body::record(
                    body,
                    headers
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                        .map(|(_, value)| value.as_str()),
                    &self.upstream,
                    self.array_limit,
                ),
            },
        };
        let mut cassette = self.cassette.lock().unwrap_or_else(PoisonError::into_inner);
        cassette.interactions.push(interaction);
        if let Err(e) = cassette.save(&self.cassette_path) {
            tracing::error!(error = %e, "simulator: cannot write the cassette");
        }
    }
}

impl Service for ProxyService {
    fn route(&self, _request: &Request) -> Option<RouteInfo> {
        None
    }

    fn handle(&self, request: &Request, ctx: &CallContext) -> Response {
        let Upstream {
            status,
            headers,
            body,
        } = match self.forward(request) {
            Ok(answer) => answer,
            Err(message) => {
                return ErrorFormat::default().render(&ApiError::new(
                    502,
                    format!("upstream request failed: {message}"),
                ));
            }
        };
        self.record(request, status, &headers, &body);
        // The client talks to the simulator: links to the upstream must point back here.
        let own = self
            .own_base
            .get()
            .cloned()
            .unwrap_or_else(|| ctx.base_url.clone());
        let body = match String::from_utf8(body) {
            Ok(text) => text.replace(&self.upstream, &own).into_bytes(),
            Err(raw) => raw.into_bytes(),
        };
        Response {
            status,
            headers: headers
                .into_iter()
                .map(|(k, v)| (k, v.replace(&self.upstream, &own)))
                .collect(),
            body,
        }
    }

    fn endpoints(&self) -> Vec<EndpointInfo> {
        Vec::new()
    }

    fn error_format(&self) -> ErrorFormat {
        ErrorFormat::default()
    }

    fn title(&self) -> String {
        format!("record {}", self.upstream)
    }

    fn bound(&self, base_url: &str) {
        let _ = self.own_base.set(base_url.to_owned());
    }
}
