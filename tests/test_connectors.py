"""Connector modules: each vendor failure diagnosed from HAR-shaped evidence with the right connector, the right top
root cause and a fix quoting the vendor console and the tenant's values; a healthy login per connector fails nothing.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from ssodiag.diag.certs import load_certificates
from ssodiag.diag.cli import app
from ssodiag.diag.connectors import declarations
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.model import Connector, Expectations, Status
from ssodiag.diag.runner import analyze
from ssodiag.reports.document import build_document
from tests.harbuild import HarBuilder, auto_submit_page, post_body, redirect_query
from tests.idp import TestIdP, utc_now

ATLAN = "https://acme.atlan.com"


def endpoints(alias: str) -> tuple[str, str, str]:
    acs = f"{ATLAN}/auth/realms/default/broker/{alias}/endpoint"
    return f"{ATLAN}/auth/realms/default", acs, acs + "/clients/atlan-saml"


def run(tmp_path: Path, har: HarBuilder, alias: str, idp: TestIdP | None = None, **expect):
    path = tmp_path / "login.har"
    path.write_bytes(har.bytes())
    certs = load_certificates(idp.cert_pem.encode(), "idp.pem") if idp else ()
    result = analyze(load_evidence([str(path)]),
                     Expectations(atlan_url=ATLAN, atlan_alias=alias, idp_certificates=certs, **expect))
    return result, build_document(result)


def failing(result):
    return [f for f in result.findings if f.status is Status.FAIL]


def top(result):
    fails = failing(result)
    assert fails, "expected a failing finding"
    return fails[0]


def sp_start(har: HarBuilder, alias: str, idp_sso: str, idp: TestIdP, *, status: int = 302) -> None:
    """Atlan's broker sends an AuthnRequest (HTTP-Redirect) to the IdP."""
    entity, acs, _ = endpoints(alias)
    request = idp.authn_request(id="_req-1", issuer=entity, acs_url=acs, destination=idp_sso)
    har.add("GET", f"{ATLAN}/auth/realms/default/broker/{alias}/login", status=302,
            location=f"{idp_sso}?{redirect_query('SAMLRequest', request, 'code.tab.atlan-frontend')}")


def healthy(har: HarBuilder, alias: str, idp_sso: str, idp: TestIdP) -> None:
    entity, acs, _ = endpoints(alias)
    sp_start(har, alias, idp_sso, idp)
    response = idp.signed_response(in_response_to="_req-1", destination=acs, recipient=acs, audiences=[entity])
    har.add("GET", idp_sso + "?SAMLRequest=x", html=auto_submit_page(acs, response, "code.tab.atlan-frontend"))
    har.add("POST", acs, status=302, location=f"{ATLAN}/", body=post_body("SAMLResponse", response,
                                                                             "code.tab.atlan-frontend"))


# --------------------------------------------------------------------------- healthy logins per connector

HEALTHY = [
    (Connector.OKTA, "okta", "http://www.okta.com/exk1abcdEFGH", "https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml"),
    (Connector.GOOGLE, "google", "https://accounts.google.com/o/saml2?idpid=C01abc",
     "https://accounts.google.com/o/saml2/idp?idpid=C01abc"),
    (Connector.PINGFEDERATE, "ping", "https://sso.acme.example", "https://sso.acme.example:9031/idp/SSO.saml2"),
    (Connector.ENTRA, "azure", "https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/",
     "https://login.microsoftonline.com/0a1b2c3d-0000-1111-2222-333344445555/saml2"),
]


@pytest.mark.parametrize("connector, alias, issuer, sso", HEALTHY, ids=[h[0].value for h in HEALTHY])
def test_healthy_login_per_connector_fails_nothing(tmp_path, connector, alias, issuer, sso):
    idp = TestIdP(entity_id=issuer)
    har = HarBuilder(start=utc_now())
    healthy(har, alias, sso, idp)
    result, doc = run(tmp_path, har, alias, idp)
    assert result.detections[0].connector is connector
    assert failing(result) == [], [(f.check_id, f.message) for f in failing(result)]
    assert doc["verdict"]["status"] == "pass"


# --------------------------------------------------------------------------- Okta


