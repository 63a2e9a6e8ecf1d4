"""Every registered check has a passing and a failing example, run through the real runner.

EXAMPLES maps each check id to (a passing input, a failing input). Each input is evidence files plus the options a
user would give; the test writes the files, loads them with ``load_evidence`` and runs ``runner.analyze``, as
``ssodiag analyze`` does. A check registered without a row fails ``test_every_registered_check_has_examples``:
adding a check means adding its row here.

- failing: the check reports at least one ``fail`` (or ``warn``, for checks whose finding is advice).
- passing: the check judged the input and reported nothing wrong: ``pass`` findings only. A check that never passes
  by design (it recognises an error page, which shows the error or does not; or it reports only what could not be
  decided) has its passing input wrapped in ``Quiet``: it must stay quiet there (no finding, or its own ``skip``),
  having had the inputs it needs.
"""
from __future__ import annotations

import base64
import functools
import subprocess
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from msgspec import Struct
from msgspec.structs import replace

from ssodiag.diag.broker import AttributeMapper, BrokerConfig
from ssodiag.diag.certs import load_certificates
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.groupsync import Mapping, MappingSet
from ssodiag.diag.metadata import parse_metadata
from ssodiag.diag.model import Connector, Expectations, Finding, Status
from ssodiag.diag.registry import load_builtin_checks
from ssodiag.diag.runner import analyze
from tests.harbuild import HarBuilder, auto_submit_page, post_body, redirect_query
from tests.idp import ACS_URL, IDP_ENTITY_ID, SP_ENTITY_ID, TestIdP, sp_keypair, utc_now
from tests.test_signature import _with_negative_serial as negative_serial_certificate
from tests.xsw import xsw3

NOW = utc_now()
IDP = TestIdP()
ROTATED = TestIdP(key_name="rotated", common_name="new-idp.example.test")
REQUEST_ID = "_request-1"  # TestIdP's default InResponseTo
SP_KEY, SP_CERT = sp_keypair()
ATLAN = "https://acme.atlan.com"
PF = "https://sso.acme.example:9031"
OKTA_ISSUER = "http://www.okta.com/exk1"
ENTRA_ISSUER = "https://sts.windows.net/0a1b2c3d-0000-1111-2222-333344445555/"
ENTRA_SSO = "https://login.microsoftonline.com/0a1b2c3d-0000-1111-2222-333344445555/saml2"


def certs(idp: TestIdP):
    return load_certificates(idp.cert_pem.encode(), "idp.pem")


class Case(Struct, frozen=True, eq=False):  # compared and cached by identity: a row's input runs once
    """Evidence files (name -> bytes) and the options (Expectations) of one ``ssodiag analyze`` run."""

    files: tuple[tuple[str, bytes], ...]
    options: Expectations


class Quiet(Struct, frozen=True, eq=False):
    """The passing input of a check that never passes by design: the check must report nothing wrong on it."""

    case: Case


def options(**changes) -> Expectations:
    """What a support engineer passes for the test IdP's login: SP, ACS, IdP and its certificate, the request."""
    base = dict(sp_entity_id=SP_ENTITY_ID, acs_urls=(ACS_URL,), idp_entity_id=IDP_ENTITY_ID,
                idp_certificates=certs(IDP), request_id=REQUEST_ID, at=NOW)
    return Expectations(**{**base, **changes})


def response(xml: bytes | None = None, *, idp: TestIdP = IDP, signed: bool = True, **fields) -> Case:
    """A Response of the test IdP (signed on the assertion unless ``signed=False``), with fields overridden."""
    if xml is None:
        xml = idp.signed_response(**fields) if signed else idp.response(**fields)
    return Case((("response.xml", xml),), options())


def with_options(case: Case, **changes) -> Case:
    return replace(case, options=replace(case.options, **changes))


def request(**fields) -> Case:
    return Case((("request.xml", IDP.authn_request(**{"issue_instant": NOW - timedelta(seconds=5), **fields})),),
                options())


def metadata(idp: TestIdP = IDP, **fields) -> Case:
    return Case((("idp-metadata.xml", idp.metadata(**fields)),), options(idp_entity_id=None))


