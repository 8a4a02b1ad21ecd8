#!/usr/bin/env bash
# Builds the Python wheel (`lakeflow_connect`) and runs its PySpark tests against it, in local
# Spark. Needs Java 17 and a Python >= 3.10; everything else is installed into a virtualenv outside
# the clone on first use (scripts/test-venv.sh).
# Usage: scripts/test-python.sh [pytest args]   (from anywhere in the clone)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakeflow-rs/target}"
venv="$(scripts/test-venv.sh)"

# The CLI is the reference the tests compare Spark's rows with.
cargo build --locked --quiet -p lakeflow-cli
export LAKEFLOW_CLI="$CARGO_TARGET_DIR/debug/lakeflow"

# The wheel in the dev profile (a release build of Arrow takes very long on small machines),
# with the in-memory `memory` source the partition and namespace tests read.
wheels="$CARGO_TARGET_DIR/wheels/lakeflow-connect-test"
rm -rf "$wheels"
(cd python && "$venv/bin/maturin" build --locked --quiet --profile dev --features test-sources \
  --interpreter "$venv/bin/python" --out "$wheels")
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheels"/lakeflow_connect-*.whl

# Spark's Python workers must run the interpreter that has pyarrow and the wheel.
export PYSPARK_PYTHON="$venv/bin/python"
# From the repository root, so the wheel is imported, not python/lakeflow_connect (which lacks the
# compiled module). The conftest fails the run when fewer tests are collected than expected.
"$venv/bin/pytest" -q -p no:cacheprovider python/tests "$@"
# The host that runs the original's Python connectors (`python` source), on its own: its
# protocol, the interface and pyspark stand-ins, and the installed packages winning over them.
"$venv/bin/pytest" -q -p no:cacheprovider crates/pyhost/host/tests