def test_okta_403_app_not_assigned_is_a_diagnosis_not_inconclusive(tmp_path):
    idp = TestIdP(entity_id="http://www.okta.com/exk1")
    sso = "https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml"
    har = HarBuilder(start=utc_now())
    sp_start(har, "okta", sso, idp)
    har.add("GET", sso + "?SAMLRequest=abc", status=403,
            html="<html><body><h1>403 App Not Assigned</h1><p>Sorry, you can't access Atlan because you are not "
                 "assigned this app in Okta. If you're wondering why this is happening, please contact your "
                 "administrator.</p></body></html>")
    result, doc = run(tmp_path, har, "okta")
    assert result.detections[0].connector is Connector.OKTA
    finding = top(result)
    assert finding.check_id == "OKTA001"
    assert "Applications → Applications → Atlan → Assignments → Assign" in finding.remediation
    assert doc["verdict"]["status"] == "fail" and doc["verdict"]["top_check_id"] == "OKTA001"


def test_okta_tile_launch_to_sp_endpoint_quotes_okta_field_and_tenant_url(tmp_path):
    idp = TestIdP(entity_id="http://www.okta.com/exk1")
    _, acs, acs_idp = endpoints("okta")
    response = idp.signed_response(in_response_to=None, destination=acs, recipient=acs,
                                   audiences=[endpoints("okta")[0]])
    har = HarBuilder(start=utc_now())
    har.add("GET", "https://acme.okta.com/home/acme_atlan_1/0oa1/aln1", html=auto_submit_page(acs, response, ""))
    har.add("POST", acs, status=400, body=post_body("SAMLResponse", response, ""),
            html="<html><body>We are sorry... Invalid Request</body></html>")
    result, _ = run(tmp_path, har, "okta", idp)
    finding = top(result)  # where Atlan's broker stops, with the Okta fix of the finding that explains it
    assert finding.check_id == "KC010" and failing(result)[1].check_id == "KC002"
    assert "Single sign-on URL = `" + acs_idp + "`" in finding.remediation
    assert "Default RelayState empty" in finding.remediation


def test_okta_existing_atlan_user_explains_two_ways_out(tmp_path):
    idp = TestIdP(entity_id="http://www.okta.com/exk1")
    har = HarBuilder(start=utc_now())
    healthy(har, "okta", "https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml", idp)
    har.add("GET", f"{ATLAN}/auth/realms/default/login-actions/first-broker-login?code=x",
            html="<html><body><h1>Account already exists</h1><p>User with email jane@acme.example already exists. "
                 "How do you want to continue?</p></body></html>")
    result, _ = run(tmp_path, har, "okta", idp)
    finding = top(result)  # Atlan's broker stops at the first-login step, with the Okta fix of OKTA003
    assert finding.check_id == "KC010" and "step 22" in finding.message and failing(result)[1].check_id == "OKTA003"
    assert "Application username format" in finding.remediation and "removed" in finding.remediation


def test_okta_missing_attribute_statements_name_the_okta_fields(tmp_path):
    idp = TestIdP(entity_id="http://www.okta.com/exk1")
    entity, acs, _ = endpoints("okta")
    response = idp.signed_response(in_response_to=None, destination=acs + "/clients/atlan-saml",
                                   recipient=acs + "/clients/atlan-saml", audiences=[entity],
                                   attributes={"FirstName": ["Jane"], "email": ["jane@acme.example"]})
    har = HarBuilder(start=utc_now())
    har.add("POST", acs + "/clients/atlan-saml", status=200, body=post_body("SAMLResponse", response),
            html="<html><body><h1>Update Account Information</h1>Please specify last name.</body></html>")
    result, _ = run(tmp_path, har, "okta", idp)
    ids = [f.check_id for f in failing(result)]
    assert ids[:2] == ["KC010", "OKTA004"] and "ATTR001" in ids
    assert "Attribute Statements: `firstName` → `user.firstName`" in top(result).remediation
    attr = next(f for f in failing(result) if f.check_id == "ATTR001")
    assert "rename `FirstName` to `firstName`" in attr.message
    assert "Group Attribute Statements" in attr.remediation and "`[\\s\\S]+`" in attr.remediation


# --------------------------------------------------------------------------- Google


