"""Record every login scenario into a folder, for looking at by hand: ``python -m tests.record_scenarios OUT_DIR``.

Writes ``NAME.IDP.har`` (what Chromium saved) and ``NAME.IDP.idp-metadata.xml`` (the IdP metadata Atlan holds)
for each scenario of tests/scenarios.py, and prints the ``ssodiag analyze`` command for each recording.
``--only NAME`` (repeatable) records just those scenarios; ``--list`` prints the scenarios.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tests.browser import chromium_missing
from tests.pysaml2idp import pysaml2_missing
from tests.realidp import simplesamlphp_missing
from tests.scenarios import SCENARIOS, Recording, record_all, scenario


def _command(recording: Recording) -> str:
    return shlex.join(["ssodiag", "analyze", str(recording.har), *recording.atlan_options])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.record_scenarios", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, nargs="?", help="folder to write the recordings to")
    parser.add_argument("--only", action="append", metavar="NAME", help="record only this scenario")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:38} {s.connector:13} {s.summary}")
        return 0
    if args.out_dir is None:
        parser.error("OUT_DIR is required")
    try:
        chosen = [scenario(name) for name in args.only] if args.only else list(SCENARIOS)
    except ValueError:
        parser.error(f"unknown scenario in {args.only}; see --list")
    for missing in (simplesamlphp_missing(), pysaml2_missing(), chromium_missing()):
        if missing:
            print(f"record_scenarios: {missing}; run scripts/install-test-deps.sh", file=sys.stderr)
            return 2
    record_all(args.out_dir, chosen, on_recorded=lambda r: print(_command(r), flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
