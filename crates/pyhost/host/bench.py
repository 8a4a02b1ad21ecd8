#!/usr/bin/env python3
"""Throughput of lakeflow_host.py versus a plain in-process loop over the same
connector that drops the records.

    python3 bench.py [--rows 200000] [--chunk 4096] [--repeat 3] [--python python3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = str(HERE / "tests" / "connectors" / "bench_source.py")


def plain_loop(rows: int, mode: str) -> float:
    code = f"""
import sys, time, importlib.util
sys.path.append({str(HERE / 'shim' / 'interface')!r})
try:
    import pyspark.sql.types
except ImportError:
    sys.path.append({str(HERE / 'shim' / 'pyspark')!r})
spec = importlib.util.spec_from_file_location("bench_source", {SPEC!r})
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
c = m.BenchSource({{"rows": "{rows}", "mode": "{mode}"}})\nfor k in range(0, {rows}, 50000): c.read_table("bench", {{"id": k}} if k else None, {{}})
t = time.perf_counter(); start = None; n = 0
while True:
    it, off = c.read_table("bench", start, {{}})
    for r in it:
        n += 1
    if off == start:
        break
    start = off
assert n == {rows}, n
print(time.perf_counter() - t)
"""
    return float(subprocess.check_output([ARGS.python, "-c", code]).decode())


def through_host(rows: int, chunk: int, mode: str) -> tuple[float, int]:
    p = subprocess.Popen([ARGS.python, "-u", str(HERE / "lakeflow_host.py")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(req):
        p.stdin.write((json.dumps(req) + "\n").encode())
        p.stdin.flush()
        return p.stdout.readline()

    assert b'"ok"' in ask({"op": "init", "connector": SPEC, "options": {"rows": str(rows), "mode": mode}})
    # warm the api-mode page cache outside the timed section
    s0 = None
    for k in range(0, rows, 50000):
        ask({"op": "read_table", "table": "bench", "start_offset": s0, "table_options": {}})
        s0 = {"id": k + 50000}
    t = time.perf_counter()
    start, nbytes = None, 0
    while True:
        off = json.loads(ask({"op": "read_table", "table": "bench", "start_offset": start,
                              "table_options": {}}))["ok"]["offset"]
        while True:
            line = ask({"op": "next", "max_records": chunk})
            nbytes += len(line)
            if line.endswith(b'"done":true}}\n'):
                break
            assert line.startswith(b'{"ok"'), line[:200]
        if off == start:
            break
        start = off
    dt = time.perf_counter() - t
    p.stdin.close()
    p.wait()
    return dt, nbytes


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--chunk", type=int, action="append")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--python", default=sys.executable)
    ARGS = ap.parse_args()
    print(f"python: {ARGS.python}")
    for mode in ("gen", "api"):
      base = min(plain_loop(ARGS.rows, mode) for _ in range(ARGS.repeat))
      print(f"[{mode}] plain loop: {base:.3f}s  {ARGS.rows / base:,.0f} records/s")
      for chunk in ARGS.chunk or [1024, 4096, 16384]:
        runs = [through_host(ARGS.rows, chunk, mode) for _ in range(ARGS.repeat)]
        dt = min(r[0] for r in runs)
        print(f"[{mode}] host chunk={chunk}: {dt:.3f}s  {ARGS.rows / dt:,.0f} records/s  "
              f"overhead {100 * (dt / base - 1):.0f}%  ({runs[0][1] / ARGS.rows:.0f} bytes/record)")
