"""`ssodiag sanitize`: a copy of the evidence that is safe to attach to a ticket and still diagnoses the same.

Reads a HAR or a SAML-tracer export (one entry at a time: memory follows the largest entry, not the file), or a
single message (raw XML, an encoded value, a form body, a URL or an auto-post page; a text file may hold several,
one per paragraph) and writes it back in the same form. Pasted text (an e-mail or ticket, a log line, a curl
command) keeps only what the diagnosis reads in it (the URL carrying its message, or its SAML values and the error
texts it quotes): its other words are removed, not redacted.

Common HAR sanitizers delete the SAMLResponse, which destroys the evidence. Here credentials are removed (cookies,
Authorization headers, bearer/JWT tokens, secret form fields and query values) and response bodies that are neither
a SAML auto-post page nor an error page are dropped, while every SAMLRequest/SAMLResponse is decoded, its personal
values replaced by the tokens the reports use (:class:`ssodiag.diag.redact.Redactor`), and re-encoded in its own
binding and encoding (POST: base64; Redirect: DEFLATE + base64 + URL-encoding, SAML bindings §3.4.4.1; a pasted
value keeps its layers and line width). The issuer's signature cannot survive that: every re-encoded message
carries a comment before its root element (:data:`ssodiag.diag.saml.SANITIZED_COMMENT`), whatever its form, and
``analyze`` reports its signatures as ``not-checked: sanitized``. A Redirect URL keeps SigAlg and Signature (the
algorithm is still evidence); its message's comment says they no longer verify. The file itself says so too
(HAR ``log.comment``, SAML-tracer ``comment``; both with ``_ssodiag``).
"""
from __future__ import annotations

import bisect
import functools
import html
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

from lxml import etree

from ssodiag.diag.broker import STATE_PART
from ssodiag.diag.capture_stream import har_entries, tracer_requests, tracer_timestamp
from ssodiag.diag.decode import LAYER_BASE64, LAYER_URL, decode_saml_value, encode_saml_value
from ssodiag.diag.errors import InputError
from ssodiag.diag.evidence import (
    NOT_RECOGNISED, embedded_values, is_pasted_value, pasted_documents, url_message_params,
)
from ssodiag.diag.files import open_file
from ssodiag.diag.har import (
    KEYCLOAK_ERROR_TEXT, MAX_RAW_SEARCH_CHARS, error_excerpt, excerpt_bounds, find_known_error, har_body, page_text,
    status_code,
)
from ssodiag.diag.limits import MAX_CAPTURE_BYTES, MAX_FILE_BYTES
from ssodiag.diag.model import InputKind
from ssodiag.diag.redact import SECRET, Redactor, is_secret_key, remember_message
from ssodiag.diag.saml import SANITIZED_COMMENT, parse_message
from ssodiag.diag.xmlparse import parse_xml

READS = ("sanitize reads HAR files, SAML-tracer exports, SAML messages (XML or encoded, alone, in a URL or form body, "
         "or in a text such as a pasted e-mail) and error pages")
MARKER = {"sanitized": True}
COMMENT = ("Sanitized by ssodiag: cookies, credentials and unrelated bodies removed, personal values in SAML messages "
           "replaced by tokens; signatures no longer verify.")
REMOVED_BODY = "response body removed by ssodiag sanitize (not a SAML or error page)"
# Stands for each run of words of a pasted e-mail or ticket, which no rule can tell apart from a person's name, phone
# or title. Not "[" or "<": a copy that opens with it must still read as text, not as JSON or XML.
REMOVED_WORDS = "(words removed by ssodiag sanitize)"
SAML_KEYS = ("SAMLRequest", "SAMLResponse")
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization"}
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_UTF8_BOM = b"\xef\xbb\xbf"
# The value of a hidden SAML field in an auto-post page (either attribute order).
_FORM_FIELD = re.compile(
    r"""(<input\b[^>]*?\bname\s*=\s*["']?(SAMLRequest|SAMLResponse)\b[^>]*?\bvalue\s*=\s*)(["'])(.*?)\3"""
    r"""|(<input\b[^>]*?\bvalue\s*=\s*)(["'])(.*?)\6([^>]*?\bname\s*=\s*["']?(?:SAMLRequest|SAMLResponse)\b)""",
    re.IGNORECASE | re.DOTALL)
