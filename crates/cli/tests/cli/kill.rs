//! Exactly once under SIGKILL: a run killed at many points (before the first commit, between
//! the offset log and the commit, mid-flow, during deletes) and started again lands the same
//! rows as one clean run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SPEC: &str = "\
connection_name: ex
objects:
  - table:
      source_table: events
      table_configuration: {max_records_per_batch: 2, limit: 5}
  - table:
      source_table: users
      table_configuration: {max_records_per_batch: 2}
  - table:
      source_table: orders
      table_configuration: {max_records_per_batch: 2}
  - table:
      source_table: orders
      destination_table: orders_changes
      table_configuration: {max_records_per_batch: 3, scd_type: APPEND_ONLY}
";

/// Each table with the key its rows are sorted by.
const TABLES: [(&str, &str); 4] = [
    ("events", "event_id"),
    ("users", "user_id"),
    ("orders", "order_id"),
    ("orders_changes", "order_id, updated_at"),
];

/// Kill delays in ms, used in turn until a run is fast enough to finish by itself: short ones
/// land before the run's first commit, the others at varied points of the flows (each
/// restart resumes further along, so the kills spread over the whole history, deletes
/// included).
const DELAYS_MS: [u64; 12] = [5, 20, 60, 120, 200, 300, 420, 560, 700, 40, 250, 480];

/// A bound on restarts in one round, should the machine be too slow for any run to make
/// progress.
const MAX_KILLS: usize = 60;

/// Killed runs the test needs, over as many rounds as that takes (at most `MAX_ROUNDS`).
const MIN_KILLS: usize = 10;
const MAX_ROUNDS: usize = 8;

fn run_command(dir: &Path, warehouse: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lakeflow"));
    command
        .arg("run")
        .arg(dir.join("spec.yaml"))
        .arg("--warehouse")
        .arg(warehouse)
        .args(["--commit-rows", "1"])
        .env_remove("LAKEFLOW_WAREHOUSE")
        .env_remove("LAKEFLOW_CONFIG");
    command
}

fn run_to_completion(dir: &Path, warehouse: &Path) {
    let out = run_command(dir, warehouse).output().unwrap();
    assert!(
        out.status.success(),
        "lakeflow run failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn query(warehouse: &Path, sql: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lakeflow"))
        .args(["query", sql, "--warehouse"])
        .arg(warehouse)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lakeflow query {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn files_in(dir: &Path, suffix: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
            .count()
    })
}

/// Where the kills landed: commits in each table's Delta log so far, then the offsets logged
/// by the orders' deletes flow.
fn progress(warehouse: &Path) -> Vec<usize> {
    let mut seen: Vec<usize> = TABLES
        .iter()
        .map(|(table, _)| files_in(&warehouse.join(table).join("_delta_log"), ".json"))
        .collect();
    seen.push(files_in(
        &warehouse.join("orders/_lakeflow/deletes/offsets"),
        ".json",
    ));
    seen
}

