//! Starting a connector's embedded simulator spec (`lakeflow-simulator`) for a run, with or
//! without faults.

use std::collections::BTreeMap;

use lakeflow_connect::{
    ConnectionOptions, ConnectorDescriptor, EmbeddedSimulatorSpec, LakeflowConnect, TableOptions,
};
use lakeflow_simulator::{FaultProfile, FaultRule, RunningSimulator, Simulator};

use crate::Conformance;
use crate::config::FAULT_PROFILE;
use crate::wrapped::{Intercept, Wrapped};

/// The connection option simulator-backed connectors take their server's URL from.
pub const BASE_URL: &str = "base_url";

/// The built-in fault profile's injections, by 1-based request number of a fresh simulator:
/// every retriable answer a connector must ride out, early enough to hit a short pass, and never
/// two in a row, so a connector that retries at least once gets through each of them.
const BUILT_IN: &[(u16, Option<u64>, &[u64])] = &[
    (429, Some(0), &[1, 11]),
    (500, None, &[3, 13]),
    (429, None, &[5]),
    (503, None, &[7, 15]),
    (429, Some(1), &[9]),
];

/// What the built-in profile injects, for evidence.
const BUILT_IN_TEXT: &str = "the suite's built-in fault profile (429 with Retry-After: 0 and \
    1, 429 without Retry-After, 500 and 503 on requests 1 to 15)";

/// The profile check 17 uses for a simulator spec without a `conformance` profile.
fn built_in_profile() -> FaultProfile {
    BUILT_IN.iter().fold(
        FaultProfile::new(0),
        |profile, &(status, retry_after, numbers)| {
            let rule = FaultRule::status(status);
            let rule = match retry_after {
                Some(seconds) => rule.retry_after_seconds(seconds),
                None => rule,
            };
            profile.with_rule(rule.on_requests(numbers.iter().copied()))
        },
    )
}

/// A running simulator; the server stops when this is dropped.
pub(crate) struct Simulation {
    running: RunningSimulator,
    faults: Option<String>,
    /// The spec's `table_options`: what the corpus needs to be read (its account, repository).
    table_options: TableOptions,
    /// The spec's `connection_options`: what its auth expects besides the secret (a user name).
    connection_options: BTreeMap<String, String>,
}

impl Simulation {
    /// `http://127.0.0.1:PORT`, the value of the connector's `base_url` option.
    pub(crate) fn base_url(&self) -> String {
        self.running.base_url()
    }

    /// Which faults it injects, in words.
    pub(crate) fn faults(&self) -> &str {
        self.faults.as_deref().unwrap_or("no fault profile")
    }

    /// The table options the spec declares for reading its corpus.
    pub(crate) fn table_options(&self) -> &TableOptions {
        &self.table_options
    }

    /// The non-secret connection options the spec declares for its clients.
    pub(crate) fn connection_options(&self) -> &BTreeMap<String, String> {
        &self.connection_options
    }
}

/// Starts `spec` on an ephemeral port of 127.0.0.1, without faults.
pub(crate) fn start(spec: &EmbeddedSimulatorSpec) -> Result<Simulation, String> {
    let simulator = load(spec)?;
    launch(simulator, None)
}

/// Starts `spec` with the spec's `conformance` fault profile, or the built-in one when the spec
/// has none (so check 17 never passes by skipping a simulator-backed connector).
pub(crate) fn start_with_faults(spec: &EmbeddedSimulatorSpec) -> Result<Simulation, String> {
    let simulator = load(spec)?;
    if simulator
        .fault_profiles()
        .iter()
        .any(|p| p == FAULT_PROFILE)
    {
        let simulator = simulator
            .with_fault_profile(FAULT_PROFILE)
            .map_err(|e| e.to_string())?;
        let text = format!("the simulator spec's `{FAULT_PROFILE}` fault profile");
        launch(simulator, Some(text))
    } else {
        let simulator = simulator.with_faults(built_in_profile());
        launch(simulator, Some(BUILT_IN_TEXT.to_owned()))
    }
}

fn load(spec: &EmbeddedSimulatorSpec) -> Result<Simulator, String> {
    Simulator::from_embedded(spec.spec, spec.files).map_err(|e| e.to_string())
}

