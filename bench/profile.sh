#!/usr/bin/env bash
# A CPU profile of `lakeflow run` loading a bench/e2e.py corpus as an append table (the figures
# of docs/benchmarks.md, "The HTTP read path and incremental merges").
# Usage: bench/profile.sh BUILD_DIR [OUT] [CORPUS_DIR]
#   BUILD_DIR   holds `lakeflow` (e.g. $CARGO_TARGET_DIR/bench-fast)
#   OUT         perf data file (default perf.data in a temp dir, printed at the end)
#   CORPUS_DIR  default $HOME/.cache/lakeflow-rs/bench-e2e/corpus-100000 (made by bench/e2e.py)
# Then: perf report -i OUT --no-children --sort sym --stdio -g none | head -40
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:?usage: bench/profile.sh BUILD_DIR [OUT] [CORPUS_DIR]}"
work="$(mktemp -d)"
out="${2:-$work/perf.data}"
corpus="${3:-$HOME/.cache/lakeflow-rs/bench-e2e/corpus-100000}"
token="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['token'])" "$corpus/manifest.json")"
"$build/lakeflow" simulate "$corpus/spec.yaml" --port 0 --quiet > "$work/sim.out" 2>/dev/null &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do [ -s "$work/sim.out" ] && break; sleep 1; done
url="$(head -1 "$work/sim.out")"
# Warm the simulator with the query shape of the run, as bench/e2e.py does.
curl -s -H "Authorization: Bearer $token" \
  "$url/repos/bench/issues/issues?state=all&sort=updated&direction=asc&per_page=1" > /dev/null
BENCH_SIM_URL="$url" BENCH_SIM_TOKEN="$token" perf record -F 999 -g -o "$out" -- \
  "$build/lakeflow" run bench/e2e/issues-append.yaml --warehouse "$work/warehouse" \
  --connections bench/e2e/lakeflow.toml --json
echo "profile: $out"
