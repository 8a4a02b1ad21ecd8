//! Check 17: under injected retriable faults (429/5xx, Retry-After), a full pass returns the same
//! records as without faults.

use lakeflow_connect::TableOptions;

use crate::config::{Source, descriptor_factory};
use crate::context::{Finding, Run, TableCtx, Verdict, blocked, count, fail, skip, verdict};
use crate::pass::{Feed, multiset, read_pass};
use crate::probe::Probe;
use crate::report::{Check, Mode};
use crate::simulator::{self, BASE_URL, Simulation};

/// The role of the connector reading through faults, in evidence.
const ROLE: &str = "the connector reading through faults";

/// A connector reading through faults, and the simulator injecting them (when there is one).
/// Built for each table and dropped after it: a fault factory over a shared in-process source
/// may turn faults on for as long as its connector lives, and a fresh simulator numbers its
/// requests from 1 again, so the built-in profile's faults hit every table's pass.
struct Faulty {
    connector: Probe,
    simulation: Option<Simulation>,
}

/// Builds the faulty connector: the caller's fault factory, or the descriptor's connector
/// against a second simulator running the spec's `conformance` fault profile (the suite's
/// built-in profile when the spec has none).
fn faulty(run: &Run) -> Result<Faulty, Finding> {
    if run.config.mode == Mode::Live {
        return Err(skip("live mode: faults are injected by the simulator only"));
    }
    if let Some(factory) = &run.config.faults {
        let connector = run.build(factory, &run.connection, ROLE).map_err(|e| {
            fail(format!(
                "the fault factory could not build a connector: {e}"
            ))
        })?;
        return Ok(Faulty {
            connector,
            simulation: None,
        });
    }
    let spec = match (&run.config.source, run.config.descriptor.simulator) {
        (Source::Descriptor, Some(spec)) => spec,
        (Source::Factory(_), _) => {
            return Err(skip(
                "connectors come from a factory and no fault factory was given (`faults_with`)",
            ));
        }
        (Source::Descriptor, None) => {
            return Err(skip(
                "no simulator spec and no fault factory (`faults_with`)",
            ));
        }
    };
    let simulation = simulator::start_with_faults(spec)
        .map_err(|e| fail(format!("could not start the simulator with faults: {e}")))?;
    let mut options = run.connection.clone();
    options.insert(BASE_URL, simulation.base_url());
    let connector = run
        .build(&descriptor_factory(run.config.descriptor), &options, ROLE)
        .map_err(|e| {
            fail(format!(
                "could not build the connector against the faulty simulator: {e}"
            ))
        })?;
    Ok(Faulty {
        connector,
        simulation: Some(simulation),
    })
}

/// Check 17: The full pass (and the deletes pass) read through faults equals the one read without.
pub(super) fn faults(run: &Run, t: &TableCtx) -> Verdict {
    let kind = run.kind(t)?;
    let mut feeds = vec![(Feed::Records, run.full(t)?)];
    if run.has_deletes(t)? {
        let deletes = run.deletes(t)?.filter(|p| p.converged());
        feeds.push((
            Feed::Deletes,
            deletes.ok_or_else(|| blocked("a full deletes read", Check::Termination))?,
        ));
    }
    let faulty = faulty(run)?;
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    for (feed, clean) in feeds {
        let options: &TableOptions = &t.options;
        let pass = read_pass(
            &faulty.connector,
            &run.transcript,
            &t.name,
            feed,
            None,
            options,
            !kind.is_incremental(),
            &run.config.limits,
        );
        if !pass.converged() {
            problems.push(format!("under faults: {}", pass.problem(&t.name, feed)));
            continue;
        }
        let (want, got) = (multiset(clean.records()), multiset(pass.records()));
        let missing = want
            .iter()
            .filter(|(r, n)| got.get(*r).copied().unwrap_or(0) < **n);
        let extra = got
            .iter()
            .filter(|(r, n)| want.get(*r).copied().unwrap_or(0) < **n);
        for (record, _) in missing.take(3) {
            problems.push(format!(
                "`{}`: {} under faults lost {record}",
                t.name,
                feed.method()
            ));
        }
        for (record, _) in extra.take(3) {
            problems.push(format!(
                "`{}`: {} under faults added {record}",
                t.name,
                feed.method()
            ));
        }
        summary.push(format!(
            "{}: {} in {}, the same as without faults",
            feed.method(),
            count(pass.record_count(), "record"),
            count(pass.batches.len(), "read")
        ));
    }
    let source = faulty.simulation.as_ref().map_or_else(
        || "faults from the test's fault factory".to_owned(),
        |sim| format!("faults from {}", sim.faults()),
    );
    if !problems.is_empty() {
        // First, so that the evidence says which faults were injected even when cut short.
        problems.insert(0, source.clone());
    }
    summary.push(source);
    summary.extend(run.deletes_left_out(t));
    verdict(&problems, || summary.join("; "))
}
