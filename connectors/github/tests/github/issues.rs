//! Issues and comments: `since` reads oldest first, pull requests left out, ties, `start_date`,
//! lookback.

use lakeflow_connect::{LakeflowConnect, Offset, Record, TableOptions};
use lakeflow_github::GithubConnector;
use serde_json::{Value, json};

use crate::common::{connector, counts, read_all, rover, rover_ids, simulator, sorted};

#[test]
fn issues_leave_pull_requests_out_and_stay_in_their_repository() {
    let sim = simulator(None);
    let github = connector(&sim);
    let run = read_all(&github, "issues", None, &rover(&[]));
    let want = rover_ids("issues.json", "id", |r| !r.contains_key("pull_request"));
    let listed_prs = rover_ids("issues.json", "id", |r| r.contains_key("pull_request"));
    assert!(
        listed_prs.len() >= 5,
        "the corpus lists pull requests among issues"
    );
    assert_eq!(sorted(run.values("id")), want);
    for record in run.records() {
        assert!(!record.contains_key("pull_request"), "{record:?}");
        assert_eq!(
            (&record["repository_owner"], &record["repository_name"]),
            (&json!("acme-robotics"), &json!("rover"))
        );
    }
    // Oldest first, and the offset is the newest issue's `updated_at`.
    let updated = run.values("updated_at");
    assert!(updated.windows(2).all(|w| w[0].as_str() <= w[1].as_str()));
    let newest = updated.iter().filter_map(Value::as_str).max().unwrap();
    assert_eq!(run.end().unwrap()["cursor"], newest);
    // The simulator also lists two issues updated in the future: left to a later run.
    assert!(
        run.records()
            .all(|r| r["updated_at"].as_str() < Some("2025"))
    );
}

#[test]
fn a_batch_of_one_splits_tie_groups_without_losing_or_repeating() {
    let sim = simulator(None);
    let github = connector(&sim);
    let whole = read_all(&github, "issues", None, &rover(&[]));
    let one = read_all(
        &github,
        "issues",
        None,
        &rover(&[("max_records_per_batch", "1")]),
    );
    assert!(one.batches.iter().all(|b| b.len() <= 1));
    assert_eq!(
        one.values("id"),
        whole.values("id"),
        "same records, same order"
    );
    assert!(counts(one.values("id")).values().all(|n| *n == 1));
    // Somewhere a cut fell inside a group sharing `updated_at`: the offset named the delivered keys.
    let inside = one
        .offsets
        .iter()
        .flatten()
        .find(|o| {
            o.get("keys_at_cursor")
                .and_then(Value::as_array)
                .is_some_and(|k| k.len() > 1)
        })
        .expect("the corpus has ties on updated_at");
    let tied = inside["cursor"].as_str().unwrap();
    assert!(
        whole
            .values("updated_at")
            .iter()
            .filter(|u| u.as_str() == Some(tied))
            .count()
            >= 2,
        "{inside:?}"
    );
    // Resuming from that offset with a large batch delivers exactly the rest.
    let cut = one
        .offsets
        .iter()
        .position(|o| o.as_ref() == Some(inside))
        .unwrap();
    let before: Vec<Value> = one.batches[..cut]
        .iter()
        .flatten()
        .map(|r| r["id"].clone())
        .collect();
    let rest = read_all(&github, "issues", Some(inside.clone()), &rover(&[]));
    let mut union = before;
    union.extend(rest.values("id"));
    assert_eq!(sorted(union), sorted(whole.values("id")));
}

#[test]
fn start_date_bounds_the_first_read_and_lookback_never_moves_the_offset_back() {
    let sim = simulator(None);
    let github = connector(&sim);
    let from = read_all(
        &github,
        "issue_comments",
        None,
        &rover(&[("start_date", "2024-06-01")]),
    );
    let all = read_all(&github, "issue_comments", None, &rover(&[]));
    let later: Vec<Value> = all
        .records()
        .filter(|r| r["updated_at"].as_str() >= Some("2024-06-01T00:00:00Z"))
        .map(|r| r["id"].clone())
        .collect();
    assert!(!later.is_empty() && later.len() < all.records().count());
    assert_eq!(from.values("id"), later);

    // From the caught-up offset, a lookback of a week re-reads the last week's comments and
    // hands back the same offset.
    let end = all.end().cloned();
    let week = rover(&[("lookback_seconds", "604800")]);
    let (again, offset) = github
        .read_table("issue_comments", end.as_ref(), &week)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(
        offset, end,
        "lookback is applied to the query, never stored"
    );
    let cursor = end.as_ref().unwrap()["cursor"].as_str().unwrap().to_owned();
    let week_before =
        chrono::DateTime::parse_from_rfc3339(&cursor).unwrap() - chrono::TimeDelta::days(7);
    assert!(!again.is_empty());
    for record in &again {
        let at =
            chrono::DateTime::parse_from_rfc3339(record["updated_at"].as_str().unwrap()).unwrap();
        assert!(at >= week_before, "{record:?}");
    }
}

#[test]
fn comments_carry_their_repository_and_far_future_offsets_read_nothing() {
    let sim = simulator(None);
    let github = connector(&sim);
    for (table, file) in [
        ("issue_comments", "issue_comments.json"),
        ("review_comments", "review_comments.json"),
    ] {
        let run = read_all(&github, table, None, &rover(&[("per_page", "7")]));
        assert_eq!(
            sorted(run.values("id")),
            rover_ids(file, "id", |_| true),
            "{table}"
        );
        let far = serde_json::json!({"cursor": "2400-01-01T00:00:00Z"});
        let far = far.as_object().unwrap();
        let before = sim.request_log().len();
        let (records, end) = github
            .read_table(table, Some(far), &rover(&[]))
            .unwrap()
            .collect()
            .unwrap();
        assert!(records.is_empty());
        assert_eq!(end.as_ref(), Some(far));
        assert_eq!(
            sim.request_log().len(),
            before,
            "no request past the horizon"
        );
    }
}

