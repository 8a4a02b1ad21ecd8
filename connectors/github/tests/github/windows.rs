//! Commits and workflow runs, read in time windows.

use lakeflow_connect::LakeflowConnect;
use serde_json::{Value, json};

use crate::common::{connector, corpus, counts, read_all, rover, rover_ids, simulator, sorted};

#[test]
fn commits_are_read_window_by_window_each_once() {
    let sim = simulator(None);
    let github = connector(&sim);
    let month = rover(&[("window_seconds", "2592000")]);
    let run = read_all(&github, "commits", None, &month);
    assert_eq!(
        sorted(run.values("sha")),
        rover_ids("commits.json", "sha", |_| true)
    );
    assert!(counts(run.values("sha")).values().all(|n| *n == 1));
    // Without `start_date`, the first request finds the oldest commit through the last page.
    let log = sim.request_log();
    assert!(
        log[0].query_keys.contains(&"per_page".to_owned()),
        "{}",
        log[0]
    );
    assert!(log[1].query_keys.contains(&"page".to_owned()), "{}", log[1]);
    let windows: Vec<_> = log
        .iter()
        .filter(|r| r.query_keys.contains(&"since".to_owned()))
        .collect();
    assert!(windows.len() > 10, "about a dozen month-wide windows");
    assert!(
        windows
            .iter()
            .all(|r| r.query_keys.contains(&"until".to_owned()))
    );
    // Windows are a month wide and never end past the horizon.
    let end = run.end().unwrap();
    let since = chrono::DateTime::parse_from_rfc3339(end["since"].as_str().unwrap()).unwrap();
    assert!(since.with_timezone(&chrono::Utc) <= chrono::Utc::now());
}

#[test]
fn commits_in_small_batches_cut_inside_windows_without_loss() {
    let sim = simulator(None);
    let github = connector(&sim);
    // One wide window and batches of three: most cuts fall inside the window, some inside the
    // rebase whose three commits share one committer date.
    let options = rover(&[
        ("window_seconds", "31536000"),
        ("max_records_per_batch", "3"),
        ("per_page", "4"),
        ("start_date", "2024-01-01T00:00:00Z"),
        ("sha", "main"),
    ]);
    let run = read_all(&github, "commits", None, &options);
    assert_eq!(
        sorted(run.values("sha")),
        rover_ids("commits.json", "sha", |_| true)
    );
    assert!(counts(run.values("sha")).values().all(|n| *n == 1));
    assert!(run.batches.iter().all(|b| b.len() <= 3));
    let cuts: Vec<_> = run
        .offsets
        .iter()
        .flatten()
        .filter(|o| o.contains_key("after"))
        .collect();
    assert!(
        cuts.iter().any(|o| o["page"].as_u64() > Some(1)),
        "{cuts:?}"
    );
    assert!(
        sim.request_log()
            .iter()
            .all(|r| r.query_keys.contains(&"sha".to_owned()))
    );
    // Each read resumes at the page it stopped on: about two requests a read, not a walk from
    // the window's first page.
    let requests = sim.request_log().len();
    assert!(
        requests <= 2 * run.batches.len() + 2,
        "{requests} requests for {} reads",
        run.batches.len()
    );
    // The final read returned nothing: an append table would otherwise append it again.
    assert!(run.batches.last().unwrap().is_empty());

    // A record gone from its window (a force push) sends the read back to the window's start:
    // the window is read again rather than skipped.
    let cut = cuts[cuts.len() / 2].clone();
    let mut gone = cut.clone();
    gone.insert(
        "after".to_owned(),
        json!("0000000000000000000000000000000000000000"),
    );
    let (again, _) = github
        .read_table(
            "commits",
            Some(&gone),
            &rover(&[("window_seconds", "31536000"), ("per_page", "4")]),
        )
        .unwrap()
        .collect()
        .unwrap();
    let since = cut["since"].as_str().unwrap();
    let until = cut["until"].as_str().unwrap();
    let window: Vec<_> = corpus("commits.json")
        .into_iter()
        .filter(|c| {
            let date = c["commit"]["committer"]["date"].as_str().unwrap();
            date >= since && date <= until
        })
        .map(|c| c["sha"].clone())
        .collect();
    let reread: Vec<_> = again
        .iter()
        .map(|c| c["sha"].clone())
        .take(window.len())
        .collect();
    assert_eq!(sorted(reread), sorted(window));
}

