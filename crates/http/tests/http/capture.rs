//! What the client logs, captured per test thread: the formatted lines (to look for secrets)
//! and the structured retry events (to check their fields).
//!
//! The subscriber is global, not scoped with `with_default`: `tracing` caches each callsite's
//! interest process-wide, so a scoped subscriber misses events whose callsites other test
//! threads reached first. What it records is routed to the calling thread's buffers instead.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use lakeflow_http::RETRY_EVENT_TARGET;
use tracing::field::{Field, Visit};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

thread_local! {
    /// Where this thread's log lines go while [`capture_logs`] runs.
    static LINES: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
    /// Where this thread's retry events go while [`retry_events`] runs.
    static RETRIES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Appends to the current thread's line buffer, if any; drops the bytes otherwise.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LINES.with(|c| {
            if let Some(captured) = &*c.borrow() {
                captured.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records the fields a progress display reads from each retry event, as `name=value` pairs.
struct RetryRecorder;

#[derive(Default)]
struct DisplayFields(Vec<String>);

impl Visit for DisplayFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if matches!(
            field.name(),
            "reason" | "attempt" | "max_attempts" | "wait_ms"
        ) {
            self.0.push(format!("{}={value:?}", field.name()));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        // Unquoted, as a display shows it.
        self.record_debug(field, &format_args!("{value}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for RetryRecorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = DisplayFields::default();
        event.record(&mut fields);
        RETRIES.with(|r| {
            if let Some(events) = r.borrow_mut().as_mut() {
                events.push(fields.0.join(" "));
            }
        });
    }
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Everything, as a binary at its most verbose would log it: `log` records (the
        // transport's) bridged into `tracing`, filtered with the crate's recommended directives.
        let filter = format!("trace,{}", lakeflow_http::TRANSPORT_LOG_DIRECTIVES);
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(|| ThreadWriter)
                    .with_filter(EnvFilter::new(filter)),
            )
            .with(RetryRecorder.with_filter(filter_fn(|m| m.target() == RETRY_EVENT_TARGET)))
            .try_init()
            .unwrap();
    });
}

/// Runs `f` and returns what it logged at any level, formatted.
pub fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    init();
    let buffer = Arc::new(Mutex::new(Vec::new()));
    LINES.with(|c| *c.borrow_mut() = Some(Arc::clone(&buffer)));
    let out = f();
    LINES.with(|c| *c.borrow_mut() = None);
    let log = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    (out, log)
}

/// Runs `f` and returns the retry events it emitted, each as
/// `reason=... attempt=... max_attempts=... wait_ms=...` (the fields it has, in that order).
pub fn retry_events(f: impl FnOnce()) -> Vec<String> {
    init();
    RETRIES.with(|r| *r.borrow_mut() = Some(Vec::new()));
    f();
    RETRIES.with(|r| r.borrow_mut().take()).unwrap_or_default()
}
