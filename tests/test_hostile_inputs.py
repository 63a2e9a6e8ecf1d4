"""Hostile evidence through load_evidence: each one is a one-line error (or loads), within 2 s and 200 MB.

The time and memory figures are bounds that catch a hang or an unbounded allocation (an entity expansion, a
deflate bomb, a whole 50 MB blob decoded), not benchmarks. Memory is Python's allocations (tracemalloc).
"""
from __future__ import annotations

import base64
import json
import random
import time
import tracemalloc
from pathlib import Path

import pytest

from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.har import MAX_MESSAGES
from ssodiag.diag.model import InputKind
from tests.harbuild import HarBuilder, deflate, post_body
from tests.idp import TestIdP

TIME_LIMIT_S = 2.0
MEMORY_LIMIT = 200 * 1024 * 1024
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
ACS = "https://acme.atlan.com/auth/realms/default/broker/okta/endpoint"


def bounded_load(paths: list[str]):
    """load_evidence under the time and memory bounds; returns the Evidence.

    Timed on its own, then run again under tracemalloc for the peak (tracemalloc slows allocation-heavy code
    such as json.loads several-fold, which would blur the time bound).
    """
    started = time.perf_counter()
    evidence = load_evidence(paths)
    elapsed = time.perf_counter() - started
    assert elapsed < TIME_LIMIT_S, f"took {elapsed:.2f} s"
    tracemalloc.start()
    try:
        load_evidence(paths)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"peak {peak / 2**20:.0f} MB"
    return evidence


