//! Starting a connector's embedded simulator spec (`lakeflow-simulator`) for a run.

use std::fmt;

use lakeflow_connect::EmbeddedSimulatorSpec;
use lakeflow_simulator::{RunningSimulator, Simulator};

/// A running simulator; the server stops when this is dropped.
pub(crate) struct Simulation {
    running: RunningSimulator,
}

impl Simulation {
    /// `http://127.0.0.1:PORT`, the value of the connector's `base_url` option.
    pub(crate) fn base_url(&self) -> String {
        self.running.base_url()
    }
}

/// Why a simulator did not start.
#[derive(Debug)]
pub(crate) enum StartError {
    /// The spec has no fault profile of the requested name (check 17 then skips).
    NoProfile(String),
    /// Anything else: the spec does not parse, the port cannot be bound, ...
    Failed(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoProfile(reason) | Self::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Starts `spec` on an ephemeral port of 127.0.0.1, with the named fault profile when given.
pub(crate) fn start(
    spec: &EmbeddedSimulatorSpec,
    profile: Option<&str>,
) -> Result<Simulation, StartError> {
    let failed = |e: lakeflow_simulator::Error| StartError::Failed(e.to_string());
    let mut simulator = Simulator::from_embedded(spec.spec, spec.files).map_err(failed)?;
    if let Some(name) = profile {
        simulator = simulator.with_fault_profile(name).map_err(|e| match e {
            lakeflow_simulator::Error::UnknownFaultProfile { .. } => {
                StartError::NoProfile(e.to_string())
            }
            other => failed(other),
        })?;
    }
    let running = simulator.start().map_err(failed)?;
    Ok(Simulation { running })
}
