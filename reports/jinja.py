"""The jinja2 environment shared by the Markdown and HTML renderers (analyze reports and group-sync plans)."""
from __future__ import annotations

import re
from functools import lru_cache

import jinja2
from markupsafe import Markup, escape

from ssodiag.diag.text import CLIP_MARK, clip
from ssodiag.reports.text import INITIATION_LABEL, SEVERITY_ORDER, STATUS_LABEL, judgement_line, plan_view, problems


_BACKTICKED = re.compile(r"`([^`]+)`")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_BACKTICK_RUN = re.compile(r"`+")
_ESCAPING_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~])")  # a backslash CommonMark would read as an escape


def md_code(value: object, limit: int = 300, table: bool = False) -> str:
    """A value as a Markdown code span: shown literally by GitHub, Jira and Zendesk alike (no HTML, no links). The
    fence is longer than any backtick run inside (CommonMark §6.1); in a table `|` is escaped, as GFM requires."""
    if value is None:
        return "—"
    text = clip(value, limit)
    longest_run = max(map(len, _BACKTICK_RUN.findall(text)), default=0) if "`" in text else 0
    fence = "`" * (longest_run + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def _md_plain(text: str) -> str:
    """Prose outside code spans: only what would turn into HTML, a link or a table cell boundary is escaped."""
    if "\\" in text:  # each regex substitution costs a Python call per use: a report has thousands of sentences
        text = _ESCAPING_BACKSLASH.sub(r"\\\\", text)
    text = text.replace("`", "'").replace("](", "]\\(").replace("|", "\\|")
    return _TAG_START.sub("\\\\<", text) if "<" in text else text


def _clipped(value: object, limit: int) -> str:
    """``clip``, with a backticked value the cut left open closed again (`https://acme.atlan.com…`), so that it
    still renders as code, not as a stray backtick."""
    text = clip(value, limit)
    return text + "`" if text.endswith(CLIP_MARK) and text.count("`") % 2 else text


def md_escape(value: object, limit: int = 300) -> str:
    """Inline Markdown for a sentence whose `backticked` values (how findings quote evidence) become code spans;
    pastes cleanly into GitHub, Jira and Zendesk (no `\\``, no `&lt;`), and no HTML or link from a value survives."""
    parts = _BACKTICKED.split(_clipped(value, limit))
    return "".join(md_code(part, limit, table=True) if index % 2 else _md_plain(part)
                   for index, part in enumerate(parts))


def md_value(value: object, limit: int = 300) -> str:
    """An evidence value in Markdown, as ``html_value`` shows it: one code span, or, when the text quoting it marks
    its values with backticks, that text with those values as code spans (a code span would show the backticks)."""
    if value is None:
        return "—"
    text = str(value)
    return md_escape(text, limit) if "`" in text else md_code(text, limit)


def html_code_spans(value: object, limit: int = 1000) -> Markup:
    """Clipped, escaped text whose `backticked` values (how findings quote evidence) render as <code>."""
    escaped = str(escape(_clipped(value, limit)))
    return Markup(_BACKTICKED.sub(_code_element, escaped))


def _code_element(match: re.Match[str]) -> str:  # faster than the template r"<code>\1</code>", expanded in Python
    return f"<code>{match.group(1)}</code>"


def html_value(value: object, limit: int = 1000) -> Markup:
    """An evidence value: code, whether or not the text quoting it used backticks; a dash when there is none."""
    if value is None:
        return Markup("—")
    text = str(value)
    if "`" in text:
        return html_code_spans(text, limit)
    return Markup(f"<code>{escape(clip(text, limit))}</code>")


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
    env.filters["value"] = html_value
    env.filters["mdcode"] = md_code
    env.filters["mdvalue"] = md_value
    env.globals.update(STATUS_LABEL=STATUS_LABEL, SEVERITY_ORDER=SEVERITY_ORDER, INITIATION_LABEL=INITIATION_LABEL,
                       problems=problems, groupsync_view=plan_view, judgement_line=judgement_line)
    return env
