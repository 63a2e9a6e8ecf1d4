"""Benchmark: ssodiag as a user runs it, a whole process each time, against the peer doing the same job.

Run from the repo root:  python bench/bench_whole_process.py   (needs the `test` and `bench` extras), with the
python of a venv made without system site-packages (`python -m venv v && v/bin/pip install -e '.[test,bench]'`): a
``.pth`` file in a shared site-packages may import modules at every interpreter start, which both sides then pay
for; the benchmark warns when the interpreter does.

- `ssodiag --help` against `python -c "import typer"` (the floor of any typer command line);
- `ssodiag analyze` of 200 signed Responses (one process, every check) against python3-saml's strict
  `is_valid` of the same 200 files (one process);
- `ssodiag analyze` of a 100 MB HAR (a "Preserve log" session: one login among script bodies, once plain `x`, once
  script text with quotes, line feeds and non-ASCII as browsers save it, and once that script text in entries of
  Chrome's shape written indented as Chrome's "Export HAR" does) against a process that only runs
  `json.load` on the same file, the same against a HAR of the login alone (the cost of any analyze before the
  capture's size counts), and the 100 MB HAR's reading taken apart inside this process (CPU seconds of `json.load`;
  of the streamed reading: ijson's C parser alone, with the lone-surrogate rewrite, and with `read_har`; of the
  mapped reading analyze uses: msgspec's decode into entry views, and with `read_har`), so that what the whole
  process adds is visible.

Each figure is the median of REPEAT runs after one unmeasured run, ssodiag's and the peer's runs alternating; time
is wall-clock and CPU (user + system) of the child, peak RSS is the kernel's figure for the child, started from a
small interpreter so that this process's memory is not counted. The children write and reuse bytecode (in a
temporary PYTHONPYCACHEPREFIX), as an installed package does: pip compiles it at install time, and the libraries the
peers import have theirs. Without it, a shell with PYTHONDONTWRITEBYTECODE set recompiles every ssodiag module at
each start (0.1-0.2 s of CPU per process).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harbuild import SCRIPT_TEXT, HarBuilder, post_body, write_session_har  # noqa: E402
from tests.idp import ACS_URL, TestIdP  # noqa: E402
from timing import median_seconds  # noqa: E402

REPEAT = 5
RESPONSES = 200
HAR_BYTES = 100 * 1024 * 1024

# The child runs under this small interpreter, which prints its wall time, CPU time and peak RSS.
_MEASURE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; w = time.perf_counter() - t; "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(w, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, code)")

PYTHON3_SAML = """
import base64, sys
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
cert = open(sys.argv[1]).read()
settings = OneLogin_Saml2_Settings({
    "strict": True, "debug": False,
    "sp": {"entityId": "https://sp.example.test/metadata",
           "assertionConsumerService": {"url": "https://sp.example.test/acs"}},
    "idp": {"entityId": "https://idp.example.test/metadata",
            "singleSignOnService": {"url": "https://idp.example.test/sso"}, "x509cert": cert},
    "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True},
}, sp_validation_only=True)
request = {"https": "on", "http_host": "sp.example.test", "script_name": "/acs"}
valid = 0
for path in sys.argv[2:]:
    response = OneLogin_Saml2_Response(settings, base64.b64encode(open(path, "rb").read()))
    valid += response.is_valid(request, request_id="_request-1", raise_exceptions=False)
assert valid == len(sys.argv) - 2, f"python3-saml accepted {valid}"
"""

JSON_LOAD = "import json, sys; json.load(open(sys.argv[1], 'rb'))"


PYCACHE = tempfile.TemporaryDirectory(prefix="ssodiag-bench-pyc-")
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
    "PYTHONPYCACHEPREFIX": PYCACHE.name}


def measure(ours: list[str], theirs: list[str]) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Median (wall s, CPU s, peak RSS MiB) of REPEAT runs of each command, after one unmeasured run of each; the
    runs alternate, so that both commands meet the same load from other work on a shared machine."""
    for command in (ours, theirs):
        subprocess.run(command, stdout=subprocess.DEVNULL, env=CHILD_ENV)  # writes the bytecode; not measured
    runs: dict[int, list[tuple[float, float, float]]] = {0: [], 1: []}
    for _ in range(REPEAT):
        for side, command in enumerate((ours, theirs)):
            out = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True,
                                 check=True, env=CHILD_ENV)
            wall, cpu, rss, code = out.stdout.split()
            if int(code) not in (0, 1):
                raise SystemExit(f"{command[:4]} exited {code}")
            runs[side].append((float(wall), float(cpu), float(rss)))
    ours_median, theirs_median = (tuple(statistics.median(r[i] for r in runs[side]) for i in range(3))
                                  for side in (0, 1))
    return ours_median, theirs_median


def session_har(path: Path, idp: TestIdP, body: str, chrome: bool = False) -> Path:
    """One login among script requests with 20 KB bodies (``body`` repeated) and 20 headers each, HAR_BYTES in all
    (entries of Chrome's shape, indented, with ``chrome``); returns a HAR of the login alone, written beside it."""
    har = HarBuilder()
    har.add("POST", ACS_URL, body=post_body("SAMLResponse", idp.signed_response(), "relay"))
    write_session_har(path, har.entries[0], HAR_BYTES, body_chars=20_000, headers=20, body=body, chrome=chrome)
    login = path.with_name("login.har")
    login.write_bytes(har.bytes())
    return login


