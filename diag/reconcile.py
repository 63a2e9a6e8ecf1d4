"""The user's own options checked against the evidence, before anything is judged.

A wrong option would otherwise be blamed on the IdP: `--alias Okta` when the capture shows `/broker/okta/` makes
every Destination "wrong". What the evidence shows wins, and the user is told where it shows it.
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


def evidence_aliases(evidence: Evidence) -> list[str]:
    """The IdP aliases the evidence's broker URLs show, most used first."""
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


def _alias_origin(evidence: Evidence, alias: str) -> str:
    """Where the evidence shows ``alias``, in words the user recognises: the capture (a HAR or SAML-tracer export),
    else the message field and the input holding it (a message file, stdin, or an argument pasted as a URL or value:
    its name says so, e.g. `argument 1 (pasted value)`)."""
    captured = {h.message_index for f in evidence.flows for h in f.hops}
    if any(alias in _BROKER_ALIAS.findall(h.url) for f in evidence.flows for h in f.hops):
        return "the capture"
    for index, msg in enumerate(evidence.messages):
        for field, url in (("Destination", msg.destination), ("AssertionConsumerServiceURL", msg.acs_url)):
            if url and alias in _BROKER_ALIAS.findall(url):
                return "the capture" if index in captured else f"the {msg.kind.value}'s {field} in {msg.source}"
    return "the evidence"


def reconcile_alias(atlan: str | None, alias: str | None, evidence: Evidence) -> tuple[str | None, str | None]:
    """The alias to judge with, the evidence's when it shows one, and what to tell the user about it (or None)."""
    seen = evidence_aliases(evidence) if atlan is not None else []
    if not seen or alias == seen[0]:
        return alias, None
    origin = _alias_origin(evidence, seen[0])
    if alias is None:
        return seen[0], f"--alias taken from {origin}: {seen[0]}"
    return seen[0], (f"--alias {alias} contradicts {origin}, which shows /broker/{seen[0]}/ (aliases are "
                     f"case-sensitive): judging with {seen[0]}")
