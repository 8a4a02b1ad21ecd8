//! What a table's read is waiting on, shown on its progress line: the HTTP client's retry
//! events ([`lakeflow_http::RETRY_EVENT_TARGET`]), matched to the `table` span the pipeline runs
//! each table's connector reads in, become `retrying: connection refused, attempt 3 of 8, next
//! in 4 s` on that table's line.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lakeflow_http::RETRY_EVENT_TARGET;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The span the pipeline runs a table's reads in, and its field holding the destination name.
const TABLE_SPAN: &str = "table";
const TABLE_FIELD: &str = "table";

/// Shows `message` on the line of destination table `table`.
type Display = dyn Fn(&str, &str) + Send + Sync;

/// Where waiting messages go. A command that draws progress lines installs a display for as
/// long as it runs ([`show_with`](Self::show_with)); without one, messages are dropped.
#[derive(Clone, Default)]
pub struct Waiting {
    display: Arc<Mutex<Option<Arc<Display>>>>,
}

/// Stops showing messages when dropped.
pub struct Showing(Waiting);

impl Drop for Showing {
    fn drop(&mut self) {
        *self.0.slot() = None;
    }
}

impl Waiting {
    /// Sends each message to `display(table, message)` until the returned guard is dropped.
    pub fn show_with(&self, display: impl Fn(&str, &str) + Send + Sync + 'static) -> Showing {
        *self.slot() = Some(Arc::new(display));
        Showing(self.clone())
    }

    /// The `tracing` layer that turns retry events into messages. It sees only retry events
    /// and `table` spans (both at INFO), whatever the log filter says. Its level hint keeps
    /// the `log` bridge's maximum at INFO: without it the transport's per-read trace lines
    /// were each built and dispatched (a tenth of a load's CPU) only to be filtered out.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        WaitingLayer {
            waiting: self.clone(),
        }
        .with_filter(
            filter_fn(|meta| {
                meta.target() == RETRY_EVENT_TARGET || (meta.is_span() && meta.name() == TABLE_SPAN)
            })
            .with_max_level_hint(LevelFilter::INFO),
        )
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<Display>>> {
        self.display.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn show(&self, table: &str, message: &str) {
        // Called outside the lock, so a display that logs cannot deadlock on it.
        let display = self.slot().clone();
        if let Some(display) = display {
            display(table, message);
        }
    }
}

struct WaitingLayer {
    waiting: Waiting,
}

/// The destination table a span stands for.
struct TableName(String);

impl<S> Layer<S> for WaitingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut name = FieldText::new(TABLE_FIELD);
        attrs.record(&mut name);
        if let (Some(table), Some(span)) = (name.value, ctx.span(id)) {
            span.extensions_mut().replace(TableName(table));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut name = FieldText::new(TABLE_FIELD);
        values.record(&mut name);
        if let (Some(table), Some(span)) = (name.value, ctx.span(id)) {
            span.extensions_mut().replace(TableName(table));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != RETRY_EVENT_TARGET {
            return;
        }
        // The innermost `table` span the event happened in; none: not a table's read.
        let Some(table) = ctx.event_scope(event).and_then(|scope| {
            scope
                .into_iter()
                .find_map(|span| span.extensions().get::<TableName>().map(|t| t.0.clone()))
        }) else {
            return;
        };
        let mut retry = RetryFields::default();
        event.record(&mut retry);
        self.waiting.show(&table, &retry.message());
    }
}

/// One field's value as text.
struct FieldText {
    name: &'static str,
    value: Option<String>,
}

impl FieldText {
    fn new(name: &'static str) -> Self {
        Self { name, value: None }
    }
}

impl Visit for FieldText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.name {
            self.value = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `table = %name` arrives here; its Debug is the Display of the name.
        if field.name() == self.name {
            self.value = Some(format!("{value:?}"));
        }
    }
}

/// The fields of a retry event a message is made of.
#[derive(Debug, Default, PartialEq, Eq)]
struct RetryFields {
    reason: Option<String>,
    attempt: Option<u64>,
    max_attempts: Option<u64>,
    wait_ms: Option<u64>,
}

