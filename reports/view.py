"""What the human formats (terminal, Markdown, HTML) show of a report document, in the order they show it:
the answer first, then the other problems, then the evidence. Computed once here, so the formats cannot disagree.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from ssodiag.reports.text import problems

SHOWN_PER_CHECK = 3  # a capture with hundreds of messages repeats each problem hundreds of times
SHOWN_MESSAGES = 50
SHOWN_HOPS = 100
MIN_HIGHLIGHT = 3  # a seen value shorter than this would mark half the XML


def _bare(value: str | None) -> str:
    return (value or "").strip().strip("`")


def other_problems(doc: dict) -> list[dict[str, Any]]:
    """The problems after the one the answer is about, a few per check, each with how many of its kind there are."""
    cause = doc["answer"]["cause_check_id"]
    found = [f for f in problems(doc) if f["check_id"] != cause]
    per_check = Counter(f["check_id"] for f in found)
    shown: Counter[str] = Counter()
    out = []
    for f in found:
        shown[f["check_id"]] += 1
        if shown[f["check_id"]] <= SHOWN_PER_CHECK:
            more = per_check[f["check_id"]] - SHOWN_PER_CHECK if shown[f["check_id"]] == SHOWN_PER_CHECK else 0
            out.append({"finding": f, "more": max(0, more)})
    return out


def _broken_hop(flow: dict, doc: dict) -> int | None:
    """Where the login broke: the first hop answered with an error status or an error page, else the hop that
    carried the message the answer is about."""
    for hop in flow["hops"]:
        if (hop["status"] or 0) >= 400 or hop.get("page_excerpt"):
            return hop["index"]
    cause = doc["answer"]["cause_check_id"]
    sources = {f["evidence"]["source"] for f in doc["findings"] if f["check_id"] == cause}
    carried = {m["index"] for m in doc["messages"] if m["source"] in sources}
    return next((h["index"] for h in flow["hops"] if h["message_index"] in carried), None)


def flow_views(doc: dict) -> list[dict[str, Any]]:
    views = []
    for flow in doc["flow"]:
        kinds = {m["index"]: m["kind"] for m in doc["messages"]}
        broke = _broken_hop(flow, doc)
        hops = [{**h, "broke": h["index"] == broke, "carries": kinds.get(h["message_index"])}
                for h in flow["hops"][:SHOWN_HOPS]]
        views.append({"flow": flow, "hops": hops, "more": max(0, len(flow["hops"]) - SHOWN_HOPS),
                      "broke": broke})
    return views


def message_views(doc: dict) -> list[dict[str, Any]]:
    """Each message with its XML as lines, the lines holding a value a problem names marked."""
    seen_in: dict[str, set[str]] = {}  # the values problems name, by the source they were seen in
    for f in problems(doc):
        seen_in.setdefault(f["evidence"]["source"], set()).add(_bare(f["evidence"]["seen"]))
    views = []
    for m in doc["messages"][:SHOWN_MESSAGES]:
        seen = {s for s in seen_in.get(m["source"], ()) if len(s) >= MIN_HIGHLIGHT and "\n" not in s}
        lines = [{"text": line, "mark": any(s in line for s in seen)} for line in m.get("xml", "").splitlines()]
        views.append({"message": m, "lines": lines, "marked": sum(1 for line in lines if line["mark"])})
    return views


def certificates_view(doc: dict) -> dict[str, Any]:
    """Per signed message: the certificate that signed it (from the message) beside the ones Atlan is told to trust."""
    trusted = doc["expectations"]["trusted"]
    trusted_fps = {c["sha256"] for c in trusted}
    rows = []
    for m in doc["messages"]:
        sig = m["signature"]
        signer = sig["signing_certificate"] or (sig["embedded_certificates"] or [None])[0]
        if signer is None and not trusted:
            continue
        rows.append({"message": m, "signed_with": signer, "verdict": sig["verdict"],
                     "trusted": signer is not None and signer["sha256"] in trusted_fps})
    return {"rows": rows[:SHOWN_MESSAGES], "trusted": trusted}


def report_view(doc: dict) -> dict[str, Any]:
    return {
        "doc": doc,
        "answer": doc["answer"],
        "others": other_problems(doc),
        "flows": flow_views(doc),
        "messages": message_views(doc),
        "messages_more": max(0, len(doc["messages"]) - SHOWN_MESSAGES),
        "certificates": certificates_view(doc),
        "checked": [f for f in doc["findings"] if f["status"] in ("pass", "skip")],
    }
