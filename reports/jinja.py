"""The jinja2 environment shared by the Markdown and HTML renderers (analyze reports and group-sync plans)."""
from __future__ import annotations

import re
from functools import lru_cache

import jinja2
from markupsafe import Markup, escape

from ssodiag.diag.text import clip
from ssodiag.reports.text import SEVERITY_ORDER, STATUS_LABEL, judgement_line, plan_view, problems


def md_escape(value: object, limit: int = 300) -> str:
    """Inline Markdown-safe text: no backticks, pipes, HTML or link syntax from evidence values survive."""
    text = clip(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#!":
        text = text.replace(ch, "\\" + ch)
    return text


_BACKTICKED = re.compile(r"`([^`]+)`")


def html_code_spans(value: object, limit: int = 1000) -> Markup:
    """Clipped, escaped text whose `backticked` values (how findings quote evidence) render as <code>."""
    escaped = str(escape(clip(value, limit)))
    return Markup(_BACKTICKED.sub(r"<code>\1</code>", escaped))


@lru_cache(maxsize=None)
def environment(markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ssodiag.reports", "templates"),
        autoescape=not markdown,  # HTML: every value escaped; Markdown: the md filter escapes explicitly
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clip"] = clip
    env.filters["md"] = md_escape
    env.filters["code"] = html_code_spans
    env.globals.update(STATUS_LABEL=STATUS_LABEL, SEVERITY_ORDER=SEVERITY_ORDER, problems=problems,
                       groupsync_view=plan_view, judgement_line=judgement_line)
    return env
