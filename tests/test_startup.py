"""`ssodiag --help` loads no heavy module: the XML, crypto, capture and report libraries load only when a command
runs. Asserted by what is imported, not by the clock (bench/bench_whole_process.py measures the time)."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("lxml", "signxml", "cryptography", "xmlsec", "ijson", "jinja2", "rich", "ssodiag.diag.evidence",
         "ssodiag.diag.signature", "ssodiag.diag.redact", "ssodiag.reports.document",
         "ssodiag.diag.model")  # 34 dataclasses; the options' types come from ssodiag.diag.enums

PROBE = """
import sys
from ssodiag.diag.cli import app
try:
    app(["--help"])
except SystemExit:
    pass
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in {"lxml", "signxml", "cryptography", "xmlsec",
      "ijson", "jinja2", "rich"} or m.startswith(("ssodiag.diag.", "ssodiag.reports.")))))
"""


def test_help_loads_no_heavy_module():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(done.stdout.split("\n")[-2].split())
    assert "Usage:" in done.stdout and not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
