"""Terminal report (rich): the verdict first, then the problems by severity, each with its fix.

All values from the evidence are passed to rich as ``Text`` (never as markup), so a NameID like
``[bold red]x`` is printed literally.
"""
from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ssodiag.reports.groupsync_render import render_terminal as render_plan
from ssodiag.diag.text import clip
from ssodiag.reports.text import STATUS_LABEL, judgement_line, problems

_STYLE = {"fail": "bold red", "error": "bold magenta", "warn": "yellow", "skip": "dim", "pass": "green",
          "inconclusive": "yellow"}
# A capture with hundreds of messages repeats each problem hundreds of times: the screen shows the first few of
# each check, of the messages and of each flow, and says how many more the JSON report holds.
SHOWN_PER_CHECK = 3
SHOWN_MESSAGES = 50
SHOWN_HOPS = 100


def render(doc: dict, *, color: bool = False, width: int = 110, show_passed: bool = False) -> str:
    out = io.StringIO()
    con = Console(file=out, force_terminal=color, no_color=not color, width=width, highlight=False, emoji=False)
    v = doc["verdict"]
    con.print(Text.assemble(("Verdict: ", "bold"), (v["status"].upper(), _STYLE.get(v["status"], "bold")),
                            " — ", clip(v["summary"], 600)))
    con.print(Text(judgement_line(doc), style="dim"))
    if doc.get("redacted"):
        con.print(Text("(personal values are redacted)", style="dim"))
    for d in doc["detections"]:
        con.print(Text.assemble(("Connector: ", "bold"), d["connector"], " — ", clip(d["reason"])))
    bad_inputs = [i for i in doc["inputs"] if i["error"]]
    for i in bad_inputs:
        con.print(Text.assemble(("Input error: ", "bold red"), clip(i["error"])))

    found = problems(doc)
    if found:
        con.print()
        con.print(Text("Problems", style="bold underline"))
    per_check = Counter(f["check_id"] for f in found)
    shown: Counter[str] = Counter()
    for f in found:
        shown[f["check_id"]] += 1
        if shown[f["check_id"]] > SHOWN_PER_CHECK:
            continue
        con.print(Text.assemble(
            (f"[{STATUS_LABEL[f['status']]}] ", _STYLE[f["status"]]), (f"{f['severity'].upper()} ", "bold"),
            (f"{f['check_id']} ", "cyan"), f["title"]))
        con.print(Text("    " + clip(f["message"], 600)))
        ev = f["evidence"]
        if ev.get("expected") is not None:
            con.print(Text(f"    expected: {clip(ev['expected'])}"), style="dim")
        if ev.get("seen") is not None:
            con.print(Text(f"    seen:     {clip(ev['seen'])}"), style="dim")
        if ev.get("source"):
            con.print(Text(f"    in: {clip(ev['source'], 160)}"), style="dim")
        con.print(Text.assemble(("    fix: ", "bold green"), clip(f["remediation"], 600)))
        if shown[f["check_id"]] == SHOWN_PER_CHECK and per_check[f["check_id"]] > SHOWN_PER_CHECK:
            con.print(Text(f"    … and {per_check[f['check_id']] - SHOWN_PER_CHECK} more {f['check_id']} "
                           f"problems (all are in --format json)"), style="dim")

    if doc["messages"]:
        con.print()
        table = Table(title="SAML messages", show_lines=False, expand=False)
        for col in ("#", "kind", "source", "issuer", "ID / InResponseTo", "status", "signature"):
            table.add_column(col, overflow="fold")
        for m in doc["messages"][:SHOWN_MESSAGES]:
            status = m["status"]["code"].rsplit(":", 1)[-1] if m.get("status") and m["status"]["code"] else ""
            table.add_row(Text(str(m["index"])), Text(m["kind"]), Text(clip(m["source"], 60)),
                          Text(clip(m["issuer"], 50)), Text(clip(f"{m['id'] or '-'} / {m['in_response_to'] or '-'}", 50)),
                          Text(status), Text(m["signature"]["verdict"]))
        con.print(table)
        if len(doc["messages"]) > SHOWN_MESSAGES:
            con.print(Text(f"… and {len(doc['messages']) - SHOWN_MESSAGES} more messages (all are in --format json)"),
                      style="dim")
    for flow in doc["flow"]:
        con.print()
        con.print(Text.assemble(("Flow ", "bold"), clip(flow["source"], 80), f" ({flow['initiation']}-initiated)"))
        for h in flow["hops"][:SHOWN_HOPS]:
            carried = f" carries message #{h['message_index']}" if h["message_index"] is not None else ""
            redirect = f" -> {clip(h['redirect_to'], 90)}" if h["redirect_to"] else ""
            con.print(Text(f"  {h['index']:>4} {clip(h['method'], 16):<5} {h['status'] or '---'} {clip(h['url'], 90)}"
                           f"{redirect}{carried}"))
            if h.get("page_excerpt"):
                con.print(Text(f"         page: {clip(h['page_excerpt'], 120)}"), style="dim")
        if len(flow["hops"]) > SHOWN_HOPS:
            con.print(Text(f"  … and {len(flow['hops']) - SHOWN_HOPS} more hops (all are in --format json)"),
                      style="dim")

    if doc.get("groupsync"):
        con.print()
        con.print(Text.from_ansi(render_plan(doc["groupsync"], color=color, width=width)), end="")

    s = doc["summary"]
    con.print()
    con.print(Text(f"{s['fail']} failed, {s['warn']} warnings, {s['error']} errors, {s['skip']} skipped, "
                   f"{s['pass']} passed"))
    skipped = [f for f in doc["findings"] if f["status"] == "skip"]
    if skipped:
        con.print(Text("Run with --show-all to list the passed and skipped checks (a skip names the option that "
                       "would enable it).", style="dim"))
    if show_passed:
        for f in doc["findings"]:
            if f["status"] in ("pass", "skip"):
                con.print(Text(f"  [{STATUS_LABEL[f['status']]}] {f['check_id']} {clip(f['message'], 150)}"),
                          style=_STYLE[f["status"]])
    if doc.get("redaction"):
        con.print(Text(doc["redaction"]["summary"], style="bold"))
    return out.getvalue()
