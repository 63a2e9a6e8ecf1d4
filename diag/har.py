"""Browser captures (HAR 1.2, SAML-tracer): every SAML message, the login's redirect chain, and error pages.

Both capture formats are first turned into :class:`Exchange` records (one request and its response); one builder,
:func:`content_from_exchanges`, then finds the messages, the hops that matter and the error pages, so HAR and
SAML-tracer input mean exactly the same thing downstream.

HAR variants accepted (HAR 1.2 spec, http://www.softwareishard.com/blog/har-12-spec/, as browsers write it):
Chrome/Edge add ``_resourceType`` and other ``_`` private fields and give both ``postData.params`` and ``.text``;
Firefox and Playwright may give only one of them; response bodies may be ``encoding: base64``; the redirect
target is ``response.redirectURL`` or only the ``Location`` header; ``startedDateTime`` may lack milliseconds.
Every value is untrusted: wrong types are skipped, strings and counts are bounded.
"""
from __future__ import annotations

import base64
import binascii
import bisect
import functools
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any
from urllib.parse import urljoin, urlsplit

import msgspec
from lxml import etree
from msgspec import Raw, Struct
from msgspec.structs import replace

from ssodiag.diag.decode import (
    SamlParams, decode_saml_value, pairs_look_encoded, parse_saml_params, saml_params_from_pairs,
)
from ssodiag.diag.errors import InputError
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.text import error_text
from ssodiag.diag.limits import MAX_HAR_ENTRIES, MAX_TEXT_EXCERPT
from ssodiag.diag.model import Cookie, ErrorPage, Flow, FlowHop, Initiation, MessageKind, SamlMessage
from ssodiag.diag.saml import parse_instant, parse_message

MAX_URL_CHARS = 4096  # a URL kept in the model (a signed Redirect URL is a few KB; longer ones are cut)
MAX_URLS = 1000  # distinct request URLs kept for connector detection
MAX_COOKIES = 500  # distinct cookies kept (name, host, value) for connector detection and tracking IDs
MAX_COOKIE_VALUE = 200
MAX_PAGE_CHARS = 1_000_000  # of an HTML page parsed for its visible text; a SAML error page is a few KB
MAX_BODY_CHARS = 16 * 1024 * 1024  # of a request body or a URL searched for SAML parameters
PLAUSIBLE_CAPTURE_YEARS = (2005, 2199)
MAX_MESSAGES = 500  # SAML messages read from one capture; a login has a handful, a long session dozens
# Bytes of SAML XML decoded from one capture, all messages together: each may inflate to MAX_INFLATED_BYTES, and a
# few KB of DEFLATE per message would otherwise make gigabytes of XML (a login's messages are tens of KB each).
MAX_DECODED_BYTES = 32 * 1024 * 1024

# Endpoints that start or carry a login, kept as hops even without SAML parameters: SimpleSAMLphp's SSO service,
# Keycloak's broker and SAML protocol endpoints, and each declared vendor's login paths (diag.connectors).
# How to record a capture that keeps the SAML POST (Chrome clears the Network panel on every navigation otherwise)
RECAPTURE_WITH_POST = ("Capture again: Developer tools → Network → tick \"Preserve log\", sign in, then Export HAR "
                       "with the content (Chrome: \"Export HAR (with sensitive data)…\")")
LOGIN_PATH = r"/saml2/idp/SSOService\.php|/broker/[^/]+/endpoint|/protocol/saml\b"


@functools.cache
def login_path() -> re.Pattern[str]:
    from ssodiag.diag.connectors import login_path_pattern

    vendors = login_path_pattern()
    return LazyRegex(LOGIN_PATH + (f"|{vendors.pattern}" if vendors else ""), re.IGNORECASE)

