"""Captures are read without holding them as Python objects: a customer-sized HAR or SAML-tracer export loads within
a memory bound, entries that are not HAR entries are skipped by name, the entry bound is one clear line, standard
input is read like a file, no SAML carrier is lost to the streamed reading, and a HAR read from its memory map means
exactly what the streamed reading of it means."""
from __future__ import annotations

import base64
import io
import json
import resource
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from lxml import etree

from ssodiag.diag import capture_stream
from ssodiag.diag.capture_stream import _LoneSurrogatesReplaced, har_entries, mapped_har_entries

from ssodiag.diag import evidence as evidence_module
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.har import read_har, replace_lone_surrogates
from ssodiag.diag.limits import MAX_FILE_BYTES, MAX_HAR_ENTRIES
from ssodiag.diag.model import InputKind, MessageKind
from ssodiag.diag.tracer import read_saml_tracer
from tests.harbuild import (
    START, HarBuilder, auto_submit_page, post_body, redirect_query, tracer_request, write_session_har,
)
from tests.idp import ACS_URL, TestIdP

IDP = TestIdP()
MEMORY_BOUND_BYTES = 400 * 1024 * 1024  # the bound for any input, a whole `ssodiag analyze` process


def _session_har(path, target_bytes: int) -> None:
    """A "Preserve log" session: script bodies around one login."""
    har = HarBuilder()
    har.add("POST", ACS_URL, body=post_body("SAMLResponse", IDP.signed_response(), "relay"))
    write_session_har(path, har.entries[0], target_bytes, body_chars=500_000)


def test_a_har_larger_than_the_whole_file_limit_loads_within_the_memory_bound(tmp_path):
    path = tmp_path / "session.har"
    _session_har(path, MAX_FILE_BYTES + 16 * 1024 * 1024)
    assert path.stat().st_size > MAX_FILE_BYTES  # what was refused before ("over the 67108864-byte limit")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-m", "ssodiag", "analyze", str(path), "--format", "json", "--fail-on",
                           "never"], capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert [m["kind"] for m in report["messages"]] == ["Response"]
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib * 1024 < MEMORY_BOUND_BYTES or before * 1024 >= MEMORY_BOUND_BYTES  # ru_maxrss: KiB on Linux


def test_entries_that_are_not_har_entries_are_skipped_and_named(tmp_path):
    har = HarBuilder()
    har.add("POST", ACS_URL, body=post_body("SAMLResponse", IDP.signed_response(), "relay"))
    doc = har.har()
    doc["log"]["entries"] = ["a string", {"comment": "no request"}, doc["log"]["entries"][0], 7]
    (tmp_path / "mixed.har").write_text(json.dumps(doc))
    evidence = load_evidence([str(tmp_path / "mixed.har")])
    [loaded] = evidence.inputs
    assert loaded.error is None and len(evidence.messages) == 1
    assert ("skipped 3 entries that are not HAR entries: entry 1 (a JSON string, not an object), entry 2 "
            "(no request.url), entry 4 (a JSON int, not an object)") in loaded.detail  # numbered from 1


def test_more_entries_than_the_bound_is_one_line_naming_it(tmp_path):
    entry = b'{"request": {"url": "https://a.example/"}, "response": {"status": 200}}'
    with open(tmp_path / "flood.har", "wb") as out:
        out.write(b'{"log": {"entries": [' + b",".join([entry] * (MAX_HAR_ENTRIES + 1)) + b"]}}")
    [loaded] = load_evidence([str(tmp_path / "flood.har")]).inputs
    assert loaded.error is not None and f"more than {MAX_HAR_ENTRIES} entries" in loaded.error
    assert "\n" not in loaded.error


def test_a_har_cut_short_is_one_line(tmp_path):
    har = HarBuilder()
    har.add("POST", ACS_URL, body=post_body("SAMLResponse", IDP.signed_response(), "relay"))
    (tmp_path / "cut.har").write_bytes(har.bytes()[:-40])
    [loaded] = load_evidence([str(tmp_path / "cut.har")]).inputs
    assert loaded.error is not None and "invalid JSON after" in loaded.error and "\n" not in loaded.error


class _Chunks(io.BytesIO):
    """A file that returns at most ``size`` bytes per read, as a pipe or a slow disk may."""

    def __init__(self, data: bytes, size: int) -> None:
        super().__init__(data)
        self.size = size

    def read(self, n: int = -1) -> bytes:
        return super().read(self.size if n < 0 else min(n, self.size))


