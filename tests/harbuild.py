"""Build browser captures in the tests: HAR files shaped as Chrome and Firefox write them, SAML-tracer exports,
and the SAML binding encodings (Redirect: DEFLATE + base64 + URL-encoding + query signature; POST: base64 form).

Shapes, from HAR files the browsers save:
- Chrome / Edge: ``_resourceType`` / ``_priority`` private fields, ``startedDateTime`` with milliseconds and ``Z``,
  ``postData`` with both ``text`` and ``params`` (values as sent, URL-encoded), ``redirectURL`` filled, bodies as text.
- Firefox: no ``_`` fields, ``startedDateTime`` with a local offset and no milliseconds, ``postData.params`` only
  (values decoded), ``redirectURL`` empty with a relative ``Location`` header, bodies ``encoding: base64``.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import json
import zlib
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from msgspec import Struct, field

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
START = dt.datetime(2026, 11, 28, 9, 30, 0, 250000, tzinfo=dt.timezone.utc)


def deflate(xml: bytes) -> bytes:
    """Raw DEFLATE (no zlib header), as SAML bindings §3.4.4.1 specifies."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(xml) + compressor.flush()


def redirect_query(param: str, xml: bytes, relay_state: str | None = None, key: Any = None) -> str:
    """The query string of an HTTP-Redirect binding message, signed over the exact octets when ``key`` is given."""
    parts = [f"{param}={quote(base64.b64encode(deflate(xml)).decode(), safe='')}"]
    if relay_state is not None:
        parts.append(f"RelayState={quote(relay_state, safe='')}")
    if key is None:
        return "&".join(parts)
    parts.append(f"SigAlg={quote(RSA_SHA256, safe='')}")
    signed = "&".join(parts).encode()
    signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    return "&".join(parts) + "&Signature=" + quote(base64.b64encode(signature).decode(), safe="")


def post_body(param: str, xml: bytes, relay_state: str | None = None) -> str:
    """An HTTP-POST binding form body (application/x-www-form-urlencoded), SAML bindings §3.5.4."""
    fields = {param: base64.b64encode(xml).decode()}
    if relay_state is not None:
        fields["RelayState"] = relay_state
    return urlencode(fields)


def auto_submit_page(action: str, xml: bytes, relay_state: str) -> str:
    """The IdP's POST-binding page (SAML bindings §3.5.4): hidden fields, HTML-escaped, submitted by script."""
    return (f'<html><body onload="document.forms[0].submit()"><form method="post" action="{html.escape(action)}">'
            f'<input type="hidden" name="SAMLResponse" value="{base64.b64encode(xml).decode()}"/>'
            f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}"/>'
            '<noscript><button>Continue</button></noscript></form></body></html>')


class HarBuilder(Struct):
    """Entries appended in capture order, one second apart; ``har()`` gives the JSON object in the chosen shape."""

    shape: str = "chrome"  # "chrome" or "firefox"
    start: dt.datetime = START
    entries: list[dict] = field(default_factory=list)

    def add(self, method: str, url: str, *, status: int = 200, location: str | None = None,
            body: str | None = None, html: str | None = None, resource_type: str = "document",
            seconds: float | None = None, cookies: dict[str, str] | None = None) -> int:
        """Append one request/response (``cookies``: sent with the request); returns its entry index."""
        when = self.start + dt.timedelta(seconds=len(self.entries) if seconds is None else seconds)
        chrome = self.shape == "chrome"
        request: dict[str, Any] = {
            "method": method, "url": url, "httpVersion": "HTTP/1.1", "queryString": [],
            "cookies": [{"name": n, "value": v} for n, v in (cookies or {}).items()],
            "headers": [{"name": "Accept", "value": "text/html,application/xhtml+xml" if resource_type == "document"
                         else "*/*"}],
            "headersSize": -1, "bodySize": len(body or ""),
        }
        if body is not None:
            request["postData"] = self._post_data(body)
        response_headers = [{"name": "Content-Type", "value": "text/html; charset=utf-8" if html is not None
                             else "image/png" if resource_type == "image" else "text/javascript"}]
        if location is not None:
            response_headers.append({"name": "Location", "value": location})
        content: dict[str, Any] = {"size": len(html or ""), "mimeType": response_headers[0]["value"]}
        if html is not None:
            if chrome:
                content["text"] = html
            else:
                content.update(text=base64.b64encode(html.encode()).decode(), encoding="base64")
        entry: dict[str, Any] = {
            "startedDateTime": self._timestamp(when), "time": 12.5, "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": response_headers, "content": content,
                         "redirectURL": (location or "") if chrome else "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2.5},
        }
        if chrome:
            entry.update(_resourceType=resource_type, _priority="VeryHigh", _initiator={"type": "other"})
        self.entries.append(entry)
        return len(self.entries) - 1

    def _post_data(self, body: str) -> dict:
        mime = "application/x-www-form-urlencoded"
        if self.shape == "chrome":
            params = [{"name": n, "value": v} for n, _, v in (p.partition("=") for p in body.split("&"))]
            return {"mimeType": mime, "text": body, "params": params}
        return {"mimeType": mime, "params": [{"name": n, "value": v} for n, v in parse_qsl(body)]}

    def _timestamp(self, when: dt.datetime) -> str:
        if self.shape == "chrome":
            return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        local = when.astimezone(dt.timezone(dt.timedelta(hours=1)))
        return local.strftime("%Y-%m-%dT%H:%M:%S+01:00")

    def har(self) -> dict:
        creator = {"name": "WebInspector", "version": "537.36"} if self.shape == "chrome" else \
            {"name": "Firefox", "version": "133.0"}
        return {"log": {"version": "1.2", "creator": creator, "pages": [], "entries": self.entries}}

    def bytes(self) -> bytes:
        return json.dumps(self.har()).encode()