fn launch(simulator: Simulator, faults: Option<String>) -> Result<Simulation, String> {
    let table_options = simulator.table_options();
    let connection_options = simulator.connection_options();
    let running = simulator.start().map_err(|e| e.to_string())?;
    Ok(Simulation {
        running,
        faults,
        table_options,
        connection_options,
    })
}

/// Keeps a connector's own faulty simulator running as long as the connector (see
/// [`faults_from_simulator`]); intercepts nothing.
pub struct FaultySimulator(Simulation);

impl std::fmt::Debug for FaultySimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaultySimulator({})", self.0.base_url())
    }
}

impl<C: LakeflowConnect> Intercept<C> for FaultySimulator {}

impl Conformance {
    /// The suite for connectors `factory` builds over the descriptor's simulator, which
    /// `options` point at: [`Conformance::with_factory`] with those connection options, and the
    /// faults check through [`faults_from_simulator`] with the same factory.
    pub fn over_simulator<C, F>(
        descriptor: &'static ConnectorDescriptor,
        factory: F,
        options: ConnectionOptions,
    ) -> Self
    where
        C: LakeflowConnect + 'static,
        F: Fn(&ConnectionOptions) -> lakeflow_connect::Result<C> + Clone + Send + Sync + 'static,
    {
        Self::with_factory(descriptor, factory.clone())
            .connection(options)
            .faults_with(faults_from_simulator(descriptor, factory))
    }
}

/// A factory for [`Conformance::faults_with`](crate::Conformance::faults_with) when the suite's
/// connectors are built by a factory over the descriptor's simulator: each connector `build`
/// makes reads from a simulator of its own, running the spec's `conformance` fault profile (or
/// the built-in one), with `base_url` pointing at it and the other options as given.
pub fn faults_from_simulator<C, F>(
    descriptor: &'static ConnectorDescriptor,
    build: F,
) -> impl Fn(&ConnectionOptions) -> lakeflow_connect::Result<Wrapped<C, FaultySimulator>>
+ Send
+ Sync
+ 'static
where
    C: LakeflowConnect,
    F: Fn(&ConnectionOptions) -> lakeflow_connect::Result<C> + Send + Sync + 'static,
{
    move |options: &ConnectionOptions| {
        let failed = |message: String| lakeflow_connect::Error::Connector {
            message: format!("could not start the simulator with faults: {message}"),
        };
        let spec = descriptor
            .simulator
            .ok_or_else(|| failed(format!("`{}` has no simulator spec", descriptor.name)))?;
        let simulation = start_with_faults(spec).map_err(failed)?;
        let mut options = options.clone();
        options.insert(BASE_URL, simulation.base_url());
        Ok(Wrapped::new(build(&options)?, FaultySimulator(simulation)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakeflow_simulator::{FaultAction, FaultTrigger, RetryAfter};

    #[test]
    fn the_built_in_profile_injects_every_retriable_answer_never_twice_in_a_row() {
        let profile = built_in_profile();
        let mut numbers = Vec::new();
        let mut seen = Vec::new();
        for rule in &profile.rules {
            let FaultAction::Status {
                status,
                retry_after,
                ..
            } = &rule.action
            else {
                panic!("not a status fault: {rule:?}");
            };
            seen.push((*status, retry_after.clone()));
            let FaultTrigger::OnRequests(on) = &rule.trigger else {
                panic!("not on request numbers: {rule:?}");
            };
            numbers.extend(on.iter().copied());
        }
        for wanted in [
            (429, Some(RetryAfter::Seconds(0))),
            (429, Some(RetryAfter::Seconds(1))),
            (429, None),
            (500, None),
            (503, None),
        ] {
            assert!(seen.contains(&wanted), "{wanted:?} not in {seen:?}");
        }
        numbers.sort_unstable();
        assert!(numbers.windows(2).all(|w| w[1] > w[0] + 1), "{numbers:?}");
        assert!(BUILT_IN_TEXT.contains(&format!("requests 1 to {}", numbers[numbers.len() - 1])));
    }
}
