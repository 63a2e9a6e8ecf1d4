"""REQ0xx: AuthnRequest rules, each with a passing and a failing request built by the test IdP/SP."""
from __future__ import annotations

from datetime import timedelta

import pytest

import ssodiag.checks.authn_request  # noqa: F401  (registers the REQ checks)
from ssodiag.diag.metadata import parse_metadata
from ssodiag.diag.model import RedirectSignature, Status
from ssodiag.diag.saml import parse_message
from tests.idp import ACS_URL, NAMEID_EMAIL, SP_ENTITY_ID, SSO_URL, TestIdP
from tests.test_checks_response import T, context, message, only, run

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def request_findings(check_id: str, metadata=(), **fields):
    fields.setdefault("issue_instant", T - timedelta(seconds=5))
    return run(check_id, context(message(TestIdP().authn_request(**fields)), metadata=metadata))


REQ_IDS = ["REQ001", "REQ002", "REQ003", "REQ004", "REQ005", "REQ006", "REQ007", "REQ008", "REQ009"]


@pytest.mark.parametrize("check_id", REQ_IDS)
def test_a_plain_request_passes_every_check(check_id):
    findings = request_findings(check_id)
    assert [f.status for f in findings] == [Status.PASS] * len(findings), [f.message for f in findings]


CASES = [
    ("REQ001", {}, Status.PASS, f"`{SP_ENTITY_ID}`"),
    ("REQ001", dict(issuer=None), Status.FAIL, "has no Issuer"),
    ("REQ002", {}, Status.PASS, f"`{SP_ENTITY_ID}`"),
    ("REQ002", dict(issuer="https://SP.example.test/metadata"), Status.FAIL, "letter case"),
    ("REQ002", dict(issuer="urn:atlan:wrong"), Status.FAIL, "`urn:atlan:wrong`"),
    ("REQ002", dict(issuer=None), Status.SKIP, "no Issuer"),
    ("REQ003", {}, Status.PASS, f"`{ACS_URL}`"),
    ("REQ003", dict(acs_url="https://sp.example.test/ACS"), Status.FAIL, "differs only in letter case"),
    ("REQ003", dict(acs_url="http://sp.example.test/acs"), Status.FAIL, "the scheme is `http`"),
    ("REQ003", dict(acs_url="https://sp.example.test:443/acs"), Status.WARN, "written differently"),
    ("REQ003", dict(acs_url=None), Status.PASS, "registered for the app"),
    ("REQ004", {}, Status.PASS, f"`{SSO_URL}`"),
    ("REQ004", dict(destination=None), Status.WARN, "no Destination"),
    ("REQ005", {}, Status.PASS, f"`{NAMEID_EMAIL}`"),
    ("REQ005", dict(name_id_policy_format=None), Status.PASS, "no NameIDPolicy Format"),
    ("REQ006", dict(requested_authn_context=["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"]), Status.WARN,
     "`urn:oasis:names:tc:SAML:2.0:ac:classes:Password`"),
    ("REQ007", dict(id="_abc"), Status.PASS, "well-formed"),
    ("REQ007", dict(id="7f3a9"), Status.FAIL, "begins with `7`"),
    ("REQ007", dict(id=None), Status.FAIL, "has no ID"),
    ("REQ008", dict(issue_instant=T + timedelta(minutes=20)), Status.FAIL, "20 min after the --at time"),
    ("REQ008", dict(issue_instant=T - timedelta(days=2)), Status.WARN, "2 d before"),
    ("REQ008", dict(issue_instant="not-a-time"), Status.SKIP, "`not-a-time`"),
    ("REQ009", dict(is_passive=True), Status.WARN, "IsPassive `true`"),
    ("REQ009", dict(force_authn=True), Status.PASS, "ForceAuthn"),
]


@pytest.mark.parametrize(("check_id", "fields", "status", "text"), CASES,
                         ids=[f"{c[0]}-{c[2].value}-{i}" for i, c in enumerate(CASES)])
def test_check_judges_the_observed_value(check_id, fields, status, text):
    findings = request_findings(check_id, **fields)
    matching = only(findings, status)
    assert matching, [(f.status.value, f.message) for f in findings]
    assert any(text in f.message for f in matching), [f.message for f in matching]


@pytest.mark.parametrize(("offered", "status"), [([NAMEID_EMAIL], Status.WARN), ([PERSISTENT], Status.PASS)])
def test_name_id_policy_is_compared_with_the_formats_the_idp_offers(offered, status):
    idp = TestIdP()
    metadata = parse_metadata(idp.metadata(name_id_formats=offered), "idp.xml")
    (finding,) = request_findings("REQ005", metadata=[metadata], name_id_policy_format=PERSISTENT)
    assert finding.status is status and f"`{PERSISTENT}`" in finding.message


def test_signed_request_without_destination_fails():
    idp = TestIdP()
    xml = idp.sign_request(idp.authn_request(destination=None, issue_instant=T))
    (finding,) = run("REQ004", context(message(xml)))
    assert finding.status is Status.FAIL and "signed" in finding.message


def test_redirect_signed_request_without_destination_fails():
    xml = TestIdP().authn_request(destination=None, issue_instant=T)
    signature = RedirectSignature(sig_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", signature="c2ln",
                                  signed_query="SAMLRequest=x&SigAlg=y")
    msg = parse_message(xml, source="redirect", binding="redirect", redirect_signature=signature)
    (finding,) = run("REQ004", context(msg))
    assert finding.status is Status.FAIL

