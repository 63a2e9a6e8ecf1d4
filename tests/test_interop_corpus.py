"""Responses signed by libxmlsec1 (python-xmlsec and Debian's xmlsec1 command), in the layouts production IdPs
emit, read the way a user gives them (a file on the command line): every sound shape is ``valid`` with no SIG
check failing; the same shape with its NameID changed after signing, or with its signed Assertion moved aside for
an unsigned one (XSW), never is. python3-saml (strict) is the oracle for the sound and forged shapes."""
from __future__ import annotations

import base64

import pytest
from lxml import etree
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from ssodiag.diag.certs import load_certificates
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.model import Expectations, SignatureVerdict, Status
from ssodiag.diag.runner import analyze
from ssodiag.diag.saml import parse_message
from ssodiag.diag.signature import verify_message
from tests.idp import ACS_URL, BINDING_POST, BINDING_REDIRECT, IDP_ENTITY_ID, NAMEID_EMAIL, SP_ENTITY_ID, SSO_URL, \
    utc_now
from tests.interop import FORGED_NAME_ID, NAME_ID, XMLSEC1, Shape, sign_with_python_xmlsec, signature_template, corpus, \
    forge_name_id, idp_for, move_signed_assertion_aside, response_xml, sign
from tests.realidp import skip_or_fail

SHAPES = corpus()


def oracle_difference(shape: Shape) -> str | None:
    """Where python3-saml refuses a sound shape, its error (each asserted below, so a change is noticed):
    - ``xml:lang`` on the Response: its strict mode validates against the SAML schema, which has no ``xml:lang``
      on samlp:Response; the signature itself is sound (libxmlsec1 verifies it) and Keycloak does not
      schema-validate.
    - Reference URI="" on the Response (XML-DSig §4.4.3.2: the whole document): python3-saml then looks the assertion
      up under a Response whose ID is "" and finds no Conditions.
    """
    if shape.xml_lang:
        return "Not match the saml-schema-protocol-2.0.xsd"
    if shape.whole_document_reference and shape.signed == "response":
        return "The Assertion must include a Conditions element"
    return None


@pytest.fixture(scope="module")
def signed_corpus() -> dict[Shape, tuple[bytes, object]]:
    if XMLSEC1 is None:
        skip_or_fail("the xmlsec1 command is not installed (apt-get install xmlsec1)")
    signed = {}
    for shape in SHAPES:
        idp = idp_for(shape)
        signed[shape] = (sign(response_xml(shape), shape, idp), idp)
    return signed


def ssodiag(xml: bytes, idp, tmp_path) -> tuple[SignatureVerdict, list[str], str | None, str]:
    """(verdict, failing SIG checks, NameID read, reason) through the real pipeline, from a file on disk."""
    path = tmp_path / "response.xml"
    path.write_bytes(xml)
    evidence = load_evidence([str(path)])
    assert evidence.inputs[0].error is None, evidence.inputs[0].error
    trusted = load_certificates(idp.cert_pem.encode(), "idp.pem")
    result = analyze(evidence, Expectations(idp_certificates=trusted, at=utc_now()))
    [message] = result.evidence.messages
    failing = sorted({f.check_id for f in result.findings if f.check_id.startswith("SIG") and f.status is Status.FAIL})
    name_id = message.assertions[0].name_id.value if message.assertions and message.assertions[0].name_id else None
    return message.signature.verdict, failing, name_id, message.signature.reason


def python3_saml(xml: bytes, idp, shape: Shape) -> tuple[bool, str | None]:
    settings = OneLogin_Saml2_Settings({
        "strict": True, "debug": False,
        "sp": {"entityId": SP_ENTITY_ID, "assertionConsumerService": {"url": ACS_URL, "binding": BINDING_POST},
               "NameIDFormat": NAMEID_EMAIL},
        "idp": {"entityId": IDP_ENTITY_ID, "singleSignOnService": {"url": SSO_URL, "binding": BINDING_REDIRECT},
                "x509cert": idp.cert_pem},
        # a Response-only signature is sound for Keycloak (Atlan) but not under wantAssertionsSigned
        "security": {"wantAssertionsSigned": shape.signed != "response", "rejectDeprecatedAlgorithm": True},
    }, sp_validation_only=True)
    response = OneLogin_Saml2_Response(settings, base64.b64encode(xml.removeprefix(b"\xef\xbb\xbf")))
    accepted = response.is_valid({"https": "on", "http_host": "sp.example.test", "script_name": "/acs"},
                                 request_id="_request-1", raise_exceptions=False)
    return accepted, response.get_error()


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_sound_shape_is_valid_with_no_signature_finding_failing(shape, signed_corpus, tmp_path):
    xml, idp = signed_corpus[shape]
    verdict, failing, name_id, reason = ssodiag(xml, idp, tmp_path)
    assert (verdict, failing) == (SignatureVerdict.VALID, []), reason
    assert name_id == NAME_ID


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_python3_saml_accepts_the_same_sound_shape_or_refuses_for_the_documented_reason(shape, signed_corpus):
    xml, idp = signed_corpus[shape]
    accepted, error = python3_saml(xml, idp, shape)
    difference = oracle_difference(shape)
    if difference is None:
        assert accepted, error
    else:
        assert not accepted and difference in error


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_name_id_changed_after_signing_is_never_valid_and_is_called_changed(shape, signed_corpus, tmp_path):
    xml, idp = signed_corpus[shape]
    verdict, failing, _name_id, reason = ssodiag(forge_name_id(xml), idp, tmp_path)
    assert verdict is SignatureVerdict.INVALID and "SIG002" in failing, reason
    assert "changed after signing" in reason and "signxml and libxmlsec1 agree" in reason
    assert not python3_saml(forge_name_id(xml), idp, shape)[0]


