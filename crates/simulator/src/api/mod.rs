//! The spec-serving service: routing, auth, rate limits, then list, single-record and write
//! handling against the in-memory store.

mod associations;
mod auth;
mod cache;
mod list;
mod oauth;
mod query;
mod rate_limit;
mod search;
mod writes;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};

pub(crate) use auth::{Auth, AuthScheme};
pub use oauth::OAuthControl;
pub(crate) use oauth::{OAuthServer, OAuthSpec};

use crate::api_error::ApiError;
use crate::corpus::{Clock, Store};
use crate::http1::{Request, Response};
use crate::server::{CallContext, EndpointInfo, RouteInfo, Service};
use crate::spec::{Endpoint, Kind, Spec};
use crate::value::FieldPath;
use rate_limit::RateLimiter;

/// The JSON shape of error bodies (`error_body:` in the spec). Default:
/// `{"message": "...", "status": 404}`.
#[derive(Debug, Clone)]
pub(crate) struct ErrorFormat {
    message_key: FieldPath,
    status_key: Option<FieldPath>,
    extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErrorFormat {
    #[serde(default = "default_message_key")]
    message_key: String,
    #[serde(default = "default_status_key")]
    status_key: Option<String>,
    #[serde(default)]
    extra: Map<String, Value>,
}

fn default_message_key() -> String {
    "message".to_owned()
}

#[allow(clippy::unnecessary_wraps)] // serde default for an Option field
fn default_status_key() -> Option<String> {
    Some("status".to_owned())
}

impl Default for ErrorFormat {
    fn default() -> Self {
        Self {
            message_key: FieldPath::parse("message").expect("valid path"),
            status_key: Some(FieldPath::parse("status").expect("valid path")),
            extra: Map::new(),
        }
    }
}

impl ErrorFormat {
    pub(crate) fn from_spec(value: &Value) -> Result<Self, String> {
        let raw: RawErrorFormat =
            serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        Ok(Self {
            message_key: FieldPath::parse(&raw.message_key)?,
            status_key: raw
                .status_key
                .as_deref()
                .map(FieldPath::parse)
                .transpose()?,
            extra: raw.extra,
        })
    }

    pub(crate) fn render(&self, error: &ApiError) -> Response {
        let mut body = Value::Object(self.extra.clone());
        self.message_key
            .set(&mut body, Value::String(error.message.clone()));
        if let Some(key) = &self.status_key {
            key.set(&mut body, json!(error.status));
        }
        let mut response = Response::json(error.status, &body);
        response.headers.extend(error.headers.iter().cloned());
        response
    }
}

/// Serves a spec.
#[derive(Debug)]
pub(crate) struct ApiService {
    spec: Spec,
    store: Store,
    clock: Clock,
    /// Per endpoint (same index as `spec.endpoints`): records synthesised after "now".
    future: Vec<Vec<Arc<Value>>>,
    limiter: Option<RateLimiter>,
    /// The authorization server, when the spec has `oauth:`.
    oauth: Option<OAuthServer>,
    /// Filtered and sorted lists, so pages of a large corpus cost O(page); cleared by writes.
    cache: cache::ListCache,
}

/// An endpoint matching a request: its index, itself, and the path parameter values.
type Match<'a> = (usize, &'a Endpoint, Vec<(String, String)>);

/// A request routed to one of the spec's endpoints.
#[derive(Clone, Copy)]
pub(super) struct Routed<'a> {
    /// The endpoint's index in the spec (and in `future`).
    pub(super) index: usize,
    pub(super) endpoint: &'a Endpoint,
    /// The values of the path parameters.
    pub(super) params: &'a [(String, String)],
    pub(super) request: &'a Request,
    pub(super) ctx: &'a CallContext,
}

/// What routing found for a request.
enum Found<'a> {
    Endpoint(usize, &'a Endpoint, Vec<(String, String)>),
    WrongMethod(Vec<String>),
    Nothing,
}

impl ApiService {
    pub(crate) fn new(mut spec: Spec) -> Self {
        let clock = Clock::new(spec.now);
        // The store owns the records from here on: taken, not cloned, so a large corpus is held
        // once.
        let store = Store::new(std::mem::take(&mut spec.corpora));
        let future = list::synthesize_future(&spec, &store, clock.now());
        let limiter = spec.rate_limit.clone().map(RateLimiter::new);
        let oauth = spec.oauth.clone().map(OAuthServer::new);
        Self {
            spec,
            store,
            clock,
            future,
            limiter,
            oauth,
            cache: cache::ListCache::default(),
        }
    }

    /// The handle tests use to expire and revoke tokens, when the spec has `oauth:`.
    pub(crate) fn oauth_control(&self) -> Option<OAuthControl> {
        self.oauth.clone().map(OAuthControl)
    }

    /// Runs a write against the store, then forgets every cached list.
    fn write_store<T>(
        &self,
        change: impl FnOnce(&mut std::collections::BTreeMap<String, Vec<Arc<Value>>>) -> T,
    ) -> T {
        let result = self.store.write(change);
        self.cache.invalidate();
        result
    }

