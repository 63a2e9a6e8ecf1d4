"""The encoding layers around a SAML message: URL-encoding, base64 and DEFLATE, peeled off with bounds.

SAML bindings §3.5.4 (HTTP-POST) carries the message base64-encoded in a form field; §3.4.4.1 (HTTP-Redirect)
carries it raw-DEFLATEd, base64-encoded and URL-encoded in the query string, and signs the query string itself.
People paste these values after copying them through browsers, logs and chat, so the same value can arrive
double URL-encoded, with line breaks, in the URL-safe alphabet or without padding.

Every step is bounded (diag/limits.py): base64 is measured before it is decoded and inflation stops at
MAX_INFLATED_BYTES, so a deflate bomb costs at most that much memory.
"""
from __future__ import annotations

import binascii
import zlib
from collections.abc import Iterable
from urllib.parse import quote, unquote, unquote_plus

from msgspec import Struct

from ssodiag.diag.errors import InputError
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.limits import MAX_BASE64_CHARS, MAX_INFLATED_BYTES, MAX_URL_DECODE_ROUNDS
from ssodiag.diag.model import RedirectSignature

LAYER_URL = "url-decode"
LAYER_BASE64 = "base64"
LAYER_INFLATE = "inflate"

_PERCENT_ESCAPE = LazyRegex(r"%[0-9A-Fa-f]{2}")
_BASE64_BODY = LazyRegex(r"[A-Za-z0-9+/\-_]*={0,2}")
_WHITESPACE = " \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# The SAML parameter names are case-sensitive (bindings §3.4.4.1, §3.5.4).
MESSAGE_PARAMS = ("SAMLRequest", "SAMLResponse")
# A query or form body with more fields than this is not a SAML binding message; stop splitting it.
MAX_PARAMS = 200
# RelayState "MUST NOT exceed 80 bytes" (bindings §3.4.3); Keycloak sends longer ones. Keep enough to compare.
MAX_RELAY_STATE_CHARS = 4096
MAX_SIG_ALG_CHARS = 512  # an algorithm URI; the signed query keeps the raw value whatever its length


def looks_like_xml(data: bytes) -> bool:
    """True when the bytes start (after a BOM and whitespace) with ``<``, or carry a UTF-16 BOM."""
    if data.startswith(_UTF16_BOMS):
        return True
    return data.removeprefix(_UTF8_BOM).lstrip().startswith(b"<")


def _xml_bytes(data: bytes) -> bytes:
    """The document without a UTF-8 BOM and leading whitespace, which libxml2 refuses before an XML declaration."""
    return data if data.startswith(_UTF16_BOMS) else data.removeprefix(_UTF8_BOM).lstrip()


def _inflate_or_none(data: bytes, source: str) -> tuple[bytes | None, str]:
    """(inflated bytes, "") or (None, why it is not DEFLATE); a deflate bomb raises :class:`InputError`."""
    reason = ""
    for wbits in (-zlib.MAX_WBITS, zlib.MAX_WBITS):  # raw DEFLATE as the spec says, then zlib-wrapped
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(data, MAX_INFLATED_BYTES)
        except zlib.error as exc:
            reason = str(exc)
            continue
        if inflater.eof:
            return out, ""
        if inflater.unconsumed_tail or len(out) >= MAX_INFLATED_BYTES:
            raise InputError(f"inflated data exceeds {MAX_INFLATED_BYTES} bytes (deflate bomb?)", source)
        reason = "truncated DEFLATE stream"
    return None, reason


def inflate(data: bytes, source: str) -> bytes:
    """Inflate raw DEFLATE (bindings §3.4.4.1) or a zlib stream, never producing more than MAX_INFLATED_BYTES."""
    out, reason = _inflate_or_none(data, source)
    if out is None:
        raise InputError(f"not valid DEFLATE data ({reason})", source)
    return out


def _base64_payload_length(text: str) -> int:
    """Characters of base64 alphabet, without copying a possibly huge string."""
    return len(text) - sum(text.count(c) for c in _WHITESPACE)


def decode_base64(text: str, source: str) -> bytes:
    """Decode base64 as people paste it: line breaks, URL-safe alphabet, missing padding. Bounded."""
    if _base64_payload_length(text) > MAX_BASE64_CHARS:
        raise InputError(f"base64 value is over the {MAX_BASE64_CHARS}-character limit", source)
    compact = "".join(text.split())
    if not _BASE64_BODY.fullmatch(compact):
        bad = next((c for c in compact if not (c.isascii() and (c.isalnum() or c in "+/-_="))), None)
        reason = f"unexpected character {bad!r}" if bad else "padding '=' inside the value"
        raise InputError(f"not base64: {reason}", source)
    compact = compact.rstrip("=").replace("-", "+").replace("_", "/")
    if len(compact) % 4 == 1:
        raise InputError("not base64: truncated value (length is not a multiple of 4)", source)
    compact += "=" * (-len(compact) % 4)
    try:
        return binascii.a2b_base64(compact, strict_mode=True)
    except binascii.Error as exc:
        raise InputError(f"not base64: {exc}", source) from None


