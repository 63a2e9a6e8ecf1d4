"""`ssodiag explain`: every declared vendor error text and code is recognised, named with its source, meaning,
causes and a fix with the tenant's values; nothing else is; bad input is one line and exit 2."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ssodiag.diag.cli import app
from ssodiag.diag.connectors import PLACEHOLDERS, declarations
from ssodiag.diag.explain import explain_text

runner = CliRunner()

# What a user pastes for each declared error: the page text or message as the vendor shows it.
SAMPLES = {
    "403 App Not Assigned": "Sorry, you can't access Atlan because you are not assigned this app in Okta.",
    "E0000004": "errorCode: E0000004, errorSummary: Authentication failed",
    "E0000007": "E0000007 Not found: Resource not found: jane (User)",
    "E0000069": "E0000069 User Locked",
    "E0000006": "E0000006 You do not have permission to perform the requested action",
    "Account already exists": "Account already exists. User with email jane@acme.example already exists. How do you "
                              "want to continue?",
    "already linked to another user": "Federated identity returned by okta is already linked to another user.",
    "Update Account Information": "Update Account Information. Please specify last name.",
    "partner not active": "Partner https://acme.atlan.com/auth/realms/default is not active.",
    "Unexpected System Error": "Unexpected System Error. Sorry for the inconvenience. Reference: 8JQZ1X",
    "System Error": "System Error",
    "403 app_not_configured_for_user": "403. That’s an error. Error: app_not_configured_for_user",
    "403 app_not_configured": "403. That’s an error. Error: app_not_configured",
    "403 app_not_enabled_for_user": "Error: app_not_enabled_for_user Service is not enabled for this user.",
    "400 duplicate entity id": "400. That’s an error. duplicate entity id",
    "AADSTS50011": "AADSTS50011: The reply URL specified in the request does not match the reply URLs configured",
    "AADSTS50105": "AADSTS50105: The signed in user 'brian@contoso.com' is not assigned to a role for the application",
    "AADSTS700016": "AADSTS700016: Application with identifier 'https://acme.atlan.com' was not found in the directory",
    "AADSTS75011": "AADSTS75011: Authentication method 'X509, MultiFactor' by which the user authenticated with the "
                   "service doesn't match requested authentication method 'Password, ProtectedTransport'.",
    "AADSTS75016": "AADSTS75016: Saml2AuthenticationRequestInvalidNameIDPolicy",
    "AADSTS76021": "AADSTS76021: ApplicationRequiresSignedRequests",
    "AADSTS501241": "AADSTS501241: Mandatory field 'NameID' is missing",
    "AADSTS65005": "AADSTS65005: Misconfigured application",
    "AADSTS53003": "AADSTS53003: Access has been blocked by Conditional Access policies.",
    "AADSTS50131": "AADSTS50131: ConditionalAccessFailed",
    "AADSTS50058": "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
    "AADSTS7500529": "AADSTS7500529: The value '1abc' is not a valid SAML ID. The ID must not begin with a number.",
    "AADSTS750054": "AADSTS750054: SAMLRequest or SAMLResponse must be present as query string parameters",
    "AADSTS75005": "AADSTS75005: Saml2MessageInvalid",
    "AADSTS75008": "AADSTS75008: The request from the application was denied since the SAML request had an "
                   "unexpected destination.",
    "AADSTS76026": "AADSTS76026: RequestIssueTimeExpired - IssueTime in an SAML2 Authentication Request is expired.",
    "AADSTS": "AADSTS90072: User account from identity provider does not exist in tenant",
    "App is not recognized": "App is not recognized. This app is not set up for Conditional Access App Control.",
    "Continue Setup": "The app status shows Continue Setup",
    "Something Went Wrong": "Something Went Wrong. We couldn't load the page.",
    "no apps deployed": "You don't have any apps deployed with Conditional Access App Control",
    "double login": "Through the proxy users are prompted to sign in twice",
    "deep link lands on home page": "Every deep link to a dashboard lands on the home page",
    "download blocked": "Download blocked by your organization's policy",
    "Cookie not found": "Cookie not found. Please make sure cookies are enabled in your browser.",
}


def test_every_declared_error_has_a_sample():
    declared = {e.code for d in declarations() for e in d.errors}
    assert declared == set(SAMPLES)


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_each_error_is_explained_with_its_own_row(code):
    found = explain_text(SAMPLES[code], PLACEHOLDERS)
    assert found and found[0].code == code, [e.code for e in found]
    first = found[0]
    assert first.meaning and first.fix and first.check_id and first.docs.startswith("https://")
    assert "{" not in first.fix  # every template field was filled


def test_unknown_aadsts_code_uses_the_lookup_page_but_a_known_one_does_not():
    assert [e.code for e in explain_text("AADSTS50105", PLACEHOLDERS)] == ["AADSTS50105"]
    [unknown] = explain_text("AADSTS90072", PLACEHOLDERS)
    assert "login.microsoftonline.com/error?code=" in unknown.fix


@pytest.mark.parametrize("text", ["Welcome to Atlan", "The app_not_configured_thing module", "AADSTS12",
                                  "Partner has a setup step left"])
def test_unrelated_text_is_not_recognised(text):
    assert [e.code for e in explain_text(text, PLACEHOLDERS)] == []


def test_keycloak_sentences_are_explained_as_atlans_login():
    [found] = explain_text("We are sorry... Invalid requester", PLACEHOLDERS)
    assert found.source == "Atlan's login (Keycloak)" and found.check_id == "KC001"


def invoke(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, list(args), input=input)


def test_cli_fix_names_the_tenants_values():
    result = invoke("explain", "app_not_configured_for_user", "--atlan", "https://acme.atlan.com", "--alias", "google")
    assert result.exit_code == 0
    assert "Google Workspace — 403 app_not_configured_for_user" in result.stdout
    assert "Entity ID = `https://acme.atlan.com/auth/realms/default` exactly" in result.stdout
    assert "TENANT" not in result.stdout


def test_defender_user_defined_domain_is_the_tenants_host_not_its_url():
    # Defender's "User-defined domains" takes a domain: a URL pasted there matches nothing.
    result = invoke("explain", "App is not recognized", "--atlan", "https://acme.atlan.com", "--alias", "azure")
    assert result.exit_code == 0
    assert "User-defined domains includes `acme.atlan.com`" in result.stdout


def test_cli_json_file_and_stdin(tmp_path):
    page = tmp_path / "okta.html"
    page.write_text("<html><script>var x='AADSTS50105'</script><body><h1>403 App Not Assigned</h1></body></html>")
    doc = json.loads(invoke("explain", str(page), "--format", "json").stdout)
    assert [e["code"] for e in doc["recognised"]] == ["403 App Not Assigned"]  # script text is not what the user saw
    assert doc["recognised"][0]["source"] == "Okta" and doc["recognised"][0]["causes"]
    result = invoke("explain", "-", input="E0000069")
    assert result.exit_code == 0 and "LOCKED_OUT" in result.stdout


def test_cli_nothing_recognised_exits_1_and_bad_input_exits_2(tmp_path):
    result = invoke("explain", "all good here")
    assert result.exit_code == 1 and "Not recognised" in result.stdout
    # a launch link pasted into explain: analyze judges URLs
    result = invoke("explain", "https://sso.example.com/idp/startSSO.ping&PartnerSpId=x")
    assert result.exit_code == 1 and "is a URL" in result.stdout and "ssodiag analyze 'URL'" in result.stdout
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02AADSTS50105")
    result = invoke("explain", str(binary))
    assert result.exit_code == 2 and "binary data" in result.output
    empty = tmp_path / "page.html"
    empty.write_bytes(b"\n")
    for given, stdin in ((str(empty), None), ("-", "")):  # an empty attachment is bad input, not "not recognised"
        result = invoke("explain", given, input=stdin)
        assert result.exit_code == 2 and "empty" in result.output
    result = invoke("explain", "x", "--atlan", "https://acme.atlan.com")
    assert result.exit_code == 2 and "--alias" in result.output


def test_cli_connector_limits_the_reading():
    assert invoke("explain", "403 App Not Assigned", "--connector", "google").exit_code == 1
    assert invoke("explain", "403 App Not Assigned", "--connector", "okta").exit_code == 0
