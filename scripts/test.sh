#!/usr/bin/env bash
# Runs every test of the project, after installing what the tests need.
# Usage: scripts/test.sh            (from anywhere in the clone)
set -euo pipefail
cd "$(dirname "$0")/.."
# One target directory outside the clone, so repeated runs (and CI) reuse the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakeflow-rs/target}"

# The Rust toolchain is pinned by rust-toolchain.toml; rustup installs it on first use.
# Python packages some tests run (moto's S3 server, PySpark), in a virtualenv outside the clone.
venv="$(scripts/test-venv.sh)"
cargo test --workspace --locked
# Object-store warehouses against a local S3 server (ignored by a plain `cargo test`, which has
# no server to start); `--workspace` as above, so the build is the same. A filter that matched
# nothing would pass, so the count is checked.
log="$(mktemp)"
LAKEFLOW_MOTO_SERVER="$venv/bin/moto_server" \
  cargo test --workspace --locked --tests -- --ignored object_store 2>&1 | tee "$log"
grep -q "test result: ok. [1-9][0-9]* passed" "$log" || { echo "no object-store test ran" >&2; exit 1; }
rm -f "$log"
scripts/test-python.sh  # the PySpark data source: wheel, test dependencies, pytest
