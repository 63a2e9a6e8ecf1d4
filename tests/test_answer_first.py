"""Reports lead with the answer in every format: the verdict in one sentence, the fix as numbered steps with the
exact values, what to check afterwards; then the other problems, then the evidence. The JSON schema describes every
block the JSON carries, and its enums are the code's."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ssodiag.diag.broker import BROKER_STOP_CHECK
from ssodiag.diag.cli import app
from ssodiag.diag.demo import sample_tickets
from ssodiag.diag.model import VerdictStatus
from ssodiag.diag.redact import KIND_LABEL, redact_report
from ssodiag.diag.ticket import ticket_result
from ssodiag.reports.document import build_document
from ssodiag.reports.render import render
from tests.idp import TestIdP
from tests.markdown import as_html

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "reports/schema/report.schema.json").read_text())
FAILURES = [t for t in sample_tickets() if t.name.endswith("-failure")]
runner = CliRunner()


@pytest.fixture(scope="module")
def results():
    return {t.name: ticket_result(t) for t in FAILURES}


@pytest.mark.parametrize("name", [t.name for t in FAILURES])
def test_the_answer_rests_on_the_top_failure(results, name):
    result = results[name]
    top = next(f for f in result.findings if f.status.value == "fail")
    answer = result.answer
    assert answer.cause_check_id == top.check_id == result.verdict.top_check_id
    # the broker model's stop is said in full ("Atlan stops at step 7: …"), any other cause by its title
    headline = top.message.rstrip(".") if top.check_id == BROKER_STOP_CHECK else top.title
    assert headline in answer.sentence and answer.sentence.startswith("This login fails")
    assert answer.steps and answer.steps[0].text in top.remediation
    assert any(top.check_id in line for line in answer.check_after)
    if top.expected is not None:
        assert ("Expected", top.expected) in answer.steps[0].values
    if top.check_id == BROKER_STOP_CHECK:  # the exact values are the cause's, not "every broker step passes"
        cause = re.search(r"\(see (\w+)\)$", top.remediation).group(1)
        detail = next(f for f in result.findings if f.check_id == cause and f.status.value == "fail")
        assert dict(answer.steps[0].values) == {k: v for k, v in (("Expected", detail.expected),
                                                                  ("This login sent", detail.seen)) if v is not None}


@pytest.mark.parametrize("name", [t.name for t in FAILURES])
def test_every_format_shows_verdict_then_fix_then_check_then_others_then_evidence(results, name):
    doc = build_document(results[name])
    first_step = doc["answer"]["steps"][0]["text"][:30]
    terminal = render("report", doc, "terminal", width=400)
    assert terminal.startswith("Verdict: FAIL — This login fails")
    _in_order(terminal, ["Verdict:", "Fix:", "  1. ", "Then check:"])
    if "Other problems" in terminal:
        _in_order(terminal, ["Then check:", "Other problems", "SAML messages"])
    md = render("report", doc, "md")
    _in_order(md, ["# ssodiag report: FAIL", "**This login fails", "## Fix", "1. ", "## Then check",
                   "## Other problems", "## Evidence", "### Inputs"])
    assert first_step.split("`")[0] in md
    html = render("report", doc, "html")
    _in_order(html, ['id="verdict"', 'id="fix"', "Then check", 'id="other-problems"', 'id="evidence"',
                     "<h3>Inputs</h3>", 'id="redaction-receipt"' if doc.get("redaction") else "</footer>"])


def _in_order(text: str, needles: list[str]) -> None:
    positions = [text.find(n) for n in needles]
    assert all(p >= 0 for p in positions), [n for n, p in zip(needles, positions) if p < 0]
    assert positions == sorted(positions), list(zip(needles, positions))


def test_html_shows_values_as_code_links_as_links_and_the_broken_step(results):
    doc = build_document(results["okta-failure"])
    html = render("report", doc, "html")
    outside_xml = re.sub(r'<pre class="xml">.*?</pre>', "", html, flags=re.S)
    assert "`" not in outside_xml  # backticked values became <code>, never raw backticks
    assert re.search(r'<a href="https://[^"]+" rel="noopener noreferrer">', html)
    assert 'class="broke"' in html and "broke here" in html
    assert '<pre class="xml">' in html and "<mark>" in html  # the message, with the lines a problem names marked
    assert 'name="viewport"' in html and "@media print" in html and "@media (max-width" in html


def test_markdown_has_no_over_escaping_and_renders_a_numbered_fix(results):
    md = render("report", build_document(results["google-failure"]), "md")
    assert "\\`" not in md and "&lt;" not in md and "&amp;" not in md
    html = as_html(md)
    assert "<ol>" in html and "<h2>Fix</h2>" in html and "<table>" in html


@pytest.mark.parametrize("name", [t.name for t in FAILURES])
def test_markdown_values_show_no_backticks_once_rendered(results, name):
    # SIG004's Expected quotes its values in backticks ("SHA-256 `4AA9…` subject `O=…`"): as one code span the
    # pasted report showed the backticks; as HTML does, the quoted values are the code spans
    html = as_html(render("report", build_document(results[name]), "md"))
    assert not re.findall(r"<code>[^<]*`[^<]*</code>", html)


def test_json_of_every_block_validates_and_the_enums_are_the_codes():
    assert sorted(SCHEMA["$defs"]["verdict_status"]["enum"]) == sorted(s.value for s in VerdictStatus)
    assert sorted(SCHEMA["$defs"]["redaction_kind"]["enum"]) == sorted(KIND_LABEL)
    assert set(SCHEMA["properties"]["answer"]["required"]) == {"sentence", "steps", "check_after", "cause_check_id",
                                                               "basis"}
    assert SCHEMA["additionalProperties"] is False  # a block the schema does not describe fails validation
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for ticket in sample_tickets():
        result = ticket_result(ticket)
        doc = build_document(result)
        validator.validate(json.loads(render("report", doc, "json")))
        redacted, _ = redact_report(result, doc)
        validator.validate(json.loads(render("report", redacted, "json")))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**doc, "undescribed_block": {}})


def test_a_report_with_a_group_sync_plan_validates(tmp_path):
    idp = TestIdP()
    response = tmp_path / "r.xml"
    response.write_bytes(idp.signed_response(attributes={"email": ["alice@example.test"], "firstName": ["A"],
                                                         "lastName": ["L"], "memberOf": ["engineering"]}))
    (tmp_path / "m.csv").write_text("sso_group,atlan_group\nengineering,eng\noperations,ops\n")
    (tmp_path / "a.csv").write_text("username,email,atlan_group\nalice@example.test,alice@example.test,ops\n,,eng\n")
    r = runner.invoke(app, ["analyze", str(response), "--mappings", str(tmp_path / "m.csv"), "--atlan-users",
                            str(tmp_path / "a.csv"), "-f", "json", "--fail-on", "never"])
    doc = json.loads(r.stdout)
    assert doc["groupsync"]["changes"] and doc["redaction"]["replaced"]
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_an_unreadable_extra_input_makes_a_clean_analysis_incomplete(tmp_path):
    idp = TestIdP()
    good = tmp_path / "response.b64"
    good.write_text(base64.b64encode(idp.signed_response()).decode())
    (tmp_path / "idp.pem").write_text(idp.cert_pem)
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, not SAML")
    args = ["analyze", str(good), "--idp-cert", str(tmp_path / "idp.pem"), "--sp-entity-id",
            "https://sp.example.test/metadata", "--acs-url", "https://sp.example.test/acs", "-f", "json",
            "--at", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")]  # the login time, so nothing warns
    clean = runner.invoke(app, args)
    assert clean.exit_code == 0 and json.loads(clean.stdout)["verdict"]["status"] == "pass", clean.output
    r = runner.invoke(app, [*args, str(bad)])
    doc = json.loads(r.stdout)
    assert doc["verdict"]["status"] == "incomplete" and r.exit_code == 2
    assert "notes.txt" in doc["answer"]["steps"][0]["text"]


def test_an_abbreviation_does_not_split_a_fix_step():
    # Okta's fix for an existing Atlan user said "(e.g." in one step and "Email), so that …" in the next
    from ssodiag.diag.answer import steps_of

    assert steps_of("Set Application username format (e.g. Email), so that the NameID matches. Or remove the user "
                    "(i.e. Atlan support deletes it).") == [
        "Set Application username format (e.g. Email), so that the NameID matches.",
        "Or remove the user (i.e. Atlan support deletes it)."]


def test_messages_are_numbered_from_1_as_har_entries_are(results):
    doc = build_document(results["okta-failure"])
    assert [m["index"] for m in doc["messages"]] == list(range(1, len(doc["messages"]) + 1))
    carried = [h["message_index"] for f in doc["flow"] for h in f["hops"] if h["message_index"] is not None]
    assert carried and min(carried) == 1
    md = render("report", doc, "md")
    assert "Response #1 **broke here**" in md and "#0" not in md
    assert re.search(r"### Flow: \S*login\.har \(IdP-initiated\)", md)  # not "(idp-initiated)", "unknown-initiated"
    assert not re.search(r"#0\b", render("report", doc, "html"))
    assert "#0" not in render("report", doc, "terminal", width=300)


@pytest.mark.parametrize("name", [t.name for t in FAILURES])
def test_problems_link_the_idps_guide_not_a_specification_pdf(results, name):
    # SIG004 and SAML012/13 linked saml-core-2.0-os.pdf (90 pages); with an IdP in play its Atlan setup guide says
    # where the certificate, entity ID or ACS URL of the fix is set
    problems = [f for f in results[name].findings if f.status.value in ("fail", "warn")]
    assert problems and not [(f.check_id, f.docs) for f in problems if (f.docs or "").lower().endswith(".pdf")]
    if name == "okta-failure":
        assert next(f for f in problems if f.check_id == "SIG004").docs.endswith("How-to-enable-Okta-for-SSO")


def test_an_atlan_login_with_a_generic_idp_links_atlans_saml_guide(tmp_path):
    # no vendor in play: the fix of a wrong audience is entered in Atlan's generic SAML 2.0 set-up, which its guide
    # shows; judged by the specifications alone (no Atlan in the evidence) the specification stays the reference
    from ssodiag.diag.connectors import ATLAN_SAML_GUIDE

    idp = TestIdP()
    (tmp_path / "r.xml").write_bytes(idp.signed_response())
    (tmp_path / "idp.pem").write_text(idp.cert_pem)
    args = ["analyze", str(tmp_path / "r.xml"), "--idp-cert", str(tmp_path / "idp.pem"), "-f", "json",
            "--fail-on", "never"]
    atlan = json.loads(runner.invoke(app, [*args, "--atlan", "https://acme.atlan.com", "--alias", "corp"]).stdout)
    problems = {f["check_id"]: f["docs"] for f in atlan["findings"] if f["status"] in ("fail", "warn")}
    assert problems["SAML012"] == ATLAN_SAML_GUIDE
    assert not [docs for docs in problems.values() if (docs or "").lower().endswith(".pdf")]
    strict = json.loads(runner.invoke(app, args).stdout)
    assert strict["judgement"]["mode"] == "strict"
    assert all(f["docs"] != ATLAN_SAML_GUIDE for f in strict["findings"] if f["check_id"].startswith("SAML"))


def test_after_a_check_judged_without_the_login_time_the_next_step_is_to_run_with_at(tmp_path):
    # a pasted Response carries no login time: the time checks judge at its IssueInstant and say so; what to check
    # next is the same command with --at, not a new HAR (a new login proves nothing about the login that failed)
    from datetime import timedelta

    from ssodiag.diag.answer import AGAIN

    idp = TestIdP(cert_valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc))
    issued = datetime(2026, 11, 28, 14, 5, tzinfo=timezone.utc)
    acs = "https://acme.atlan.com/auth/realms/default/broker/okta/endpoint"
    fields = dict(issue_instant=issued, audiences=["https://acme.atlan.com/auth/realms/default"], destination=acs,
                  recipient=acs, not_on_or_after=issued + timedelta(minutes=5),
                  sc_not_on_or_after=issued + timedelta(minutes=5))
    (tmp_path / "idp.pem").write_text(idp.cert_pem)
    (tmp_path / "healthy.xml").write_bytes(idp.signed_response(**fields, not_before=issued))
    # NotBefore 2 s after the Response's IssueInstant: outside the window at the IssueInstant, inside at the login
    (tmp_path / "late.xml").write_bytes(idp.signed_response(**fields, not_before=issued + timedelta(seconds=2)))

    def answer(name, *more):
        r = runner.invoke(app, ["analyze", str(tmp_path / name), "--idp-cert", str(tmp_path / "idp.pem"), "-f", "json",
                                "--no-redact", "--fail-on", "never", *more])
        doc = json.loads(r.stdout)
        return doc["verdict"], doc["answer"]["check_after"]

    verdict, after = answer("healthy.xml")
    assert (verdict["status"], verdict["top_check_id"]) == ("warn", "SAML004")
    assert after[0].startswith("Run the same command again with `--at`") and "`SAML004`" in after[0]
    assert not [line for line in after if "HAR" in line or "new capture" in line]
    verdict, after = answer("late.xml")
    assert (verdict["status"], verdict["top_check_id"]) == ("fail", "SAML007")
    assert after[0].startswith("Run the same command again with `--at`") and "`SAML007`" in after[0]
    assert "If `SAML007` is still reported" in after[1]  # only then a new login
    # the advice holds: judged at the login, nothing of the time window is left
    login = (issued + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert answer("healthy.xml", "--at", login)[0]["status"] == "pass"
    assert answer("late.xml", "--at", login)[0]["status"] == "pass"
    # with the login time known (--at), a time failure is fixed and checked with a new login, as any other
    early = issued.strftime("%Y-%m-%dT%H:%M:%SZ")
    verdict, after = answer("late.xml", "--at", early)
    assert verdict["status"] == "fail" and after[0] == AGAIN  # Atlan's broker now decides its step 19: KC010


def test_a_quoted_page_text_is_not_split_into_steps():
    # SAML007's fix ended in two steps "Keycloak shows `Login timeout." and "Please sign in again.`"
    from ssodiag.diag.answer import steps_of

    assert steps_of("Sync the clocks and retry. Keycloak shows `Login timeout. Please sign in again.`") == [
        "Sync the clocks and retry.", "Keycloak shows `Login timeout. Please sign in again.`"]
