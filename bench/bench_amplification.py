"""Benchmark: inputs small on disk that once made one run do unbounded work, each run as a whole `ssodiag analyze`
process, with its wall-clock time and peak memory (RSS) against the bound every hostile input must meet.

Run from the repo root:  python bench/bench_amplification.py   (needs the `test` extras; exits 1 when a run is over
its bound)

The tests (tests/test_amplification.py) assert which cap each input hits; the time and memory are measured here,
because a wall-clock bound inside a test flakes on a shared 2-core machine. Peak RSS comes from the kernel's
accounting of the analysing process, so it includes the interpreter and every library.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import (  # noqa: E402
    empty_entries_har, escaped_key_entries_har, inflating_redirects_har, nested_signatures_har, text_flood,
)
from tests.idp import TestIdP  # noqa: E402

TIME_BOUND_S = 10.0
MEMORY_BOUND_MIB = 400


# Started from a small interpreter, so the peak RSS the kernel reports for the analysed run is its own (a child
# forked from this process, which holds the built inputs, would start with this process's pages counted).
_MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def run(path: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, exit code) of `ssodiag analyze path` as its own process."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "ssodiag", "analyze", str(path), "--format",
               "json", "-o", str(path.with_suffix(".report.json"))]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak_kib, code = done.stdout.split()
    return seconds, int(peak_kib) / 1024, int(code)


def main() -> int:
    idp = TestIdP()
    inputs = {
        "HAR of 500 Redirect messages, each inflating to the per-message cap": ("redirects.har",
                                                                               inflating_redirects_har(500)),
        "HAR of 40 Responses with 9 nested signatures each": ("nested.har", nested_signatures_har(idp, 40)),
        "HAR of 63 MB of empty entries": ("empty.har", empty_entries_har(63)),
        "HAR of 63 MB of tiny entries, their request key escaped": ("escaped.har", escaped_key_entries_har(63)),
        "60 MB of text": ("text.txt", text_flood(60)),
    }
    over = 0
    print(f"Bounds: {TIME_BOUND_S:.0f} s and {MEMORY_BOUND_MIB} MiB per run.\n")
    print("| Input | Size on disk (MB) | Time (s) | Peak RSS (MiB) | Exit | Within bounds |")
    print("|---|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="ssodiag-amplification-") as folder:
        for what, (name, data) in inputs.items():
            path = Path(folder) / name
            path.write_bytes(data)
            seconds, mib, code = run(path)
            within = seconds <= TIME_BOUND_S and mib <= MEMORY_BOUND_MIB
            over += not within
            print(f"| {what} | {len(data) / 1e6:.1f} | {seconds:.2f} | {mib:.0f} | {code} | "
                  f"{'yes' if within else 'NO'} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