#[test]
fn runs_killed_at_many_points_land_the_same_rows_as_a_clean_run() {
    let started = Instant::now();
    let dir = super::example_spec_dir(SPEC);
    let clean = dir.path().join("clean");
    run_to_completion(dir.path(), &clean);

    // Rounds of kill-and-restart, each into a fresh warehouse, until enough runs were
    // killed: a fast machine finishes a round with fewer kills, and simply plays more rounds.
    let mut kills = 0;
    let mut seen = Vec::new();
    let mut delays = DELAYS_MS.iter().cycle();
    for round in 0..MAX_ROUNDS {
        if kills >= MIN_KILLS {
            break;
        }
        let killed = dir.path().join(format!("killed-{round}"));
        for delay in delays.by_ref().take(MAX_KILLS) {
            let mut child = run_command(dir.path(), &killed)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(*delay));
            let finished = child.try_wait().unwrap().is_some();
            if !finished {
                // SIGKILL on Unix: no destructor, no flush, no cleanup.
                child.kill().unwrap();
                kills += 1;
            }
            child.wait().unwrap();
            let now = progress(&killed);
            if !seen.contains(&now) {
                seen.push(now);
            }
            if finished {
                break;
            }
        }
        // One more run: finishes what is left, or (if a run finished) finds nothing new.
        run_to_completion(dir.path(), &killed);
        for (table, key) in TABLES {
            let sql = format!("SELECT * FROM {table} ORDER BY {key}");
            let (a, b) = (query(&clean, &sql), query(&killed, &sql));
            assert!(a.lines().count() > 10, "{table} has rows: {a}");
            assert_eq!(
                a, b,
                "{table} differs after kills and restarts (round {round})"
            );
        }
    }
    assert!(kills >= MIN_KILLS, "only {kills} runs were killed");
    // The kills landed at different points of the tables' histories.
    assert!(seen.len() >= 6, "kills landed at too few points: {seen:?}");
    let killed = dir.path().join("killed-0");
    let counts = "SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM events";
    let expected = query(&clean, "SELECT 100 AS n, 100 AS d");
    assert_eq!(query(&killed, counts), expected);
    assert_eq!(query(&clean, counts), expected);
    eprintln!(
        "{kills} kills; progress seen after them (Delta commits of events, users, orders, \
         orders_changes; orders deletes offsets logged): {seen:?}; {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// `--full-refresh` killed at many points, alone and racing a second refresh or a plain run:
/// after every kill each table still loads (the old rows or the reload's), and a refresh run
/// to the end always succeeds and lands what a clean run lands.
#[test]
fn full_refreshes_killed_at_many_points_leave_a_table_that_loads_and_reloads() {
    let dir = super::example_spec_dir(SPEC);
    let clean = dir.path().join("clean");
    run_to_completion(dir.path(), &clean);
    let warehouse = dir.path().join("refreshed");
    run_to_completion(dir.path(), &warehouse);
    let loads = "SELECT (SELECT COUNT(*) FROM events) AS e, (SELECT COUNT(*) FROM users) AS u, \
                 (SELECT COUNT(*) FROM orders) AS o, (SELECT COUNT(*) FROM orders_changes) AS c";

    let refresh = |warehouse: &Path| {
        let mut command = run_command(dir.path(), warehouse);
        command
            .arg("--full-refresh")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let plain = |warehouse: &Path| {
        let mut command = run_command(dir.path(), warehouse);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        command
    };
    let mut kills = 0;
    // Alone, then racing another refresh, then racing a plain run; each at every delay.
    for (round, racing) in [None, Some(true), Some(false)].into_iter().enumerate() {
        // Every delay alone; every other one in the races (their runs take twice as long).
        let step = if racing.is_some() { 2 } else { 1 };
        for delay in DELAYS_MS.into_iter().skip(round % 2).step_by(step) {
            let mut first = refresh(&warehouse).spawn().unwrap();
            let mut second = racing.map(|refreshing| {
                if refreshing {
                    refresh(&warehouse).spawn().unwrap()
                } else {
                    plain(&warehouse).spawn().unwrap()
                }
            });
            std::thread::sleep(Duration::from_millis(delay));
            if first.try_wait().unwrap().is_none() {
                first.kill().unwrap();
                kills += 1;
            }
            first.wait().unwrap();
            // The racer runs to its end (success or a clean refusal), as a real one would.
            if let Some(second) = second.as_mut() {
                second.wait().unwrap();
            }
            let counts = query(&warehouse, loads);
            assert!(
                counts.lines().count() >= 4,
                "round {round}, {delay} ms: every table loads: {counts}"
            );
        }
    }
    assert!(kills >= MIN_KILLS, "only {kills} refreshes were killed");
    let out = refresh(&warehouse).status().unwrap();
    assert!(out.success(), "a refresh after the kills succeeds");
    for (table, key) in TABLES {
        let sql = format!("SELECT * FROM {table} ORDER BY {key}");
        assert_eq!(
            query(&clean, &sql),
            query(&warehouse, &sql),
            "{table} after killed refreshes and a last one"
        );
    }
    // And the reloaded tables continue incrementally: nothing new.
    run_to_completion(dir.path(), &warehouse);
    assert_eq!(
        query(&clean, "SELECT COUNT(*) FROM orders_changes"),
        query(&warehouse, "SELECT COUNT(*) FROM orders_changes")
    );
}
