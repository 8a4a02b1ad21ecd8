//! Integration tests of the engine: real Delta tables in temp directories.

mod common;
mod errors;
mod evolution;
mod example;
mod model;
mod model_scd2;
mod partitioned;
mod scripted;
mod snapshot_history;
mod staged;
mod state;
