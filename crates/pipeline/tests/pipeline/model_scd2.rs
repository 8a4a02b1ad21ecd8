//! Model-based tests of SCD type 2 (`scd_type: SCD_TYPE_2`): random sequences of upserts and
//! deletes (colliding keys, tied and out-of-order sequence values, "no-change" upserts that
//! repeat the key's current tracked values), landed over one to three runs with small reads and
//! commits, must leave the table's versions equal to a plain in-memory model of
//! docs/ingestion-semantics.md ("SCD type 2") and `delta/timeline.rs`.
//!
//! The model rebuilds every key's whole timeline from *all* events ever delivered, in delivery
//! order (the engine's order of work: per run, all upserts, then all deletes):
//!
//! - one point per sequence value: an upsert (the later-delivered one wins a tie) or a delete
//!   (a delete wins a tie with an upsert, as tombstones do: "an upsert is applied only if it is
//!   newer than the key's tombstone");
//! - walking the points in sequence order, an upsert whose tracked values (`value`, `meta`: all
//!   columns but the key `id` and the sequence `seq`) equal the state just before it makes no
//!   version, and a delete of an absent key does nothing;
//! - every remaining upsert starts a version `[__START_AT, __END_AT)` that ends at the next
//!   remaining point (null when there is none).
//!
//! The engine rebuilds a key's history from what it stored (versions, every delete as a
//! tombstone, and the no-change upserts it kept aside) plus the commit's new events, not from
//! every event ever delivered; the tests check that this loses nothing. Two generators:
//! [`Generator::Unconstrained`] (anything: late no-change upserts, several deletes of a key,
//! upserts tied with deletes) and [`Generator::Exact`], which keeps no-change upserts in order
//! and so reaches long in-order histories more often.
//! [`the_exact_generator_covers_every_situation`] checks that it still produces no-change,
//! late, tied and re-creating upserts, upserts older than a delete, and several runs. The
//! named cases below each reproduce a situation an earlier engine got wrong.

use std::collections::{BTreeMap, BTreeSet};

use lakeflow_connect::IngestionType;
use lakeflow_pipeline::{RunOptions, Warehouse};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use super::common::runtime;
use super::scripted::{Script, land_runs, query_rows, record, strip_nulls};

/// One event of the connector's feeds. An upsert's tracked values are those of value number
/// `v` (see [`tracked`]): distinct `v`, distinct values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Upsert { id: i64, seq: i64, v: usize },
    Delete { id: i64, seq: i64 },
}

impl Event {
    fn id(self) -> i64 {
        match self {
            Self::Upsert { id, .. } | Self::Delete { id, .. } => id,
        }
    }

    fn seq(self) -> i64 {
        match self {
            Self::Upsert { seq, .. } | Self::Delete { seq, .. } => seq,
        }
    }
}

/// The tracked columns (`value`, `meta`) of value number `v`: `v % 4` picks null value / null
/// struct / null struct field / all set, and `v` itself makes them distinct.
fn tracked(v: usize) -> (Value, Value) {
    let value = if v.is_multiple_of(4) {
        Value::Null
    } else {
        json!(format!("v{v}"))
    };
    let meta = match v % 4 {
        1 => Value::Null,
        2 => json!({ "tag": null, "n": v }),
        _ => json!({ "tag": format!("t{v}"), "n": v }),
    };
    (value, meta)
}

/// A scenario: the feeds, where runs stop, and the read and commit sizes.
#[derive(Debug, Clone)]
struct Case {
    /// Both feeds in one list: upserts go to the records feed, deletes to the deletes feed,
    /// each in this order.
    events: Vec<Event>,
    /// Run `i` sees `events[..runs[i]]`; the last run sees everything.
    runs: Vec<usize>,
    max_records_per_batch: usize,
    commit_rows: usize,
}