def page(text: str, connector: Connector | None = None) -> Case:
    """A HAR whose one request got a 400 page showing ``text``."""
    return har(lambda capture: capture.add("GET", f"{ATLAN}/auth/realms/default/broker/okta/endpoint", status=400,
                                           html=f"<html><body><p>{text}</p></body></html>"), "okta", connector)


def har(build: Callable[[HarBuilder], None], alias: str, connector: Connector | None,
        idp: TestIdP | None = None) -> Case:
    capture = HarBuilder(start=NOW)
    build(capture)
    return Case((("login.har", capture.bytes()),),
                Expectations(atlan_url=ATLAN, atlan_alias=alias, connector=connector,
                             idp_certificates=certs(idp) if idp else ()))


def attributes(connector: Connector | None = None, **changes) -> Case:
    values = {"email": ["alice@example.test"], "firstName": ["Alice"], "lastName": ["Liddell"], "memberOf": ["eng"]}
    values = {k: v for k, v in {**values, **changes}.items() if v is not None}
    return with_options(response(attributes=values), connector=connector)


# --------------------------------------------------------------------------- inputs shared by several rows

GOOD_RESPONSE = response()
LEGACY_DER = negative_serial_certificate(IDP)  # IDP's key, a certificate whose serial number is negative
GOOD_REQUEST = request()
GOOD_METADATA = metadata()
ENCRYPTED = IDP.encrypt_assertion(IDP.signed_response(), SP_CERT)
SECOND_EMAIL = ('<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>b@example.test'
                '</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>')


def launch(url: str, *, status: int = 200, html: str = "<html><body></body></html>", **kw) -> Case:
    return har(lambda capture: capture.add("GET", url, status=status, html=html, **kw), "ping",
               Connector.PINGFEDERATE)


PARTNER = quote(f"{ATLAN}/auth/realms/default", safe="")
GOOD_LAUNCH = launch(f"{PF}/idp/startSSO.ping?PartnerSpId={PARTNER}&TargetResource={quote(ATLAN + '/', safe='')}")


def entra_login(*, subject: bool = False) -> Case:
    entra = TestIdP(entity_id=ENTRA_ISSUER)
    acs = f"{ATLAN}/auth/realms/default/broker/azure/endpoint"
    xml = entra.authn_request(id="_req-1", issuer=f"{ATLAN}/auth/realms/default", acs_url=acs, destination=ENTRA_SSO)
    if subject:  # Keycloak's "Pass login_hint": the hint as Subject/NameID, right after the Issuer
        xml = xml.replace(b"</saml:Issuer>", b"</saml:Issuer><saml:Subject><saml:NameID>alice@corp.example"
                                             b"</saml:NameID></saml:Subject>", 1)
    query = redirect_query("SAMLRequest", xml, "c.t.a")
    return har(lambda capture: capture.add("GET", f"{ENTRA_SSO}?{query}", html="<p>Sign in</p>"), "azure",
               Connector.ENTRA)


def defender_login(proxied: bool) -> Case:
    entra = TestIdP(entity_id=ENTRA_ISSUER)
    acs = f"{ATLAN}/auth/realms/default/broker/azure/endpoint"
    target = acs.replace("acme.atlan.com", "acme.atlan.com.mcas.ms") if proxied else acs
    xml = entra.signed_response(in_response_to=None, destination=target, recipient=target,
                                audiences=[f"{ATLAN}/auth/realms/default"])

    def build(capture: HarBuilder) -> None:
        capture.add("GET", ENTRA_SSO + "?SAMLRequest=abc", html=auto_submit_page(target, xml, ""))
        capture.add("POST", target, status=302, location=f"{ATLAN}/", body=post_body("SAMLResponse", xml))

    return har(build, "azure", Connector.DEFENDER, entra)


def cookie_split(split: bool) -> Case:
    def build(capture: HarBuilder) -> None:
        capture.add("GET", "https://acme.atlan.com.mcas.ms/auth/realms/default/broker/azure/login", status=302,
                    location=ENTRA_SSO)
        host = "acme.atlan.com" if split else "acme.atlan.com.mcas.ms"
        capture.add("POST", f"https://{host}/auth/realms/default/broker/azure/endpoint", status=400,
                    html="<html><body>Cookie not found. Please make sure cookies are enabled in your browser."
                         "</body></html>")

    return har(build, "azure", Connector.DEFENDER)


