"""DiagContext: the parsed evidence plus the resolved expectations, handed once to every check."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from msgspec import Struct, field

from ssodiag.diag.har import capture_instant
from ssodiag.diag.model import (
    Certificate, Detection, EntityMetadata, Evidence, Expectations, MessageKind, SamlMessage,
)
from ssodiag.diag.judgement import ATLAN, STRICT
from ssodiag.diag.registry import Need

if TYPE_CHECKING:
    from ssodiag.diag.broker import BrokerConfig, Prediction

STRICT_CLOCK_SKEW = 300  # seconds; python3-saml's ALLOWED_CLOCK_DRIFT, what strict service providers allow

# Atlan's Keycloak broker endpoints (Atlan's PingFederate guide prints both): SP-initiated, and IdP-initiated with the
# client suffix.
ATLAN_REALM_PATH = "/auth/realms/default"
ATLAN_IDP_INITIATED_SUFFIX = "/clients/atlan-saml"


def atlan_base(atlan_url: str) -> str:
    """`scheme://host[:port]` of an Atlan URL as Keycloak builds its URLs from a request: scheme and host in lower
    case, no default port, no path (`HTTPS://ACME.atlan.com:443/home` is `https://acme.atlan.com`)."""
    parts = urlsplit(atlan_url.strip() if "://" in atlan_url else f"https://{atlan_url.strip()}")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a number: keep what was written, the comparison will show it
        return f"{scheme}://{parts.netloc.lower()}"
    default = {"https": 443, "http": 80}.get(scheme)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    return f"{scheme}://{host}{'' if port in (None, default) else f':{port}'}"


def atlan_endpoints(atlan_url: str, alias: str) -> tuple[str, tuple[str, str]]:
    """(SP entity ID, (SP-initiated ACS, IdP-initiated ACS)) for an Atlan tenant and IdP alias.

    The entity ID is Keycloak's default, the realm URL (SAMLIdentityProvider.java 207-214 in
    atlanhq/keycloak-identity 20.0.2): Atlan's docs never print the literal value, so checks built on it say it is
    derived, and ``--sp-entity-id`` wins.
    """
    base = atlan_base(atlan_url)
    acs = f"{base}{ATLAN_REALM_PATH}/broker/{alias}/endpoint"
    return f"{base}{ATLAN_REALM_PATH}", (acs, acs + ATLAN_IDP_INITIATED_SUFFIX)


class DiagContext(Struct, frozen=True, dict=True):  # dict: room for its cached_property values
    """What every check reads: the evidence, the expectations, the detected connectors and the judging rules."""

    evidence: Evidence
    expect: Expectations
    detections: tuple[Detection, ...] = ()
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    judgement: str = STRICT  # ATLAN or STRICT (diag.judgement)
    broker_config: BrokerConfig | None = None  # Atlan logins: the broker settings the predictions used
    predictions: tuple[Prediction, ...] = ()  # Atlan logins: the broker's steps for each Response

    @property
    def clock_skew(self) -> int:
        """--clock-skew, else for Atlan the broker's allowed clock skew (Keycloak's default 0), else 300 s."""
        if self.expect.clock_skew is not None:
            return self.expect.clock_skew
        if self.judgement == ATLAN and self.broker_config is not None:
            return self.broker_config.allowed_clock_skew
        return STRICT_CLOCK_SKEW

    # ----------------------------------------------------------------- messages
    def messages_of(self, kind: MessageKind) -> tuple[SamlMessage, ...]:
        return tuple(m for m in self.evidence.messages if m.kind is kind)

    @cached_property  # every Response check walks them: picked out of the evidence once
    def responses(self) -> tuple[SamlMessage, ...]:
        return self.messages_of(MessageKind.RESPONSE)

    @cached_property
    def authn_requests(self) -> tuple[SamlMessage, ...]:
        return self.messages_of(MessageKind.AUTHN_REQUEST)

    @cached_property
    def captured_at(self) -> datetime | None:
        """When the evidence was captured: the last SAML message's capture time, else the last hop of a capture."""
        times = [m.captured_at for m in self.evidence.messages if m.captured_at]
        times = times or [t for f in self.evidence.flows for h in f.hops if (t := capture_instant(h.time))]
        return max(times) if times else None

    @property
    def login_time_unknown(self) -> bool:
        """No --at and no capture time: the evidence was pasted, so when the login happened is not known."""
        return not self.expect.at and self.captured_at is None

    @cached_property
    def issued_at(self) -> datetime | None:
        """The latest IssueInstant among the messages: the best estimate of the login time of pasted evidence."""
        times = [m.issue_instant for m in self.evidence.messages if m.issue_instant]
        return max(times) if times else None

    def instant_for(self, message: SamlMessage | None = None) -> datetime:
        """When to evaluate time conditions: ``--at``, else the capture time of the message, else the capture time
        of the evidence (metadata and certificates are judged as they stood at the failed login). A pasted message
        has no capture time: it is judged at its own IssueInstant (a message pasted days later did not "expire"),
        and the time checks warn that the login time is unknown. Now only when nothing carries a time."""
        if self.expect.at:
            return self.expect.at
        if message is not None and message.captured_at:
            return message.captured_at
        if self.captured_at:
            return self.captured_at
        if message is not None and message.issue_instant:
            return message.issue_instant
        return self.issued_at or self.now

    # ----------------------------------------------------------------- expectations
    @property
    def idp_entities(self) -> tuple[EntityMetadata, ...]:
        """IdP entities from --idp-metadata and from metadata given as evidence."""
        docs = self.expect.idp_metadata + self.evidence.metadata
        return tuple(e for d in docs for e in d.entities if e.role("idp"))

    @property
    def sp_entities(self) -> tuple[EntityMetadata, ...]:
        """SP entities (an SPSSODescriptor and no IdP role) from --sp-metadata and from metadata given as evidence:
        Atlan's own metadata export says which entity ID and ACS URLs it expects. Configuration of the SP only: it
        never supplies IdP trust and is not judged as IdP metadata."""
        docs = self.expect.sp_metadata + self.evidence.metadata
        return tuple(e for d in docs for e in d.entities if e.role("sp") and not e.role("idp"))

    @property
    def sp_metadata_entity_id(self) -> str | None:
        """The SP entity ID the SP metadata names, when it names exactly one."""
        ids = {e.entity_id for e in self.sp_entities if e.entity_id}
        return ids.pop() if len(ids) == 1 else None

    @property
    def sp_entity_id(self) -> str | None:
        if self.expect.sp_entity_id:
            return self.expect.sp_entity_id
        if self.expect.keycloak_idp is not None and self.expect.keycloak_idp.sp_entity_id:
            return self.expect.keycloak_idp.sp_entity_id
        if self.sp_metadata_entity_id:
            return self.sp_metadata_entity_id
        if self.expect.atlan_url and self.expect.atlan_alias:
            return atlan_endpoints(self.expect.atlan_url, self.expect.atlan_alias)[0]
        return None

    @property
    def acs_urls(self) -> tuple[str, ...]:
        urls = list(self.expect.acs_urls)
        urls += [ep.location for e in self.sp_entities for ep in e.role("sp").acs_services
                 if ep.location and ep.location not in urls]
        if self.expect.atlan_url and self.expect.atlan_alias:
            urls += [u for u in atlan_endpoints(self.expect.atlan_url, self.expect.atlan_alias)[1] if u not in urls]
        return tuple(urls)

    @property
    def idp_entity_id(self) -> str | None:
        if self.expect.idp_entity_id:
            return self.expect.idp_entity_id
        if self.expect.keycloak_idp is not None and self.expect.keycloak_idp.idp_entity_id:
            return self.expect.keycloak_idp.idp_entity_id
        entities = self.idp_entities
        return entities[0].entity_id if len(entities) == 1 else None

    @property
    def configured_idp_entities(self) -> tuple[EntityMetadata, ...]:
        """IdP entities from --idp-metadata only: the metadata the user vouches for."""
        return tuple(e for d in self.expect.idp_metadata for e in d.entities if e.role("idp"))

    @property
    def trusted_certificates(self) -> tuple[Certificate, ...]:
        """Only what the user configured: --idp-cert and the signing certs of --idp-metadata.

        Never KeyInfo, and never metadata found in the evidence: a capture or a pasted document can carry metadata
        naming an attacker's key, so evidence metadata is only described and compared (SIG009)."""
        certs = list(self.expect.idp_certificates)
        if self.expect.keycloak_idp is not None:  # the tenant's configuration may carry trust; evidence never does
            certs += self.expect.keycloak_idp.signing_certificates or ()
        for entity in self.configured_idp_entities:
            certs += entity.role("idp").signing_certificates
        return tuple(certs)

    @property
    def sp_certificates(self) -> tuple[Certificate, ...]:
        """Trust for SP-signed messages (AuthnRequests): --sp-cert and the signing certs of --sp-metadata."""
        return self.expect.sp_certificates + tuple(
            c for d in self.expect.sp_metadata for e in d.entities if (role := e.role("sp"))
            for c in role.signing_certificates)

    @property
    def request_id(self) -> str | None:
        if self.expect.request_id:
            return self.expect.request_id
        ids = [m.id for m in self.authn_requests if m.id]
        return ids[-1] if ids else None

    # ----------------------------------------------------------------- needs
    def has(self, need: Need) -> bool:
        return _HAS[need](self)