@pytest.mark.parametrize("code, check_id, console", [
    ("app_not_configured_for_user", "GWS001", "Service provider details → Entity ID = `https://acme.atlan.com/auth/realms/default`"),
    ("app_not_configured", "GWS002", "Add custom SAML app"),
    ("app_not_enabled_for_user", "GWS003", "User access → Service status: ON for everyone"),
])
def test_google_error_codes(tmp_path, code, check_id, console):
    idp = TestIdP(entity_id="https://accounts.google.com/o/saml2?idpid=C01abc")
    sso = "https://accounts.google.com/o/saml2/idp?idpid=C01abc"
    har = HarBuilder(start=utc_now())
    sp_start(har, "google", sso, idp)
    har.add("GET", sso + "&SAMLRequest=abc", status=403,
            html=f"<html><body><p>403. That’s an error.</p><p>Error: {code}</p></body></html>")
    result, _ = run(tmp_path, har, "google")
    assert result.detections[0].connector is Connector.GOOGLE
    finding = top(result)
    assert finding.check_id == check_id and console in finding.remediation


def test_google_dashboard_launch_to_sp_endpoint(tmp_path):
    idp = TestIdP(entity_id="https://accounts.google.com/o/saml2?idpid=C01abc")
    entity, acs, acs_idp = endpoints("google")
    response = idp.signed_response(in_response_to=None, destination=acs, recipient=acs, audiences=[entity])
    har = HarBuilder(start=utc_now())
    har.add("GET", "https://accounts.google.com/o/saml2/initsso?idpid=C01abc&spid=1&forceauthn=false",
            html=auto_submit_page(acs, response, f"{ATLAN}/"))
    har.add("POST", acs, status=400, body=post_body("SAMLResponse", response, f"{ATLAN}/"))
    result, _ = run(tmp_path, har, "google", idp)
    finding = top(result)
    assert finding.check_id == "KC010" and failing(result)[1].check_id == "KC002"
    assert f"ACS URL = `{acs_idp}` and Start URL empty" in finding.remediation
    # every step of the fix quotes the tenant's URL, the generic one too, never a placeholder alias
    assert f"Atlan's IdP-initiated URL `{acs_idp}`" in finding.remediation
    assert "ALIAS" not in finding.remediation


@pytest.mark.parametrize("alias,issuer,launch,vendor_step", [
    # Google and Okta have one ACS field: the vendor's step sets it, nothing after says to keep a second one
    ("google", "https://accounts.google.com/o/saml2?idpid=C01abc",
     "https://accounts.google.com/o/saml2/initsso?idpid=C01abc&spid=1", "In Google Workspace: "),
    ("okta", "http://www.okta.com/exk1", "https://acme.okta.com/home/acme_atlan_1/0oa1/aln1", "In Okta: "),
    # PingFederate lists both ACS URLs and makes the IdP-initiated one the default
    ("ping", "https://sso.acme.example:9031", "https://sso.acme.example:9031/idp/startSSO.ping?PartnerSpId=x",
     "In PingFederate: "),
    ("azure", "https://sts.windows.net/0b6a3f7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/",
     "https://myapps.microsoft.com/signin/atlan/0b6a3f7e", "In Entra ID: "),
])
def test_dashboard_launch_answer_leads_with_the_vendor_fix(tmp_path, alias, issuer, launch, vendor_step):
    idp = TestIdP(entity_id=issuer)
    entity, acs, acs_idp = endpoints(alias)
    response = idp.signed_response(in_response_to=None, destination=acs, recipient=acs, audiences=[entity])
    har = HarBuilder(start=utc_now())
    har.add("GET", launch, html=auto_submit_page(acs, response, ""))
    har.add("POST", acs, status=400, body=post_body("SAMLResponse", response, ""))
    result, _ = run(tmp_path, har, alias, idp)
    assert result.answer.cause_check_id in ("KC010", "KC002")
    steps = [step.text for step in result.answer.steps]
    assert steps[0].startswith(vendor_step) and acs_idp in steps[0]
    # the generic advice follows, and does not tell a one-field console to keep the SP-initiated URL
    assert any(step.startswith("Make Atlan's IdP-initiated URL") for step in steps[1:])
    assert not any("(keep the SP-initiated one too)" in step for step in steps)
    # the link is the guide of the IdP whose console the fix is made in, not Atlan's PingFederate guide for all
    [idp_guide] = [d.docs for d in declarations() if vendor_step == f"In {d.title}: "]
    assert next(f for f in failing(result) if f.check_id == "KC002").docs == idp_guide