/// Every record of the partitions of a stream between `start` and `end`, partition by partition.
fn read_stream(
    github: &GithubConnector,
    table: &str,
    start: Option<&Offset>,
    end: &Offset,
    options: &TableOptions,
) -> Vec<Vec<Record>> {
    let streams = github.partitioned_streams().expect("partitioned streams");
    streams
        .partitions_between(table, start, end, options)
        .unwrap()
        .iter()
        .map(|p| {
            streams
                .read_stream_partition(table, p, options)
                .unwrap()
                .collect::<lakeflow_connect::Result<Vec<_>>>()
                .unwrap()
        })
        .collect()
}

#[test]
fn partitioned_streams_deliver_what_plain_reads_deliver_and_continue_their_offsets() {
    let sim = simulator(None);
    let github = connector(&sim);
    let streams = github.partitioned_streams().unwrap();
    for table in ["issues", "issue_comments", "review_comments"] {
        let options = rover(&[("stream_partitions", "3")]);
        let plain = read_all(&github, table, None, &rover(&[]));
        let latest = streams.latest_offset(table, &options).unwrap();
        assert_eq!(
            Some(&latest),
            plain.end(),
            "{table}: the latest offset is where plain reads end (the newest record is on the first page)"
        );
        assert_eq!(
            streams.latest_offset(table, &options).unwrap(),
            latest,
            "{table}: stable"
        );
        let parts = read_stream(&github, table, None, &latest, &options);
        assert_eq!(parts.len(), 3, "{table}: three time ranges");
        let streamed: Vec<Value> = parts.iter().flatten().map(|r| r["id"].clone()).collect();
        assert_eq!(
            counts(streamed.clone()),
            counts(plain.values("id")),
            "{table}: each record once, as plain reads give it"
        );
        for record in parts.iter().flatten() {
            assert_eq!(record["repository_name"], "rover");
        }
        // Later ranges hold later records: the ranges split the history in time.
        let newest_of = |p: &Vec<Record>| {
            p.iter()
                .filter_map(|r| r["updated_at"].as_str())
                .max()
                .map(str::to_owned)
        };
        let oldest_of = |p: &Vec<Record>| {
            p.iter()
                .filter_map(|r| r["updated_at"].as_str())
                .min()
                .map(str::to_owned)
        };
        for pair in parts.windows(2) {
            if let (Some(newest), Some(oldest)) = (newest_of(&pair[0]), oldest_of(&pair[1])) {
                assert!(newest <= oldest, "{table}: {newest} after {oldest}");
            }
        }
        assert!(
            read_stream(&github, table, Some(&latest), &latest, &options).is_empty(),
            "{table}: equal offsets, no partitions"
        );
    }

    // A `start_date` with a fraction of a second inside the history, and many ranges: the last
    // range still reaches the latest offset, so the newest records are not left behind.
    let whole = read_all(&github, "issues", None, &rover(&[]));
    let mut updated: Vec<String> = whole
        .values("updated_at")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    updated.sort();
    let start_date = updated[updated.len() / 2].replace('Z', ".250Z");
    let from_date = rover(&[("start_date", &start_date)]);
    let plain = read_all(&github, "issues", None, &from_date);
    let options = rover(&[("start_date", &start_date), ("stream_partitions", "7")]);
    let latest = streams.latest_offset("issues", &options).unwrap();
    let streamed: Vec<Value> = read_stream(&github, "issues", None, &latest, &options)
        .into_iter()
        .flatten()
        .map(|r| r["id"].clone())
        .collect();
    assert!(!streamed.is_empty());
    assert_eq!(counts(streamed), counts(plain.values("id")));

    // From a plain read's offset cut inside a tie group, the stream delivers exactly the rest.
    let one = read_all(
        &github,
        "issues",
        None,
        &rover(&[("max_records_per_batch", "1")]),
    );
    let cut = one
        .offsets
        .iter()
        .position(|o| o.as_ref().is_some_and(|o| o.contains_key("keys_at_cursor")))
        .expect("a cut inside a tie group");
    let delivered: Vec<Value> = one.batches[..cut]
        .iter()
        .flatten()
        .map(|r| r["id"].clone())
        .collect();
    let rest: Vec<Value> = one.batches[cut..]
        .iter()
        .flatten()
        .map(|r| r["id"].clone())
        .collect();
    let start = one.offsets[cut].clone().unwrap();
    let options = rover(&[("stream_partitions", "2")]);
    let latest = streams.latest_offset("issues", &options).unwrap();
    let streamed: Vec<Value> = read_stream(&github, "issues", Some(&start), &latest, &options)
        .into_iter()
        .flatten()
        .map(|r| r["id"].clone())
        .collect();
    assert!(!delivered.is_empty() && !rest.is_empty());
    assert_eq!(counts(streamed), counts(rest));

    // Tables without a `since` listing say so; a bad partition names its field.
    let options = rover(&[]);
    assert!(matches!(
        streams.latest_offset("pull_requests", &options),
        Err(lakeflow_connect::Error::NotSupported { .. })
    ));
    let mut bad = lakeflow_connect::Partition::new();
    bad.insert("through".into(), json!("yesterday"));
    let err = streams
        .read_stream_partition("issues", &bad, &options)
        .err()
        .expect("a bad partition is an error")
        .to_string();
    assert!(err.contains("through") && err.contains("issues"), "{err}");
}