impl Case {
    /// Indices of `events` in the order the engine applies them: per run, the run's new upserts,
    /// then its new deletes.
    fn delivery(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.events.len());
        let mut from = 0;
        for &to in &self.runs {
            let new = from..to.max(from);
            order.extend(
                new.clone()
                    .filter(|&i| matches!(self.events[i], Event::Upsert { .. })),
            );
            order.extend(new.filter(|&i| matches!(self.events[i], Event::Delete { .. })));
            from = from.max(to);
        }
        order
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generator {
    /// In-order no-change upserts, at most one delete per key, no upsert tied with its key's
    /// delete: long regular histories.
    Exact,
    /// Anything: several deletes per key, upserts tied with deletes, repeats out of order.
    Unconstrained,
}

/// Raw draws: (kind, id, seq, repeat). Kind 0 (one in five) is a delete; repeat 0 (one in
/// two) asks an upsert to repeat its key's current values.
type Raw = (u8, i64, i64, u8);

fn case_strategy(generator: Generator, max_events: usize) -> impl Strategy<Value = Case> {
    // Four keys and eight sequence values for up to ~20 events: keys collide, sequence values
    // tie and arrive out of order.
    let raw = (0..5u8, 0..4i64, 0..8i64, 0..2u8);
    (
        prop::collection::vec(raw, 0..=max_events),
        prop::collection::vec(any::<Index>(), 0..=2),
        1..=5usize,
        1..12usize,
    )
        .prop_map(move |(raw, cuts, max_records_per_batch, commit_rows)| {
            build(generator, &raw, &cuts, max_records_per_batch, commit_rows)
        })
}

fn build(
    generator: Generator,
    raw: &[Raw],
    cuts: &[Index],
    max_records_per_batch: usize,
    commit_rows: usize,
) -> Case {
    let exact = generator == Generator::Exact;
    // Exact: each key's first delete is its only one, and no upsert of the key carries its
    // sequence value (a tied upsert moves one up).
    let mut delete_at: BTreeMap<i64, i64> = BTreeMap::new();
    for &(kind, id, seq, _) in raw {
        if kind == 0 {
            delete_at.entry(id).or_insert(seq);
        }
    }
    let mut deleted: BTreeSet<i64> = BTreeSet::new();
    let mut events = Vec::new();
    let mut wants_repeat = Vec::new();
    for (n, &(kind, id, seq, repeat)) in raw.iter().enumerate() {
        if kind == 0 {
            if exact && !deleted.insert(id) {
                continue;
            }
            events.push(Event::Delete { id, seq });
            wants_repeat.push(false);
        } else {
            let seq = if exact && delete_at.get(&id) == Some(&seq) {
                seq + 1
            } else {
                seq
            };
            events.push(Event::Upsert { id, seq, v: n });
            wants_repeat.push(repeat == 0);
        }
    }
    let mut runs: Vec<usize> = cuts.iter().map(|i| i.index(events.len() + 1)).collect();
    runs.push(events.len());
    runs.sort_unstable();
    let mut case = Case {
        events,
        runs,
        max_records_per_batch,
        commit_rows,
    };

    // Repeats, decided in delivery order (a repeat may repeat a repeat).
    let order = case.delivery();
    for (p, &i) in order.iter().enumerate() {
        let Event::Upsert { id, seq, .. } = case.events[i] else {
            continue;
        };
        if !wants_repeat[i] {
            continue;
        }
        let earlier: Vec<Event> = order[..p]
            .iter()
            .map(|&j| case.events[j])
            .filter(|e| e.id() == id)
            .collect();
        let repeated = if exact {
            let in_order = earlier.iter().all(|e| e.seq() <= seq)
                && order[p + 1..]
                    .iter()
                    .map(|&j| case.events[j])
                    .all(|e| e.id() != id || e.seq() >= seq);
            if in_order {
                current_values(&earlier)
            } else {
                None
            }
        } else {
            // The key's last-delivered values, whatever their sequence value.
            earlier.iter().rev().find_map(|e| match *e {
                Event::Upsert { v, .. } => Some(v),
                Event::Delete { .. } => None,
            })
        };
        if let (Some(v), Event::Upsert { v: own, .. }) = (repeated, &mut case.events[i]) {
            *own = v;
        }
    }
    case
}

/// The values of the key's newest point among `events` (in delivery order): none when that is
/// a delete (it wins ties) or there is none.
fn current_values(events: &[Event]) -> Option<usize> {
    let newest = events.iter().map(|e| e.seq()).max()?;
    let at_newest = || events.iter().filter(|e| e.seq() == newest);
    if at_newest().any(|e| matches!(e, Event::Delete { .. })) {
        return None;
    }
    at_newest().next_back().and_then(|e| match *e {
        Event::Upsert { v, .. } => Some(v),
        Event::Delete { .. } => None,
    })
}

/// The scripted `items` table as the connector serves it after `events`.
fn script(ingestion_type: IngestionType, events: &[Event]) -> Script {
    let mut script = Script::new(ingestion_type);
    for event in events {
        match *event {
            Event::Upsert { id, seq, v } => {
                let (value, meta) = tracked(v);
                script.upserts.push(record(
                    json!({ "id": id, "seq": seq, "value": value, "meta": meta }),
                ));
            }
            Event::Delete { id, seq } => {
                script.deletes.push(record(json!({ "id": id, "seq": seq })));
            }
        }
    }
    script
}

/// A version as the query returns it (nulls stripped): `seq` is the start's change's.
fn version(id: i64, v: usize, start: i64, end: Option<i64>) -> Value {
    let (value, meta) = tracked(v);
    strip_nulls(json!({
        "id": id,
        "seq": start,
        "value": value,
        "meta": meta,
        "__START_AT": start,
        "__END_AT": end,
    }))
}

/// Per key, one point per sequence value from every delivered event: `Some(v)` an upsert (the
/// later-delivered one on ties), `None` a delete (which wins ties).
fn points(case: &Case, with_deletes: bool) -> BTreeMap<i64, BTreeMap<i64, Option<usize>>> {
    let mut points: BTreeMap<i64, BTreeMap<i64, Option<usize>>> = BTreeMap::new();
    for i in case.delivery() {
        match case.events[i] {
            Event::Upsert { id, seq, v } => {
                let point = points.entry(id).or_default().entry(seq).or_insert(Some(v));
                if point.is_some() {
                    *point = Some(v);
                }
            }
            Event::Delete { id, seq } if with_deletes => {
                points.entry(id).or_default().insert(seq, None);
            }
            Event::Delete { .. } => {}
        }
    }
    points
}

/// The points of one key's timeline that change its state: upserts whose values differ from
/// the state before them, deletes of a present key.
fn kept(timeline: &BTreeMap<i64, Option<usize>>) -> Vec<(i64, Option<usize>)> {
    let mut kept = Vec::new();
    let mut current = None;
    for (&seq, &point) in timeline {
        if point != current {
            kept.push((seq, point));
            current = point;
        }
    }
    kept
}

/// SCD type 2 rebuilt from every delivered event (see the module documentation), as rows
/// ordered by key and start.
fn scd2_model(case: &Case, with_deletes: bool) -> Vec<Value> {
    let mut rows = Vec::new();
    for (id, timeline) in points(case, with_deletes) {
        let kept = kept(&timeline);
        for (k, &(start, point)) in kept.iter().enumerate() {
            if let Some(v) = point {
                rows.push(version(id, v, start, kept.get(k + 1).map(|&(end, _)| end)));
            }
        }
    }
    rows
}

fn spec(max_records_per_batch: usize) -> String {
    format!(
        "connection_name: scripted\nobjects:\n  - table:\n      source_table: items\n      \
         table_configuration: {{scd_type: SCD_TYPE_2, \
         max_records_per_batch: {max_records_per_batch}}}\n"
    )
}

const VERSIONS: &str = "SELECT id, seq, value, meta, \"__START_AT\", \"__END_AT\" \
                        FROM items ORDER BY id, \"__START_AT\"";

/// Rows as compact JSON lines, for failure messages.
fn render(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("\n    {r}")).collect()
}

