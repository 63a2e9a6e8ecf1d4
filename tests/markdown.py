"""How a Markdown report looks once a ticket system renders it: CommonMark with raw HTML allowed and GFM tables,
as GitHub renders it (markdown-it-py, which rich already installs)."""
from __future__ import annotations

from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": True}).enable("table")


def as_html(markdown: str) -> str:
    return _RENDERER.render(markdown)


def live_tags(html: str) -> list[str]:
    """Elements a browser would create from evidence values: script, img, iframe, and links to javascript:."""
    lowered = html.lower()
    return [tag for tag in ("<script", "<img", "<iframe", "<svg", 'href="javascript:') if tag in lowered]
