"""The same Response judged "for Atlan" (what its Keycloak broker enforces) and "strictly" (the SAML specs): the
severity split, the clock-skew defaults, and the mode the report states."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.judgement import ACCEPTED
from tests.harbuild import HarBuilder, post_body
from tests.idp import TestIdP, utc_now

ATLAN = "https://acme.atlan.com"
SP = f"{ATLAN}/auth/realms/default"
ACS = f"{SP}/broker/okta/endpoint"
OKTA = "http://www.okta.com/exk123"
KC_RELAY_STATE = "c0dE-1.tAb-1.atlan-client"
runner = CliRunner()


@pytest.fixture(scope="module")
def idp() -> TestIdP:
    return TestIdP(entity_id=OKTA)


def report(tmp_path, idp, xml: bytes, *args: str, har: bool = True) -> dict:
    (tmp_path / "idp.xml").write_bytes(idp.metadata())
    if har:
        capture = HarBuilder(start=utc_now())
        capture.add("POST", ACS, body=post_body("SAMLResponse", xml, KC_RELAY_STATE), status=302, location=ATLAN)
        (tmp_path / "login.har").write_bytes(capture.bytes())
        evidence = tmp_path / "login.har"
    else:
        evidence = tmp_path / "response.xml"
        evidence.write_bytes(xml)
    result = runner.invoke(app, ["analyze", str(evidence), "--idp-metadata", str(tmp_path / "idp.xml"), *args,
                                 "--format", "json", "--fail-on", "never"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_check(doc: dict, check_id: str) -> list[dict]:
    return [f for f in doc["findings"] if f["check_id"] == check_id]


def lenient_response(idp: TestIdP) -> bytes:
    """Healthy for Keycloak, wrong for a strict SP: the Destination as Audience, a foreign Recipient, no bearer
    NotOnOrAfter, two AuthnStatements."""
    now = utc_now()
    return idp.signed_response(destination=ACS, audiences=[ACS], recipient="https://elsewhere.example/acs",
                               sc_not_on_or_after=None, authn_statements=2, in_response_to=None,
                               not_before=now - dt.timedelta(minutes=1), not_on_or_after=now + dt.timedelta(minutes=5))


def test_rules_keycloak_does_not_enforce_are_warnings_for_atlan(tmp_path, idp):
    doc = report(tmp_path, idp, lenient_response(idp), "--atlan", ATLAN, "--alias", "okta")
    assert doc["judgement"]["mode"] == "atlan"
    for check_id in ("SAML010", "SAML009", "SAML020", "SAML012"):
        [finding] = by_check(doc, check_id)
        assert finding["status"] == "warn" and finding["severity"] == "low", finding
        assert ACCEPTED in finding["message"]
    assert "Keycloak does not check the SubjectConfirmationData Recipient" in by_check(doc, "SAML010")[0]["message"]
    assert "step 19" in by_check(doc, "SAML012")[0]["message"]  # the broker accepts the Destination as audience


def test_the_same_response_fails_strictly(tmp_path, idp):
    doc = report(tmp_path, idp, lenient_response(idp), "--atlan", ATLAN, "--alias", "okta", "--strict")
    assert doc["judgement"]["mode"] == "strict" and "--strict" in doc["judgement"]["reason"]
    for check_id in ("SAML010", "SAML009", "SAML020", "SAML012"):
        assert [f["status"] for f in by_check(doc, check_id)] == ["fail"], check_id
    assert doc["expectations"]["clock_skew"] == 300


def test_without_atlan_the_generic_engine_stays_strict(tmp_path, idp):
    xml = idp.signed_response(destination="https://sp.example/acs", audiences=["https://sp.example/acs"],
                              in_response_to=None)
    doc = report(tmp_path, idp, xml, "--sp-entity-id", SP, "--acs-url", "https://sp.example/acs", har=False)
    assert doc["judgement"]["mode"] == "strict" and "broker" not in doc
    assert by_check(doc, "SAML012")[0]["status"] == "fail"
    assert by_check(doc, "KC010")[0]["status"] == "skip"


def test_a_broker_url_in_the_capture_makes_it_an_atlan_login(tmp_path, idp):
    doc = report(tmp_path, idp, lenient_response(idp))
    assert doc["judgement"]["mode"] == "atlan" and "Keycloak broker endpoint" in doc["judgement"]["reason"]
    assert doc["expectations"]["clock_skew"] == 0


def test_skew_defaults_to_zero_for_atlan_and_300_strictly(tmp_path, idp):
    """A Response whose NotBefore is 60 s ahead of the capture: Atlan refuses it, a 300 s validator accepts it."""
    now = utc_now()
    ahead = idp.signed_response(destination=ACS, audiences=[SP], recipient=ACS, in_response_to=None,
                                issue_instant=now + dt.timedelta(seconds=60), not_before=now + dt.timedelta(seconds=60),
                                not_on_or_after=now + dt.timedelta(minutes=5))
    atlan = report(tmp_path, idp, ahead, "--atlan", ATLAN, "--alias", "okta")
    assert atlan["verdict"]["top_check_id"] == "KC010"
    assert atlan["verdict"]["summary"].startswith("Atlan stops at step 19")
    assert "Login timeout. Please sign in again." in atlan["verdict"]["summary"]
    assert by_check(atlan, "SAML007")[0]["status"] == "fail"
    strict = report(tmp_path, idp, ahead, "--atlan", ATLAN, "--alias", "okta", "--strict")
    assert by_check(strict, "SAML007")[0]["status"] == "pass"
    skewed = report(tmp_path, idp, ahead, "--atlan", ATLAN, "--alias", "okta", "--clock-skew", "120")
    assert by_check(skewed, "SAML007")[0]["status"] == "pass" and skewed["broker"][0]["stop_step"] is None


def test_enforced_rule_fails_at_blocked_login_severity(tmp_path, idp):
    """The broker refuses a wrong audience (step 19), so SAML012 stays a high failure for Atlan."""
    xml = idp.signed_response(destination=ACS, audiences=["https://other.example"], recipient=ACS, in_response_to=None)
    doc = report(tmp_path, idp, xml, "--atlan", ATLAN, "--alias", "okta")
    [finding] = by_check(doc, "SAML012")
    assert finding["status"] == "fail" and finding["severity"] in ("high", "critical")


def test_terminal_report_states_the_mode(tmp_path, idp):
    (tmp_path / "r.xml").write_bytes(lenient_response(idp))
    result = runner.invoke(app, ["analyze", str(tmp_path / "r.xml"), "--atlan", ATLAN, "--alias", "okta",
                                 "--fail-on", "never"], catch_exceptions=False)
    assert "Judged for Atlan (--atlan given)" in result.stdout
    result = runner.invoke(app, ["analyze", str(tmp_path / "r.xml"), "--strict", "--fail-on", "never"],
                           catch_exceptions=False)
    assert "Judged strictly (--strict given" in result.stdout


def page_report(tmp_path, idp, xml: bytes, page: str) -> dict:
    (tmp_path / "idp.xml").write_bytes(idp.metadata())
    capture = HarBuilder(start=utc_now())
    capture.add("POST", ACS, body=post_body("SAMLResponse", xml, KC_RELAY_STATE), status=400,
                html=f"<html><body><p>{page}</p></body></html>")
    (tmp_path / "login.har").write_bytes(capture.bytes())
    result = runner.invoke(app, ["analyze", str(tmp_path / "login.har"), "--idp-metadata", str(tmp_path / "idp.xml"),
                                 "--atlan", ATLAN, "--alias", "okta", "--format", "json", "--fail-on", "never"],
                           catch_exceptions=False)
    return json.loads(result.stdout)


def test_captured_page_is_compared_with_the_prediction(tmp_path, idp):
    rotated = TestIdP(entity_id=OKTA, key_name="rotated")
    xml = rotated.signed_response(destination=ACS, audiences=[SP], recipient=ACS, in_response_to=None)
    agree = page_report(tmp_path, idp, xml, "Invalid signature in response from identity provider.")
    assert [f["status"] for f in by_check(agree, "KC013")] == ["pass"]
    disagree = page_report(tmp_path, idp, xml, "Invalid requester")
    [finding] = by_check(disagree, "KC013")
    assert finding["status"] == "warn" and "got past step 7" in finding["message"]
    assert "signature validation off or another signing certificate" in finding["message"]
