"""The check catalogue: a ``@check`` decorator on plain functions, filled from an explicit module list.

A check is ``func(ctx: DiagContext, spec: CheckSpec) -> Iterable[Finding]`` and builds its findings with
``spec.fail(...)``, ``spec.warn(...)``, ``spec.passed(...)`` and ``spec.skip(...)`` so that id, title,
severity, connector, remediation and docs always come from the catalogue entry.

Checks declare the inputs they need (:class:`Need`); the runner turns a missing need into a ``skip`` finding
that names the option which would enable the check.
"""
from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from msgspec import Struct

from ssodiag.diag.model import Connector, Finding, Severity, Status

if TYPE_CHECKING:
    from ssodiag.diag.context import DiagContext


class Need(str, enum.Enum):
    """An input a check needs, with the hint shown when it is missing."""

    hint: str

    def __new__(cls, value: str, hint: str) -> Need:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.hint = hint
        return obj

    RESPONSE = ("response", "give a SAML Response (a HAR of the login, a SAML-tracer export or the SAMLResponse value)")
    AUTHN_REQUEST = ("authn-request", "give the AuthnRequest (a HAR of an SP-initiated login or the SAMLRequest value)")
    MESSAGE = ("message", "give a SAML message, a HAR or a SAML-tracer export")
    FLOW = ("flow", "give a HAR or SAML-tracer export of the login")
    URL = ("url", "give the URL the user opened (e.g. the IdP's launch link), or a HAR of the login")
    IDP_METADATA = ("idp-metadata", "pass --idp-metadata FILE (or give the IdP metadata as evidence)")
    IDP_TRUST = ("idp-trust", "pass --idp-cert, --idp-fingerprint or --idp-metadata")
    IDP_ENTITY_ID = ("idp-entity-id", "pass --idp-entity-id or --idp-metadata")
    SP_ENTITY_ID = ("sp-entity-id", "pass --sp-entity-id, or --atlan URL --alias ALIAS")
    ACS_URL = ("acs-url", "pass --acs-url, or --atlan URL --alias ALIAS")
    REQUEST_ID = ("request-id", "pass --request-id, or give a HAR holding the AuthnRequest")
    ERROR_PAGE = ("error-page", "give a HAR (or the error page text) of the failed login")
    GROUP_MAPPINGS = ("group-mappings", "pass --mappings FILE (Atlan's SSO group mappings)")
    KEYCLOAK_IDP = ("keycloak-idp", "pass --keycloak-idp FILE (the tenant's identity provider from Keycloak's admin "
                                    "API or a realm export)")


CHECK_ID_RE = re.compile(r"^[A-Z]+\d{3}$")


def _finding_of(status: Status) -> Callable[..., Finding]:
    """The CheckSpec method that builds a finding of ``status``: one call per finding (checks build tens of them per
    message), its arguments named one by one rather than passed on in a dict."""

    def finding(self: CheckSpec, message: str, *, severity: Severity | None = None, remediation: str | None = None,
                docs: str | None = None, source: str | None = None, locator: str | None = None,
                expected: str | None = None, seen: str | None = None) -> Finding:
        return Finding(
            check_id=self.id, title=self.title, severity=severity or self.severity, status=status,
            connector=self.connector, message=message, remediation=remediation or self.remediation,
            docs=docs or self.docs, source=source, locator=locator, expected=expected, seen=seen,
        )

    return finding


