"""SAML-tracer exports (the Firefox/Chrome add-on by SimpleSAMLphp): same meaning as a HAR.

An export is ``{"requests": [...], "timestamp": ...}``; each request holds ``method``, ``url``, ``get`` and
``post`` (form fields the browser already decoded, as ``[name, value]`` pairs), request ``headers``,
``responseStatus``/``responseStatusText``/``responseHeaders``, and the add-on's own decoding of the SAML message
in ``saml`` (text, possibly re-indented for display). Response bodies are not recorded, so error pages come only
from HTTP status codes.

The encoded value (URL or form field) is preferred: it holds the bytes exactly as signed. ``saml`` is used only
for a request whose encoded value is missing (an export made with values filtered out).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from msgspec.structs import replace

from ssodiag.diag.decode import SamlParams, pairs_look_encoded, saml_params_from_pairs
from ssodiag.diag.errors import InputError
from ssodiag.diag.har import (
    MAX_BODY_CHARS, Exchange, HarContent, content_from_exchanges, header, is_redirect, redirect_target, status_code,
)
from ssodiag.diag.limits import MAX_HAR_ENTRIES, MAX_XML_BYTES
from ssodiag.diag.saml import parse_instant


def read_saml_tracer(data: dict | Iterable[Any], source: str,
                     timestamp: Callable[[], Any] | None = None) -> HarContent:
    """Read a SAML-tracer export into messages, flow, error pages and URLs: from the parsed export, or its
    ``requests`` one at a time (:func:`ssodiag.diag.capture_stream.tracer_requests`) with ``timestamp`` giving the
    export's own time, asked for only when a request carries none."""
    if isinstance(data, dict):
        requests = data.get("requests")
        if not isinstance(requests, list):
            raise InputError("not a SAML-tracer export: no requests list", source)
        if len(requests) > MAX_HAR_ENTRIES:
            raise InputError(f"SAML-tracer export has {len(requests)} requests, over the {MAX_HAR_ENTRIES} limit",
                             source)
        timestamp = functools.partial(data.get, "timestamp")
    else:
        requests = data
    exchanges = []
    skipped = []
    for index, item in enumerate(requests, start=1):  # numbered from 1, as in the add-on's list
        exchange = _exchange(index, item)
        if exchange is None:
            skipped.append(f"request {index} (no url)")
        else:
            exchanges.append(exchange)
    # Older exports carry no per-request time; the export time is the closest bound on when the login happened.
    export_time = _instant(timestamp()) if timestamp and any(ex.time is None for ex in exchanges) else None
    if export_time is not None:
        exchanges = [replace(ex, time=export_time) if ex.time is None else ex for ex in exchanges]
    return replace(content_from_exchanges(exchanges, source), skipped=tuple(skipped))


def _instant(value: Any) -> datetime | None:
    """An export timestamp: epoch milliseconds (JavaScript ``Date.now()``) or an ISO 8601 string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return parse_instant(value) if isinstance(value, str) else None


def _exchange(index: int, item: Any) -> Exchange | None:
    if not isinstance(item, dict) or not isinstance(item.get("url"), str) or not item["url"]:
        return None
    url = item["url"]
    method = item.get("method") if isinstance(item.get("method"), str) else "GET"
    status = status_code(item.get("responseStatus"))
    # a Location is looked for only on a redirect: most requests of an export are none
    location = redirect_target(url, header(item.get("responseHeaders"), "location")) if is_redirect(status) else None
    accept = header(item.get("headers"), "accept") or ""
    saml = item.get("saml")
    decoded = saml.strip().encode("utf-8") if isinstance(saml, str) and saml.strip().startswith("<") else None
    if decoded is not None and len(decoded) > MAX_XML_BYTES:
        decoded = None
    return Exchange(
        index=index, time=_instant(item.get("timestamp")), method=method.upper()[:16], url=url,
        status=status, location=location, form=_form(item.get("post")), is_document=accept.startswith("text/html"),
        decoded_xml=decoded,
    )


def _form(post: Any) -> SamlParams | None:
    """``post`` as ``[[name, value], ...]`` (what the add-on stores) or ``{name: [values]}`` (WebExtension formData)."""
    if isinstance(post, dict):
        post = [[k, v[0] if isinstance(v, list) and v else v] for k, v in post.items()]
    if not isinstance(post, list):
        return None
    pairs = [(p[0], p[1]) for p in post[:200]
             if isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str)
             and len(p[1]) <= MAX_BODY_CHARS]
    # The add-on stores decoded form values; an export edited by hand may keep them encoded.
    return saml_params_from_pairs(pairs, encoded=pairs_look_encoded(pairs))