#[test]
fn unfinished_workflow_runs_are_fetched_again_until_they_complete() {
    let sim = simulator(None);
    let options = rover(&[("window_seconds", "604800")]);
    let github = connector(&sim);
    let first = read_all(&github, "workflow_runs", None, &options);
    let runs = corpus("workflow_runs.json");
    assert_eq!(
        sorted(first.values("id")),
        rover_ids("workflow_runs.json", "id", |_| true)
    );
    let unfinished: Vec<&Value> = runs
        .iter()
        .filter(|r| r["status"] != "completed")
        .map(|r| &r["id"])
        .collect();
    assert_eq!(unfinished.len(), 3);
    let end = first.end().unwrap().clone();
    let pending = end["pending"]
        .as_object()
        .expect("unfinished runs are watched");
    assert_eq!(pending.len(), 3, "{end:?}");

    // Nothing changed. The last read of the run above already fetched the pending runs, so
    // this connector does not fetch them again; a new one fetches each once, delivers nothing,
    // and its next read costs nothing.
    let before = sim.request_log().len();
    let (records, same) = github
        .read_table("workflow_runs", Some(&end), &options)
        .unwrap()
        .collect()
        .unwrap();
    assert!(records.is_empty());
    assert_eq!(same.as_ref(), Some(&end));
    assert_eq!(
        sim.request_log().len(),
        before,
        "fetched once per connector"
    );
    let later = connector(&sim);
    let mut from = end.clone();
    for expected in [3, 0] {
        let before = sim.request_log().len();
        let (records, next) = later
            .read_table("workflow_runs", Some(&from), &options)
            .unwrap()
            .collect()
            .unwrap();
        assert!(records.is_empty());
        let next = next.unwrap();
        assert_eq!(next["pending"], end["pending"]);
        let fetches = sim.request_log()[before..]
            .iter()
            .filter(|r| run_fetch(&r.path).is_some())
            .count();
        assert_eq!(fetches, expected);
        from = next;
    }

    // One finishes (the simulator stamps `updated_at`); the next run delivers it and stops
    // watching it.
    let id = unfinished[0].as_u64().unwrap();
    let finished: Value = connector(&sim)
        .request(
            "PATCH",
            &format!("/repos/acme-robotics/rover/actions/runs/{id}"),
        )
        .json(&json!({"status": "completed", "conclusion": "success"}))
        .send_json()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let next = read_all(
        &connector(&sim),
        "workflow_runs",
        Some(end.clone()),
        &options,
    );
    assert_eq!(next.values("id"), [json!(id)]);
    assert_eq!(next.values("status"), [json!("completed")]);
    assert_eq!(next.values("updated_at"), [finished["updated_at"].clone()]);
    let watched = next.end().unwrap()["pending"].as_object().unwrap();
    assert_eq!(watched.len(), 2);
    assert!(!watched.contains_key(&id.to_string()));
}

/// Whether a logged request fetched one workflow run (`.../actions/runs/{id}`).
fn run_fetch(path: &str) -> Option<u64> {
    path.strip_prefix("/repos/acme-robotics/rover/actions/runs/")?
        .parse()
        .ok()
}

#[test]
fn pending_runs_are_fetched_again_once_the_windows_have_caught_up() {
    let sim = simulator(None);
    let github = connector(&sim);
    // Two runs created before the position, still watched: one unchanged since it was
    // delivered, one changed (GitHub's `updated_at` is later than the one delivered).
    let start = json!({
        "since": "2024-05-01T00:00:00Z",
        "pending": {"8104622459": "2024-04-30T18:46:14Z", "8105097486": "2024-04-30T18:30:00Z"}
    });
    let start = start.as_object().unwrap().clone();
    let options = rover(&[("window_seconds", "604800"), ("max_records_per_batch", "5")]);
    let run = read_all(&github, "workflow_runs", Some(start), &options);
    assert!(run.batches.len() > 5, "a backlog of several batches");
    let fresh: Vec<Value> = corpus("workflow_runs.json")
        .iter()
        .filter(|r| r["created_at"].as_str().unwrap() >= "2024-05-01")
        .map(|r| r["id"].clone())
        .collect();
    let mut expected = fresh;
    expected.push(json!(8_105_097_486_u64));
    assert_eq!(sorted(run.values("id")), sorted(expected));
    assert!(counts(run.values("id")).values().all(|n| *n == 1));

    // Each watched run was fetched once, after the last window was listed: not on every read
    // of the backlog, as it would be if the reads rechecked before reading their windows.
    let log = sim.request_log();
    let fetches: Vec<usize> = (0..log.len())
        .filter(|i| run_fetch(&log[*i].path).is_some())
        .collect();
    let fetched: Vec<u64> = fetches
        .iter()
        .filter_map(|i| run_fetch(&log[*i].path))
        .collect();
    // The two watched from the start, and the unfinished runs delivered by earlier reads.
    let unfinished = corpus("workflow_runs.json")
        .iter()
        .filter(|r| r["status"] != "completed")
        .map(|r| r["id"].as_u64().unwrap())
        .collect::<Vec<_>>();
    let mut expected = unfinished;
    expected.extend([8_104_622_459, 8_105_097_486]);
    assert_eq!(sorted_u64(fetched), sorted_u64(expected), "each once");
    let last_listing = log
        .iter()
        .rposition(|r| r.path.ends_with("/actions/runs"))
        .unwrap();
    assert!(fetches[0] > last_listing, "{fetches:?} vs {last_listing}");

    // The changed run completed and is no longer watched; the unchanged one still is.
    let end = run.end().unwrap();
    let pending = end["pending"].as_object().unwrap();
    assert!(pending.contains_key("8104622459"));
    assert!(!pending.contains_key("8105097486"));
}

