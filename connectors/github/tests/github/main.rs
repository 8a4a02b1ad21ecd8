//! Integration tests of the `github` connector against its simulator, in one binary.

mod assumptions;
mod common;
mod errors;
mod fan_out;
mod issues;
mod pulls;
mod reviews;
mod snapshots;
mod stargazers;
mod windows;
