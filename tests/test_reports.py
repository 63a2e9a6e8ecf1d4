"""Report document and renderers: the JSON validates against the committed schema; hostile values from the
evidence are inert in every format; redaction removes personal data but keeps configuration readable."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ssodiag.diag.groupsync import Change, SyncPlan
from ssodiag.diag.model import Evidence, Expectations
from ssodiag.diag.redact import Redactor, redact_plan, redact_report
from ssodiag.diag.runner import analyze
from ssodiag.diag.saml import parse_message
from ssodiag.reports.document import build_document
from ssodiag.reports.jinja import md_escape
from ssodiag.reports.render import render
from tests.idp import TestIdP
from tests.markdown import as_html, live_tags

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "reports/schema/report.schema.json").read_text())
HOSTILE = '<script>alert(1)</script>[bold red]x[/] `| **y** <img src=x onerror=alert(2)>'


def _result(**fields):
    idp = TestIdP()
    xml = idp.signed_response(**fields)
    msg = parse_message(xml, source="hostile.xml")
    return analyze(Evidence(messages=(msg,)), Expectations(sp_entity_id="https://sp.example.test/metadata",
                                                           idp_entity_id="https://idp.example.test/metadata"))


def _document(**fields) -> dict:
    return build_document(_result(**fields))


@pytest.fixture(scope="module")
def hostile_result():
    return _result(name_id="victim@corp.example", issuer=HOSTILE,
                   attributes={"email": ["victim@corp.example"], "firstName": [HOSTILE], "lastName": ["L"],
                               "memberOf": ["Admins"]})


@pytest.fixture(scope="module")
def hostile_doc(hostile_result) -> dict:
    return build_document(hostile_result)


def test_json_validates_against_schema(hostile_doc):
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(render("report", hostile_doc, "json")))


def test_schema_rejects_a_broken_document(hostile_doc):
    # the schema is not vacuous: a finding with an unknown status fails validation
    broken = json.loads(json.dumps(hostile_doc))
    broken["findings"][0]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(broken)


def test_html_escapes_every_evidence_value(hostile_doc):
    html = render("report", hostile_doc, "html")
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html  # no script can run even if a value slipped through


def test_markdown_renders_values_as_text_without_over_escaping(hostile_doc):
    md = render("report", hostile_doc, "md")
    html = as_html(md)
    assert not live_tags(html), live_tags(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the value is shown, as text
    assert "\\`" not in md and "&lt;" not in md  # pastes cleanly: no backslash-backtick, no HTML entities
    # prose: only a tag start, a link opener and a pipe are escaped; values in backticks become code spans
    assert md_escape("a|b `c<d` 1 < 2 <g") == "a\\|b `c<d` 1 < 2 \\<g"
    assert as_html(md_escape("see [x](javascript:alert(1))")).count("<a ") == 0


def test_terminal_prints_markup_literally(hostile_doc):
    out = render("report", hostile_doc, "terminal", color=True)
    assert "[bold red]x[/]" in out  # rich did not interpret the value as markup
    plain = render("report", hostile_doc, "terminal", color=False)
    assert plain.splitlines()[0].startswith("Verdict: FAIL")  # the verdict comes first


def test_redaction_removes_personal_values_and_keeps_configuration(hostile_result, hostile_doc):
    red, _ = redact_report(hostile_result, hostile_doc)
    text = json.dumps(red)
    assert "victim@corp.example" not in text and "victim" not in text
    assert red["redacted"] is True
    # configuration stays readable; the same value maps to the same token everywhere
    assert "https://sp.example.test/metadata" in text
    token = red["messages"][0]["assertions"][0]["subject"]["name_id"]
    assert token.endswith("@corp.example") and red["messages"][0]["assertions"][0]["attributes"]["email"] == [token]
    assert red["messages"][0]["assertions"][0]["attributes"]["memberOf"] == ["Admins"]  # group claims kept
    # the diagnosis ran on real values: the unredacted document still has them
    assert "victim@corp.example" in json.dumps(hostile_doc)


def test_verdict_names_the_worst_failure():
    doc = _document(audiences=["https://wrong.example/"], status_code="Requester")
    assert doc["verdict"]["status"] == "fail"
    assert doc["verdict"]["top_check_id"] == doc["findings"][0]["check_id"]
    assert doc["findings"][0]["status"] == "fail"


def test_html_code_spans_escape_before_marking_up():
    from ssodiag.reports.jinja import html_code_spans
    out = str(html_code_spans("Issuer `<script>x</script>` is not `a&b`"))
    assert out == "Issuer <code>&lt;script&gt;x&lt;/script&gt;</code> is not <code>a&amp;b</code>"


def test_a_value_cut_inside_its_backticks_still_renders_as_code():
    # "… the IdP-initiated URL `https://acme.atlan.com/auth/realms/…" cut by the length bound showed a stray backtick
    # (HTML) or a quote (Markdown) instead of code
    from ssodiag.reports.jinja import html_code_spans, md_escape
    text = "Make `" + "https://acme.atlan.com/auth/realms/default/broker/okta/endpoint" * 3 + "` the ACS URL."
    assert str(html_code_spans(text, 80)).count("<code>") == 1 and "`" not in str(html_code_spans(text, 80))
    html = as_html(md_escape(text, 80))
    assert html.count("<code>") == 1 and "'" not in html and "`" not in html


def test_group_claims_that_look_like_addresses_stay_readable_and_personal_ones_do_not():
    result = _result(name_id="bob@corp.example",
                     attributes={"memberOf": ["team@lists.corp.example"], "email": ["bob@corp.example"]})
    red, _ = redact_report(result, {"findings": [{"message": "bob@corp.example is in `team@lists.corp.example`"}]})
    assert "team@lists.corp.example" in red["findings"][0]["message"]
    assert "bob@" not in str(red)
    plan = SyncPlan(applies="login", unchanged=0, blocked=(), warnings=(), changes=(
        Change(username="carol", atlan_group="ops@corp.example", action="add", sso_groups=("x",),
               because="in SSO group `x` mapped to `ops@corp.example`"),))
    red, _ = redact_plan(plan, plan.to_dict())
    assert red["changes"][0]["username"].startswith("<user-") and "ops@corp.example" in red["changes"][0]["because"]
