"""diag.saml: SAML protocol messages read into the typed model, field by field.

The XML is written out here, with namespaces, so each test shows exactly which element feeds which field.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ssodiag.diag.errors import InputError
from ssodiag.diag.model import AudienceRestriction, MessageKind, RedirectSignature
from ssodiag.diag.saml import classify_xml, parse_assertion, parse_boolean, parse_instant, parse_message
from ssodiag.diag.xmlparse import NS, parse_xml, quote_attribute

NSDECL = ('xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
          'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"')
IDP = "https://idp.example.test/metadata"
SP = "https://atlan.example.test/auth/realms/default"
ACS = "https://atlan.example.test/auth/realms/default/broker/okta/endpoint"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
AES128 = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
SIGNATURE = "<ds:Signature><ds:SignedInfo/></ds:Signature>"  # presence is all the parser records


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def assertion_xml(*, assertion_id: str = "_a1", name_id: str = "alice@corp.example", conditions: str | None = None,
                  extra_subject: str = "", extra_statements: str = "", signature: str = "") -> str:
    if conditions is None:
        conditions = (f'<saml:Conditions NotBefore="2026-11-28T10:00:00Z" NotOnOrAfter="2026-11-28T10:05:00Z">'
                      f'<saml:AudienceRestriction><saml:Audience>{SP}</saml:Audience>'
                      f'<saml:Audience>urn:other</saml:Audience></saml:AudienceRestriction>'
                      f'<saml:AudienceRestriction><saml:Audience>urn:third</saml:Audience></saml:AudienceRestriction>'
                      f'</saml:Conditions>')
    return (
        f'<saml:Assertion ID="{assertion_id}" Version="2.0" IssueInstant="2026-11-28T10:00:01.123Z">'
        f'<saml:Issuer>{IDP}</saml:Issuer>{signature}'
        f'<saml:Subject>'
        f'<saml:NameID Format="{EMAIL}" SPNameQualifier="{SP}" NameQualifier="{IDP}">{name_id}</saml:NameID>'
        f'{extra_subject}'
        f'<saml:SubjectConfirmation Method="{BEARER}">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="2026-11-28T10:05:00Z" Recipient="{ACS}" InResponseTo="_req1" '
        f'Address="203.0.113.7" NotBefore="2026-11-28T09:59:00Z"/></saml:SubjectConfirmation>'
        f'</saml:Subject>{conditions}'
        f'<saml:AuthnStatement AuthnInstant="2026-11-28T09:58:00Z" SessionIndex="_s1" '
        f'SessionNotOnOrAfter="2026-11-28T18:00:00Z"><saml:AuthnContext><saml:AuthnContextClassRef>'
        f'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
        f'</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>'
        f'<saml:AttributeStatement>'
        f'<saml:Attribute Name="email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic" '
        f'FriendlyName="mail"><saml:AttributeValue>alice@corp.example</saml:AttributeValue></saml:Attribute>'
        f'<saml:Attribute Name="groups"><saml:AttributeValue>Admins</saml:AttributeValue>'
        f'<saml:AttributeValue>Data Eng</saml:AttributeValue><saml:AttributeValue/></saml:Attribute>'
        f'</saml:AttributeStatement>'
        f'<saml:AttributeStatement><saml:Attribute Name="firstName"><saml:AttributeValue>Alice'
        f'</saml:AttributeValue></saml:Attribute>{extra_statements}</saml:AttributeStatement>'
        f'</saml:Assertion>'
    )


def response_xml(*body: str, status: str | None = None, attrs: str = "") -> bytes:
    if status is None:
        status = ('<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
                  '</samlp:Status>')
    return (f'<samlp:Response {NSDECL} ID="_r1" Version="2.0" IssueInstant="2026-11-28T10:00:02Z" '
            f'Destination="{ACS}" InResponseTo="_req1"{attrs}><saml:Issuer>{IDP}</saml:Issuer>'
            f'{status}{"".join(body)}</samlp:Response>').encode()


def encrypted(element: str, *, key_in_keyinfo: bool = True, data_alg: str = AES128) -> str:
    key = f'<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{RSA_OAEP}"/></xenc:EncryptedKey>'
    inner = f'<ds:KeyInfo>{key}</ds:KeyInfo>' if key_in_keyinfo else ""
    sibling = "" if key_in_keyinfo else key
    return (f'<saml:{element}><xenc:EncryptedData Type="http://www.w3.org/2001/04/xmlenc#Element">'
            f'<xenc:EncryptionMethod Algorithm="{data_alg}"/>{inner}'
            f'<xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>'
            f'{sibling}</saml:{element}>')


# --------------------------------------------------------------------------- Response


# Characters XML 1.0 allows (§2.2): a parsed attribute value holds nothing else.
XML_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"]).filter(lambda c: c in "\t\n\r" or c >= " ")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=XML_CHARS | st.sampled_from("\t\n\r\"'&<>")))
def test_a_quoted_attribute_parses_back_to_its_value(value):
    """Namespace URIs and xml:* values written onto a start tag (for canonicalisation in context, and around a
    decrypted assertion) must read back exactly, line breaks and quotes included."""
    assert parse_xml(f"<e a={quote_attribute(value)}/>".encode()).get("a") == value


def test_response_header_fields_and_status():
    raw = response_xml(assertion_xml())
    msg = parse_message(raw, source="resp.xml", binding="post", encoding_layers=("base64",), relay_state="rs-1",
                        captured_at=utc(2026, 11, 28, 10, 0, 3))
    assert msg.kind is MessageKind.RESPONSE
    assert (msg.id, msg.version, msg.issuer) == ("_r1", "2.0", IDP)
    assert (msg.destination, msg.in_response_to) == (ACS, "_req1")
    assert msg.issue_instant == utc(2026, 11, 28, 10, 0, 2)
    assert msg.status.code == "urn:oasis:names:tc:SAML:2.0:status:Success" and msg.status.is_success
    assert msg.status.sub_code is None and msg.status.message is None
    assert (msg.source, msg.binding, msg.encoding_layers, msg.relay_state) == ("resp.xml", "post", ("base64",), "rs-1")
    assert msg.captured_at == utc(2026, 11, 28, 10, 0, 3)
    assert msg.raw_xml is raw  # kept exactly as given: signatures are verified on these bytes
    assert msg.root.tag == f"{{{NS['samlp']}}}Response"
    assert msg.acs_url is None and msg.force_authn is None  # AuthnRequest-only fields stay empty


def test_failed_status_with_sub_code_and_message():
    status = ('<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder">'
              '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"/></samlp:StatusCode>'
              '<samlp:StatusMessage>User is not <!-- x -->assigned</samlp:StatusMessage></samlp:Status>')
    msg = parse_message(response_xml(status=status), source="r")
    assert msg.status.code == "urn:oasis:names:tc:SAML:2.0:status:Responder"
    assert msg.status.sub_code == "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
    assert msg.status.message == "User is not assigned"
    assert not msg.status.is_success
    assert msg.assertions == ()


def test_response_without_status_element():
    assert parse_message(response_xml(status=""), source="r").status is None


def test_assertion_fields():
    msg = parse_message(response_xml(assertion_xml()), source="r")
    (a,) = msg.assertions
    assert (a.id, a.version, a.issuer) == ("_a1", "2.0", IDP)
    assert a.issue_instant == utc(2026, 11, 28, 10, 0, 1, 123000)
    assert (a.name_id.value, a.name_id.format) == ("alice@corp.example", EMAIL)
    assert (a.name_id.sp_name_qualifier, a.name_id.name_qualifier) == (SP, IDP)
    (sc,) = a.subject_confirmations
    assert (sc.method, sc.recipient, sc.in_response_to, sc.address) == (BEARER, ACS, "_req1", "203.0.113.7")
    assert (sc.not_before, sc.not_on_or_after) == (utc(2026, 11, 28, 9, 59), utc(2026, 11, 28, 10, 5))
    assert a.conditions.not_before == utc(2026, 11, 28, 10, 0)
    assert a.conditions.not_on_or_after == utc(2026, 11, 28, 10, 5)
    # each AudienceRestriction kept apart: every one must hold on its own (SAML core §2.5.1.4)
    assert a.conditions.audience_restrictions == (AudienceRestriction((SP, "urn:other")),
                                                  AudienceRestriction(("urn:third",)))
    (st,) = a.authn_statements
    assert (st.authn_instant, st.session_index) == (utc(2026, 11, 28, 9, 58), "_s1")
    assert st.session_not_on_or_after == utc(2026, 11, 28, 18, 0)
    assert st.authn_context_class_ref == "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    # attributes from both AttributeStatements, in order
    assert [x.name for x in a.attributes] == ["email", "groups", "firstName"]
    email = a.attribute("email")
    assert (email.name_format, email.friendly_name, email.values) == (
        "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "mail", ("alice@corp.example",))
    assert a.attribute("groups").values == ("Admins", "Data Eng", "")
    assert a.attribute("firstName").values == ("Alice",)
    assert a.encrypted_parts == () and a.has_signature is False
    assert a.element is msg.root.find("saml:Assertion", NS)


def test_signature_presence_is_a_direct_child_only():
    signed = parse_message(response_xml(assertion_xml(signature=SIGNATURE)), source="r").assertions[0]
    assert signed.has_signature
    # a ds:Signature deeper inside (here in an attribute value) does not sign the assertion
    nested = assertion_xml(extra_statements=f'<saml:Attribute Name="x"><saml:AttributeValue>{SIGNATURE}'
                                            f'</saml:AttributeValue></saml:Attribute>')
    assert not parse_message(response_xml(nested), source="r").assertions[0].has_signature
    # the same rule one level up: the Response is signed only by a ds:Signature that is its own child
    assert parse_message(response_xml(assertion_xml(), SIGNATURE), source="r").has_signature
    assert not parse_message(response_xml(assertion_xml(signature=SIGNATURE)), source="r").has_signature


def test_time_attributes_keep_the_text_as_written():
    """Checks show an unparsable time as written, not as absent, so the model keeps the attribute text."""
    bad = "28/11/2026 10:05"
    xml = assertion_xml(conditions=f'<saml:Conditions NotBefore="2026-11-28T10:00:00Z" NotOnOrAfter="{bad}"/>')
    xml = xml.replace('SubjectConfirmationData NotOnOrAfter="2026-11-28T10:05:00Z"',
                      f'SubjectConfirmationData NotOnOrAfter="{bad}"')
    xml = xml.replace('SessionNotOnOrAfter="2026-11-28T18:00:00Z"', f'SessionNotOnOrAfter="{bad}"')
    msg = parse_message(response_xml(xml).replace(b'IssueInstant="2026-11-28T10:00:02Z"',
                                                  f'IssueInstant="{bad}"'.encode()), source="r")
    (a,) = msg.assertions
    assert (msg.issue_instant, msg.issue_instant_text) == (None, bad)
    assert (a.issue_instant_text, a.conditions.not_before_text) == ("2026-11-28T10:00:01.123Z", "2026-11-28T10:00:00Z")
    assert (a.conditions.not_on_or_after, a.conditions.not_on_or_after_text) == (None, bad)
    sc = a.subject_confirmations[0]
    assert (sc.not_on_or_after, sc.not_on_or_after_text) == (None, bad)
    statement = a.authn_statements[0]
    assert (statement.session_not_on_or_after, statement.session_not_on_or_after_text) == (None, bad)


def test_missing_conditions_is_none_not_empty():
    a = parse_message(response_xml(assertion_xml(conditions="")), source="r").assertions[0]
    assert a.conditions is None
    empty = parse_message(response_xml(assertion_xml(conditions="<saml:Conditions/>")), source="r").assertions[0]
    assert empty.conditions is not None and empty.conditions.audience_restrictions == ()


def test_comment_injection_in_name_id_and_attribute_is_read_whole():
    # CVE-2017-11427 class: a naive .text read stops at the comment and yields "alice@corp.example"
    injected = "alice@corp.example<!---->.evil.example"
    xml = assertion_xml(name_id=injected, extra_statements=(
        f'<saml:Attribute Name="mail"><saml:AttributeValue>{injected}</saml:AttributeValue></saml:Attribute>'))
    a = parse_message(response_xml(xml), source="r").assertions[0]
    assert a.name_id.value == "alice@corp.example.evil.example"
    assert a.attribute("mail").values == ("alice@corp.example.evil.example",)


def test_cdata_and_comment_in_issuer_and_audience():
    xml = response_xml(assertion_xml(conditions=(
        '<saml:Conditions><saml:AudienceRestriction><saml:Audience><![CDATA[https://atlan.example.test]]>'
        '<!-- c -->/auth/realms/default</saml:Audience></saml:AudienceRestriction></saml:Conditions>')))
    xml = xml.replace(f"<saml:Issuer>{IDP}</saml:Issuer>".encode(),
                      b"<saml:Issuer><![CDATA[https://idp.example.test]]><!--x-->/metadata</saml:Issuer>", 1)
    msg = parse_message(xml, source="r")
    assert msg.issuer == IDP
    assert msg.assertions[0].conditions.audience_restrictions == (AudienceRestriction((SP,)),)


def test_only_direct_child_assertions_are_consumed():
    # an Assertion hidden in Extensions (a wrapping attack's decoy) or nested inside another is not consumed data
    hidden = assertion_xml(assertion_id="_evil", name_id="admin@corp.example")
    xml = response_xml(f'<samlp:Extensions>{hidden}</samlp:Extensions>', assertion_xml(assertion_id="_real"))
    msg = parse_message(xml, source="r")
    assert [a.id for a in msg.assertions] == ["_real"]


def test_two_direct_assertions_are_both_kept():
    msg = parse_message(response_xml(assertion_xml(assertion_id="_x"), assertion_xml(assertion_id="_y")), source="r")
    assert [a.id for a in msg.assertions] == ["_x", "_y"]


def test_encrypted_assertion_key_in_keyinfo_and_as_sibling():
    msg = parse_message(response_xml(encrypted("EncryptedAssertion"),
                                     encrypted("EncryptedAssertion", key_in_keyinfo=False, data_alg=AES256_GCM)),
                        source="r")
    assert msg.assertions == ()
    first, second = msg.encrypted_parts
    assert (first.element, first.data_algorithm, first.key_algorithm) == ("EncryptedAssertion", AES128, RSA_OAEP)
    assert (second.data_algorithm, second.key_algorithm) == (AES256_GCM, RSA_OAEP)
    assert not first.decrypted and first.error is None


def test_encrypted_assertion_without_encrypted_data_is_reported():
    msg = parse_message(response_xml("<saml:EncryptedAssertion/>"), source="r")
    (part,) = msg.encrypted_parts
    assert (part.data_algorithm, part.key_algorithm) == (None, None)
    assert part.error == "EncryptedAssertion has no xenc:EncryptedData"


def test_encrypted_id_and_attribute_go_to_the_assertion_encrypted_parts():
    xml = assertion_xml(extra_subject=encrypted("EncryptedID"), extra_statements=encrypted("EncryptedAttribute"))
    a = parse_message(response_xml(xml), source="r").assertions[0]
    assert [(p.element, p.data_algorithm, p.key_algorithm) for p in a.encrypted_parts] == [
        ("EncryptedID", AES128, RSA_OAEP), ("EncryptedAttribute", AES128, RSA_OAEP)]
    assert [x.name for x in a.attributes] == ["email", "groups", "firstName"]


def test_subject_with_only_an_encrypted_id_has_no_name_id():
    xml = assertion_xml().replace(
        f'<saml:NameID Format="{EMAIL}" SPNameQualifier="{SP}" NameQualifier="{IDP}">alice@corp.example</saml:NameID>',
        encrypted("EncryptedID"))
    a = parse_message(response_xml(xml), source="r").assertions[0]
    assert a.name_id is None
    assert [p.element for p in a.encrypted_parts] == ["EncryptedID"]


def test_parse_assertion_directly_and_refuses_other_elements():
    element = parse_xml(f'<root {NSDECL}>{assertion_xml(assertion_id="_d")}</root>'.encode())[0]
    assert parse_assertion(element, "decrypted").id == "_d"
    with pytest.raises(InputError, match=r"expected <\{urn:oasis:names:tc:SAML:2.0:assertion\}Assertion>, "
                                         r"found <\{urn:oasis:names:tc:SAML:2.0:protocol\}Response>"):
        parse_assertion(parse_xml(response_xml()), "decrypted")


def test_reuses_a_given_root():
    raw = response_xml(assertion_xml())
    root = parse_xml(raw)
    msg = parse_message(raw, source="r", root=root)
    assert msg.root is root
    assert msg.assertions[0].element.getparent() is root


# --------------------------------------------------------------------------- other message kinds


def test_authn_request_fields():
    raw = (f'<samlp:AuthnRequest {NSDECL} ID="_req1" Version="2.0" IssueInstant="2026-11-28T09:57:00Z" '
           f'Destination="https://idp.example.test/sso" AssertionConsumerServiceURL="{ACS}" '
           f'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="1" IsPassive=" false ">'
           f'<saml:Issuer>{SP}</saml:Issuer>'
           f'<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/>'
           f'<samlp:RequestedAuthnContext Comparison="exact">'
           f'<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
           f'</saml:AuthnContextClassRef>'
           f'<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:X509</saml:AuthnContextClassRef>'
           f'</samlp:RequestedAuthnContext></samlp:AuthnRequest>').encode()
    redirect = RedirectSignature(sig_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", signature="c2ln",
                                 signed_query="SAMLRequest=abc&SigAlg=x")
    msg = parse_message(raw, source="har entry 3", binding="redirect",
                        encoding_layers=("url-decode", "base64", "inflate"), redirect_signature=redirect)
    assert msg.kind is MessageKind.AUTHN_REQUEST
    assert (msg.id, msg.issuer, msg.destination) == ("_req1", SP, "https://idp.example.test/sso")
    assert msg.issue_instant == utc(2026, 11, 28, 9, 57)
    assert msg.acs_url == ACS
    assert msg.protocol_binding == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert msg.name_id_policy_format == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    assert msg.requested_authn_context == ("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                                           "urn:oasis:names:tc:SAML:2.0:ac:classes:X509")
    assert (msg.force_authn, msg.is_passive) == (True, False)
    assert msg.redirect_signature is redirect
    assert msg.status is None and msg.in_response_to is None and msg.assertions == ()


def test_authn_request_subject_is_kept_for_the_login_hint_check():
    hinted = (f'<samlp:AuthnRequest {NSDECL} ID="_r" Version="2.0" IssueInstant="2026-11-28T09:57:00Z">'
              f'<saml:Issuer>{SP}</saml:Issuer><saml:Subject><saml:NameID>alice@corp.example</saml:NameID>'
              f'</saml:Subject></samlp:AuthnRequest>').encode()
    assert parse_message(hinted, source="r").subject.value == "alice@corp.example"
    empty = hinted.replace(b"<saml:NameID>alice@corp.example</saml:NameID>", b"")
    assert parse_message(empty, source="r").subject.value == ""  # a Subject naming nobody is still a Subject


def test_minimal_authn_request_leaves_optional_fields_empty():
    raw = f'<samlp:AuthnRequest {NSDECL} ID="_r" Version="2.0" IssueInstant="bogus"/>'.encode()
    msg = parse_message(raw, source="r")
    assert msg.issue_instant is None and msg.issuer is None
    assert (msg.acs_url, msg.protocol_binding, msg.name_id_policy_format) == (None, None, None)
    assert msg.requested_authn_context == () and msg.force_authn is None and msg.is_passive is None
    assert msg.subject is None and msg.issue_instant_text == "bogus"


def test_logout_request_and_response():
    req = parse_message(f'<samlp:LogoutRequest {NSDECL} ID="_l1" Version="2.0" IssueInstant="2026-11-28T11:00:00Z">'
                        f'<saml:Issuer>{SP}</saml:Issuer><saml:NameID>alice</saml:NameID>'
                        f'</samlp:LogoutRequest>'.encode(), source="r")
    assert (req.kind, req.id, req.issuer, req.status) == (MessageKind.LOGOUT_REQUEST, "_l1", SP, None)
    resp = parse_message(f'<samlp:LogoutResponse {NSDECL} ID="_l2" InResponseTo="_l1" Version="2.0">'
                         f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
                         f'</samlp:Status></samlp:LogoutResponse>'.encode(), source="r")
    assert (resp.kind, resp.in_response_to, resp.status.is_success) == (MessageKind.LOGOUT_RESPONSE, "_l1", True)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("raw, found", [
    (b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>',
     "{urn:oasis:names:tc:SAML:2.0:metadata}EntityDescriptor"),
    (f'<saml:Assertion {NSDECL} ID="_a"/>'.encode(), "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"),
    (b'<Response ID="_r"/>', "Response"),  # right name, no namespace
    (b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol"/>',
     "{urn:oasis:names:tc:SAML:1.0:protocol}Response"),  # SAML 1.1 is not SAML 2.0
])
def test_wrong_root_is_an_input_error(raw, found):
    with pytest.raises(InputError) as info:
        parse_message(raw, source="x.xml")
    assert str(info.value) == ("x.xml: expected a SAML protocol message (Response, AuthnRequest, LogoutRequest, "
                               f"LogoutResponse), found <{found}>")


def test_wrong_root_with_a_huge_namespace_gives_a_bounded_message():
    raw = f'<x:Response xmlns:x="urn:{"n" * 5000}"/>'.encode()
    with pytest.raises(InputError) as info:
        parse_message(raw, source="x.xml")
    assert len(str(info.value)) < 400 and str(info.value).endswith("…>")


@pytest.mark.parametrize("raw", [
    b"\x00\x01\x02 not xml",
    b"<samlp:Response",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
])
def test_junk_and_hostile_bytes_are_input_errors(raw):
    with pytest.raises(InputError) as info:
        parse_message(raw, source="junk.bin")
    assert str(info.value).startswith("junk.bin: ") and "\n" not in str(info.value)


def test_huge_values_are_kept_whole():
    big = "g" * 200_000
    xml = assertion_xml(extra_statements=f'<saml:Attribute Name="big"><saml:AttributeValue>{big}'
                                         f'</saml:AttributeValue></saml:Attribute>')
    assert parse_message(response_xml(xml), source="r").assertions[0].attribute("big").values == (big,)


# --------------------------------------------------------------------------- classify, instants, booleans


@pytest.mark.parametrize("xml, kind", [
    (f'<samlp:Response {NSDECL}/>', "message"),
    (f'<samlp:AuthnRequest {NSDECL}/>', "message"),
    (f'<samlp:LogoutRequest {NSDECL}/>', "message"),
    (f'<samlp:LogoutResponse {NSDECL}/>', "message"),
    ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>', "metadata"),
    ('<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>', "metadata"),
    (f'<samlp:ArtifactResolve {NSDECL}/>', None),
    (f'<saml:Assertion {NSDECL}/>', None),
    ('<html><body>error</body></html>', None),
])
def test_classify_xml(xml, kind):
    assert classify_xml(parse_xml(xml.encode())) == kind


def test_classify_xml_on_a_comment_node():
    comment = parse_xml(b"<!--c--><r/>").getprevious()
    assert isinstance(comment, etree._Comment)
    assert classify_xml(comment) is None


@pytest.mark.parametrize("text, expected", [
    ("2026-11-28T10:00:00Z", utc(2026, 11, 28, 10, 0, 0)),
    (" 2026-11-28T10:00:00Z\n", utc(2026, 11, 28, 10, 0, 0)),
    ("2026-11-28T10:00:00", utc(2026, 11, 28, 10, 0, 0)),  # no zone: SAML says UTC
    ("2026-11-28T10:00:00.5Z", utc(2026, 11, 28, 10, 0, 0, 500000)),
    ("2026-11-28T10:00:00.123456789Z", utc(2026, 11, 28, 10, 0, 0, 123456)),  # nanoseconds (.NET / ADFS)
    ("2026-11-28T10:00:00.0000001Z", utc(2026, 11, 28, 10, 0, 0)),  # .NET ticks
    ("2026-11-28T10:00:00." + "9" * 200 + "Z", utc(2026, 11, 28, 10, 0, 0, 999999)),  # truncated, not rounded
    ("2026-11-28T12:30:00+02:30", utc(2026, 11, 28, 10, 0, 0)),
    ("2026-11-28T05:00:00-05:00", utc(2026, 11, 28, 10, 0, 0)),
    ("2026-11-28T23:30:00-01:00", utc(2026, 11, 29, 0, 30, 0)),  # offset crosses midnight
])
def test_parse_instant(text, expected):
    value = parse_instant(text)
    assert value == expected
    assert value.tzinfo is timezone.utc


@pytest.mark.parametrize("text", [
    None, "", "yesterday", "2026-11-28", "2026-11-28 10:00:00Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "2026-11-28T25:00:00Z", "2026-11-28T10:00:60Z", "2026-11-28T10:00:00+15:00", "2026-11-28T10:00:00ZZ",
    "2026-11-28T10:00:00.Z", "１２３４-11-28T10:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
])
def test_parse_instant_unparsable_is_none(text):
    assert parse_instant(text) is None


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("1", True), ("false", False), ("0", False), (" true ", True),
    (None, None), ("TRUE", None), ("yes", None),
])
def test_parse_boolean(text, expected):
    assert parse_boolean(text) is expected


# --------------------------------------------------------------------------- properties

XML_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFFFD, blacklist_categories=("Cs",)),
                   max_size=40)


@settings(max_examples=150, deadline=None)
@given(value=XML_TEXT, split=st.integers(min_value=0, max_value=40))
def test_text_values_round_trip_across_a_comment(value, split):
    # any value, escaped and split by a comment anywhere, is read back whole (as C14N sees it)
    head, tail = escape(value[:split]), escape(value[split:])
    a = parse_message(response_xml(assertion_xml(name_id=f"{head}<!--x-->{tail}")), source="r").assertions[0]
    assert a.name_id.value == value.strip()


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_corrupted_bytes_give_a_message_or_an_input_error(data):
    # hostile / damaged input: a few bytes overwritten anywhere never produce a traceback
    raw = bytearray(response_xml(assertion_xml(), encrypted("EncryptedAssertion")))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        raw[data.draw(st.integers(min_value=0, max_value=len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        parse_message(bytes(raw), source="r")
    except InputError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(instant=st.datetimes(timezones=st.just(timezone.utc)),
       offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_parse_instant_round_trips_any_offset(instant, offset_minutes):
    # the same instant written in any zone reads back as that instant in UTC (or None past the calendar's ends)
    zone = timezone(timedelta(minutes=offset_minutes))
    try:
        local = instant.astimezone(zone)
    except OverflowError:
        return
    assert parse_instant(local.isoformat()) == instant


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="0123456789-T:.Z+ ", max_size=40))
def test_parse_instant_never_raises(text):
    value = parse_instant(text)
    assert value is None or value.tzinfo is timezone.utc