def tracer_request(method: str, url: str, *, status: int = 200, location: str | None = None,
                   post: dict[str, str] | None = None, saml: bytes | None = None) -> dict:
    """One request of a SAML-tracer export: decoded form fields as [name, value] pairs, the add-on's decoded XML."""
    response_headers = [{"name": "Content-Type", "value": "text/html"}]
    if location is not None:
        response_headers.append({"name": "Location", "value": location})
    return {
        "requestId": "1", "method": method, "url": url,
        "headers": [{"name": "Accept", "value": "text/html,application/xhtml+xml"}],
        "post": [[k, v] for k, v in post.items()] if post else None,
        "responseStatus": status, "responseStatusText": f"HTTP/1.1 {status}", "responseHeaders": response_headers,
        "saml": saml.decode() if saml else None, "protocol": "SAML-P" if saml else None,
    }


def tracer_export_of(har: dict) -> dict:
    """The SAML-tracer export of the login ``har`` recorded: what the add-on keeps of each request (URL, query and
    form fields decoded, request and response headers, status, its own decoding of a SAML message, the time);
    response bodies are not recorded."""
    from ssodiag.diag.decode import decode_saml_value

    requests = []
    for number, entry in enumerate(har["log"]["entries"], start=1):
        request, response = entry["request"], entry["response"]
        post_data = request.get("postData") or {}
        post = (parse_qsl(post_data["text"], keep_blank_values=True) if post_data.get("text")
                else [(p["name"], p["value"]) for p in post_data.get("params", [])] or None)
        get = parse_qsl(request["url"].partition("?")[2], keep_blank_values=True)
        headers = list(response.get("headers", []))
        if response.get("redirectURL") and not any(h["name"].lower() == "location" for h in headers):
            headers.append({"name": "Location", "value": response["redirectURL"]})
        saml = next((v for k, v in (post or []) + get if k in ("SAMLRequest", "SAMLResponse")), None)
        requests.append({
            "requestId": str(number), "timestamp": entry.get("startedDateTime"), "method": request["method"],
            "url": request["url"], "get": [[k, v] for k, v in get], "post": [[k, v] for k, v in post] if post else None,
            "headers": request.get("headers", []), "responseStatus": response.get("status"),
            "responseStatusText": response.get("statusText", ""), "responseHeaders": headers,
            "saml": decode_saml_value(saml, "har")[0].decode() if saml else None,
            "protocol": "SAML-P" if saml else None,
        })
    return {"requests": requests}


# Script text as a browser saves it: quotes, backslashes, line feeds and tabs (escaped in the HAR), and non-ASCII
# characters (written as UTF-8, as Chrome and Firefox write them).
SCRIPT_TEXT = ('function render(e){var t="<div class=\\"card\\">"+e.title+"</div>";\n'
               '\treturn t.replace(/\\s+/g," ")} // café, naïve ✓\n')


def write_session_har(path, login_entry: dict, target_bytes: int, body_chars: int, headers: int = 0,
                      body: str = "x", chrome: bool = False) -> None:
    """A "Preserve log" session written entry by entry (never held whole): ``login_entry`` first, then script
    requests with ``body_chars``-character bodies (``body`` repeated) and ``headers`` headers each, until the file is
    ``target_bytes``. Plain entries by default; with ``chrome``, entries of Chrome's shape (HarBuilder's: timings,
    cookie lists, ``_resourceType``...) written indented, as Chrome's "Export HAR" writes them."""
    pairs = [{"name": f"x-header-{i}", "value": "v" * 40} for i in range(headers)]
    text = (body * (body_chars // len(body) + 1))[:body_chars]
    if chrome:
        builder = HarBuilder(shape="chrome")
        builder.add("GET", "https://cdn.example.test/app.js", resource_type="script")
        entry = builder.entries[0]
        entry["request"]["headers"] += pairs
        entry["response"]["headers"] += pairs
        entry["response"]["content"]["text"] = text
    else:
        entry = {"startedDateTime": "2026-11-28T09:30:01.000Z",
                 "request": {"method": "GET", "url": "https://cdn.example.test/app.js", "headers": pairs},
                 "response": {"status": 200, "headers": pairs, "content": {"mimeType": "text/javascript",
                                                                           "text": text}}}
    indent = 2 if chrome else None
    script = json.dumps(entry, ensure_ascii=False, indent=indent).encode()
    login = json.dumps(login_entry, indent=indent).encode()
    with open(path, "wb") as out:
        out.write(b'{"log": {"version": "1.2", "entries": [' + login)
        written = len(login)
        while written < target_bytes:
            out.write(b",\n" + script)
            written += len(script) + 2
        out.write(b"]}}")
