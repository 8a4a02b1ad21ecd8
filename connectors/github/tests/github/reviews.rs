//! One pull request's reviews (`pull_number`): GitHub lists them by id (creation order), and a
//! review started early and submitted late is out of `submitted_at` order. The read sorts the
//! listing itself, so every submitted review comes once, in (`submitted_at`, `id`) order, however
//! the batches cut it.

use lakeflow_connect::Record;
use lakeflow_github::GithubConnector;
use lakeflow_simulator::RunningSimulator;
use serde_json::{Value, json};

use crate::common::{connection, corpus, counts, read_all, rover, serve_with};

/// A pull request of the corpus's own numbering that has no reviews there.
const PULL: u64 = 900;

/// Reviews of pull request [`PULL`] as (id, submitted_at), in the order GitHub lists them (by id).
/// 1003 is pending; 1001 and 1006 were started early and submitted late; 1002 and 1005, 1001 and
/// 1006 share a second.
const LISTED: &[(u64, Option<&str>)] = &[
    (1001, Some("2024-05-03T00:00:00Z")),
    (1002, Some("2024-05-01T00:00:00Z")),
    (1003, None),
    (1004, Some("2024-05-02T00:00:00Z")),
    (1005, Some("2024-05-01T00:00:00Z")),
    (1006, Some("2024-05-03T00:00:00Z")),
    (1007, Some("2024-05-04T00:00:00Z")),
];

/// The submitted reviews by (submitted_at, id).
fn in_order() -> Vec<Value> {
    let mut submitted: Vec<(&str, u64)> = LISTED
        .iter()
        .filter_map(|(id, at)| at.map(|at| (at, *id)))
        .collect();
    submitted.sort_unstable();
    submitted.into_iter().map(|(_, id)| json!(id)).collect()
}

/// The embedded spec with [`LISTED`] added to the reviews corpus.
fn simulator() -> RunningSimulator {
    let mut reviews = corpus("reviews.json");
    let template = reviews[0].clone();
    for (id, at) in LISTED {
        let mut review: Record = template.clone();
        review.insert("id".to_owned(), json!(id));
        review.insert("pull_number".to_owned(), json!(PULL));
        review.insert("submitted_at".to_owned(), json!(at));
        review.insert(
            "pull_request_url".to_owned(),
            json!(format!(
                "https://api.github.com/repos/acme-robotics/rover/pulls/{PULL}"
            )),
        );
        if at.is_none() {
            review.insert("state".to_owned(), json!("PENDING"));
        }
        reviews.push(review);
    }
    let reviews = serde_json::to_string(&reviews).unwrap();
    serve_with(&[("reviews.json", &reviews)])
}

#[test]
fn one_pull_requests_reviews_listed_by_id_come_once_each_by_submission_however_cut() {
    let sim = simulator();
    let github = GithubConnector::new(&connection(&sim.base_url(), &[])).unwrap();
    let pull = PULL.to_string();
    let want = in_order();

    // The server lists them by id, out of `submitted_at` order.
    let listed: Vec<Value> = github
        .request(
            "GET",
            &format!("/repos/acme-robotics/rover/pulls/{PULL}/reviews"),
        )
        .send_json()
        .unwrap();
    let ids: Vec<u64> = listed.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, LISTED.iter().map(|(id, _)| *id).collect::<Vec<_>>());

    let whole = rover(&[("pull_number", &pull)]);
    let one = read_all(&github, "reviews", None, &whole);
    assert_eq!(one.values("id"), want, "one read");
    assert!(one.records().all(|r| r["pull_number"] == json!(PULL)));
    let end = one.end().cloned().unwrap();
    assert_eq!(
        end,
        json!({"cursor": "2024-05-04T00:00:00Z"})
            .as_object()
            .cloned()
            .unwrap()
    );

    for batch in ["1", "2"] {
        // Pages of two, so the listing takes several requests.
        let options = rover(&[
            ("pull_number", &pull),
            ("max_records_per_batch", batch),
            ("per_page", "2"),
        ]);
        let run = read_all(&github, "reviews", None, &options);
        assert_eq!(run.values("id"), want, "batches of {batch}");
        assert!(counts(run.values("id")).values().all(|n| *n == 1));
        let size: usize = batch.parse().unwrap();
        assert!(
            run.batches.iter().all(|b| b.len() <= size),
            "batches of {batch}"
        );
        assert_eq!(run.end(), Some(&end), "batches of {batch}");
        assert!(
            run.offsets
                .iter()
                .flatten()
                .any(|o| o.contains_key("keys_at_cursor")),
            "batches of {batch} cut inside a second shared by two reviews"
        );
        // From each offset a batch returned, a read delivers exactly what was still due.
        let mut delivered = 0;
        for (batch_records, offset) in run.batches.iter().zip(&run.offsets[1..]) {
            delivered += batch_records.len();
            let rest = read_all(&github, "reviews", offset.clone(), &whole);
            assert_eq!(
                rest.values("id"),
                want[delivered..].to_vec(),
                "resuming from {offset:?}"
            );
        }
    }

    // Lookback re-delivers from a day before the position, not the whole pull request.
    let third_day = json!({"cursor": "2024-05-03T00:00:00Z"});
    let again = read_all(
        &github,
        "reviews",
        third_day.as_object().cloned(),
        &rover(&[("pull_number", &pull), ("lookback_seconds", "86400")]),
    );
    let ids: Vec<Value> = again.batches[0].iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids, want[2..].to_vec());
}
