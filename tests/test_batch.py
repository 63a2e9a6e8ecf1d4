"""`ssodiag batch`: a queue of ticket folders, each analysed on its own, in parallel, with an index by severity."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.demo import SAMPLES
from ssodiag.diag.ticket import OPTION_KINDS, find_tickets

runner = CliRunner()


def batch(*args: str):
    return runner.invoke(app, ["batch", *args], catch_exceptions=False)


@pytest.fixture
def queue(tmp_path) -> Path:
    """Four tickets: a failure with a bad attachment, the same capture without its configuration, a broken
    configuration, and a capture given as a loose file."""
    q = tmp_path / "queue"
    shutil.copytree(SAMPLES / "okta-failure", q / "T-101 okta")
    (q / "T-101 okta" / "notes.txt").write_text("customer says it worked yesterday\n")
    (q / "T-102").mkdir()
    shutil.copy(SAMPLES / "okta-failure" / "login.har", q / "T-102" / "login.har")
    shutil.copytree(SAMPLES / "google-healthy", q / "T-103")
    (q / "T-103" / "ssodiag.toml").write_text('atlan = "https://acme.atlan.com"\nalias = 42\n')
    shutil.copy(SAMPLES / "entra-healthy" / "login.har", q / "T-104.har")
    return q


def test_every_ticket_gets_a_report_and_a_row_sorted_by_severity(queue, tmp_path):
    out = tmp_path / "out"
    r = batch(str(queue), "-o", str(out), "--format", "json,html", "-j", "2")
    assert r.exit_code == 0, r.output
    rows = json.loads((out / "index.json").read_text())["tickets"]
    by_name = {row["ticket"]: row for row in rows}
    # critical failure, high failure, could not be analysed, nothing to trust the signature with
    assert list(by_name) == ["T-101_okta", "T-102", "T-103", "T-104.har"]
    assert [by_name[t]["verdict"] for t in by_name] == ["fail", "fail", "error", "inconclusive"]
    assert [by_name[t]["severity"] for t in by_name] == ["critical", "critical", "", ""]
    # the per-ticket configuration was applied: the metadata Atlan holds shows the rotated certificate, where
    # Atlan's broker stops (step 7, the document signature)
    assert by_name["T-101_okta"]["verdict"] == "fail" and by_name["T-101_okta"]["check_id"] == "KC010"
    assert by_name["T-101_okta"]["cause"].startswith("Atlan stops at step 7 (Document signature)")
    # without it the signature cannot be judged, so the first step the capture decides is the login session: an
    # IdP-initiated post without RelayState to the SP-initiated endpoint (step 8)
    assert by_name["T-102"]["cause"].startswith("Atlan stops at step 8")
    assert by_name["T-101_okta"]["connector"] == "okta" and by_name["T-101_okta"]["fix"]
    # ... and without it the same capture cannot be judged (no trusted certificate, no expected issuer)
    assert "SIG004" not in {f["check_id"] for f in json.loads((out / "T-102.json").read_text())["findings"]
                            if f["status"] == "fail"}
    # the bad attachment is listed in the ticket's report and in the index, and the rest was analysed
    assert [b["source"] for b in by_name["T-101_okta"]["bad_files"]] == ["notes.txt"]
    report = json.loads((out / "T-101_okta.json").read_text())
    assert any(i["source"] == "notes.txt" and i["error"] for i in report["inputs"])
    assert "notes.txt" in (out / "T-101_okta.html").read_text()
    # a broken configuration is that ticket's error, not the queue's
    assert by_name["T-103"]["verdict"] == "error" and "`alias` must be a string" in by_name["T-103"]["error"]
    # ... and it has a report too, naming the bad configuration and why in its inputs (and in the index)
    assert by_name["T-103"]["reports"] == {"json": "T-103.json", "html": "T-103.html"}
    assert by_name["T-103"]["bad_files"] == [{"source": "ssodiag.toml", "error": "`alias` must be a string"}]
    bad_config = json.loads((out / "T-103.json").read_text())
    assert bad_config["verdict"]["status"] == "incomplete" and bad_config["redacted"] is True
    assert bad_config["inputs"] == [{"source": "ssodiag.toml", "kind": None, "detail": "",
                                     "error": "`alias` must be a string"}]
    assert "`alias` must be a string" in (out / "T-103.html").read_text()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["index.html", "index.csv", "index.json"] + [f"{t}.{f}" for t in ("T-101_okta", "T-102", "T-103", "T-104.har")
                                                      for f in ("json", "html")])
    # reports are redacted like any written report
    assert report["redacted"] is True and "jane.doe" not in (out / "T-101_okta.html").read_text()
    index_html = (out / "index.html").read_text()
    assert 'href="T-101_okta.html"' in index_html and "notes.txt" in index_html
    csv_rows = list(csv.DictReader((out / "index.csv").open()))
    assert [c["ticket"] for c in csv_rows] == list(by_name)
    assert csv_rows[0]["report"] == "T-101_okta.html"
    assert csv_rows[0]["fail"] == str(by_name["T-101_okta"]["counts"]["fail"])


def test_the_queue_configuration_applies_to_every_ticket(tmp_path):
    q = tmp_path / "queue"
    q.mkdir()
    shutil.copy(SAMPLES / "entra-healthy" / "login.har", q / "T-201.har")
    shutil.copytree(SAMPLES / "okta-healthy", q / "T-202")
    (q / "T-202" / "ssodiag.toml").unlink()
    shutil.copy(SAMPLES / "entra-healthy" / "entra-metadata.xml", q / "entra.xml")
    (q / "ssodiag.toml").write_text('atlan = "https://acme.atlan.com"\nalias = "azure"\nidp_metadata = "entra.xml"\n')
    (q / "T-202" / "ssodiag.toml").write_text('alias = "okta"\nidp_metadata = "okta-metadata.xml"\n')
    out = tmp_path / "out"
    assert batch(str(q), "-o", str(out), "--format", "json").exit_code == 0
    rows = {r["ticket"]: r for r in json.loads((out / "index.json").read_text())["tickets"]}
    # the metadata file named by the queue's configuration is an option, not a ticket
    assert set(rows) == {"T-201.har", "T-202"}
    # a loose file takes the queue's configuration; a ticket's own keys win over it, the others are kept
    assert rows["T-201.har"]["verdict"] == "pass" and rows["T-202"]["verdict"] == "pass"
    report = json.loads((out / "T-202.json").read_text())
    assert report["expectations"]["sp_entity_id"] == "https://acme.atlan.com/auth/realms/default"
    assert any(u.endswith("/broker/okta/endpoint") for u in report["expectations"]["acs_urls"])


def test_one_worker_or_two_give_identical_output(queue, tmp_path):
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        assert batch(str(queue), "-o", str(out), "-j", workers, "--no-redact").exit_code == 0
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0].keys() == outputs[1].keys() and len(outputs[0]) == 3 + 4 * 3
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], name


def test_usage_errors_are_one_line(tmp_path):
    r = batch(str(tmp_path / "missing"), "-o", str(tmp_path / "o"))
    assert r.exit_code == 2 and "not a folder of tickets" in r.stderr
    (tmp_path / "q").mkdir()
    r = batch(str(tmp_path / "q"), "-o", str(tmp_path / "o"), "--format", "pdf")
    assert r.exit_code == 2 and "--format" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_configuration_keys_are_the_analyze_options():
    """A new `analyze` option must be readable from ssodiag.toml too."""
    import inspect

    from ssodiag.diag.cli import build_expectations

    assert set(OPTION_KINDS) == set(inspect.signature(build_expectations).parameters)


def test_unknown_configuration_key_names_the_known_ones(tmp_path):
    ticket = tmp_path / "q" / "t1"
    ticket.mkdir(parents=True)
    (ticket / "ssodiag.toml").write_text('idp_metadta = "x.xml"\n')
    [found] = find_tickets(tmp_path / "q")
    assert "unknown key `idp_metadta`" in found.error and "idp_metadata" in found.error


def test_ctrl_c_leaves_finished_reports_and_no_half_written_file(tmp_path):
    q = tmp_path / "queue"
    tickets = 200  # far more than can finish between the first report and the signal, even on an idle machine
    for n in range(tickets):
        shutil.copytree(SAMPLES / "okta-failure", q / f"T-{n:03d}")
    out = tmp_path / "out"
    # Ctrl-C is delivered as a terminal does, also when the suite itself runs as a background job of a
    # non-interactive shell, which starts it (and so this child) with SIGINT ignored
    proc = subprocess.Popen([sys.executable, "-m", "ssodiag", "batch", str(q), "-o", str(out), "-j", "2",
                             "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.exists() and any(out.glob("T-*.json"))):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    names = [p.name for p in out.iterdir()]
    assert not any(n.startswith(".") for n in names) and "index.html" not in names  # no temporary file left
    finished = [p for p in out.iterdir() if p.name.startswith("T-")]
    assert 1 <= len(finished) < tickets
    for p in finished:
        assert json.loads(p.read_text())["findings"]  # complete JSON, not a prefix
