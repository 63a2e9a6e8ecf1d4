"""The user's own options checked against the evidence, before anything is judged.

A wrong option would otherwise be blamed on the IdP: `--alias Okta` when the capture shows `/broker/okta/` makes
every Destination "wrong". What the capture shows wins, and the user is told.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ssodiag.diag.errors import InputError
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.text import clip

if TYPE_CHECKING:
    from ssodiag.diag.model import Evidence

# Keycloak's broker endpoint names the IdP alias: /realms/REALM/broker/ALIAS/endpoint (IdentityBrokerService).
_BROKER_ALIAS = LazyRegex(r"/broker/([^/?#;]+)/endpoint")


def check_atlan_url(atlan: str | None) -> None:
    """--atlan is a URL with its scheme (`acme` or `acme.atlan.com` would make every endpoint relative)."""
    if atlan is None:
        return
    parts = urlsplit(atlan.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InputError(f"--atlan: `{clip(atlan, 80)}` is not a URL; give your Atlan address with its scheme, e.g. "
                         "https://acme.atlan.com")


def _broker_urls(evidence: Evidence) -> list[str]:
    """The URLs of the evidence that name Keycloak's broker endpoint (Destinations, ACS URLs, requests)."""
    urls = [m.destination for m in evidence.messages if m.destination]
    urls += [m.acs_url for m in evidence.messages if m.acs_url]
    urls += [h.url for f in evidence.flows for h in f.hops]
    return [url for url in urls if _BROKER_ALIAS.search(url)]


def captured_aliases(evidence: Evidence) -> list[str]:
    """The IdP aliases the capture's broker URLs show, most used first."""
    counts: dict[str, int] = {}
    for url in _broker_urls(evidence):
        for alias in _BROKER_ALIAS.findall(url):
            counts[alias] = counts.get(alias, 0) + 1
    return sorted(counts, key=counts.get, reverse=True)


def reconcile_atlan(atlan: str | None, evidence: Evidence) -> tuple[str | None, str | None]:
    """--atlan with the scheme the evidence's broker URLs show for the same host, and what to tell the user (or
    None): `http://` typed for an https tenant made every Audience and Destination "wrong"."""
    if atlan is None:
        return None, None
    given = urlsplit(atlan.strip())
    for url in _broker_urls(evidence):
        seen = urlsplit(url.strip())
        if seen.hostname and seen.hostname == given.hostname and seen.scheme.lower() != given.scheme.lower():
            fixed = f"{seen.scheme.lower()}://{seen.netloc.lower()}"
            return fixed, (f"--atlan {clip(atlan, 80)} contradicts the evidence, whose broker URLs are on {fixed}: "
                           f"judging with {fixed}")
    return atlan, None


def reconcile_alias(atlan: str | None, alias: str | None, evidence: Evidence) -> tuple[str | None, str | None]:
    """The alias to judge with, the capture's when it shows one, and what to tell the user about it (or None)."""
    seen = captured_aliases(evidence) if atlan is not None else []
    if not seen or alias == seen[0]:
        return alias, None
    if alias is None:
        return seen[0], f"--alias taken from the capture: {seen[0]}"
    return seen[0], (f"--alias {alias} contradicts the capture, whose broker URLs show /broker/{seen[0]}/ (aliases "
                     f"are case-sensitive): judging with {seen[0]}")
