"""End to end: ssodiag on real recorded logins, every connector, healthy and failing, from two real IdPs.

Debian's Chromium logs in through the real login form of SimpleSAMLphp and of pysaml2's IdP (two signing stacks),
configured in each vendor's shape; scripted stand-ins play Atlan's Keycloak broker and the vendors' pages
(tests.standins, tests.scenarios). Every scenario is recorded once per test session, and `python -m ssodiag analyze`
runs once on each recording, as a user would run it on the HAR attached to a ticket.

Each scenario states the diagnosis a support engineer needs: the connector, the top root cause (the first failing
finding) and its fix, and for Atlan's error pages the page the broker stops at.
"""
from __future__ import annotations

import base64
import json
import re
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from lxml import etree
from msgspec import Struct
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.evidence import load_evidence
from ssodiag.reports.render import render
from tests.browser import DESKTOP, ReportPage, chromium_missing, report_browser
from tests.harbuild import tracer_export_of
from tests.pysaml2idp import pysaml2_missing
from tests.realidp import LIBFAKETIME, analyze_json, simplesamlphp_missing, skip_or_fail
from tests.scenarios import ATLAN, CONNECTORS, NO_IDP, Recording, record_all, recordings_planned, scenario

SP_ENTITY_ID = f"{ATLAN}/auth/realms/default"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ID_PREFIX = {"simplesamlphp": "_", "pysaml2": "id-"}  # each implementation's own ID scheme


class Diagnosis(Struct, frozen=True):
    """What the report must say. Patterns are case-insensitive regexes; every one in a tuple must match.

    ``root_cause`` is matched against the first failing finding's "check_id title message" (for an Atlan login,
    the step where Atlan's broker stops and why), and ``also_failing`` names the checks that must fail with it;
    ``fix`` is matched against that finding's remediation, ``atlan_page`` against the verdict (the broker's page
    at the top of the report).
    """

    connector: str | None
    root_cause: tuple[str, ...] = ()
    also_failing: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    atlan_page: str | None = None


HEALTHY = {f"{c}-{i}-healthy": Diagnosis(c) for c in CONNECTORS for i in ("sp", "idp")}
_PING_LAUNCH = re.escape("https://sso.acme-ping.example/idp/startSSO.ping?PartnerSpId=")
_INVALID_SIGNATURE = "Invalid signature in response from identity provider."
_LOGIN_TIMEOUT = "Login timeout. Please sign in again."
EXPECTED: dict[str, Diagnosis] = {
    **HEALTHY,
    "okta-first-login-conflict": Diagnosis(
        "okta", (r"already exists",), fix=(r"Application username", r"permanent"),
        atlan_page="Account already exists"),
    "okta-unassigned": Diagnosis("okta", (r"not assigned",), fix=(r"Assignments",)),
    "google-dashboard-to-sp-acs": Diagnosis(
        "google", (r"\bstep 8\b", r"IdP-initiated", r"SP-initiated"), ("KC002",),
        (r"clients/atlan-saml", r"Start URL"), "An internal server error has occurred"),
    "google-app-not-configured-for-user": Diagnosis(
        "google", (r"app_not_configured_for_user",), fix=(r"Entity ID", re.escape(SP_ENTITY_ID))),
    "pingfederate-404": Diagnosis("pingfederate", (r"startSSO\.ping", r"404"), fix=(_PING_LAUNCH,)),
    "pingfederate-system-error": Diagnosis(
        "pingfederate", (r"startSSO\.ping", r"System Error"), fix=(_PING_LAUNCH,)),
    "defender-destination-mismatch": Diagnosis(
        "defender", (r"\bstep 6\b", r"\.mcas\.ms", r"Destination"), ("MDA001",),
        (r"Conditional Access App Control", r"Bypass session"), "Invalid Request"),
    "entra-aadsts50011": Diagnosis(
        "entra", (r"AADSTS50011",), fix=(r"Reply URL", re.escape(f"{SP_ENTITY_ID}/broker/azure/endpoint"))),
    "entra-aadsts50105": Diagnosis("entra", (r"AADSTS50105",), fix=(r"Users and groups",)),
    "rotated-certificate": Diagnosis(
        "okta", (r"\bstep 7\b", r"certificate|\bcert\b"), ("SIG004",), (r"certificate|metadata", r"upload"),
        _INVALID_SIGNATURE),
    "sha1-signature": Diagnosis(
        "pingfederate", (r"\bstep 7\b", r"SHA-?1\b"), ("SIG006",), (r"SHA-?256", r"PingFederate"),
        _INVALID_SIGNATURE),
    "expired-assertion": Diagnosis(
        "okta", (r"\bstep 19\b", r"expired"), ("SAML007",), (r"clock",), _LOGIN_TIMEOUT),
    "wrong-audience": Diagnosis(
        "okta", (r"\bstep 19\b", r"audience"), ("SAML012",), (r"Audience URI", re.escape(SP_ENTITY_ID)),
        _LOGIN_TIMEOUT),
    "missing-attributes": Diagnosis(
        "okta", (r"\bstep 21\b", r"firstName", r"lastName"), ("ATTR001",),
        (r"Attribute Statements", r"user\.firstName"), "Update Account Information"),
    # Only Atlan's last page is in the capture: nothing names the IdP, and the SAML POST must be asked for.
    "no-preserve-log": Diagnosis(
        None, (r"already exists",), fix=(r"Preserve log",)),
}
PLANNED = recordings_planned()