def test_a_launch_from_an_idp_of_no_known_vendor_links_the_page_naming_both_acs_urls(tmp_path):
    # no vendor guide to link: Atlan's PingFederate guide is the one Atlan page that names both ACS URLs
    from ssodiag.diag.connectors import ATLAN_PING_GUIDE

    idp = TestIdP(entity_id="https://idp.corp.example/saml")
    entity, acs, _ = endpoints("corp")
    response = idp.signed_response(in_response_to=None, destination=acs, recipient=acs, audiences=[entity])
    har = HarBuilder(start=utc_now())
    har.add("POST", acs, status=400, body=post_body("SAMLResponse", response, ""))
    result, _ = run(tmp_path, har, "corp", idp)
    assert not result.detections
    assert next(f for f in failing(result) if f.check_id == "KC002").docs == ATLAN_PING_GUIDE


# --------------------------------------------------------------------------- PingFederate

PF = "https://sso.acme.example:9031"


def test_ping_ampersand_for_question_mark_prints_the_correct_launch_url(tmp_path):
    entity = endpoints("ping")[0]
    bad = f"{PF}/idp/startSSO.ping&PartnerSpId={quote(entity, safe='')}&TargetResource={quote(ATLAN, safe='')}"
    har = HarBuilder(start=utc_now())
    har.add("GET", bad, status=404, html="<html><body>404 Not Found</body></html>")
    result, _ = run(tmp_path, har, "ping")
    assert result.detections[0].connector is Connector.PINGFEDERATE
    finding = top(result)
    assert finding.check_id == "PING001"
    good = (f"{PF}/idp/startSSO.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com%2Fauth%2Frealms%2Fdefault"
            f"&TargetResource=https%3A%2F%2Facme.atlan.com%2F")
    assert good in finding.remediation


@pytest.mark.parametrize("url, check_id", [
    (f"{PF}/idp/startSSO.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com%2Fauth%2Frealms%2Fdefault?TargetResource=x",
     "PING002"),
    (f"{PF}/idp/startSSO.ping?partnerspid=https%3A%2F%2Facme.atlan.com%2Fauth%2Frealms%2Fdefault", "PING003"),
    (f"{PF}/idp/startSSO.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com%2Fauth%2Frealms%2Fdefault"
     f"&TargetResource=https://acme.atlan.com/", "PING004"),
    (f"{PF}/idp/startsso.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com%2Fauth%2Frealms%2Fdefault", "PING005"),
    (f"{PF}/idp/startSSO.ping?PartnerSpId=atlan-prod", "PING006"),
])
def test_ping_launch_url_faults(tmp_path, url, check_id):
    har = HarBuilder(start=utc_now())
    har.add("GET", url, status=404 if check_id == "PING005" else 200,
            html="<html><body>System Error</body></html>" if check_id == "PING002" else "<html><body></body></html>")
    result, _ = run(tmp_path, har, "ping")
    assert top(result).check_id == check_id


def test_ping_partner_not_active_and_tracking_cookie(tmp_path):
    har = HarBuilder(start=utc_now())
    har.add("GET", f"{PF}/idp/startSSO.ping?PartnerSpId=https%3A%2F%2Facme.atlan.com%2Fauth%2Frealms%2Fdefault",
            html="<html><body>Partner https://acme.atlan.com/auth/realms/default is not active.</body></html>",
            cookies={"PF": "tid-7Hk2Q9"})
    result, _ = run(tmp_path, har, "ping")
    finding = top(result)
    assert finding.check_id == "PING007" and "Connection Status: Active" in finding.remediation
    tracking = next(f for f in result.findings if f.check_id == "PING009")
    assert tracking.status is Status.WARN and "tid-7Hk2Q9" in tracking.message


def test_ping_session_cookie_is_not_in_a_written_report_but_in_the_redaction_key(tmp_path):
    # the PF cookie opens the user's PingFederate session: a report attached to a ticket must not carry it
    har = HarBuilder(start=utc_now())
    har.add("GET", f"{PF}/idp/startSSO.ping&PartnerSpId=x", status=404, html="<html><body>Not Found</body></html>",
            cookies={"PF": "Zq81TrackIdXyZ", "lang": "en"})
    (tmp_path / "login.har").write_bytes(har.bytes())
    report, key = tmp_path / "report.md", tmp_path / "key.json"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "login.har"), "--atlan", ATLAN, "--alias", "ping",
                                      "-o", str(report), "--redaction-key", str(key)])
    assert result.exit_code == 1, result.output
    text = report.read_text()
    assert "PING009" in text and "Zq81TrackIdXyZ" not in text and "<cookie-" in text
    assert "Zq81TrackIdXyZ" in key.read_text()


