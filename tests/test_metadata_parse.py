"""diag.metadata: IdP / SP metadata read into the typed model; a bad certificate is data, not a crash."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssodiag.diag.errors import InputError
from ssodiag.diag.metadata import parse_metadata
from ssodiag.diag.xmlparse import parse_xml
from tests.test_certs import der_of, make_cert

MD_NS = ('xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"')
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
IDP = "https://idp.example.test/metadata"
SP = "https://atlan.example.test/auth/realms/default"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@pytest.fixture(scope="module")
def signing_der() -> bytes:
    return der_of(make_cert("idp-signing"))


@pytest.fixture(scope="module")
def encryption_der() -> bytes:
    return der_of(make_cert("idp-encryption", serial=2))


def key_descriptor(der_or_text: bytes | str | None, use: str | None = None) -> str:
    use_attr = f' use="{use}"' if use else ""
    if der_or_text is None:
        return f'<md:KeyDescriptor{use_attr}><ds:KeyInfo><ds:KeyName>k</ds:KeyName></ds:KeyInfo></md:KeyDescriptor>'
    if isinstance(der_or_text, bytes):
        body = base64.b64encode(der_or_text).decode()
        # wrapped and indented, the way most IdPs publish it
        der_or_text = "\n      " + "\n      ".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n    "
    return (f'<md:KeyDescriptor{use_attr}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{der_or_text}'
            f'</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')


def idp_entity(keys: str, *, entity_id: str = IDP, attrs: str = "") -> str:
    return (f'<md:EntityDescriptor entityID="{entity_id}"{attrs}>'
            f'<md:IDPSSODescriptor WantAuthnRequestsSigned="true" '
            f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}'
            f'<md:SingleLogoutService Binding="{REDIRECT}" Location="https://idp.example.test/slo"/>'
            f'<md:NameIDFormat>{EMAIL}</md:NameIDFormat>'
            f'<md:NameIDFormat><!-- persistent -->{PERSISTENT}</md:NameIDFormat>'
            f'<md:SingleSignOnService Binding="{REDIRECT}" Location="https://idp.example.test/sso/redirect"/>'
            f'<md:SingleSignOnService Binding="{POST}" Location="https://idp.example.test/sso/post"/>'
            f'</md:IDPSSODescriptor></md:EntityDescriptor>')


def sp_entity(*, attrs: str = "") -> str:
    return (f'<md:EntityDescriptor entityID="{SP}"{attrs}>'
            f'<md:SPSSODescriptor AuthnRequestsSigned="1" WantAssertionsSigned="false" '
            f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f'<md:AssertionConsumerService Binding="{POST}" Location="{SP}/broker/okta/endpoint" index="0" '
            f'isDefault="true"/>'
            f'<md:AssertionConsumerService Binding="{POST}" Location="{SP}/broker/okta/endpoint/clients/atlan-saml" '
            f'index="1"/>'
            f'<md:AssertionConsumerService Binding="{POST}" Location="https://bad.example" index="x" isDefault="no"/>'
            f'</md:SPSSODescriptor></md:EntityDescriptor>')


def document(inner: str, *, signed: bool = False, attrs: str = "") -> bytes:
    signature = "<ds:Signature><ds:SignedInfo/></ds:Signature>" if signed else ""
    return f'<md:EntitiesDescriptor {MD_NS}{attrs}>{signature}{inner}</md:EntitiesDescriptor>'.encode()


def single(entity: str) -> bytes:
    return entity.replace("<md:EntityDescriptor ", f"<md:EntityDescriptor {MD_NS} ", 1).encode()


# --------------------------------------------------------------------------- IdP entity


def test_idp_entity_fields(signing_der, encryption_der):
    raw = single(idp_entity(key_descriptor(signing_der, "signing") + key_descriptor(encryption_der, "encryption"),
                            attrs=' validUntil="2027-01-01T00:00:00Z" cacheDuration="PT6H"'))
    md = parse_metadata(raw, "idp.xml")
    assert md.source == "idp.xml" and md.raw_xml is raw and md.has_signature is False
    (entity,) = md.entities
    assert entity.entity_id == IDP
    assert entity.valid_until == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert entity.cache_duration == "PT6H"
    idp = entity.role("idp")
    assert entity.role("sp") is None and len(entity.roles) == 1
    assert [(e.binding, e.location) for e in idp.sso_services] == [
        (REDIRECT, "https://idp.example.test/sso/redirect"), (POST, "https://idp.example.test/sso/post")]
    assert [(e.binding, e.location) for e in idp.slo_services] == [(REDIRECT, "https://idp.example.test/slo")]
    assert idp.acs_services == ()
    assert idp.name_id_formats == (EMAIL, PERSISTENT)  # the comment does not cut the value
    assert idp.want_authn_requests_signed is True
    assert (idp.authn_requests_signed, idp.want_assertions_signed) == (None, None)
    signing, encryption = idp.keys
    assert (signing.use, signing.error) == ("signing", None)
    assert signing.certificate.sha256 == hashlib.sha256(signing_der).hexdigest().upper()
    assert signing.certificate.subject == "O=Example\\, Inc.,CN=idp-signing"
    assert signing.certificate.source == f"idp.xml: metadata {IDP} idp signing key"
    assert encryption.use == "encryption"
    assert encryption.certificate.sha1 == hashlib.sha1(encryption_der).hexdigest().upper()
    # only signing (or unspecified-use) keys are trusted for signatures
    assert [c.der for c in idp.signing_certificates] == [signing_der]


def test_key_without_use_serves_signing(signing_der):
    idp = parse_metadata(single(idp_entity(key_descriptor(signing_der))), "x").entities[0].role("idp")
    assert idp.keys[0].use is None
    assert [c.der for c in idp.signing_certificates] == [signing_der]


# --------------------------------------------------------------------------- SP entity and EntitiesDescriptor


def test_two_entities_idp_and_sp(signing_der):
    md = parse_metadata(document(idp_entity(key_descriptor(signing_der)) + sp_entity(), signed=True), "fed.xml")
    assert md.has_signature
    assert [e.entity_id for e in md.entities] == [IDP, SP]
    sp = md.entities[1].role("sp")
    assert md.entities[1].role("idp") is None
    assert [(e.location.rsplit("/", 1)[-1], e.index, e.is_default) for e in sp.acs_services] == [
        ("endpoint", 0, True), ("atlan-saml", 1, None), ("bad.example", None, None)]  # bad index/isDefault -> None
    assert (sp.authn_requests_signed, sp.want_assertions_signed) == (True, False)
    assert sp.want_authn_requests_signed is None
    assert sp.sso_services == () and sp.keys == ()


def test_nested_entities_descriptors_inherit_valid_until_and_cache_duration(signing_der):
    # SAML metadata §2.3.1: an enclosing validUntil bounds every entity inside it
    idp_xml = idp_entity(key_descriptor(signing_der), attrs=' validUntil="2027-06-01T00:00:00Z"')
    inner = (f'<md:EntitiesDescriptor validUntil="2026-12-01T00:00:00Z" cacheDuration="PT1H">{idp_xml}'
             f'</md:EntitiesDescriptor>')
    raw = document(inner + sp_entity(attrs=' validUntil="2026-12-15T00:00:00Z"'),
                   attrs=' validUntil="2026-12-20T00:00:00Z" cacheDuration="P1D"')
    idp, sp = parse_metadata(raw, "x").entities
    assert (idp.entity_id, idp.valid_until, idp.cache_duration) == (
        IDP, datetime(2026, 12, 1, tzinfo=timezone.utc), "PT1H")
    assert (sp.entity_id, sp.valid_until, sp.cache_duration) == (
        SP, datetime(2026, 12, 15, tzinfo=timezone.utc), "P1D")


def test_entity_descriptors_outside_the_entities_tree_are_ignored(signing_der):
    # only EntityDescriptor / EntitiesDescriptor children count; one inside Extensions is not an entity
    hidden = f'<md:Extensions>{sp_entity()}</md:Extensions>'
    md = parse_metadata(document(hidden + idp_entity(key_descriptor(signing_der))), "x")
    assert [e.entity_id for e in md.entities] == [IDP]


def test_empty_entities_descriptor_and_no_valid_until():
    md = parse_metadata(document(""), "x")
    assert md.entities == ()
    assert parse_metadata(single(sp_entity()), "x").entities[0].valid_until is None


# --------------------------------------------------------------------------- bad certificates, bad documents


@pytest.mark.parametrize("cert_text, reason", [
    ("not base64 at all!", "not an X.509 certificate: neither PEM, DER nor base64"),
    (base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), "not an X.509 certificate: DER does not parse"),
    ("", "not an X.509 certificate: the input is empty"),
])
def test_bad_certificate_becomes_a_key_descriptor_error(signing_der, cert_text, reason):
    keys = key_descriptor(cert_text, "signing") + key_descriptor(signing_der, "signing")
    idp = parse_metadata(single(idp_entity(keys)), "idp.xml").entities[0].role("idp")
    bad, good = idp.keys
    assert bad.certificate is None
    assert bad.error.startswith(f"idp.xml: metadata {IDP} idp signing key: ")
    assert reason in bad.error
    assert good.certificate is not None and good.error is None
    assert [c.der for c in idp.signing_certificates] == [signing_der]  # the good key is still usable


def test_key_descriptor_without_a_certificate():
    (key,) = parse_metadata(single(idp_entity(key_descriptor(None, "signing"))), "x").entities[0].role("idp").keys
    assert key.certificate is None
    assert key.error == "KeyDescriptor has no ds:X509Certificate"


@pytest.mark.parametrize("raw, found", [
    (b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>',
     "{urn:oasis:names:tc:SAML:2.0:protocol}Response"),
    (b'<EntityDescriptor entityID="x"/>', "EntityDescriptor"),
    (b'<md:IDPSSODescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>',
     "{urn:oasis:names:tc:SAML:2.0:metadata}IDPSSODescriptor"),
])
def test_wrong_root_is_an_input_error(raw, found):
    with pytest.raises(InputError) as info:
        parse_metadata(raw, "md.xml")
    assert str(info.value) == (f"md.xml: expected SAML metadata (EntityDescriptor or EntitiesDescriptor), "
                               f"found <{found}>")


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00junk", b"<md:EntityDescriptor", b""])
def test_junk_bytes_are_input_errors(raw):
    with pytest.raises(InputError) as info:
        parse_metadata(raw, "md.xml")
    assert str(info.value).startswith("md.xml: ") and "\n" not in str(info.value)


def test_reuses_a_given_root(signing_der):
    raw = single(idp_entity(key_descriptor(signing_der)))
    root = parse_xml(raw)
    assert parse_metadata(raw, "x", root=root).entities[0].entity_id == IDP


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_corrupted_metadata_gives_metadata_or_an_input_error(signing_der, data):
    # damaged or hostile bytes (in the XML or inside the base64 certificate) never produce a traceback
    raw = bytearray(document(idp_entity(key_descriptor(signing_der, "signing")) + sp_entity(), signed=True))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        raw[data.draw(st.integers(min_value=0, max_value=len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        md = parse_metadata(bytes(raw), "md.xml")
    except InputError as exc:
        assert str(exc).startswith("md.xml: ") and "\n" not in str(exc)
    else:
        keys = [k for e in md.entities for r in e.roles for k in r.keys]
        assert all((k.certificate is None) == (k.error is not None) for k in keys)
