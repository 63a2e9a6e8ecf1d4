"""`ssodiag sanitize`: a copy of a HAR that is safe to attach to a ticket and still diagnoses the same.

Common HAR sanitizers delete the SAMLResponse, which destroys the evidence. Here credentials are removed (cookies,
Authorization headers, bearer/JWT tokens, secret form fields and query values) and response bodies that are neither
a SAML auto-post page nor an error page are dropped, while every SAMLRequest/SAMLResponse is decoded, its personal
values replaced by the tokens the reports use (:class:`ssodiag.diag.redact.Redactor`), and re-encoded in its own
binding (POST: base64; Redirect: DEFLATE + base64, SAML bindings §3.4.4.1). The IdP's signature cannot survive that,
so the file is marked (``_ssodiag``) and ``analyze`` reports its signatures as not checked.
"""
from __future__ import annotations

import base64
import html
import json
import re
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

from lxml import etree

from ssodiag.diag.broker import STATE_PART
from ssodiag.diag.decode import LAYER_INFLATE, decode_saml_value
from ssodiag.diag.errors import InputError
from ssodiag.diag.har import har_body, find_known_error, load_json, status_code
from ssodiag.diag.redact import SECRET, Redactor, is_secret_key
from ssodiag.diag.xmlparse import parse_xml

MARKER = {"sanitized": True}
COMMENT = ("Sanitized by ssodiag: cookies, credentials and unrelated bodies removed, personal values in SAML messages "
           "replaced by tokens; signatures no longer verify.")
REMOVED_BODY = "response body removed by ssodiag sanitize (not a SAML or error page)"
SAML_KEYS = ("SAMLRequest", "SAMLResponse")
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization"}
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
# The value of a hidden SAML field in an auto-post page (either attribute order).
_FORM_FIELD = re.compile(
    r"""(<input\b[^>]*?\bname\s*=\s*["']?(SAMLRequest|SAMLResponse)\b[^>]*?\bvalue\s*=\s*)(["'])(.*?)\3"""
    r"""|(<input\b[^>]*?\bvalue\s*=\s*)(["'])(.*?)\6([^>]*?\bname\s*=\s*["']?(?:SAMLRequest|SAMLResponse)\b)""",
    re.IGNORECASE | re.DOTALL)


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
    def __init__(self, redactor: Redactor, source: str) -> None:
        self.r = redactor
        self.source = source

    # ----------------------------------------------------------------- SAML messages
    def saml_value(self, value: str) -> str:
        """The message with personal values replaced, encoded as it came (without the URL layer: callers encode)."""
        xml, layers = decode_saml_value(value, self.source)
        root = parse_xml(xml, self.source)
        for element in root.iter():
            if not isinstance(element.tag, str) or element.tag.startswith("{" + _DSIG + "}"):
                continue  # signature values and certificates are not personal
            if element.text and element.text.strip():
                element.text = self.r.text(element.text)
            for name, attribute in element.attrib.items():
                element.set(name, self.r.text(attribute))
        out = etree.tostring(root, encoding="utf-8")
        if LAYER_INFLATE in layers:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE, RFC 1951
            out = compressor.compress(out) + compressor.flush()
        return base64.b64encode(out).decode("ascii")

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
        if not url:
            return url
        parts = urlsplit(url)
        if not parts.query:
            return self.r.text(url)
        query = urlencode(self.pairs(parse_qsl(parts.query, keep_blank_values=True)), quote_via=quote, safe="<>@")
        return self.r.text(urlunsplit(parts._replace(query=""))) + "?" + query

    def page(self, text: str) -> str:
        """An auto-post page or error page: SAML fields re-encoded, the rest redacted as the reports are."""
        kept: list[str] = []

        def park(match: re.Match[str]) -> str:
            if match.group(1) is not None:
                kept.append(html.escape(self.saml_value(html.unescape(match.group(4)))))
                return f"{match.group(1)}{match.group(3)}\0{len(kept) - 1}\0{match.group(3)}"
            kept.append(html.escape(self.saml_value(html.unescape(match.group(7)))))
            return f"{match.group(5)}{match.group(6)}\0{len(kept) - 1}\0{match.group(6)}{match.group(8)}"

        parked = self.r.text(_FORM_FIELD.sub(park, text))
        return re.sub(r"\0(\d+)\0", lambda m: kept[int(m.group(1))], parked)

    # ----------------------------------------------------------------- HAR parts
    def headers(self, headers: Any) -> list:
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
                out["text"] = json.dumps(self._json(_loads_or_none(text))) if _loads_or_none(text) is not None \
                    else self.r.text(text)
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

    def content(self, content: dict, status: int | None) -> dict:
        out = {k: v for k, v in content.items() if k not in ("text", "encoding")}
        body = har_body(content)
        if body is None:
            return out
        if _FORM_FIELD.search(body) or (status is not None and status >= 400) or find_known_error(body):
            out["text"] = self.page(body)
        else:
            out["comment"] = REMOVED_BODY
        return out

    def entry(self, entry: Any) -> Any:
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
            req["queryString"] = [{"name": k, "value": v}
                                  for k, v in parse_qsl(urlsplit(req["url"]).query, keep_blank_values=True)]
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
                resp["content"] = self.content(response["content"], status_code(response.get("status")))
        out["_ssodiag"] = dict(MARKER)
        return out


def _loads_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _unquoted(value: str) -> str:
    return unquote_plus(value) if re.search(r"%[0-9A-Fa-f]{2}", value) else value


def sanitize_har(data: bytes, redactor: Redactor, source: str) -> str:
    """The sanitized HAR as JSON text. Raises :class:`InputError` on anything but a HAR."""
    har = load_json(data, source)
    log = har.get("log") if isinstance(har, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise InputError("sanitize reads HAR files only (log.entries); SAML-tracer exports and single messages "
                         "are not supported yet", source)
    s = Sanitizer(redactor, source)
    out_log = redactor.walk({k: v for k, v in log.items() if k != "entries"})
    out_log["entries"] = [s.entry(e) for e in log["entries"]]
    out_log["comment"] = COMMENT
    out_log["_ssodiag"] = dict(MARKER)
    return json.dumps({**{k: v for k, v in har.items() if k != "log"}, "log": out_log}, indent=2,
                      ensure_ascii=False) + "\n"

