//! Integration tests: the real client against a scripted server on 127.0.0.1, and against the
//! simulator serving the fake spec (`fake_api`, `simulated_faults`).

mod capture;
mod common;
mod fake_api;
mod limits;
mod oauth;
mod pagination;
mod retries;
mod security;
mod simulated_faults;
