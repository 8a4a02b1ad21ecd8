#!/usr/bin/env bash
# Reproduces the end-to-end ingestion figures of docs/benchmarks.md.
# Usage: bench/run.sh [ROWS] [CHANGES] [SMALL_ROWS]   (defaults: 1000000 100000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakeflow-rs/target}"
rows="${1:-1000000}"; changes="${2:-100000}"; small="${3:-10000}"

# The same packages and features as bench/e2e.sh, so both share one build. Benchmarks write
# local warehouses: no object-store backends (they would rebuild DataFusion with other features).
cargo build --locked --profile bench-fast --no-default-features -p lakeflow-cli -p lakeflow-bench
bin="$CARGO_TARGET_DIR/bench-fast/pipeline-bench"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

run() { "$bin" "$@"; }
{
  run append --rows "$rows" --warehouse "$out/append"
  run load   --rows "$rows" --warehouse "$out/big"
  run upsert --rows "$rows" --changes "$changes" --warehouse "$out/big"
  run noop   --rows "$rows" --changes "$changes" --warehouse "$out/big"
  run load   --rows "$small" --warehouse "$out/small"
  run noop   --rows "$small" --warehouse "$out/small"
  # SCD 2 over snapshots: the first snapshot, one with `changes` keys changed, the same again.
  run history --rows "$rows" --warehouse "$out/history"
  run history --rows "$rows" --changes "$changes" --warehouse "$out/history"
  run history --rows "$rows" --changes "$changes" --warehouse "$out/history"
} | tee "$out/results.jsonl"

python3 - "$out/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| scenario | table rows | changes | records read | rows landed | commits | seconds | records/s | peak RSS (MiB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['scenario']} | {int(r['rows']):,} | {int(r['changes']):,} | {r['records_read']:,} | {r['rows_landed']:,} | {r['commits']} | {r['seconds']} | {int(r['records_per_second']):,} | {r['peak_rss_mib']} |")
PY