# --------------------------------------------------------------------------- Entra and Defender

ENTRA_SSO = "https://login.microsoftonline.com/0a1b2c3d-0000-1111-2222-333344445555/saml2"


def entra_page(text: str) -> HarBuilder:
    idp = TestIdP(entity_id="https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/")
    har = HarBuilder(start=utc_now())
    sp_start(har, "azure", ENTRA_SSO, idp)
    har.add("GET", ENTRA_SSO + "?SAMLRequest=abc", status=200,
            html=f"<html><body><div>Sign in</div><div>Sorry, but we're having trouble signing you in.</div>"
                 f"<div>{text}</div></body></html>")
    return har


def test_entra_50105(tmp_path):
    result, _ = run(tmp_path, entra_page("AADSTS50105: The signed in user 'brian@contoso.com' is not assigned to a "
                                         "role for the application."), "azure")
    assert result.detections[0].connector is Connector.ENTRA
    finding = top(result)
    assert finding.check_id == "ENTRA002" and "Enterprise applications → Atlan → Users and groups" in finding.remediation


def test_entra_50011_diffs_the_url_case_sensitively(tmp_path):
    sent = f"{ATLAN}/auth/realms/default/broker/Azure/endpoint"
    result, _ = run(tmp_path, entra_page(f"AADSTS50011: The reply URL '{sent}' specified in the request does not "
                                         f"match the reply URLs configured for the application."), "azure")
    finding = top(result)
    assert finding.check_id == "ENTRA001"
    assert "letter case" in finding.message
    result, _ = run(tmp_path, entra_page(f"AADSTS50011: The reply URL '{endpoints('azure')[1]}' does not match."),
                    "azure")
    finding = top(result)
    assert finding.check_id == "ENTRA001" and "lacks this Reply URL" in finding.message
    assert f"Add reply URL: `{endpoints('azure')[1]}` exactly" in finding.remediation


def test_entra_does_not_blame_what_microsoft_ignores(tmp_path):
    idp = TestIdP(entity_id="https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/")
    entity, acs, _ = endpoints("azure")
    request = idp.authn_request(id="_req-1", issuer=entity, acs_url=acs, destination=None)
    har = HarBuilder(start=utc_now())
    har.add("GET", f"{ATLAN}/auth/realms/default/broker/azure/login", status=302,
            location=f"{ENTRA_SSO}?{redirect_query('SAMLRequest', request, 'c.t.a')}")
    har.add("GET", f"{ENTRA_SSO}?{redirect_query('SAMLRequest', request, 'c.t.a')}", html="<p>Sign in</p>")
    result, _ = run(tmp_path, har, "azure")
    [req004] = [f for f in result.findings if f.check_id == "REQ004"]
    assert req004.status is Status.SKIP and "Not blamed" in req004.message
    result, _ = run(tmp_path, har, "okta", connector=Connector.OKTA)
    [req004] = [f for f in result.findings if f.check_id == "REQ004"]
    assert req004.status is Status.WARN


def test_defender_is_detected_ahead_of_entra_and_names_the_proxied_destination(tmp_path):
    idp = TestIdP(entity_id="https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/")
    entity, acs, _ = endpoints("azure")
    proxied = acs.replace("acme.atlan.com", "acme.atlan.com.mcas.ms")
    response = idp.signed_response(in_response_to=None, destination=proxied, recipient=proxied, audiences=[entity])
    har = HarBuilder(start=utc_now())
    har.add("GET", ENTRA_SSO + "?SAMLRequest=abc", html=auto_submit_page(proxied, response, ""))
    har.add("POST", proxied + "?McasTsid=123", status=400, body=post_body("SAMLResponse", response))
    result, _ = run(tmp_path, har, "azure", idp)
    assert [d.connector for d in result.detections][:2] == [Connector.DEFENDER, Connector.ENTRA]
    finding = top(result)
    assert finding.check_id == "KC010" and failing(result)[1].check_id == "MDA001"
    assert "Conditional Access App Control apps" in finding.remediation and "acme.atlan.com" in finding.remediation


def test_okta_capture_is_not_diagnosed_with_googles_rules(tmp_path):
    idp = TestIdP(entity_id="http://www.okta.com/exk1")
    har = HarBuilder(start=utc_now())
    healthy(har, "okta", "https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml", idp)
    har.add("GET", "https://example.test/help", status=404, html="<p>Error: app_not_configured_for_user</p>")
    result, _ = run(tmp_path, har, "okta", idp)
    assert result.detections[0].connector is Connector.OKTA
    assert not [f for f in result.findings if f.connector is Connector.GOOGLE]