# Pasted evidence: a URL inside other text (a log line, an e-mail), quotes picked up when a value was copied out of
# JSON or a shell command.
_URL = re.compile(r"https?://[^\s\"'<>`]+")
_PASTE_QUOTES = "\"'`"
_ENCODED_VALUE = re.compile(r"[A-Za-z0-9+/=_%\-\s]+")  # a value alone: no word around it
_FORM_START = ("SAMLRequest=", "SAMLResponse=", "RelayState=")
# SAML parameters outside a URL, as analyze finds them in a request line (`"GET /sso?SAMLRequest=… HTTP/1.1"`).
_PARAMS = re.compile(r"(?<![^?&\s\"'])(?:SAMLRequest|SAMLResponse|RelayState)=[^\s\"'<>]*")


def keep_relay_state_shape(redactor: Redactor, relay_states: Iterable[str | None]) -> None:
    """Keycloak's RelayState is `code.tabId.clientId` and the broker's checks read that shape (and compare the
    AuthnRequest's with the Response's): its session code and tab ID become keyed tokens of the same alphabet, the
    same on every hop; the client ID is configuration and stays. Another RelayState keeps the reports' token."""
    for relay in relay_states:
        parts = (relay or "").split(".")
        if len(parts) >= 3 and all(STATE_PART.fullmatch(p) for p in parts[:2]):
            tokens = [redactor.token(p, "relaystate").strip("<>") for p in parts[:2]]
            redactor.rename(relay, ".".join([*tokens, *parts[2:]]), "relaystate", override=True)


