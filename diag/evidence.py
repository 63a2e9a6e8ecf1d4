"""Load evidence files: read each once, detect what it is, parse it, and collect everything into :class:`Evidence`.

The user never says what a file is. Detection order: JSON (HAR, SAML-tracer export), XML (SAML message or
metadata), an HTML page, a certificate, text holding a URL or form body with SAML parameters, a bare encoded SAML
value, and finally plain text showing a known error message. A file that cannot be read becomes a
:class:`LoadedInput` with a one-line ``error`` and the other files still load. Input files are only read.
"""
from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Sequence
from typing import BinaryIO, TypeVar

from msgspec import Struct
from msgspec.structs import replace

from ssodiag.diag.certs import is_certificate_bytes, load_certificates
from ssodiag.diag.decode import SamlParams, decode_saml_value, looks_like_xml, parse_saml_params
from ssodiag.diag.errors import InputError
from ssodiag.diag.capture_stream import (
    capture_key, har_entries, mapped_har_entries, tracer_requests, tracer_timestamp,
)
from ssodiag.diag.files import open_file, read_at_most
from ssodiag.diag.har import (
    MAX_COOKIES, MAX_URLS, HarContent, error_excerpt, find_known_error, load_json, page_text, read_har, saml_form,
)
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.limits import MAX_CAPTURE_BYTES, MAX_FILE_BYTES
from ssodiag.diag.metadata import parse_metadata
from ssodiag.diag.model import (
    Certificate, Cookie, ErrorPage, Evidence, Flow, InputKind, LoadedInput, Metadata, SamlMessage,
)
from ssodiag.diag.saml import classify_xml, parse_message
from ssodiag.diag.tracer import read_saml_tracer
from ssodiag.diag.xmlparse import local_name, parse_xml

NOT_RECOGNISED = "not recognised as SAML, HAR, SAML-tracer, metadata or certificate"
STDIN = "-"
STDIN_IN_MEMORY_BYTES = 8 * 1024 * 1024  # standard input beyond this is spooled to an unnamed temporary file
MAX_CERT_FILE_BYTES = 1024 * 1024  # a PEM chain is a few KB; a bigger file is not sniffed as certificates
_UTF8_BOM = b"\xef\xbb\xbf"
_HTML_START = LazyRegex(rb"<(?:!doctype\s+html|html|head|body|title|meta|div|span|p|h[1-6])[\s>/]", re.IGNORECASE)
_ENCODED_TEXT = LazyRegex(r"[A-Za-z0-9+/=_\-%\s]+")
# Encoded SAML has long unbroken runs (base64 lines are 64-76 characters); prose has short words.
_ENCODED_RUN = LazyRegex(r"[^\s]{40}")
# The parameter name, even when a line wrap cut it (`...?SAMLRes` / `ponse=...`); searched without copying the text.
_SAML_PARAM_NAME = LazyRegex(r"S\s*A\s*M\s*L\s*R\s*e\s*(?:q\s*u\s*e\s*s\s*t|s\s*p\s*o\s*n\s*s\s*e)")
# Quotes a value picks up when copied out of JSON, a shell command or code; base64 and URLs never hold them.
_PASTE_QUOTES = "\"'`"
# A URL alone (a launch link the user opened, e.g. PingFederate's startSSO.ping): no SAML message, but its host and
# parameters name the IdP and are judged as a launch URL.
_BARE_URL = LazyRegex(r"https?://[^\s\"'<>`]+", re.IGNORECASE)
# The tokens diag.redact puts for personal values (`<email-0123456789ab>`): text, even where it opens a document.
_REDACTION_TOKEN = LazyRegex(rb"<[a-z]+-[0-9a-f]{12}>")
# A value inside other text (a pasted e-mail or ticket): a run of the base64, base64url or URL-encoding alphabet as
# long as encoded SAML's, continued on the next lines where a mail program or a decoder wrapped it.
_EMBEDDED_VALUE = LazyRegex(r"[A-Za-z0-9+/=_%-]{40,}+(?:\r?\n[ \t]*+[A-Za-z0-9+/=_%-]++)*+")
MAX_EMBEDDED_CANDIDATES = 200  # runs tried as a SAML value in one text: a page of minified script holds many
# Several messages pasted into one text file, one after another, separated by a blank line.
_BLANK_LINE = LazyRegex(r"\r?\n[ \t]*\r?\n")
MAX_DOCUMENTS_PER_TEXT = 50  # each part is read, and a part of XML re-read when joined: bound the work
MIN_PASTED_VALUE = 100  # shorter arguments are file names, even when shaped like base64
MAX_ARGUMENT_VALUE = 2 * 1024 * 1024  # an operating system passes far less on a command line anyway
MAX_MULTI_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_SKIPPED_NAMED = 10  # skipped capture entries named in the input's detail; the rest are counted
T = TypeVar("T")