def one_error(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    (loaded,) = bounded_load([str(path)]).inputs
    assert loaded.kind is None and loaded.error is not None
    assert "\n" not in loaded.error and loaded.error.startswith(f"{path}: ")
    return loaded.error


def response_with(doctype: str, body: str = "") -> bytes:
    return f'<?xml version="1.0"?>\n{doctype}\n<samlp:Response xmlns:samlp="{SAMLP}" ID="_x">{body}</samlp:Response>'.encode()


BILLION_LAUGHS = "<!DOCTYPE r [<!ENTITY a \"lol\">" + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>"


HOSTILE_FILES = [
    ("xxe-file.xml", response_with('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"), "DOCTYPE"),
    ("xxe-net.xml", response_with('<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', "&x;"), "DOCTYPE"),
    ("xxe-param.xml", response_with('<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'), "DOCTYPE"),
    ("laughs.xml", response_with(BILLION_LAUGHS, "&j;"), "DOCTYPE"),
    ("quadratic.xml", response_with(f'<!DOCTYPE r [<!ENTITY q "{"x" * 100_000}">]>', "&q;" * 10_000), "DOCTYPE"),
    ("dtd.xml", response_with('<!DOCTYPE samlp:Response SYSTEM "saml.dtd">'), "DOCTYPE"),
    ("xxe-utf16.xml", response_with('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;")
     .decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"), "DOCTYPE"),
    ("xxe.b64", base64.b64encode(response_with('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;")),
     "DOCTYPE"),
    ("truncated.xml", f'<samlp:Response xmlns:samlp="{SAMLP}" ID="_x"><saml:Iss'.encode(), "malformed XML"),
    ("wrong-root.xml", b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>',
     "<Envelope> is not a SAML message or metadata"),
    ("junk.bin", random.Random(7).randbytes(1_000_000), "binary data"),
    ("not-har.json", json.dumps({"name": "x", "entries": [1, 2]}).encode(), "neither a HAR"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("broken.json", b'{"log": {"entries": [', "invalid JSON"),
]


@pytest.mark.parametrize("name, data, reason", HOSTILE_FILES, ids=[case[0] for case in HOSTILE_FILES])
def test_hostile_input_is_a_one_line_error(tmp_path, name, data, reason):
    error = one_error(tmp_path, name, data)
    assert reason in error
    assert "root:" not in error  # nothing of /etc/passwd was read


def test_deflate_bomb(tmp_path):
    bomb = base64.b64encode(deflate(b"\0" * (200 * 1024 * 1024)))  # 200 MB inflated, ~270 KB on disk
    assert "deflate bomb" in one_error(tmp_path, "bomb.txt", bomb)


def test_fifty_megabytes_of_base64(tmp_path):
    blob = base64.encodebytes(random.Random(3).randbytes(37 * 1024 * 1024))  # ~50 MB of base64 lines
    assert "too long for a SAML message" in one_error(tmp_path, "big.b64", blob)


def test_har_with_a_bad_base64_saml_response_still_loads(tmp_path):
    har = HarBuilder()
    har.add("POST", ACS, body="SAMLResponse=PHNhbWxwOlJlc3BvbnNl!!!&RelayState=r", status=400,
            html="<html><body>Invalid response from identity provider.</body></html>")
    path = tmp_path / "bad.har"
    path.write_bytes(har.bytes())
    evidence = bounded_load([str(path)])
    (loaded,) = evidence.inputs
    assert loaded.kind is InputKind.HAR and loaded.error is None
    assert "not decoded:" in loaded.detail and "not base64" in loaded.detail and "\n" not in loaded.detail
    assert evidence.messages == () and len(evidence.error_pages) == 1  # the rest of the HAR is still read


def test_har_with_a_deflate_bomb_in_a_redirect(tmp_path):
    bomb = base64.b64encode(deflate(b"<" * (100 * 1024 * 1024))).decode()
    har = HarBuilder()
    har.add("GET", f"https://idp.test/sso?SAMLRequest={bomb}")
    path = tmp_path / "bomb.har"
    path.write_bytes(har.bytes())
    (loaded,) = bounded_load([str(path)]).inputs
    assert loaded.kind is InputKind.HAR and "deflate bomb" in loaded.detail


def test_har_with_wrong_types_everywhere(tmp_path):
    entries = [1, "x", None, {"request": "no"}, {"request": {"url": 5}},
               {"request": {"url": "https://a.test/", "method": 7, "postData": {"params": "x", "text": 9}},
                "response": {"status": "200", "headers": {"Location": 1}, "content": {"text": 5}},
                "startedDateTime": "yesterday", "_resourceType": ["document"]}]
    path = tmp_path / "odd.har"
    path.write_text(json.dumps({"log": {"entries": entries}}))
    evidence = bounded_load([str(path)])
    assert evidence.inputs[0].kind is InputKind.HAR and evidence.urls == ("https://a.test/",)


def test_ten_thousand_entry_har_loads(tmp_path):
    idp = TestIdP()
    har = HarBuilder()
    for i in range(10_000):
        har.add("GET", f"https://cdn.example.test/asset/{i}.js", resource_type="script", seconds=i / 100)
    har.add("POST", ACS, body=post_body("SAMLResponse", idp.signed_response(in_response_to=None)), seconds=101)
    path = tmp_path / "big.har"
    path.write_bytes(har.bytes())
    evidence = bounded_load([str(path)])
    assert evidence.inputs[0].detail.startswith("HAR: 10001 requests, 1 SAML message")
    assert [h.index for h in evidence.flows[0].hops] == [10_000]
    assert len(evidence.urls) == 1000  # bounded


def test_one_bad_file_does_not_stop_the_good_one(tmp_path):
    idp = TestIdP()
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(idp.signed_response())
    bad.write_bytes(response_with('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"))
    evidence = bounded_load([str(bad), str(good)])
    assert [i.error is None for i in evidence.inputs] == [False, True]
    assert len(evidence.messages) == 1 and evidence.messages[0].source == str(good)


def test_har_with_too_many_saml_messages_is_capped(tmp_path):
    idp = TestIdP()
    har = HarBuilder()
    for i in range(MAX_MESSAGES + 20):
        har.add("POST", ACS, body=post_body("SAMLResponse", idp.response(response_id=f"_r{i}")), resource_type="xhr")
    path = tmp_path / "many.har"
    path.write_bytes(har.bytes())
    evidence = bounded_load([str(path)])
    assert len(evidence.messages) == MAX_MESSAGES
    assert f"over {MAX_MESSAGES} SAML messages, the rest are not read" in evidence.inputs[0].detail
