//! Integration tests of the engine: real Delta tables in temp directories.

mod common;
mod example;
