"""Terminal report (rich): the answer first (verdict, numbered fix, what to check afterwards), then the other
problems, then the evidence, one function per section.

All values from the evidence are passed to rich as ``Text`` (never as markup), so a NameID like
``[bold red]x`` is printed literally.
"""
from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ssodiag.diag.text import clip
from ssodiag.reports.groupsync_render import render_terminal as render_plan
from ssodiag.reports.text import INITIATION_LABEL, STATUS_LABEL, judgement_line
from ssodiag.reports.view import report_view

_STYLE = {"fail": "bold red", "error": "bold magenta", "warn": "yellow", "skip": "dim", "pass": "green",
          "inconclusive": "yellow", "incomplete": "yellow"}


def _answer(con: Console, doc: dict, answer: dict) -> None:
    status = doc["verdict"]["status"]
    con.print(Text.assemble(("Verdict: ", "bold"), (status.upper(), _STYLE.get(status, "bold")), " — ",
                            clip(answer["sentence"], 600)))
    con.print(Text(judgement_line(doc), style="dim"))
    if answer["steps"]:
        con.print(Text("Fix:", style="bold green"))
        for number, step in enumerate(answer["steps"], start=1):
            con.print(Text(f"  {number}. {clip(step['text'], 800)}"))
            for value in step["values"]:
                con.print(Text(f"       {value['what']}: {clip(value['value'], 300)}"), style="dim")
    if answer["check_after"]:
        con.print(Text("Then check:", style="bold"))
        for line in answer["check_after"]:
            con.print(Text(f"  - {clip(line, 600)}"))
    for bad in (i for i in doc["inputs"] if i["error"]):
        con.print(Text.assemble(("Could not read: ", "bold red"), clip(bad["error"])))


def _other_problems(con: Console, others: list[dict]) -> None:
    if not others:
        return
    con.print()
    con.print(Text("Other problems", style="bold underline"))
    for other in others:
        f = other["finding"]
        con.print(Text.assemble(
            (f"[{STATUS_LABEL[f['status']]}] ", _STYLE[f["status"]]), (f"{f['severity'].upper()} ", "bold"),
            (f"{f['check_id']} ", "cyan"), f["title"]))
        con.print(Text("    " + clip(f["message"], 600)))
        evidence = f["evidence"]
        for key in ("expected", "seen"):
            if evidence.get(key) is not None:
                con.print(Text(f"    {key + ':':<9} {clip(evidence[key])}"), style="dim")
        if evidence.get("source"):
            con.print(Text(f"    in: {clip(evidence['source'], 160)}"), style="dim")
        con.print(Text.assemble(("    fix: ", "bold green"), clip(f["remediation"], 600)))
        if other["more"]:
            con.print(Text(f"    … and {other['more']} more {f['check_id']} problems (all are in --format json)"),
                      style="dim")


def _messages(con: Console, view: dict) -> None:
    if not view["messages"]:
        return
    con.print()
    table = Table(title="SAML messages", show_lines=False, expand=False)
    for col in ("#", "kind", "source", "issuer", "ID / InResponseTo", "status", "signature"):
        table.add_column(col, overflow="fold")
    for message_view in view["messages"]:
        m = message_view["message"]
        status = m["status"]["code"].rsplit(":", 1)[-1] if m.get("status") and m["status"]["code"] else ""
        table.add_row(Text(str(m["index"])), Text(m["kind"]), Text(clip(m["source"], 60)), Text(clip(m["issuer"], 50)),
                      Text(clip(f"{m['id'] or '-'} / {m['in_response_to'] or '-'}", 50)), Text(status),
                      Text(m["signature"]["verdict"]))
    con.print(table)
    if view["messages_more"]:
        con.print(Text(f"… and {view['messages_more']} more messages (all are in --format json)"), style="dim")


def _flows(con: Console, view: dict) -> None:
    for flow_view in view["flows"]:
        flow = flow_view["flow"]
        con.print()
        con.print(Text.assemble(("Flow ", "bold"), clip(flow["source"], 80), f" ({INITIATION_LABEL[flow['initiation']]})"))
        for h in flow_view["hops"]:
            carried = f" carries {h['carries']} #{h['message_index']}" if h["carries"] else ""
            redirect = f" -> {clip(h['redirect_to'], 90)}" if h["redirect_to"] else ""
            broke = "  <- broke here" if h["broke"] else ""
            con.print(Text(f"  {h['index']:>4} {clip(h['method'], 16):<5} {h['status'] or '---'} {clip(h['url'], 90)}"
                           f"{redirect}{carried}{broke}"), style="bold red" if h["broke"] else None)
            if h.get("page_excerpt"):
                con.print(Text(f"         page: {clip(h['page_excerpt'], 120)}"), style="dim")
        if flow_view["more"]:
            con.print(Text(f"  … and {flow_view['more']} more hops (all are in --format json)"), style="dim")


def _certificates(con: Console, view: dict) -> None:
    certificates = view["certificates"]
    if not certificates["rows"]:
        return
    con.print()
    table = Table(title="Certificates: which signed, which is trusted", expand=False)
    for col in ("message", "signed with (SHA-256)", "trusted?"):
        table.add_column(col, overflow="fold")
    for row in certificates["rows"]:
        signer = row["signed_with"]
        table.add_row(Text(f"#{row['message']['index']} {row['message']['kind']}"),
                      Text(signer["sha256"] if signer else "(no certificate in the message)"),
                      Text("yes" if row["trusted"] else "no"))
    con.print(table)
    trusted = ", ".join(c["sha256"] for c in certificates["trusted"]) or "none given (--idp-metadata or --idp-cert)"
    con.print(Text(f"Trusted (configured): {trusted}"), style="dim")


def _summary(con: Console, doc: dict, view: dict, show_passed: bool) -> None:
    s = doc["summary"]
    con.print()
    for d in doc["detections"]:
        con.print(Text.assemble(("Connector: ", "bold"), d["connector"], " — ", clip(d["reason"])))
    con.print(Text(f"{s['fail']} failed, {s['warn']} warnings, {s['error']} errors, {s['skip']} skipped, "
                   f"{s['pass']} passed"))
    if not show_passed and any(f["status"] == "skip" for f in view["checked"]):
        con.print(Text("Run with --show-all to list the passed and skipped checks (a skip names the option that "
                       "would enable it).", style="dim"))
    if show_passed:
        for f in view["checked"]:
            con.print(Text(f"  [{STATUS_LABEL[f['status']]}] {f['check_id']} {clip(f['message'], 150)}"),
                      style=_STYLE[f["status"]])


def render(doc: dict, *, color: bool = False, width: int = 110, show_passed: bool = False, **_: object) -> str:
    out = io.StringIO()
    con = Console(file=out, force_terminal=color, no_color=not color, width=width, highlight=False, emoji=False)
    view = report_view(doc)
    _answer(con, doc, view["answer"])
    _other_problems(con, view["others"])
    _flows(con, view)
    _messages(con, view)
    _certificates(con, view)
    if doc.get("groupsync"):
        con.print()
        con.print(Text.from_ansi(render_plan(doc["groupsync"], color=color, width=width)), end="")
    _summary(con, doc, view, show_passed)
    if doc.get("redaction"):
        con.print(Text(doc["redaction"]["summary"], style="bold"))
    return out.getvalue()
