"""`ssodiag --help` loads no heavy module: the XML, crypto, capture and report libraries load only when a command
runs; and no command loads pydantic (typer 0.29 imports it to coerce option values: pyproject keeps typer below).
Asserted by what is imported, not by the clock (bench/bench_whole_process.py measures the time)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.idp import TestIdP

SAMPLES = Path(__file__).resolve().parent.parent / "diag" / "samples"

HEAVY = ("lxml", "signxml", "cryptography", "xmlsec", "ijson", "jinja2", "rich", "ssodiag.diag.evidence",
         "ssodiag.diag.signature", "ssodiag.diag.redact", "ssodiag.reports.document",
         "ssodiag.diag.model")  # 34 records and msgspec; the options' types come from ssodiag.diag.enums

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


ANALYZE_PROBE = """
import sys
from ssodiag.diag.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    print("exit", exc.code)
print("pydantic loaded" if "pydantic" in sys.modules else "no pydantic")
"""


def test_analyze_loads_no_pydantic():
    sample = SAMPLES / "okta-healthy"
    args = ["analyze", str(sample / "login.har"), "--idp-metadata", str(sample / "okta-metadata.xml"), "-f", "json",
            "--fail-on", "never", "--no-redact"]
    done = subprocess.run([sys.executable, "-c", ANALYZE_PROBE, *args], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-2:] == ["exit 0", "no pydantic"], done.stdout[-300:] + done.stderr[-300:]


@pytest.mark.parametrize("module", [
    "lxml.html",  # about 20 ms of every start: loads only when a page is read
    "cryptography.hazmat.primitives.serialization.pkcs7",  # with the email package, about 5 ms: only for a bundle
])
def test_a_message_alone_loads_no_module_it_does_not_need(tmp_path, module):
    (tmp_path / "response.xml").write_bytes(TestIdP().signed_response())
    probe = ANALYZE_PROBE.replace("pydantic", module)
    done = subprocess.run([sys.executable, "-c", probe, "analyze", str(tmp_path / "response.xml"), "-f", "json",
                           "--fail-on", "never"], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-2:] == ["exit 0", f"no {module}"], done.stdout[-300:] + done.stderr[-300:]