def _url_decode_rounds(text: str, source: str) -> tuple[str, tuple[str, ...]]:
    """Undo URL-encoding until the value is XML or plain base64, at most MAX_URL_DECODE_ROUNDS times.

    ``+`` stays ``+``: in base64 it is an alphabet character (a form encoder writes a real ``+`` as %2B, and
    whitespace is meaningless in base64). Only URL-encoded raw XML gets ``+`` as space, where HTML form encoding
    (application/x-www-form-urlencoded) put it.
    """
    layers: list[str] = []
    while _PERCENT_ESCAPE.search(text) and not text.lstrip().startswith("<"):
        if len(layers) == MAX_URL_DECODE_ROUNDS:
            raise InputError(f"value is still URL-encoded after {MAX_URL_DECODE_ROUNDS} rounds of decoding", source)
        decoded = unquote(text)
        if decoded.lstrip().startswith("<"):
            decoded = unquote_plus(text)
        text = decoded
        layers.append(LAYER_URL)
    return text, tuple(layers)


def decode_saml_value(value: str | bytes, source: str) -> tuple[bytes, tuple[str, ...]]:
    """Peel the encodings off a SAML value; return the XML bytes and the layers removed, in order.

    Layers are named "url-decode" (once per round), "base64" and "inflate". Raises :class:`InputError` with a
    one-line reason when the value is not XML, URL-encoded, base64 or DEFLATEd XML.
    """
    if isinstance(value, bytes):
        if looks_like_xml(value):
            return _xml_bytes(value), ()
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            # Not text: the only binary encoding SAML uses is DEFLATE (Redirect binding without base64).
            xml = inflate(value, source)
            return _checked_xml(xml, (LAYER_INFLATE,), source)
    if len(value) > 3 * MAX_BASE64_CHARS:  # the longest a URL-encoded ("%2B") base64 value within bounds can be
        raise InputError(f"value is {len(value)} characters, too long for a SAML message", source)
    text = value.strip()
    if text.startswith("<"):
        return _xml_bytes(text.encode("utf-8")), ()
    text, layers = _url_decode_rounds(text, source)
    if text.lstrip().startswith("<"):
        return _xml_bytes(text.encode("utf-8")), layers
    if " " in text and "+" not in text and "\n" not in text:
        # A form decoder (Java's URLDecoder, PHP's urldecode, a log line) turned base64 "+" into spaces.
        text = text.replace(" ", "+")
    raw = decode_base64(text, source)
    layers += (LAYER_BASE64,)
    if looks_like_xml(raw):
        return _xml_bytes(raw), layers
    xml, _ = _inflate_or_none(raw, source)
    if xml is None:
        raise InputError("base64 value decodes to neither XML nor DEFLATE-compressed XML", source)
    return _checked_xml(xml, layers + (LAYER_INFLATE,), source)


def encode_saml_value(xml: bytes, layers: Iterable[str]) -> str:
    """The inverse of :func:`decode_saml_value`: ``xml`` wrapped in ``layers`` (as it returned them, outermost
    first), so that a value re-encoded after editing reads back with the same layers."""
    out = xml
    text = None
    for layer in reversed(tuple(layers)):
        if layer == LAYER_INFLATE:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw DEFLATE, bindings §3.4.4.1
            out = compressor.compress(out) + compressor.flush()
        elif layer == LAYER_BASE64:
            text = binascii.b2a_base64(out, newline=False).decode("ascii")
        elif layer == LAYER_URL:
            text = quote(out.decode("utf-8") if text is None else text, safe="")
    return out.decode("utf-8") if text is None else text


def _checked_xml(xml: bytes, layers: tuple[str, ...], source: str) -> tuple[bytes, tuple[str, ...]]:
    if not looks_like_xml(xml):
        raise InputError("inflated data is not XML", source)
    return _xml_bytes(xml), layers


# --------------------------------------------------------------------------- query strings and form bodies


class SamlParams(Struct, frozen=True):
    """The SAML binding parameters of one URL or form body.

    ``saml_request``/``saml_response`` are kept exactly as they appeared (still URL-encoded when they were), so
    that :func:`decode_saml_value` can report the layers; the other values are decoded.
    """

    saml_request: str | None = None
    saml_response: str | None = None
    relay_state: str | None = None
    sig_alg: str | None = None
    signature: str | None = None
    redirect_signature: RedirectSignature | None = None

    @property
    def message_value(self) -> str | None:
        """The SAMLRequest or SAMLResponse value (a binding carries one message; bindings §3.4.4, §3.5.4)."""
        return self.saml_request if self.saml_request is not None else self.saml_response


