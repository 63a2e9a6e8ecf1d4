"""Read a capture (HAR, SAML-tracer export) from its file without holding it as Python objects.

A HAR recorded with "Preserve log" over a whole session is easily 100 MB, almost all of it bodies of scripts and
images that say nothing about the login. ``json.load`` holds all of it (and several times its size as Python
objects). A HAR file as browsers write it is mapped into memory and decoded in one pass by msgspec into
:class:`ssodiag.diag.har.HarEntry` views that keep only the fields the reading uses, bodies left as raw JSON in the
mapping (the file's pages, which the kernel can drop and read again, not copies in the process's own memory):
about a third of the time of ``json.load``. Anything else (standard input, a capture with values of types browsers
do not write, lone surrogate escapes, invalid JSON, more entries than the bound) is streamed: ijson's C backend
(yajl2) builds one ``log.entries`` item at a time, so memory follows the largest entry, not the file, and
:func:`ssodiag.diag.har.read_har` keeps only the few fields of it that matter.
"""
from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO

import msgspec

from ssodiag.diag.errors import InputError
from ssodiag.diag.har import SURROGATE_ESCAPE, HarEntry, HarFile, replace_lone_surrogates
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.limits import MAX_HAR_ENTRIES

HAR_ENTRIES = "log.entries.item"
# Bytes handed to the parser per read: ijson's default of 64 KiB costs a tenth more CPU on a 100 MB capture
READ_BYTES = 256 * 1024
TRACER_REQUESTS = "requests.item"
# A HAR larger than this is streamed rather than mapped: the mapping's pages count in the process's resident memory
MAX_MAPPED_BYTES = 256 * 1024 * 1024
# Every entry the mapped reading builds has a "request" key: counting the key bounds the entries (and their memory)
# before anything is built, also for a hostile file of millions of tiny entries. A key may also be written with
# escapes ("re\u0071uest" is "request" to any JSON parser), so each escape of a lower-case letter counts as one more
# possible entry: browsers escape only quotes, backslashes and control characters, so a capture has few.
REQUEST_KEY = b'"request"'
ESCAPED_LETTER = LazyRegex(rb"\\u00[67]")

ESCAPE_PAIR_BYTES = len(rb"\ud83d\ude00")
# The first 4 bytes of any surrogate escape (\ud800-\udfff): a chunk without them holds none, and can end only
# inside one that starts among its last 3 bytes, with as much of those 4 bytes as the chunk has left.
SURROGATE_START = LazyRegex(rb"\\u[dD][89a-fA-F]")
CUT_SURROGATE_START = LazyRegex(rb"\\(?:u[dD]?)?\Z")


def capture_key(fh: BinaryIO) -> str | None:
    """The first key of the top-level JSON object in ``fh`` whose value is an object or an array (``log`` for a
    HAR, ``requests`` for a SAML-tracer export), read from its current position; None for anything else. Keys of
    plain values before it (an export's ``timestamp``) are passed over."""
    import ijson  # imported where used, like every capture-only dependency

    start = fh.tell()
    key = None
    try:
        for prefix, event, value in ijson.parse(_LoneSurrogatesReplaced(fh)):
            if prefix == "" and event == "map_key":
                key = value
            elif prefix and event in ("start_map", "start_array"):
                return key
            elif prefix == "" and event != "start_map":
                return None  # not an object, or its end
    except (ijson.JSONError, UnicodeDecodeError):
        return None
    finally:
        fh.seek(start)
    return None


