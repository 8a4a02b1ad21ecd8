//! Integration tests of the `example` connector and its simulated source, in one binary.

#[path = "example/common.rs"]
mod common;
#[path = "example/discovery.rs"]
mod discovery;
#[path = "example/errors.rs"]
mod errors;
#[path = "example/incremental.rs"]
mod incremental;
#[path = "example/source_api.rs"]
mod source_api;
#[path = "example/write_back.rs"]
mod write_back;
