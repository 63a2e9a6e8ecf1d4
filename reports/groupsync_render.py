"""The terminal rendering of a group-sync plan document (``SyncPlan.to_dict()``, possibly redacted first).

Each takes the plain dict, so redaction runs before rendering. JSON carries every change; the human formats show
the first ``limit`` rows of each list and say how many more there are, so a million-change plan stays readable
and bounded. Values are untrusted: HTML is autoescaped, Markdown goes through ``md``, rich gets ``Text`` only.
"""
from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ssodiag.diag.text import clip
from ssodiag.reports.text import DEFAULT_LIMIT, plan_view



def render_terminal(doc: dict, *, limit: int = DEFAULT_LIMIT, color: bool = False, width: int = 110,
                    **_: object) -> str:
    out = io.StringIO()
    con = Console(file=out, force_terminal=color, no_color=not color, width=width, highlight=False, emoji=False)
    view = plan_view(doc, limit)
    s = doc["summary"]
    con.print(Text("Group sync plan", style="bold underline"))
    con.print(Text(f"{s['adds']} to add, {s['removes']} to remove, {s['blocked']} blocked, {s['unchanged']} "
                   f"unchanged; {s['new_users']} new user(s), {s['not_in_idp']} Atlan user(s) not in the IdP input."))
    con.print(Text(f"Applies: {doc['applies']}. {view['applies_text']}", style="dim"))
    if doc.get("redacted"):
        con.print(Text("(personal values are redacted)", style="dim"))
    sections = (
        ("Changes", ("user", "Atlan group", "action", "because"), view["changes"], view["changes_more"],
         lambda c: (c["username"], c["atlan_group"], c["action"] + (" (new user)" if c["new_user"] else ""),
                    c["because"])),
        ("Blocked (username mismatch)", ("IdP username", "Atlan username", "reason"), view["blocked"],
         view["blocked_more"], lambda b: (b["username"], b["atlan_username"], b["reason"])),
        ("Warnings", ("code", "message"), view["warnings"], view["warnings_more"],
         lambda w: (w["code"], w["message"])),
    )
    for title, columns, rows, more, cells in sections:
        if not rows:
            continue
        table = Table(title=title, title_justify="left", show_lines=False)
        for col in columns:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*(Text(clip(v, 400)) for v in cells(row)))
        con.print(table)
        if more:
            con.print(Text(f"… and {more} more (use --format json for all)", style="dim"))
    if not doc["changes"] and not doc["blocked"]:
        con.print(Text("No group membership changes.", style="green"))
    if doc.get("redaction"):
        con.print(Text(doc["redaction"]["summary"], style="bold"))
    return out.getvalue()