class _LoneSurrogatesReplaced:
    """``fh`` read with each lone surrogate escape rewritten as :func:`ssodiag.diag.har.load_json` does, also where
    a chunk boundary cuts one: an escape that would straddle the end of a chunk waits for the next one."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._carry = b""

    def read(self, size: int = 64 * 1024) -> bytes:
        if size == 0:
            return b""
        data = self._carry
        while True:
            chunk = self._fh.read(size if size > 0 else -1)
            data += chunk
            if not chunk:
                self._carry = b""
                return replace_lone_surrogates(data)
            # Nearly every chunk holds no surrogate escape: handed on as read (C searches instead of the scan and
            # rewrite below, about a fifth of the reading time of a 100 MB capture), but for its last bytes when
            # they start one the next chunk may complete. Bodies of text or base64 often hold no backslash at all,
            # which memchr finds faster than the pattern; script bodies hold one every few bytes, and rarely end in
            # a cut escape, so the chunk is seldom split (a copy of it).
            backslash = data.find(b"\\")
            if backslash < 0:
                self._carry = b""
                return data
            if SURROGATE_START.search(data, backslash) is None:
                cut = CUT_SURROGATE_START.search(data, max(backslash, len(data) - 3))
                if cut is None:
                    self._carry = b""
                    return data
                if cut.start() > 0:
                    self._carry = data[cut.start():]
                    return data[:cut.start()]
                continue
            boundary = len(data) - ESCAPE_PAIR_BYTES + 1  # an escape starting later may continue in the next chunk
            for match in SURROGATE_ESCAPE.finditer(data, max(0, boundary - ESCAPE_PAIR_BYTES + 1)):
                if match.start() >= boundary:
                    break
                if match.end() > boundary:
                    boundary = match.start()
                    break
            if boundary > 0:
                self._carry = data[boundary:]
                return replace_lone_surrogates(data[:boundary])


def har_entries(fh: BinaryIO, source: str) -> Iterator[Any]:
    """Each item of ``log.entries``, parsed one at a time; at most MAX_HAR_ENTRIES, then a one-line error."""
    return _items(fh, HAR_ENTRIES, source, "HAR", "entries",
                  "save a capture of the login alone (clear the Network panel, then sign in)")


def mapped_har_entries(fh: BinaryIO) -> list[HarEntry] | None:
    """The entries of the HAR in ``fh`` (from its current position), decoded from a memory map of the file in one
    pass of msgspec's C decoder; None, with ``fh`` where it was, for what the streamed reading must read: no regular
    file (standard input), over MAX_MAPPED_BYTES, over MAX_HAR_ENTRIES possible entries, or anything msgspec refuses
    (invalid JSON, a lone surrogate escape, an entry that is no object or has no ``request`` object, a value of a type
    browsers do not write)."""
    start = fh.tell()
    try:
        status = os.fstat(fh.fileno())
        if not stat.S_ISREG(status.st_mode) or not 0 < status.st_size - start <= MAX_MAPPED_BYTES:
            return None
        # A file cut short by another program while it is mapped would end the process (SIGBUS), as for any
        # program that reads by mapping (git, ripgrep); a capture is a saved file.
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # no file descriptor (io.UnsupportedOperation is an OSError)
        return None
    if _possible_entries(mapped, start) > MAX_HAR_ENTRIES:
        return None  # the streamed reading says how many is too many, in bounded memory
    try:
        # the views' raw values point into the mapping, which stays open as long as one of them lives
        return msgspec.json.decode(memoryview(mapped)[start:], type=HarFile).log.entries
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


def _possible_entries(mapped: mmap.mmap, start: int) -> int:
    """How many entries the HAR in ``mapped`` may have, at most (counted up to one over MAX_HAR_ENTRIES)."""
    found, at = 0, mapped.find(REQUEST_KEY, start)
    while at >= 0 and found <= MAX_HAR_ENTRIES:
        found += 1
        at = mapped.find(REQUEST_KEY, at + len(REQUEST_KEY))
    for _ in ESCAPED_LETTER.finditer(mapped, start):
        if found > MAX_HAR_ENTRIES:
            break
        found += 1
    return found


def tracer_requests(fh: BinaryIO, source: str) -> Iterator[Any]:
    """Each item of a SAML-tracer export's ``requests``, parsed one at a time; at most MAX_HAR_ENTRIES."""
    return _items(fh, TRACER_REQUESTS, source, "SAML-tracer export", "requests",
                  "export the login alone (clear SAML-tracer's list, then sign in)")


def tracer_timestamp(fh: BinaryIO, start: int) -> Any:
    """The export's own ``timestamp`` (a number or a string, wherever it stands: often after every request), else
    None. ``fh`` is read again from ``start``: a second pass, made only when some request carries no time."""
    import ijson

    fh.seek(start)
    try:
        for prefix, event, value in ijson.parse(_LoneSurrogatesReplaced(fh), use_float=True):
            if prefix == "timestamp":
                return value if event in ("number", "string") else None  # never builds a hostile container
    except (ijson.JSONError, UnicodeDecodeError):
        return None
    return None


def _items(fh: BinaryIO, prefix: str, source: str, label: str, noun: str, advice: str) -> Iterator[Any]:
    import ijson

    count = 0
    try:
        for item in ijson.items(_LoneSurrogatesReplaced(fh), prefix, use_float=True, buf_size=READ_BYTES):
            count += 1
            if count > MAX_HAR_ENTRIES:
                raise InputError(f"{label} has more than {MAX_HAR_ENTRIES} {noun}; {advice}", source)
            yield item
    except ijson.JSONError as exc:
        raise InputError(f"invalid JSON after {count} {label} {noun}: {' '.join(str(exc).split())[:200]}",
                         source) from None
