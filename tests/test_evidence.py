"""Evidence loading: auto-detection of every input kind, merging, one-line errors, read-only inputs."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization

from ssodiag.diag.evidence import NOT_RECOGNISED, load_evidence
from ssodiag.diag.limits import MAX_FILE_BYTES
from ssodiag.diag.model import InputKind, MessageKind
from tests.harbuild import HarBuilder, auto_submit_page, deflate, post_body, redirect_query, tracer_request
from tests.idp import TestIdP, cached_key

ACS = "https://acme.atlan.com/auth/realms/default/broker/okta/endpoint"


@pytest.fixture(scope="module")
def idp() -> TestIdP:
    return TestIdP()


def write(tmp_path: Path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def only_input(evidence):
    (loaded,) = evidence.inputs
    assert loaded.error is None, loaded.error
    return loaded


@pytest.mark.parametrize("encode, layers, binding", [
    (lambda x: x, (), "raw"),
    (lambda x: b"\n\n" + x + b"\n", (), "raw"),
    (lambda x: base64.encodebytes(x), ("base64",), "post"),
    (lambda x: base64.b64encode(deflate(x)), ("base64", "inflate"), "redirect"),
    (lambda x: quote(base64.b64encode(deflate(x)).decode(), safe="").encode(), ("url-decode", "base64", "inflate"),
     "redirect"),
])
def test_saml_message_in_any_encoding(tmp_path, idp, encode, layers, binding):
    xml = idp.signed_response()
    evidence = load_evidence([write(tmp_path, "resp.txt", encode(xml))])
    loaded = only_input(evidence)
    (message,) = evidence.messages
    assert loaded.kind is InputKind.SAML_MESSAGE and "Response" in loaded.detail
    assert message.kind is MessageKind.RESPONSE and message.raw_xml.rstrip() == xml
    assert message.encoding_layers == layers and message.binding == binding
    assert message.source == str(tmp_path / "resp.txt")


def test_url_text_file_gives_redirect_message_with_signature(tmp_path, idp):
    key = cached_key("rsa", 2048, "sp-redirect-signing")
    url = f"https://idp.example.test/sso?{redirect_query('SAMLRequest', idp.authn_request(id='_r1'), 'rs', key=key)}"
    evidence = load_evidence([write(tmp_path, "url.txt", f"copied from the address bar:\n{url}\n")])
    (message,) = evidence.messages
    assert message.kind is MessageKind.AUTHN_REQUEST and message.id == "_r1" and message.binding == "redirect"
    assert message.relay_state == "rs" and message.redirect_signature.signed_query.startswith("SAMLRequest=")


def test_form_body_file_gives_post_message(tmp_path, idp):
    xml = idp.signed_response()
    evidence = load_evidence([write(tmp_path, "body.txt", post_body("SAMLResponse", xml, "relay"))])
    (message,) = evidence.messages
    assert message.raw_xml == xml and message.binding == "post" and message.relay_state == "relay"


def test_metadata_and_certificates(tmp_path, idp):
    pem = idp.cert_pem
    evidence = load_evidence([
        write(tmp_path, "md.xml", idp.metadata()),
        write(tmp_path, "idp.pem", pem),
        write(tmp_path, "idp.der", idp.cert_der),
        write(tmp_path, "idp.b64", idp.cert_b64),
    ])
    assert [i.kind for i in evidence.inputs] == [InputKind.METADATA] + [InputKind.CERTIFICATE] * 3
    assert evidence.metadata[0].entities[0].entity_id == idp.entity_id
    assert idp.entity_id in evidence.inputs[0].detail
    assert {c.sha256 for c in evidence.certificates} == {hashlib.sha256(idp.cert_der).hexdigest().upper()}
    assert len(evidence.certificates) == 3


def test_har_and_saml_tracer_are_detected_and_message_indexes_rebased(tmp_path, idp):
    first = HarBuilder()
    first.add("POST", ACS, body=post_body("SAMLResponse", idp.signed_response(response_id="_one")))
    second = HarBuilder(shape="firefox")
    second.add("POST", ACS, body=post_body("SAMLResponse", idp.signed_response(response_id="_two")))
    tracer = {"requests": [tracer_request("POST", ACS, post={
        "SAMLResponse": base64.b64encode(idp.signed_response(response_id="_three")).decode()})]}
    evidence = load_evidence([write(tmp_path, "a.har", first.bytes()), write(tmp_path, "b.har", second.bytes()),
                              write(tmp_path, "t.json", json.dumps(tracer))])
    assert [i.kind for i in evidence.inputs] == [InputKind.HAR, InputKind.HAR, InputKind.SAML_TRACER]
    assert evidence.inputs[0].detail == "HAR: 1 request, 1 SAML message (Response)"
    assert [m.id for m in evidence.messages] == ["_one", "_two", "_three"]
    # each flow's hop points at its own message in the merged Evidence.messages
    assert [evidence.messages[f.hops[0].message_index].id for f in evidence.flows] == ["_one", "_two", "_three"]
    assert evidence.urls == (ACS,)


@pytest.mark.parametrize("name, content, expected", [
    ("page.html", "<!DOCTYPE html><html><head><script>x()</script></head><body><h1>Error</h1>"
                  "<p>Invalid requester</p></body></html>", "Error Invalid requester"),
    ("page.xhtml", '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>We are sorry...'
                   '</body></html>', "We are sorry..."),
    ("error.txt", "Sorry, but we're having trouble signing you in.\nAADSTS50011: The reply URL specified in the "
                  "request does not match", "Sorry, but we're having trouble signing you in. AADSTS50011: The reply "
                                            "URL specified in the request does not match"),
])
def test_error_pages(tmp_path, name, content, expected):
    evidence = load_evidence([write(tmp_path, name, content)])
    assert only_input(evidence).kind is InputKind.ERROR_PAGE
    (page,) = evidence.error_pages
    assert page.text == expected and page.source == str(tmp_path / name)


def test_saved_idp_page_with_a_saml_form_is_a_message(tmp_path, idp):
    xml = idp.signed_response()
    evidence = load_evidence([write(tmp_path, "idp.html", auto_submit_page(ACS, xml, "a&b"))])
    assert only_input(evidence).kind is InputKind.SAML_MESSAGE
    (message,) = evidence.messages
    assert message.raw_xml == xml and message.relay_state == "a&b" and message.binding == "post"


def test_stdin(idp):
    xml = idp.signed_response()
    evidence = load_evidence(["-"], stdin=io.BytesIO(base64.b64encode(xml)))
    assert only_input(evidence).source == "stdin" and evidence.messages[0].raw_xml == xml


@pytest.mark.parametrize("content, reason", [
    ("just some notes about the login", NOT_RECOGNISED),
    ("", "file is empty"),
    ('{"hello": "world"}', "JSON that is neither a HAR (log.entries) nor a SAML-tracer export (requests)"),
    ("<root/>", "XML root element <root> is not a SAML message or metadata"),
    ("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
     "not an X.509 certificate: found a PEM 'PRIVATE KEY' block, not a CERTIFICATE"),
])
def test_unrecognised_inputs_are_one_line_errors(tmp_path, content, reason):
    path = write(tmp_path, "in.txt", content)
    (loaded,) = load_evidence([path]).inputs
    assert loaded.kind is None and loaded.error == f"{path}: {reason}"


def test_missing_file_and_directory(tmp_path):
    inputs = load_evidence([str(tmp_path / "nope.har"), str(tmp_path)]).inputs
    assert [i.error for i in inputs] == [f"{tmp_path / 'nope.har'}: no such file", f"{tmp_path}: is a directory, not a file"]


def test_file_over_the_limit_is_refused_without_reading(tmp_path):
    path = tmp_path / "huge.har"
    with open(path, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written, and reading it would take 64 MB
    (loaded,) = load_evidence([str(path)]).inputs
    assert "over the" in loaded.error and "byte limit" in loaded.error


def test_inputs_are_never_modified(tmp_path, idp):
    har = HarBuilder()
    har.add("POST", ACS, body=post_body("SAMLResponse", idp.signed_response()))
    paths = [write(tmp_path, "a.har", har.bytes()), write(tmp_path, "r.xml", idp.signed_response())]
    os.chmod(paths[0], 0o444)
    before = [(Path(p).read_bytes(), os.stat(p).st_mtime_ns) for p in paths]
    load_evidence(paths)
    assert [(Path(p).read_bytes(), os.stat(p).st_mtime_ns) for p in paths] == before


def test_private_key_file_is_not_taken_for_a_certificate(tmp_path):
    key = cached_key("rsa", 2048, "default").private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (loaded,) = load_evidence([write(tmp_path, "k.pem", key)]).inputs
    assert loaded.kind is None and loaded.error.endswith("found a PEM 'PRIVATE KEY' block, not a CERTIFICATE")