class Sanitizer:
    def __init__(self, redactor: Redactor, source: str, removed_words: list[str] | None = None) -> None:
        self.r = redactor
        self.source = source
        self.removed_words = [] if removed_words is None else removed_words  # the runs of pasted words left out

    # ----------------------------------------------------------------- SAML messages
    def xml(self, xml: bytes) -> bytes:
        """The message with personal values replaced, marked as sanitized before its root element."""
        root = parse_xml(xml, self.source)
        for node in root.iter():
            if node.tail and node.tail.strip():  # text after a comment inside a value is part of the value
                node.tail = self.r.text(node.tail)
            if isinstance(node.tag, str) and node.tag.startswith("{" + _DSIG + "}"):
                continue  # signature values and certificates are not personal
            if node.text and node.text.strip():  # an element's text, or a comment's
                node.text = self.r.text(node.text)
            for name, attribute in node.attrib.items() if isinstance(node.tag, str) else ():
                node.set(name, self.r.text(attribute))
        return f"<!--{SANITIZED_COMMENT}-->".encode("ascii") + etree.tostring(root, encoding="utf-8")

    def saml_value(self, value: str, *, url_encoded: bool = False) -> str:
        """The message re-encoded as it came; its URL-encoding only when ``url_encoded`` (else callers encode)."""
        xml, layers = decode_saml_value(value, self.source)
        if not url_encoded:
            layers = tuple(layer for layer in layers if layer != LAYER_URL)
        return encode_saml_value(self.xml(xml), layers)

    def pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Decoded form or query pairs: SAML messages re-encoded, secrets removed, other values redacted."""
        out = []
        for key, value in pairs:
            if key in SAML_KEYS:
                value = self.saml_value(value)
            elif key in ("RelayState", "SigAlg", "Signature"):
                value = self.r.text(value)  # RelayState is a remembered personal value: the same token both ways
            elif is_secret_key(key) and value:
                value = SECRET
            else:
                value = self.r.text(value)
            out.append((key, value))
        return out

    def url(self, url: str) -> str:
        """The URL with its SAML parameters re-encoded and its secrets removed, still a URL that parsers read whole:
        the tokens' angle brackets are percent-encoded (RFC 3986 §2 allows them in no part of a URL)."""
        if not url:
            return url
        parts = urlsplit(url)
        redacted = self.r.text(urlunsplit(parts._replace(query="")))  # path parameters and a fragment go here
        if parts.query:
            head, mark, fragment = redacted.partition("#")
            query = urlencode(self.pairs(parse_qsl(parts.query, keep_blank_values=True)), quote_via=quote, safe="@")
            redacted = f"{head}?{query}{mark}{fragment}"
        return redacted.replace("<", "%3C").replace(">", "%3E")

    def page(self, text: str) -> str:
        """Text that may hold SAML messages (an auto-post page, an error page): the values of its SAML
        form fields and the encoded values in its text re-encoded, the rest redacted as the reports are."""
        kept: list[str] = []

        def park(match: re.Match[str]) -> str:
            if match.group(1) is not None:
                kept.append(html.escape(self.saml_value(html.unescape(match.group(4)))))
                return f"{match.group(1)}{match.group(3)}\0{len(kept) - 1}\0{match.group(3)}"
            kept.append(html.escape(self.saml_value(html.unescape(match.group(7)))))
            return f"{match.group(5)}{match.group(6)}\0{len(kept) - 1}\0{match.group(6)}{match.group(8)}"

        text = _FORM_FIELD.sub(park, text)
        pieces, done = [], 0
        for start, end, value in embedded_values(text, self._embedded_value):
            kept.append(value)
            pieces += [text[done:start], f"\0{len(kept) - 1}\0"]
            done = end
        parked = self.r.text("".join(pieces) + text[done:])
        return re.sub(r"\0(\d+)\0", lambda m: kept[int(m.group(1))], parked)

    def _embedded_value(self, value: str) -> str:
        """An encoded value found in text, re-encoded in its own form and wrapped as it was. Its personal values are
        learnt first: analyze reads no value in a captured page's text, so the diagnosis did not name them."""
        xml, _ = decode_saml_value(value, self.source)
        remember_message(self.r, parse_message(xml, source=self.source))
        return _wrapped_like(self.saml_value(value, url_encoded=True), value)

    # ----------------------------------------------------------------- pasted evidence
    def pasted(self, text: str) -> str:
        """A text of pasted evidence, each message written back in its own form: one message, or several one per
        paragraph, split as ``analyze`` splits such a file (XML holding blank lines stays one document)."""
        try:
            return self._pasted_one(text)
        except InputError:
            documents = pasted_documents(text, self._pasted_one)
            if documents is None:
                raise
        out, done = [], 0
        for start, end, sanitized_document in documents:
            out += [text[done:start], sanitized_document]  # the blank lines between documents, as pasted
            done = end
        return "".join(out) + text[done:]

    def _pasted_one(self, text: str) -> str:
        core = text.strip()
        lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
        quote_mark = core[0] if len(core) > 1 and core[0] in _PASTE_QUOTES and core[-1] == core[0] else ""
        core = core[1:-1] if quote_mark else core
        if core.startswith("<"):
            out = self.page(core) if _FORM_FIELD.search(core) else self.xml(core.encode("utf-8")).decode("utf-8")
        elif _URL.fullmatch(core) or url_message_params(core) is not None and (
                _URL.search(core) or not core.startswith(_FORM_START)):
            # a URL alone, or a text carrying the message in SAML parameters (a log line, a curl command, an e-mail
            # giving the URL): analyze reads those parameters and no other word of it, so only they are kept
            out = self._prose(core, [self._message_carrier(core)], [])
        elif core.startswith(_FORM_START):  # a form body, maybe wrapped over lines as it was copied
            pairs = self.pairs(parse_qsl("".join(core.split()), keep_blank_values=True))
            out = urlencode(pairs, quote_via=quote, safe="<>@")
        elif _ENCODED_VALUE.fullmatch(core):  # a value alone, maybe wrapped over lines
            out = _wrapped_like(self.saml_value(core, url_encoded=True), core)
        else:  # words around values (a pasted e-mail or ticket): only what `analyze` reads in it is kept
            values = embedded_values(core, self._embedded_value)
            if not values:
                raise InputError(NOT_RECOGNISED, self.source)
            offset = len(lead) + len(quote_mark)
            out = self._prose(core, values, [(start - offset, end - offset) for start, end in _error_texts_read(text)])
        return f"{lead}{quote_mark}{out}{quote_mark}{trail}"

    def said(self, text: str) -> str:
        """Plain text quoting a known error and no SAML value (an e-mail, a ticket): only the error texts analyze
        reads in it are kept. It reads them in the text's words joined by single spaces (diag.har.page_text)."""
        return self._prose(text, [], _in_text(text, _error_texts_read(page_text(text))))

    def _prose(self, text: str, values: list[tuple[int, int, str]], error_texts: list[tuple[int, int]]) -> str:
        """A pasted e-mail or ticket reduced to what the diagnosis reads in it: its SAML ``values`` (as
        :func:`embedded_values` finds them, re-encoded) and each error text at ``error_texts`` (spans of ``text``,
        redacted as reports are); every other run of words becomes REMOVED_WORDS, the blank space around it kept.
        Free words cannot be told apart from a person's name, phone number or job title, so none is kept."""
        kept = values + [(start, end, self.r.text(text[start:end])) for start, end in error_texts
                         if 0 <= start and end <= len(text) and not any(s < end and start < e for s, e, _ in values)]
        out, done = [], 0
        for start, end, written in sorted(kept) + [(len(text), len(text), "")]:
            out += [self._words_removed(text[done:start], first=done == 0, last=start == len(text)), written]
            done = end
        return "".join(out)

    def _words_removed(self, words: str, *, first: bool, last: bool) -> str:
        """REMOVED_WORDS for the words, with the blank space (line breaks) before and after them; a space apart
        from a kept text that the words touched ("Invalid requester. Thanks")."""
        if not words.strip():
            return words
        self.removed_words.append(words.strip())
        before, after = words[:len(words) - len(words.lstrip())], words[len(words.rstrip()):]
        return f"{before or ('' if first else ' ')}{REMOVED_WORDS}{after or ('' if last else ' ')}"

    def _message_carrier(self, text: str) -> tuple[int, int, str]:
        """What analyze reads in a text carrying SAML parameters, as (start, end, rewritten): the URL whose
        parameters url_message_params reads (the first that carries a message), or the parameters themselves where
        they stand outside a URL (a request line `GET /sso?SAMLRequest=…`); a URL alone without a message (a launch
        link)."""
        params = url_message_params(text)
        if params is None:
            return 0, len(text), self.url(text)
        position = text.find(params.message_value)
        if url := next((m for m in _URL.finditer(text) if m.start() <= position < m.end()), None):
            return url.start(), url.end(), self.url(url.group())
        if form := next((m for m in _PARAMS.finditer(text) if m.start() <= position < m.end()), None):
            return form.start(), form.end(), urlencode(self.pairs(parse_qsl(form.group(), keep_blank_values=True)),
                                                       quote_via=quote, safe="@")
        # read from the lines joined: a URL broken inside a parameter name by a mail or chat client
        raise InputError("its SAML parameters are broken over lines: put the URL on one line", self.source)

    # ----------------------------------------------------------------- capture parts (HAR, SAML-tracer)
    def headers(self, headers: Any) -> Any:
        """HAR and SAML-tracer headers (a list of name/value objects, or an object) without credentials."""
        if isinstance(headers, dict):
            return {name: self._header_value(name, value) for name, value in headers.items()
                    if name.lower() not in _SECRET_HEADERS}
        return [{**h, "value": self._header_value(str(h.get("name", "")), h.get("value"))}
                for h in headers if isinstance(h, dict) and str(h.get("name", "")).lower() not in _SECRET_HEADERS] \
            if isinstance(headers, list) else []

    def _header_value(self, name: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if name.lower() in ("location", "referer", "origin"):
            return self.url(value)
        return self.r.text(value)

    def post_data(self, post: dict) -> dict:
        out = {k: v for k, v in post.items() if k not in ("text", "params")}
        text = post.get("text")
        mime = str(post.get("mimeType", "")).lower()
        if isinstance(text, str):
            if "json" in mime:
                body = _loads_or_none(text)
                out["text"] = json.dumps(self._json(body)) if body is not None else self.r.text(text)
            elif "=" in text and "<" not in text:
                out["text"] = urlencode(self.pairs(parse_qsl(text, keep_blank_values=True)), safe="<>@")
            else:
                out["text"] = self.r.text(text)
        if isinstance(post.get("params"), list):
            params = [p for p in post["params"] if isinstance(p, dict)]
            # Chrome writes params as sent (URL-encoded), Firefox decoded; the sanitized file holds them decoded
            pairs = self.pairs([(str(p.get("name", "")), _unquoted(str(p.get("value", "")))) for p in params])
            out["params"] = [{**p, "name": k, "value": v} for p, (k, v) in zip(params, pairs)]
        return out

    def _json(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {k: SECRET if is_secret_key(k) and isinstance(v, str) and v else self._json(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self._json(v) for v in node]
        return self.r.text(node) if isinstance(node, str) else node

    def content(self, content: dict, status: int | None, document: bool) -> dict:
        """A response body is kept (redacted) when the diagnosis reads it: a SAML auto-post page, a failed
        response, or a page showing a known error text; scripts, styles and data are not searched."""
        out = {k: v for k, v in content.items() if k not in ("text", "encoding")}
        body = har_body(content.get("text"), content.get("encoding"))
        if body is None:
            return out
        mime = str(content.get("mimeType", "")).lower()
        page = document or not mime or "html" in mime or "text/plain" in mime
        if ((status is not None and status >= 400) or (("SAMLRequest" in body or "SAMLResponse" in body)
                                                       and _FORM_FIELD.search(body))
                or (page and find_known_error(body, MAX_RAW_SEARCH_CHARS))):
            out["text"] = self.page(body)
        else:
            out["comment"] = REMOVED_BODY
        return out

    def entry(self, entry: Any) -> Any:
        """One HAR entry."""
        if not isinstance(entry, dict):
            return self.r.walk(entry)
        out = self.r.walk({k: v for k, v in entry.items() if k not in ("request", "response")})
        request, response = entry.get("request"), entry.get("response")
        if isinstance(request, dict):
            out["request"] = req = self.r.walk({k: v for k, v in request.items()
                                                if k not in ("url", "headers", "cookies", "queryString", "postData")})
            req["url"] = self.url(str(request.get("url", "")))
            req["headers"] = self.headers(request.get("headers"))
            req["cookies"] = []
            req["queryString"] = [{"name": k, "value": v} for k, v in _query_pairs(req["url"])]
            if isinstance(request.get("postData"), dict):
                req["postData"] = self.post_data(request["postData"])
        if isinstance(response, dict):
            out["response"] = resp = self.r.walk({k: v for k, v in response.items()
                                                  if k not in ("headers", "cookies", "content", "redirectURL")})
            resp["headers"] = self.headers(response.get("headers"))
            resp["cookies"] = []
            if isinstance(response.get("redirectURL"), str):
                resp["redirectURL"] = self.url(response["redirectURL"])
            if isinstance(response.get("content"), dict):
                resp["content"] = self.content(response["content"], status_code(response.get("status")),
                                               entry.get("_resourceType") == "document")
        return out

    def tracer_request(self, item: Any) -> Any:
        """One request of a SAML-tracer export (fields as diag.tracer reads them)."""
        if not isinstance(item, dict):
            return self.r.walk(item)
        out = self.r.walk({k: v for k, v in item.items()
                           if k not in ("url", "get", "post", "headers", "responseHeaders", "saml")})
        if isinstance(item.get("url"), str):
            out["url"] = self.url(item["url"])
            if "get" in item:
                out["get"] = [[k, v] for k, v in _query_pairs(out["url"])]
        for name in ("headers", "responseHeaders"):
            if name in item:
                out[name] = self.headers(item[name])
        post = item.get("post")
        if isinstance(post, dict):  # WebExtension formData: {name: [values]}
            out["post"] = {k: [v for _, v in self.pairs([(k, str(x)) for x in values])]
                           for k, values in post.items() if isinstance(values, list)}
        elif isinstance(post, list):
            pairs = [(p[0], p[1]) for p in post if isinstance(p, list) and len(p) == 2
                     and isinstance(p[0], str) and isinstance(p[1], str)]
            out["post"] = [list(pair) for pair in self.pairs(pairs)]
        elif "post" in item:
            out["post"] = None
        if "saml" in item:
            out["saml"] = self._tracer_saml(item["saml"])
        return out

    def _tracer_saml(self, saml: Any) -> str | None:
        """The add-on's own decoded copy of the message, sanitized; dropped when it cannot be read."""
        if not isinstance(saml, str) or not saml.strip().startswith("<"):
            return None
        try:
            return self.xml(saml.strip().encode("utf-8")).decode("utf-8")
        except InputError:
            return None


def _error_texts_read(text: str) -> list[tuple[int, int]]:
    """Where a pasted text shows the error texts ``analyze`` reads in it, overlapping ones joined: the error page it
    makes of the text is the excerpt around the first known error (diag.har.error_excerpt), and the checks match
    their own patterns in that excerpt. Nothing when the text quotes no known error (analyze reads no page in it)."""
    if find_known_error(text) is None:
        return []
    start, end = excerpt_bounds(text)
    excerpt = error_excerpt(text)  # text[start:end], with "…" where it is cut
    shift = start - (1 if start else 0)
    spans: list[tuple[int, int]] = []
    for found_start, found_end in sorted((max(m.start() + shift, start), min(m.end() + shift, end))
                                         for pattern in _page_text_readers() for m in pattern.finditer(excerpt)):
        if found_end <= found_start:  # an empty match, or only the "…" of a cut
            continue
        if spans and found_start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(found_end, spans[-1][1]))
        else:
            spans.append((found_start, found_end))
    return spans


def _in_text(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` of ``text``'s words joined by single spaces (what page_text makes of plain text) as spans of
    ``text``: a span that ends or starts at a joining space takes the whole blank space it stands for."""
    words = [word.span() for word in re.finditer(r"\S+", text)]
    joined = list(itertools.accumulate((end - start + 1 for start, end in words), initial=0))  # where each word is

    def place(position: int) -> int:
        n = bisect.bisect_right(joined, position) - 1
        return words[n][0] + position - joined[n] if n < len(words) else len(text)

    return [(place(start), place(end)) for start, end in spans]


@functools.cache
def _page_text_readers() -> tuple[re.Pattern[str], ...]:
    """Every pattern the diagnosis matches in an error page's text, each on its own (one alternation stops at its
    first alternative that matches, which may be shorter than a check's match): the known error texts, each vendor's
    errors and page signals, Keycloak's sentences as KC001 and the broker model read them (with their full stop:
    "Invalid response from identity provider."), and URLs (ENTRA001 compares the one AADSTS50011 names with
    Atlan's endpoints)."""
    from ssodiag.checks.keycloak import TABLE
    from ssodiag.diag.broker import PAGE_STEPS, sentence_pattern
    from ssodiag.diag.connectors import SignalKind, declarations

    vendors = [e.pattern for d in declarations() for e in d.errors]
    vendors += [s.pattern for d in declarations() for s in d.detection_signals() if s.kind is SignalKind.PAGE]
    return (*(re.compile(p, re.IGNORECASE) for p in KEYCLOAK_ERROR_TEXT), *vendors,
            *(row.pattern for row in TABLE), *(sentence_pattern(page.text) for page in PAGE_STEPS), _URL)


def _query_pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _loads_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _unquoted(value: str) -> str:
    return unquote_plus(value) if re.search(r"%[0-9A-Fa-f]{2}", value) else value


def _wrapped_like(value: str, original: str) -> str:
    """``value`` broken into lines as wide as the first line of ``original`` (base64 pasted from a mail or a
    decoder wrapped at 64 or 76 columns), or on one line as ``original`` was."""
    lines = original.split()
    if len(lines) < 2:
        return value
    width = len(lines[0])
    return "\n".join(value[i:i + width] for i in range(0, len(value), width))


# --------------------------------------------------------------------------- the forms of evidence


def sanitized(path: str, kind: InputKind | None, redactor: Redactor,
              removed_words: list[str] | None = None) -> Iterable[str]:
    """The sanitized copy of the evidence at ``path`` (a file, or a pasted value given as the argument), as text
    in pieces. ``kind`` is what ``analyze`` detected it to be. ``removed_words`` receives each run of words of a
    pasted e-mail or ticket that the copy leaves out."""
    if kind is InputKind.HAR:
        return _capture_file(path, sanitize_har, redactor)
    if kind is InputKind.SAML_TRACER:
        return _capture_file(path, sanitize_tracer, redactor)
    if kind in (InputKind.SAML_MESSAGE, InputKind.URL, InputKind.ERROR_PAGE):
        if is_pasted_value(path):
            source, text = "the argument", path
        else:
            with open_file(path, max_bytes=MAX_FILE_BYTES) as fh:
                source, text = path, fh.read().decode("utf-8-sig", errors="replace")
        s = Sanitizer(redactor, source, removed_words)
        if kind is InputKind.ERROR_PAGE:  # a saved page, or plain text quoting an error: read as analyze reads it
            return [s.page(text) if text.lstrip().startswith("<") else s.said(text)]
        return [s.pasted(text)]
    what = kind.value if kind is not None else "not recognised"
    raise InputError(f"{READS}; this input is {what} (nothing personal to remove: share it as it is)", path)


def _capture_file(path: str, sanitize: Callable[[BinaryIO, Redactor, str], Iterator[str]],
                  redactor: Redactor) -> Iterator[str]:
    with open_file(path, max_bytes=MAX_CAPTURE_BYTES) as fh:
        if fh.read(len(_UTF8_BOM)) != _UTF8_BOM:
            fh.seek(0)
        yield from sanitize(fh, redactor, path)


def sanitize_har(fh: BinaryIO, redactor: Redactor, source: str) -> Iterator[str]:
    """The sanitized HAR as JSON text in pieces, read from ``fh`` one entry at a time (memory follows the largest
    entry). The members of ``log`` before its entries are kept (redacted); any after them are not."""
    start = fh.tell()
    log = redactor.walk({k: v for k, v in _log_members_before_entries(fh, source).items()
                         if k not in ("entries", "comment", "_ssodiag")})
    fh.seek(start)
    s = Sanitizer(redactor, source)
    log.update(comment=COMMENT, _ssodiag=dict(MARKER), entries=_ITEMS)
    yield from _json_around({"log": log}, har_entries(fh, source), s.entry, "HAR entry", source)


# Stands for the list of streamed items in the JSON written around it.
_ITEMS = "\0items\0"


def _json_around(document: dict[str, Any], items: Iterable[Any], sanitize: Callable[[Any], Any], noun: str,
                 source: str) -> Iterator[str]:
    """``document`` as JSON text in pieces, its :data:`_ITEMS` value written as the list of ``items``, each one
    sanitized and serialised as it comes."""
    before, _, after = json.dumps(document, indent=2, ensure_ascii=False).partition(json.dumps(_ITEMS))
    yield before + "["
    separator = "\n"
    for number, item in enumerate(items, start=1):
        try:
            text = json.dumps(sanitize(item), indent=2, ensure_ascii=False)
        except RecursionError:  # ijson builds any depth; copying it is recursive
            raise InputError(f"{noun} {number} is nested too deeply", source) from None
        yield separator + text
        separator = ",\n"
    yield "\n]" + after + "\n"


def _log_members_before_entries(fh: BinaryIO, source: str) -> dict[str, Any]:
    """``log``'s members up to ``entries`` (version, creator, browser, pages: where browsers write them), read
    without reading the entries."""
    import ijson

    members: dict[str, Any] = {}
    key, builder = None, None
    try:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if prefix == "log" and event in ("map_key", "end_map"):
                if key is not None:
                    members[key] = builder.value
                key = None
                if event == "end_map" or value == "entries":
                    break
                key, builder = value, ijson.ObjectBuilder()
            elif key is not None:
                builder.event(event, value)
    except ijson.JSONError as exc:
        raise InputError(f"invalid JSON: {' '.join(str(exc).split())[:200]}", source) from None
    return members


def sanitize_tracer(fh: BinaryIO, redactor: Redactor, source: str) -> Iterator[str]:
    """The sanitized SAML-tracer export as JSON text in pieces, read from ``fh`` one request at a time; of its
    other members only the export's ``timestamp`` is kept (the add-on writes no others)."""
    start = fh.tell()
    timestamp = tracer_timestamp(fh, start)
    fh.seek(start)
    s = Sanitizer(redactor, source)
    export = {} if timestamp is None else {"timestamp": timestamp}
    export.update(comment=COMMENT, _ssodiag=dict(MARKER), requests=_ITEMS)
    yield from _json_around(export, tracer_requests(fh, source), s.tracer_request, "SAML-tracer request", source)
