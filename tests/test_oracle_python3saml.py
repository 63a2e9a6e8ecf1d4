"""Oracle: python3-saml (strict) judges the same fixtures as the trust engine; both must agree on accept/reject.

python3-saml is an independent implementation (xmlsec1 for crypto, its own XSW rules, codes 6-13 and 42-47), run
strict with ``wantAssertionsSigned`` and ``rejectDeprecatedAlgorithm``. "ssodiag accepts" means: the verdict is
``valid`` and no SIG check fails. Every fixture is otherwise a protocol-valid login, so a rejection is about
signatures, keys or certificates.

Intended differences (asserted below, each for a stated reason):

| fixture                      | python3-saml | ssodiag | why                                                       |
|------------------------------|--------------|---------|-----------------------------------------------------------|
| response-only signature      | reject       | accept  | the oracle runs with wantAssertionsSigned; Keycloak (what  |
|                              |              |         | Atlan runs) accepts a signed Response by default, so SIG001|
|                              |              |         | passes it (the signature covers the assertion)            |
| 1024-bit RSA key             | accept       | reject  | xmlsec accepts short keys; SIG007 follows NIST SP 800-131A |
|                              |              |         | and Java's disabled-algorithm policy Keycloak runs under   |
| expired signing certificate  | accept       | reject  | python3-saml pins the key and ignores validity; SIG008     |
|                              |              |         | reports it because IdP/SP rollovers start from it         |
"""
from __future__ import annotations

import base64
import datetime as dt
import functools

import pytest
from msgspec import Struct
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from ssodiag.diag.certs import load_certificates
from ssodiag.diag.model import Evidence, Expectations, SignatureVerdict, Status
from ssodiag.diag.runner import analyze
from ssodiag.diag.saml import parse_message
from tests.idp import ACS_URL, BINDING_POST, BINDING_REDIRECT, NAMEID_EMAIL, SP_ENTITY_ID, SSO_URL, TestIdP, \
    sp_keypair, utc_now
from tests.xsw import SIGNED_WHAT, VARIANTS

REQUEST_ID = "_request-1"  # TestIdP's default InResponseTo
REQUEST_DATA = {"https": "on", "http_host": "sp.example.test", "script_name": "/acs"}  # = ACS_URL

IDP = TestIdP()
SP_KEY, SP_CERT = sp_keypair()


class Fixture(Struct, frozen=True):
    xml: bytes
    trusted: tuple[TestIdP, ...] = (IDP,)
    sp_key: bytes | None = None
    intended_difference: str | None = None  # the table above; None = both must agree


def _fixtures() -> dict[str, Fixture]:
    now = utc_now()
    old, new = TestIdP(key_name="old"), TestIdP(key_name="new")
    weak = TestIdP(key_bits=1024)
    expired = TestIdP(cert_valid_from=now - dt.timedelta(days=400), cert_valid_to=now - dt.timedelta(days=1))
    signed = IDP.signed_response(name_id="alice@example.test.evil.com")
    fixtures = {
        "assertion signed": Fixture(IDP.signed_response()),
        "response and assertion signed": Fixture(IDP.signed_response(what="both")),
        "response-only signature": Fixture(IDP.signed_response(what="response"),
                                           intended_difference="wantAssertionsSigned"),
        "unsigned": Fixture(IDP.response()),
        "tampered after signing": Fixture(IDP.signed_response().replace(b"Liddell", b"Lyddell")),
        "signed by an unknown key": Fixture(TestIdP(key_name="attacker").signed_response()),
        "sha1": Fixture(IDP.sign(IDP.response(), algorithm="rsa-sha1", digest="sha1")),
        "unsupported digest uri": Fixture(IDP.signed_response().replace(b"xmlenc#sha256", b"xmlenc#sha384")),
        "comment-injected name id": Fixture(signed.replace(b">alice@example.test.evil.com<",
                                                           b">alice@example.test<!---->.evil.com<")),
        "rollover, second cert signs": Fixture(new.signed_response(), trusted=(old, new)),
        "1024-bit key": Fixture(weak.signed_response(), trusted=(weak,), intended_difference="key size"),
        "expired signing certificate": Fixture(expired.signed_response(), trusted=(expired,),
                                               intended_difference="certificate validity"),
        "encrypted signed assertion": Fixture(IDP.encrypt_assertion(IDP.signed_response(), SP_CERT), sp_key=SP_KEY),
    }
    for name, build in VARIANTS.items():
        fixtures[name] = Fixture(build(IDP.signed_response(what=SIGNED_WHAT[name])))
    return fixtures


