"""HARs are read one entry at a time: a customer-sized capture loads within a memory bound, entries that are not
HAR entries are skipped by name, and the entry bound is one clear line."""
from __future__ import annotations

import io
import json
import resource
import subprocess
import sys

from ssodiag.diag.capture_stream import _LoneSurrogatesReplaced
from ssodiag.diag.evidence import load_evidence
from ssodiag.diag.har import replace_lone_surrogates
from ssodiag.diag.limits import MAX_FILE_BYTES, MAX_HAR_ENTRIES
from tests.harbuild import HarBuilder, post_body, write_session_har
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
            b' "\\uD83D\\uDE00\\uDBFF", "\\u00e9\\ud7ff\\ue000", "end\\udfff"]')
    whole = replace_lone_surrogates(text)
    assert whole != text  # the sample holds lone halves to rewrite
    for size in range(1, 40):
        reader = _LoneSurrogatesReplaced(_Chunks(text, size))
        out = b"".join(iter(lambda: reader.read(size), b""))
        assert out == whole, size
