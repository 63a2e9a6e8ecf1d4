"""Hostile and oversized inputs, built on demand: shared by the tests (which assert the outcome: a one-line error,
a cap hit, a bounded output) and bench/bench_bounds.py (which measures how long each takes).

Nothing here is committed as a blob: a 200 MB deflate bomb is ~270 KB once built, and built in well under a second.
"""
from __future__ import annotations

import base64
import gzip
import json
import random
from urllib.parse import quote_plus

from ssodiag.diag.har import MAX_MESSAGES
from tests.harbuild import HarBuilder, deflate, post_body
from tests.idp import TestIdP

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
ACS = "https://acme.atlan.com/auth/realms/default/broker/okta/endpoint"


def response_with(doctype: str, body: str = "") -> bytes:
    return (f'<?xml version="1.0"?>\n{doctype}\n<samlp:Response xmlns:samlp="{SAMLP}" ID="_x">{body}'
            f'</samlp:Response>').encode()


BILLION_LAUGHS = "<!DOCTYPE r [<!ENTITY a \"lol\">" + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>"
XXE_FILE = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'

# (file name, content, text the one-line error must contain)
HOSTILE_FILES = [
    ("xxe-file.xml", response_with(XXE_FILE, "&x;"), "DOCTYPE"),
    ("xxe-net.xml", response_with('<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', "&x;"), "DOCTYPE"),
    ("xxe-param.xml", response_with('<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'), "DOCTYPE"),
    ("laughs.xml", response_with(BILLION_LAUGHS, "&j;"), "DOCTYPE"),
    ("quadratic.xml", response_with(f'<!DOCTYPE r [<!ENTITY q "{"x" * 100_000}">]>', "&q;" * 10_000), "DOCTYPE"),
    ("dtd.xml", response_with('<!DOCTYPE samlp:Response SYSTEM "saml.dtd">'), "DOCTYPE"),
    ("xxe-utf16.xml", response_with(XXE_FILE, "&x;")
     .decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"), "DOCTYPE"),
    ("xxe.b64", base64.b64encode(response_with(XXE_FILE, "&x;")), "DOCTYPE"),
    ("truncated.xml", f'<samlp:Response xmlns:samlp="{SAMLP}" ID="_x"><saml:Iss'.encode(), "malformed XML"),
    ("wrong-root.xml", b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>',
     "<Envelope> is not a SAML message or metadata"),
    ("junk.bin", random.Random(7).randbytes(1_000_000), "binary data"),
    ("not-har.json", json.dumps({"name": "x", "entries": [1, 2]}).encode(), "neither a HAR"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("broken.json", b'{"log": {"entries": [', "invalid JSON"),
]


def deflate_bomb_file() -> bytes:
    """200 MB inflated, ~270 KB on disk."""
    return base64.b64encode(deflate(b"\0" * (200 * 1024 * 1024)))


def base64_flood_file() -> bytes:
    """~50 MB of base64 lines."""
    return base64.encodebytes(random.Random(3).randbytes(37 * 1024 * 1024))


def redirect_bomb_har() -> bytes:
    """A HAR whose Redirect-binding SAMLRequest inflates to 100 MB."""
    bomb = base64.b64encode(deflate(b"<" * (100 * 1024 * 1024))).decode()
    har = HarBuilder()
    har.add("GET", f"https://idp.test/sso?SAMLRequest={bomb}")
    return har.bytes()


def ten_thousand_entry_har(idp: TestIdP) -> bytes:
    """10,000 script requests, then the one ACS POST that matters."""
    har = HarBuilder()
    for i in range(10_000):
        har.add("GET", f"https://cdn.example.test/asset/{i}.js", resource_type="script", seconds=i / 100)
    har.add("POST", ACS, body=post_body("SAMLResponse", idp.signed_response(in_response_to=None)), seconds=101)
    return har.bytes()


def too_many_messages_har(idp: TestIdP) -> bytes:
    """20 more SAML Responses than the reader keeps."""
    har = HarBuilder()
    for i in range(MAX_MESSAGES + 20):
        har.add("POST", ACS, body=post_body("SAMLResponse", idp.response(response_id=f"_r{i}")), resource_type="xhr")
    return har.bytes()


def har_with_page_body(body: bytes) -> bytes:
    """A Firefox-shaped HAR (bodies `encoding: base64`) whose error page body is ``body`` as stored."""
    har = HarBuilder(shape="firefox")
    har.add("GET", ACS, status=400, html="placeholder")
    doc = har.har()
    doc["log"]["entries"][0]["response"]["content"]["text"] = base64.b64encode(body).decode()
    return json.dumps(doc).encode()


def gzip_bomb_page_har() -> bytes:
    """An error page body stored gzip-compressed: 50 MB once inflated."""
    return har_with_page_body(gzip.compress(b"A" * (50 * 1024 * 1024)))


MINIMAL_RESPONSE = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                    'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r{i}" Version="2.0">'
                    '<saml:Issuer>x</saml:Issuer>{body}</samlp:Response>')
_CONFIRMATION = ('<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
                 f'<saml:SubjectConfirmationData Recipient="{ACS}"/></saml:SubjectConfirmation>')

_FLOODED_ASSERTION = '<saml:Assertion ID="_a" Version="2.0">{}</saml:Assertion>'

# Responses repeating one element thousands of times: (name, Response XML, text the one-line error must contain)
ELEMENT_FLOODS = [
    ("assertions", MINIMAL_RESPONSE.format(i=0, body=_FLOODED_ASSERTION.format("<saml:Issuer>x</saml:Issuer>") * 15000),
     "15000 assertions"),
    ("confirmations", MINIMAL_RESPONSE.format(
        i=0, body=_FLOODED_ASSERTION.format(f"<saml:Subject>{_CONFIRMATION * 40000}</saml:Subject>")),
     "40000 SubjectConfirmations"),
    ("authn-statements", MINIMAL_RESPONSE.format(
        i=0, body=_FLOODED_ASSERTION.format('<saml:AuthnStatement AuthnInstant="2026-11-28T10:00:00Z"/>' * 100000)),
     "100000 AuthnStatements"),
]


def many_messages_har(count: int = 600) -> bytes:
    """``count`` unsigned Responses to the ACS, each with the same problems."""
    har = HarBuilder()
    assertion = '<saml:Assertion ID="_a{i}" Version="2.0"><saml:Issuer>x</saml:Issuer></saml:Assertion>'
    for i in range(count):
        xml = MINIMAL_RESPONSE.format(i=i, body=assertion.format(i=i)).encode()
        har.add("POST", ACS, body=post_body("SAMLResponse", xml, "rs"))
    return har.bytes()


def long_dotted_value(pairs: int = 1_000_000) -> str:
    """`a.a.a.…` then an e-mail address: quadratic in a naive e-mail pattern."""
    return "a." * pairs + " josé@corp.example"


def remembered_values(count: int = 30_000) -> tuple[list[str], list[str]]:
    """(NameIDs a report holds, finding texts that quote every sixth of them): a HAR of 500 logins."""
    values = [f"opaque-user-{i:05d}" for i in range(count)]
    texts = [f"NameID `{values[i]}` of assertion `_a{i}` is not an e-mail address." for i in range(0, count, 6)]
    return values, texts


# --------------------------------------------------------------------------- amplification (one run's total work)


def inflating_redirects_har(count: int = 500) -> bytes:
    """Redirect-binding AuthnRequests, each inflating to just under the per-message cap: small on disk, gigabytes
    once every one is inflated and kept."""
    from ssodiag.diag.limits import MAX_INFLATED_BYTES
    xml = (f'<samlp:AuthnRequest xmlns:samlp="{SAMLP}" ID="_q" Version="2.0"><!--'
           + " " * (MAX_INFLATED_BYTES - 1024) + "--></samlp:AuthnRequest>").encode()
    value = quote_plus(base64.b64encode(deflate(xml)).decode())
    har = HarBuilder()
    for _ in range(count):
        har.add("GET", f"https://idp.test/sso?SAMLRequest={value}", resource_type="document")
    return har.bytes()


def nested_signatures_har(idp: TestIdP, count: int = 40) -> bytes:
    """Responses whose Assertion nests ds:Signature copies inside ds:Object inside ds:Signature, many levels deep:
    each copy a candidate for verification, with several KeyInfo certificates."""
    signed = idp.signed_response().decode()
    start = signed.index("<ds:Signature")
    signature = signed[start:signed.index("</ds:Signature>") + len("</ds:Signature>")]
    nested = signature
    for _ in range(8):
        nested = signature.replace("</ds:Signature>", f"<ds:Object>{nested}</ds:Object></ds:Signature>")
    flooded = signed.replace(signature, nested)
    har = HarBuilder()
    for _ in range(count):
        har.add("POST", ACS, body=post_body("SAMLResponse", flooded.encode(), "rs"), resource_type="xhr")
    return har.bytes()


def empty_entries_har(megabytes: int = 63) -> bytes:
    """Nothing but empty entries: cheap to write, costly to hold as Python objects."""
    count = megabytes * 1024 * 1024 // 3
    return b'{"log": {"entries": [' + b",".join([b"{}"] * count) + b"]}}"


def escaped_key_entries_har(megabytes: int = 63) -> bytes:
    """Tiny entries whose "request" key is written with an escape ("re\\u0071uest"): any JSON parser reads the key,
    a byte search for it finds none."""
    entry = rb'{"re\u0071uest":{}}'
    return b'{"log": {"entries": [' + b",".join([entry] * (megabytes * 1024 * 1024 // (len(entry) + 1))) + b"]}}"


def text_flood(megabytes: int = 60) -> bytes:
    """Prose-like text with no SAML in it, the size of a large log file."""
    words = random.Random(5).choices(["login", "failed", "user", "the", "request", "token", "session", "error"],
                                     k=megabytes * 1024 * 1024 // 6)
    return " ".join(words).encode()[: megabytes * 1024 * 1024]