/// Lands `case` run after run into a new warehouse (plus one run with nothing new, which must
/// read and commit nothing) and returns the table's versions.
fn land(
    rt: &tokio::runtime::Runtime,
    ingestion_type: IngestionType,
    case: &Case,
) -> Result<Vec<Value>, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::new(dir.path().to_str().unwrap()).unwrap();
    let yaml = spec(case.max_records_per_batch);
    let options = RunOptions {
        commit_rows: case.commit_rows,
        ..RunOptions::default()
    };
    land_runs(
        rt,
        &yaml,
        &warehouse,
        &options,
        &case.runs,
        case.events.len(),
        |served| script(ingestion_type, &case.events[..served]),
    )?;
    Ok(query_rows(rt, &warehouse, VERSIONS))
}

/// Lands `case` and compares the versions with the model.
fn check(
    rt: &tokio::runtime::Runtime,
    ingestion_type: IngestionType,
    case: &Case,
) -> Result<(), TestCaseError> {
    let actual = land(rt, ingestion_type, case)?;
    let expected = scd2_model(case, ingestion_type == IngestionType::CdcWithDeletes);
    prop_assert!(
        actual == expected,
        "{:?} SCD 2 table differs from the model\n  table:{}\n  model:{}",
        ingestion_type,
        render(&actual),
        render(&expected)
    );
    Ok(())
}

