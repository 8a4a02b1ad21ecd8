//! Against a server that ignores the order or the filter asked for (the simulator with the
//! parameter's role `ignored`), reads fail loudly, naming the table, the request and the
//! parameter, instead of returning a subset of the table as a success.

use lakeflow_connect::{Error, Record};
use lakeflow_kit::ascending::read_since;
use lakeflow_kit::descending::{deliver, read_newest_first};
use lakeflow_kit::time::format_ts;
use serde_json::json;

use crate::common::{Items, ascending, ctx, descending, misbehaving, offset, settings};
use crate::partitioned::stream;

const DIRECTION: &str = "direction: { role: sort_direction }";
const IGNORED_DIRECTION: &str = "direction: { role: ignored }";

/// The message of a protocol error, checked to name the table, the request and the parameter.
fn broken_promise<T>(result: lakeflow_connect::Result<T>, request: &str, parameter: &str) {
    let message = match result {
        Err(Error::Protocol { message }) => message,
        Err(other) => panic!("not a protocol error: {other}"),
        Ok(_) => panic!("the read succeeded against a server that ignores `{parameter}`"),
    };
    for expected in [
        "table `items`: GET http://127.0.0.1:",
        request,
        &format!("does not apply `{parameter}` as the item API does"),
        "the read stops",
    ] {
        assert!(message.contains(expected), "{expected:?} not in {message}");
    }
}

#[test]
fn a_stream_from_a_server_that_ignores_newest_first_fails() {
    // The latest offset is the first entry listed newest first: an oldest-first answer would
    // end the stream at the oldest change.
    let sim = misbehaving("items", &[(DIRECTION, IGNORED_DIRECTION)]);
    let source = Items::new(&sim);
    broken_promise(
        stream(&source, settings(100), None, 2),
        "/items?per_page=2&direction=desc",
        "direction",
    );
}

#[test]
fn a_newest_first_read_from_a_server_listing_oldest_first_fails() {
    // The pass would end at the first entry at or before the cursor: record 1, at once.
    let sim = misbehaving(
        "newest",
        &[
            (DIRECTION, IGNORED_DIRECTION),
            ("direction: desc }", "direction: asc }"),
        ],
    );
    let source = Items::new(&sim);
    let ctx = ctx(&source, settings(100));
    let desc = descending(&ctx);
    let request = source
        .client
        .get("/items/newest")
        .query("direction", "desc")
        .query("per_page", 2);
    let decorate = |_: &mut Record| {};
    let start = offset(json!({"cursor": "2024-01-01T00:00:04Z"}));
    let result = read_newest_first(&desc, Some(&start), &request, &mut *deliver(&decorate));
    broken_promise(
        result,
        "/items/newest?direction=desc&per_page=2",
        "direction",
    );
}

#[test]
fn an_ascending_read_from_a_server_that_ignores_since_fails() {
    let sim = misbehaving(
        "items",
        &[(
            "since: { role: filter, field: updated_at, op: gte }",
            "since: { role: ignored }",
        )],
    );
    let source = Items::new(&sim);
    let ctx = ctx(&source, settings(100));
    let asc = ascending(&ctx);
    let request = |since: Option<chrono::DateTime<chrono::Utc>>| {
        let request = source.client.get("/items").query("per_page", 2);
        match since {
            Some(since) => request.query("since", format_ts(since)),
            None => request,
        }
    };
    let start = offset(json!({"cursor": "2024-01-01T00:00:04Z"}));
    broken_promise(
        read_since(&asc, Some(&start), &request),
        "/items?per_page=2&since=2024-01-01T00%3A00%3A04Z",
        "since",
    );
}
