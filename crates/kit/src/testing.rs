//! Unit-test helpers: a read context whose source is never asked for pages.

use chrono::{TimeDelta, Utc};
use lakeflow_http::{Pages, RequestBuilder};

use crate::source::{PageSource, ReadCtx, ReadSettings};

/// A source for tests that only need its name.
pub(crate) struct Named;

impl PageSource for Named {
    fn service(&self) -> &str {
        "the API"
    }

    fn pages(&self, _: RequestBuilder, _: &str) -> Pages {
        unreachable!("unit tests of the kit fetch no pages")
    }
}

/// A read context for `table` over [`Named`].
pub(crate) fn ctx(table: &str) -> ReadCtx<'_> {
    ReadCtx {
        table,
        source: &Named,
        settings: ReadSettings {
            start_date: None,
            lookback: TimeDelta::zero(),
            max_records: 100,
            per_page: 100,
            window: TimeDelta::days(1),
            stream_partitions: 4,
        },
        horizon: Utc::now(),
    }
}