class _Parsed(Struct, frozen=True):
    """What one input contributed."""

    kind: InputKind
    detail: str
    messages: tuple[SamlMessage, ...] = ()
    metadata: tuple[Metadata, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    flow: Flow | None = None
    error_pages: tuple[ErrorPage, ...] = ()
    urls: tuple[str, ...] = ()
    cookies: tuple[Cookie, ...] = ()


def load_evidence(sources: Sequence[str], *, stdin: BinaryIO | None = None,
                  labels: Sequence[str] | None = None) -> Evidence:
    """Read, detect and parse every source (a path, or "-" for ``stdin``) into one :class:`Evidence`.

    ``labels`` names each source in the report instead of its path (a ticket's files, relative to its folder).
    """
    inputs: list[LoadedInput] = []
    parsed: list[_Parsed] = []
    for number, (path, label) in enumerate(zip(sources, labels or sources), start=1):
        name = "stdin" if path == STDIN else label
        pasted = path != STDIN and is_pasted_value(path)
        if pasted:
            name = _pasted_name(number, path)
        try:
            if path == STDIN:
                result = _read_stdin(stdin)
            elif pasted:
                result = _detect_and_parse(path.encode("utf-8", "surrogateescape"), name)
            else:
                result = _load_file(path)
        except InputError as exc:
            inputs.append(LoadedInput(source=name, kind=None, error=_input_error(str(exc), name, path)))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug on one file must not lose the others
            inputs.append(LoadedInput(source=name, kind=None,
                                      error=_input_error(f"could not be read ({type(exc).__name__}: {exc})", name)))
            continue
        inputs.append(LoadedInput(source=name, kind=result.kind, detail=result.detail))
        parsed.append(result)
    return _merge(inputs, parsed)


def is_pasted_value(argument: str) -> bool:
    """An argument that is no file but the evidence itself: a URL or form body carrying a SAML parameter, XML, or
    a long encoded value (`ssodiag decode 'https://idp.example.com/sso?SAMLRequest=…'`). A file of that name wins."""
    if len(argument) > MAX_ARGUMENT_VALUE or os.path.lexists(argument):  # lexists is False for an over-long name
        return False
    text = argument.strip().strip(_PASTE_QUOTES).strip()
    if _SAML_PARAM_NAME.search(text) and ("=" in text) or _BARE_URL.fullmatch(text):
        return True
    if text.startswith("<") and text.endswith(">"):
        return True
    return len(text) >= MIN_PASTED_VALUE and bool(_ENCODED_TEXT.fullmatch(text)) and bool(_ENCODED_RUN.search(text))


def _pasted_name(number: int, argument: str) -> str:
    """What the report calls a pasted argument: a URL when it is one (XML and form bodies hold `://` too)."""
    text = argument.strip().strip(_PASTE_QUOTES).lstrip().lower()
    return f"argument {number} ({'URL' if text.startswith(('https://', 'http://')) else 'pasted value'})"


def _load_file(path: str) -> _Parsed:
    with open_file(path, max_bytes=MAX_CAPTURE_BYTES) as fh:
        return _load_stream(fh, path)


def _load_stream(fh: BinaryIO, source: str) -> _Parsed:
    """A HAR or a SAML-tracer export is read from ``fh`` one entry at a time (its size is bounded by
    MAX_CAPTURE_BYTES only); anything else is read whole, up to MAX_FILE_BYTES, then detected."""
    head = fh.read(4096)
    body_start = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0
    fh.seek(body_start)
    key = capture_key(fh) if head[body_start:].lstrip()[:1] == b"{" else None
    if key == "log":
        entries = mapped_har_entries(fh)
        return _from_capture(read_har(har_entries(fh, source) if entries is None else entries, source),
                             InputKind.HAR, "HAR")
    if key == "requests":
        content = read_saml_tracer(tracer_requests(fh, source), source,
                                   timestamp=functools.partial(tracer_timestamp, fh, body_start))
        return _from_capture(content, InputKind.SAML_TRACER, "SAML-tracer export")
    fh.seek(0)
    data = read_at_most(fh, MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"is over the {MAX_FILE_BYTES}-byte limit for anything but a HAR or a SAML-tracer export",
                         source)
    return _detect_and_parse(data, source)


def _read_stdin(stdin: BinaryIO | None) -> _Parsed:
    """Standard input, copied to an anonymous temporary file (in memory while small) and then read as a file is:
    a pipe cannot be read twice, and detection looks at the start before the reader streams the whole."""
    import tempfile  # only for `-`: every other start skips it

    if stdin is None:
        raise InputError("no standard input to read", "stdin")
    with tempfile.SpooledTemporaryFile(max_size=STDIN_IN_MEMORY_BYTES) as spool:
        copied = 0
        while chunk := stdin.read(1024 * 1024):
            copied += len(chunk)
            if copied > MAX_CAPTURE_BYTES:
                raise InputError(f"input is over the {MAX_CAPTURE_BYTES}-byte limit", "stdin")
            spool.write(chunk)
        spool.seek(0)
        return _load_stream(spool, "stdin")


def _input_error(message: str, source: str, path: str | None = None) -> str:
    """The one-line error of an input, starting with its name (its label, where a reader named it by its path)."""
    line = " ".join(message.split())
    if path and line.startswith(f"{path}:"):
        line = source + line[len(path):]
    return line if line.startswith(f"{source}:") else f"{source}: {line}"


def _merge(inputs: list[LoadedInput], parsed: list[_Parsed]) -> Evidence:
    messages: list[SamlMessage] = []
    flows: list[Flow] = []
    for result in parsed:
        if result.flow is not None:
            # Hop message indexes are local to their capture; Evidence.messages holds every capture's messages.
            offset = len(messages)
            hops = tuple(replace(h, message_index=h.message_index + offset) if h.message_index is not None else h
                         for h in result.flow.hops)
            flows.append(replace(result.flow, hops=hops))
        messages += result.messages
    urls = tuple(dict.fromkeys(u for r in parsed for u in r.urls))[:MAX_URLS]
    return Evidence(
        inputs=tuple(inputs), messages=tuple(messages),
        metadata=tuple(m for r in parsed for m in r.metadata),
        certificates=tuple(c for r in parsed for c in r.certificates),
        flows=tuple(flows), error_pages=tuple(p for r in parsed for p in r.error_pages), urls=urls,
        cookies=tuple(dict.fromkeys(c for r in parsed for c in r.cookies))[:MAX_COOKIES],
    )


# --------------------------------------------------------------------------- detection


def _detect_and_parse(data: bytes, source: str) -> _Parsed:
    """Work out what ``data`` is and parse it; :class:`InputError` with a one-line reason when it is nothing known.

    A text that is not one document may be several pasted one after another (two Responses of a retried login):
    each blank-line-separated part is then read on its own.
    """
    try:
        return _detect_one(data, source)
    except InputError:
        several = _several_documents(data, source)
        if several is None:
            raise
        return several


def _several_documents(data: bytes, source: str) -> _Parsed | None:
    """The documents of a text holding several, or None when it does not split into documents we can all read."""
    if len(data) > MAX_MULTI_DOCUMENT_BYTES or data.removeprefix(_UTF8_BOM).lstrip()[:1] in (b"{", b"["):
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    documents = pasted_documents(text, lambda document: _detect_one(document.encode("utf-8"), source))
    if documents is None:
        return None
    found = [parsed for _, _, parsed in documents]
    return _Parsed(
        InputKind.SAML_MESSAGE if any(p.messages for p in found) else found[0].kind,
        f"{len(found)} documents: " + "; ".join(p.detail for p in found[:5]) + ("; …" if len(found) > 5 else ""),
        messages=tuple(m for p in found for m in p.messages),
        metadata=tuple(m for p in found for m in p.metadata),
        certificates=tuple(c for p in found for c in p.certificates),
        error_pages=tuple(e for p in found for e in p.error_pages),
    )


def pasted_documents(text: str, read: Callable[[str], T]) -> list[tuple[int, int, T]] | None:
    """The documents of a text of several pasted one after another, separated by blank lines, as (start, end,
    ``read(text[start:end])``) in order; None when a part cannot be read (``read`` raises InputError) or there are
    not 2 to MAX_DOCUMENTS_PER_TEXT. XML may itself contain blank lines, so consecutive parts starting with one that
    begins with `<` are joined, as pasted, until they read as one document. `analyze` and `sanitize` both split
    with this, so a sanitized copy holds the documents that analyze reads."""
    parts: list[tuple[int, int]] = []
    start = 0
    for end, next_start in [(m.start(), m.end()) for m in _BLANK_LINE.finditer(text)] + [(len(text), len(text))]:
        part = text[start:end]
        if part.strip():
            parts.append((start + len(part) - len(part.lstrip()), start + len(part.rstrip())))
        start = next_start
    if not 2 <= len(parts) <= MAX_DOCUMENTS_PER_TEXT:
        return None
    found: list[tuple[int, int, T]] = []
    first: int | None = None
    for start, end in parts:
        first = start if first is None else first
        try:
            found.append((first, end, read(text[first:end])))
        except InputError:
            if not text.startswith("<", first):
                return None
            continue
        first = None
    return found if first is None and len(found) >= 2 else None


def _detect_one(data: bytes, source: str) -> _Parsed:
    head = data[:4096].removeprefix(_UTF8_BOM).lstrip()
    if not head:
        raise InputError("file is empty", source)
    if head[:1] in (b"{", b"["):
        return _from_json(data, source)
    if _HTML_START.match(head):
        return _from_page(data.decode("utf-8", errors="replace"), source)
    if looks_like_xml(data):
        try:
            return _from_xml(data, source)
        except InputError:
            # no XML but words: a sanitized e-mail or error text may open with a redaction token (`<page-…>`)
            words = _from_words(data.decode("utf-8-sig", errors="replace"), source) \
                if _REDACTION_TOKEN.match(head) else None
            if words is None:
                raise
            return words
    if head.startswith(b"-----BEGIN") or len(data) <= MAX_CERT_FILE_BYTES and is_certificate_bytes(data):
        # PEM armour: a certificate, or load_certificates says which other block it is (a key, a CSR, ...)
        certs = load_certificates(data, source)
        return _Parsed(InputKind.CERTIFICATE, _plural(len(certs), "certificate") + f": {certs[0].subject[:200]}",
                       certificates=certs)
    try:
        text = data.decode("utf-8-sig")  # a BOM is what Windows editors put before a pasted value
    except UnicodeDecodeError:
        raise InputError(f"binary data, {NOT_RECOGNISED}", source) from None
    params = url_message_params(text)
    if params is not None:
        return _from_value(params.message_value, source, relay_state=params.relay_state,
                           redirect_signature=params.redirect_signature)
    stripped = text.strip().strip(_PASTE_QUOTES).strip()
    # the run is looked for at the start only: prose of any length is turned away without a scan of all of it
    if _ENCODED_RUN.search(stripped, 0, 4096) and _ENCODED_TEXT.fullmatch(stripped):
        return _from_value(stripped, source)
    if _BARE_URL.fullmatch(stripped):
        return _from_url(stripped, source)
    words = _from_words(text, source)
    if words is None:
        raise InputError(NOT_RECOGNISED, source)
    return words


def url_message_params(text: str) -> SamlParams | None:
    """The SAML parameters of a URL, log line or form body that ``text`` is or holds, when they carry a message: the
    message is read from them. Text with a URL but no such parameter (an e-mail naming the login page) is words."""
    if not _SAML_PARAM_NAME.search(text):
        return None
    params = parse_saml_params(text)
    return params if params is not None and params.message_value is not None else None


def _from_words(text: str, source: str) -> _Parsed | None:
    """Text of words (a pasted e-mail or ticket, an error text): the SAML values in it and the error it quotes, or
    None when it holds neither."""
    values = embedded_values(text, lambda value: _from_value(value, source)) if len(text) <= MAX_MULTI_DOCUMENT_BYTES \
        else []
    if values:
        return _from_prose(text, source, [parsed for _, _, parsed in values])
    return _from_page(text, source) if find_known_error(text) else None


def embedded_values(text: str, read: Callable[[str], T]) -> list[tuple[int, int, T]]:
    """The encoded SAML values inside other text (a pasted e-mail or ticket, a log line, a page), as (start, end,
    ``read(text[start:end])``): each run that looks encoded and that ``read`` accepts (it raises InputError for what
    is no SAML value). A value wrapped over lines is one run: lines as wide as its first, then one shorter line if
    ``read`` takes it (a word on the next line is no part of it). `analyze` reads these values and `sanitize`
    re-encodes them with this one function, so both see the same ones."""
    found: list[tuple[int, int, T]] = []
    for tried, match in enumerate(_EMBEDDED_VALUE.finditer(text)):
        if tried == MAX_EMBEDDED_CANDIDATES or len(found) == MAX_DOCUMENTS_PER_TEXT:
            break
        lines = match.group().splitlines(keepends=True)
        width = len(lines[0].strip())
        whole = next((n for n, line in enumerate(lines) if len(line.strip()) != width), len(lines))
        shorter = whole < len(lines) and len(lines[whole].strip()) < width  # a wrapped value's last line
        for count in (whole + 1, whole) if shorter else (whole,):
            value = "".join(lines[:count]).rstrip()
            try:
                found.append((match.start(), match.start() + len(value), read(value)))
                break
            except InputError:
                continue
    return found


def _from_prose(text: str, source: str, values: list[_Parsed]) -> _Parsed:
    """Text holding SAML values among other words (a pasted e-mail or ticket): its messages, and the error it quotes
    when it quotes a known one."""
    match = find_known_error(text)
    said = f'; quotes "{match.group(0)}"' if match else ""
    return _Parsed(
        InputKind.SAML_MESSAGE if any(p.messages for p in values) else InputKind.METADATA,
        "text holding " + "; ".join(p.detail for p in values[:5]) + ("; …" if len(values) > 5 else "") + said,
        messages=tuple(m for p in values for m in p.messages), metadata=tuple(m for p in values for m in p.metadata),
        error_pages=(ErrorPage(source=source, text=error_excerpt(text)),) if match else ())


def _from_json(data: bytes, source: str) -> _Parsed:
    obj = load_json(data, source)
    if isinstance(obj, dict) and "log" in obj:
        return _from_capture(read_har(obj, source), InputKind.HAR, "HAR")
    if isinstance(obj, dict) and "requests" in obj:
        return _from_capture(read_saml_tracer(obj, source), InputKind.SAML_TRACER, "SAML-tracer export")
    raise InputError("JSON that is neither a HAR (log.entries) nor a SAML-tracer export (requests)", source)


def _from_capture(content: HarContent, kind: InputKind, label: str) -> _Parsed:
    counts = [_plural(content.entries, "request"), _plural(len(content.messages), "SAML message")]
    if content.messages:
        counts[-1] += f" ({', '.join(m.kind.value for m in content.messages[:6])}" \
                      f"{', …' if len(content.messages) > 6 else ''})"
    if content.error_pages:
        counts.append(_plural(len(content.error_pages), "error page"))
    detail = f"{label}: {', '.join(counts)}"
    if content.problems:
        more = f" (and {len(content.problems) - 1} more)" if len(content.problems) > 1 else ""
        detail += f"; not decoded: {content.problems[0]}{more}"
    if content.skipped:
        named = ", ".join(content.skipped[:MAX_SKIPPED_NAMED])
        more = f" and {len(content.skipped) - MAX_SKIPPED_NAMED} more" if len(content.skipped) > MAX_SKIPPED_NAMED \
            else ""
        what = (f"1 entry that is not a {label} entry" if len(content.skipped) == 1
                else f"{len(content.skipped)} entries that are not {label} entries")
        detail += f"; skipped {what}: {named}{more}"
    return _Parsed(kind, detail, messages=content.messages, flow=content.flow, error_pages=content.error_pages,
                   urls=content.urls, cookies=content.cookies)


def _from_xml(data: bytes, source: str) -> _Parsed:
    xml, _ = decode_saml_value(data, source)
    root = parse_xml(xml, source)
    what = classify_xml(root)
    if what == "message":
        message = parse_message(xml, source=source, binding="raw", root=root)
        return _Parsed(InputKind.SAML_MESSAGE, f"SAML {message.kind.value} (raw XML)", messages=(message,))
    if what == "metadata":
        metadata = parse_metadata(xml, source, root=root)
        return _Parsed(InputKind.METADATA, "metadata: " + ", ".join(e.entity_id[:200] for e in metadata.entities[:5]),
                       metadata=(metadata,))
    if local_name(root).lower() == "html":  # XHTML page
        return _from_page(xml.decode("utf-8", errors="replace"), source)
    raise InputError(f"XML root element <{local_name(root)[:100]}> is not a SAML message or metadata", source)


def _from_value(value: str, source: str, **message_fields) -> _Parsed:
    """A SAMLRequest/SAMLResponse value (or metadata) in any encoding."""
    xml, layers = decode_saml_value(value, source)
    root = parse_xml(xml, source)
    what = classify_xml(root)
    if what == "metadata":
        return _Parsed(InputKind.METADATA, f"metadata ({', '.join(layers)})",
                       metadata=(parse_metadata(xml, source, root=root),))
    # The Redirect binding always DEFLATEs (bindings §3.4.4.1); the POST binding never does (§3.5.4).
    binding = "redirect" if "inflate" in layers else "post" if "base64" in layers else "raw"
    message = parse_message(xml, source=source, binding=binding, encoding_layers=layers, root=root, **message_fields)
    return _Parsed(InputKind.SAML_MESSAGE, f"SAML {message.kind.value} ({', '.join(layers) or 'raw XML'})",
                   messages=(message,))


def _from_url(url: str, source: str) -> _Parsed:
    """A URL that carries no SAML message: what the browser was sent to, for the checks that judge URLs (the IdP it
    names, a launch link's parameters)."""
    return _Parsed(InputKind.URL, f"URL without a SAML message, judged as the address the user opened: "
                                  f"{url[:200]}{'…' if len(url) > 200 else ''}", urls=(url,))


def _from_page(text: str, source: str) -> _Parsed:
    """A saved page: the IdP's auto-submitting SAML form (POST binding), else an error page the user saw."""
    form = saml_form(text)
    if form is not None:
        return _from_value(form.message_value, source, relay_state=form.relay_state)
    visible = page_text(text)
    if not visible:
        raise InputError(f"page with no visible text, {NOT_RECOGNISED}", source)
    match = find_known_error(visible)
    detail = f'error page: "{match.group(0)}"' if match else "error page"
    return _Parsed(InputKind.ERROR_PAGE, detail, error_pages=(ErrorPage(source=source, text=error_excerpt(visible)),))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
