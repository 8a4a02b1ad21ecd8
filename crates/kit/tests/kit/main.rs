//! The kit's strategies against a real HTTP server on 127.0.0.1: the simulator serving
//! `tests/simulator/spec.yaml` over a corpus with runs of equal cursor values.

mod ascending;
mod common;
mod descending;
mod export;
mod partitioned;
mod promise;
mod search;
mod snapshot;
mod window;
