//! The TCP side: accept loop, one thread per connection with keep-alive, request numbering and
//! fault decisions, logging, and a clean shutdown that joins every thread.

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::api::ErrorFormat;
use crate::api_error::ApiError;
use crate::faults::{Decision, FaultEngine, Outcome};
use crate::http1::{self, Delivery, Incoming, Request, Response};
use crate::log::{LoggedRequest, Recorder};

/// The endpoint a request routes to.
#[derive(Debug, Clone)]
pub(crate) struct RouteInfo {
    pub(crate) name: String,
    pub(crate) template: String,
}

/// An endpoint, for coverage.
#[derive(Debug, Clone)]
pub(crate) struct EndpointInfo {
    pub(crate) name: String,
    pub(crate) method: String,
    pub(crate) path: String,
}

/// Per-request facts a service may need.
#[derive(Debug, Clone)]
pub(crate) struct CallContext {
    /// `http://host:port` as the client addressed the server, for links in responses.
    pub(crate) base_url: String,
}

/// Something that answers requests: the spec API, the recording proxy, or a replay.
pub(crate) trait Service: Send + Sync + 'static {
    fn route(&self, request: &Request) -> Option<RouteInfo>;
    fn handle(&self, request: &Request, ctx: &CallContext) -> Response;
    fn endpoints(&self) -> Vec<EndpointInfo>;
    fn error_format(&self) -> ErrorFormat;
    fn title(&self) -> String;
    /// The server's own base URL, known once bound (the proxy rewrites upstream links to it).
    fn bound(&self, _base_url: &str) {}
}

/// Called with each request as it is answered.
pub(crate) type Callback = Arc<dyn Fn(&LoggedRequest) + Send + Sync>;

/// State shared by the accept loop, connection threads and the handle.
pub(crate) struct Shared {
    service: Box<dyn Service>,
    /// Request numbering and fault draws happen under one lock, so the sequence is the order in
    /// which requests reach it.
    sequence: Mutex<Sequence>,
    recorder: Mutex<Recorder>,
    on_request: Option<Callback>,
    errors: ErrorFormat,
    stop: AtomicBool,
    addr: SocketAddr,
}

struct Sequence {
    count: u64,
    faults: Option<FaultEngine>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Counters and logs stay consistent across a panicking thread; keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn recorder(&self) -> MutexGuard<'_, Recorder> {
        lock(&self.recorder)
    }
}