def pf_cookie(error: bool) -> Case:
    url = f"{PF}/idp/startSSO.ping?PartnerSpId={PARTNER}"
    html = "<html><body>Partner is not active.</body></html>" if error else "<html><body>Sign in</body></html>"
    return launch(url, html=html, status=400 if error else 200, cookies={"PF": "tid-7Hk2Q9"})


def sha1_signed_certificate() -> str:
    """A certificate signed with SHA-1, base64 DER: cryptography refuses to make one, the OpenSSL command does."""
    with tempfile.TemporaryDirectory() as folder:
        pem = Path(folder) / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha1", "-nodes", "-subj", "/CN=legacy-idp",
                        "-days", "3650", "-keyout", str(Path(folder) / "key.pem"), "-out", str(pem)],
                       check=True, capture_output=True, timeout=60)
        return "".join(line for line in pem.read_text().splitlines() if not line.startswith("-----"))


def vendor_page(text: str, connector: Connector) -> tuple[Quiet, Case]:
    """A page check: (a page of that vendor showing something else, a page showing the error)."""
    return Quiet(page("Sorry, something unrelated happened. Reference 42.", connector)), page(text, connector)


OKTA_IDP = TestIdP(entity_id="http://www.okta.com/exk123")
ATLAN_SP = f"{ATLAN}/auth/realms/default"
ATLAN_ACS = f"{ATLAN_SP}/broker/okta/endpoint"
OKTA_SSO = "https://acme.okta.com/app/acme_atlan_1/exk1/sso/saml"
KEYCLOAK_RELAY_STATE = "c0dE-1.tAb-1.atlan-client"  # Keycloak's own code.tab.client RelayState


def atlan_login(page_text: str | None = None, *, sha1: bool = False, **fields) -> Case:
    """An SP-initiated login through Atlan's broker: Keycloak's AuthnRequest, then Okta's Response posted back with
    Keycloak's RelayState, judged against the IdP metadata Atlan holds; with ``page_text`` the broker answered
    with that page."""
    request = OKTA_IDP.authn_request(id="_req-1", issuer=ATLAN_SP, acs_url=ATLAN_ACS, destination=OKTA_SSO)
    fields = {"destination": ATLAN_ACS, "audiences": [ATLAN_SP], "recipient": ATLAN_ACS, "in_response_to": "_req-1",
              **fields}
    xml = (OKTA_IDP.sign(OKTA_IDP.response(**fields), algorithm="rsa-sha1", digest="sha1") if sha1
           else OKTA_IDP.signed_response(**fields))
    shown = dict(status=400, html=f"<html><body><p>{page_text}</p></body></html>") if page_text else \
        dict(status=302, location=ATLAN)

    def build(capture: HarBuilder) -> None:
        capture.add("GET", f"{ATLAN_SP}/broker/okta/login", status=302,
                    location=f"{OKTA_SSO}?{redirect_query('SAMLRequest', request, KEYCLOAK_RELAY_STATE)}")
        capture.add("POST", ATLAN_ACS, body=post_body("SAMLResponse", xml, KEYCLOAK_RELAY_STATE), **shown)

    case = har(build, "okta", None)
    return with_options(case, idp_metadata=(parse_metadata(OKTA_IDP.metadata(), "idp-metadata.xml"),), at=NOW)



def tenant_login(**settings) -> Case:
    """``atlan_login`` with the tenant's identity provider as --keycloak-idp gives it (Keycloak's defaults, signature
    validation on, Okta's certificate and entity ID, an email importer), changed by ``settings``."""
    base = dict(origin="--keycloak-idp okta.json", alias="okta", validate_signature=True,
                signing_certificates=certs(OKTA_IDP), idp_entity_id=OKTA_IDP.entity_id,
                mappers=(AttributeMapper("email", "email", "email"),), from_tenant=True)
    return with_options(atlan_login(), keycloak_idp=BrokerConfig(**{**base, **settings}))


# --------------------------------------------------------------------------- the table: check id -> (pass, fail)

