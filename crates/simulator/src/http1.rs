//! A minimal HTTP/1.1 wire layer: enough to read requests with `Content-Length` bodies and to
//! write responses in full, slowly, truncated, or not at all (the last three are faults).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

const MAX_HEAD: u64 = 64 * 1024;
const MAX_BODY: usize = 32 * 1024 * 1024;

/// A parsed request. Header names are lower-case.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The path without the query, as sent (not percent-decoded).
    pub(crate) path: String,
    /// The raw query string (without `?`), empty when none.
    pub(crate) raw_query: String,
    /// Decoded query pairs, in order.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    http10: bool,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn keep_alive(&self) -> bool {
        let connection = self.header("connection").map(str::to_ascii_lowercase);
        if self.http10 {
            connection.as_deref() == Some("keep-alive")
        } else {
            connection.as_deref() != Some("close")
        }
    }

    /// The distinct query keys, in order of first appearance.
    pub(crate) fn query_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for (k, _) in &self.query {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
    }
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Header names as they will be written; `content-length` is added when writing.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![(
                "content-type".to_owned(),
                "application/json; charset=utf-8".to_owned(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// How a response goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Full,
    /// Headers first, then a stall before the body.
    SlowBody(Duration),
    /// The full `Content-Length`, half the body, then the connection closes.
    Truncated,
}

/// What reading from a connection produced.
pub(crate) enum Incoming {
    Request(Request),
    /// The peer closed the connection between requests.
    Closed,
    /// The request is unusable; answer this and close.
    Reject(u16, String),
}

pub(crate) fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Incoming> {
    let mut head = Vec::new();
    let mut limited = reader.by_ref().take(MAX_HEAD);
    // Tolerate blank lines before a request line (RFC 9112, section 2.2).
    loop {
        head.clear();
        if limited.read_until(b'\n', &mut head)? == 0 {
            return Ok(Incoming::Closed);
        }
        if !trim_eol(&head).is_empty() {
            break;
        }
    }
    let request_line = String::from_utf8_lossy(trim_eol(&head)).into_owned();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(Incoming::Reject(
            400,
            format!("malformed request line `{request_line}`"),
        ));
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(Incoming::Reject(
            505,
            format!("unsupported version `{version}`"),
        ));
    }
    let mut headers = Vec::new();
    loop {
        let mut line = Vec::new();
        if limited.read_until(b'\n', &mut line)? == 0 {
            return Ok(Incoming::Reject(
                431,
                "request head too large or incomplete".into(),
            ));
        }
        let line = trim_eol(&line);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        let Some((name, value)) = text.split_once(':') else {
            return Ok(Incoming::Reject(
                400,
                format!("malformed header line `{text}`"),
            ));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.to_owned(), String::new()),
    };
    let query = url::form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut request = Request {
        method: method.to_ascii_uppercase(),
        path,
        raw_query,
        query,
        headers,
        body: Vec::new(),
        http10: version == "HTTP/1.0",
    };
    if request.header("transfer-encoding").is_some() {
        // Chunked request bodies are not supported; 411 tells the client to send a length.
        return Ok(Incoming::Reject(
            411,
            "send the body with Content-Length (chunked request bodies are not supported)".into(),
        ));
    }
    let length = match request.header("content-length") {
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n <= MAX_BODY => n,
            Ok(_) => return Ok(Incoming::Reject(413, "request body too large".into())),
            Err(_) => {
                return Ok(Incoming::Reject(
                    400,
                    format!("invalid Content-Length `{text}`"),
                ));
            }
        },
        None => 0,
    };
    if length > 0 {
        if request
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        {
            reader
                .get_mut()
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        request.body = body;
    }
    Ok(Incoming::Request(request))
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether the connection may serve another request after this one.
pub(crate) fn keep_alive(request: &Request) -> bool {
    request.keep_alive()
}

/// Writes a response. Returns whether the connection is still usable.
pub(crate) fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    delivery: Delivery,
    close: bool,
    stop: &AtomicBool,
) -> io::Result<bool> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    let close = close || delivery == Delivery::Truncated;
    // 204 and 304 carry no body and, per RFC 9110, no Content-Length either.
    if !matches!(response.status, 204 | 304) {
        head.push_str(&format!("content-length: {}\r\n", response.body.len()));
    }
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    match delivery {
        Delivery::Full => stream.write_all(&response.body)?,
        Delivery::SlowBody(pause) => {
            stream.flush()?;
            sleep_unless_stopped(pause, stop);
            stream.write_all(&response.body)?;
        }
        Delivery::Truncated => {
            stream.write_all(&response.body[..response.body.len() / 2])?;
            stream.flush()?;
            stream.shutdown(std::net::Shutdown::Both)?;
            return Ok(false);
        }
    }
    stream.flush()?;
    Ok(!close)
}

/// Sleeps for `duration`, waking early when the server is stopping.
pub(crate) fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let deadline = Instant::now() + duration;
    while !stop.load(Ordering::Relaxed) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}