# Whether the context holds what a need names: only the asked one is worked out (the runner asks for every check).
_HAS: dict[Need, Callable[[DiagContext], bool]] = {
    Need.RESPONSE: lambda ctx: bool(ctx.responses),
    Need.AUTHN_REQUEST: lambda ctx: bool(ctx.authn_requests),
    Need.MESSAGE: lambda ctx: bool(ctx.evidence.messages),
    Need.FLOW: lambda ctx: bool(ctx.evidence.flows),
    Need.URL: lambda ctx: bool(ctx.evidence.urls),
    Need.IDP_METADATA: lambda ctx: bool(ctx.idp_entities),
    Need.IDP_TRUST: lambda ctx: bool(ctx.trusted_certificates or ctx.expect.idp_fingerprints),
    Need.IDP_ENTITY_ID: lambda ctx: bool(ctx.idp_entity_id),
    Need.SP_ENTITY_ID: lambda ctx: bool(ctx.sp_entity_id),
    Need.ACS_URL: lambda ctx: bool(ctx.acs_urls),
    Need.REQUEST_ID: lambda ctx: bool(ctx.request_id),
    Need.ERROR_PAGE: lambda ctx: bool(ctx.evidence.error_pages),
    Need.GROUP_MAPPINGS: lambda ctx: ctx.expect.group_mappings is not None,
    Need.KEYCLOAK_IDP: lambda ctx: ctx.expect.keycloak_idp is not None,
}