    fn find(&self, request: &Request) -> Found<'_> {
        let mut best: Option<Match<'_>> = None;
        let mut methods = Vec::new();
        for (index, endpoint) in self.spec.endpoints.iter().enumerate() {
            let Some(params) = endpoint.template.matches(&request.path) else {
                continue;
            };
            if endpoint.method != request.method {
                methods.push(endpoint.method.clone());
                continue;
            }
            let better = best.as_ref().is_none_or(|(_, current, _)| {
                endpoint.template.literal_count() > current.template.literal_count()
            });
            if better {
                best = Some((index, endpoint, params));
            }
        }
        match (best, methods.is_empty()) {
            (Some((index, endpoint, params)), _) => Found::Endpoint(index, endpoint, params),
            (None, false) => Found::WrongMethod(methods),
            (None, true) => Found::Nothing,
        }
    }

    /// Records generated after "now" for every endpoint reading `corpus`; writes allocate ids
    /// past them so the two never collide.
    fn future_for(&self, corpus: &str) -> Vec<Arc<Value>> {
        self.spec
            .endpoints
            .iter()
            .zip(&self.future)
            .filter(|(e, _)| e.corpus == corpus)
            .flat_map(|(_, records)| records.iter().cloned())
            .collect()
    }

    fn dispatch(&self, call: Routed<'_>) -> Result<Response, ApiError> {
        let Routed {
            index,
            endpoint,
            params,
            request,
            ..
        } = call;
        if let Some(auth) = &endpoint.auth {
            match (&auth.scheme, &self.oauth) {
                (AuthScheme::OAuth, Some(server)) => server.check(request)?,
                _ => auth.check(request)?,
            }
        }
        match &endpoint.kind {
            Kind::List => self.list(call),
            Kind::Single(single) => self.single(index, endpoint, single, params, request),
            Kind::Create(write) => self.create(endpoint, write, params, request),
            Kind::Update {
                single,
                write,
                replace,
            } => self.update(endpoint, single, write, *replace, params, request),
            Kind::Delete {
                single,
                write,
                mode,
            } => self.delete(endpoint, single, write, mode, params, request),
            Kind::Search(search) => self.search(index, endpoint, search, params, request),
            Kind::BatchAssociations(spec) => {
                self.batch_associations(index, endpoint, spec, params, request)
            }
        }
    }

    /// A record (or the records) as the endpoint answers them: bare, or under `records_key`
    /// with `extra` beside it.
    fn wrap(endpoint: &Endpoint, records: Value, fields: Vec<(FieldPath, Value)>) -> Value {
        match &endpoint.records_key {
            Some(key) => {
                let mut body = Value::Object(endpoint.extra.clone());
                key.set(&mut body, records);
                for (field, value) in fields {
                    field.set(&mut body, value);
                }
                body
            }
            None => records,
        }
    }
}

impl Service for ApiService {
    fn route(&self, request: &Request) -> Option<RouteInfo> {
        if let Some(server) = &self.oauth
            && server.token_path() == request.path
        {
            return Some(RouteInfo {
                name: "oauth token".to_owned(),
                template: server.token_path().to_owned(),
            });
        }
        match self.find(request) {
            Found::Endpoint(_, endpoint, _) => Some(RouteInfo {
                name: endpoint.name.clone(),
                template: endpoint.template.as_str().to_owned(),
            }),
            Found::WrongMethod(_) | Found::Nothing => None,
        }
    }

    fn handle(&self, request: &Request, ctx: &CallContext) -> Response {
        let (limit_headers, exhausted) = match &self.limiter {
            Some(limiter) => limiter.check(),
            None => (Vec::new(), None),
        };
        if let Some(server) = self
            .oauth
            .as_ref()
            .filter(|server| server.token_path() == request.path)
        {
            let mut response = server.token(request);
            response.headers.extend(limit_headers);
            return response;
        }
        let result = match exhausted {
            Some(error) => Err(error),
            None => match self.find(request) {
                Found::Endpoint(index, endpoint, params) => self.dispatch(Routed {
                    index,
                    endpoint,
                    params: &params,
                    request,
                    ctx,
                }),
                Found::WrongMethod(methods) => Err(ApiError::new(
                    405,
                    format!("{} is not allowed on {}", request.method, request.path),
                )
                .with_header("allow", methods.join(", "))),
                Found::Nothing => Err(ApiError::not_found(format!(
                    "Not Found: no endpoint serves {} {}",
                    request.method, request.path
                ))),
            },
        };
        let mut response = result.unwrap_or_else(|error| self.spec.errors.render(&error));
        response.headers.extend(limit_headers);
        response
    }

    fn endpoints(&self) -> Vec<EndpointInfo> {
        self.spec
            .endpoints
            .iter()
            .map(|e| EndpointInfo {
                name: e.name.clone(),
                method: e.method.clone(),
                path: e.template.as_str().to_owned(),
            })
            .collect()
    }

    fn error_format(&self) -> ErrorFormat {
        self.spec.errors.clone()
    }

    fn title(&self) -> String {
        self.spec.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_format_places_message_and_status() {
        let format = ErrorFormat::from_spec(
            &json!({"message_key": "error.message", "status_key": null, "extra": {"type": "x"}}),
        )
        .unwrap();
        let response = format.render(&ApiError::new(404, "gone"));
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body, json!({"type": "x", "error": {"message": "gone"}}));
        assert!(ErrorFormat::from_spec(&json!({"mesage_key": "x"})).is_err());
    }
}