FIXTURES = _fixtures()  # names and intended differences, for parametrizing


@functools.cache
def fresh_fixtures() -> dict[str, Fixture]:
    """The fixtures built at first use, not at collection: their assertions are valid for 5 minutes, and the
    tests that run before this module (real logins in a browser) can take longer than that on a busy machine."""
    return _fixtures()


def python3_saml(fixture: Fixture) -> tuple[bool, str | None, str | None]:
    """(accepted, error, NameID) from OneLogin_Saml2_Response.is_valid in strict mode."""
    idp: dict = {"entityId": IDP.entity_id, "singleSignOnService": {"url": SSO_URL, "binding": BINDING_REDIRECT}}
    if len(fixture.trusted) == 1:
        idp["x509cert"] = fixture.trusted[0].cert_pem
    else:
        idp["x509certMulti"] = {"signing": [i.cert_pem for i in fixture.trusted]}
    sp: dict = {"entityId": SP_ENTITY_ID, "assertionConsumerService": {"url": ACS_URL, "binding": BINDING_POST},
                "NameIDFormat": NAMEID_EMAIL}
    if fixture.sp_key:
        sp["privateKey"], sp["x509cert"] = fixture.sp_key.decode(), SP_CERT
    settings = OneLogin_Saml2_Settings({
        "strict": True, "debug": False, "sp": sp, "idp": idp,
        "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True,
                     "wantAssertionsEncrypted": False},
    }, sp_validation_only=True)
    response = OneLogin_Saml2_Response(settings, base64.b64encode(fixture.xml))
    accepted = response.is_valid(REQUEST_DATA, request_id=REQUEST_ID, raise_exceptions=False)
    return accepted, response.get_error(), response.get_nameid() if accepted else None


def ssodiag(fixture: Fixture) -> tuple[bool, list[str], str | None]:
    """(accepted, failing SIG check ids, NameID read) through the real pipeline."""
    msg = parse_message(fixture.xml, source="oracle.xml")
    trusted = tuple(load_certificates(i.cert_pem.encode(), "idp.pem")[0] for i in fixture.trusted)
    result = analyze(Evidence(messages=(msg,)), Expectations(idp_certificates=trusted, sp_key_pem=fixture.sp_key,
                                                             at=utc_now()))
    [verified] = result.evidence.messages
    failing = sorted({f.check_id for f in result.findings if f.check_id.startswith("SIG") and f.status is Status.FAIL})
    accepted = verified.signature.verdict is SignatureVerdict.VALID and not failing
    name_id = verified.assertions[0].name_id.value if verified.assertions and verified.assertions[0].name_id else None
    return accepted, failing, name_id


@pytest.mark.parametrize("name", [n for n, f in FIXTURES.items() if f.intended_difference is None])
def test_both_agree_on_accept_or_reject(name):
    fixture = fresh_fixtures()[name]
    theirs, error, their_name_id = python3_saml(fixture)
    ours, failing, our_name_id = ssodiag(fixture)
    assert ours == theirs, f"python3-saml {'accepts' if theirs else f'rejects ({error})'}, ssodiag " \
                           f"{'accepts' if ours else f'rejects ({failing})'}"
    if theirs:  # when both accept, both read the same user (comment injection included)
        assert our_name_id == their_name_id


@pytest.mark.parametrize("name,theirs,ours", [
    ("response-only signature", False, True),
    ("1024-bit key", True, False),
    ("expired signing certificate", True, False),
])
def test_intended_differences_are_exactly_the_documented_ones(name, theirs, ours):
    assert python3_saml(fresh_fixtures()[name])[0] is theirs
    assert ssodiag(fresh_fixtures()[name])[0] is ours


def test_the_fixture_set_covers_accepts_and_rejects():
    # an oracle comparison where everything is rejected (or accepted) would prove nothing
    verdicts = {python3_saml(f)[0] for f in fresh_fixtures().values() if f.intended_difference is None}
    assert verdicts == {True, False}
