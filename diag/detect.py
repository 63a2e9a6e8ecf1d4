"""Which IdP (connector) produced this evidence, and why: the declared signals of each vendor, matched against the
issuers, URLs, query parameters, cookies and pages of the evidence.

Every vendor fact comes from the vendor's declaration (``diag.connectors``, declared in ``checks/<vendor>.py``).
Each detection names its evidence. Order: a proxy that sat in the login (Defender for Cloud Apps) first, then the
IdP with the strongest evidence; ``--connector`` overrides detection.
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from msgspec import Struct, field

from ssodiag.diag.connectors import ConnectorDeclaration, SignalKind, declarations
from ssodiag.diag.model import Connector, Detection, Evidence
from ssodiag.diag.text import clip

SHOWN_REASONS = 3  # signals named per detection; the count of the rest follows
# Issuers and URLs are both addresses: an issuer URL may be requested, and a host may be an entity ID.
_ADDRESS = {SignalKind.ENTITY: SignalKind.URL}


def _values(evidence: Evidence) -> Iterator[tuple[SignalKind, str, str]]:
    """(kind, value, where it came from) for everything a signal may match, in evidence order."""
    for m in evidence.messages:
        if m.issuer:
            yield SignalKind.ENTITY, m.issuer, f"Issuer of {m.kind.value} in {m.source}"
        if m.destination:
            yield SignalKind.URL, m.destination, f"Destination of {m.kind.value} in {m.source}"
        for a in m.assertions:
            if a.issuer:
                yield SignalKind.ENTITY, a.issuer, f"Assertion Issuer in {m.source}"
    for doc in evidence.metadata:
        for e in doc.entities:
            yield SignalKind.ENTITY, e.entity_id, f"entityID in {doc.source}"
            for r in e.roles:
                for ep in r.sso_services:
                    yield SignalKind.URL, ep.location, f"SSO endpoint in {doc.source}"
    for url in evidence.urls:
        yield SignalKind.URL, url, "a URL in the evidence"
        if "?" in url:
            for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)[:100]:
                yield SignalKind.PARAM, name, f"a query parameter of `{clip(url, 100)}`"
    for cookie in evidence.cookies:
        yield SignalKind.COOKIE, cookie.name, f"a cookie of {cookie.host}"
    for page in evidence.error_pages:
        yield SignalKind.PAGE, page.text, page.source


class _Tally(Struct):
    """The evidence gathered for one connector while detecting."""

    declaration: ConnectorDeclaration
    first_seen: int
    score: int = 0
    reasons: list[str] = field(default_factory=list)


def detect_connectors(evidence: Evidence) -> tuple[Detection, ...]:
    """One Detection per connector with evidence, leading one first; each reason names the evidence."""
    tallies: dict[Connector, _Tally] = {}
    seen: set[tuple[Connector, str]] = set()  # one count per signal, however often it repeats
    signals = [(decl, decl.detection_signals()) for decl in declarations()]
    checked: set[tuple[SignalKind, str]] = set()  # a capture repeats its issuers and URLs many times
    for position, (kind, value, where) in enumerate(_values(evidence)):
        if (kind, value) in checked:
            continue
        checked.add((kind, value))
        for decl, declared in signals:
            for signal in declared:
                if _ADDRESS.get(signal.kind, signal.kind) is not _ADDRESS.get(kind, kind) \
                        or (decl.connector, signal.what) in seen:
                    continue
                match = signal.pattern.search(value)
                if match is None:
                    continue
                seen.add((decl.connector, signal.what))
                tally = tallies.setdefault(decl.connector, _Tally(decl, position))
                tally.score += signal.weight
                shown = value if kind is not SignalKind.PAGE else match.group(0)
                tally.reasons.append(f"{signal.what} `{clip(shown, 120)}` ({where})")
    ordered = sorted(tallies.values(), key=lambda t: (-t.declaration.rank, -t.score, t.first_seen))
    return tuple(Detection(t.declaration.connector, _reason(t)) for t in ordered)


def _reason(tally: _Tally) -> str:
    shown = "; ".join(tally.reasons[:SHOWN_REASONS])
    more = len(tally.reasons) - SHOWN_REASONS
    return f"{tally.declaration.title}: {shown}" + (f"; and {more} more signal{'s' if more > 1 else ''}" if more > 0
                                                     else "")