def test_lone_surrogates_are_replaced_wherever_a_read_cuts_the_stream():
    """The streamed reader hands most chunks on untouched; wherever a read ends (inside an escape, between the two
    halves of a pair, inside an escaped backslash) the bytes must come out as load_json's rewrite of the whole."""
    text = (b'["a\\ud83d\\ude00b", "\\udc00", "\\ud800x", "\\ud800\\ud800\\udc00", "\\\\ud800", "plain",'
            b' "\\uD83D\\uDE00\\uDBFF", "\\u00e9\\ud7ff\\ue000", "line\\nfeed\\t\\"quoted\\" back\\\\slash",'
            b' "end\\udfff"]')
    whole = replace_lone_surrogates(text)
    assert whole != text  # the sample holds lone halves to rewrite
    for size in range(1, 40):
        reader = _LoneSurrogatesReplaced(_Chunks(text, size))
        out = b"".join(iter(lambda: reader.read(size), b""))
        assert out == whole, size


def test_a_chunk_is_handed_on_whole_unless_it_ends_in_a_cut_surrogate_escape():
    """Script bodies hold a backslash every few bytes: a chunk ending in one that cannot start a surrogate escape
    (\\n, \\", \\u00e9) is handed on as read, not split and copied; one ending in the start of an escape waits."""
    for tail in (b'\\"', b'\\n', b'\\nx', b'\\u00', b'\\u0', b'\\uE'):
        chunk = b"a" * 10 + tail
        reader = _LoneSurrogatesReplaced(_Chunks(chunk + b"b" * 20, len(chunk)))
        assert reader.read(len(chunk)) == chunk, tail
    for tail in (b"\\", b"\\u", b"\\ud", b"\\uD"):
        text = b"a" * 10 + tail
        reader = _LoneSurrogatesReplaced(_Chunks(text + b"800 and more", len(text)))
        assert reader.read(len(text)) == b"a" * 10, tail


# --------------------------------------------------------------------------- no carrier lost

IDP_SSO = "https://idp.example.test/sso"
KEYCLOAK_PAGE = "<html><body><span class='kc-feedback-text'>Invalid requester</span></body></html>"


def _every_carrier(shape: str, lone_surrogate: bool = True) -> HarBuilder:
    """A capture with a SAML message in each place a browser records one, and an error page of each kind, every
    one of them among script entries whose bodies hold escapes (pairs, a lone half) that cut the reader's chunks."""
    # 100 KB of script, with a lone surrogate half
    filler = ("var s = '\u00e9\U0001f600" + ("\ud800" if lone_surrogate else "") + "';") * 4000
    har = HarBuilder(shape=shape)

    def scripts():
        for _ in range(3):
            har.add("GET", "https://cdn.example.test/app.js", resource_type="script")
            har.entries[-1]["response"]["content"]["text"] = filler

    carriers = [
        # a Redirect-binding AuthnRequest in a request URL, fetched as no document
        lambda: har.add("GET", f"{IDP_SSO}?{redirect_query('SAMLRequest', IDP.authn_request(id='_in-url'))}",
                        resource_type="other"),
        # a POST-binding Response in a form body (Chrome: postData.text and params; Firefox: params only)
        lambda: har.add("POST", ACS_URL, body=post_body("SAMLResponse", IDP.signed_response(response_id="_in-body"),
                                                        "relay"), status=200, html="<html><body>ok</body></html>"),
        # a Redirect AuthnRequest only in a Location header (Firefox: no redirectURL), its request not captured
        lambda: har.add("GET", "https://sp.example.test/login", status=302,
                        location=f"{IDP_SSO}?{redirect_query('SAMLRequest', IDP.authn_request(id='_in-location'))}"),
        # an auto-submitting form in the IdP's page (Firefox: base64 body), its POST not captured
        lambda: har.add("POST", "https://idp.example.test/login", body="username=alice",
                        html=auto_submit_page(ACS_URL, IDP.signed_response(response_id="_in-page"), "relay")),
        # error pages: a failed document, a 200 page showing a known error, a failed JSON answer holding one
        lambda: har.add("GET", "https://sp.example.test/failed", status=400, html=KEYCLOAK_PAGE),
        lambda: har.add("GET", "https://sp.example.test/shown", html=KEYCLOAK_PAGE),
        lambda: har.add("GET", "https://sp.example.test/api", status=401, resource_type="xhr",
                        html='{"error": "Invalid requester"}'),
    ]
    for add in carriers:
        scripts()
        add()
    har.entries[-1]["response"]["content"]["mimeType"] = "application/json"
    scripts()
    return har


