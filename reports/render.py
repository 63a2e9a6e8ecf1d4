"""The one renderer table: every document ssodiag writes (an analyze report, a group-sync plan, a comparison of two
logins, the check catalogue) in every format (terminal, json, md, html). Commands call :func:`render`; nothing else picks a renderer.
"""
from __future__ import annotations

import importlib
import json
from collections.abc import Callable

from ssodiag.diag.text import printable
from ssodiag.reports.text import DEFAULT_LIMIT, plan_view, to_json
from ssodiag.reports.view import report_view

FORMATS = ("terminal", "json", "md", "html")
KINDS = ("report", "groupsync-plan", "diff", "catalogue")


def _template(name: str, markdown: bool, context: Callable[..., dict]) -> Callable[..., str]:
    """A renderer of one template; ``context`` turns the document into the template's variables."""
    def render(doc: dict, **options: object) -> str:
        from ssodiag.reports.jinja import environment  # jinja2 loads only for an HTML or Markdown report

        return environment(markdown).get_template(name).render(**context(doc, **options))
    return render


def _imported(module: str, function: str) -> Callable[..., str]:
    """``module.function``, imported when first called: a JSON report loads neither rich nor jinja2."""
    def render(doc: dict, **options: object) -> str:
        return getattr(importlib.import_module(module), function)(doc, **options)
    return render


def _report_view(doc: dict, **_: object) -> dict:
    return {"v": report_view(doc)}


def _plan_view(doc: dict, *, limit: int = DEFAULT_LIMIT, **_: object) -> dict:
    return {"v": plan_view(doc, limit)}


def _diff_view(diff: dict, **_: object) -> dict:
    return {"diff": diff}


def _json(doc: dict, **_: object) -> bytes:
    return to_json(doc)


def _catalogue_view(checks: list[dict], **_: object) -> dict:
    return {"checks": checks}


def _catalogue_terminal(checks: list[dict], **_: object) -> str:
    lines = []
    for c in checks:
        lines += [f"{c['id']:<8} {c['severity']:<8} {c['connector']:<12} {c['title']}",
                  f"{'':<8} needs: {', '.join(c['requires']) or '-'}", f"{'':<8} fix: {c['remediation']}"]
    return "\n".join(lines) + "\n"


RENDERERS: dict[tuple[str, str], Callable[..., str | bytes]] = {
    ("report", "terminal"): _imported("ssodiag.reports.terminal", "render"),
    ("report", "json"): _json,
    ("report", "md"): _template("report.md.j2", True, _report_view),
    ("report", "html"): _template("report.html.j2", False, _report_view),
    ("groupsync-plan", "terminal"): _imported("ssodiag.reports.groupsync_render", "render_terminal"),
    ("groupsync-plan", "json"): _json,
    ("groupsync-plan", "md"): _template("groupsync.md.j2", True, _plan_view),
    ("groupsync-plan", "html"): _template("groupsync.html.j2", False, _plan_view),
    ("diff", "terminal"): _imported("ssodiag.reports.diff_render", "render_terminal"),
    ("diff", "json"): _json,
    ("diff", "md"): _template("diff.md.j2", True, _diff_view),
    ("diff", "html"): _template("diff.html.j2", False, _diff_view),
    ("catalogue", "terminal"): _catalogue_terminal,
    ("catalogue", "json"): lambda checks, **_: printable(json.dumps(checks, indent=2, ensure_ascii=False)) + "\n",
    ("catalogue", "md"): _template("catalogue.md.j2", True, _catalogue_view),
    ("catalogue", "html"): _template("catalogue.html.j2", False, _catalogue_view),
}


def render(kind: str, doc: dict, fmt: str, **options: object) -> str | bytes:
    """``doc`` of ``kind`` in ``fmt``; options a format does not use (color, width, limit, show_passed) are ignored.
    A report, plan or comparison in JSON comes as UTF-8 bytes (reports.text.to_json), the rest as text;
    output.deliver and output.write_file write either."""
    if (kind, fmt) not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r} for a {kind}; choose one of {', '.join(FORMATS)}")
    return RENDERERS[(kind, fmt)](doc, **options)
