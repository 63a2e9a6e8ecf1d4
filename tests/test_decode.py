"""Encoding layers of SAML values and the binding parameters of URLs and form bodies."""
from __future__ import annotations

import base64
import tracemalloc
import zlib
from urllib.parse import quote, quote_plus

import pytest

from ssodiag.diag.decode import decode_saml_value, parse_saml_params, saml_params_from_pairs
from ssodiag.diag.errors import InputError
from ssodiag.diag.limits import MAX_BASE64_CHARS, MAX_INFLATED_BYTES
from tests.harbuild import deflate

XML = (b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_abc" Version="2.0" '
       b'AssertionConsumerServiceURL="https://acme.atlan.com/auth/realms/default/broker/okta/endpoint"/>')


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def xml_whose_base64_has_plus() -> bytes:
    """An XML document whose base64 contains "+" (the character URL/form decoding can corrupt)."""
    for n in range(1000):
        candidate = XML.replace(b"_abc", f"_id{n}~>".encode())
        if "+" in b64(candidate) and "+" not in b64(candidate)[-4:]:  # a trailing space would be stripped
            return candidate
    raise AssertionError("no candidate")


# --------------------------------------------------------------------------- layers


@pytest.mark.parametrize("value, layers", [
    (XML, ()),
    (XML.decode(), ()),
    (b"\xef\xbb\xbf\n  " + XML, ()),
    (b64(XML), ("base64",)),
    ("\n".join(b64(XML)[i:i + 76] for i in range(0, len(b64(XML)), 76)), ("base64",)),  # MIME line breaks
    (base64.urlsafe_b64encode(XML).decode().rstrip("="), ("base64",)),  # URL-safe alphabet, no padding
    (b64(deflate(XML)), ("base64", "inflate")),  # Redirect binding, raw DEFLATE
    (b64(zlib.compress(XML)), ("base64", "inflate")),  # zlib-wrapped, as some SPs send
    (quote(b64(deflate(XML)), safe=""), ("url-decode", "base64", "inflate")),
    (quote(quote(b64(deflate(XML)), safe=""), safe=""), ("url-decode", "url-decode", "base64", "inflate")),
    (quote(XML.decode(), safe=""), ("url-decode",)),
    (deflate(XML), ("inflate",)),  # DEFLATE bytes with no base64
])
def test_layers_are_removed_and_named_in_order(value, layers):
    xml, removed = decode_saml_value(value, "v")
    assert xml == XML and removed == layers


def test_plus_is_base64_alphabet_not_a_space():
    doc = xml_whose_base64_has_plus()
    encoded = b64(doc)
    assert decode_saml_value(encoded, "v")[0] == doc  # raw "+" left alone
    assert decode_saml_value(quote(encoded, safe=""), "v")[0] == doc  # "%2B"
    # an encoder that escaped "=" and "/" but left "+" raw: still the alphabet's "+" after URL-decoding
    partly = quote(encoded, safe="+")
    assert "+" in partly and "%" in partly
    assert decode_saml_value(partly, "v") == (doc, ("url-decode", "base64"))
    # a form decoder (Java's URLDecoder, PHP's urldecode) already turned "+" into spaces
    assert decode_saml_value(encoded.replace("+", " "), "v")[0] == doc
    # the URL-safe alphabet ("-" for "+", "_" for "/"), padding dropped
    urlsafe = base64.urlsafe_b64encode(doc).decode().rstrip("=")
    assert "-" in urlsafe and decode_saml_value(urlsafe, "v")[0] == doc


def test_plus_is_a_space_in_form_encoded_raw_xml():
    xml, layers = decode_saml_value(quote_plus(XML.decode()), "v")
    assert xml == XML and layers == ("url-decode",)


def test_deflate_bomb_is_refused_within_bounded_memory():
    bomb = b64(deflate(b"\0" * (MAX_INFLATED_BYTES * 16)))
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"inflated data exceeds \d+ bytes \(deflate bomb\?\)"):
            decode_saml_value(bomb, "bomb.txt")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_INFLATED_BYTES  # the time it takes: bench/bench_bounds.py


def test_oversized_base64_is_refused_before_decoding():
    value = "A" * (MAX_BASE64_CHARS + 4)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="over the .*-character limit"):
            decode_saml_value(value, "big.b64")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MAX_BASE64_CHARS // 100  # refused before any decoding buffer was allocated


