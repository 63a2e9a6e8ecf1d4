"""The formatter table: one function per format, all taking the report document (reports.document)."""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

import jinja2

from reports import terminal
from reports.text import SEVERITY_ORDER, STATUS_LABEL, clip, problems

FORMATS = ("terminal", "json", "md", "html")


def render_json(doc: dict, **_: object) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def md_escape(value: object, limit: int = 300) -> str:
    """Inline Markdown-safe text: no backticks, pipes, HTML or link syntax from evidence values survive."""
    text = clip(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#!":
        text = text.replace(ch, "\\" + ch)
    return text


@lru_cache(maxsize=None)
def environment(markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=not markdown,  # HTML: every value escaped; Markdown: the md filter escapes explicitly
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clip"] = clip
    env.filters["md"] = md_escape
    env.globals.update(STATUS_LABEL=STATUS_LABEL, SEVERITY_ORDER=SEVERITY_ORDER, problems=problems)
    return env


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
