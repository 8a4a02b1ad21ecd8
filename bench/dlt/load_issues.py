#!/usr/bin/env python3
"""dlt's side of the end-to-end benchmark: GitHub issues from the simulator into local Delta tables.

    python bench/dlt/load_issues.py --base-url URL --token TOKEN --dest DIR --work DIR \
        [--owner bench] [--repo issues ...] [--mode append|merge] [--parallelized]

dlt's own `rest_api` source, configured as its docs describe for GitHub: bearer auth, the
`header_link` paginator (GitHub's `Link: <...>; rel="next"`), `per_page=100`, `state=all`,
`sort=updated&direction=asc`, and incremental loading on `updated_at` through the `since`
parameter (`initial_value` the epoch, so the first run is a full load). Pull requests, which
GitHub lists among issues, are left out with a `processing_steps` filter, as the lakeflow `issues`
table leaves them out. Primary key `id`; `--mode append` appends (scenario a), `--mode merge`
upserts by key (`write_disposition` merge, strategy `upsert`: scenarios b and c). Destination:
`filesystem` with `table_format="delta"`, so each repository lands in
`DIR/<dataset>/<resource>` as a Delta table (nested lists such as `labels` and `assignees` go to
child tables, dlt's default; `--max-table-nesting 0` keeps them as JSON columns instead).

Pipeline state lives in `--work` (not ~/.dlt), so a run is repeatable and incremental runs find
the state of the previous one. Telemetry is off (`RUNTIME__DLTHUB_TELEMETRY=false`). Prints one
JSON line: rows loaded per table and seconds.
"""

import argparse
import json
import os
import time

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt  # noqa: E402
from dlt.sources.rest_api import rest_api_source  # noqa: E402

DATASET = "github"


def resource_name(repo: str, repos: list) -> str:
    return "issues" if len(repos) == 1 else "issues_" + repo.replace("-", "_")


def build_source(args):
    disposition = (
        "append"
        if args.mode == "append"
        else {"disposition": "merge", "strategy": "upsert"}
    )
    resources = []
    for repo in args.repo:
        resource = {
            "name": resource_name(repo, args.repo),
            "primary_key": "id",
            "write_disposition": disposition,
            "table_format": "delta",
            "endpoint": {
                "path": f"repos/{args.owner}/{repo}/issues",
                "params": {
                    "state": "all",
                    "sort": "updated",
                    "direction": "asc",
                    "per_page": 100,
                },
                "incremental": {
                    "start_param": "since",
                    "cursor_path": "updated_at",
                    "initial_value": "1970-01-01T00:00:00Z",
                },
            },
            "processing_steps": [{"filter": lambda item: "pull_request" not in item}],
        }
        if args.parallelized:
            resource["parallelized"] = True
        if args.max_table_nesting is not None:
            resource["max_table_nesting"] = args.max_table_nesting
        resources.append(resource)
    return rest_api_source(
        {
            "client": {
                "base_url": args.base_url.rstrip("/") + "/",
                "auth": {"type": "bearer", "token": args.token},
                "paginator": {"type": "header_link"},
            },
            "resources": resources,
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--dest", required=True, help="the filesystem destination's directory")
    ap.add_argument("--work", required=True, help="dlt's pipelines directory (state)")
    ap.add_argument("--owner", default="bench")
    ap.add_argument("--repo", action="append", help="repeat for several repositories")
    ap.add_argument("--mode", choices=["append", "merge"], default="append")
    ap.add_argument("--pipeline-name", default="bench_issues")
    ap.add_argument("--parallelized", action="store_true", help="extract resources in parallel")
    ap.add_argument(
        "--max-table-nesting",
        type=int,
        help="dlt's max_table_nesting (0: nested values stay JSON columns, no child tables)",
    )
    args = ap.parse_args()
    args.repo = args.repo or ["issues"]

    started = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name=args.pipeline_name,
        pipelines_dir=args.work,
        destination=dlt.destinations.filesystem(bucket_url=os.path.abspath(args.dest)),
        dataset_name=DATASET,
    )
    pipeline.run(build_source(args))
    seconds = time.perf_counter() - started
    trace = pipeline.last_trace
    normalize = trace.last_normalize_info if trace else None
    rows = dict(normalize.row_counts) if normalize else {}
    tables = {
        resource_name(r, args.repo): os.path.join(os.path.abspath(args.dest), DATASET, resource_name(r, args.repo))
        for r in args.repo
    }
    print(json.dumps({"tool": "dlt", "seconds": round(seconds, 3), "rows": rows, "tables": tables}))


if __name__ == "__main__":
    main()
