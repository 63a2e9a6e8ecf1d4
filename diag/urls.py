"""URL comparison for Destination / Recipient / AssertionConsumerServiceURL checks, with hints a human can act on.

Validators differ in how strictly they compare: python3-saml lower-cases scheme and host before comparing,
Keycloak's destination validator compares the computed request URL, Entra compares the Reply URL case-sensitively
(AADSTS50011 "because of case sensitivity"). So a check reports three levels: the same string, the same URL after
RFC 3986 §6.2.2-§6.2.3 normalisation (scheme/host case, default port), or a different URL, and names the exact part
that differs: that part is what the engineer has to change.

Every URL here came from an untrusted document: :func:`quoted` bounds it before it reaches a message.
"""
from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from msgspec import Struct

from ssodiag.diag.text import quoted

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlComparison(Struct, frozen=True):
    """A URL seen in the evidence against the one expected, and how they differ."""

    seen: str
    expected: str
    exact: bool  # the same string
    equivalent: bool  # the same URL after RFC 3986 §6.2.2-§6.2.3 normalisation
    differences: tuple[str, ...]  # one sentence fragment per differing part, most actionable first

    @property
    def hint(self) -> str:
        return "; ".join(self.differences)


class _Parts(Struct, frozen=True):
    """A URL split into the parts that are compared one by one."""

    scheme: str
    host: str
    port: int | None
    path: str
    query: str
    fragment: str


def _parts(url: str) -> _Parts | None:
    try:
        split: SplitResult = urlsplit(url.strip())
        port = split.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        return None
    if not split.scheme or not split.netloc:
        return None
    scheme = split.scheme.lower()
    return _Parts(scheme, split.hostname or "", port if port is not None else _DEFAULT_PORTS.get(scheme),
                  split.path or "/", split.query, split.fragment)


def _path_difference(seen: str, expected: str) -> str:
    if seen.rstrip("/") == expected.rstrip("/"):
        return f"only a trailing slash differs (path {quoted(seen)} vs {quoted(expected)})"
    if seen.lower() == expected.lower():
        return f"the path differs only in letter case ({quoted(seen)} vs {quoted(expected)}); paths are case-sensitive"
    if expected.startswith(seen.rstrip("/") + "/"):
        return f"the path lacks the suffix {quoted(expected[len(seen.rstrip('/')):])} (path {quoted(seen)})"
    if seen.startswith(expected.rstrip("/") + "/"):
        return f"the path has an extra suffix {quoted(seen[len(expected.rstrip('/')):])} (expected {quoted(expected)})"
    return f"the path is {quoted(seen)}, expected {quoted(expected)}"


def _host_difference(seen: str, expected: str) -> str:
    from ssodiag.diag.connectors import behind_proxy  # a proxy's host rewrite is declared by its connector module

    proxy = behind_proxy(seen, expected)
    if proxy:
        return f"the host {quoted(seen)} is {quoted(expected)} behind the {proxy}"
    return f"the host is {quoted(seen)}, expected {quoted(expected)}"


def compare_urls(seen: str, expected: str) -> UrlComparison:
    """Compare the URL found in a message with one the SP expects, and say which parts differ."""
    if seen == expected:
        return UrlComparison(seen, expected, True, True, ())
    a, b = _parts(seen), _parts(expected)
    if a is None or b is None:
        bad = seen if a is None else expected
        problem = f"{quoted(bad)} is not an absolute URL (scheme and host)"
        return UrlComparison(seen, expected, False, False, (problem,))
    diffs: list[str] = []
    if a.scheme != b.scheme:
        note = (": the IdP is configured with an http URL, or a TLS-terminating proxy in front of the SP makes it "
                "compute an http URL (Keycloak issue 32622)") if {a.scheme, b.scheme} == {"http", "https"} else ""
        diffs.append(f"the scheme is {quoted(a.scheme)}, expected {quoted(b.scheme)}{note}")
    if a.host != b.host:
        diffs.append(_host_difference(a.host, b.host))
    # a port that is each scheme's default is already explained by the scheme difference
    if a.port != b.port and not (a.port == _DEFAULT_PORTS.get(a.scheme) and b.port == _DEFAULT_PORTS.get(b.scheme)):
        diffs.append(f"the port is {quoted(a.port)}, expected {quoted(b.port)}")
    if a.path != b.path:
        diffs.append(_path_difference(a.path, b.path))
    if a.query != b.query:
        diffs.append(f"the query string is {quoted(a.query or '(none)')}, expected {quoted(b.query or '(none)')}")
    if a.fragment != b.fragment:
        diffs.append(f"the fragment is {quoted(a.fragment or '(none)')}, expected {quoted(b.fragment or '(none)')}")
    if not diffs:
        # scheme/host letter case or an explicit default port: the same URL, but not the same string
        diffs.append(f"it is the same URL written differently ({quoted(seen)} vs {quoted(expected)}: letter case of "
                     f"scheme or host, or an explicit default port); validators that compare strings reject it")
        return UrlComparison(seen, expected, False, True, tuple(diffs))
    return UrlComparison(seen, expected, False, False, tuple(diffs))


def best_match(seen: str, candidates: tuple[str, ...] | list[str]) -> UrlComparison:
    """The comparison against the closest candidate: exact, then equivalent, then fewest differing parts."""
    if not candidates:
        raise ValueError("best_match needs at least one candidate URL")
    comparisons = [compare_urls(seen, c) for c in candidates]
    return min(comparisons, key=lambda c: (not c.exact, not c.equivalent, len(c.differences)))


def identifier_hint(seen: str, expected: str) -> str:
    """Why an entity ID (a URI compared as a string, SAML core §8.3.6) differs from the expected one."""
    if seen.strip() == expected.strip():
        return "they differ only in leading or trailing whitespace"
    if seen.lower() == expected.lower():
        return "they differ only in letter case, and entity IDs are compared case-sensitively"
    if seen.rstrip("/") == expected.rstrip("/"):
        return "they differ only in a trailing slash, and entity IDs are compared as exact strings"
    if "://" in seen and "://" in expected:
        return compare_urls(seen, expected).hint
    return f"{quoted(seen)} is a different identifier from {quoted(expected)}"
