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
# Azurite, the Azure Blob Storage emulator (npm; needs Node.js), outside the clone too.
node_dir="${LAKEFLOW_NODE_DIR:-$HOME/.cache/lakeflow-rs/node}"
azurite_version="3.35.0"
if [ "$(cat "$node_dir/.azurite-version" 2>/dev/null)" != "$azurite_version" ]; then
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --silent --no-audit --no-fund "azurite@$azurite_version"
  printf '%s' "$azurite_version" >"$node_dir/.azurite-version"
fi
cargo test --workspace --locked
# Object-store warehouses against local S3 and Azure servers (ignored by a plain `cargo test`,
# which has no server to start); `--workspace` as above, so the build is the same. A filter that
# matched nothing would pass, so the count is checked.
log="$(mktemp)"
LAKEFLOW_MOTO_SERVER="$venv/bin/moto_server" \
LAKEFLOW_AZURITE_BLOB="$node_dir/node_modules/.bin/azurite-blob" \
  cargo test --workspace --locked --tests -- --ignored object_store 2>&1 | tee "$log"
grep -q "test result: ok. 3 passed" "$log" || { echo "the 3 object-store tests did not all run" >&2; exit 1; }
rm -f "$log"
scripts/test-python.sh  # the PySpark data source: wheel, test dependencies, pytest
# Last: `lakeflow new demo` in a scratch copy of the workspace must build and pass conformance
# (the template must not rot). It rebuilds the workspace crates from that copy, so nothing runs
# after it; the count is checked as above.
log="$(mktemp)"
cargo test -p lakeflow-cli --locked --test cli -- --ignored a_generated_connector 2>&1 | tee "$log"
grep -q "test result: ok. 1 passed" "$log" || { echo "the lakeflow new template test did not run" >&2; exit 1; }
rm -f "$log"
