"""Atlan's Keycloak broker, step by step: for each step a Response that fails exactly that step, and the page the
user sees there. Responses are built and signed by the test IdP (tests/idp.py); the signature engine verifies
them for real, the broker model (diag/broker.py) judges them.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from msgspec.structs import replace

from ssodiag.diag.broker import (
    STEPS, AttributeMapper, BrokerConfig, Login, Outcome, assumed_config, brokered_profile, predict, source_url,
)
from ssodiag.diag.certs import load_certificates
from ssodiag.diag.saml import parse_message
from ssodiag.diag.signature import verify_message
from tests.idp import TestIdP, sp_keypair, utc_now

ATLAN = "https://acme.atlan.com"
SP = f"{ATLAN}/auth/realms/default"
ACS = f"{SP}/broker/okta/endpoint"
IDP_ACS = f"{ACS}/clients/atlan-saml"
IDP = "http://www.okta.com/exk1example"
KC_RELAY_STATE = "c0dE-1.tAb-1.atlan-client"  # Keycloak's `code.tabId.clientId` (IdentityBrokerState.java:41-62)
REQUEST_ID = "ID_4f1c0e"

INVALID_REQUEST = "Invalid Request"
INVALID_REQUESTER = "Invalid requester"
INVALID_SIGNATURE = "Invalid signature in response from identity provider."
INVALID_RESPONSE = "Invalid response from identity provider."
LOGIN_TIMEOUT = "Login timeout. Please sign in again."
INTERNAL_ERROR = "An internal server error has occurred"


@pytest.fixture(scope="module")
def idp() -> TestIdP:
    return TestIdP(entity_id=IDP)


def config(idp: TestIdP, **settings) -> BrokerConfig:
    """The tenant's settings as --keycloak-idp gives them: Keycloak's defaults, validation on, this IdP's cert."""
    base = BrokerConfig(origin="test tenant", alias="okta", validate_signature=True, idp_entity_id=IDP,
                        signing_certificates=load_certificates(idp.cert_pem.encode(), "tenant"),
                        mappers=tuple(AttributeMapper(a, a, a) for a in ("email", "firstName", "lastName")),
                        from_tenant=True)
    return replace(base, **settings)


def response(idp: TestIdP, what: str = "assertion", **fields) -> bytes:
    now = utc_now()
    defaults = dict(destination=ACS, recipient=ACS, audiences=[SP], in_response_to=REQUEST_ID, issue_instant=now,
                    not_before=now - dt.timedelta(minutes=1), not_on_or_after=now + dt.timedelta(minutes=5))
    return idp.signed_response(what=what, **{**defaults, **fields})


def judge(xml: bytes, settings: BrokerConfig, *, posted_to: str | None = ACS, at: dt.datetime | None = None,
          relay_state: str | None = KC_RELAY_STATE, binding: str = "post", request_id: str | None = REQUEST_ID,
          request_relay_state: str | None = None, sp: str | None = SP, trusted=()):
    message = parse_message(xml, source="test", binding=binding, relay_state=relay_state)
    certs = settings.signing_certificates or trusted
    message = replace(message, signature=verify_message(message, certs, ()))
    login = Login(message=message, posted_to=posted_to, at=at or utc_now(), request_id=request_id,
                  request_relay_state=request_relay_state, sp_entity_id=sp, acs_urls=(ACS, IDP_ACS),
                  trusted=tuple(trusted))
    return predict(login, settings)


def failing(prediction) -> list[int]:
    return [s.number for s in prediction.steps if s.outcome is Outcome.FAIL]


def test_a_healthy_login_passes_every_step(idp):
    prediction = judge(response(idp), config(idp), request_relay_state=KC_RELAY_STATE)
    assert failing(prediction) == [] and prediction.stop is None
    assert not [s.number for s in prediction.steps if s.outcome is Outcome.UNDECIDED]
    assert [s.number for s in prediction.steps] == [1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21]


