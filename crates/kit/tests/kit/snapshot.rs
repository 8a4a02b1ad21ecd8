//! Snapshot listings (`GET /items`): every page, nothing twice, fetched as the caller consumes.

use lakeflow_connect::Record;
use lakeflow_kit::Snapshot;

use crate::common::{ALL, Items, ctx, ids, range, requests, settings, simulator};

fn snapshot(source: &Items) -> Snapshot {
    let ctx = ctx(source, settings(100));
    let request = source.client.get("/items").query("per_page", 2);
    Snapshot::new(&ctx, ctx.pages(request, ""), |record: &mut Record| {
        record.insert("listed".to_owned(), true.into());
    })
}

#[test]
fn a_snapshot_reads_every_page_and_nothing_twice() {
    let sim = simulator();
    let source = Items::new(&sim);
    let before = requests(&sim);
    let records = snapshot(&source)
        .collect::<lakeflow_connect::Result<Vec<_>>>()
        .unwrap();
    assert_eq!(ids(&records), range(ALL));
    assert!(records.iter().all(|r| r["listed"] == true), "decorated");
    assert_eq!(requests(&sim) - before, 7, "7 pages of 2");
}

#[test]
fn a_snapshot_fetches_pages_only_as_they_are_consumed() {
    let sim = simulator();
    let source = Items::new(&sim);
    let before = requests(&sim);
    let records = snapshot(&source)
        .take(3)
        .collect::<lakeflow_connect::Result<Vec<_>>>()
        .unwrap();
    assert_eq!(ids(&records), vec![1, 2, 3]);
    assert_eq!(requests(&sim) - before, 2, "{:#?}", sim.request_log());
}
