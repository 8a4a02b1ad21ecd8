//! Pull requests read newest first down to the cursor, and reviews per pull request.

use lakeflow_connect::{LakeflowConnect, Record};
use lakeflow_github::GithubConnector;
use serde_json::{Value, json};

use crate::common::{connector, corpus, counts, read_all, rover, rover_ids, simulator, sorted};

#[test]
fn pull_requests_stop_at_the_cursor_reading_newest_first() {
    let sim = simulator(None);
    let github = connector(&sim);
    let small = rover(&[("max_records_per_batch", "4"), ("per_page", "5")]);
    let run = read_all(&github, "pull_requests", None, &small);
    assert_eq!(
        sorted(run.values("id")),
        rover_ids("pulls.json", "id", |_| true)
    );
    assert!(
        counts(run.values("id")).values().all(|n| *n == 1),
        "nothing twice"
    );
    assert!(run.batches.iter().all(|b| b.len() <= 4));
    // Newest first within the pass.
    let updated = run.values("updated_at");
    assert!(updated.windows(2).all(|w| w[0].as_str() >= w[1].as_str()));
    let end = run.end().unwrap().clone();
    assert_eq!(
        end["cursor"], updated[0],
        "a finished pass stores its newest update"
    );
    assert_eq!(end.len(), 1, "{end:?}");

    // From the stored cursor, one page is enough to see that nothing is newer.
    let before = sim.request_log().len();
    let (records, again) = github
        .read_table("pull_requests", Some(&end), &small)
        .unwrap()
        .collect()
        .unwrap();
    assert!(records.is_empty());
    assert_eq!(again.as_ref(), Some(&end));
    assert_eq!(sim.request_log().len() - before, 1, "stopped at the cursor");

    // From an older cursor: exactly the pull requests updated after it.
    let cursor = updated[10].as_str().unwrap();
    let start = json!({"cursor": cursor});
    let later = read_all(&github, "pull_requests", start.as_object().cloned(), &small);
    let want: Vec<Value> = run
        .records()
        .filter(|r| r["updated_at"].as_str() > Some(cursor))
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(sorted(later.values("id")), sorted(want));
    assert_eq!(later.end(), Some(&end));
}

#[test]
fn reviews_of_every_pull_request_or_of_one_leave_pending_drafts_out() {
    let sim = simulator(None);
    let github = connector(&sim);
    let submitted = |r: &Record| r.get("submitted_at").is_some_and(|s| !s.is_null());
    let run = read_all(
        &github,
        "reviews",
        None,
        &rover(&[("max_records_per_batch", "2")]),
    );
    assert_eq!(
        sorted(run.values("id")),
        rover_ids("reviews.json", "id", submitted)
    );
    assert!(
        rover_ids("reviews.json", "id", |r| !submitted(r)).len() == 1,
        "a pending review"
    );
    assert!(counts(run.values("id")).values().all(|n| *n == 1));
    for review in run.records() {
        let number = review["pull_number"].as_u64().unwrap();
        assert!(
            review["pull_request_url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/pulls/{number}"))
        );
    }

    // One pull request's reviews with `pull_number`.
    let reviews = corpus("reviews.json");
    let number = reviews
        .iter()
        .map(|r| r["pull_number"].as_u64().unwrap())
        .max_by_key(|n| reviews.iter().filter(|r| r["pull_number"] == *n).count())
        .unwrap();
    let one = read_all(
        &github,
        "reviews",
        None,
        &rover(&[
            ("pull_number", &number.to_string()),
            ("max_records_per_batch", "1"),
        ]),
    );
    let want = rover_ids("reviews.json", "id", |r| {
        r["pull_number"] == number && submitted(r)
    });
    assert!(want.len() >= 2, "{want:?}");
    assert_eq!(sorted(one.values("id")), want);
    assert!(one.records().all(|r| r["pull_number"] == number));
}

#[test]
fn a_review_pass_resumes_inside_a_pull_request() {
    let sim = simulator(None);
    let github = connector(&sim);
    // Batches of one cut inside every pull request with several reviews.
    let run = read_all(
        &github,
        "reviews",
        None,
        &rover(&[("max_records_per_batch", "1")]),
    );
    let partial = run
        .offsets
        .iter()
        .flatten()
        .find(|o| o.contains_key("child"))
        .expect("a cut inside a pull request's reviews");
    assert!(partial["child"]["after"].is_u64(), "{partial:?}");
    let submitted = |r: &Record| r.get("submitted_at").is_some_and(|s| !s.is_null());
    assert_eq!(
        sorted(run.values("id")),
        rover_ids("reviews.json", "id", submitted)
    );
}