_URL_IN_TEXT = LazyRegex(r"https?://[^\s\"'<>]+")
_FORM_BODY = LazyRegex(r"^[A-Za-z0-9_.\-]+=[^\s]*$")
# A query or form body inside other text, such as an access-log line `"GET /sso?SAMLRequest=... HTTP/1.1"`.
_PARAMS_IN_TEXT = LazyRegex(r"(?:^|[?&\s\"'])((?:SAMLRequest|SAMLResponse|RelayState)=[^\s\"'<>]*)")
_SPACE_INSIDE_LINE = LazyRegex(r"\S[ \t]+\S")


def _query_part(text: str) -> str | None:
    """The query string of a URL, or the text itself when it is already ``name=value&...``."""
    text = text.strip()
    # A multi-line form body (base64 wrapped at 76 columns) pasted as it was sent.
    if any(text.startswith(f"{p}=") for p in (*MESSAGE_PARAMS, "RelayState")):
        return "".join(text.split())
    candidates = [text]
    if not _SPACE_INSIDE_LINE.search(text):  # one URL wrapped over several lines by a mail or chat client
        candidates.append("".join(text.split()))
    found = [query for candidate in candidates if (query := _query_in(candidate)) is not None]
    # prefer the reading that carries the message over one that only found a RelayState
    return next((q for q in found if any(f"{p}=" in q for p in MESSAGE_PARAMS)), found[0] if found else None)


def _query_in(text: str) -> str | None:
    if _FORM_BODY.match(text) and "://" not in text.split("=", 1)[0]:
        return text
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group(0)
        if "?" in url and any(f"{p}=" in url for p in (*MESSAGE_PARAMS, "RelayState")):
            return url.split("?", 1)[1].split("#", 1)[0]
    match = _PARAMS_IN_TEXT.search(text)
    return match.group(1) if match else None


def _split_raw_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&", MAX_PARAMS)[:MAX_PARAMS]:
        name, sep, raw = part.partition("=")
        if sep:
            pairs.append((unquote_plus(name), raw))
    return pairs


def parse_saml_params(text: str) -> SamlParams | None:
    """SAML binding parameters (SAMLRequest/SAMLResponse, RelayState, SigAlg, Signature) from a full URL, a pasted
    line holding one, or a form body; None when it carries neither a SAML message nor a RelayState.

    For a signed Redirect message the result carries :class:`RedirectSignature` with the query octets that were
    signed, as they appeared (bindings §3.4.4.1: ``SAMLRequest=..&RelayState=..&SigAlg=..``, not re-encoded).
    """
    query = _query_part(text)
    if query is None:
        return None
    return saml_params_from_pairs(_split_raw_pairs(query), encoded=True)


def pairs_look_encoded(pairs: Iterable[tuple[str, str]]) -> bool:
    """Whether form fields are still URL-encoded (Chrome's HAR params) or already decoded (Firefox, SAML-tracer).

    Decided on the SAML message value: base64 has no ``%``, so a percent-escape there can only be form encoding.
    """
    values = dict(pairs)
    message = next((values[p] for p in MESSAGE_PARAMS if p in values), None)
    checked = [message] if message is not None else list(values.values())
    return any(_PERCENT_ESCAPE.search(v) for v in checked)


def saml_params_from_pairs(pairs: Iterable[tuple[str, str]], *, encoded: bool) -> SamlParams | None:
    """Build :class:`SamlParams` from (name, value) pairs: raw query/form octets when ``encoded``, else decoded
    values (a HAR's postData.params as Firefox writes them, or SAML-tracer's parsed form fields)."""
    raw: dict[str, str] = {}
    for name, value in pairs:
        if name in (*MESSAGE_PARAMS, "RelayState", "SigAlg", "Signature") and name not in raw:
            raw[name] = value
    if not any(p in raw for p in (*MESSAGE_PARAMS, "RelayState")):
        return None
    def text(name: str, unescape=unquote_plus) -> str | None:
        value = raw.get(name)
        return unescape(value) if encoded and value is not None else value

    relay_state = text("RelayState")
    relay_state = relay_state[:MAX_RELAY_STATE_CHARS] if relay_state is not None else None
    sig_alg = text("SigAlg")
    sig_alg = sig_alg[:MAX_SIG_ALG_CHARS] if sig_alg is not None else None
    signature = text("Signature", unquote)  # base64: a literal "+" is the alphabet's, not a space
    redirect_signature = None
    if encoded and sig_alg and signature and any(p in raw for p in MESSAGE_PARAMS):
        message_name = "SAMLRequest" if "SAMLRequest" in raw else "SAMLResponse"
        signed = [f"{message_name}={raw[message_name]}"]
        if "RelayState" in raw:
            signed.append(f"RelayState={raw['RelayState']}")
        signed.append(f"SigAlg={raw['SigAlg']}")
        redirect_signature = RedirectSignature(sig_alg=sig_alg, signature=signature, signed_query="&".join(signed))
    return SamlParams(
        saml_request=raw.get("SAMLRequest"),
        saml_response=raw.get("SAMLResponse"),
        relay_state=relay_state,
        sig_alg=sig_alg,
        signature=signature,
        redirect_signature=redirect_signature,
    )
