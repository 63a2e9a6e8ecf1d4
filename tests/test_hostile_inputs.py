"""Hostile evidence through load_evidence: each one is a one-line error (or loads), within 200 MB of memory.

Memory is Python's allocations (tracemalloc): the bound catches an unbounded allocation (an entity expansion, a
deflate bomb, a whole 50 MB blob decoded). How long each takes is measured in bench/bench_bounds.py, not asserted
here: a wall-clock bound flakes on a shared 2-core machine.
"""
from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.har import MAX_MESSAGES
from ssodiag.diag.model import InputKind
from tests.harbuild import HarBuilder
from tests.hostile import (
    ACS, HOSTILE_FILES, XXE_FILE, base64_flood_file, deflate_bomb_file, redirect_bomb_har, response_with,
    ten_thousand_entry_har, too_many_messages_har,
)
from tests.idp import TestIdP

MEMORY_LIMIT = 200 * 1024 * 1024


def bounded_load(paths: list[str]):
    """load_evidence under the memory bound; returns the Evidence."""
    tracemalloc.start()
    try:
        evidence = load_evidence(paths)
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


@pytest.mark.parametrize("name, data, reason", HOSTILE_FILES, ids=[case[0] for case in HOSTILE_FILES])
def test_hostile_input_is_a_one_line_error(tmp_path, name, data, reason):
    error = one_error(tmp_path, name, data)
    assert reason in error
    assert "root:" not in error  # nothing of /etc/passwd was read


def test_deflate_bomb(tmp_path):
    assert "deflate bomb" in one_error(tmp_path, "bomb.txt", deflate_bomb_file())


def test_fifty_megabytes_of_base64(tmp_path):
    assert "too long for a SAML message" in one_error(tmp_path, "big.b64", base64_flood_file())


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
    path = tmp_path / "bomb.har"
    path.write_bytes(redirect_bomb_har())
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
    path = tmp_path / "big.har"
    path.write_bytes(ten_thousand_entry_har(TestIdP()))
    evidence = bounded_load([str(path)])
    assert evidence.inputs[0].detail.startswith("HAR: 10001 requests, 1 SAML message")
    assert [h.index for h in evidence.flows[0].hops] == [10_001]  # numbered from 1
    assert len(evidence.urls) == 1000  # bounded


def test_one_bad_file_does_not_stop_the_good_one(tmp_path):
    idp = TestIdP()
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(idp.signed_response())
    bad.write_bytes(response_with(XXE_FILE, "&x;"))
    evidence = bounded_load([str(bad), str(good)])
    assert [i.error is None for i in evidence.inputs] == [False, True]
    assert len(evidence.messages) == 1 and evidence.messages[0].source == str(good)


def test_har_with_too_many_saml_messages_is_capped(tmp_path):
    path = tmp_path / "many.har"
    path.write_bytes(too_many_messages_har(TestIdP()))
    evidence = bounded_load([str(path)])
    assert len(evidence.messages) == MAX_MESSAGES
    assert f"over {MAX_MESSAGES} SAML messages, the rest are not read" in evidence.inputs[0].detail
