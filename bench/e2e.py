#!/usr/bin/env python3
"""End-to-end ingestion, lakeflow against dlt, side by side on one machine (issue 8).

    bench/e2e.sh [RECORDS] [PROFILE]                     # builds, makes the venv, runs this
    python bench/e2e.py --records N --build-dir DIR [--work DIR] [--scenarios a,b,c,latency]

Both tools read the same simulated GitHub API (our simulator, `lakeflow simulate`, serving a
`corpus-gen` corpus of GitHub issues) and land the `issues` of one repository in local Delta
tables. Scenarios:

  a        full load of an append table (lakeflow `APPEND_ONLY`, dlt `append`)
  b        full load of a merge table (lakeflow `SCD_TYPE_1`, dlt `merge`/`upsert`), then the
           simulator restarts on the "changes" corpus (10% of the records with a newer
           `updated_at` and changed fields) and both run incrementally, merging by `id`
  c        right after b, an incremental run with nothing new
  latency  every request 50 ms late (the spec's `latency` fault profile), several repositories
           (one table each): lakeflow at --parallelism 1, 2, 4, dlt sequential and with
           `parallelized` resources

Each run is its own process, timed from start to exit, with its peak memory: the larger of the
kernel's peak RSS of the process (GNU time's `%M`; `wait4` where /usr/bin/time is missing) and
the sum of the RSS of the process and all its children sampled every 20 ms (psutil). Before anything is reported, both tables are read back
with the Python `deltalake` package and compared with the ground truth computed from the corpus
file: the row count and a checksum (SHA-256 over the sorted `(id, updated_at)` pairs, so the
order of rows does not matter). A mismatch stops the run.

Rows per second is rows landed in the table divided by wall time (the incremental run: changed
rows merged). Ratios are dlt / lakeflow: time (higher means lakeflow is faster) and peak memory
(higher means lakeflow uses less). Results go to stdout as a table and to WORK/results.jsonl.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psutil

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

HERE = pathlib.Path(__file__).resolve().parent
E2E = HERE / "e2e"
DLT_SCRIPT = HERE / "dlt" / "load_issues.py"


# --- measuring ---------------------------------------------------------------------------------


#: GNU time, when present, runs each command: its `%M` is the command's own peak RSS. Measured
#: with `wait4` on a child of this script instead, the peak would include this script's own
#: memory, which the child shares between fork and exec.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def tree_rss(proc: psutil.Process, skip_self: bool) -> int:
    """The RSS of `proc` and all its descendants, summed (`proc` left out when `skip_self`)."""
    total = 0
    try:
        procs = ([] if skip_self else [proc]) + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(cmd, env=None, cwd=None, log=None):
    """Runs `cmd`; returns (stdout, seconds, peak RSS in MiB). Raises on a non-zero exit.

    The peak is the larger of the kernel's peak RSS of the command (GNU time's `%M`, or
    `wait4` without it) and the sampled sum over the command and its children."""
    cmd = [str(c) for c in cmd]
    peak_file = None
    full = cmd
    if GNU_TIME:
        fd, peak_file = tempfile.mkstemp(prefix="bench-peak-")
        os.close(fd)
        full = [GNU_TIME, "-f", "%M", "-o", peak_file] + cmd
    started = time.perf_counter()
    proc = subprocess.Popen(
        full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True
    )
    out, err = [], []
    readers = [
        threading.Thread(target=lambda: out.append(proc.stdout.read())),
        threading.Thread(target=lambda: err.append(proc.stderr.read())),
    ]
    for r in readers:
        r.start()
    ps = psutil.Process(proc.pid)
    peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss(ps, skip_self=bool(GNU_TIME)))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    stdout, stderr = "".join(out), "".join(err)
    if log:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{stdout}\n{stderr}\n")
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{stderr[-3000:]}")
    if peak_file:
        text = pathlib.Path(peak_file).read_text().split()
        os.unlink(peak_file)
        kernel_peak = int(text[-1]) * 1024 if text else 0
    else:
        kernel_peak = usage.ru_maxrss * 1024  # KiB on Linux
    return stdout, seconds, max(peak, kernel_peak) / (1 << 20)


# --- the simulator -----------------------------------------------------------------------------


class Simulator:
    def __init__(self, lakeflow, corpus_dir, faults=None, log=None):
        cmd = [str(lakeflow), "simulate", str(corpus_dir / "spec.yaml"), "--port", "0", "--quiet"]
        if faults:
            cmd += ["--faults", faults]
        self.log = open(log, "a") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()  # printed once the corpus is loaded and bound
        if not line.startswith("http://"):
            self.stop()
            raise SystemExit(f"the simulator did not start: {line!r}")
        self.url = line
        self.manifest = json.loads((corpus_dir / "manifest.json").read_text())
        self.ps = psutil.Process(self.proc.pid)

    def cpu_seconds(self):
        """CPU time the simulator has used so far (user + system, all threads)."""
        t = self.ps.cpu_times()
        return t.user + t.system

    def warm(self, repos):
        """One request per repository with the query shape both tools use, so that neither pays
        for the simulator's first filter and sort of the corpus."""
        for repo in repos:
            req = urllib.request.Request(
                f"{self.url}/repos/{self.manifest['owner']}/{repo}/issues"
                "?state=all&sort=updated&direction=asc&per_page=1",
                headers={"Authorization": f"Bearer {self.manifest['token']}"},
            )
            urllib.request.urlopen(req, timeout=3600).read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- the corpus and ground truth ---------------------------------------------------------------


