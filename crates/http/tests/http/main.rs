//! Integration tests: the real client against a scripted server on 127.0.0.1.

mod common;
mod limits;
mod pagination;
mod retries;
mod security;
