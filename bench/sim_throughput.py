#!/usr/bin/env python3
"""Requests per second of a running simulator serving a `corpus-gen` corpus.

    python3 bench/sim_throughput.py CORPUS_DIR BASE_URL [--requests N] [--mode walk|since]

`walk` follows the Link header from page 1 of `?state=all&sort=updated&direction=asc&per_page=100`
(what dlt does: one query, page after page); `since` starts a new query every 10 pages at the
last `updated_at` seen (what the lakeflow connector does between reads). One keep-alive
connection, standard library only. Prints one JSON line.
"""

import argparse
import http.client
import json
import pathlib
import re
import time
import urllib.parse


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("base_url")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--mode", choices=["walk", "since"], default="walk")
    args = ap.parse_args()
    manifest = json.loads((pathlib.Path(args.corpus) / "manifest.json").read_text())
    base = urllib.parse.urlsplit(args.base_url)
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=600)
    headers = {"Authorization": f"Bearer {manifest['token']}"}
    path = f"/repos/{manifest['owner']}/{manifest['repos'][0]}/issues"
    query = {"state": "all", "sort": "updated", "direction": "asc", "per_page": "100"}
    url = f"{path}?{urllib.parse.urlencode(query)}"
    records = 0
    last_updated = None
    started = time.perf_counter()
    for n in range(args.requests):
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {body[:200]!r}")
        page = json.loads(body)
        records += len(page)
        if page:
            last_updated = page[-1]["updated_at"]
        link = response.getheader("link") or ""
        nxt = re.search(r'<([^>]+)>; rel="next"', link)
        if args.mode == "since" and (n + 1) % 10 == 0 and last_updated:
            q = dict(query, since=last_updated)
            url = f"{path}?{urllib.parse.urlencode(q)}"
        elif nxt:
            parts = urllib.parse.urlsplit(nxt.group(1))
            url = f"{parts.path}?{parts.query}"
        else:
            break
    seconds = time.perf_counter() - started
    print(json.dumps({
        "mode": args.mode,
        "requests": n + 1,
        "records": records,
        "seconds": round(seconds, 3),
        "requests_per_second": round((n + 1) / seconds, 1),
    }))


if __name__ == "__main__":
    main()
