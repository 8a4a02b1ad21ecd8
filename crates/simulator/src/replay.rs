//! Replay mode: serve a cassette. A request matches an interaction with the same method, path
//! and query (in any order; a recorded `REDACTED` value matches any value). Repeated requests
//! get the matching interactions in recorded order, then the last one again.

use std::sync::{Mutex, PoisonError};

use crate::api::ErrorFormat;
use crate::api_error::ApiError;
use crate::cassette::{Cassette, REDACTED, RecordedRequest};
use crate::http1::{Request, Response};
use crate::server::{CallContext, EndpointInfo, RouteInfo, Service};

pub(crate) struct ReplayService {
    cassette: Cassette,
    served: Mutex<Vec<bool>>,
}

impl ReplayService {
    pub(crate) fn new(cassette: Cassette) -> Self {
        let served = Mutex::new(vec![false; cassette.interactions.len()]);
        Self { cassette, served }
    }

    fn same_query(recorded: &RecordedRequest, request: &Request) -> bool {
        if recorded.query.len() != request.query.len() {
            return false;
        }
        let mut left: Vec<&(String, String)> = request.query.iter().collect();
        for (key, value) in &recorded.query {
            let found = left
                .iter()
                .position(|(k, v)| k == key && (v == value || value == REDACTED));
            match found {
                Some(i) => {
                    left.swap_remove(i);
                }
                None => return false,
            }
        }
        true
    }

    fn candidates(&self, request: &Request) -> Vec<usize> {
        self.cassette
            .interactions
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                i.request.method == request.method
                    && i.request.path == request.path
                    && Self::same_query(&i.request, request)
            })
            .map(|(index, _)| index)
            .collect()
    }
}

impl Service for ReplayService {
    fn route(&self, request: &Request) -> Option<RouteInfo> {
        self.cassette
            .interactions
            .iter()
            .any(|i| i.request.method == request.method && i.request.path == request.path)
            .then(|| RouteInfo {
                name: format!("{} {}", request.method, request.path),
                template: request.path.clone(),
            })
    }

    fn handle(&self, request: &Request, ctx: &CallContext) -> Response {
        let candidates = self.candidates(request);
        let chosen = {
            let mut served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
            let next = candidates
                .iter()
                .copied()
                .find(|i| !served[*i])
                .or_else(|| candidates.last().copied());
            if let Some(i) = next {
                served[i] = true;
            }
            next
        };
        let Some(index) = chosen else {
            let query = if request.raw_query.is_empty() {
                String::new()
            } else {
                format!("?{}", request.raw_query)
            };
            return ErrorFormat::default().render(&ApiError::not_found(format!(
                "no recorded interaction for {} {}{query}",
                request.method, request.path
            )));
        };
        let recorded = &self.cassette.interactions[index].response;
        Response {
            status: recorded.status,
            headers: recorded
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.replace(crate::cassette::BASE_URL_PLACEHOLDER, &ctx.base_url),
                    )
                })
                .collect(),
            body: recorded.body.replay(&ctx.base_url),
        }
    }

    fn endpoints(&self) -> Vec<EndpointInfo> {
        let mut seen: Vec<EndpointInfo> = Vec::new();
        for i in &self.cassette.interactions {
            let name = format!("{} {}", i.request.method, i.request.path);
            if !seen.iter().any(|e| e.name == name) {
                seen.push(EndpointInfo {
                    name,
                    method: i.request.method.clone(),
                    path: i.request.path.clone(),
                });
            }
        }
        seen
    }

    fn error_format(&self) -> ErrorFormat {
        ErrorFormat::default()
    }

    fn title(&self) -> String {
        format!("replay of {}", self.cassette.upstream)
    }
}
