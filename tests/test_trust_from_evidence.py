"""Trust never comes from the evidence: metadata that arrives with the capture is described and compared, never
added to the trusted certificates. The attack: a Response signed with an attacker's key, plus metadata naming that
key, handed over as evidence, with and without the genuine --idp-cert."""
from __future__ import annotations

import base64

import pytest

from ssodiag.diag.certs import load_certificates
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.model import Expectations, SignatureVerdict, Status
from ssodiag.diag.runner import analyze
from tests.harbuild import HarBuilder, auto_submit_page, post_body
from tests.idp import ACS_URL, TestIdP, utc_now

GENUINE = TestIdP()
ATTACKER = TestIdP(key_name="attacker", common_name="idp.example.test")  # same names, another key
RESPONSE = ATTACKER.signed_response()
METADATA = ATTACKER.metadata()


def _positional_xml(tmp_path) -> list[str]:
    (tmp_path / "response.xml").write_bytes(RESPONSE)
    (tmp_path / "idp-metadata.xml").write_bytes(METADATA)
    return [str(tmp_path / "response.xml"), str(tmp_path / "idp-metadata.xml")]


def _pasted_text(tmp_path) -> list[str]:
    (tmp_path / "pasted.txt").write_bytes(RESPONSE + b"\n\n" + METADATA + b"\n")
    return [str(tmp_path / "pasted.txt")]


def _saml_response_value(tmp_path) -> list[str]:
    (tmp_path / "response.xml").write_bytes(RESPONSE)
    (tmp_path / "value.txt").write_text("SAMLResponse=" + base64.b64encode(METADATA).decode())
    return [str(tmp_path / "response.xml"), str(tmp_path / "value.txt")]


def _har_error_page_form(tmp_path) -> list[str]:
    har = HarBuilder()
    har.add("POST", ACS_URL, body=post_body("SAMLResponse", RESPONSE), status=400,
            html="<html><body><h1>Invalid signature</h1></body></html>")
    har.add("GET", "https://idp.example.test/error", status=500,
            html=auto_submit_page("https://sp.example.test/acs", METADATA, "relay"))
    (tmp_path / "capture.har").write_bytes(har.bytes())
    return [str(tmp_path / "capture.har")]


WAYS_IN = {"positional metadata file": _positional_xml, "pasted text file": _pasted_text,
           "SAMLResponse= value holding metadata": _saml_response_value,
           "hidden form field of an error page in a HAR": _har_error_page_form}


def _run(paths: list[str], **expect):
    evidence = load_evidence(paths)
    assert all(i.error is None for i in evidence.inputs), [i.error for i in evidence.inputs]
    result = analyze(evidence, Expectations(at=utc_now(), **expect))
    [response] = [m for m in result.evidence.messages if m.kind.value == "Response"]
    return result, response


@pytest.mark.parametrize("way", sorted(WAYS_IN))
def test_attacker_metadata_in_the_evidence_is_not_trusted_when_the_idp_cert_is_given(way, tmp_path):
    result, response = _run(WAYS_IN[way](tmp_path),
                            idp_certificates=load_certificates(GENUINE.cert_pem.encode(), "--idp-cert idp.pem"))
    assert response.signature.verdict is SignatureVerdict.UNTRUSTED, response.signature.reason
    assert "configured certificate" not in response.signature.reason.split(";")[0]
    [sig004] = [f for f in result.findings if f.check_id == "SIG004"]
    assert sig004.status is Status.FAIL
    assert [c.sha256 for c in result.resolved.trusted_certificates] == [load_certificates(
        GENUINE.cert_pem.encode(), "x")[0].sha256]


@pytest.mark.parametrize("way", sorted(WAYS_IN))
def test_attacker_metadata_in_the_evidence_establishes_no_trust_on_its_own(way, tmp_path):
    result, response = _run(WAYS_IN[way](tmp_path))
    assert response.signature.verdict is SignatureVerdict.UNTRUSTED
    assert "nothing establishes trust" in response.signature.reason
    assert result.resolved.trusted_certificates == ()


def test_the_same_metadata_given_with_idp_metadata_is_trusted(tmp_path):
    # the control: what the option vouches for is trusted, so the refusals above are the evidence rule's doing
    from ssodiag.diag.metadata import parse_metadata
    (tmp_path / "response.xml").write_bytes(RESPONSE)
    _result, response = _run([str(tmp_path / "response.xml")],
                             idp_metadata=(parse_metadata(METADATA, "--idp-metadata idp.xml"),))
    assert response.signature.verdict is SignatureVerdict.VALID


def _sp_metadata(sp: TestIdP) -> bytes:
    return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example.test/metadata">'
            f'<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{sp.cert_b64}'
            f'</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            f'<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            f'Location="{ACS_URL}" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>').encode()


def test_sp_metadata_in_the_evidence_does_not_vouch_for_an_authn_request_but_sp_metadata_option_does(tmp_path):
    from ssodiag.diag.metadata import parse_metadata
    sp = TestIdP(key_name="sp-signing", common_name="sp.example.test")
    (tmp_path / "request.xml").write_bytes(sp.sign_request(sp.authn_request()))
    (tmp_path / "sp-metadata.xml").write_bytes(_sp_metadata(sp))
    evidence = load_evidence([str(tmp_path / "request.xml"), str(tmp_path / "sp-metadata.xml")])
    [request] = analyze(evidence, Expectations(at=utc_now())).evidence.messages
    assert request.signature.verdict is SignatureVerdict.UNTRUSTED and "--sp-metadata" in request.signature.reason
    configured = Expectations(at=utc_now(), sp_metadata=(parse_metadata(_sp_metadata(sp), "--sp-metadata sp.xml"),))
    [request] = analyze(load_evidence([str(tmp_path / "request.xml")]), configured).evidence.messages
    assert request.signature.verdict is SignatureVerdict.VALID


def test_attached_metadata_is_compared_with_the_key_that_signed(tmp_path):
    # the attacker's metadata names the attacker's key: said, with what to do if it really is the IdP's
    result, _response = _run(_positional_xml(tmp_path),
                             idp_certificates=load_certificates(GENUINE.cert_pem.encode(), "--idp-cert idp.pem"))
    [sig009] = [f for f in result.findings if f.check_id == "SIG009"]
    assert sig009.status is Status.WARN and "metadata you attached" in sig009.message
    assert "not trusted" in sig009.message and "--idp-metadata" in sig009.message
    # the genuine IdP's metadata attached, a Response signed with another key: "names X; signed with Y"
    (tmp_path / "idp-metadata.xml").write_bytes(GENUINE.metadata())
    result, _response = _run([str(tmp_path / "response.xml"), str(tmp_path / "idp-metadata.xml")])
    [sig009] = [f for f in result.findings if f.check_id == "SIG009"]
    genuine, attacker = (load_certificates(i.cert_pem.encode(), "x")[0].sha256 for i in (GENUINE, ATTACKER))
    assert sig009.status is Status.FAIL
    assert sig009.message.index(genuine) < sig009.message.index("is signed with") < sig009.message.index(attacker)
