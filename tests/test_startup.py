"""`ssodiag --help` loads no heavy module: the XML, crypto, capture and report libraries load only when a command
runs; and no command loads pydantic (typer 0.29 imports it to coerce option values: pyproject keeps typer below).
Asserted by what is imported, not by the clock (bench/bench_whole_process.py measures the time)."""
from __future__ import annotations

import re
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


# Typer reads every command's parameters from its function's signature and type hints: `analyze` builds its own
# (and the root's --version option's), and imports none of the modules of the commands it does not run.
BUILT_PROBE = """
import sys
import typer.main

read = []
get_params = typer.main.get_params_from_function
typer.main.get_params_from_function = lambda function: read.append(function.__name__) or get_params(function)
from ssodiag.diag.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    print("exit", exc.code)
print(" ".join(sorted(set(read))))
print(" ".join(sorted(m for m in sys.modules if m.startswith("ssodiag.diag."))))
"""


def test_analyze_builds_only_its_own_command(tmp_path):
    (tmp_path / "response.xml").write_bytes(TestIdP().signed_response())
    done = subprocess.run([sys.executable, "-c", BUILT_PROBE, "analyze", str(tmp_path / "response.xml"), "-f", "json",
                           "--fail-on", "never"], capture_output=True, text=True, timeout=120)
    exit_line, read, modules = done.stdout.splitlines()[-3:]
    assert exit_line == "exit 0", done.stdout[-300:] + done.stderr[-300:]
    assert read.split() == ["_root", "_version", "analyze"]
    assert not {"ssodiag.diag.batch", "ssodiag.diag.diff", "ssodiag.diag.ticket",
                "ssodiag.diag.groupsync_cli"} & set(modules.split())


def test_the_help_still_lists_every_command_in_order():
    done = subprocess.run([sys.executable, "-c", BUILT_PROBE, "--help"], capture_output=True, text=True, timeout=120)
    listed = [line.split()[0] for line in done.stdout.split("Commands:\n", 1)[1].splitlines() if line.startswith("  ")]
    assert listed == ["batch", "diff", "analyze", "demo", "sanitize", "decode", "explain", "checks", "groupsync"]


# Compiling a regular expression is pure Python: a run compiles the patterns of our modules it uses, and no other
# (those stay LazyRegex until used). Used = one of the pattern's methods was called during the run. --no-redact, as
# in the benchmark: redacting loads its own patterns, and uses them.
REGEX_PROBE = """
import re, sys
compiled, used = {}, set()
compile_pattern = re.compile

def spy(pattern, flags=0):
    found = compile_pattern(pattern, flags)
    caller = sys._getframe(1).f_code.co_filename
    if "ssodiag" in caller or "/diag/" in caller or "/checks/" in caller or "/reports/" in caller:
        compiled.setdefault(id(found), (found, caller.rsplit("/", 2)[-2:]))
    return found

def watch(frame, event, arg):
    if event == "c_call" and isinstance(getattr(arg, "__self__", None), re.Pattern):
        used.add(id(arg.__self__))

re.compile = spy
sys.setprofile(watch)
from ssodiag.diag.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    sys.setprofile(None)
    print("exit", exc.code)
print(repr(sorted((where, p.pattern) for key, (p, where) in compiled.items() if key not in used)))
"""


@pytest.mark.parametrize("kind", ["response", "login HAR"])
def test_a_run_compiles_only_the_patterns_it_uses(tmp_path, kind):
    from tests.harbuild import HarBuilder, post_body
    from tests.idp import ACS_URL

    idp = TestIdP()
    if kind == "response":
        evidence = tmp_path / "response.xml"
        evidence.write_bytes(idp.signed_response())
    else:
        har = HarBuilder()
        har.add("POST", ACS_URL, body=post_body("SAMLResponse", idp.signed_response(), "relay"))
        evidence = tmp_path / "login.har"
        evidence.write_bytes(har.bytes())
    done = subprocess.run([sys.executable, "-c", REGEX_PROBE, "analyze", str(evidence), "-f", "json", "--no-redact",
                           "--fail-on", "never"], capture_output=True, text=True, timeout=120)
    exit_line, unused = done.stdout.splitlines()[-2:]
    assert exit_line == "exit 0", done.stdout[-300:] + done.stderr[-300:]
    assert unused == "[]", f"compiled at import but not used (make them LazyRegex): {unused}"


def test_a_lazy_regex_compiles_on_first_use_and_acts_as_the_pattern():
    from ssodiag.diag.lazyre import LazyRegex

    lazy = LazyRegex(r"b(\d+)", re.IGNORECASE)
    assert lazy.pattern == r"b(\d+)" and "search" not in vars(lazy)
    assert lazy.search("aB12").group(1) == "12" and lazy.sub("-", "b1 B2") == "- -"
    assert lazy.fullmatch("x") is None and lazy.groups == 1 and "search" in vars(lazy)


def test_the_commands_annotations_are_objects_not_source_text():
    """typer reads each command's options from its annotations: text annotations (`from __future__ import
    annotations`) are compiled again at every run, about 5 ms of every `analyze`."""
    from ssodiag.diag import cli

    for command in (cli.analyze, cli.demo, cli.sanitize, cli.decode, cli.explain, cli.checks_list, cli.checks_explain):
        assert not [a for a in command.__annotations__.values() if isinstance(a, str)], command.__name__


EXIT_PROBE = """
import atexit, gc, os, sys
# registered first, so it runs last: after main()'s own exit handlers, right before the interpreter's final collections
atexit.register(lambda: os.write(1, f"frozen {gc.get_freeze_count()}".encode()))
from ssodiag.diag.cli import main
sys.argv = ["ssodiag", *sys.argv[1:]]
main()
"""


def test_the_objects_of_a_run_are_frozen_out_of_the_collector_at_exit(tmp_path):
    """The interpreter's exit walks every live object with the cycle collector before freeing them: about 40 ms of a
    one-Response run that nothing needs."""
    (tmp_path / "response.xml").write_bytes(TestIdP().signed_response())
    done = subprocess.run([sys.executable, "-c", EXIT_PROBE, "analyze", str(tmp_path / "response.xml"), "-f", "json",
                           "--fail-on", "never"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and '"verdict"' in done.stdout, done.stderr[-300:]
    frozen = int(done.stdout.rsplit("frozen ", 1)[1])
    assert frozen > 10_000, frozen
