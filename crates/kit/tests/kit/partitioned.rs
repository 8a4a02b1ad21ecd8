//! Time-range partitions (`GET /items?since=...`, and `direction=desc` for the latest offset):
//! the partitions between two offsets cover every record exactly once, from any offset of an
//! ascending sequence, and from `start_date`.

use chrono::{DateTime, Utc};
use lakeflow_connect::{Offset, Record};
use lakeflow_http::RequestBuilder;
use lakeflow_kit::ReadSettings;
use lakeflow_kit::partitioned::{latest_offset, partitions_between, read_partition};
use lakeflow_kit::time::format_ts;
use serde_json::json;

use crate::ascending::Reader;
use crate::common::{ALL, Items, ascending, at, ctx, offset, range, settings, simulator};

fn request(source: &Items) -> impl Fn(Option<DateTime<Utc>>, bool, u64) -> RequestBuilder + '_ {
    move |since, newest_first, per_page| {
        let mut request = source.client.get("/items").query("per_page", per_page);
        if newest_first {
            request = request.query("direction", "desc");
        }
        match since {
            Some(since) => request.query("since", format_ts(since)),
            None => request,
        }
    }
}

/// The latest offset, and the ids of every partition between `start` and it, partition by
/// partition.
pub fn stream(
    source: &Items,
    settings: ReadSettings,
    start: Option<&Offset>,
    count: usize,
) -> lakeflow_connect::Result<(Offset, Vec<Vec<u64>>)> {
    let ctx = ctx(source, settings);
    let asc = ascending(&ctx);
    let request = request(source);
    let latest = latest_offset(&asc, &request)?;
    let mut parts = Vec::new();
    for partition in partitions_between(&asc, &request, start, &latest, count)? {
        let records = read_partition(&asc, &request, &partition, |_: &mut Record| {})?;
        let ids = records
            .map(|r| r.map(|r| r["id"].as_u64().unwrap()))
            .collect::<lakeflow_connect::Result<Vec<_>>>()?;
        parts.push(ids);
    }
    Ok((latest, parts))
}

#[test]
fn the_partitions_between_two_offsets_cover_every_record_exactly_once() {
    let sim = simulator();
    let source = Items::new(&sim);
    for count in 1..=6 {
        let (latest, parts) = stream(&source, settings(100), None, count).unwrap();
        assert_eq!(latest, offset(json!({"cursor": "2024-01-02T00:00:00Z"})));
        assert!(!parts.is_empty() && parts.len() <= count, "{parts:?}");
        assert_eq!(parts.concat(), range(ALL), "{count} partitions: {parts:?}");
        // Caught up: nothing between the latest offset and itself.
        let (_, again) = stream(&source, settings(100), Some(&latest), count).unwrap();
        assert!(again.is_empty(), "{again:?}");
    }
}

#[test]
fn partitions_from_every_offset_of_an_ascending_sequence_give_the_rest_exactly_once() {
    let sim = simulator();
    let source = Items::new(&sim);
    for max_records in [1, 2, 3, 5] {
        let reader = Reader::new(&source, settings(max_records));
        let (all, offsets) = reader.run(None);
        let mut delivered = 0;
        for (i, start) in offsets.iter().enumerate() {
            delivered += reader.batch(offsets[..i].last()).0.len();
            for count in [1, 3] {
                let (_, parts) = stream(&source, settings(100), Some(start), count).unwrap();
                assert_eq!(
                    parts.concat(),
                    all[delivered..].to_vec(),
                    "{count} partitions from {start:?}"
                );
            }
        }
    }
    // Inside a tie: records 3 and 4 of the run 3-6 were delivered.
    let start = offset(json!({"cursor": "2024-01-01T00:00:02Z", "keys_at_cursor": [3, 4]}));
    let (_, parts) = stream(&source, settings(100), Some(&start), 4).unwrap();
    assert_eq!(parts.concat(), range(5..=14), "{parts:?}");
}

#[test]
fn start_date_bounds_a_stream_from_the_beginning() {
    let sim = simulator();
    let source = Items::new(&sim);
    let mut from_date = settings(100);
    from_date.start_date = Some(at("2024-01-01T00:00:04Z"));
    for count in [1, 2, 5] {
        let (_, parts) = stream(&source, from_date, None, count).unwrap();
        assert_eq!(
            parts.concat(),
            range(8..=14),
            "{count} partitions: {parts:?}"
        );
    }
}
