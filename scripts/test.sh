#!/usr/bin/env bash
# Runs every test of the project, after installing what the tests need.
# Usage: scripts/test.sh            (from anywhere in the clone)
set -euo pipefail
cd "$(dirname "$0")/.."
# One target directory outside the clone, so repeated runs (and CI) reuse the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakeflow-rs/target}"

# The Rust toolchain is pinned by rust-toolchain.toml; rustup installs it on first use.
cargo test --workspace --locked
scripts/test-python.sh  # the PySpark data source: wheel, test dependencies, pytest
