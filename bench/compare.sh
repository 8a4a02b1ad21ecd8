#!/usr/bin/env bash
# The engine benchmark of an earlier revision and of this checkout, side by side, in one run
# (docs/benchmarks.md, "Before and after").
# Usage: bench/compare.sh BASE_REV [ROWS ...]     (default rows: 1000000 3000000)
# Each revision runs three scenarios per size in its own process: append, load (cdc table),
# upsert 100,000 changes by key. The base runs twice: as it was, and with MALLOC_ARENA_MAX=2
# (what this checkout's binaries set for themselves).
# BASE_BIN=path / NEW_BIN=path: use these `pipeline-bench` binaries (built before, e.g. beside
# bench/e2e.py's builds) instead of building the base revision / this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lakeflow-rs/target}"
base_rev="${1:?usage: bench/compare.sh BASE_REV [ROWS ...]}"
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 3000000)

out="$(mktemp -d)"
trap 'git worktree remove --force "$out/base-src" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
built="$CARGO_TARGET_DIR/bench-fast"
build() { cargo build --locked --profile bench-fast --no-default-features -p lakeflow-cli -p lakeflow-bench; }

if [ -n "${NEW_BIN:-}" ]; then
  cp "$NEW_BIN" "$out/new"
else
  build
  cp "$built/pipeline-bench" "$out/new"
  cp "$built/lakeflow" "$out/lakeflow-new"
fi
if [ -n "${BASE_BIN:-}" ]; then
  cp "$BASE_BIN" "$out/base"
else
  git worktree add --quiet --detach "$out/base-src" "$base_rev"
  (cd "$out/base-src" && build)
  cp "$built/pipeline-bench" "$out/base"
  if [ -z "${NEW_BIN:-}" ]; then
    # The base build replaced this checkout's binaries in the shared target directory.
    cp "$out/new" "$built/pipeline-bench"
    cp "$out/lakeflow-new" "$built/lakeflow"
  fi
fi

for rows in "${sizes[@]}"; do
  for tool in base base+arenas new; do
    case "$tool" in
      base) run=("$out/base") ;;
      base+arenas) run=(env MALLOC_ARENA_MAX=2 "$out/base") ;;
      new) run=("$out/new") ;;
    esac
    wh="$out/wh-$tool-$rows"
    for scenario in "append --warehouse $wh/a" "load --warehouse $wh/b" \
                    "upsert --changes 100000 --warehouse $wh/b"; do
      # shellcheck disable=SC2086
      printf '%s\t%s\n' "$tool" "$("${run[@]}" $scenario --rows "$rows")"
    done
    rm -rf "$wh"
  done
done | tee "$out/results.tsv"

python3 - "$out/results.tsv" "$base_rev" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    tool, result = line.rstrip("\n").split("\t", 1)
    rows.append((tool, json.loads(result)))
print()
print(f"| scenario | table rows | revision | seconds | records/s | peak RSS (MiB) |")
print("|---|---:|---|---:|---:|---:|")
for tool, r in rows:
    name = {"base": f"{sys.argv[2]}", "base+arenas": f"{sys.argv[2]}, MALLOC_ARENA_MAX=2",
            "new": "this checkout"}[tool]
    print(f"| {r['scenario']} | {int(r['rows']):,} | {name} | {r['seconds']} | "
          f"{int(r['records_per_second']):,} | {r['peak_rss_mib']} |")
PY
