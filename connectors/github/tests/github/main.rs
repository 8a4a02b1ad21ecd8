//! Integration tests of the `github` connector against its simulator, in one binary.

mod common;
mod errors;
mod issues;
mod pulls;
mod snapshots;
mod stargazers;
mod windows;