EXAMPLES: dict[str, tuple[Case | Quiet, Case]] = {
    # SIG: signatures and trust
    "SIG001": (GOOD_RESPONSE, response(signed=False)),
    "SIG002": (GOOD_RESPONSE, response(IDP.signed_response().replace(b"Liddell", b"Lyddell"))),
    "SIG003": (GOOD_RESPONSE, response(xsw3(IDP.signed_response()))),
    "SIG004": (GOOD_RESPONSE, response(idp=ROTATED)),
    "SIG005": (GOOD_RESPONSE, response(IDP.signed_response().replace(b"xmlenc#sha256", b"xmlenc#sha384"))),
    "SIG006": (GOOD_RESPONSE, response(IDP.sign(IDP.response(), algorithm="rsa-sha1", digest="sha1"))),
    "SIG007": (GOOD_RESPONSE, with_options(response(idp=TestIdP(key_bits=1024)),
                                           idp_certificates=certs(TestIdP(key_bits=1024)))),
    "SIG008": (GOOD_RESPONSE, with_options(
        response(idp=(expired := TestIdP(key_name="expired", cert_valid_from=NOW - timedelta(days=400),
                                         cert_valid_to=NOW - timedelta(days=30)))),
        idp_certificates=certs(expired))),
    "SIG009": (with_options(GOOD_RESPONSE, idp_metadata=(parse_metadata(IDP.metadata(), "idp-metadata.xml"),)),
               with_options(GOOD_RESPONSE, idp_metadata=(parse_metadata(ROTATED.metadata(), "idp-metadata.xml"),))),
    "SIG010": (with_options(response(ENCRYPTED), sp_key_pem=SP_KEY),
               with_options(response(ENCRYPTED), sp_key_pem=sp_keypair("other-sp")[0])),
    "SIG011": (GOOD_RESPONSE, with_options(
        response(IDP.signed_response().replace(IDP.cert_b64.encode(), base64.b64encode(LEGACY_DER))),
        idp_certificates=load_certificates(b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(LEGACY_DER)
                                           + b"-----END CERTIFICATE-----\n", "legacy.pem"))),
    # SAML: the Response and its assertion
    "SAML001": (GOOD_RESPONSE, response(status_code="Responder", sub_code="RequestDenied", assertions=0)),
    "SAML002": (GOOD_RESPONSE, response(version="1.1")),
    "SAML003": (GOOD_RESPONSE, response(response_id=None)),
    "SAML004": (GOOD_RESPONSE, response(issue_instant=NOW + timedelta(minutes=10))),
    "SAML005": (GOOD_RESPONSE, response(assertions=2)),
    "SAML006": (GOOD_RESPONSE, response(include_conditions=False)),
    "SAML007": (GOOD_RESPONSE, response(not_on_or_after=NOW - timedelta(hours=3))),
    "SAML008": (GOOD_RESPONSE, response(sc_method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")),
    "SAML009": (GOOD_RESPONSE, response(sc_not_on_or_after=NOW - timedelta(hours=1))),
    "SAML010": (GOOD_RESPONSE, response(recipient="http://sp.example.test/acs")),
    "SAML011": (GOOD_RESPONSE, response(in_response_to="_stale-request")),
    "SAML012": (GOOD_RESPONSE, response(audience_restrictions=[[SP_ENTITY_ID], ["urn:other-sp"]])),
    "SAML013": (GOOD_RESPONSE, response(destination="https://sp.example.test/acs/")),
    "SAML014": (GOOD_RESPONSE, response(IDP.sign(IDP.response(destination=None), what="response"))),
    "SAML015": (GOOD_RESPONSE, response(assertion_issuer="https://other-idp.test")),
    "SAML016": (GOOD_RESPONSE, response(issuer=OKTA_ISSUER, assertion_issuer=OKTA_ISSUER)),
    "SAML017": (GOOD_RESPONSE, response(name_id="")),
    "SAML018": (response(sp_name_qualifier=SP_ENTITY_ID), response(sp_name_qualifier="https://other-sp.test")),
    "SAML019": (response(session_not_on_or_after=NOW + timedelta(hours=8)),
                response(session_not_on_or_after=NOW - timedelta(hours=2))),
    "SAML020": (GOOD_RESPONSE, response(authn_statements=2)),
    "SAML021": (GOOD_RESPONSE, response(extra_assertion_xml=SECOND_EMAIL)),
    # ATTR: Atlan's attributes
    "ATTR001": (GOOD_RESPONSE, attributes(firstName=None, FirstName=["Alice"])),
    "ATTR002": (GOOD_RESPONSE, attributes(lastName=[" "])),
    "ATTR003": (GOOD_RESPONSE, with_options(attributes(memberOf=None),
                                            group_mappings=MappingSet((Mapping("eng", "Engineering"),)))),
    # REQ: the AuthnRequest Atlan sends
    "REQ001": (GOOD_REQUEST, request(issuer=None)),
    "REQ002": (GOOD_REQUEST, request(issuer="urn:atlan:wrong")),
    "REQ003": (GOOD_REQUEST, request(acs_url="http://sp.example.test/acs")),
    "REQ004": (GOOD_REQUEST, request(destination=None)),
    "REQ005": (with_options(GOOD_REQUEST, idp_metadata=(parse_metadata(IDP.metadata(), "idp-metadata.xml"),)),
               with_options(request(name_id_policy_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
                            idp_metadata=(parse_metadata(IDP.metadata(), "idp-metadata.xml"),))),
    "REQ006": (GOOD_REQUEST, request(requested_authn_context=["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"])),
    "REQ007": (GOOD_REQUEST, request(id="7f3a9")),
    "REQ008": (GOOD_REQUEST, request(issue_instant=NOW + timedelta(minutes=20))),
    "REQ009": (GOOD_REQUEST, request(is_passive=True)),
    # MD: the IdP metadata Atlan holds
    "MD001": (GOOD_METADATA, metadata(valid_until=NOW - timedelta(days=3))),
    # the SP's metadata uploaded where the IdP's belongs (given as evidence it is the SP's configuration instead)
    "MD002": (GOOD_METADATA, Case((), options(idp_entity_id=None, idp_metadata=(parse_metadata(
        TestIdP().metadata().replace(b"IDPSSODescriptor", b"SPSSODescriptor"), "--idp-metadata sp.xml"),)))),
    "MD003": (GOOD_METADATA, metadata(signing_certs=[])),
    "MD004": (GOOD_METADATA, metadata(TestIdP(key_name="md-expired", cert_valid_from=NOW - timedelta(days=400),
                                              cert_valid_to=NOW - timedelta(days=10)))),
    "MD005": (GOOD_METADATA, metadata(signing_certs=[sha1_signed_certificate()])),
    "MD006": (GOOD_METADATA, metadata(TestIdP(key_bits=1024))),
    "MD007": (GOOD_METADATA, metadata(sso_post="http://idp.example.test/sso")),
    "MD008": (GOOD_METADATA, metadata(entity_id="okta-app")),
    "MD009": (GOOD_METADATA, metadata(sso_post=None, sso_redirect=None)),
    # KC: Atlan's Keycloak broker
    "KC001": (Quiet(page("Sign in to your account")), page("We are sorry... Invalid requester")),
    "KC002": (with_options(GOOD_RESPONSE, atlan_url=ATLAN, atlan_alias="okta", sp_entity_id=None, acs_urls=()),
              with_options(response(in_response_to=None, destination=f"{ATLAN}/auth/realms/default/broker/okta/"
                                                                                  f"endpoint"),
                           atlan_url=ATLAN, atlan_alias="okta", sp_entity_id=None, acs_urls=())),
    # Atlan's first-broker-login page follows an accepted Response; without "Preserve log" the POST is lost
    "KC003": (atlan_login(), har(lambda capture: capture.add(
        "GET", f"{ATLAN_SP}/login-actions/first-broker-login?client_id=atlan-frontend&tab_id=t1&code=c1",
        html="<html><body><p>User with email alice@example.test already exists. How do you want to continue?</p>"
             "</body></html>"), "okta", None)),
    "KC010": (atlan_login(), atlan_login(audiences=["https://other.example"])),
    "KC011": (atlan_login(), atlan_login(destination=ATLAN_ACS + "/", audiences=["https://other.example"])),
    # SHA-1: refused by Keycloak on Java 17+, accepted on Java 11; Atlan's runtime is not public
    "KC012": (Quiet(atlan_login()), atlan_login(sha1=True)),
    # the page the broker predicts for a wrong audience (step 19) is the timeout page, not "Invalid requester"
    "KC013": (atlan_login("Login timeout. Please sign in again.", audiences=["https://other.example"]),
              atlan_login("Invalid requester", audiences=["https://other.example"])),
    "KC020": (tenant_login(), tenant_login(signing_certificates=certs(TestIdP(
        key_name="expired", cert_valid_from=NOW - timedelta(days=400), cert_valid_to=NOW - timedelta(days=30))))),
    "KC021": (tenant_login(), tenant_login(validate_signature=False)),
    "KC022": (tenant_login(), tenant_login(idp_entity_id="")),
    "KC023": (tenant_login(),
              with_options(tenant_login(), idp_metadata=(parse_metadata(ROTATED.metadata(), "md.xml"),))),
    "KC024": (tenant_login(), tenant_login(allowed_clock_skew=30)),
    "KC025": (tenant_login(), tenant_login(mappers=(AttributeMapper("first", "firstname", "firstName"),))),
    # Okta
    "OKTA001": vendor_page("403 App Not Assigned: Sorry, you cannot access Atlan because you are not assigned this "
                           "app in Okta.", Connector.OKTA),
    "OKTA002": vendor_page("Authentication failed (E0000004)", Connector.OKTA),
    "OKTA003": vendor_page("Account already exists. User with email alice@corp.example already exists. How do you "
                           "want to continue?", Connector.OKTA),
    "OKTA004": vendor_page("Update Account Information. Please specify first name.", Connector.OKTA),
    # Google Workspace
    "GWS001": vendor_page("403. That's an error. Error: app_not_configured_for_user", Connector.GOOGLE),
    "GWS002": vendor_page("403. That's an error. Error: app_not_configured", Connector.GOOGLE),
    "GWS003": vendor_page("403. That's an error. Error: app_not_enabled_for_user", Connector.GOOGLE),
    "GWS004": vendor_page("400. duplicate entity id", Connector.GOOGLE),
    # PingFederate
    "PING001": (GOOD_LAUNCH, launch(f"{PF}/idp/startSSO.ping&PartnerSpId={PARTNER}", status=404,
                                    html="<html><body>404 Not Found</body></html>")),
    "PING002": (GOOD_LAUNCH, launch(f"{PF}/idp/startSSO.ping?PartnerSpId={PARTNER}?TargetResource=x",
                                    html="<html><body>System Error</body></html>")),
    "PING003": (GOOD_LAUNCH, launch(f"{PF}/idp/startSSO.ping?partnerspid={PARTNER}")),
    "PING004": (GOOD_LAUNCH, launch(f"{PF}/idp/startSSO.ping?PartnerSpId={PARTNER}&TargetResource={ATLAN}/")),
    "PING005": (GOOD_LAUNCH, launch(f"{PF}/idp/startsso.ping?PartnerSpId={PARTNER}", status=404)),
    "PING006": (GOOD_LAUNCH, launch(f"{PF}/idp/startSSO.ping?PartnerSpId=atlan-prod")),
    "PING007": vendor_page("Partner https://acme.atlan.com/auth/realms/default is not active.",
                           Connector.PINGFEDERATE),
    "PING008": vendor_page("Unexpected System Error. Reference: ABC123", Connector.PINGFEDERATE),
    "PING009": (pf_cookie(error=False), pf_cookie(error=True)),
    # Entra ID
    "ENTRA001": vendor_page(f"AADSTS50011: The reply URL '{ATLAN}/auth/realms/default/broker/Azure/endpoint' "
                            f"specified in the request does not match.", Connector.ENTRA),
    "ENTRA002": vendor_page("AADSTS50105: The signed in user is not assigned to a role for the application.",
                            Connector.ENTRA),
    "ENTRA003": vendor_page("AADSTS700016: Application with identifier 'x' was not found in the directory.",
                            Connector.ENTRA),
    "ENTRA004": vendor_page("AADSTS75011: Authentication method 'X509' doesn't match requested authentication "
                            "method 'Password'.", Connector.ENTRA),
    "ENTRA005": vendor_page("AADSTS75016: Saml2AuthenticationRequestInvalidNameIDPolicy", Connector.ENTRA),
    "ENTRA006": vendor_page("AADSTS76021: ApplicationRequiresSignedRequests", Connector.ENTRA),
    "ENTRA007": vendor_page("AADSTS501241: Mandatory field 'NameID' is missing.", Connector.ENTRA),
    "ENTRA008": vendor_page("AADSTS65005: Misconfigured application.", Connector.ENTRA),
    "ENTRA009": vendor_page("AADSTS53003: Access has been blocked by Conditional Access policies.", Connector.ENTRA),
    "ENTRA010": vendor_page("AADSTS50058: A silent sign-in request was sent but no user is signed in.",
                            Connector.ENTRA),
    "ENTRA011": vendor_page("AADSTS750054: SAMLRequest or SAMLResponse must be present.", Connector.ENTRA),
    "ENTRA012": vendor_page("AADSTS90072: User account does not exist in tenant.", Connector.ENTRA),
    "ENTRA013": (attributes(Connector.ENTRA), attributes(Connector.ENTRA, memberOf=[f"g{i}" for i in range(151)])),
    "ENTRA014": (attributes(Connector.ENTRA),
                 attributes(Connector.ENTRA, memberOf=["6f1c2b9e-3d4a-4c5b-9e8f-0a1b2c3d4e5f"])),
    "ENTRA015": (entra_login(), entra_login(subject=True)),
    # Defender for Cloud Apps
    "MDA001": (defender_login(proxied=False), defender_login(proxied=True)),
    "MDA002": vendor_page("App is not recognized", Connector.DEFENDER),
    "MDA003": vendor_page("Continue Setup", Connector.DEFENDER),
    "MDA004": vendor_page("Something Went Wrong", Connector.DEFENDER),
    "MDA005": vendor_page("You don't have any apps deployed with Conditional Access App Control", Connector.DEFENDER),
    "MDA006": vendor_page("Users are prompted to sign in twice", Connector.DEFENDER),
    "MDA007": vendor_page("The deep link landed on the home page", Connector.DEFENDER),
    "MDA008": vendor_page("Your download was blocked", Connector.DEFENDER),
    "MDA009": vendor_page("Cookie not found. Please make sure cookies are enabled in your browser.",
                          Connector.DEFENDER),
}


@functools.cache
def findings_of(case: Case) -> tuple[Finding, ...]:
    """``ssodiag analyze`` on the case: its files loaded from disk, the runner with every built-in check."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, data in case.files:
            path = Path(folder) / name
            path.write_bytes(data)
            paths.append(str(path))
        return analyze(load_evidence(paths), case.options, now=NOW).findings


def test_every_registered_check_has_examples():
    registered = set(load_builtin_checks())
    missing = sorted(registered - set(EXAMPLES))
    assert not missing, (f"checks without examples: {missing}. Add a row to EXAMPLES in tests/test_check_examples.py: "
                         f"check id -> (an input it passes, an input it fails), run through the real runner.")
    assert sorted(set(EXAMPLES) - registered) == [], "EXAMPLES names checks that are not registered"


@pytest.mark.parametrize("check_id", sorted(EXAMPLES))
def test_the_check_fails_its_failing_example(check_id):
    mine = [f for f in findings_of(EXAMPLES[check_id][1]) if f.check_id == check_id]
    assert any(f.status in (Status.FAIL, Status.WARN) for f in mine), [(f.status.value, f.message) for f in mine]


@pytest.mark.parametrize("check_id", sorted(EXAMPLES))
def test_the_check_passes_its_passing_example(check_id):
    passing = EXAMPLES[check_id][0]
    if isinstance(passing, Quiet):
        mine = [f for f in findings_of(passing.case) if f.check_id == check_id]
        assert {f.status for f in mine} <= {Status.SKIP}, [(f.status.value, f.message) for f in mine]
        # the runner's own skip names a missing input: the check must have had what it needs
        assert not any(f.message.startswith("Not evaluated: missing") for f in mine), [f.message for f in mine]
    else:
        mine = [f for f in findings_of(passing) if f.check_id == check_id]
        assert mine and {f.status for f in mine} == {Status.PASS}, [(f.status.value, f.message) for f in mine]
