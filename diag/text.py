"""Text made safe to show: unsafe characters escaped, and clipped to one bounded line where asked.

Used by checks and renderers alike, so it lives in the core.
"""
from __future__ import annotations

import re

from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.limits import MAX_TEXT_EXCERPT

CLIP_MARK = "…"
QUOTED_MAX = 160  # characters of one untrusted value inside a finding sentence
MAX_ERROR_TEXT = 200  # characters of a library's error message inside ours

# Characters that must never reach a terminal or a reader's eyes raw: C0/C1 controls (ESC starts ANSI/OSC
# sequences that recolour, clear or retitle the terminal; U+009B is the 8-bit CSI, legal in XML 1.0) and
# invisible or reordering format characters (zero-width, bidi overrides: an issuer `okta.com\u202emoc.evil`
# reads as another string, Unicode TR #36 §2.2 / CVE-2021-42574). They are shown as `\uXXXX` escapes instead.
_UNSAFE_BEYOND_C0 = ("\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
                     "\ud800-\udfff")
_UNSAFE = LazyRegex(f"[\x00-\x1f{_UNSAFE_BEYOND_C0}]")
# The same less line feed and tab, which multi-line text keeps (a JSON report has one per line: not matched, not
# called back for).
_UNSAFE_IN_BLOCK = LazyRegex(f"[\x00-\x08\x0b-\x1f{_UNSAFE_BEYOND_C0}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


# The ASCII characters multi-line text keeps as they are: tab, line feed and the printable ones.
_SAFE_ASCII_BYTES = b"\t\n" + bytes(range(0x20, 0x7f))


def printable(text: str) -> str:
    """Multi-line text (pretty XML, JSON) with unsafe characters escaped; line breaks and tabs kept.

    In JSON the escapes are valid string escapes: JSON itself already escapes C0 controls inside strings.
    """
    if not holds_unsafe(text.encode("utf-8", "surrogatepass")):
        return text
    return _UNSAFE_IN_BLOCK.sub(_escape, text)


def holds_unsafe(utf8: bytes) -> bool:
    """Whether the text ``utf8`` encodes holds a character :func:`printable` escapes.

    A report is megabytes of mostly safe ASCII, which the regex would walk character by character (about 45 ms
    for 200 Responses' JSON): the safe ASCII bytes are dropped in C first, and the regex searches what is left
    (every other character, whole).
    """
    rest = utf8.translate(None, _SAFE_ASCII_BYTES)
    return _UNSAFE_IN_BLOCK.search(rest.decode("utf-8", "surrogatepass")) is not None


def clip(value: object, limit: int = MAX_TEXT_EXCERPT) -> str:
    """One-line, bounded, printable text for display (the JSON report keeps full values). A cut value ends with
    CLIP_MARK, the one clip mark of every message and report (redaction recognises it)."""
    text = " ".join(("" if value is None else str(value)).split())
    if not text.isprintable():  # every character _UNSAFE matches is unprintable: most values skip the regex
        text = _UNSAFE.sub(_escape, text)
    return text if len(text) <= limit else text[: limit - 1] + CLIP_MARK


def clip_block(text: str, limit: int) -> str:
    """Multi-line text made printable and cut to ``limit`` characters, ending with CLIP_MARK when cut."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + CLIP_MARK


def quoted(value: object, limit: int = QUOTED_MAX) -> str:
    """An untrusted value as a one-line, bounded, backtick-quoted span for a finding message (a backtick inside
    becomes `'`, so the span cannot be closed early)."""
    if value is None:
        return "(none)"
    text = str(value).replace("`", "'")
    return f"`{clip(text, limit)}`"


def error_text(exc: BaseException, limit: int = MAX_ERROR_TEXT) -> str:
    """The first line of an exception's message, bounded, for a one-line error; the exception's type when empty."""
    lines = str(exc).strip().splitlines()
    return clip(lines[0].rstrip(": "), limit) if lines and lines[0].strip() else type(exc).__name__
