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

    // Nothing changed: a read fetches the pending runs and delivers nothing.
    let before = sim.request_log().len();
    let (records, same) = github
        .read_table("workflow_runs", Some(&end), &options)
        .unwrap()
        .collect()
        .unwrap();
    assert!(records.is_empty());
    assert_eq!(same.as_ref(), Some(&end));
    assert_eq!(
        sim.request_log().len() - before,
        3,
        "one request per unfinished run"
    );

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