@pytest.mark.parametrize("shape", ["chrome", "firefox"])
def test_every_saml_carrier_and_error_page_is_found_by_the_streamed_reader(tmp_path, shape):
    har = _every_carrier(shape)
    (tmp_path / "session.har").write_bytes(har.bytes())
    streamed = load_evidence([str(tmp_path / "session.har")])
    assert streamed.inputs[0].error is None
    ids = sorted(m.id for m in streamed.messages)
    assert ids == ["_in-body", "_in-location", "_in-page", "_in-url"]
    assert sorted(p.status for p in streamed.error_pages) == [200, 400, 401]
    assert all("Invalid requester" in p.text for p in streamed.error_pages)
    # the same capture parsed whole means exactly the same
    whole = read_har(har.har(), str(tmp_path / "session.har"))
    assert [(m.raw_xml, m.binding, m.source) for m in streamed.messages] == [
        (m.raw_xml, m.binding, m.source) for m in whole.messages]
    assert streamed.error_pages == whole.error_pages and streamed.flows[0].hops == whole.flow.hops


# --------------------------------------------------------------------------- SAML-tracer exports


def _tracer_export(timestamp_first: bool) -> tuple[dict, bytes]:
    """An SP-initiated login as the add-on exports it: no per-request times, the export's own after them (or
    before)."""
    request_xml = IDP.authn_request(id="_req-9")
    response_xml = IDP.signed_response(in_response_to="_req-9", response_id="_resp-9")
    query = redirect_query("SAMLRequest", request_xml, "rs")
    requests = [
        tracer_request("GET", "https://sp.example.test/login", status=302, location=f"{IDP_SSO}?{query}"),
        tracer_request("GET", f"{IDP_SSO}?{query}", saml=request_xml),
        tracer_request("POST", ACS_URL, status=400, post={"SAMLResponse": base64.b64encode(response_xml).decode(),
                                                           "RelayState": "rs"}, saml=response_xml),
        "not a request",
    ]
    stamp = int(START.timestamp() * 1000)
    export = {"timestamp": stamp, "requests": requests} if timestamp_first else {"requests": requests,
                                                                                 "timestamp": stamp}
    return export, json.dumps(export).encode()


@pytest.mark.parametrize("timestamp_first", [False, True])
def test_a_streamed_saml_tracer_export_means_what_the_parsed_one_means(tmp_path, timestamp_first):
    export, data = _tracer_export(timestamp_first)
    (tmp_path / "trace.json").write_bytes(data)
    evidence = load_evidence([str(tmp_path / "trace.json")])
    [loaded] = evidence.inputs
    assert loaded.kind is InputKind.SAML_TRACER and "skipped 1 entry" in loaded.detail
    whole = read_saml_tracer(export, str(tmp_path / "trace.json"))
    assert [m.kind for m in evidence.messages] == [MessageKind.AUTHN_REQUEST, MessageKind.RESPONSE]
    assert [(m.raw_xml, m.captured_at) for m in evidence.messages] == [
        (m.raw_xml, m.captured_at) for m in whole.messages]
    assert evidence.messages[1].captured_at == START.replace(microsecond=250000)  # the export's time, read after
    assert evidence.error_pages == whole.error_pages and evidence.flows[0].hops == whole.flow.hops


def test_a_saml_tracer_export_larger_than_the_whole_file_limit_loads_within_the_memory_bound(tmp_path):
    """Form fields of uploads make an export big; it is read one request at a time, like a HAR."""
    login = tracer_request("POST", ACS_URL, post={"SAMLResponse": base64.b64encode(IDP.signed_response()).decode()})
    upload = json.dumps(tracer_request("POST", "https://app.example.test/upload", post={"file": "x" * 1_000_000}))
    path = tmp_path / "trace.json"
    with open(path, "wb") as out:
        out.write(b'{"requests": [' + json.dumps(login).encode())
        while out.tell() < MAX_FILE_BYTES + 16 * 1024 * 1024:
            out.write(b",\n" + upload.encode())
        out.write(b'], "timestamp": 1764322200000}')
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-m", "ssodiag", "analyze", str(path), "--format", "json", "--fail-on",
                           "never"], capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert [m["kind"] for m in json.loads(done.stdout)["messages"]] == ["Response"]
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib * 1024 < MEMORY_BOUND_BYTES or before * 1024 >= MEMORY_BOUND_BYTES  # ru_maxrss: KiB on Linux