/// Cases to run: `PROPTEST_CASES` when set (for deeper runs), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn check_random(
    ingestion_type: IngestionType,
    generator: Generator,
    default_cases: u32,
    max_events: usize,
) {
    let rt = runtime();
    let mut runner = TestRunner::new(Config {
        cases: cases(default_cases),
        // Each case lands Delta tables: keep shrinking bounded, and write no regression files
        // into the source tree (the failing case is printed).
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case_strategy(generator, max_events), |case| {
        check(&rt, ingestion_type, &case)
    });
    if let Err(e) = result {
        panic!("{ingestion_type:?} / {generator:?}: {e}");
    }
}

#[test]
fn cdc_with_deletes_matches_the_scd2_model() {
    check_random(IngestionType::CdcWithDeletes, Generator::Exact, 24, 20);
}

#[test]
fn cdc_matches_the_scd2_model() {
    check_random(IngestionType::Cdc, Generator::Exact, 16, 20);
}

#[test]
fn unconstrained_histories_match_the_scd2_model() {
    check_random(
        IngestionType::CdcWithDeletes,
        Generator::Unconstrained,
        24,
        20,
    );
}

/// How many generated cases exercise each situation the model distinguishes (a case counts once
/// per situation).
#[derive(Debug, Default)]
struct Coverage {
    cases: usize,
    /// Cases landed in more than one run.
    several_runs: usize,
    /// An upsert whose values equal the state before it (no version).
    no_change: usize,
    /// An upsert older than an earlier-delivered event of its key.
    late: usize,
    /// An upsert at the sequence value of an earlier-delivered upsert of its key.
    tied: usize,
    /// A delete that closes a version.
    closing_delete: usize,
    /// An upsert older than an earlier-delivered delete of its key.
    below_a_delete: usize,
    /// A version that starts after a delete (the key re-created).
    re_created: usize,
}

impl Coverage {
    fn add(&mut self, case: &Case) {
        let (mut late, mut tied, mut below_a_delete) = (false, false, false);
        let mut newest: BTreeMap<i64, i64> = BTreeMap::new();
        let mut upserts: BTreeSet<(i64, i64)> = BTreeSet::new();
        let mut deleted_at: BTreeMap<i64, i64> = BTreeMap::new();
        for i in case.delivery() {
            let event = case.events[i];
            let (id, seq) = (event.id(), event.seq());
            if let Event::Upsert { .. } = event {
                late |= newest.get(&id).is_some_and(|&n| seq < n);
                tied |= !upserts.insert((id, seq));
                below_a_delete |= deleted_at.get(&id).is_some_and(|&d| seq < d);
            } else {
                let d = deleted_at.entry(id).or_insert(seq);
                *d = (*d).max(seq);
            }
            let n = newest.entry(id).or_insert(seq);
            *n = (*n).max(seq);
        }
        let (mut no_change, mut closing_delete, mut re_created) = (false, false, false);
        for timeline in points(case, true).values() {
            let kept = kept(timeline);
            let upserts = |points: &mut dyn Iterator<Item = &Option<usize>>| {
                points.filter(|p| p.is_some()).count()
            };
            no_change |=
                upserts(&mut timeline.values()) > upserts(&mut kept.iter().map(|(_, p)| p));
            closing_delete |= kept.iter().any(|(_, p)| p.is_none());
            re_created |= kept
                .windows(2)
                .any(|w| w[0].1.is_none() && w[1].1.is_some());
        }
        let runs: BTreeSet<usize> = case.runs.iter().copied().filter(|&r| r > 0).collect();
        self.cases += 1;
        self.several_runs += usize::from(runs.len() > 1);
        self.no_change += usize::from(no_change);
        self.late += usize::from(late);
        self.tied += usize::from(tied);
        self.closing_delete += usize::from(closing_delete);
        self.below_a_delete += usize::from(below_a_delete);
        self.re_created += usize::from(re_created);
    }
}

/// The constrained generator still exercises what the model is about: no-change upserts, late
/// and tied upserts, deletes, late upserts older than a delete, re-creation, several runs.
#[test]
fn the_exact_generator_covers_every_situation() {
    let mut runner = TestRunner::deterministic();
    let strategy = case_strategy(Generator::Exact, 20);
    let mut coverage = Coverage::default();
    for _ in 0..1000 {
        coverage.add(&strategy.new_tree(&mut runner).unwrap().current());
    }
    // Each situation in at least one case in ten (about 15% to 70% at the time of writing).
    let least = coverage.cases / 10;
    let Coverage {
        cases: _,
        several_runs,
        no_change,
        late,
        tied,
        closing_delete,
        below_a_delete,
        re_created,
    } = coverage;
    assert!(
        [
            several_runs,
            no_change,
            late,
            tied,
            closing_delete,
            below_a_delete,
            re_created
        ]
        .iter()
        .all(|&n| n >= least),
        "{coverage:#?}"
    );
}

// Hand-written cases: each lands its runs, and both the table and the model must equal the
// versions written out by hand.

fn up(id: i64, seq: i64, v: usize) -> Event {
    Event::Upsert { id, seq, v }
}

fn del(id: i64, seq: i64) -> Event {
    Event::Delete { id, seq }
}

/// A case of the given runs, read one record at a time and committed `commit_rows` at a time.
fn runs_case(runs: &[&[Event]], commit_rows: usize) -> Case {
    let mut events = Vec::new();
    let mut ends = Vec::new();
    for run in runs {
        events.extend_from_slice(run);
        ends.push(events.len());
    }
    Case {
        events,
        runs: ends,
        max_records_per_batch: 1,
        commit_rows,
    }
}

fn assert_lands_as(case: &Case, expected: &[Value]) {
    let rt = runtime();
    let model = scd2_model(case, true);
    assert!(
        model == expected,
        "the model disagrees with the hand-written versions\n  model:{}\n  expected:{}",
        render(&model),
        render(expected)
    );
    let actual = land(&rt, IngestionType::CdcWithDeletes, case).unwrap();
    assert!(
        actual == expected,
        "the table differs from the expected versions\n  table:{}\n  expected:{}",
        render(&actual),
        render(expected)
    );
}

#[test]
fn a_late_change_splits_the_version_it_falls_into() {
    // Key 1: versions at 1 and 5, then a late change at 3. Key 2: a no-change upsert (values of
    // the version before it) makes no version, also when it arrives in a later run.
    let case = runs_case(
        &[
            &[up(1, 1, 10), up(1, 5, 11), up(2, 1, 20), up(2, 2, 20)],
            &[up(1, 3, 12), up(2, 4, 20)],
        ],
        2,
    );
    assert_lands_as(
        &case,
        &[
            version(1, 10, 1, Some(3)),
            version(1, 12, 3, Some(5)),
            version(1, 11, 5, None),
            version(2, 20, 1, None),
        ],
    );
}

#[test]
fn a_delete_closes_a_later_arriving_older_change() {
    // Key 1: a version, deleted at 4; then a change at 2 splits the version and is closed by the
    // delete. Key 2: only a delete at 6; a change at 3 arriving later is closed at 6.
    let case = runs_case(
        &[
            &[up(1, 1, 10), del(1, 4), del(2, 6)],
            &[up(1, 2, 11), up(2, 3, 21)],
        ],
        1,
    );
    assert_lands_as(
        &case,
        &[
            version(1, 10, 1, Some(2)),
            version(1, 11, 2, Some(4)),
            version(2, 21, 3, Some(6)),
        ],
    );
}

#[test]
fn a_change_newer_than_the_delete_re_creates_the_key() {
    // Deleted at 4, then re-created at 6 with the values it had before the delete (not a
    // no-change: the key was absent), then an older change at 3 arrives.
    let case = runs_case(
        &[&[up(1, 1, 10), del(1, 4)], &[up(1, 6, 10)], &[up(1, 3, 11)]],
        1,
    );
    assert_lands_as(
        &case,
        &[
            version(1, 10, 1, Some(3)),
            version(1, 11, 3, Some(4)),
            version(1, 10, 6, None),
        ],
    );
}

// Minimal reproductions of the engine bugs the constrained generator avoids (see the module
// documentation). Each asserts what the model (and, where it applies, SCD 1) says.

#[test]
fn a_late_change_below_a_no_change_upsert_brings_it_back() {
    // Key 1: values 10 at 1, again 10 at 5 (a no-change upsert: no version, kept aside), then
    // a late change at 3. From 5 on the source says 10 again: a version.
    // Key 2: the same, then a late delete at 3: the source recreates the key at 5 with 20 (SCD 1
    // keeps the row of seq 5).
    let case = runs_case(
        &[
            &[up(1, 1, 10), up(1, 5, 10), up(2, 1, 20), up(2, 5, 20)],
            &[up(1, 3, 11), del(2, 3)],
        ],
        100,
    );
    assert_lands_as(
        &case,
        &[
            version(1, 10, 1, Some(3)),
            version(1, 11, 3, Some(5)),
            version(1, 10, 5, None),
            version(2, 20, 1, Some(3)),
            version(2, 20, 5, None),
        ],
    );
}

#[test]
fn two_deletes_of_a_key_in_one_commit_are_both_applied() {
    let events: &[Event] = &[up(1, 1, 10), up(1, 5, 11), del(1, 3), del(1, 7)];
    let expected = [version(1, 10, 1, Some(3)), version(1, 11, 5, Some(7))];
    // One delete per commit: right.
    assert_lands_as(&runs_case(&[events], 1), &expected);
    // Both deletes in one commit: each closes what is open at its time.
    assert_lands_as(&runs_case(&[events], 100), &expected);
}

#[test]
fn an_older_delete_is_remembered_once_a_newer_one_arrives() {
    // Deletes at 3 and at 7 arrive (in separate runs) before any upsert of the key; then
    // upserts at 1 and 5. The delete at 3 must close the version of 1 (every delete of a key is
    // kept as a tombstone, not only the newest).
    let case = runs_case(
        &[&[del(1, 3)], &[del(1, 7)], &[up(1, 1, 10), up(1, 5, 11)]],
        1,
    );
    assert_lands_as(
        &case,
        &[version(1, 10, 1, Some(3)), version(1, 11, 5, Some(7))],
    );
}

#[test]
fn an_upsert_tied_with_a_delete_is_deleted() {
    // Key 1: an upsert and a delete at 4 in one run (the delete wins ties, as in SCD 1): no
    // version (the version the upserts commit made is removed, not left as [4, 4)).
    // Key 2: deleted at 4, then an upsert at 4 in a later run: not newer than the tombstone, so
    // not applied (as in SCD 1).
    let case = runs_case(
        &[
            &[up(1, 4, 10), del(1, 4), up(2, 1, 20), del(2, 4)],
            &[up(2, 4, 21)],
        ],
        1,
    );
    assert_lands_as(&case, &[version(2, 20, 1, Some(4))]);
}

#[test]
fn a_no_change_upsert_repeated_in_a_later_commit_stays_aside() {
    // Key 2: 0 at 0, then 0 again at 7 (no change: kept aside), then the same upsert at 7 again
    // in the next commit (it replaces the kept-aside one), then a delete at 0 (wins the tie with
    // the upsert at 0). What stays is the version of 7, which only the kept-aside upsert knows.
    let case = runs_case(&[&[up(2, 0, 0), up(2, 7, 0), up(2, 7, 0), del(2, 0)]], 2);
    assert_lands_as(&case, &[version(2, 0, 7, None)]);
}