# --------------------------------------------------------------------------- the declarations themselves


def test_every_vendor_error_is_reported_by_a_registered_check_of_its_connector():
    from ssodiag.diag.registry import REGISTRY

    for decl in declarations():
        for error in decl.errors:
            spec = REGISTRY[error.check_id]
            assert spec.connector is decl.connector, error.code
        assert decl.mapping_row or decl.rank > 0, decl.title  # IdPs print Atlan's mapping row; a proxy has none


# --------------------------------------------------------------------------- more of each vendor


def test_ping_unexpected_system_error_after_a_redirect_authn_request(tmp_path):
    idp = TestIdP(entity_id="https://sso.acme.example")
    sso = f"{PF}/idp/SSO.saml2"
    har = HarBuilder(start=utc_now())
    sp_start(har, "ping", sso, idp)
    har.add("GET", sso + "?SAMLRequest=abc", status=500,
            html="<html><body><h1>Unexpected System Error</h1><p>Reference: 8JQZ1X</p></body></html>",
            cookies={"PF": "tid-99"})
    result, _ = run(tmp_path, har, "ping")
    finding = top(result)
    assert finding.check_id == "PING008"
    assert "HTTP-Redirect binding just before" in finding.message and "Allowable SAML Bindings" in finding.remediation


def test_ping_sha1_signature_gets_the_ping_fix(tmp_path):
    idp = TestIdP(entity_id="https://sso.acme.example")
    entity, acs, acs_idp = endpoints("ping")
    response = idp.sign(idp.response(in_response_to=None, destination=acs_idp, recipient=acs_idp,
                                     audiences=[entity]), algorithm="rsa-sha1", digest="sha1")
    har = HarBuilder(start=utc_now())
    har.add("GET", f"{PF}/idp/startSSO.ping?PartnerSpId={quote(entity, safe='')}",
            html=auto_submit_page(acs_idp, response, ""))
    har.add("POST", acs_idp, status=400, body=post_body("SAMLResponse", response),
            html="<p>Invalid signature in response from identity provider.</p>")
    result, _ = run(tmp_path, har, "ping", idp)
    sha1 = next(f for f in failing(result) if f.check_id == "SIG006")
    assert "In PingFederate: " in sha1.remediation and "Signing Algorithm: RSA SHA256" in sha1.remediation


def test_okta_locked_out(tmp_path):
    har = HarBuilder(start=utc_now())
    har.add("POST", "https://acme.okta.com/api/v1/authn", status=401, html="<p>E0000069 User Locked</p>")
    result, _ = run(tmp_path, har, "okta")
    finding = top(result)
    assert finding.check_id == "OKTA002" and "Unlock" in finding.remediation


def okta_api_error(har: HarBuilder, status: int, body: str) -> None:
    """Okta's sign-in widget as Chrome records it: an XHR whose failed JSON answer holds the error code (the page
    itself is the widget's HTML, rendered by script, without the text)."""
    har.add("POST", "https://acme.okta.com/api/v1/authn", status=status, html=body, resource_type="xhr")
    har.entries[-1]["response"]["content"]["mimeType"] = "application/json"


def test_okta_sign_in_error_from_the_widgets_json_answer(tmp_path):
    har = HarBuilder(start=utc_now())
    har.add("GET", "https://acme.okta.com/login/login.htm", html="<html><body><div id='okta-sign-in'></div></body></html>")
    okta_api_error(har, 401, '{"errorCode":"E0000004","errorSummary":"Authentication failed","errorLink":"E0000004",'
                             '"errorId":"oaeXq1","errorCauses":[]}')
    result, _ = run(tmp_path, har, "okta")
    assert result.detections[0].connector is Connector.OKTA
    finding = top(result)
    assert finding.check_id == "OKTA002" and "Reset Password" in finding.remediation


def test_a_failed_json_answer_without_a_known_error_is_no_finding(tmp_path):
    idp = TestIdP(entity_id="http://www.okta.com/exk1abcdEFGH")
    har = HarBuilder(start=utc_now())
    healthy(har, "okta", "https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml", idp)
    okta_api_error(har, 403, '{"errorCode":"E0000015","errorSummary":"You do not have permission"}')
    result, _ = run(tmp_path, har, "okta", idp)
    assert failing(result) == [] and not result.evidence.error_pages