def _params(aspect: str, only: set[str] | None = None) -> list:
    """One pytest param per recording whose scenario states ``aspect``."""
    params = []
    for name, kind in PLANNED:
        expected = EXPECTED[name]
        stated = getattr(expected, aspect) if aspect in ("root_cause", "fix", "atlan_page") else True
        if (only is not None and name not in only) or not stated:
            continue
        params.append(pytest.param(name, kind, id=f"{name}[{kind}]"))
    return params


# --------------------------------------------------------------------------- the recordings, once per session


@pytest.fixture(scope="session")
def scenario_runs(tmp_path_factory) -> tuple[dict[tuple[str, str], Recording], dict[tuple[str, str], dict]]:
    """Every recording, and ssodiag's JSON report on each (analysed, two at a time, while the browser records)."""
    for missing in (simplesamlphp_missing(), pysaml2_missing(), chromium_missing(),
                    None if LIBFAKETIME.is_file() else f"{LIBFAKETIME} is missing (apt-get install libfaketime)"):
        if missing:
            skip_or_fail(missing)
    analyses = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        def analyze(recording: Recording) -> None:
            analyses[(recording.scenario.name, recording.idp_kind)] = pool.submit(
                analyze_json, str(recording.har), *recording.atlan_options)

        recordings = record_all(tmp_path_factory.mktemp("scenarios"), on_recorded=analyze)
        return recordings, {key: future.result() for key, future in analyses.items()}


@pytest.fixture(scope="session")
def recordings(scenario_runs) -> dict[tuple[str, str], Recording]:
    return scenario_runs[0]


@pytest.fixture(scope="session")
def reports(scenario_runs) -> dict[tuple[str, str], dict]:
    return scenario_runs[1]


def _failing(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["status"] == "fail"]


def _top_failure(report: dict) -> dict:
    failing = _failing(report)
    assert failing, f"no failing finding; verdict: {report['verdict']}"
    return failing[0]


def _all_match(patterns: tuple[str, ...], text: str) -> bool:
    return all(re.search(p, text, re.IGNORECASE) for p in patterns)


def _posted_responses(recording: Recording) -> list[tuple[str, str]]:
    """(ACS URL, SAMLResponse) of every SAMLResponse POST in the HAR."""
    posted = []
    for entry in json.loads(recording.har.read_text())["log"]["entries"]:
        body = (entry["request"].get("postData") or {}).get("text") or ""
        form = urllib.parse.parse_qs(body)
        if entry["request"]["method"] == "POST" and "SAMLResponse" in form:
            posted.append((entry["request"]["url"], form["SAMLResponse"][0]))
    return posted


# --------------------------------------------------------------------------- the recordings themselves