def har_reading_parts(path: Path, bodies: str) -> str:
    """The HAR's reading taken apart in this process: the streamed reading (ijson's parse, the rewrite of lone
    surrogates, the entries read) and the mapped one that analyze uses for a HAR as browsers write it (the decode
    into entry views, the entries read)."""
    import ijson

    from ssodiag.diag.capture_stream import HAR_ENTRIES, READ_BYTES, har_entries, mapped_har_entries
    from ssodiag.diag.har import read_har

    def parse_only():
        with open(path, "rb") as fh:
            for _ in ijson.items(fh, HAR_ENTRIES, use_float=True, buf_size=READ_BYTES):
                pass

    def streamed():
        with open(path, "rb") as fh:
            for _ in har_entries(fh, str(path)):
                pass

    def read():
        with open(path, "rb") as fh:
            read_har(har_entries(fh, str(path)), str(path))

    def mapped():
        with open(path, "rb") as fh:
            assert mapped_har_entries(fh) is not None

    def read_mapped():
        with open(path, "rb") as fh:
            read_har(mapped_har_entries(fh), str(path))

    def load():
        with open(path, "rb") as fh:
            json.load(fh)

    cpu = [median_seconds(f, REPEAT, clock=time.process_time)
           for f in (load, parse_only, streamed, read, mapped, read_mapped)]
    return (f"| HAR of {path.stat().st_size / 1e6:.0f} MB, {bodies} | "
            + " | ".join(f"{seconds:.3f}" for seconds in cpu) + " |")


def row(what: str, ours: tuple[float, float, float], theirs: tuple[float, float, float], peer: str) -> str:
    return (f"| {what} | {peer} | {ours[0]:.2f} | {theirs[0]:.2f} | {ours[0] / theirs[0]:.2f} | {ours[1]:.2f} | "
            f"{theirs[1]:.2f} | {ours[1] / theirs[1]:.2f} | {ours[2]:.0f} | {theirs[2]:.0f} |")


def interpreter_extras() -> list[str]:
    """Third-party modules the interpreter imports before any command runs (a ``.pth`` file in site-packages can
    import anything at every start): they cost both sides the same fixed time and so flatter the ratios."""
    out = subprocess.run([sys.executable, "-c", "import sys; print(*sys.modules)"], capture_output=True, text=True,
                         check=True, env=CHILD_ENV).stdout.split()
    top = {name.partition(".")[0] for name in out}
    return sorted(name for name in top - set(sys.stdlib_module_names) - set(sys.builtin_module_names)
                  if name not in ("_distutils_hack", "__main__") and not name.startswith("__editable__"))


def main() -> int:
    extras = interpreter_extras()
    if extras:
        print(f"warning: {sys.executable} imports {', '.join(extras)} at every start (a .pth file in its "
              "site-packages); both sides pay for it, which flatters the ratios: run from a venv without system "
              "site-packages", file=sys.stderr)
    idp = TestIdP()
    ssodiag = [sys.executable, "-m", "ssodiag"]
    print("| workload | peer | ssodiag wall (s) | peer wall (s) | wall ratio | ssodiag CPU (s) | peer CPU (s) | "
          "CPU ratio | ssodiag peak RSS (MiB) | peer peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(row("`ssodiag --help`", *measure(ssodiag + ["--help"], [sys.executable, "-c", "import typer"]),
              "`import typer`"), flush=True)
    with tempfile.TemporaryDirectory(prefix="ssodiag-bench-") as tmp:
        folder = Path(tmp)
        cert = folder / "idp.pem"
        cert.write_text(idp.cert_pem)
        files = []
        for i in range(RESPONSES):
            files.append(folder / f"response-{i:03d}.xml")
            files[-1].write_bytes(idp.signed_response())
        analyze = ssodiag + ["analyze", "--idp-cert", str(cert), "--format", "json", "--fail-on", "never",
                             "--no-redact"]
        ours, theirs = measure(analyze + list(map(str, files)),
                               [sys.executable, "-c", PYTHON3_SAML, str(cert), *map(str, files)])
        print(row(f"{RESPONSES} signed Responses", ours, theirs, "python3-saml strict is_valid"), flush=True)
        parts = []
        for bodies, body, chrome in (("plain bodies", "x", False), ("script bodies", SCRIPT_TEXT, False),
                                     ("script bodies, Chrome's export", SCRIPT_TEXT, True)):
            har = folder / f"session-{len(parts)}.har"
            login = session_har(har, idp, body, chrome)
            if body == "x":  # what any analyze costs before the capture's size counts
                ours, theirs = measure(analyze + [str(login)], [sys.executable, "-c", JSON_LOAD, str(login)])
                print(row(f"HAR of the login alone ({login.stat().st_size / 1e3:.0f} KB)", ours, theirs,
                          "`json.load`"), flush=True)
            ours, theirs = measure(analyze + [str(har)], [sys.executable, "-c", JSON_LOAD, str(har)])
            print(row(f"HAR of {har.stat().st_size / 1e6:.0f} MB, {bodies}", ours, theirs, "`json.load`"),
                  flush=True)
            parts.append(har_reading_parts(har, bodies))
        print("\n| in this process (CPU s) | json.load | streamed: ijson items | + lone-surrogate rewrite | "
              "+ read_har | mapped: entry views | + read_har (what analyze does) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        print("\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
