"""`ssodiag demo`: the bundled sample tickets give the same findings on any date, pinned in demo_findings.toml.

The pins say, for each sample, its verdict and the check ids of each status. When a check changes on purpose
(a new connector module, a check split), regenerate them and review the diff:
    SSODIAG_UPDATE_PINS=1 python -m pytest tests/test_demo.py
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.demo import STORIES, sample_tickets
from ssodiag.diag.ticket import analyze_ticket

PINS = Path(__file__).with_name("demo_findings.toml")
STATUSES = ("fail", "error", "warn", "skip", "pass")
CAPTURED = dt.datetime(2026, 11, 20, 9, 14, 5, tzinfo=dt.timezone.utc)  # scripts/make_samples.py


def pinned_view(doc: dict) -> dict:
    view = {"verdict": doc["verdict"]["status"]}
    for status in STATUSES:
        view[status] = sorted(f["check_id"] for f in doc["findings"] if f["status"] == status)
    return view


def _toml(views: dict[str, dict]) -> str:
    lines = [line for line in (__doc__ or "").strip().splitlines()]
    out = ["# " + line if line else "#" for line in lines] + [""]
    for name, view in views.items():
        out.append(f"[{name}]")
        out.append(f'verdict = "{view["verdict"]}"')
        for status in STATUSES:
            out.append(f"{status} = {json.dumps(view[status])}")
        out.append("")
    return "\n".join(out)


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    return {t.name: analyze_ticket(t) for t in sample_tickets()}


def test_each_sample_gives_its_pinned_findings(docs):
    views = {name: pinned_view(doc) for name, doc in docs.items()}
    if os.environ.get("SSODIAG_UPDATE_PINS"):
        PINS.write_text(_toml(views))
    assert views == tomllib.loads(PINS.read_text())


def test_healthy_samples_pass_and_each_failure_names_a_cause(docs):
    for name, doc in docs.items():
        failing = [f for f in doc["findings"] if f["status"] == "fail"]
        if name.endswith("-healthy"):
            assert doc["verdict"]["status"] == "pass", (name, failing)
        else:
            assert doc["verdict"]["status"] == "fail" and failing, name
        connector = name.split("-")[0]
        assert connector in {d["connector"] for d in doc["detections"]}, name


@pytest.mark.parametrize("now", [dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc),
                                 dt.datetime(2026, 12, 11, tzinfo=dt.timezone.utc),
                                 dt.datetime(2041, 1, 1, tzinfo=dt.timezone.utc)])
def test_outcome_does_not_depend_on_the_date(docs, now):
    for ticket in sample_tickets():
        again = analyze_ticket(ticket, now=now)
        assert pinned_view(again) == pinned_view(docs[ticket.name]), (ticket.name, now)
        # metadata and certificate checks name the capture as the instant they judged at, never "now"
        assert not any("now (" in f["message"] for f in again["findings"]), ticket.name


def test_metadata_certificate_is_judged_at_the_capture(tmp_path):
    """A certificate that expired after the capture was valid for the failed login: no finding about it; one that
    expired before the capture is reported, relative to the capture."""
    from ssodiag.diag.ticket import Ticket
    from tests.harbuild import HarBuilder, post_body
    from tests.idp import TestIdP

    for expiry, expected in ((CAPTURED + dt.timedelta(days=400), "pass"), (CAPTURED - dt.timedelta(days=1), "fail")):
        idp = TestIdP(key_name="capture-instant", cert_valid_from=CAPTURED - dt.timedelta(days=700),
                      cert_valid_to=expiry)
        response = idp.signed_response(issue_instant=CAPTURED, not_before=CAPTURED - dt.timedelta(minutes=5),
                                       not_on_or_after=CAPTURED + dt.timedelta(minutes=5),
                                       sc_not_on_or_after=CAPTURED + dt.timedelta(minutes=5), in_response_to=None)
        har = HarBuilder(start=CAPTURED)
        har.add("POST", "https://sp.example.test/acs", body=post_body("SAMLResponse", response), seconds=0)
        folder = tmp_path / expected
        folder.mkdir()
        (folder / "login.har").write_bytes(har.bytes())
        (folder / "idp.xml").write_bytes(idp.metadata())
        (folder / "ssodiag.toml").write_text('idp_metadata = "idp.xml"\n')
        doc = analyze_ticket(Ticket(expected, folder, (folder / "login.har",), (folder / "ssodiag.toml",)),
                             now=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
        md004 = [f for f in doc["findings"] if f["check_id"] == "MD004"]
        assert [f["status"] for f in md004] == [expected]
        assert md004[0]["evidence"]["seen"] == "2026-11-20T09:14:05Z"


def test_demo_prints_one_line_per_sample_and_writes_every_report(tmp_path):
    result = CliRunner().invoke(app, ["demo", "-o", str(tmp_path / "out")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line and not line.startswith(" ")]
    assert [line.split()[0] for line in lines] == [*STORIES, "groupsync"]
    out = tmp_path / "out"
    for name in STORIES:
        for fmt in ("html", "md", "json"):
            assert (out / f"{name}.{fmt}").stat().st_size > 0
        report = json.loads((out / f"{name}.json").read_text())
        assert report["redacted"] is True and "jane.doe" not in (out / f"{name}.html").read_text()
    rows = list(csv.DictReader((out / "index.csv").open()))
    assert {r["ticket"] for r in rows} == set(STORIES)
    # failures first, the healthy logins last
    assert [r["verdict"] for r in rows] == sorted((r["verdict"] for r in rows), key=("fail", "pass").index)
    assert "groupsync-plan.html" in (out / "index.html").read_text()
    assert json.loads((out / "groupsync-plan.json").read_text())["kind"] == "groupsync-plan"
