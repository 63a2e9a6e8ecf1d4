"""Display helpers shared by the human-readable renderers: ordering, JSON and group-sync plan views."""
from __future__ import annotations

import json

from ssodiag.diag.text import holds_unsafe, printable

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
STATUS_LABEL = {"fail": "FAIL", "warn": "WARN", "error": "ERROR", "skip": "SKIP", "pass": "PASS"}
# Who started a captured login, as a flow's heading says it ("unknown-initiated" read as a typo)
INITIATION_LABEL = {"sp": "SP-initiated", "idp": "IdP-initiated", "unknown": "who started it is not in the capture"}


def problems(doc: dict) -> list[dict]:
    """Findings a reader must act on or know about (fail, error, warn), already sorted by the runner."""
    return [f for f in doc["findings"] if f["status"] in ("fail", "error", "warn")]


def judgement_line(doc: dict) -> str:
    """Which rules judged this report: "for Atlan" (what its Keycloak broker enforces) or "strictly"."""
    judgement = doc.get("judgement") or {}
    skew = doc["expectations"].get("clock_skew")
    if judgement.get("mode") == "atlan":
        return (f"Judged for Atlan ({judgement.get('reason')}): what Atlan's Keycloak broker enforces fails as a "
                f"blocked login; other rules are warnings. Allowed clock skew {skew} s. Use --strict for the SAML "
                f"specifications' rules.")
    return (f"Judged strictly ({judgement.get('reason', 'not an Atlan login')}): the SAML specifications' rules, as "
            f"strict service providers apply them. Allowed clock skew {skew} s.")


def to_json(doc: dict) -> bytes:
    """Stable JSON (sorted keys, UTC times already in the document) for diffs between runs, as the UTF-8 bytes
    written: a report of a long capture is megabytes, and decoding them to text only to encode them again for the
    file or the terminal cost more than writing them.

    orjson writes the same indented text as ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`` in C
    (the standard library's indenting encoder is pure Python: about a second for a 100k-user plan); what orjson
    refuses (a lone surrogate from a mis-decoded input, an integer over 64 bits) goes through the standard one."""
    import orjson

    try:
        data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError
        text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        if not holds_unsafe(data):
            return data
        text = data.decode("utf-8")
    return printable(text).encode("utf-8")  # lone surrogates are escaped by printable: the text encodes


# --------------------------------------------------------------------------- group-sync plans

DEFAULT_LIMIT = 200  # rows of each list shown by terminal, md and html

APPLIES_TEXT = {
    "login": "Changes apply to each user when they next sign in through SSO (sync is login-triggered, not "
             "real-time); a user who does not sign in keeps their current groups.",
    "scim": "Changes apply when the IdP next provisions through SCIM; group changes sync from the IdP.",
}


def plan_view(doc: dict, limit: int = DEFAULT_LIMIT) -> dict:
    """What the human formats show: each list cut to ``limit``, with the count left out."""
    applies = APPLIES_TEXT.get(doc["applies"], doc["applies"])
    view = {"doc": doc, "applies_text": f"{applies} {doc.get('assumption', '')}".strip(), "limit": limit}
    for key in ("changes", "blocked", "warnings"):
        view[key] = doc[key][:limit]
        view[f"{key}_more"] = max(0, len(doc[key]) - limit)
    return view