#[derive(Default)]
struct Connections {
    next_id: u64,
    live: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

/// A running server.
pub(crate) struct Server {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Connections>>,
}

impl Server {
    pub(crate) fn start(
        listener: TcpListener,
        service: Box<dyn Service>,
        faults: Option<FaultEngine>,
        on_request: Option<Callback>,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        service.bound(&format!("http://{}", connect_addr(addr)));
        let endpoints = service
            .endpoints()
            .into_iter()
            .map(|e| (e.name, e.method, e.path))
            .collect();
        let shared = Arc::new(Shared {
            recorder: Mutex::new(Recorder::new(service.title(), endpoints)),
            errors: service.error_format(),
            service,
            sequence: Mutex::new(Sequence { count: 0, faults }),
            on_request,
            stop: AtomicBool::new(false),
            addr,
        });
        let connections = Arc::new(Mutex::new(Connections::default()));
        let accept = {
            let shared = Arc::clone(&shared);
            let connections = Arc::clone(&connections);
            std::thread::Builder::new()
                .name("simulator-accept".into())
                .spawn(move || accept_loop(&listener, &shared, &connections))?
        };
        Ok(Self {
            shared,
            accept: Some(accept),
            connections,
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        connect_addr(self.shared.addr)
    }

    /// Stops accepting, closes every connection and joins every thread. Idempotent.
    pub(crate) fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.shared.stop.store(true, Ordering::SeqCst);
        // The accept loop blocks in accept(); a connection wakes it up to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1));
        let _ = accept.join();
        let threads = {
            let mut connections = lock(&self.connections);
            for stream in connections.live.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut connections.threads)
        };
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The address clients use: a wildcard bind is reached through loopback.
fn connect_addr(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    addr
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    connections: &Arc<Mutex<Connections>>,
) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "simulator: accept failed");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        let mut guard = lock(connections);
        guard.threads.retain(|t| !t.is_finished());
        let id = guard.next_id;
        guard.next_id += 1;
        guard.live.insert(id, registered);
        let shared = Arc::clone(shared);
        let registry = Arc::clone(connections);
        let spawned = std::thread::Builder::new()
            .name(format!("simulator-conn-{id}"))
            .spawn(move || {
                serve_connection(stream, &shared);
                lock(&registry).live.remove(&id);
            });
        match spawned {
            Ok(handle) => guard.threads.push(handle),
            Err(e) => {
                tracing::warn!(error = %e, "simulator: cannot spawn a connection thread");
                guard.live.remove(&id);
            }
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while !shared.stop.load(Ordering::SeqCst) {
        let request = match http1::read_request(&mut reader) {
            Ok(Incoming::Request(request)) => request,
            Ok(Incoming::Closed) | Err(_) => return,
            Ok(Incoming::Reject(status, message)) => {
                let response = shared.errors.render(&ApiError::new(status, message));
                let _ = http1::write_response(
                    &mut writer,
                    &response,
                    Delivery::Full,
                    true,
                    &shared.stop,
                );
                return;
            }
        };
        if !answer(&mut writer, &request, shared) {
            return;
        }
    }
}

/// Serves one request; `false` when the connection must close.
fn answer(writer: &mut TcpStream, request: &Request, shared: &Shared) -> bool {
    let route = shared.service.route(request);
    let (number, decision) = {
        let mut sequence = lock(&shared.sequence);
        sequence.count += 1;
        let number = sequence.count;
        let decision = match &mut sequence.faults {
            Some(engine) => {
                let mut names = vec![request.path.as_str()];
                if let Some(route) = &route {
                    names.push(&route.template);
                    names.push(&route.name);
                }
                engine.decide(number, &names)
            }
            None => Decision {
                latency: Duration::ZERO,
                outcome: Outcome::Normal,
                applied: Vec::new(),
            },
        };
        (number, decision)
    };
    if !decision.latency.is_zero() {
        http1::sleep_unless_stopped(decision.latency, &shared.stop);
    }
    let host = request.header("host").map(str::to_owned);
    let ctx = CallContext {
        base_url: format!(
            "http://{}",
            host.unwrap_or_else(|| connect_addr(shared.addr).to_string())
        ),
    };
    let (response, delivery) = match &decision.outcome {
        Outcome::Drop => {
            log(shared, request, number, route.as_ref(), None, &decision);
            let _ = writer.shutdown(Shutdown::Both);
            return false;
        }
        Outcome::Respond {
            status,
            headers,
            body,
        } => {
            let mut response = match body {
                Some(body) => Response::json(*status, body),
                None => shared.errors.render(&ApiError::new(
                    *status,
                    format!("simulated fault: HTTP {status}"),
                )),
            };
            response.headers.extend(headers.iter().cloned());
            (response, Delivery::Full)
        }
        Outcome::Slow(pause) => (
            shared.service.handle(request, &ctx),
            Delivery::SlowBody(*pause),
        ),
        Outcome::Truncate => (shared.service.handle(request, &ctx), Delivery::Truncated),
        Outcome::Normal => (shared.service.handle(request, &ctx), Delivery::Full),
    };
    // Logged before the answer goes out, so a client that got its response finds it logged.
    log(
        shared,
        request,
        number,
        route.as_ref(),
        Some(response.status),
        &decision,
    );
    let close = !http1::keep_alive(request);
    matches!(
        http1::write_response(writer, &response, delivery, close, &shared.stop),
        Ok(true)
    )
}

fn log(
    shared: &Shared,
    request: &Request,
    number: u64,
    route: Option<&RouteInfo>,
    status: Option<u16>,
    decision: &Decision,
) {
    let entry = LoggedRequest {
        number,
        method: request.method.clone(),
        path: request.path.clone(),
        query_keys: request.query_keys(),
        endpoint: route.map(|r| r.name.clone()),
        status,
        fault: (!decision.applied.is_empty()).then(|| decision.applied.join(", ")),
    };
    tracing::info!(target: "lakeflow_simulator", "{entry}");
    if let Some(callback) = &shared.on_request {
        callback(&entry);
    }
    shared.recorder().record(entry);
}
