"""Benchmark: how long hostile and oversized inputs take to be refused or bounded, against the budget each must meet.

Run from the repo root:  python bench/bench_bounds.py   (needs the `test` extras; exits 1 when a budget is exceeded)

The tests assert what happens to these inputs (a one-line error, a cap hit, a bounded output, a memory bound); a
wall-clock bound in a test flakes on a shared 2-core machine, so the time is measured here instead. Every figure is
the median of several runs in this one process. For the two redaction cases the growth factor (time at twice the
size over time at the size) shows the cost is linear: about 2, where a quadratic rule gives about 4.
"""
from __future__ import annotations

import base64
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from ssodiag.diag.cli import app  # noqa: E402
from ssodiag.diag.decode import decode_saml_value  # noqa: E402
from ssodiag.diag.errors import InputError  # noqa: E402
from ssodiag.diag.evidence import load_evidence  # noqa: E402
from ssodiag.diag.limits import MAX_BASE64_CHARS, MAX_INFLATED_BYTES  # noqa: E402
from ssodiag.diag.redact import Redactor  # noqa: E402
from tests.harbuild import deflate  # noqa: E402
from tests.hostile import (  # noqa: E402
    ELEMENT_FLOODS, HOSTILE_FILES, base64_flood_file, deflate_bomb_file, gzip_bomb_page_har, long_dotted_value,
    many_messages_har, redirect_bomb_har, remembered_values, ten_thousand_entry_har, too_many_messages_har,
)
from tests.idp import TestIdP  # noqa: E402
from timing import median_seconds  # noqa: E402

ATLAN_ARGS = ("--atlan", "https://acme.atlan.com", "--alias", "okta")
REPEAT = 3


def refused(value: str) -> None:
    try:
        decode_saml_value(value, "bench")
    except InputError:
        return
    raise AssertionError("the input was not refused")


def analyze(path: Path) -> None:
    CliRunner().invoke(app, ["analyze", str(path), *ATLAN_ARGS], catch_exceptions=False)


def explain(path: Path) -> None:
    CliRunner().invoke(app, ["explain", str(path)], catch_exceptions=False)


def redact_dotted(pairs: int) -> None:
    Redactor().text(long_dotted_value(pairs))


def redact_remembered(count: int) -> None:
    values, texts = remembered_values(count)
    redactor = Redactor()
    for value in values:
        redactor.remember(value, "nameid")
    for text in texts:
        redactor.text(text)


def scenarios(folder: Path) -> list[tuple[str, float, Callable[[], object]]]:
    """(what, budget in seconds, the run)."""
    idp = TestIdP()

    def file(name: str, data: bytes | str) -> Path:
        path = folder / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    rows: list[tuple[str, float, Callable[[], object]]] = [
        ("decode: deflate bomb (16x the inflate cap)", 2.0,
         lambda v=base64.b64encode(deflate(b"\0" * (MAX_INFLATED_BYTES * 16))).decode(): refused(v)),
        ("decode: base64 over the length cap", 1.0, lambda v="A" * (MAX_BASE64_CHARS + 4): refused(v)),
    ]
    hostile = [str(file(name, data)) for name, data, _reason in HOSTILE_FILES]
    rows += [
        (f"load: the {len(hostile)} XXE / entity / malformed files, one after another", 2.0,
         lambda: [load_evidence([path]) for path in hostile]),
        ("load: 200 MB deflate bomb file", 2.0,
         lambda p=file("bomb.txt", deflate_bomb_file()): load_evidence([str(p)])),
        ("load: 50 MB of base64", 2.0, lambda p=file("big.b64", base64_flood_file()): load_evidence([str(p)])),
        ("load: HAR with a 100 MB Redirect bomb", 2.0,
         lambda p=file("redirect-bomb.har", redirect_bomb_har()): load_evidence([str(p)])),
        ("load: HAR of 10,001 requests", 2.0,
         lambda p=file("big.har", ten_thousand_entry_har(idp)): load_evidence([str(p)])),
        ("load: HAR over the SAML message cap", 2.0,
         lambda p=file("many.har", too_many_messages_har(idp)): load_evidence([str(p)])),
        ("load: HAR with a 50 MB gzip page body", 2.0,
         lambda p=file("gzip.har", gzip_bomb_page_har()): load_evidence([str(p)])),
    ]
    rows += [(f"analyze: Response with {needle}", 2.0, lambda p=file(f"{name}.xml", xml): analyze(p))
             for name, xml, needle in ELEMENT_FLOODS]
    rows += [
        ("analyze: HAR of 600 Responses, terminal report", 2.0,
         lambda p=file("600.har", many_messages_har(600)): analyze(p)),
        ("explain: 1 MB of pasted text ending in an AADSTS code", 2.0,
         lambda p=file("pasted.txt", "x " * 500_000 + "AADSTS50105"): explain(p)),
        ("redact: 2 MB dotted value", 2.0, lambda: redact_dotted(1_000_000)),
        ("redact: 30,000 remembered values", 2.0, lambda: redact_remembered(30_000)),
    ]
    return rows


def main() -> int:
    print("| Input | Median (s) | Budget (s) | |")
    print("|---|---:|---:|---|")
    over = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, budget, run in scenarios(Path(tmp)):
            seconds = median_seconds(run, REPEAT)
            over += seconds > budget
            print(f"| {what} | {seconds:.3f} | {budget:.1f} | {'ok' if seconds <= budget else 'OVER BUDGET'} |")
    print("\n| Growth at twice the size | Factor (linear: about 2) |\n|---|---:|")
    for what, run, size in (("redact: dotted value, 1 MB to 2 MB", redact_dotted, 500_000),
                            ("redact: remembered values, 15,000 to 30,000", redact_remembered, 15_000)):
        growth = median_seconds(lambda: run(2 * size), REPEAT) / median_seconds(lambda: run(size), REPEAT)
        print(f"| {what} | {growth:.2f} |")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