class CheckSpec(Struct, frozen=True):
    """A registered check: its id, title, severity, what evidence it needs, and the function that runs it."""

    id: str
    title: str
    severity: Severity
    connector: Connector
    requires: frozenset[Need]
    remediation: str
    docs: str | None
    func: Callable[[DiagContext, CheckSpec], Iterable[Finding]]
    # The check explains what the user saw (an error page) rather than finding a cause; among failures of the
    # same severity a cause is listed first, so the verdict names what to change, not the symptom.
    symptom: bool = False
    # The check names where the login stops (Atlan's broker): its failure is the answer, listed before all others.
    headline: bool = False
    # The check judges the evidence at the login's instant (DiagContext.instant_for): with no --at and no capture
    # time that instant is a stand-in (the Response's IssueInstant, else now), so --at may change its result.
    timed: bool = False

    @property
    def description(self) -> str:
        """The long help: the check function's docstring."""
        return (self.func.__doc__ or "").strip()

    # spec.fail(message, seen=..., ...) and the like: a finding of that status, with the spec's id, title, severity,
    # connector, remediation and docs unless given
    fail = _finding_of(Status.FAIL)
    warn = _finding_of(Status.WARN)
    passed = _finding_of(Status.PASS)
    skip = _finding_of(Status.SKIP)
    error = _finding_of(Status.ERROR)


REGISTRY: dict[str, CheckSpec] = {}


def check(*, id: str, title: str, severity: Severity, remediation: str, connector: Connector = Connector.GENERIC,
          requires: Iterable[Need] = (), docs: str | None = None, symptom: bool = False, headline: bool = False,
          timed: bool = False):
    """Register a check function in :data:`REGISTRY` under a stable, never-reused id."""

    def register(func):
        if id in REGISTRY:
            raise ValueError(f"check id {id} registered twice")
        REGISTRY[id] = CheckSpec(id, title, severity, connector, frozenset(requires), remediation, docs, func,
                                 symptom, headline, timed)
        return func

    return register


# Explicit module list (no globbing): a newcomer sees every check module here, and import order is stable.
CHECK_MODULES = (
    "ssodiag.checks.signature",  # SIG: signature trust, wrapping defence, algorithms, certificates
    "ssodiag.checks.status",  # SAML001: the Response StatusCode
    "ssodiag.checks.structure",  # SAML: required elements and their counts (Version, IDs, assertion, Conditions, ...)
    "ssodiag.checks.timing",  # SAML: IssueInstant, Conditions window, bearer and session expiry
    "ssodiag.checks.audience_destination",  # SAML: Audience, Destination, bearer Recipient
    "ssodiag.checks.identity",  # SAML: InResponseTo, Issuer, NameID
    "ssodiag.checks.attributes",  # ATTR: Atlan's required attributes, look-alike names, group claims
    "ssodiag.checks.authn_request",  # REQ: AuthnRequest rules
    "ssodiag.checks.metadata",  # MD: IdP metadata health
    "ssodiag.checks.keycloak",  # KC: what Atlan's Keycloak error page means
    "ssodiag.checks.broker",  # KC: where Atlan's Keycloak broker stops the login (diag.broker)
    "ssodiag.checks.keycloak_settings",  # KC: the tenant's identity-provider settings (--keycloak-idp)
    # One module per connector: its declaration (diag.connectors) and its checks
    "ssodiag.checks.okta",  # OKTA: Okta
    "ssodiag.checks.pingfederate",  # PING: PingFederate
    "ssodiag.checks.google",  # GWS: Google Workspace
    "ssodiag.checks.entra",  # ENTRA: Microsoft Entra ID
    "ssodiag.checks.defender",  # MDA: Microsoft Defender for Cloud Apps session proxy
)


def load_builtin_checks() -> dict[str, CheckSpec]:
    for name in CHECK_MODULES:
        importlib.import_module(name)
    validate_registry()
    return REGISTRY


def validate_registry() -> None:
    """Catalogue lint, run at start-up and in tests: ids, titles and remediations a user can rely on."""
    for cid, spec in REGISTRY.items():
        if not CHECK_ID_RE.match(cid):
            raise ValueError(f"check id {cid!r} does not match {CHECK_ID_RE.pattern}")
        if not spec.title.strip() or not spec.remediation.strip():
            raise ValueError(f"check {cid} needs a title and a remediation")
        if not spec.description:
            raise ValueError(f"check {cid} needs a docstring (it is the catalogue's long help)")
