"""Connector declarations: what ssodiag knows about one IdP vendor, declared once, in that vendor's check module.

A declaration (:class:`ConnectorDeclaration`) holds the detection signals (issuer, host and path patterns, cookies,
query parameters, page texts), the vendor's error texts and codes with their meaning and fix, the attribute-mapping
row of Atlan's setup guide, and the names of the vendor console's fields. Detection (``diag.detect``), the HAR
error-page reader (``diag.har``), ``ssodiag explain`` (``diag.explain``) and the vendor checks all read it; no vendor
fact lives anywhere else. ``checks/<vendor>.py`` calls :func:`declare` at import, next to its checks, so a new
vendor is one new module.

Fix texts are templates: ``{atlan}``, ``{alias}``, ``{sp_entity_id}``, ``{acs_sp}`` and ``{acs_idp}`` (and the
URL-encoded ``{atlan_q}``, ``{sp_entity_id_q}``) are filled
with the tenant's values (``--atlan``/``--alias``, else what the capture shows, else placeholders that say so).
"""
from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from msgspec import Struct, field
from msgspec.structs import replace

from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import Connector, Detection, Finding, Status

if TYPE_CHECKING:
    from ssodiag.diag.context import DiagContext


class SignalKind(str, enum.Enum):
    """Where a detection signal is looked for."""

    ENTITY = "entity"  # an issuer or entity ID (of a message, an assertion or metadata)
    URL = "url"  # a request URL, an endpoint in metadata, a Destination
    PARAM = "param"  # a query parameter name
    COOKIE = "cookie"  # a cookie name
    PAGE = "page"  # visible text of a page


class Signal(Struct, frozen=True):
    """One sign of a vendor in the evidence: where it is looked for and the pattern that finds it."""

    kind: SignalKind
    what: str  # how the report names it: "an Okta issuer"
    pattern: re.Pattern[str]
    # How strongly it names the vendor: 3 an issuer or a vendor-owned host, 2 a vendor's fixed path or page text.
    weight: int = 2


class VendorError(Struct, frozen=True):
    """One error the vendor (or Atlan's login, after this vendor's login) shows, with what it means and the fix."""

    code: str  # how support names it: "AADSTS50105", "403 app_not_configured_for_user"
    expression: str  # how it appears in page text or a pasted message: a regular expression (from `phrase`)
    meaning: str
    causes: tuple[str, ...]
    fix: str  # a template: see the module docstring
    check_id: str  # the finding `analyze` reports it under
    docs: str
    shown_by: str = ""  # who shows the page when it is not the vendor itself ("Atlan's login (Keycloak)")
    catch_all: bool = False  # e.g. any AADSTS code: used only when no specific row of the vendor matched
    names_vendor: bool = True  # the text alone says which vendor showed it (not so for "System Error")

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.expression)


class ConnectorDeclaration(Struct, frozen=True):
    """Everything ssodiag knows about one IdP vendor (see the module docstring)."""

    connector: Connector
    title: str  # "Okta"
    signals: tuple[Signal, ...]
    errors: tuple[VendorError, ...]
    mapping_row: str  # the attribute mapping of Atlan's guide for this IdP, with the console's field names
    console: Mapping[str, str]  # named console paths and fields, quoted verbatim in fixes
    # How a generic check's fix is done in this vendor's console (generic check id -> fix template); appended to
    # the generic finding when this connector is in play.
    fixes: Mapping[str, str]
    docs: str  # Atlan's setup guide for this IdP
    # Generic checks whose failure this vendor documents as harmless (check id -> why): not blamed when it is in play
    not_judged: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Several connectors in one capture: the higher rank leads. A proxy in front of an IdP (Defender before Entra)
    # is what changed the login, so it ranks above the IdP whose login page it proxied.
    rank: int = 0
    # Cookie whose value PingFederate-style support needs to find the server log; shown before redaction.
    tracking_cookie: str | None = None
    # The vendor's login endpoints (URL paths): kept as hops of the login flow even without SAML parameters. Too
    # generic to name the vendor on their own (`/saml2` is also JumpCloud's), so detection does not use them.
    login_paths: re.Pattern[str] | None = None
    # Atlan's Keycloak broker step (diag.broker) each of this vendor's checks explains: when the login stops at that
    # step, the report's headline takes its fix from the vendor's failing finding.
    broker_steps: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # A proxy's rewrite of a host: `<host><suffix>` (the suffix pattern ends with `$`); None for an IdP.
    proxy_host_suffix: re.Pattern[str] | None = None

    def detection_signals(self) -> tuple[Signal, ...]:
        """The declared signals, plus one for the vendor's own error texts (a page only this vendor shows names it)."""
        own = [e.expression for e in self.errors if e.names_vendor and not e.shown_by]
        if not own:
            return self.signals
        pattern = LazyRegex("|".join(f"(?:{p})" for p in own), re.IGNORECASE)
        return self.signals + (Signal(SignalKind.PAGE, f"{self.title}'s error text", pattern),)

    def error(self, code: str) -> VendorError:
        return next(e for e in self.errors if e.code == code)

    def errors_for(self, check_id: str) -> tuple[VendorError, ...]:
        return tuple(e for e in self.errors if e.check_id == check_id)


