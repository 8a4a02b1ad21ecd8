//! Instants as GitHub writes them (RFC 3339, whole seconds, the form GitHub prints and accepts in
//! `since`, `until` and `created`), and the read horizon: the kit's.

pub(crate) use lakeflow_kit::time::{SECOND, floor_second, format_ts, horizon, parse_ts};
