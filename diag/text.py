"""Text made safe to show: unsafe characters escaped, and clipped to one bounded line where asked.

Used by checks and renderers alike, so it lives in the core.
"""
from __future__ import annotations

import re

from ssodiag.diag.limits import MAX_TEXT_EXCERPT

# Characters that must never reach a terminal or a reader's eyes raw: C0/C1 controls (ESC starts ANSI/OSC
# sequences that recolour, clear or retitle the terminal; U+009B is the 8-bit CSI, legal in XML 1.0) and
# invisible or reordering format characters (zero-width, bidi overrides: an issuer `okta.com\u202emoc.evil`
# reads as another string, Unicode TR #36 §2.2 / CVE-2021-42574). They are shown as `\uXXXX` escapes instead.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                     "\ufeff\ufff9-\ufffb\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def printable(text: str) -> str:
    """Multi-line text (pretty XML, JSON) with unsafe characters escaped; line breaks and tabs kept.

    In JSON the escapes are valid string escapes: JSON itself already escapes C0 controls inside strings.
    """
    return _UNSAFE.sub(lambda m: m.group(0) if m.group(0) in "\n\t" else _escape(m), text)


def clip(value: object, limit: int = MAX_TEXT_EXCERPT) -> str:
    """One-line, bounded, printable text for display (the JSON report keeps full values)."""
    text = "" if value is None else str(value)
    text = _UNSAFE.sub(_escape, " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
