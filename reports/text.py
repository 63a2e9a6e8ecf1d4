"""Display helpers shared by the human-readable renderers: clipping and ordering."""
from __future__ import annotations

from diag.limits import MAX_TEXT_EXCERPT

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
STATUS_LABEL = {"fail": "FAIL", "warn": "WARN", "error": "ERROR", "skip": "SKIP", "pass": "PASS"}


def clip(value: object, limit: int = MAX_TEXT_EXCERPT) -> str:
    """One-line, bounded text for display (the JSON report keeps full values)."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problems(doc: dict) -> list[dict]:
    """Findings a reader must act on or know about (fail, error, warn), already sorted by the runner."""
    return [f for f in doc["findings"] if f["status"] in ("fail", "error", "warn")]