fn sorted_u64(mut values: Vec<u64>) -> Vec<u64> {
    values.sort_unstable();
    values
}

/// The rover's runs created at or after `since` (RFC 3339, compared as text like GitHub's).
fn runs_since(since: &str) -> Vec<Value> {
    corpus("workflow_runs.json")
        .iter()
        .filter(|r| r["created_at"].as_str().unwrap() >= since)
        .map(|r| r["id"].clone())
        .collect()
}

#[test]
fn lookback_re_reads_recently_created_runs_without_moving_the_position_back() {
    let sim = simulator(None);
    let github = connector(&sim);
    let start = json!({"since": "2024-06-01T00:00:00Z"});
    let start = start.as_object().unwrap().clone();
    let week = ("window_seconds", "604800");
    let plain = read_all(
        &github,
        "workflow_runs",
        Some(start.clone()),
        &rover(&[week]),
    );
    assert_eq!(sorted(plain.values("id")), sorted(runs_since("2024-06-01")));
    // Three days of lookback also re-read the runs created from 29 May.
    let three_days = rover(&[week, ("lookback_seconds", "259200")]);
    let run = read_all(&github, "workflow_runs", Some(start.clone()), &three_days);
    let again = runs_since("2024-05-29");
    assert!(again.len() > runs_since("2024-06-01").len());
    assert_eq!(sorted(run.values("id")), sorted(again));
    assert!(counts(run.values("id")).values().all(|n| *n == 1));
    let end = run.end().unwrap();
    assert!(end["since"].as_str().unwrap() > "2024-06-01T00:00:00Z");
    // From a caught-up offset the same connector reads nothing, lookback or not.
    let (records, same) = github
        .read_table("workflow_runs", Some(end), &three_days)
        .unwrap()
        .collect()
        .unwrap();
    assert!(records.is_empty());
    assert_eq!(same.as_ref(), Some(end));

    // A re-read that would fill the batch by itself is dropped, so the reads still advance
    // (two runs in the lookback, batches of two): every new run once, and an end.
    let small = rover(&[
        week,
        ("lookback_seconds", "259200"),
        ("max_records_per_batch", "2"),
    ]);
    let run = read_all(&github, "workflow_runs", Some(start), &small);
    assert_eq!(sorted(run.values("id")), sorted(runs_since("2024-06-01")));
    assert!(counts(run.values("id")).values().all(|n| *n == 1));
}

#[test]
fn a_rerun_of_a_completed_run_is_seen_only_within_the_lookback() {
    let sim = simulator(None);
    let week = ("window_seconds", "604800");
    let first = read_all(&connector(&sim), "workflow_runs", None, &rover(&[week]));
    let end = first.end().unwrap().clone();
    // A run completed on 29 May is re-run: its creation time stays, `updated_at` moves on.
    let id = 8_115_592_391_u64;
    let _: Value = connector(&sim)
        .request(
            "PATCH",
            &format!("/repos/acme-robotics/rover/actions/runs/{id}"),
        )
        .json(&json!({"run_attempt": 2, "status": "completed", "conclusion": "failure"}))
        .send_json()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let missed = read_all(
        &connector(&sim),
        "workflow_runs",
        Some(end.clone()),
        &rover(&[week]),
    );
    assert!(
        missed.records().next().is_none(),
        "its window was read before"
    );
    let created = chrono::DateTime::parse_from_rfc3339("2024-05-29T00:00:00Z").unwrap();
    let lookback = (chrono::Utc::now() - created.with_timezone(&chrono::Utc)).num_seconds();
    let lookback = lookback.to_string();
    let seen = read_all(
        &connector(&sim),
        "workflow_runs",
        Some(end),
        &rover(&[week, ("lookback_seconds", &lookback)]),
    );
    let rerun: Vec<&lakeflow_connect::Record> =
        seen.records().filter(|r| r["id"] == json!(id)).collect();
    assert_eq!(rerun.len(), 1);
    assert_eq!(rerun[0]["run_attempt"], 2);
    assert_eq!(rerun[0]["conclusion"], "failure");
}
