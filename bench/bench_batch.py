"""Benchmark: `ssodiag batch` throughput in tickets per second, and its scaling from 1 to N worker processes.

Run from the repo root:  python bench/bench_batch.py [--tickets 48] [--workers 1,2]

One ticket = a folder with a 2 MB HAR holding one login (the bundled okta-healthy sample's login among ~1,300
ordinary API requests, as a real capture of a working session looks), the IdP metadata and an ssodiag.toml. The
whole command runs as a subprocess per worker count (start-up, analysis, redaction, HTML + JSON reports, index),
best of --repeat runs, with its CPU time (command and workers: steady when other work shares the cores). The baseline, in the same run, is `json.load` of every HAR one after the other in this
process: the least any tool that reads the captures must spend. It prints a Markdown table; docs/performance.md
records a run and its command.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "diag" / "samples" / "okta-healthy"
HAR_BYTES = 2 * 1024 * 1024


def padded_har(target: int = HAR_BYTES) -> bytes:
    """The sample login surrounded by ordinary requests until the file is ``target`` bytes."""
    har = json.loads((SAMPLE / "login.har").read_text())
    login = har["log"]["entries"]
    filler = []
    size, i = len(json.dumps(har)), 0
    while size < target:
        body = json.dumps({"items": [{"id": j, "name": f"asset-{i}-{j}", "owner": "data-team"} for j in range(20)]})
        entry = {
            "startedDateTime": login[0]["startedDateTime"], "time": 12.0,
            "request": {"method": "GET", "url": f"https://acme.atlan.com/api/meta/search?page={i}", "headers": [],
                        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0, "httpVersion": "HTTP/2"},
            "response": {"status": 200, "statusText": "OK", "cookies": [], "httpVersion": "HTTP/2",
                         "headers": [{"name": "Content-Type", "value": "application/json"}], "redirectURL": "",
                         "content": {"size": len(body), "mimeType": "application/json", "text": body},
                         "headersSize": -1, "bodySize": len(body)},
            "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1}}
        filler.append(entry)
        size += len(json.dumps(entry)) + 2
        i += 1
    half = len(filler) // 2
    har["log"]["entries"] = filler[:half] + login + filler[half:]
    return json.dumps(har).encode()


def make_queue(folder: Path, tickets: int) -> None:
    har = padded_har()
    for n in range(tickets):
        ticket = folder / f"T-{n:04d}"
        ticket.mkdir(parents=True)
        (ticket / "login.har").write_bytes(har)
        for name in ("okta-metadata.xml", "ssodiag.toml"):
            shutil.copy(SAMPLE / name, ticket / name)


def run_batch(queue: Path, out: Path, workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers)."""
    shutil.rmtree(out, ignore_errors=True)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ssodiag", "batch", str(queue), "-o", str(out), "-j", str(workers),
                    "--format", "html,json"], check=True, capture_output=True)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)


def json_load_all(queue: Path) -> float:
    start = time.perf_counter()
    for har in sorted(queue.glob("*/login.har")):
        with har.open("rb") as fh:
            json.load(fh)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=48)
    parser.add_argument("--workers", default="", help="comma-separated worker counts (default: 1 to the CPU count)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    counts = [int(w) for w in args.workers.split(",") if w] or list(range(1, cores + 1))
    with tempfile.TemporaryDirectory() as tmp:
        queue, out = Path(tmp) / "queue", Path(tmp) / "out"
        make_queue(queue, args.tickets)
        har_mb = (queue / "T-0000" / "login.har").stat().st_size / 1e6
        baseline = min(json_load_all(queue) for _ in range(args.repeat))
        print(f"python {sys.version.split()[0]}; {cores} cores; {args.tickets} tickets of a {har_mb:.1f} MB HAR; "
              f"best of {args.repeat}; load average at start {os.getloadavg()[0]:.2f}")
        print("| workers | seconds | tickets / s | speed-up vs 1 worker | CPU s / ticket | json.load of every HAR "
              "(s) | ratio batch / json.load |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        first = None
        for workers in counts:
            seconds, cpu = min(run_batch(queue, out, workers) for _ in range(args.repeat))
            first = first or seconds
            print(f"| {workers} | {seconds:.2f} | {args.tickets / seconds:.1f} | {first / seconds:.2f} | "
                  f"{cpu / args.tickets:.3f} | {baseline:.2f} | {seconds / baseline:.1f} |", flush=True)


if __name__ == "__main__":
    main()