# Keycloak's login-theme sentences (messages_en.properties): what Atlan's login shows. Vendor error texts are
# declared by each vendor's module (diag.connectors); :func:`known_error_text` joins both.
# Detection only: which failure each one means is decided by the checks.
KEYCLOAK_ERROR_TEXT = (
    r"Invalid requester", r"Invalid signature in response from identity provider",
    r"Invalid response from identity provider", r"Unexpected error when authenticating with identity provider",
    r"Missing state parameter in response from identity provider",
    r"Could not find an identity provider with the identifier",
    r"Could not authenticate with identity provider", r"Unexpected error when handling (?:response|authentication request)",
    r"Could not send authentication request to identity provider", r"No relay state in response from identity provider",
    r"Unsupported NameIDFormat", r"is already linked to another user", r"already exists\. (?:Please login|How do you want)",
    r"authenticated with identity provider .{0,80} does not exist", r"(?:Username|Email) already exists",
    r"You are already authenticated as different user", r"Login timeout\. Please sign in again",
    r"This page is no longer valid", r"Cookie not found\. Please make sure cookies are enabled",
    r"An error occurred, please login again through your application", r"Page has expired",
    r"Invalid redirect uri", r"Invalid Request", r"Account is disabled", r"Access denied when authenticating with",
    r"An internal server error has occurred", r"Update Account Information", r"Please specify (?:email|first name|last name)",
)


# Where an error text is looked for: an error page shows it near the top, and one search over a megabyte of hostile
# text with every vendor's patterns takes seconds.
MAX_ERROR_SEARCH_CHARS = 64 * 1024  # of visible text
MAX_RAW_SEARCH_CHARS = 256 * 1024  # of a raw HTML body (inline scripts and styles come before the text)


def find_known_error(text: str, limit: int = MAX_ERROR_SEARCH_CHARS) -> re.Match[str] | None:
    """The first known error text in the first ``limit`` characters of ``text``."""
    return known_error_text().search(text[:limit])


@functools.cache
def known_error_text() -> re.Pattern[str]:
    """Every error text a user may see in a login: Keycloak's, and each declared vendor's (built on first use)."""
    from ssodiag.diag.connectors import page_text_pattern

    return re.compile("|".join(KEYCLOAK_ERROR_TEXT) + "|" + page_text_pattern().pattern, re.IGNORECASE)


class PageScanBudget(Struct):
    """Characters of page text one capture may search for error texts: a HAR of thousands of big pages would
    otherwise take minutes. Pages after it is spent count as errors only by their HTTP status."""

    remaining: int = 4_000_000
    exhausted_at: int | None = None  # the entry at which it ran out

    def allows(self, text: str, index: int) -> bool:
        if self.remaining <= 0:
            self.exhausted_at = index if self.exhausted_at is None else self.exhausted_at
            return False
        self.remaining -= min(len(text), MAX_RAW_SEARCH_CHARS)
        return True


class Exchange(Struct, frozen=True):
    """One request and its response, as HAR and SAML-tracer both describe it."""

    index: int  # position in the capture file (HAR log.entries[index], SAML-tracer requests[index])
    time: datetime | None
    method: str
    url: str
    status: int | None
    location: str | None  # redirect target, absolute
    form: SamlParams | None  # SAML fields of the request body
    is_document: bool  # a page the user saw (navigation), not an image/script/XHR
    page: str | None = None  # response body of a document, bounded
    page_form: SamlParams | None = None  # a SAML form in that page, which the browser posts next
    decoded_xml: bytes | None = None  # SAML-tracer's own decoded copy; used only when no encoded value exists
    cookies: tuple[Cookie, ...] = ()  # sent with the request or set by the response


class HarContent(Struct, frozen=True):
    """What one capture holds: its SAML messages, login flow, error pages, URLs and cookies."""

    messages: tuple[SamlMessage, ...]
    flow: Flow | None  # None when the capture holds nothing SAML-related
    error_pages: tuple[ErrorPage, ...]
    urls: tuple[str, ...]
    problems: tuple[str, ...] = ()  # SAML values that could not be decoded, one line each
    cookies: tuple[Cookie, ...] = ()
    entries: int = 0
    skipped: tuple[str, ...] = ()  # entries that are not HAR/SAML-tracer entries: "entry 3 (no request.url)"


# --------------------------------------------------------------------------- page text


def _html_root(html: str) -> etree._Element | None:
    import lxml.html  # only for a page: a capture without one, or a message given alone, never needs it

    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, recover=True)
    try:
        return lxml.html.document_fromstring(html[:MAX_PAGE_CHARS], parser=parser)
    except (etree.ParserError, ValueError):  # empty document, or only whitespace
        return None


