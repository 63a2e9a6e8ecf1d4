"""Benchmark: `ssodiag sanitize` of a 100 MB HAR as a user runs it, a whole process, against a process that only
loads the same HAR with `json.load` and writes it back with `json.dump` (the least a sanitizer that reads the file
whole does, before it changes anything).

Run from the repo root:  python bench/bench_sanitize.py   (needs the `test` and `bench` extras)

The HAR is bench_whole_process's "Preserve log" session (one login among script requests with 20 KB bodies); the
figures are medians of its `measure` (wall, CPU and peak RSS of each child process, the two commands alternating).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_whole_process import measure, row, session_har  # noqa: E402
from tests.idp import TestIdP  # noqa: E402

ROUND_TRIP = "import json, sys; json.dump(json.load(open(sys.argv[1], 'rb')), open(sys.argv[2], 'w'))"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        har, out = Path(folder) / "session.har", Path(folder) / "safe.har"
        session_har(har, TestIdP(), "x")
        ours, theirs = measure([sys.executable, "-m", "ssodiag", "sanitize", str(har), "-o", str(out)],
                               [sys.executable, "-c", ROUND_TRIP, str(har), str(out)])
        size = har.stat().st_size / 1e6
    print(row(f"`sanitize` of a {size:.0f} MB HAR", ours, theirs, "`json.load` + `json.dump`"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