@pytest.mark.parametrize("shape", [s for s in SHAPES if s.signed != "response"],
                         ids=[s.name for s in SHAPES if s.signed != "response"])
def test_signed_assertion_moved_aside_for_an_unsigned_one_is_never_valid(shape, signed_corpus, tmp_path):
    xml, idp = signed_corpus[shape]
    wrapped = move_signed_assertion_aside(xml)
    verdict, failing, name_id, reason = ssodiag(wrapped, idp, tmp_path)
    assert name_id == FORGED_NAME_ID  # what a careless relying party would log in as
    assert verdict in (SignatureVerdict.WRAPPING, SignatureVerdict.INVALID) and "SIG003" in failing, reason
    assert not python3_saml(wrapped, idp, shape)[0]


def test_the_corpus_is_signed_by_both_libxmlsec1_signers_with_every_algorithm_and_canonicalisation():
    # the corpus must keep its breadth: a shape list that lost its xmlsec1 or ECDSA members would test less
    assert {s.signer for s in SHAPES} == {"python-xmlsec", "xmlsec1"}
    assert {s.algorithm for s in SHAPES} == {"rsa-sha256", "rsa-sha512", "ecdsa-sha256"}
    assert {(s.c14n, s.signed) for s in SHAPES} >= {(c, w) for c in ("exclusive", "inclusive")
                                                     for w in ("assertion", "response", "both")}
    assert {s.namespaces for s in SHAPES} == {"root", "each", "default"}
    assert {s.layout for s in SHAPES} == {"compact", "pretty", "crlf"}


@pytest.mark.parametrize("tamper", [False, True])
def test_assertion_reference_to_the_whole_document_is_explained_as_such(tamper):
    # Reference URI="" inside the Assertion's own signature signs the whole document, not the Assertion alone:
    # it verifies, and a change anywhere in the document (here the Response's Destination) breaks it
    shape = Shape(signed="assertion", whole_document_reference=True)
    idp = idp_for(shape)
    root = etree.fromstring(response_xml(shape))
    assertion = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    sign_with_python_xmlsec(root, assertion, signature_template(assertion, shape, ""), idp)
    if tamper:
        root.set("Destination", "https://elsewhere.example.test/acs")
    report = verify_message(parse_message(etree.tostring(root), source="uri-empty.xml"),
                            load_certificates(idp.cert_pem.encode(), "idp.pem"), ())
    if tamper:
        assert report.verdict is SignatureVerdict.INVALID and "changed after signing" in report.reason
    else:
        assert report.verdict is SignatureVerdict.VALID, report.reason
        assert "whole document" in report.reason and "not the Assertion alone" in report.reason


def test_when_the_verifiers_disagree_the_verdict_is_unsupported_never_tampered(tmp_path):
    # an attribute the XML-DSig schema does not allow on ds:Signature, outside SignedInfo: libxmlsec1 verifies the
    # signature, signxml (which validates the schema) refuses to process it
    shape = Shape(signed="assertion")
    idp = idp_for(shape)
    root = etree.fromstring(sign(response_xml(shape), shape, idp))
    next(root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature")).set("Profile", "idp-test-tool")
    verdict, failing, _name_id, reason = ssodiag(etree.tostring(root), idp, tmp_path)
    assert verdict is SignatureVerdict.UNSUPPORTED and "SIG002" not in failing
    assert "libxmlsec1 verifies this signature and signxml refuses it" in reason
    assert "changed after signing" not in reason and "tamper" not in reason.replace("called tampered", "")
