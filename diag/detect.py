"""Which IdP (connector) produced this evidence, with the reason, from issuers, hosts, paths and error pages.

Detection only selects connector-specific checks and tailors remediation text; ``--connector`` overrides it.
The patterns are vendor facts from sso-facts.md §3 (and STYLE.md's list), not guesses about a tenant.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from ssodiag.diag.model import Connector, Detection, Evidence

# (connector, what matched, compiled pattern) applied to issuers / entity IDs / URLs
_URL_RULES: tuple[tuple[Connector, str, re.Pattern[str]], ...] = (
    # Okta issuers look like http://www.okta.com/exk...; tenants live on okta.com / oktapreview.com / okta-emea.com
    (Connector.OKTA, "an Okta issuer", re.compile(r"^https?://www\.okta\.com/\w+", re.I)),
    (Connector.OKTA, "an Okta host", re.compile(r"^https?://[^/]+\.(okta|oktapreview|okta-emea)\.com(/|$)", re.I)),
    # Google Workspace IdP: https://accounts.google.com/o/saml2?idpid=... (entity ID and SSO URL)
    (Connector.GOOGLE, "a Google Workspace SAML URL", re.compile(r"^https://accounts\.google\.com/o/saml2", re.I)),
    # PingFederate's built-in endpoints cannot be renamed (sso-facts §3.1)
    (Connector.PINGFEDERATE, "a PingFederate endpoint",
     re.compile(r"/idp/(startSSO\.ping|SSO\.saml2|SLO\.saml2)", re.I)),
    # Entra ID issuer https://sts.windows.net/<tenant>/ and login host
    (Connector.ENTRA, "an Entra ID issuer", re.compile(r"^https://sts\.windows\.net/[0-9a-f-]{36}/?", re.I)),
    (Connector.ENTRA, "an Entra ID login host", re.compile(r"^https://login\.microsoftonline\.(com|us)/", re.I)),
    # Defender for Cloud Apps session proxy rewrites hosts to <host>.mcas.ms (sso-facts §3.4, observed pattern)
    (Connector.DEFENDER, "a Defender for Cloud Apps proxy host", re.compile(r"^https?://[^/]*\.mcas\.ms(:\d+)?(/|$)", re.I)),
)

_DEFENDER_PARAMS = {"mcastsid", "mcascsrf"}

# Error-page text that names the vendor (sso-facts §3.2–§3.4)
_TEXT_RULES: tuple[tuple[Connector, str, re.Pattern[str]], ...] = (
    (Connector.OKTA, "Okta's 'App Not Assigned' page", re.compile(r"not assigned (to )?this app in Okta|403 App Not Assigned", re.I)),
    (Connector.GOOGLE, "a Google SAML app error code", re.compile(r"app_not_(configured|enabled)_for_user|app_not_configured", re.I)),
    (Connector.ENTRA, "an AADSTS error code", re.compile(r"\bAADSTS\d{5,7}\b")),
)


def _candidates(evidence: Evidence) -> Iterator[tuple[str, str]]:
    """(value, where it came from) for every issuer, entity ID, endpoint and URL in the evidence."""
    for m in evidence.messages:
        if m.issuer:
            yield m.issuer, f"Issuer of {m.kind.value} in {m.source}"
        if m.destination:
            yield m.destination, f"Destination of {m.kind.value} in {m.source}"
        for a in m.assertions:
            if a.issuer:
                yield a.issuer, f"Assertion Issuer in {m.source}"
    for doc in evidence.metadata:
        for e in doc.entities:
            yield e.entity_id, f"entityID in {doc.source}"
            for r in e.roles:
                for ep in r.sso_services:
                    yield ep.location, f"SSO endpoint in {doc.source}"
    for url in evidence.urls:
        yield url, "a request in the capture"


def detect_connectors(evidence: Evidence) -> tuple[Detection, ...]:
    """One Detection per connector found, with the first reason that matched (ordered by first appearance)."""
    found: dict[Connector, str] = {}
    for value, where in _candidates(evidence):
        for connector, what, pattern in _URL_RULES:
            if connector not in found and pattern.search(value):
                found[connector] = f"{what} `{value[:120]}` ({where})"
        if Connector.DEFENDER not in found and "?" in value:
            params = {k.lower() for k, _ in parse_qsl(urlsplit(value).query, keep_blank_values=True)}
            if params & _DEFENDER_PARAMS:
                found[Connector.DEFENDER] = f"Defender for Cloud Apps proxy parameters in `{value[:120]}` ({where})"
    for page in evidence.error_pages:
        for connector, what, pattern in _TEXT_RULES:
            if connector not in found and pattern.search(page.text):
                found[connector] = f"{what} in {page.source}"
    return tuple(Detection(c, r) for c, r in found.items())