impl Visit for RetryFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "attempt" => self.attempt = Some(value),
            "max_attempts" => self.max_attempts = Some(value),
            "wait_ms" => self.wait_ms = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(value) = u64::try_from(value) {
            self.record_u64(field, value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "reason" {
            self.reason = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `reason = %text` arrives here; its Debug is the Display of the text.
        if field.name() == "reason" {
            self.reason = Some(format!("{value:?}"));
        }
    }
}

impl RetryFields {
    /// `retrying: connection refused, attempt 3 of 8, next in 4 s`; a wait that is not a retry
    /// (a rate-limit pause) reads `waiting: rate limit used up, next request in 40 min`.
    fn message(&self) -> String {
        let reason = self.reason.as_deref().unwrap_or("request failed");
        let wait = wait_text(Duration::from_millis(self.wait_ms.unwrap_or(0)));
        match (self.attempt, self.max_attempts) {
            (Some(attempt), Some(max)) => {
                format!("retrying: {reason}, attempt {attempt} of {max}, next in {wait}")
            }
            (Some(attempt), None) => {
                format!("retrying: {reason}, attempt {attempt}, next in {wait}")
            }
            _ => format!("waiting: {reason}, next request in {wait}"),
        }
    }
}

/// A wait, as precise as a person needs: `500 ms`, `4 s`, `42 min`, `2.5 h`.
fn wait_text(wait: Duration) -> String {
    let ms = wait.as_millis();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 100_000 {
        format!("{} s", (ms + 500) / 1_000)
    } else if ms < 100 * 60_000 {
        format!("{} min", (ms + 30_000) / 60_000)
    } else {
        format!("{:.1} h", wait.as_secs_f64() / 3_600.0)
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use lakeflow_http::{HttpClient, HttpConfig, RetryPolicy, VirtualClock};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    fn fields(reason: &str, attempt: Option<u64>, max: Option<u64>, wait_ms: u64) -> RetryFields {
        RetryFields {
            reason: Some(reason.to_owned()),
            attempt,
            max_attempts: max,
            wait_ms: Some(wait_ms),
        }
    }

    #[test]
    fn the_layer_asks_for_nothing_below_info() {
        let subscriber = tracing_subscriber::registry().with(Waiting::default().layer());
        assert_eq!(subscriber.max_level_hint(), Some(LevelFilter::INFO));
    }

    #[test]
    fn messages_say_what_is_awaited_and_for_how_long() {
        assert_eq!(
            fields("connection refused", Some(3), Some(8), 4_000).message(),
            "retrying: connection refused, attempt 3 of 8, next in 4 s"
        );
        assert_eq!(
            fields("HTTP 503", Some(2), Some(5), 500).message(),
            "retrying: HTTP 503, attempt 2 of 5, next in 500 ms"
        );
        assert_eq!(
            fields("rate limit used up", None, None, 2_520_000).message(),
            "waiting: rate limit used up, next request in 42 min"
        );
        assert_eq!(
            RetryFields::default().message(),
            "waiting: request failed, next request in 0 ms"
        );
        let waits = [1_499, 1_500, 99_499, 100_000, 5_999_999, 9_000_000];
        let shown: Vec<String> = waits
            .iter()
            .map(|ms| wait_text(Duration::from_millis(*ms)))
            .collect();
        assert_eq!(shown, ["1 s", "2 s", "99 s", "2 min", "100 min", "2.5 h"]);
    }

    /// Runs `f` under a subscriber with the waiting layer; returns what it showed.
    fn shown(f: impl FnOnce()) -> Vec<(String, String)> {
        let waiting = Waiting::default();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&messages);
        let _showing = waiting.show_with(move |table, message| {
            sink.lock()
                .unwrap()
                .push((table.to_owned(), message.to_owned()));
        });
        let subscriber = tracing_subscriber::registry().with(waiting.layer());
        tracing::subscriber::with_default(subscriber, f);
        messages.lock().unwrap().clone()
    }

    #[test]
    fn retry_events_show_on_the_line_of_the_table_they_happened_in() {
        let messages = shown(|| {
            let table = tracing::info_span!("table", table = %"shop.orders");
            let _in_table = table.enter();
            // A span of the connector's own inside the table's: the table is still found.
            let page = tracing::debug_span!("page", number = 2);
            let _in_page = page.enter();
            tracing::info!(
                target: RETRY_EVENT_TARGET,
                reason = %"connection refused",
                attempt = 3_u32,
                max_attempts = 8_u32,
                wait_ms = 4_000_u64,
                "retrying HTTP request"
            );
            // Another target is not a retry.
            tracing::info!(reason = "x", attempt = 1_u32, "something else");
        });
        assert_eq!(
            messages,
            [(
                "shop.orders".to_owned(),
                "retrying: connection refused, attempt 3 of 8, next in 4 s".to_owned()
            )]
        );
        // Outside any table span there is no line to show it on.
        let messages = shown(|| {
            tracing::info!(target: RETRY_EVENT_TARGET, reason = "HTTP 503", wait_ms = 5_u64, "x");
        });
        assert_eq!(messages, []);
    }

    #[test]
    fn a_refused_source_shows_each_retry_on_its_table_line() {
        // The real client against a closed port on 127.0.0.1, waiting on a virtual clock.
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let http = HttpClient::new(
            HttpConfig::default()
                .base_url(format!("http://{closed}"))
                .retry(RetryPolicy {
                    max_attempts: 8,
                    first_contact_attempts: 3,
                    jitter: false,
                    ..RetryPolicy::default()
                })
                .clock(VirtualClock::new()),
        )
        .unwrap();
        let messages = shown(|| {
            let _in_table = tracing::info_span!("table", table = %"github.issues").entered();
            http.get("/repos/o/r/issues").send().unwrap_err();
        });
        let expected = [
            "retrying: connection refused, attempt 2 of 3, next in 500 ms",
            "retrying: connection refused, attempt 3 of 3, next in 1 s",
        ];
        assert_eq!(
            messages,
            expected.map(|m| ("github.issues".to_owned(), m.to_owned()))
        );
    }
}
