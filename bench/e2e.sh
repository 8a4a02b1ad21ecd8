#!/usr/bin/env bash
# End-to-end ingestion, lakeflow against dlt (docs/benchmarks.md, "End-to-end against dlt").
# Usage: bench/e2e.sh [RECORDS] [PROFILE] [-- extra bench/e2e.py arguments]
#   RECORDS  corpus size (default 1000000; 100000 for the smaller table)
#   PROFILE  cargo profile of both binaries: release (default), bench-fast, or dev (smoke runs:
#            debug-build figures are not results)
# Builds `lakeflow` and `corpus-gen` in PROFILE, installs bench/dlt/requirements.txt into a venv
# outside the clone ($HOME/.cache/lakeflow-rs/bench-venv), then runs bench/e2e.py, which prints
# the table and writes $HOME/.cache/lakeflow-rs/bench-e2e/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakeflow-rs/target}"
records="${1:-1000000}"; profile="${2:-release}"
shift $(( $# < 2 ? $# : 2 ))
[ "${1:-}" = "--" ] && shift

cargo build --locked --profile "$profile" --no-default-features -p lakeflow-cli -p lakeflow-bench
dir="$CARGO_TARGET_DIR/$([ "$profile" = dev ] && echo debug || echo "$profile")"

venv="$HOME/.cache/lakeflow-rs/bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/dlt/requirements.txt

export RUNTIME__DLTHUB_TELEMETRY=false
exec "$venv/bin/python" bench/e2e.py --records "$records" --build-dir "$dir" "$@"