def test_saml_tracer_bounds_are_one_line(tmp_path):
    request = json.dumps({"url": "https://a.example/", "method": "GET"}).encode()
    (tmp_path / "flood.json").write_bytes(b'{"requests": [' + b",".join([request] * (MAX_HAR_ENTRIES + 1)) + b"]}")
    _, data = _tracer_export(timestamp_first=False)
    (tmp_path / "cut.json").write_bytes(data[:len(data) // 2])
    flood, cut = load_evidence([str(tmp_path / "flood.json"), str(tmp_path / "cut.json")]).inputs
    assert f"SAML-tracer export has more than {MAX_HAR_ENTRIES} requests" in flood.error
    assert "invalid JSON after 2 SAML-tracer export requests" in cut.error
    assert "\n" not in flood.error + cut.error


# --------------------------------------------------------------------------- standard input


def test_stdin_is_read_as_a_file_is(monkeypatch):
    """A capture on standard input is streamed like a file (spooled to an unnamed temporary file once it is over
    the in-memory size); over the capture bound it is one line."""
    monkeypatch.setattr(evidence_module, "STDIN_IN_MEMORY_BYTES", 1024)  # the HAR below goes to disk
    har = _every_carrier("chrome")
    _, tracer = _tracer_export(timestamp_first=False)
    for data, kind, messages in ((har.bytes(), InputKind.HAR, 4), (tracer, InputKind.SAML_TRACER, 2)):
        evidence = load_evidence(["-"], stdin=io.BytesIO(data))
        assert evidence.inputs[0].kind is kind and len(evidence.messages) == messages
    monkeypatch.setattr(evidence_module, "MAX_CAPTURE_BYTES", 4096)
    [loaded] = load_evidence(["-"], stdin=io.BytesIO(har.bytes())).inputs
    assert loaded.error == "stdin: input is over the 4096-byte limit"


# --------------------------------------------------------------------------- the mapped reading

SAMPLES = sorted(Path(evidence_module.__file__).parent.joinpath("samples").glob("*/*.har"))


def _comparable(content) -> object:
    """A reading's result as plain data: parsed XML trees compare by identity, their bytes by value."""
    return msgspec.to_builtins(content, enc_hook=lambda node: etree.tostring(node))


def _readings(path: Path) -> tuple[object, object]:
    """(the mapped reading, the streamed reading) of the HAR at ``path``, as plain data; the mapped one None when it
    leaves the file to the streamed one."""
    with open(path, "rb") as fh:
        mapped = mapped_har_entries(fh)
        assert fh.tell() == 0
        streamed = read_har(har_entries(fh, str(path)), str(path))
    return (None if mapped is None else _comparable(read_har(mapped, str(path)))), _comparable(streamed)


@pytest.mark.parametrize("capture", [*SAMPLES, "chrome", "chrome-indented", "firefox"], ids=str)
def test_a_har_as_browsers_write_it_is_mapped_and_means_what_the_streamed_reading_means(tmp_path, capture):
    if isinstance(capture, Path):
        path = capture
    else:
        shape, _, indented = capture.partition("-")  # Chrome's "Export HAR" writes the file indented
        path = tmp_path / "session.har"
        path.write_text(json.dumps(_every_carrier(shape, lone_surrogate=False).har(), indent=2 if indented else None))
    mapped, streamed = _readings(path)
    assert mapped is not None, "left to the streamed reading"
    assert mapped == streamed
    assert streamed["messages"] or streamed["error_pages"]  # the comparison is over something


def _entry(doc: dict, n: int) -> dict:
    return doc["log"]["entries"][n]


@pytest.mark.parametrize("change", [
    lambda doc: _entry(doc, 1)["response"].update(status="302"),  # a number as a string
    lambda doc: _entry(doc, 1)["request"].update(url=["https://a.example/"]),
    lambda doc: _entry(doc, 1).update(_resourceType=None, startedDateTime=1764322200),
    lambda doc: _entry(doc, 1)["response"].update(content="gone"),
    lambda doc: doc["log"]["entries"].insert(1, 7),  # an entry that is no object
    lambda doc: doc["log"]["entries"].insert(1, {"comment": "no request"}),
    lambda doc: _entry(doc, 1).update(request=None),
    lambda doc: _entry(doc, 1)["request"].update(url="https://a.example/?q=\ud800"),  # a lone surrogate half
], ids=["status-string", "url-array", "time-number", "content-string", "not-object", "no-request",
        "request-null", "lone-surrogate"])
def test_a_har_the_mapped_reading_refuses_is_streamed_and_read_leniently(tmp_path, change):
    """A value of a type browsers do not write makes the mapped reading leave the file to the streamed one, which
    reads such a value as absent, as a parsed document is read."""
    har = _every_carrier("chrome", lone_surrogate=False)
    doc = har.har()
    change(doc)
    path = tmp_path / "odd.har"
    path.write_text(json.dumps(doc))
    mapped, streamed = _readings(path)
    assert mapped is None
    evidence = load_evidence([str(path)])
    assert evidence.inputs[0].error is None and len(evidence.messages) == 4
    assert streamed == _comparable(read_har(path.read_bytes(), str(path)))


def test_the_mapped_reading_is_bounded_before_it_builds_anything(tmp_path, monkeypatch):
    """Past MAX_MAPPED_BYTES, or with more possible entries than MAX_HAR_ENTRIES (counted as "request" keys before
    decoding: a hostile file of millions of tiny entries would otherwise be built whole), the file is streamed."""
    path = tmp_path / "session.har"
    path.write_bytes(_every_carrier("chrome", lone_surrogate=False).bytes())
    entries = len(json.loads(path.read_bytes())["log"]["entries"])
    with open(path, "rb") as fh:
        assert mapped_har_entries(fh) is not None
        monkeypatch.setattr(capture_stream, "MAX_HAR_ENTRIES", entries - 1)
        assert mapped_har_entries(fh) is None
        monkeypatch.setattr(capture_stream, "MAX_HAR_ENTRIES", entries)
        assert mapped_har_entries(fh) is not None
        monkeypatch.setattr(capture_stream, "MAX_MAPPED_BYTES", path.stat().st_size - 1)
        assert mapped_har_entries(fh) is None


def test_a_request_key_written_with_escapes_counts_against_the_bound(tmp_path):
    """"re\\u0071uest" is "request" to msgspec: tiny entries keyed so are no cheaper to build, and a byte search for
    the key misses them. Within the bound they are read as any entry; over it they are refused in one line."""
    entry = rb'{"re\u0071uest": {"url": "https://a.example/"}}'
    path = tmp_path / "escaped.har"
    for count in (MAX_HAR_ENTRIES, MAX_HAR_ENTRIES + 1):
        path.write_bytes(b'{"log": {"entries": [' + b",".join([entry] * count) + b"]}}")
        with open(path, "rb") as fh:
            mapped = mapped_har_entries(fh)
        [loaded] = load_evidence([str(path)]).inputs
        if count <= MAX_HAR_ENTRIES:
            assert mapped is not None and {e.request.url for e in mapped} == {"https://a.example/"}
            assert loaded.error is None
        else:
            assert mapped is None
            assert loaded.error is not None and f"more than {MAX_HAR_ENTRIES} entries" in loaded.error


def test_a_har_with_a_byte_order_mark_is_mapped_from_after_it(tmp_path):
    har = _every_carrier("firefox", lone_surrogate=False)
    (tmp_path / "bom.har").write_bytes(b"\xef\xbb\xbf" + har.bytes())
    evidence = load_evidence([str(tmp_path / "bom.har")])
    assert evidence.inputs[0].error is None and len(evidence.messages) == 4
    with open(tmp_path / "bom.har", "rb") as fh:
        fh.seek(3)
        assert mapped_har_entries(fh) is not None


def test_analyze_reads_a_browsers_har_from_its_memory_map(tmp_path, monkeypatch):
    """The streamed reading is only for what the mapped one leaves: were it used for every HAR, each would take
    about three times as long (bench/bench_whole_process.py)."""
    def streamed(*args):
        raise AssertionError("streamed")

    monkeypatch.setattr(evidence_module, "har_entries", streamed)
    (tmp_path / "login.har").write_bytes(_every_carrier("chrome", lone_surrogate=False).bytes())
    evidence = load_evidence([str(tmp_path / "login.har")])
    assert evidence.inputs[0].error is None and len(evidence.messages) == 4
