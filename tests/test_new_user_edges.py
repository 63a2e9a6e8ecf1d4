"""The edges a new user hits: a URL or pasted value as the argument, wrong values in the user's own options (said,
not blamed on the IdP), group-sync options that go together."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from tests.harbuild import HarBuilder, post_body, redirect_query
from tests.idp import TestIdP, utc_now
from tests.markdown import as_html

ATLAN = "https://acme.atlan.com"
SP = f"{ATLAN}/auth/realms/default"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def idp() -> TestIdP:
    return TestIdP()


def test_decode_takes_the_readmes_url_and_analyze_a_pasted_value(idp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file of that name
    request = idp.authn_request(issuer=SP, acs_url=f"{SP}/broker/okta/endpoint", id="_req7")
    url = "https://idp.example.com/sso?" + redirect_query("SAMLRequest", request, "state1")
    decoded = invoke("decode", url)
    assert decoded.exit_code == 0, decoded.output
    assert "AuthnRequest from argument 1 (URL)" in decoded.stdout and 'ID="_req7"' in decoded.stdout
    pasted = base64.b64encode(idp.signed_response()).decode()
    report = invoke("analyze", pasted, "-f", "json", "--fail-on", "never", "--no-redact")
    doc = json.loads(report.stdout)
    assert doc["inputs"] == [{"source": "argument 1 (pasted value)", "kind": "saml-message",
                              "detail": "SAML Response (base64)", "error": None}]
    missing = invoke("analyze", "login.har")  # a short name is a file name, and a missing file says so
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_a_file_of_that_name_wins_over_a_pasted_value(idp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    value = base64.b64encode(idp.signed_response()).decode()[:150]
    name = value.replace("/", "_")
    (tmp_path / name).write_bytes(base64.b64encode(idp.signed_response()))
    doc = json.loads(invoke("analyze", name, "-f", "json", "--fail-on", "never", "--no-redact").stdout)
    assert doc["inputs"][0]["source"] == name


PING_LAUNCH = "https://sso.example.com/idp/startSSO.ping?PartnerSpId=" + SP.replace(":", "%3A").replace("/", "%2F")


def test_a_bare_launch_url_is_evidence_not_a_missing_file(tmp_path, monkeypatch):
    # a PingFederate IdP-initiated launch link, pasted as is: no SAML message, but the URL itself is judged
    monkeypatch.chdir(tmp_path)
    args = ("--atlan", ATLAN, "--alias", "ping", "-f", "json", "--no-redact", "--fail-on", "never")
    doc = json.loads(invoke("analyze", PING_LAUNCH, *args).stdout)
    assert doc["inputs"][0]["source"] == "argument 1 (URL)" and doc["inputs"][0]["kind"] == "url"
    assert "pingfederate" in [c["connector"] for c in doc["detections"]]
    status = {f["check_id"]: f["status"] for f in doc["findings"]}
    assert status["PING001"] == status["PING006"] == "pass"
    assert doc["verdict"]["status"] == "inconclusive" and "URL carries no SAML message" in doc["verdict"]["summary"]
    # the classic 404 launch link (`&` where `?` belongs, PartnerSpId of another SP) is the verdict, with the URL to use
    broken = invoke("analyze", "https://sso.example.com/idp/startSSO.ping&PartnerSpId=https://other.example/sp",
                    *args)
    doc = json.loads(broken.stdout)
    assert doc["verdict"]["status"] == "fail" and doc["verdict"]["top_check_id"] == "PING001"
    assert PING_LAUNCH in doc["answer"]["steps"][0]["text"]
    assert {f["check_id"] for f in doc["findings"] if f["status"] == "fail"} >= {"PING001", "PING006"}
    (tmp_path / "link.txt").write_text(f"  {PING_LAUNCH}\n")  # the same link saved in a text file
    assert json.loads(invoke("analyze", "link.txt", *args).stdout)["inputs"][0]["kind"] == "url"
    decoded = invoke("decode", PING_LAUNCH)
    assert decoded.exit_code == 2 and "no SAMLRequest or SAMLResponse" in decoded.stderr
    assert "ssodiag analyze" in decoded.stderr and "no such file" not in decoded.stderr


@pytest.mark.parametrize("atlan", ["acme", "acme.atlan.com", "ftp://acme.atlan.com"])
def test_atlan_must_be_a_url(idp, tmp_path, atlan):
    (tmp_path / "r.xml").write_bytes(idp.signed_response())
    r = invoke("analyze", str(tmp_path / "r.xml"), "--atlan", atlan, "--alias", "okta")
    assert r.exit_code == 2 and "--atlan" in r.stderr and "https://acme.atlan.com" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def _har_with_broker_alias(idp: TestIdP, alias: str) -> bytes:
    acs = f"{SP}/broker/{alias}/endpoint"
    request = idp.authn_request(issuer=SP, acs_url=acs, id="_req1")
    response = idp.signed_response(audiences=[SP], destination=acs, recipient=acs, in_response_to="_req1")
    har = HarBuilder()
    har.add("GET", f"{SP}/broker/{alias}/login", status=302,
            location="https://idp.example.test/sso?" + redirect_query("SAMLRequest", request, "rs"))
    har.add("POST", acs, body=post_body("SAMLResponse", response, "rs"), status=302, location=f"{ATLAN}/home")
    return har.bytes()


def test_alias_comes_from_the_capture_and_a_contradicting_option_is_said(idp, tmp_path):
    (tmp_path / "login.har").write_bytes(_har_with_broker_alias(idp, "okta"))
    wrong = invoke("analyze", str(tmp_path / "login.har"), "--atlan", ATLAN, "--alias", "Okta", "-f", "json",
                   "--no-redact", "--fail-on", "never")
    assert "--alias Okta contradicts the capture" in wrong.stderr and "/broker/okta/" in wrong.stderr
    doc = json.loads(wrong.stdout)
    assert doc["expectations"]["acs_urls"][0] == f"{SP}/broker/okta/endpoint"
    assert not [f for f in doc["findings"] if f["status"] == "fail" and "Destination" in f["title"]]
    alone = invoke("analyze", str(tmp_path / "login.har"), "--atlan", ATLAN, "-f", "json", "--no-redact",
                   "--fail-on", "never")
    assert "--alias taken from the capture: okta" in alone.stderr
    assert json.loads(alone.stdout)["expectations"]["acs_urls"][0] == f"{SP}/broker/okta/endpoint"


def test_an_alias_read_from_a_message_names_that_message_not_a_capture(idp, tmp_path, monkeypatch):
    # a Response pasted as the argument, or saved in a file, is no capture: the note says where the alias was read
    monkeypatch.chdir(tmp_path)
    acs = f"{SP}/broker/okta/endpoint"
    response = idp.signed_response(audiences=[SP], destination=acs, recipient=acs).decode()
    (tmp_path / "response.xml").write_text(response)
    args = ("--atlan", ATLAN, "-f", "json", "--no-redact", "--fail-on", "never")
    pasted = invoke("analyze", response, *args)
    assert "--alias taken from the Response's Destination in argument 1 (pasted value): okta" in pasted.stderr
    assert json.loads(pasted.stdout)["inputs"][0]["source"] == "argument 1 (pasted value)"  # XML holds `://` too
    saved = invoke("analyze", "response.xml", "--alias", "Okta", *args)
    assert ("--alias Okta contradicts the Response's Destination in response.xml, which shows /broker/okta/"
            in saved.stderr)
    assert "capture" not in pasted.stderr + saved.stderr
    assert json.loads(saved.stdout)["expectations"]["acs_urls"][0] == acs


@pytest.mark.parametrize("atlan", ["http://acme.atlan.com", "HTTPS://ACME.Atlan.com", "https://acme.atlan.com:443",
                                   "https://acme.atlan.com/home"])
def test_another_spelling_of_the_atlan_url_is_not_blamed_on_the_idp(idp, tmp_path, atlan):
    # each spelling made Atlan's SP entity ID and ACS URLs differ from the healthy login's: "AuthnRequest Issuer is
    # not the SP entity ID", "Atlan stops at step 19: audience"
    (tmp_path / "login.har").write_bytes(_har_with_broker_alias(idp, "okta"))
    (tmp_path / "idp.pem").write_text(idp.cert_pem)
    def run(url):
        result = invoke("analyze", str(tmp_path / "login.har"), "--atlan", url, "--idp-cert",
                        str(tmp_path / "idp.pem"), "-f", "json", "--no-redact", "--fail-on", "never")
        doc = json.loads(result.stdout)
        return result.stderr, doc["expectations"], sorted((f["check_id"], f["status"]) for f in doc["findings"])

    said, expected, findings = run(atlan)
    assert (expected, findings) == run(ATLAN)[1:] and expected["sp_entity_id"] == SP
    assert ("contradicts the evidence" in said) is atlan.startswith("http:")


def test_mappings_without_atlan_users_is_said_and_atlan_users_alone_refused(idp, tmp_path):
    (tmp_path / "r.xml").write_bytes(idp.signed_response())
    (tmp_path / "x.csv").write_text("sso_group,atlan_group\na,b\n")
    alone = invoke("analyze", str(tmp_path / "r.xml"), "--mappings", str(tmp_path / "x.csv"), "-f", "json",
                   "--fail-on", "never")
    assert "--mappings without --atlan-users" in alone.stderr and "groupsync" not in json.loads(alone.stdout)
    r = invoke("analyze", str(tmp_path / "r.xml"), "--atlan-users", str(tmp_path / "x.csv"))
    assert r.exit_code == 2 and "--atlan-users needs --mappings" in r.stderr


def test_groupsync_simulate_names_its_inputs_as_analyze_does():
    help_text = runner.invoke(app, ["groupsync", "simulate", "--help"], terminal_width=200).stdout
    assert "--atlan-users" in help_text and "--mappings" in help_text
    assert "--atlan " not in help_text and "--atlan," not in help_text  # --atlan is a URL, in analyze only


PYTHONISH = re.compile(r"<(?:list\[|str>|int>|bool>|path>|Path>)|\{[a-z_]+\}")


@pytest.mark.parametrize("command", [["analyze"], ["decode"], ["demo"], ["checks", "list"], ["checks", "explain"],
                                     ["groupsync", "simulate"]])
def test_help_reads_like_a_cli_and_ends_with_examples(command):
    text = runner.invoke(app, [*command, "--help"], terminal_width=120).stdout
    assert not PYTHONISH.search(text), PYTHONISH.findall(text)
    examples = text.split("Examples:", 1)[1].split("Options:", 1)[0]
    lines = [line.strip() for line in examples.splitlines() if line.strip()]
    assert 2 <= len(lines) <= 3 and all(line.startswith(("ssodiag ", "pbpaste")) for line in lines), lines


def test_missing_evidence_is_a_one_line_usage_error():
    r = subprocess.run([sys.executable, "-m", "ssodiag", "analyze"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "EVIDENCE" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["md", "html", "json", "terminal"])
def test_checks_list_honours_the_format(fmt):
    from ssodiag.diag.registry import load_builtin_checks

    specs = load_builtin_checks()
    text = runner.invoke(app, ["checks", "list", "--format", fmt]).stdout
    okta = next(s for s in specs.values() if s.connector.value == "okta")
    if fmt == "json":
        rows = {c["id"]: c for c in json.loads(text)}
        assert set(rows) == set(specs) and rows[okta.id]["connector"] == "okta"
    elif fmt == "md":
        assert text.startswith("# ssodiag checks") and f"| {okta.id} | {okta.severity.value} | okta |" in text
        assert "<table>" in as_html(text)
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and f'<tr id="{okta.id}">' in text and "okta</td>" in text
    else:
        assert re.search(rf"^{okta.id}\s+{okta.severity.value}\s+okta\s", text, re.M)


def test_an_unsigned_idp_error_answer_is_judged_by_its_status(idp):
    from ssodiag.diag.model import Evidence, Expectations
    from ssodiag.diag.runner import analyze
    from ssodiag.diag.saml import parse_message

    def judged(xml: bytes):
        return analyze(Evidence(messages=(parse_message(xml, source="answer.xml"),)), Expectations())

    error = judged(idp.response(status_code="Requester", assertions=0))
    sig001 = [f for f in error.findings if f.check_id == "SIG001"]
    assert [f.status.value for f in sig001] == ["skip"] and "nothing to sign" in sig001[0].message
    assert error.verdict.top_check_id == "SAML001"  # the status is the answer
    unsigned_success = judged(idp.response())  # an unsigned assertion is still critical
    assert [f.status.value for f in unsigned_success.findings if f.check_id == "SIG001"] == ["fail"]


def test_an_acs_post_without_body_is_the_verdict_with_how_to_re_export(idp, tmp_path):
    acs = f"{SP}/broker/okta/endpoint"
    request = idp.authn_request(issuer=SP, acs_url=acs, id="_r1")
    sso = "https://idp.example.test/sso?" + redirect_query("SAMLRequest", request, "rs")
    har = HarBuilder(start=utc_now())
    har.add("GET", f"{SP}/broker/okta/login", status=302, location=sso)
    har.add("GET", sso, status=200, html="<html><body>Sign in</body></html>")
    har.add("POST", acs, status=302, location=f"{ATLAN}/home")  # the body was lost from the export
    (tmp_path / "login.har").write_bytes(har.bytes())
    doc = json.loads(invoke("analyze", str(tmp_path / "login.har"), "-f", "json", "--fail-on", "never").stdout)
    verdict = doc["verdict"]
    assert verdict["status"] == "inconclusive" and "entry 3" in verdict["summary"]
    assert "has no body" in verdict["summary"] and "Preserve log" in verdict["summary"]
    assert doc["answer"]["sentence"] == verdict["summary"]


@pytest.mark.parametrize("ticket", ["okta-healthy", "okta-failure", "pingfederate-failure"])
def test_a_response_kept_only_in_the_idps_auto_post_page_is_judged_as_posted(ticket, tmp_path):
    # The export lost the ACS POST's body, but the IdP's auto-submitting page still holds the Response: that page's
    # URL (the IdP's SSO URL) is not where the Response was posted, and was judged so ("Atlan stops at step 6:
    # Destination is not the URL it was posted to" for a healthy login)
    from ssodiag.diag.demo import SAMPLES

    folder = SAMPLES / ticket
    har = json.loads((folder / "login.har").read_text())
    for entry in har["log"]["entries"]:
        entry["request"].pop("postData", None)
    (tmp_path / "login.har").write_text(json.dumps(har))
    metadata = next(folder.glob("*-metadata.xml"))

    def verdict(path):
        doc = json.loads(invoke("analyze", str(path), "--idp-metadata", str(metadata), "--atlan", ATLAN, "-f", "json",
                                "--fail-on", "never").stdout)
        return doc["verdict"]["status"], doc["verdict"]["top_check_id"], doc["answer"]["steps"][:1]

    assert verdict(tmp_path / "login.har") == verdict(folder / "login.har")