def visible_text(html: str) -> str:
    """What a person sees on an HTML page: no scripts, styles or markup, whitespace collapsed. No network."""
    root = _html_root(html)
    if root is None:
        return ""
    for element in list(root.iter("script", "style", "noscript", "template")):
        element.drop_tree()
    # itertext, not text_content: "<h1>Error</h1><p>Invalid requester</p>" reads as two words, not one
    return " ".join(" ".join(root.itertext()).split())


def saml_form(html: str) -> SamlParams | None:
    """The SAML fields of an HTML form: the POST binding's auto-submitting page (SAML bindings §3.5.4)."""
    if "SAMLResponse" not in html and "SAMLRequest" not in html:
        return None
    root = _html_root(html)
    for form in root.iter("form") if root is not None else ():
        # attribute values come out of the HTML parser already entity-decoded: they are not URL-encoded
        pairs = [(field.get("name") or "", field.get("value") or "") for field in form.iter("input")]
        params = saml_params_from_pairs(pairs, encoded=False)
        if params is not None and params.message_value is not None:
            return params
    return None


def error_excerpt(text: str) -> str:
    """At most MAX_TEXT_EXCERPT characters of ``text``, around the first known error string if there is one."""
    start, end = excerpt_bounds(text)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def excerpt_bounds(text: str) -> tuple[int, int]:
    """Where :func:`error_excerpt` cuts ``text``: the part of it the excerpt shows (a cut is marked with "…")."""
    if len(text) <= MAX_TEXT_EXCERPT:
        return 0, len(text)
    match = find_known_error(text)
    start = max(0, match.start() - MAX_TEXT_EXCERPT // 3) if match else 0
    end = start + MAX_TEXT_EXCERPT - (1 if start else 0)
    return start, end - 1 if end < len(text) else end


def page_text(body: str) -> str:
    """Visible text of a response body: markup is rendered to text, anything else is taken as text."""
    if body.lstrip().startswith("<"):
        return visible_text(body)
    return " ".join(body[:MAX_PAGE_CHARS].split())


# --------------------------------------------------------------------------- the shared builder


def short_url(url: str) -> str:
    """scheme://host/path of a URL, for a human locator (the query can be kilobytes of SAMLRequest)."""
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else url.split("?", 1)[0]
    return shown[:200]


def hop_label(source: str, ex: Exchange, where: str = "request") -> str:
    """Human locator of a hop: "login.har entry 14: POST https://host/path"."""
    of = {"location": "Location header of ", "form": "form in the page of "}.get(where, "")
    return f"{source} entry {ex.index}: {of}{ex.method} {short_url(ex.url)}"


def _message_sources(ex: Exchange) -> list[tuple[str, SamlParams, str]]:
    """(where, params, binding) for each SAML value the exchange carries, in the order the browser sent them."""
    found = []
    # most requests of a capture carry no SAML: the parameter names are case-sensitive (SAML bindings §3.4.4)
    if "SAML" in ex.url and "?" in ex.url and len(ex.url) <= MAX_BODY_CHARS:
        params = parse_saml_params(ex.url)
        if params and params.message_value is not None:
            found.append(("query", params, "redirect"))
    if ex.form and ex.form.message_value is not None:
        found.append(("body", ex.form, "post"))
    if ex.location and "SAML" in ex.location and "?" in ex.location:
        params = parse_saml_params(ex.location)
        if params and params.message_value is not None:
            found.append(("location", params, "redirect"))
    if ex.page_form is not None:
        found.append(("form", ex.page_form, "post"))
    return found


def _relay_state(ex: Exchange) -> str | None:
    if ex.form and ex.form.relay_state is not None:
        return ex.form.relay_state
    params = parse_saml_params(ex.url) if "RelayState=" in ex.url else None
    return params.relay_state if params else None


def content_from_exchanges(exchanges: Sequence[Exchange], source: str) -> HarContent:
    """Messages, flow, error pages and URLs of one capture, in time order."""
    ordered = list(exchanges)
    if all(ex.time is not None for ex in ordered):
        ordered.sort(key=attrgetter("time"))  # stable: equal times keep file order
    messages: list[SamlMessage] = []
    problems: list[str] = []
    hop_message: dict[int, int] = {}  # position in ``ordered`` -> index into ``messages``
    hands_on: set[int] = set()  # positions whose message is in the response, for the next request
    handed_on: dict[bytes, int] = {}  # a message handed on by a Location or a form, awaiting its request
    error_pages: list[ErrorPage] = []
    sso_hops: set[int] = set()
    excerpts: dict[int, str] = {}

    decoded_bytes = 0  # of every message decoded so far: inflating is where a small capture becomes a big one
    login = login_path()
    for pos, ex in enumerate(ordered):
        for where, params, binding in _message_sources(ex):
            if len(messages) >= MAX_MESSAGES or decoded_bytes >= MAX_DECODED_BYTES:
                if not problems or not problems[-1].endswith("the rest are not read"):
                    bound = (f"over {MAX_MESSAGES} SAML messages" if len(messages) >= MAX_MESSAGES else
                             f"SAML messages of over {MAX_DECODED_BYTES} bytes in all once decoded")
                    problems.append(f"{hop_label(source, ex)}: {bound}, the rest are not read")
                break
            message_index, size = _add_message(messages, problems, handed_on, ex, params, binding,
                                               hop_label(source, ex, where), where)
            decoded_bytes += size
            if message_index is not None:
                if pos not in hop_message and where in ("location", "form"):
                    hands_on.add(pos)
                hop_message.setdefault(pos, message_index)
                sso_hops.add(pos)
        if pos not in hop_message and ex.decoded_xml is not None:
            message_index = _add_decoded(messages, problems, ex, hop_label(source, ex))
            if message_index is not None:
                hop_message[pos] = message_index
                sso_hops.add(pos)
        query = ex.url.find("?")  # the path is searched without copying it out of the URL
        if _relay_state(ex) is not None or login.search(ex.url, 0, query if query >= 0 else len(ex.url)):
            sso_hops.add(pos)
        page = _error_page(ex, source)
        if page is not None:
            error_pages.append(page)
            excerpts[pos] = page.text
            sso_hops.add(pos)

    positions = _with_redirect_chains(ordered, sso_hops)
    hops = tuple(
        FlowHop(index=ex.index, time=ex.time, method=ex.method, url=ex.url[:MAX_URL_CHARS], status=ex.status,
                redirect_to=ex.location[:MAX_URL_CHARS] if ex.location else None,
                message_index=hop_message.get(pos), hands_on=pos in hands_on, relay_state=_relay_state(ex),
                page_excerpt=excerpts.get(pos))
        for pos, ex in ((p, ordered[p]) for p in positions)
    )
    pairs, initiation = _correlate(messages)
    flow = Flow(source=source, hops=hops, initiation=initiation, pairs=pairs) if hops else None
    urls = tuple(dict.fromkeys(ex.url[:MAX_URL_CHARS] for ex in ordered))[:MAX_URLS]
    cookies = tuple(dict.fromkeys(c for ex in ordered for c in ex.cookies))[:MAX_COOKIES]
    return HarContent(messages=tuple(messages), flow=flow, error_pages=tuple(error_pages), urls=urls,
                      problems=tuple(problems), entries=len(ordered), cookies=cookies)


def _add_message(messages: list[SamlMessage], problems: list[str], handed_on: dict[bytes, int],
                 ex: Exchange, params: SamlParams, binding: str, label: str, where: str) -> tuple[int | None, int]:
    """(index of the message in ``messages``, or None when it cannot be read; bytes of XML decoded)."""
    try:
        xml, layers = decode_saml_value(params.message_value, label)
    except InputError as exc:
        problems.append(error_text(exc))
        return None, 0
    # A Location header or an auto-submitting form hands the message to the browser's next request.
    forwarded = where in ("location", "form")
    try:
        message = parse_message(xml, source=label, binding=binding, encoding_layers=layers,
                                relay_state=params.relay_state, redirect_signature=params.redirect_signature,
                                captured_at=capture_instant(ex.time))
    except InputError as exc:
        problems.append(error_text(exc))
        return None, len(xml)
    if not forwarded and xml in handed_on:
        # The message the previous response handed on: one message on two hops, described as the request
        # that delivered it (its URL, binding and time are what the receiver saw).
        index = handed_on.pop(xml)
        messages[index] = message
        return index, len(xml)
    messages.append(message)
    if forwarded:
        handed_on[xml] = len(messages) - 1
    return len(messages) - 1, len(xml)


def capture_instant(time: datetime | None) -> datetime | None:
    """The capture time a message is judged at, or None (judge at now) when the browser's timestamp is implausible:
    a year before SAML 2.0 (2005) or centuries ahead is a broken or forged clock, not the time of the login, and
    time-window arithmetic on it overflows."""
    first, last = PLAUSIBLE_CAPTURE_YEARS
    return time if time is not None and first <= time.year <= last else None


def _add_decoded(messages: list[SamlMessage], problems: list[str], ex: Exchange, label: str) -> int | None:
    binding = "post" if ex.method.upper() == "POST" else "redirect"
    try:
        message = parse_message(ex.decoded_xml, source=label, binding=binding, encoding_layers=(),
                                relay_state=_relay_state(ex), captured_at=capture_instant(ex.time))
    except InputError as exc:
        problems.append(error_text(exc))
        return None
    messages.append(message)
    return len(messages) - 1


def _error_page(ex: Exchange, source: str) -> ErrorPage | None:
    """An ErrorPage for a 4xx/5xx document, any document showing a known error string, or a failed JSON answer
    holding one."""
    if not ex.is_document and not ex.page:
        return None
    failed = ex.status is not None and ex.status >= 400
    if not failed and not ex.page:
        return None  # a page is kept only when it failed or showed a known error text (_har_exchange)
    text = page_text(ex.page) if ex.page else ""
    if (not failed or not ex.is_document) and not find_known_error(text):
        return None  # the error string was only in a script or attribute, not shown
    shown = error_excerpt(text) if text else f"HTTP {ex.status} (no page text captured)"
    return ErrorPage(source=hop_label(source, ex), text=shown, url=ex.url[:MAX_URL_CHARS], status=ex.status)


def _with_redirect_chains(ordered: Sequence[Exchange], sso_hops: set[int]) -> list[int]:
    """``sso_hops`` plus the redirects leading to and from each of its hops (the ACS POST and what followed)."""
    by_url: dict[str, list[int]] = {}
    by_location: dict[str, list[int]] = {}
    for pos, ex in enumerate(ordered):
        by_url.setdefault(ex.url, []).append(pos)
        if ex.location:
            by_location.setdefault(ex.location, []).append(pos)
    keep = set(sso_hops)
    for start in sorted(sso_hops):
        pos = start
        while ordered[pos].location:  # forward: the first later request to where each redirect pointed
            later = by_url.get(ordered[pos].location, [])
            at = bisect.bisect_right(later, pos)
            if at == len(later) or later[at] in keep:
                break
            pos = later[at]
            keep.add(pos)
        pos = start
        while True:  # backward: the last earlier redirect that pointed here
            earlier = by_location.get(ordered[pos].url, [])
            at = bisect.bisect_left(earlier, pos)
            if at == 0 or earlier[at - 1] in keep:
                break
            pos = earlier[at - 1]
            keep.add(pos)
    return sorted(keep)


def _correlate(messages: Sequence[SamlMessage]) -> tuple[tuple[tuple[str, str], ...], Initiation]:
    """(AuthnRequest ID, Response ID) pairs matched by InResponseTo (SAML core §3.2.2), and who started the login."""
    requests = {m.id for m in messages if m.kind is MessageKind.AUTHN_REQUEST and m.id}
    responses = [m for m in messages if m.kind is MessageKind.RESPONSE]
    pairs = tuple(dict.fromkeys((r.in_response_to, r.id or "") for r in responses if r.in_response_to in requests))
    if pairs:
        return pairs, Initiation.SP
    if any(r.in_response_to is None for r in responses):
        return pairs, Initiation.IDP
    return pairs, Initiation.UNKNOWN


# --------------------------------------------------------------------------- HAR


def read_har(data: bytes | dict | Iterable[Any], source: str) -> HarContent:
    """Read a HAR into messages, flow, error pages and URLs: from bytes of JSON, the parsed object, or its
    ``log.entries`` items (:class:`HarEntry` views or parsed items: :func:`ssodiag.diag.capture_stream.har_entries`).

    Entries are read leniently: one that is not a HAR entry is skipped, and named with the reason."""
    if isinstance(data, (bytes, dict)):
        har = load_json(data, source) if isinstance(data, bytes) else data
        log = har.get("log") if isinstance(har, dict) else None
        data = log.get("entries") if isinstance(log, dict) else None
        if not isinstance(data, list):
            raise InputError("not a HAR: no log.entries list", source)
        if len(data) > MAX_HAR_ENTRIES:
            raise InputError(f"HAR has {len(data)} entries, over the {MAX_HAR_ENTRIES}-entry limit", source)
    exchanges: list[Exchange] = []
    skipped: list[str] = []
    budget = PageScanBudget()
    for index, item in enumerate(data, start=1):  # numbered from 1, as browsers' network panels number them
        entry = item if isinstance(item, HarEntry) else har_entry(item)
        exchange = _har_exchange(index, entry, budget) if isinstance(entry, HarEntry) else entry
        if isinstance(exchange, str):
            skipped.append(f"entry {index} ({exchange})")
        else:
            exchanges.append(exchange)
    content = content_from_exchanges(exchanges, source)
    if budget.exhausted_at is not None:
        content = replace(content, problems=content.problems + (
            f"{source}: pages from entry {budget.exhausted_at} on were not searched for error messages (the "
            "capture's page-text budget is spent); failed requests are still reported by their status",))
    return replace(content, skipped=tuple(skipped))


# A `\uD800`-`\uDFFF` escape that is not half of a surrogate pair (RFC 8259 §8.2 allows it) decodes to a string no
# UTF-8 writer accepts, so one such value in a HAR URL crashed every written report. Pairs are kept; a lone half
# becomes U+FFFD. (An escaped backslash before `u` is read as the same pattern: only that literal text changes.)
SURROGATE_ESCAPE = LazyRegex(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a pair
                              rb"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # a lone half


def _pair_or_replacement(match: re.Match[bytes]) -> bytes:
    return match.group(0) if len(match.group(0)) == 12 else rb"\ufffd"


def replace_lone_surrogates(data: bytes) -> bytes:
    """JSON text with each escaped lone surrogate half written as the escape of U+FFFD."""
    return SURROGATE_ESCAPE.sub(_pair_or_replacement, data)


def load_json(data: bytes, source: str) -> Any:
    """Parse untrusted JSON; one-line :class:`InputError` for bad syntax or hostile nesting."""
    try:
        return json.loads(replace_lone_surrogates(data))
    except RecursionError:
        raise InputError("JSON is nested too deeply", source) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"invalid JSON: {error_text(exc)}", source) from None


# --------------------------------------------------------------------------- an entry decoded by msgspec


# A HAR entry as the reading sees it: only the keys it uses, each of the type browsers write. The mapped reading
# (:func:`ssodiag.diag.capture_stream.mapped_har_entries`) has msgspec decode a whole file into these, skipping every
# other key without building it; values few entries need (bodies, headers, cookies, form data: the fields typed Raw)
# stay raw JSON until asked for, since a "Preserve log" session is mostly 20 KB script bodies nothing reads. A parsed
# entry (the streamed reading, a parsed document) is turned into the same views by :func:`har_entry`, where a value
# of another type reads as absent and a Raw field holds the parsed value, so both readings mean the same.


def _json(value: Any) -> Any:
    """The value of a Raw field: raw JSON parsed, or the value a parsed entry already gave it."""
    return msgspec.json.decode(value) if isinstance(value, Raw) else value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class HarBody(Struct, gc=False):
    """``response.content``."""

    mimeType: str | None = None
    text: Raw = None  # type: ignore[assignment]  # a JSON string, parsed only for a page
    encoding: str | None = None

    @classmethod
    def of(cls, value: Any) -> HarBody | None:
        if not isinstance(value, dict):
            return None
        return cls(_str(value.get("mimeType")), value.get("text"), _str(value.get("encoding")))


class HarRequest(Struct, gc=False):
    method: str | None = None
    url: str | None = None
    headers: Raw = None  # type: ignore[assignment]
    postData: Raw = None  # type: ignore[assignment]
    cookies: Raw = None  # type: ignore[assignment]

    @classmethod
    def of(cls, value: Any) -> HarRequest:
        if not isinstance(value, dict):
            return cls()
        return cls(_str(value.get("method")), _str(value.get("url")), value.get("headers"),
                   value.get("postData"), value.get("cookies"))


class HarResponse(Struct, gc=False):
    status: int | None = None
    headers: Raw = None  # type: ignore[assignment]
    redirectURL: str | None = None
    content: HarBody | None = None
    cookies: Raw = None  # type: ignore[assignment]

    @classmethod
    def of(cls, value: Any) -> HarResponse | None:
        if not isinstance(value, dict):
            return None
        status = value.get("status")
        return cls(status if isinstance(status, int) and not isinstance(status, bool) else None,
                   value.get("headers"), _str(value.get("redirectURL")), HarBody.of(value.get("content")),
                   value.get("cookies"))


class HarEntry(Struct, gc=False):
    request: HarRequest  # required: the mapped reading leaves an entry without one to the streamed reading
    response: HarResponse | None = None
    startedDateTime: str | None = None
    resource_type: str | None = msgspec.field(default=None, name="_resourceType")  # Chrome's, Edge's


def har_entry(item: Any) -> HarEntry | str:
    """A parsed ``log.entries`` item as a :class:`HarEntry`, or why it is not a HAR entry."""
    if not isinstance(item, dict):
        return f"a JSON {type(item).__name__.replace('dict', 'object').replace('str', 'string')}, not an object"
    return HarEntry(HarRequest.of(item.get("request")), HarResponse.of(item.get("response")),
                    _str(item.get("startedDateTime")), _str(item.get("_resourceType")))


class HarLog(Struct, gc=False):
    entries: list[HarEntry]


class HarFile(Struct, gc=False):
    log: HarLog


def _string(value: Any) -> str:
    """A HAR field that should be a string; anything else (a hostile or broken capture) reads as empty."""
    return value if isinstance(value, str) else ""


def _object(value: Any) -> dict:
    """A HAR field that should be a JSON object; anything else reads as empty."""
    return value if isinstance(value, dict) else {}


def header(headers: Any, name: str) -> str | None:
    """First value of a header in a HAR/SAML-tracer header list (``[{"name":..,"value":..}]``) or dict."""
    name = name.lower()
    if isinstance(headers, dict):
        for key, value in headers.items():
            if isinstance(key, str) and isinstance(value, str) and key.lower() == name:
                return value
    elif isinstance(headers, list):
        # A 20-header list is searched for each of 10,000s of requests: one plain loop, and names of another
        # length passed over before lower() (a generator of pairs was half of the per-entry reading time)
        size = len(name)
        for item in headers:
            if isinstance(item, dict):
                key = item.get("name")
                if isinstance(key, str) and len(key) == size and key.lower() == name:
                    value = item.get("value")
                    if isinstance(value, str):
                        return value
    return None


def status_code(value: Any) -> int | None:
    """An HTTP status; Chrome writes 0 (and some tools -1) for a request that got no response."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 999 else None


def is_redirect(status: int | None) -> bool:
    """A 3xx answer: the only one whose Location header the browser follows."""
    return status is not None and 300 <= status < 400


def redirect_target(url: str, location: str | None) -> str | None:
    """A redirect's Location, made absolute against the URL it answered; None when there is none."""
    return urljoin(url, location.strip())[:MAX_BODY_CHARS] if location else None


NO_RESPONSE = HarResponse()
NO_BODY = HarBody()


def _har_exchange(index: int, entry: HarEntry, budget: PageScanBudget) -> Exchange | str:
    """The exchange an entry describes, or why it is not a HAR entry."""
    request, response = entry.request, entry.response or NO_RESPONSE
    url = request.url
    if not url:
        return "no request.url"
    status = status_code(response.status)
    # Headers are read and searched only when their answer is used: a Location only on a redirect (is_redirect),
    # a Content-Type without a mimeType, an Accept only when the content type does not already say it is a page.
    location = (redirect_target(url, response.redirectURL or header(_json(response.headers), "location"))
                if is_redirect(status) else None)
    content = response.content or NO_BODY
    mime = (content.mimeType or header(_json(response.headers), "content-type") or "").lower()
    if entry.resource_type is not None:  # Chrome / Edge say what the request was for
        is_document = entry.resource_type == "document"
    else:
        is_document = ("html" in mime or "text/plain" in mime
                       or (header(_json(request.headers), "accept") or "").startswith("text/html"))
    failed = status is not None and status >= 400
    # A sign-in form shows its error from a failed API call (Okta's widget: a 401 JSON with "E0000004"), so a
    # failed JSON answer is read too; it counts only if it holds a known error text (_error_page).
    page = har_body(_json(content.text), content.encoding) if is_document or (failed and "json" in mime) else None
    page_form = saml_form(page) if page else None
    if page is not None and not failed and not (budget.allows(page, index)
                                                and find_known_error(page, MAX_RAW_SEARCH_CHARS)):
        page = None  # neither failed nor showing a known error: not kept, so memory follows the error pages only
    # Most requests of a session post nothing and carry no cookie: those are not looked into
    post = _json(request.postData)
    sent, received = _json(request.cookies), _json(response.cookies)
    return Exchange(index=index, time=parse_instant(entry.startedDateTime or None),
                    method=(request.method or "").upper()[:16] or "GET", url=url, status=status,
                    location=location, form=_har_form(post) if isinstance(post, dict) else None,
                    is_document=is_document, page=page, page_form=page_form,
                    cookies=_har_cookies(url, sent, received) if sent or received else ())


def _har_cookies(url: str, *lists: Any) -> tuple[Cookie, ...]:
    """The cookies of a HAR entry (request.cookies and response.cookies, HAR 1.2 §cookies), bounded."""
    found = []
    host = None  # of the URL, for cookies without a domain; most requests have no cookies, so split only then
    for cookies in lists:
        for item in cookies[:100] if isinstance(cookies, list) else ():
            name = _string(_object(item).get("name"))[:100]
            if name:
                domain = _string(_object(item).get("domain")).lstrip(".")[:253]
                if not domain and host is None:
                    host = (urlsplit(url).hostname or "")[:253]
                found.append(Cookie(name=name, host=domain or host,
                                    value=_string(_object(item).get("value"))[:MAX_COOKIE_VALUE]))
    return tuple(found)


def _har_form(post: dict) -> SamlParams | None:
    text = _string(post.get("text"))
    if text and "=" in text[:MAX_BODY_CHARS]:
        return parse_saml_params(text[:MAX_BODY_CHARS])
    params = post.get("params")
    if not isinstance(params, list):
        return None
    pairs = [(_string(p.get("name")), _string(p.get("value"))) for p in params[:200] if isinstance(p, dict)]
    # Chrome writes params as sent (URL-encoded); Firefox writes them decoded.
    return saml_params_from_pairs(pairs, encoded=pairs_look_encoded(pairs))


_GZIP_MAGIC = b"\x1f\x8b"


def har_body(text: Any, encoding: Any) -> str | None:
    """The body (``content.text`` and ``.encoding`` of a HAR response) as text; None when it is missing or binary
    (an image, or a compression we cannot undo)."""
    if not isinstance(text, str) or not text:
        return None
    if encoding == "base64":
        try:
            raw = base64.b64decode(text[:MAX_PAGE_CHARS // 3 * 4], validate=False)
        except (binascii.Error, ValueError):
            return None
        if raw.startswith(_GZIP_MAGIC):
            # Some exporters (proxies, older DevTools) store the body still Content-Encoding: gzip (RFC 1952).
            try:
                raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, MAX_PAGE_CHARS)
            except zlib.error:
                return None
        if b"\0" in raw[:4096]:  # text never holds NUL; showing binary as "page text" would be noise
            return None
        return raw.decode("utf-8", errors="replace")
    return text[:MAX_PAGE_CHARS]
