"""Benchmark: what the findings and the report cost per Response, inside one process.

Run from the repo root:  python bench/bench_report.py   (needs the `test` extra; use a clean venv, see
docs/performance.md)

200 signed Responses (tests/idp.py, as bench_whole_process.py makes them) give ~35 findings each, most of them
passes. The signature step runs once beforehand (its cost is bench_evidence's and bench_whole_process's); then, for
each format, the CPU seconds (median of REPEAT runs in this process) of the checks (``runner.analyze`` with the
messages already verified), of the report document, and of rendering and writing the report as ``analyze`` does
(to /dev/null through a UTF-8 text stream, as stdout). To compare two versions, run it in a worktree of each.
"""
from __future__ import annotations

import io
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ssodiag.diag import runner  # noqa: E402
from ssodiag.diag.certs import load_certificates  # noqa: E402
from ssodiag.diag.context import DiagContext  # noqa: E402
from ssodiag.diag.evidence import load_evidence  # noqa: E402
from ssodiag.diag.model import Expectations  # noqa: E402
from ssodiag.diag.output import deliver  # noqa: E402
from ssodiag.reports.document import build_document  # noqa: E402
from ssodiag.reports.render import render  # noqa: E402
from tests.idp import TestIdP  # noqa: E402
from timing import median_seconds  # noqa: E402

REPEAT = 11
RESPONSES = 200
FORMATS = ("json", "md", "html", "terminal")


def main() -> int:
    idp = TestIdP()
    with tempfile.TemporaryDirectory(prefix="ssodiag-bench-") as tmp:
        files = []
        for i in range(RESPONSES):
            files.append(Path(tmp) / f"response-{i:03d}.xml")
            files[-1].write_bytes(idp.signed_response())
        evidence = load_evidence([str(f) for f in files])
    expect = Expectations(idp_certificates=load_certificates(idp.cert_pem.encode(), "idp.pem"))
    now = datetime.now(timezone.utc)
    verified = runner.prepare(evidence, expect, DiagContext(evidence=evidence, expect=expect, now=now))
    sink = io.TextIOWrapper(open("/dev/null", "wb"), encoding="utf-8")

    with mock.patch.object(runner, "prepare", lambda *_: verified):
        result = runner.analyze(evidence, expect, now=now)
        checks = median_seconds(lambda: runner.analyze(evidence, expect, now=now), REPEAT, warm_up=True,
                                clock=time.process_time)
    document = median_seconds(lambda: build_document(result), REPEAT, warm_up=True, clock=time.process_time)
    doc = build_document(result)
    print(f"{len(result.findings)} findings for {RESPONSES} Responses; CPU ms, median of {REPEAT} runs\n")
    print("| format | checks | report document | render + write | total | per Response (µs) |")
    print("|---|---:|---:|---:|---:|---:|")
    for fmt in FORMATS:
        def write() -> None:
            with redirect_stdout(sink):
                deliver(render("report", doc, fmt), None, what="report")

        written = median_seconds(write, REPEAT, warm_up=True, clock=time.process_time)
        total = checks + document + written
        print(f"| {fmt} | {checks * 1e3:.1f} | {document * 1e3:.1f} | {written * 1e3:.1f} | {total * 1e3:.1f} | "
              f"{total / RESPONSES * 1e6:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