@pytest.mark.parametrize(("name", "kind"), [pytest.param(n, k, id=f"{n}[{k}]") for n, k in PLANNED])
def test_recording_holds_what_the_scenario_did(recordings, name, kind):
    recording = recordings[(name, kind)]
    s = scenario(name)
    posted = _posted_responses(recording)
    if kind == NO_IDP or not s.preserve_log:
        assert posted == [], "a scenario that stops before the IdP answers (or lost the POST) has no SAMLResponse"
        return
    # one Response with the vendor-shaped issuer, posted to Atlan's broker, in this IdP implementation's layout
    ((acs_url, saml_response),) = posted
    assert f"/broker/{CONNECTORS[s.connector].alias}/endpoint" in acs_url
    root = etree.fromstring(base64.b64decode(saml_response), etree.XMLParser(resolve_entities=False))
    assert root.findtext(f"{{{SAML_NS}}}Issuer").strip() == CONNECTORS[s.connector].entity_id
    assert root.get("Destination") == acs_url
    assert root.get("ID").startswith(ID_PREFIX[kind])


# --------------------------------------------------------------------------- the report, as a reader sees it


def test_html_reports_answer_first_in_the_browser(reports, tmp_path):
    """The HTML report of every recorded login, opened in Chromium at 1280x800: the verdict (and for a failure
    the first fix step) is on screen without scrolling, no ID or status wraps, and the page logs no error and
    requests nothing. One browser for all, closed before any other test starts Playwright."""
    problems = {}
    with report_browser() as chromium:  # the `reports` fixture has made sure Chromium is here (or failed under CI)
        for (name, kind), doc in reports.items():
            path = tmp_path / f"{name}-{kind}.html"
            path.write_text(render("report", doc, "html"), encoding="utf-8")
            page = ReportPage(chromium, path, DESKTOP)
            try:
                found = {"verdict below the fold": not page.in_viewport("#verdict"),
                         "first fix step below the fold": doc["verdict"]["status"] == "fail"
                         and not page.in_viewport("#fix li"),
                         "wrapped": page.wrapped_ids(), "console errors": page.errors,
                         "requests": page.others(), "dialogs": page.dialogs}
                page.screenshot(f"e2e-{name}-{kind}-1280x800")
            finally:
                page.close()
            if any(found.values()):
                problems[f"{name}[{kind}]"] = {k: v for k, v in found.items() if v}
    assert len(reports) == len(PLANNED) and not problems, problems


# --------------------------------------------------------------------------- the diagnosis


@pytest.mark.parametrize(("name", "kind"), _params("connector"))
def test_detected_connector(reports, name, kind):
    detections = reports[(name, kind)]["detections"]
    expected = EXPECTED[name].connector
    if expected is None:
        assert detections == [], "nothing in this capture names the IdP"
    else:
        assert detections and detections[0]["connector"] == expected, detections


@pytest.mark.parametrize(("name", "kind"), _params("healthy", only=set(HEALTHY)))
def test_healthy_login_has_no_failing_finding(reports, name, kind):
    report = reports[(name, kind)]
    assert _failing(report) == []
    assert report["verdict"]["status"] == "pass", report["verdict"]


@pytest.mark.parametrize(("name", "kind"), _params("root_cause"))
def test_top_root_cause(reports, name, kind):
    report = reports[(name, kind)]
    top = _top_failure(report)
    assert _all_match(EXPECTED[name].root_cause, f"{top['check_id']} {top['title']} {top['message']}"), top
    failing = {f["check_id"] for f in _failing(report)}
    assert set(EXPECTED[name].also_failing) <= failing, failing


@pytest.mark.parametrize(("name", "kind"), _params("fix"))
def test_fix_of_the_top_root_cause(reports, name, kind):
    top = _top_failure(reports[(name, kind)])
    assert _all_match(EXPECTED[name].fix, top["remediation"]), top


@pytest.mark.parametrize(("name", "kind"), _params("atlan_page"))
def test_report_leads_with_the_page_atlan_stops_at(reports, name, kind):
    verdict = reports[(name, kind)]["verdict"]["summary"]
    assert EXPECTED[name].atlan_page in verdict and re.search(r"\bstep\b", verdict, re.IGNORECASE), verdict


def test_every_scenario_states_its_diagnosis():
    assert {name for name, _ in PLANNED} == set(EXPECTED)