#[test]
fn a_long_first_pass_resumes_at_its_page_instead_of_walking_from_page_one() {
    let sim = simulator(None);
    let github = connector(&sim);
    let small = rover(&[("max_records_per_batch", "2"), ("per_page", "3")]);
    let run = read_all(&github, "pull_requests", None, &small);
    let all = rover_ids("pulls.json", "id", |_| true);
    assert_eq!(sorted(run.values("id")), all);
    assert!(counts(run.values("id")).values().all(|n| *n == 1));
    // Each batch opens at the page the last one stopped on (one request) and walks on from
    // there, so the pass costs about a request per page plus one per batch. Walking from page
    // 1 on every batch would cost about pages × batches / 2 (here over 70).
    let pages = all.len().div_ceil(3);
    let requests = sim.request_log().len();
    let batches = run.batches.len();
    assert!(batches > 10, "{batches}");
    assert!(
        requests <= pages + batches + 1,
        "{requests} requests for {pages} pages and {batches} batches"
    );
    let hinted: Vec<u64> = run
        .offsets
        .iter()
        .flatten()
        .filter_map(|o| o.get("page").and_then(Value::as_u64))
        .collect();
    assert!(hinted.iter().any(|p| *p > 3), "{hinted:?}");

    // A hint that points too far (its page's first entry is not delivered yet: here the page
    // after the right one) is not trusted: the read steps back, and nothing is skipped.
    let (index, cut) = run
        .offsets
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.as_ref().map(|o| (i, o)))
        .find(|(_, o)| o.get("page").and_then(Value::as_u64) == Some(4))
        .unwrap();
    let mut wrong = cut.clone();
    wrong.insert("page".to_owned(), json!(6));
    let rest = read_all(&github, "pull_requests", Some(wrong), &small);
    let mut seen: Vec<Value> = run.batches[..index]
        .iter()
        .flatten()
        .map(|r| r["id"].clone())
        .collect();
    seen.extend(rest.values("id"));
    assert_eq!(sorted(seen.clone()), all);
    assert!(counts(seen).values().all(|n| *n == 1));
    // The same offset under another page size lands on the same entries.
    let wider = rover(&[("max_records_per_batch", "2"), ("per_page", "5")]);
    let rest = read_all(&github, "pull_requests", Some(cut.clone()), &wider);
    let mut seen: Vec<Value> = run.batches[..index]
        .iter()
        .flatten()
        .map(|r| r["id"].clone())
        .collect();
    seen.extend(rest.values("id"));
    assert_eq!(sorted(seen), all);
}

#[test]
fn deleted_forks_and_deleted_accounts_come_through_as_nulls() {
    let sim = simulator(None);
    let github = connector(&sim);
    let (forkless, pulls) = picked(
        &github,
        ("pull_requests", "pulls.json"),
        |p| p["head"]["repo"].is_null(),
        "a pull request from a deleted fork",
    );
    for pull in &pulls {
        assert!(pull["head"]["repo"].is_null());
        assert!(
            pull["head"]["ref"].is_string(),
            "the rest of the head is kept"
        );
    }
    assert_eq!(pulls.len(), forkless.len());
    let (ghosts, reviews) = picked(
        &github,
        ("reviews", "reviews.json"),
        |r| r["user"].is_null(),
        "a review by a deleted account",
    );
    assert_eq!(reviews.len(), ghosts.len());
    assert!(reviews.iter().all(|r| r["user"].is_null()));
}

/// The ids of the records of corpus file `file` that `pick` takes (the corpus has at least one:
/// `what`), and the records with those ids of `table` read whole from the rover repository.
fn picked(
    github: &GithubConnector,
    (table, file): (&str, &str),
    pick: fn(&Record) -> bool,
    what: &str,
) -> (Vec<Value>, Vec<Record>) {
    let ids: Vec<Value> = corpus(file)
        .iter()
        .filter(|r| pick(r))
        .map(|r| r["id"].clone())
        .collect();
    assert!(!ids.is_empty(), "the corpus has {what}");
    let run = read_all(github, table, None, &rover(&[]));
    let read = run.records().filter(|r| ids.contains(&r["id"])).cloned();
    let read = read.collect();
    (ids, read)
}
