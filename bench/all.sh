#!/usr/bin/env bash
# Every figure of docs/benchmarks.md, section by section, each printed as a table.
# Usage: bench/all.sh [E2E_RECORDS] [PROFILE]   (defaults: 100000 bench-fast)
#   1. JSON -> Arrow conversion, lakeflow-records against arrow-json (criterion)
#   2. the engine in process: 1M and 3M rows (bench/run.sh)
#   3. the engine before and after the file-level rewrite, side by side (bench/compare.sh)
#   4. end to end against dlt over the simulator, scenarios a, b, c and latency (bench/e2e.sh)
#   5. the python source's overhead over a plain Python loop (crates/pyhost/benches/overhead.rs)
# Run it on an otherwise idle machine: the first build takes most of an hour on 2 cores, the
# runs about 15 minutes at 100,000 records (see docs/benchmarks.md for 1,000,000).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakeflow-rs/target}"
records="${1:-100000}"; profile="${2:-bench-fast}"

section() { printf '\n## %s\n\n' "$1"; }

section "JSON -> Arrow conversion (docs/benchmarks.md, first section)"
cargo bench --locked -p lakeflow-records --bench convert

section "The engine in process, 1,000,000 rows"
bench/run.sh 1000000 100000 10000
section "The engine in process, 3,000,000 rows"
bench/run.sh 3000000 100000 10000

section "The engine before (9a4f928, delta-rs MERGE) and now"
bench/compare.sh 9a4f928

section "End to end against dlt, $records records"
bench/e2e.sh "$records" "$profile" -- --scenarios a,b,c,latency

section "Python connectors: the host's overhead over a plain Python loop"
cargo bench --locked -p lakeflow-pyhost --bench overhead -- 200000 5
LAKEFLOW_PY_ENCODING=json cargo bench --locked -p lakeflow-pyhost --bench overhead -- 200000 5