DECLARATIONS: dict[Connector, ConnectorDeclaration] = {}


def declare(declaration: ConnectorDeclaration) -> ConnectorDeclaration:
    """Register a vendor's declaration (called once, at import of its check module)."""
    if declaration.connector in DECLARATIONS:
        raise ValueError(f"connector {declaration.connector.value} declared twice")
    DECLARATIONS[declaration.connector] = declaration
    return declaration


def declarations() -> tuple[ConnectorDeclaration, ...]:
    """Every declared connector; loads the check modules (which declare them) on first use."""
    from ssodiag.diag.registry import load_builtin_checks

    load_builtin_checks()
    return tuple(DECLARATIONS.values())


def declaration(connector: Connector) -> ConnectorDeclaration | None:
    return next((d for d in declarations() if d.connector is connector), None)


def page_text_pattern() -> re.Pattern[str]:
    """One pattern for every declared error text: finds the pages worth keeping in a capture."""
    parts = [e.expression for d in declarations() for e in d.errors]
    parts += [s.pattern.pattern for d in declarations() for s in d.signals if s.kind is SignalKind.PAGE]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


def behind_proxy(seen_host: str, expected_host: str) -> str | None:
    """The declared proxy (its title) that rewrote ``expected_host`` to ``seen_host``, or None."""
    for decl in declarations():
        suffix = decl.proxy_host_suffix
        if suffix is not None and (m := suffix.search(seen_host)) and seen_host[:m.start()] == expected_host:
            return f"{decl.title} proxy (`{m.group(0)}` suffix)"
    return None


def broker_step_checks(number: int) -> tuple[str, ...]:
    """The vendor checks that explain Atlan's broker step ``number``, as their declarations say."""
    return tuple(check_id for d in declarations() for check_id, step in d.broker_steps.items() if step == number)