# (step, page text, how to break exactly that step): the Response, settings and delivery each case changes.
CASES = {
    "1 http": (1, "HTTPS required", dict(posted_to=ACS.replace("https:", "http:"),
                                         fields=dict(destination=ACS.replace("https:", "http:")))),
    "4 no Response ID": (4, INVALID_RESPONSE, dict(fields=dict(response_id=None))),
    "5 signed, no Destination": (5, INVALID_REQUEST, dict(fields=dict(destination=None))),
    "6 trailing slash": (6, INVALID_REQUEST, dict(fields=dict(destination=ACS + "/"))),
    "7 rotated certificate": (7, INVALID_SIGNATURE, dict(signer="rotated")),
    "8 IdP RelayState": (8, INVALID_REQUEST, dict(relay_state="dashboard")),
    "8 IdP RelayState URL": (8, "Page has expired", dict(relay_state="https://acme.atlan.com/home")),
    "8 no RelayState": (8, INTERNAL_ERROR, dict(relay_state=None)),
    "8 unknown client": (8, "Client not found.", dict(posted_to=ACS + "/clients/other",
                                                       fields=dict(destination=ACS + "/clients/other"))),
    "8 another attempt": (8, "Page has expired", dict(request_relay_state="oTher.tAb.atlan-client")),
    "9 Responder": (9, "User is not assigned to this application",
                    dict(fields=dict(status_code="Responder",
                                     status_message="User is not assigned to this application"))),
    "10 no assertion": (10, "Unexpected error when authenticating with identity provider",
                        dict(what="response", fields=dict(assertions=0))),
    "11 encryption required": (11, INVALID_REQUESTER, dict(settings=dict(want_assertions_encrypted=True))),
    "13 Response Issuer": (13, INVALID_REQUESTER, dict(fields=dict(issuer="http://www.okta.com/exk9new",
                                                                   assertion_issuer=IDP))),
    "14 stale InResponseTo": (14, INVALID_REQUESTER, dict(request_id="ID_newer")),
    "15 assertion signature required": (15, INVALID_REQUESTER, dict(what="response",
                                                                    settings=dict(want_assertions_signed=True))),
    "17 Assertion Issuer": (17, INVALID_REQUESTER, dict(fields=dict(assertion_issuer="http://www.okta.com/exk9new"))),
    "18 no NameID": (18, INVALID_REQUESTER, dict(fields=dict(name_id=None))),
    "18 no Subject": (18, INTERNAL_ERROR, dict(fields=dict(include_subject=False))),
    "18 principal attribute": (18, INVALID_REQUESTER, dict(settings=dict(principal_type="ATTRIBUTE",
                                                                         principal_attribute="uid"))),
    "19 expired": (19, LOGIN_TIMEOUT, dict(after=dt.timedelta(minutes=6))),  # judged 6 minutes after it is made
    "19 wrong audience": (19, LOGIN_TIMEOUT, dict(fields=dict(audiences=["https://acme.atlan.com"]))),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_step_fails_alone_with_its_page(idp, case):
    number, page, how = CASES[case]
    signer = TestIdP(entity_id=IDP, key_name="rotated") if how.get("signer") else idp
    xml = response(signer, how.get("what", "assertion"), **how.get("fields", {}))
    kwargs = {k: how[k] for k in ("posted_to", "relay_state", "request_id", "request_relay_state") if k in how}
    if "after" in how:  # from now, not from collection: a busy suite may reach the case minutes after collecting it
        kwargs["at"] = utc_now() + how["after"]
    prediction = judge(xml, config(idp, **how.get("settings", {})), **kwargs)
    assert failing(prediction) == [number], [(s.number, s.because) for s in prediction.steps
                                             if s.outcome is Outcome.FAIL]
    assert page in prediction.stop.page.text
    assert prediction.stop.cite and prediction.stop.fix or number in (9, 10)


def test_unsigned_error_response_stops_at_the_signature_step(idp):
    """With validation on, an unsigned error Response fails at step 7: its StatusMessage is never shown."""
    xml = idp.response(destination=ACS, in_response_to=REQUEST_ID, status_code="Responder", assertions=0,
                       status_message="AuthnFailed")
    prediction = judge(xml, config(idp))
    assert prediction.stop.number == 7 and prediction.stop.page.text == INVALID_SIGNATURE
    assert failing(prediction) == [7, 9, 10]


def test_missing_destination_is_refused_when_only_the_assertion_is_signed(idp):
    """Any ds:Signature anywhere in the document makes Destination mandatory."""
    assert failing(judge(response(idp, "assertion", destination=None), config(idp))) == [5]
    unsigned = idp.response(destination=None, audiences=[SP], in_response_to=REQUEST_ID)
    assert 5 not in failing(judge(unsigned, config(idp, validate_signature=False)))


def test_expired_configured_certificate_is_dropped_silently(idp):
    """Keycloak ignores an expired configured certificate, so a correctly signed Response fails at step 7."""
    old = TestIdP(entity_id=IDP, key_name="expiring", cert_valid_from=utc_now() - dt.timedelta(days=400),
                  cert_valid_to=utc_now() - dt.timedelta(days=1))
    settings = config(idp, signing_certificates=load_certificates(old.cert_pem.encode(), "tenant"))
    prediction = judge(response(old), settings)
    assert prediction.stop.number == 7 and "expired or not yet valid" in prediction.stop.because


def test_sha1_signature_depends_on_the_java_runtime(idp):
    xml = idp.sign(idp.response(destination=ACS, audiences=[SP], in_response_to=REQUEST_ID), algorithm="rsa-sha1",
                   digest="sha1")
    step = judge(xml, config(idp)).step(7)
    assert step.outcome is Outcome.UNDECIDED and "Java 17" in step.because and step.page.text == INVALID_SIGNATURE


def test_signature_validation_off_verifies_nothing(idp):
    rotated = TestIdP(entity_id=IDP, key_name="rotated")
    assert failing(judge(response(rotated), config(idp, validate_signature=False))) == []


def test_destination_is_an_accepted_audience_and_conditions_are_optional(idp):
    assert failing(judge(response(idp, audiences=[ACS]), config(idp))) == []
    assert failing(judge(response(idp, include_conditions=False), config(idp))) == []


def test_empty_audience_restriction_fails():
    idp = TestIdP(entity_id=IDP)
    now = utc_now()
    # an AudienceRestriction with no Audience, inserted before signing
    raw = idp.response(destination=ACS, in_response_to=REQUEST_ID, audiences=None, issue_instant=now, not_before=now,
                       not_on_or_after=now + dt.timedelta(minutes=5))
    raw = raw.replace(b"</saml:Conditions>", b"<saml:AudienceRestriction/></saml:Conditions>")
    prediction = judge(idp.sign(raw), config(idp))
    assert failing(prediction) == [19] and "empty" in prediction.stop.because


def test_skew_is_zero_by_default_and_entra_not_before_equals_issue_instant(idp):
    """Entra sets NotBefore = IssueInstant: a broker clock one second behind the IdP refuses it at skew 0."""
    issued = utc_now()
    xml = response(idp, issue_instant=issued, not_before=issued)
    one_second_early = issued - dt.timedelta(seconds=1)
    assert failing(judge(xml, config(idp), at=one_second_early)) == [19]
    assert failing(judge(xml, config(idp, allowed_clock_skew=5), at=one_second_early)) == []
    assert assumed_config(IDP, "okta").allowed_clock_skew == 0


def test_idp_initiated_login_to_the_client_endpoint_passes(idp):
    xml = response(idp, destination=IDP_ACS, recipient=IDP_ACS, in_response_to=None)
    prediction = judge(xml, config(idp), posted_to=IDP_ACS, relay_state=None, request_id=None)
    assert failing(prediction) == []
    assert prediction.step(14).outcome is Outcome.NOT_APPLICABLE


def test_undecided_without_evidence_never_passes(idp):
    """A pasted Response: no delivery URL, no RelayState, no login time, no trust: steps say so."""
    message_only = judge(response(idp), config(idp, signing_certificates=None), posted_to=None, binding="raw",
                         relay_state=None, request_id=None, at=None)
    undecided = {s.number for s in message_only.steps if s.outcome is Outcome.UNDECIDED}
    assert {1, 7, 8, 14} <= undecided
    assert message_only.stop is None


def test_unknown_entity_id_is_undecided_and_empty_entity_id_is_not_checked(idp):
    xml = response(idp, issuer="http://other", assertion_issuer="http://other")
    assert judge(xml, config(idp, idp_entity_id=None)).step(13).outcome is Outcome.UNDECIDED
    assert failing(judge(xml, config(idp, idp_entity_id=""))) == []


def test_encrypted_assertion_is_judged_after_decryption(idp):
    sp_key, sp_cert = sp_keypair()
    encrypted = idp.encrypt_assertion(response(idp), sp_cert)
    prediction = judge(encrypted, config(idp))
    assert prediction.step(12).outcome is Outcome.UNDECIDED and prediction.step(7).outcome is Outcome.PASS
    required = judge(response(idp), config(idp, want_assertions_encrypted=True))
    assert failing(required) == [11]


def test_profile_from_friendly_names_and_email_nameid(idp):
    """Keycloak's importers match Name or FriendlyName; an emailAddress NameID gives the email."""
    extra = ('<saml:AttributeStatement><saml:Attribute Name="urn:oid:2.5.4.42" FriendlyName="firstName">'
             '<saml:AttributeValue> Alice </saml:AttributeValue></saml:Attribute></saml:AttributeStatement>')
    xml = response(idp, attributes={"lastName": ["Liddell"]}, extra_assertion_xml=extra, name_id="Alice@Example.test")
    prediction = judge(xml, config(idp))
    assert prediction.step(21).outcome is Outcome.PASS
    message = parse_message(xml, source="t")
    profile = brokered_profile(message.assertions[0], config(idp))
    assert profile == {"username": "alice@example.test", "email": "Alice@Example.test", "firstName": "Alice",
                       "lastName": "Liddell"}


def test_missing_profile_field_shows_the_review_form_at_first_login(idp):
    step = judge(response(idp, attributes={"email": ["a@x.test"], "lastName": ["L"]}), config(idp)).step(21)
    assert step.outcome is Outcome.UNDECIDED and step.page.text == "Update Account Information"
    assert "firstName" in step.because


def test_the_captured_page_decides_an_undecided_step(idp):
    """SHA-1 depends on the Java runtime; a captured "Invalid signature" page shows the runtime refused it."""
    xml = idp.sign(idp.response(destination=ACS, audiences=[SP], in_response_to=REQUEST_ID), algorithm="rsa-sha1",
                   digest="sha1")
    message = parse_message(xml, source="test", binding="post", relay_state=KC_RELAY_STATE)
    settings = config(idp)
    message = replace(message, signature=verify_message(message, settings.signing_certificates, ()))
    login = Login(message=message, posted_to=ACS, at=utc_now(), request_id=REQUEST_ID, request_relay_state=None,
                  sp_entity_id=SP)
    assert predict(login, settings).stop is None
    seen = predict(login, settings, pages=("We are sorry... Invalid signature in response from identity provider.",))
    assert seen.stop.number == 7 and "captured page" in seen.stop.because
    other = predict(login, settings, pages=("Login timeout. Please sign in again.",))
    assert other.stop is None


def test_attr001_accepts_friendly_names_and_an_email_nameid(tmp_path, idp):
    """ATTR001 matches as Keycloak's importers do: Name or FriendlyName; the email may come from the NameID."""
    from ssodiag.diag.model import Evidence, Expectations
    from ssodiag.diag.runner import analyze

    extra = ('<saml:AttributeStatement><saml:Attribute Name="urn:oid:2.5.4.42" FriendlyName="firstName">'
             '<saml:AttributeValue>Alice</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>')
    xml = response(idp, attributes={"lastName": ["Liddell"]}, extra_assertion_xml=extra)
    result = analyze(Evidence(messages=(parse_message(xml, source="r.xml"),)), Expectations())
    [finding] = [f for f in result.findings if f.check_id == "ATTR001"]
    assert finding.status.value == "pass", finding.message
    assert "`firstName` as FriendlyName" in finding.message
    assert "`email` from the emailAddress NameID" in finding.message
    bare = response(idp, attributes={"lastName": ["Liddell"]}, name_id_format=None)
    result = analyze(Evidence(messages=(parse_message(bare, source="r.xml"),)), Expectations())
    [finding] = [f for f in result.findings if f.check_id == "ATTR001"]
    assert finding.status.value == "fail" and "`email`" in finding.message and "`firstName`" in finding.message


def test_every_step_links_to_one_range_of_the_fork():
    # a cite such as `SAMLEndpoint.java:413-418, 587-611` once became an anchor with a comma and a space: a broken link
    for step in STEPS:
        url = source_url(step.cite)
        assert re.fullmatch(r"https://github\.com/atlanhq/keycloak-identity/blob/[\w.]+/[\w/.-]+\.java(#L\d+(-L\d+)?)?",
                            url), (step.number, url)
