"""The formatter table for analyze reports: one function per format, all taking the report document."""
from __future__ import annotations

from collections.abc import Callable

from ssodiag.reports import terminal
from ssodiag.reports.jinja import environment
from ssodiag.reports.text import to_json

FORMATS = ("terminal", "json", "md", "html")


def render_json(doc: dict, **_: object) -> str:
    return to_json(doc)


def render_markdown(doc: dict, **_: object) -> str:
    return environment(True).get_template("report.md.j2").render(doc=doc)


def render_html(doc: dict, **_: object) -> str:
    return environment(False).get_template("report.html.j2").render(doc=doc)


RENDERERS: dict[str, Callable[..., str]] = {
    "terminal": terminal.render,
    "json": render_json,
    "md": render_markdown,
    "html": render_html,
}
