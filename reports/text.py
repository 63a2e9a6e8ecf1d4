"""Display helpers shared by the human-readable renderers: clipping and ordering."""
from __future__ import annotations

import json
import re

from ssodiag.diag.limits import MAX_TEXT_EXCERPT

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
STATUS_LABEL = {"fail": "FAIL", "warn": "WARN", "error": "ERROR", "skip": "SKIP", "pass": "PASS"}


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


def problems(doc: dict) -> list[dict]:
    """Findings a reader must act on or know about (fail, error, warn), already sorted by the runner."""
    return [f for f in doc["findings"] if f["status"] in ("fail", "error", "warn")]


def to_json(doc: dict) -> str:
    """Stable JSON (sorted keys, UTC times already in the document) for diffs between runs."""
    return printable(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


# --------------------------------------------------------------------------- group-sync plans

DEFAULT_LIMIT = 200  # rows of each list shown by terminal, md and html

APPLIES_TEXT = {
    "login": "Changes apply to each user when they next sign in through SSO (sync is login-triggered, not "
             "real-time); a user who does not sign in keeps their current groups.",
    "scim": "Changes apply when the IdP next provisions through SCIM; group changes sync from the IdP.",
}


def plan_view(doc: dict, limit: int = DEFAULT_LIMIT) -> dict:
    """What the human formats show: each list cut to ``limit``, with the count left out."""
    view = {"doc": doc, "applies_text": APPLIES_TEXT.get(doc["applies"], doc["applies"]), "limit": limit}
    for key in ("changes", "blocked", "warnings"):
        view[key] = doc[key][:limit]
        view[f"{key}_more"] = max(0, len(doc[key]) - limit)
    return view