@pytest.mark.parametrize("value, reason", [
    ("this is not saml", "decodes to neither XML nor DEFLATE"),
    ("PHNhbWw6QXNzZXJ0aW9u!!", "not base64: unexpected character '!'"),
    ("PHNh=bWw6", "padding '=' inside the value"),
    ("PHNhb", "truncated value"),
    (b64(deflate(XML))[:40], "neither XML nor DEFLATE"),  # cut mid-stream
    (b64(deflate(b"hello, not xml")), "inflated data is not XML"),
    (b"\x80\x81\x82binary", "not valid DEFLATE data"),
    ("%2525252541", "still URL-encoded after 3 rounds"),
])
def test_not_saml_is_a_one_line_input_error_naming_the_source(value, reason):
    with pytest.raises(InputError) as info:
        decode_saml_value(value, "paste.txt")
    message = str(info.value)
    assert reason in message and message.startswith("paste.txt: ") and "\n" not in message


# --------------------------------------------------------------------------- binding parameters


def test_redirect_url_signed_query_is_the_octets_as_they_appeared():
    # lower-case %2b and parameter order SigAlg-before-RelayState as some SPs write them: the signed string is
    # rebuilt in the spec's order (bindings §3.4.4.1) from the values exactly as they appeared.
    request = quote(b64(deflate(XML)), safe="").replace("%2B", "%2b")
    url = (f"https://idp.example.test/sso?SAMLRequest={request}&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2F"
           f"xmldsig-more%23rsa-sha256&RelayState=a%20b%2Bc&Signature=c2ln%2Bbg%3D%3D#frag")
    params = parse_saml_params(url)
    assert params.saml_request == request and params.relay_state == "a b+c"
    sig = params.redirect_signature
    assert sig.signed_query == (f"SAMLRequest={request}&RelayState=a%20b%2Bc&SigAlg=http%3A%2F%2Fwww.w3.org"
                                "%2F2001%2F04%2Fxmldsig-more%23rsa-sha256")
    assert sig.signature == "c2ln+bg==" and sig.sig_alg.endswith("#rsa-sha256")
    assert decode_saml_value(params.saml_request, "u")[0] == XML


def test_signed_query_without_relay_state_omits_it():
    params = parse_saml_params("https://i.test/s?SAMLResponse=abc&SigAlg=x&Signature=y")
    assert params.redirect_signature.signed_query == "SAMLResponse=abc&SigAlg=x"


def test_unsigned_url_has_no_redirect_signature():
    assert parse_saml_params("https://i.test/s?SAMLRequest=abc&RelayState=r").redirect_signature is None


@pytest.mark.parametrize("text", [
    "SAMLResponse=PHNhbWw%2B&RelayState=https%3A%2F%2Facme.atlan.com%2Fhome+page",  # form body
    "  2026-11-28 10:00:01 INFO POST body: SAMLResponse=PHNhbWw%2B&RelayState=https%3A%2F%2Facme.atlan.com"
    "%2Fhome+page  ",
])
def test_form_body_relay_state_decodes_plus_as_space(text):
    params = parse_saml_params(text.strip().split("POST body: ")[-1])
    assert params.saml_response == "PHNhbWw%2B" and params.relay_state == "https://acme.atlan.com/home page"
    assert params.redirect_signature is None


def test_url_inside_a_log_line_is_found():
    line = 'GET "https://idp.test/sso?x=1&SAMLRequest=abc%3D&RelayState=r" 302 - referer "https://acme.atlan.com/"'
    params = parse_saml_params(line)
    assert params.saml_request == "abc%3D" and params.relay_state == "r"


def test_form_body_wrapped_over_lines():
    body = "SAMLResponse=" + "\n".join([b64(XML)[:60], b64(XML)[60:]])
    assert decode_saml_value(parse_saml_params(body).saml_response, "b")[0] == XML


@pytest.mark.parametrize("text", ["https://acme.atlan.com/home?tab=1", "just text", "a=b&c=d", ""])
def test_no_saml_parameters_is_none(text):
    assert parse_saml_params(text) is None


def test_decoded_pairs_are_taken_as_they_are():
    params = saml_params_from_pairs([("SAMLResponse", "PHN+"), ("RelayState", "a+b%20")], encoded=False)
    assert params.saml_response == "PHN+" and params.relay_state == "a+b%20"