def generate(corpus_gen, out, records, changes=0.0, repos=1, log=None):
    manifest = out / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if m["records"] == records and m["changes"] == changes and len(m["repos"]) == repos:
            return out
    cmd = [str(corpus_gen), "--records", str(records), "--out", str(out), "--repos", str(repos)]
    if changes:
        cmd += ["--changes", str(changes)]
    measure(cmd, log=log)
    return out


def micros(text: str) -> int:
    t = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp()) * 1_000_000


def checksum(pairs) -> str:
    h = hashlib.sha256()
    for key, at in sorted(pairs):
        h.update(f"{key}|{at}\n".encode())
    return h.hexdigest()[:16]


def expected(corpus_dir, repo=None):
    """(rows, checksum) of the issues (pull requests left out) of a corpus, per repository."""
    pairs = {}
    with open(corpus_dir / "issues.ndjson") as f:
        for line in f:
            r = json.loads(line)
            if "pull_request" in r:
                continue
            pairs.setdefault(r["repository_name"], []).append((r["id"], micros(r["updated_at"])))
    return {name: (len(p), checksum(p)) for name, p in pairs.items()}


def landed(table_path):
    """(rows, checksum, distinct ids) of a Delta table, read with the `deltalake` package."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    t = DeltaTable(str(table_path)).to_pyarrow_table(columns=["id", "updated_at"])
    at = t.column("updated_at")
    if pa.types.is_timestamp(at.type):
        at = pc.cast(pc.cast(at, pa.timestamp("us", tz="UTC")), pa.int64())
        ats = at.to_pylist()
    else:
        ats = [micros(v) for v in at.to_pylist()]
    ids = t.column("id").to_pylist()
    return len(ids), checksum(zip(ids, ats)), len(set(ids))


def verify(label, table_path, want):
    rows, digest, distinct = landed(table_path)
    ok = (rows, digest) == want and distinct == rows
    print(
        f"  check {label}: {rows} rows, checksum {digest}, {distinct} distinct ids"
        f" (expected {want[0]} rows, checksum {want[1]}): {'ok' if ok else 'MISMATCH'}",
        flush=True,
    )
    if not ok:
        raise SystemExit(f"{label}: the table does not hold the expected rows; no figures reported")
    return rows


# --- the two tools -----------------------------------------------------------------------------


class Run:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.lakeflow = args.build_dir / "lakeflow"
        self.fetch_pages = args.build_dir / "fetch-pages"
        self.log = work / "runs.log"
        self.results = []
        self.server_cpu = 0.0

    def floor(self, sim, repo):
        """The plain fetch: every page of the listing lakeflow reads, one after another, bodies
        discarded (the limit the source sets). Returns the pages fetched, seconds and peak."""
        url = (f"{sim.url}/repos/{sim.manifest['owner']}/{repo}/issues"
               "?state=all&sort=updated&direction=asc&per_page=100")
        cpu = sim.cpu_seconds()
        out, seconds, peak = measure([str(self.fetch_pages), url, sim.manifest["token"]],
                                     log=self.log)
        self.server_cpu = sim.cpu_seconds() - cpu
        return json.loads(out)["pages"], seconds, peak

    def ours(self, spec, warehouse, sim, parallelism=None, read_partitions=None, build=None):
        env = dict(os.environ, BENCH_SIM_URL=sim.url, BENCH_SIM_TOKEN=sim.manifest["token"])
        cmd = [
            str((build or self.args.build_dir) / "lakeflow"), "run", str(spec), "--warehouse", str(warehouse),
            "--connections", str(E2E / "lakeflow.toml"), "--json",
        ]
        if parallelism:
            cmd += ["--parallelism", str(parallelism)]
        if read_partitions:
            cmd += ["--read-partitions", str(read_partitions)]
        cpu = sim.cpu_seconds()
        out, seconds, peak = measure(cmd, env=env, log=self.log)
        self.server_cpu = sim.cpu_seconds() - cpu
        summary = json.loads(out)
        failed = [t for t in summary if t.get("status") != "ok"]
        if failed:
            raise SystemExit(f"lakeflow failed: {failed}")
        rows = sum(t["appended"] + t["inserted"] + t["updated"] for t in summary)
        return rows, seconds, peak

    def dlt(self, dest, state, sim, mode, repos, parallelized=False, name="bench_issues"):
        cmd = [
            sys.executable, str(DLT_SCRIPT), "--base-url", sim.url,
            "--token", sim.manifest["token"], "--owner", sim.manifest["owner"],
            "--dest", str(dest), "--work", str(state), "--mode", mode, "--pipeline-name", name,
        ]
        for repo in repos:
            cmd += ["--repo", repo]
        if parallelized:
            cmd.append("--parallelized")
        if self.args.dlt_max_table_nesting is not None:
            cmd += ["--max-table-nesting", str(self.args.dlt_max_table_nesting)]
        cpu = sim.cpu_seconds()
        out, seconds, peak = measure(cmd, log=self.log)
        self.server_cpu = sim.cpu_seconds() - cpu
        summary = json.loads(out.strip().splitlines()[-1])
        rows = sum(v for k, v in summary["rows"].items() if k.startswith("issues") and "__" not in k)
        return rows, seconds, peak

    def record(self, scenario, tool, rows, seconds, peak, note=""):
        r = {
            "scenario": scenario, "tool": tool, "rows": rows, "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds) if rows else None,
            "peak_rss_mib": round(peak, 1), "records": self.args.records,
            # The simulator's CPU seconds during the run: near `seconds`, the server was the
            # bottleneck and the tool's figure is a lower bound.
            "server_cpu_seconds": round(self.server_cpu, 3),
            "build": str(self.args.build_dir), "note": note,
        }
        self.results.append(r)
        with open(self.work / "results.jsonl", "a") as f:
            f.write(json.dumps(r) + "\n")
        rate = f"{r['rows_per_second']:,} rows/s" if rows else "-"
        print(
            f"  {tool:<24} {rows:>9,} rows {seconds:9.2f} s  {rate:>16}  {peak:8.1f} MiB"
            f"  (simulator CPU {self.server_cpu:.2f} s)",
            flush=True,
        )


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def scenario_a(run, base, truth):
    print("(a) full load, append table", flush=True)
    d = fresh(run.work / "a")
    sim = Simulator(run.lakeflow, base, log=run.log)
    try:
        sim.warm(["issues"])
        pages, s, m = run.floor(sim, "issues")
        run.record("a: full load, append", "plain fetch (floor)", 0, s, m, note=f"{pages} pages")
        rows, s, m = run.ours(E2E / "issues-append.yaml", d / "warehouse", sim)
        run.record("a: full load, append", "lakeflow", rows, s, m)
        if run.args.baseline_build:
            rows, s, m = run.ours(E2E / "issues-append.yaml", d / "warehouse-baseline", sim,
                                  build=run.args.baseline_build)
            run.record("a: full load, append", "lakeflow (baseline)", rows, s, m)
        rows, s, m = run.dlt(d / "dlt", d / "dlt-state", sim, "append", ["issues"])
        run.record("a: full load, append", "dlt", rows, s, m)
    finally:
        sim.stop()
    verify("lakeflow", d / "warehouse/bench/github/issues", truth)
    if run.args.baseline_build:
        verify("lakeflow (baseline)", d / "warehouse-baseline/bench/github/issues", truth)
    verify("dlt", d / "dlt/github/issues", truth)


def scenario_bc(run, base, changes, truth_base, truth_changed, with_c):
    print("(b) full load, merge table; then 10% changed, incremental merge by key", flush=True)
    d = fresh(run.work / "b")
    ours_spec, wh = E2E / "issues-merge.yaml", d / "warehouse"
    wh_base, baseline = d / "warehouse-baseline", run.args.baseline_build

    def ours_and_baseline(scenario, truth=None):
        rows, s, m = run.ours(ours_spec, wh, sim)
        run.record(scenario, "lakeflow", rows, s, m)
        if baseline:
            rows, s, m = run.ours(ours_spec, wh_base, sim, build=baseline)
            run.record(scenario, "lakeflow (baseline)", rows, s, m)
        if truth:
            verify("lakeflow", wh / "bench/github/issues", truth)
            if baseline:
                verify("lakeflow (baseline)", wh_base / "bench/github/issues", truth)

    dlt_dest, dlt_state = d / "dlt", d / "dlt-state"
    sim = Simulator(run.lakeflow, base, log=run.log)
    try:
        sim.warm(["issues"])
        pages, s, m = run.floor(sim, "issues")
        run.record("b: full load, merge table", "plain fetch (floor)", 0, s, m,
                   note=f"{pages} pages")
        ours_and_baseline("b: full load, merge table", truth_base)
        rows, s, m = run.dlt(dlt_dest, dlt_state, sim, "merge", ["issues"])
        run.record("b: full load, merge table", "dlt", rows, s, m)
    finally:
        sim.stop()
    verify("dlt", dlt_dest / "github/issues", truth_base)
    sim = Simulator(run.lakeflow, changes, log=run.log)
    try:
        sim.warm(["issues"])
        ours_and_baseline("b: incremental, 10% changed", truth_changed)
        rows, s, m = run.dlt(dlt_dest, dlt_state, sim, "merge", ["issues"])
        run.record("b: incremental, 10% changed", "dlt", rows, s, m)
        verify("dlt", dlt_dest / "github/issues", truth_changed)
        if with_c:
            print("(c) incremental run, nothing new", flush=True)
            ours_and_baseline("c: incremental, nothing new")
            rows, s, m = run.dlt(dlt_dest, dlt_state, sim, "merge", ["issues"])
            run.record("c: incremental, nothing new", "dlt", rows, s, m)
            verify("lakeflow", wh / "bench/github/issues", truth_changed)
            verify("dlt", dlt_dest / "github/issues", truth_changed)
    finally:
        sim.stop()


def latency_spec(path, repos):
    lines = [
        "# Generated by bench/e2e.py: one `issues` table per repository, for the latency scenario.",
        "connection_name: bench_github",
        "objects:",
    ]
    for repo in repos:
        lines += [
            "  - table:",
            "      source_table: issues",
            "      destination_catalog: bench",
            "      destination_schema: github",
            f"      destination_table: issues_{repo.replace('-', '_')}",
            "      table_configuration:",
            f"        owner: bench",
            f"        repo: {repo}",
            "        scd_type: APPEND_ONLY",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def scenario_latency(run, corpus):
    manifest = json.loads((corpus / "manifest.json").read_text())
    repos = manifest["repos"]
    print(
        f"(latency) 50 ms per request, {len(repos)} repositories, "
        f"{manifest['records']:,} records in all",
        flush=True,
    )
    truth = expected(corpus)
    d = fresh(run.work / "latency")
    spec = latency_spec(d / "latency.yaml", repos)
    sim = Simulator(run.lakeflow, corpus, faults="latency", log=run.log)
    label = f"latency: 50 ms/request, {len(repos)} tables"
    try:
        for parallelism, partitions in run.args.latency_parallelism:
            wh = fresh(d / f"warehouse-p{parallelism}-r{partitions}")
            rows, s, m = run.ours(spec, wh, sim, parallelism=parallelism,
                                  read_partitions=partitions)
            tool = f"lakeflow --parallelism {parallelism}"
            if partitions > 1:
                tool += f" --read-partitions {partitions}"
            run.record(label, tool, rows, s, m)
            for repo in repos:
                verify(f"{tool} {repo}",
                       wh / f"bench/github/issues_{repo.replace('-', '_')}", truth[repo])
        for parallelized in (False, True):
            name = "dlt parallelized" if parallelized else "dlt"
            dest = fresh(d / f"dlt-{int(parallelized)}")
            rows, s, m = run.dlt(dest, d / f"dlt-state-{int(parallelized)}", sim, "append", repos,
                                 parallelized=parallelized, name=f"latency_{int(parallelized)}")
            run.record(label, name, rows, s, m)
            for repo in repos:
                verify(f"{name} {repo}", dest / f"github/issues_{repo.replace('-', '_')}",
                       truth[repo])
    finally:
        sim.stop()


def print_table(results):
    print()
    print(
        "| scenario | tool | rows | seconds | rows/s | peak RSS (MiB) | simulator CPU (s) "
        "| time dlt/ours | memory dlt/ours | time ours/floor |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours = {r["scenario"]: r for r in results if r["tool"] == "lakeflow"}
    floors = {r["scenario"]: r for r in results if r["tool"] == "plain fetch (floor)"}
    for r in results:
        base = ours.get(r["scenario"]) if r["tool"] in ("dlt", "lakeflow (baseline)") else None
        tratio = f"{r['seconds'] / base['seconds']:.1f}x" if base else ""
        mratio = f"{r['peak_rss_mib'] / base['peak_rss_mib']:.1f}x" if base else ""
        floor = floors.get(r["scenario"]) if r["tool"].startswith("lakeflow") else None
        fratio = f"{r['seconds'] / floor['seconds']:.2f}x" if floor else ""
        rate = f"{r['rows_per_second']:,}" if r["rows_per_second"] else "-"
        rows = f"{r['rows']:,}" if r["rows"] else (r["note"] or "0")
        print(
            f"| {r['scenario']} | {r['tool']} | {rows} | {r['seconds']:.2f} | {rate} "
            f"| {r['peak_rss_mib']:.1f} | {r['server_cpu_seconds']:.2f} | {tratio} | {mratio} "
            f"| {fratio} |"
        )


def main():
    ap = argparse.ArgumentParser(description="lakeflow vs dlt, end to end")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--build-dir", type=pathlib.Path, required=True,
                    help="the cargo profile directory holding `lakeflow` and `corpus-gen`")
    ap.add_argument("--work", type=pathlib.Path,
                    default=pathlib.Path.home() / ".cache/lakeflow-rs/bench-e2e")
    ap.add_argument("--scenarios", default="a,b,c,latency")
    ap.add_argument("--changes", type=float, default=0.1)
    ap.add_argument("--latency-repos", type=int, default=4)
    ap.add_argument("--latency-records", type=int, default=40_000,
                    help="records over all repositories of the latency scenario")
    ap.add_argument("--latency-parallelism", default="1,2,4,1x4,4x4",
                    help="runs of the latency scenario: P (tables at once) or PxR (and R "
                         "partitions of each table at once, GitHub's partitioned stream)")
    ap.add_argument("--baseline-build", type=pathlib.Path,
                    help="another build's directory (holding `lakeflow`), run beside this one "
                         "in scenarios a, b and c: before and after a change, in one run")
    ap.add_argument("--dlt-max-table-nesting", type=int,
                    help="passed to dlt (default: dlt's own, child tables for nested lists)")
    args = ap.parse_args()
    args.build_dir = args.build_dir.resolve()
    args.baseline_build = args.baseline_build.resolve() if args.baseline_build else None
    args.latency_parallelism = [
        tuple(int(n) for n in (p.split("x") + ["1"])[:2]) for p in args.latency_parallelism.split(",")
    ]
    scenarios = set(args.scenarios.split(","))
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "results.jsonl").unlink(missing_ok=True)
    run = Run(args, work)
    corpus_gen = args.build_dir / "corpus-gen"
    print(f"lakeflow vs dlt: {args.records:,} records, build {args.build_dir}, work {work}", flush=True)

    if scenarios & {"a", "b", "c"}:
        base = generate(corpus_gen, work / f"corpus-{args.records}", args.records, log=run.log)
        truth_base = expected(base)["issues"]
        if "a" in scenarios:
            scenario_a(run, base, truth_base)
        if scenarios & {"b", "c"}:
            changes = generate(corpus_gen, work / f"corpus-{args.records}-changes", args.records,
                               changes=args.changes, log=run.log)
            scenario_bc(run, base, changes, truth_base, expected(changes)["issues"],
                        with_c="c" in scenarios)
    if "latency" in scenarios:
        corpus = generate(corpus_gen, work / f"corpus-latency-{args.latency_records}",
                          args.latency_records, repos=args.latency_repos, log=run.log)
        scenario_latency(run, corpus)
    print_table(run.results)


if __name__ == "__main__":
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
        if not isinstance(e.code, int) and e.code is not None:
            print(e.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # The deltalake package's runtime aborts at interpreter exit; leave without finalising it.
    os._exit(code)