def test_record_scenarios_command_writes_the_recordings(tmp_path, capsys):
    from tests.record_scenarios import main

    if chromium_missing():
        skip_or_fail(chromium_missing())
    # a scenario that needs no IdP keeps this quick; the others share the code path the session fixture runs
    assert main([str(tmp_path), "--only", "pingfederate-404"]) == 0
    har = tmp_path / f"pingfederate-404.{NO_IDP}.har"
    entries = json.loads(har.read_text())["log"]["entries"]
    assert [(e["request"]["url"].split("&")[0], e["response"]["status"]) for e in entries] == [
        ("https://sso.acme-ping.example/idp/startSSO.ping", 404)]
    assert capsys.readouterr().out.split() == ["ssodiag", "analyze", str(har), "--atlan", ATLAN, "--alias", "ping"]


# --------------------------------------------------------------------------- sanitized recordings


def _sanitized_pair(recording: Recording, form: str, folder) -> tuple[str, str]:
    """(original, sanitized) evidence files of the recorded login in ``form``: the HAR itself, the SAML-tracer
    export of the same requests, or the posted SAMLResponse alone as base64."""
    original = folder / f"original.{form}"
    if form == "har":
        original.write_bytes(recording.har.read_bytes())
    elif form == "saml-tracer":
        original.write_text(json.dumps(tracer_export_of(json.loads(recording.har.read_text()))))
    else:
        ((_, saml_response),) = _posted_responses(recording)
        original.write_text(saml_response)
    safe = folder / f"safe.{form}"
    result = CliRunner().invoke(app, ["sanitize", str(original), "-o", str(safe)])
    assert result.exit_code == 0, result.output
    return str(original), str(safe)


def _analyzed(path: str, options: tuple[str, ...]) -> dict:
    """The JSON report of `ssodiag analyze`, run in this process (the recordings' own reports ran as a user would)."""
    result = CliRunner().invoke(app, ["analyze", path, *options, "-f", "json", "--fail-on", "never", "--no-redact"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


_SANITIZED_SCENARIOS = [pytest.param(name, form, id=f"{name}[{form}]")
                        for name, kind in PLANNED if kind == "simplesamlphp" and scenario(name).preserve_log
                        and (name in ("okta-sp-healthy", "okta-idp-healthy") or name not in HEALTHY)
                        for form in ("har", "saml-tracer", "message")]


@pytest.mark.parametrize(("name", "form"), _SANITIZED_SCENARIOS)
def test_a_sanitized_recording_leaks_nothing_and_diagnoses_the_same(recordings, name, form, tmp_path):
    recording = recordings[(name, "simplesamlphp")]
    original, safe = _sanitized_pair(recording, form, tmp_path)
    messages = load_evidence([safe]).messages
    assert messages and all(m.sanitized for m in messages)  # the SAML messages are still there, marked
    # the file as it is, and every message in it decoded
    text = open(safe, encoding="utf-8").read() + "".join(m.raw_xml.decode() for m in messages)
    cookies = {c["value"] for e in json.loads(recording.har.read_text())["log"]["entries"]
               for c in e["request"].get("cookies", []) + e["response"].get("cookies", []) if len(c["value"]) >= 8}
    for personal in ("alice@acme.example", "Liddell", *cookies):
        assert personal not in text
    before, after = _analyzed(original, recording.atlan_options), _analyzed(safe, recording.atlan_options)
    assert len(after["messages"]) == len(before["messages"])
    assert after["verdict"]["status"] == {"pass": "inconclusive"}.get(before["verdict"]["status"],
                                                                      before["verdict"]["status"])
    assert [f["check_id"] for f in _failing(after)] == [f["check_id"] for f in _failing(before)], (
        before["verdict"]["summary"], after["verdict"]["summary"])
    # every signature is not checked; a message that had none (an AuthnRequest by Redirect) is unsigned as before
    assert [m["signature"]["verdict"] for m in after["messages"]] == [
        "absent" if m["signature"]["verdict"] == "absent" else "not-checked" for m in before["messages"]]
    assert all(m["signature"]["reason"].startswith("not-checked: sanitized") for m in after["messages"]
               if m["signature"]["verdict"] == "not-checked")