def login_path_pattern() -> re.Pattern[str] | None:
    """Every declared vendor login path in one pattern, or None when no vendor declares one."""
    parts = [d.login_paths.pattern for d in declarations() if d.login_paths is not None]
    return LazyRegex("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None


def phrase(*texts: str, raw: str | None = None) -> str:
    """A pattern matching any of the vendor's texts as written, ignoring case and spacing; `{}` in a text stands for
    a value the vendor fills in (an app name, an e-mail). ``raw`` adds a regular expression alternative. Returned as
    text: it is compiled on first use (:attr:`VendorError.pattern`), as most runs read no page and never need it."""
    alternatives = []
    for text in texts:
        parts = [r"\s+".join(re.escape(word).replace("'", "['’]") for word in part.split())
                 for part in text.split("{}")]
        body = r".{1,200}?".join(parts)
        alternatives.append(body + (r"(?!\w)" if text[-1].isalnum() else ""))
    if raw:
        alternatives.append(raw)
    return "|".join(alternatives)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# --------------------------------------------------------------------------- text classification


class TextMatch(Struct, frozen=True):
    """A vendor error found in a text, and the text that matched."""

    declaration: ConnectorDeclaration
    error: VendorError
    matched: str  # the text that matched, as shown

    @property
    def source(self) -> str:
        return self.error.shown_by or self.declaration.title


def classify_text(text: str, connectors: Iterable[Connector] | None = None) -> list[TextMatch]:
    """Every vendor error the text shows, in declaration order; a vendor's catch-all only when none of its specific
    rows matched. ``connectors`` limits the vendors asked (the ones detected); None asks all."""
    wanted = None if connectors is None else set(connectors)
    found: list[TextMatch] = []
    for decl in declarations():
        if wanted is not None and decl.connector not in wanted:
            continue
        specific = False
        for err in decl.errors:
            if err.catch_all and specific:
                continue
            for match in err.pattern.finditer(text):
                if err.catch_all and any(m.matched == match.group(0) for m in found):
                    continue
                found.append(TextMatch(decl, err, match.group(0)))
                specific = specific or not err.catch_all
                if not err.catch_all:
                    break
    return found


# --------------------------------------------------------------------------- the tenant's values in fixes

_ATLAN_ACS = LazyRegex(r"^(https?://[^/?#]+)/auth/realms/default/broker/([^/?#]+)/endpoint(?:/clients/atlan-saml)?/?$")
PLACEHOLDER_ATLAN = "https://TENANT.atlan.com"
# Atlan's guide for an IdP it has no page of its own for (generic SAML 2.0): where the certificate, entity ID, ACS URL
# and attribute names of a fix are entered on Atlan's side.
ATLAN_SAML_GUIDE = "https://ask.atlan.com/hc/en-us/articles/6751945317777-How-to-enable-SAML-2-0-for-SSO"
# Atlan's PingFederate guide: also the one Atlan page that names both ACS URLs ("To use both IdP- and SP-initiated
# SSO, add both the URLs") and that SHA-1 certificates fail ("Invalid signature"), whatever the IdP.
ATLAN_PING_GUIDE = ("https://docs.atlan.com/product/integrations/identity-management/sso/references/"
                    "integration-with-pingfederate-using-saml")
PLACEHOLDER_ALIAS = "ALIAS"


class Tenant(Struct, frozen=True):
    """The values a fix quotes: Atlan's URL, the IdP alias, the SP entity ID and both broker endpoints."""

    atlan: str
    alias: str
    sp_entity_id: str
    acs_sp: str
    acs_idp: str
    origin: str  # "--atlan/--alias", "the evidence" (its broker URLs), or "placeholders"

    def fill(self, template: str) -> str:
        filled = template.format_map({"atlan": self.atlan, "alias": self.alias, "sp_entity_id": self.sp_entity_id,
                                      # a host, where a console asks for a domain (not a URL)
                                      "atlan_host": urlsplit(self.atlan).netloc or self.atlan,
                                      "acs_sp": self.acs_sp, "acs_idp": self.acs_idp,
                                      # URL-encoded, for query parameters of a launch URL
                                      "atlan_q": quote(self.atlan + "/", safe=""),
                                      "sp_entity_id_q": quote(self.sp_entity_id, safe="")})
        if self.origin == "placeholders" and "TENANT" in filled:
            filled += " (TENANT and ALIAS stand for your Atlan host and IdP alias: pass --atlan and --alias to see " \
                      "the exact values)"
        return filled


PLACEHOLDERS = Tenant(atlan=PLACEHOLDER_ATLAN, alias=PLACEHOLDER_ALIAS,
                      sp_entity_id=f"{PLACEHOLDER_ATLAN}/auth/realms/default",
                      acs_sp=f"{PLACEHOLDER_ATLAN}/auth/realms/default/broker/{PLACEHOLDER_ALIAS}/endpoint",
                      acs_idp=f"{PLACEHOLDER_ATLAN}/auth/realms/default/broker/{PLACEHOLDER_ALIAS}/endpoint/clients/"
                              "atlan-saml",
                      origin="the catalogue")  # fills the fixes shown in `ssodiag checks list`


def _atlan_in_evidence(ctx: DiagContext) -> tuple[str, str] | None:
    """(Atlan base URL, alias) from the broker endpoint the evidence posted to or asked for, if there is one."""
    ev = ctx.evidence
    urls = [m.destination for m in ev.messages] + [m.acs_url for m in ev.messages]
    urls += [sc.recipient for m in ev.messages for a in m.assertions for sc in a.subject_confirmations]
    urls += list(ev.urls)
    for url in urls:
        if url and (match := _ATLAN_ACS.match(url.split("?", 1)[0])):
            return match.group(1), match.group(2)
    return None


def tenant(ctx: DiagContext) -> Tenant:
    from ssodiag.diag.context import atlan_base, atlan_endpoints

    expect = ctx.expect
    if expect.atlan_url and expect.atlan_alias:
        base, alias, origin = expect.atlan_url, expect.atlan_alias, "--atlan/--alias"
    elif (seen := _atlan_in_evidence(ctx)) is not None:
        (base, alias), origin = seen, "the evidence"
    else:
        base, alias, origin = PLACEHOLDER_ATLAN, PLACEHOLDER_ALIAS, "placeholders"
    entity, (acs_sp, acs_idp) = atlan_endpoints(base, alias)
    return Tenant(atlan=atlan_base(base), alias=alias,
                  sp_entity_id=expect.sp_entity_id or entity, acs_sp=acs_sp, acs_idp=acs_idp, origin=origin)


def diagnosed_connectors(detections: Iterable[Detection]) -> list[Connector]:
    """The detected connectors whose checks run: every proxy (rank > 0), and the one IdP with the strongest
    evidence, so a capture from Okta is not diagnosed with Google's rules because a Google URL also appears in it."""
    ranks = {d.connector: d.rank for d in declarations()}
    found = [d.connector for d in detections]
    return [c for c in found if ranks.get(c, 0) > 0] + [c for c in found if ranks.get(c, 0) == 0][:1]


def active(ctx: DiagContext) -> list[ConnectorDeclaration]:
    """The declarations of the connectors in play (forced with --connector, else diagnosed), leading one first."""
    chosen = [ctx.expect.connector] if ctx.expect.connector else diagnosed_connectors(ctx.detections)
    return [d for c in chosen if (d := DECLARATIONS.get(c)) is not None]


def tailor(findings: Iterable[Finding], ctx: DiagContext) -> list[Finding]:
    """Generic findings that failed or warned, led by how to make their fix in the console of each connector in play
    (the vendor's console decides the concrete values, the generic advice follows); a finding the vendor documents as
    harmless becomes a skip that says why; one that linked another IdP's setup guide links the guide of the IdP whose
    console fix leads. A finding whose link is a specification PDF links the setup guide of the IdP in play instead
    (Atlan's generic SAML 2.0 guide for an Atlan login with no vendor in play): the guide shows where the value the
    fix names is set, a 90-page PDF does not."""
    from ssodiag.diag.judgement import ATLAN

    decls = active(ctx)
    atlan_login = ctx.judgement == ATLAN
    if not decls and not atlan_login:
        return list(findings)
    values = tenant(ctx)
    # the IdP's guide (not a proxy's); for an Atlan login with no vendor in play, Atlan's generic SAML 2.0 guide
    guide = next((d.docs for d in decls if d.proxy_host_suffix is None), ATLAN_SAML_GUIDE if atlan_login else None)
    vendor_guides = {d.docs for d in DECLARATIONS.values() if d.proxy_host_suffix is None}
    tailored = []
    for f in findings:
        if f.status in (Status.FAIL, Status.WARN):
            harmless = [d.not_judged[f.check_id] for d in decls if f.check_id in d.not_judged]
            fixers = [d for d in decls if f.check_id in d.fixes]
            extra = [f"In {d.title}: {values.fill(d.fixes[f.check_id])}" for d in fixers]
            if harmless:
                f = replace(f, status=Status.SKIP, message=f"Not blamed: {harmless[0]}. {f.message}")
            elif extra:
                f = replace(f, remediation=" ".join([*extra, f.remediation]))
                # a check that links another IdP's guide (KC002: Atlan's PingFederate guide, the one Atlan page
                # naming both ACS URLs) links the guide of the IdP whose console fix now leads instead
                if f.docs in vendor_guides and f.docs != fixers[0].docs and fixers[0].proxy_host_suffix is None:
                    f = replace(f, docs=fixers[0].docs)
            if guide and f.status is not Status.SKIP and f.docs and f.docs.lower().endswith(".pdf"):
                f = replace(f, docs=guide)
        tailored.append(f)
    return tailored