def test_okta_recipient_and_destination_not_the_atlan_acs(tmp_path):
    idp = TestIdP(entity_id="http://www.okta.com/exk1")
    entity, acs, _ = endpoints("okta")
    wrong = "https://acme.atlan.com/saml/acs"
    har = HarBuilder(start=utc_now())
    sp_start(har, "okta", "https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml", idp)
    response = idp.signed_response(in_response_to="_req-1", destination=wrong, recipient=wrong, audiences=[entity])
    har.add("POST", acs, status=400, body=post_body("SAMLResponse", response, "code.tab.atlan-frontend"))
    result, _ = run(tmp_path, har, "okta", idp)
    destination = next(f for f in failing(result) if f.check_id == "SAML013")
    assert "In Okta: " in destination.remediation
    assert f"Single sign-on URL = `{acs}`" in destination.remediation
    assert "Use this for Recipient URL and Destination URL" in destination.remediation


def test_entra_refuses_a_subject_in_the_authn_request(tmp_path):
    idp = TestIdP(entity_id="https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/")
    entity, acs, _ = endpoints("azure")
    request = idp.authn_request(id="_req-1", issuer=entity, acs_url=acs, destination=ENTRA_SSO).replace(
        b"<samlp:NameIDPolicy", b"<saml:Subject><saml:NameID>jane@acme.example</saml:NameID></saml:Subject>"
                                b"<samlp:NameIDPolicy")
    query = redirect_query("SAMLRequest", request, "c.t.a")
    har = HarBuilder(start=utc_now())
    har.add("GET", f"{ENTRA_SSO}?{query}", html="<p>Sign in to your account</p>")
    result, _ = run(tmp_path, har, "azure")
    finding = top(result)
    assert finding.check_id == "ENTRA015" and "jane@acme.example" in finding.message
    assert "Pass login_hint" in finding.remediation and "alias `azure`" in finding.remediation


def test_defender_healthy_login_through_the_proxy_fails_nothing(tmp_path):
    idp = TestIdP(entity_id="https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/")
    har = HarBuilder(start=utc_now())
    har.add("GET", "https://mcas-proxyweb.mcas.ms/certificate-checker?login=false&McasCSRF=abc", status=302,
            location=f"{ATLAN}/auth/realms/default/broker/azure/login")
    healthy(har, "azure", ENTRA_SSO, idp)
    result, _ = run(tmp_path, har, "azure", idp)
    assert [d.connector for d in result.detections] == [Connector.DEFENDER, Connector.ENTRA]
    assert "mcas-proxyweb.mcas.ms" in result.detections[0].reason
    assert failing(result) == [], [(f.check_id, f.message) for f in failing(result)]


@pytest.mark.parametrize("page, check_id, fix", [
    ("App is not recognized", "MDA002", "View new apps → Atlan → Add"),
    ("Something Went Wrong", "MDA004", "Bypass session"),
])
def test_defender_pages(tmp_path, page, check_id, fix):
    har = HarBuilder(start=utc_now())
    har.add("GET", f"https://acme.atlan.com.mcas.ms/?McasTsid=1", status=200, html=f"<h1>{page}</h1>")
    result, _ = run(tmp_path, har, "azure")
    finding = top(result)
    assert finding.check_id == check_id and fix in finding.remediation


def test_defender_cookie_not_found_names_both_hosts(tmp_path):
    har = HarBuilder(start=utc_now())
    har.add("GET", f"https://acme.atlan.com.mcas.ms/auth/realms/default/broker/azure/login", status=302,
            location=ENTRA_SSO)
    har.add("POST", f"{ATLAN}/auth/realms/default/broker/azure/endpoint", status=400,
            html="<p>Cookie not found. Please make sure cookies are enabled in your browser.</p>")
    result, _ = run(tmp_path, har, "azure")
    mda = next(f for f in failing(result) if f.check_id == "MDA009")
    assert "`acme.atlan.com.mcas.ms` and `acme.atlan.com`" in mda.message
    assert failing(result)[0].check_id == "MDA009"  # the cause before Keycloak's symptom (KC001)


def test_vendor_check_long_help_comes_from_the_declared_meaning():
    result = CliRunner().invoke(app, ["checks", "explain", "GWS003"])
    assert result.exit_code == 0 and "turned off for this user's organizational unit" in result.stdout
