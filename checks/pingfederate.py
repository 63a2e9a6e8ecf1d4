"""PING: PingFederate as Atlan's IdP: malformed IdP-initiated launch URLs (the classic 404), the SP connection's
state and bindings, and the tracking ID support needs to find PingFederate's server log.

The declaration below is everything ssodiag knows about PingFederate. PingFederate's endpoints are built in and
cannot be renamed, and its parameters are case-sensitive, so a launch URL can be judged exactly.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType
from urllib.parse import quote, unquote, urlsplit

from msgspec import Struct

from ssodiag.checks.common import page_checks, vendor_page_findings
from ssodiag.diag.connectors import (
    ATLAN_PING_GUIDE, ConnectorDeclaration, Signal, SignalKind, VendorError, declare, phrase, tenant,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import Connector, Finding, Severity, Status
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted
from ssodiag.diag.urls import identifier_hint

PF_URL_ERRORS = ("https://docs.pingidentity.com/pingfederate/latest/administrators_reference_guide/"
                 "pf_resolving_url_rel_errors.html")
PF_IDP_ENDPOINTS = ("https://docs.pingidentity.com/pingfederate/latest/developers_reference_guide/"
                    "pf_idp_endpoints.html")
PF_SERVICE_ERRORS = ("https://docs.pingidentity.com/pingfederate/latest/administrators_reference_guide/"
                     "pf_resolv_service_rel_errors.html")
PF_TRACKING = "https://docs.pingidentity.com/r/en-us/pingfederate-100/tuq1564003028869"

SP_CONNECTION = "PingFederate administrative console → Applications → SP Connections → the Atlan connection"
# PingFederate's built-in IdP endpoints (they cannot be changed), by their exact, case-sensitive path.
KNOWN_PATHS = ("/idp/startSSO.ping", "/idp/SSO.saml2", "/idp/SLO.saml2", "/idp/startSLO.ping", "/idp/ARS.ssaml2",
               "/idp/attrsvc.ssaml2", "/idp/SSO.ping", "/idp/prp.wsf")
LAUNCH_PATH = "/idp/startSSO.ping"
PARTNER_NAMES = ("PartnerSpId", "PARTNER")  # the SP's federation ID; "Parameters are case-sensitive."
TARGET_NAMES = ("TargetResource", "TARGET")
_RESTRICTED = LazyRegex(r"[:/?#\[\]@!$'()*+,;= ]")  # RFC 3986 reserved characters, and a space

_MAPPING = ("PingFederate (Atlan's guide states no mapping): in " + SP_CONNECTION + " → Browser SSO → Assertion "
            "Creation → Attribute Contract, add `email`, `firstName`, `lastName` and `memberOf` (exact names) and "
            "fulfil them from the user store in the Attribute Contract Fulfillment.")

PING = declare(ConnectorDeclaration(
    connector=Connector.PINGFEDERATE,
    title="PingFederate",
    docs=ATLAN_PING_GUIDE,
    signals=(
        Signal(SignalKind.URL, "a PingFederate endpoint",
               re.compile(r"^https?://[^/?#]+/idp/(?:startSSO\.ping|SSO\.saml2|SLO\.saml2|startSLO\.ping)", re.I), 3),
        # PingFederate's session cookie; its value leads support to the server log's tracking ID
        Signal(SignalKind.COOKIE, "PingFederate's session cookie", LazyRegex(r"^PF$"), 2),
        Signal(SignalKind.PARAM, "a PingFederate launch parameter",
               LazyRegex(r"^(?:PartnerSpId|TargetResource)$", re.I), 1),
    ),
    errors=(
        VendorError(
            "partner not active", phrase(raw=r"partner\b.{0,80}?\bnot\s+active"),
            "PingFederate found the SP connection for Atlan, but the connection is not active.",
            ("the SP connection was saved inactive, or deactivated",),
            SP_CONNECTION + " → Activation & Summary → Connection Status: Active → Save.",
            "PING007", PF_SERVICE_ERRORS),
        VendorError(
            "Unexpected System Error", phrase("Unexpected System Error"),
            "PingFederate could not process the request; after an AuthnRequest sent with the HTTP-Redirect binding "
            "this is a binding or profile the SP connection does not allow. The page's reference code finds the "
            "details in PingFederate's server.log.",
            ("SP-initiated SSO or the Redirect binding is not enabled in the SP connection",
             "the AuthnRequest's signature or ACS URL did not validate against the connection"),
            SP_CONNECTION + " → Browser SSO → SAML Profiles: enable SP-Initiated SSO; → Protocol Settings → Allowable "
            "SAML Bindings: enable Redirect (and POST); save and activate. Then search server.log for the page's "
            "reference code.",
            "PING008", PF_SERVICE_ERRORS),
        VendorError(
            "System Error", phrase(raw=r"(?<!Unexpected\s)\bSystem\s+Error\b"),
            "PingFederate rejected the launch URL: a second `?` in a startSSO.ping URL gives \"System Error\" (every "
            "separator after the first must be `&`).",
            ("a launch URL with two `?`", "a malformed or unencoded parameter value"),
            "Use `https://PF-HOST/idp/startSSO.ping?PartnerSpId={sp_entity_id_q}&TargetResource={atlan_q}`.",
            "PING002", PF_URL_ERRORS, names_vendor=False),
    ),
    mapping_row=_MAPPING,
    login_paths=LazyRegex(r"/idp/(?:startSSO\.ping|SSO\.saml2|SLO\.saml2)", re.I),
    tracking_cookie="PF",
    console=MappingProxyType({
        "sp_connection": SP_CONNECTION,
        "partner_entity_id": "Partner's Entity ID (Connection ID)",
        "acs": "Protocol Settings → Assertion Consumer Service URL",
        "activation": "Activation & Summary → Connection Status",
        "bindings": "Protocol Settings → Allowable SAML Bindings",
        "signing": "Credentials → Digital Signature Settings → Signing Algorithm",
    }),
    fixes=MappingProxyType({
        "KC002": SP_CONNECTION + " → Protocol Settings → Assertion Consumer Service URL: list both `{acs_idp}` "
                 "(mark it Default: startSSO.ping posts to the default) and `{acs_sp}` (PingFederate validates the ACS "
                 "an AuthnRequest asks for against this list).",
        "SIG006": SP_CONNECTION + " → Credentials → Digital Signature Settings → Signing Algorithm: RSA SHA256 "
                  "(the exact screen varies by PingFederate version; Keycloak on Java 17 or later refuses SHA-1 XML "
                  "signatures with \"Invalid signature in response from identity provider.\").",
        "SAML012": SP_CONNECTION + " → General Info → Partner's Entity ID (Connection ID) = `{sp_entity_id}`.",
        "REQ002": SP_CONNECTION + " → General Info → Partner's Entity ID (Connection ID) = `{sp_entity_id}`.",
        "SAML013": SP_CONNECTION + " → Protocol Settings → Assertion Consumer Service URL = `{acs_sp}` and "
                   "`{acs_idp}`.",
    }),
))


class Launch(Struct, frozen=True):
    """A startSSO.ping URL from the capture, split the way PingFederate reads it."""

    url: str
    base: str  # scheme://host[:port]
    separator_ampersand: bool  # `startSSO.ping&…`: no `?` after the path
    question_marks: int
    params: tuple[tuple[str, str], ...]  # (name, raw value), split on `&` after the first `?`


def _launches(ctx: DiagContext) -> Iterator[Launch]:
    for url in ctx.evidence.urls:
        parts = urlsplit(url)
        if "startsso.ping" not in url.lower() or not parts.scheme:
            continue
        raw = url.split("#", 1)[0]
        after = raw.split("startSSO.ping", 1)[-1] if "startSSO.ping" in raw else re.split("startsso.ping", raw,
                                                                                            1, re.I)[-1]
        ampersand = after.startswith("&")
        query = after[1:] if after[:1] in ("?", "&") else ""
        params = tuple((n, v) for n, _, v in (p.partition("=") for p in query.split("&") if p))
        yield Launch(url, f"{parts.scheme}://{parts.netloc}", ampersand, raw.count("?"), params)


def correct_launch_url(ctx: DiagContext, base: str) -> str:
    """The launch URL with the tenant's values: PartnerSpId = Atlan's SP entity ID, TargetResource = Atlan, encoded."""
    values = tenant(ctx)
    return (f"{base}{LAUNCH_PATH}?PartnerSpId={quote(values.sp_entity_id, safe='')}"
            f"&TargetResource={quote(values.atlan + '/', safe='')}")


def _launch_fix(ctx: DiagContext, launch: Launch) -> str:
    note = tenant(ctx).fill(" ({atlan})") if tenant(ctx).origin == "placeholders" else ""
    return (f"Launch Atlan from PingFederate with `{correct_launch_url(ctx, launch.base)}`: `?` after the path, `&` "
            f"between parameters, PartnerSpId and TargetResource spelled exactly so, values URL-encoded.{note}")


def _launch_check(ctx: DiagContext, spec: CheckSpec, broken, good: str, bad: str) -> Iterator[Finding]:
    """Judge every launch URL of the capture with ``broken(launch) -> str | None`` (the problem, or None)."""
    launches = list(_launches(ctx))
    if not launches:
        yield spec.skip("The capture holds no PingFederate startSSO.ping launch URL.")
        return
    for launch in launches:
        where = dict(source="a URL in the evidence", locator="startSSO.ping URL", seen=launch.url[:300],
                     expected=correct_launch_url(ctx, launch.base))
        problem = broken(launch)
        if problem:
            yield spec.fail(f"{bad} {quoted(launch.url, 200)}: {problem}", remediation=_launch_fix(ctx, launch),
                            **where)
        else:
            yield spec.passed(f"{good} {quoted(launch.url, 200)}.", **where)


@check(id="PING001", title="PingFederate launch URL has `&` where `?` belongs (404 Not Found)",
       severity=Severity.HIGH, connector=Connector.PINGFEDERATE, requires={Need.URL}, docs=PF_URL_ERRORS,
       remediation="Start the query of `…/idp/startSSO.ping` with `?`, not `&`.")
def ampersand_for_question_mark(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """PingFederate answers `…/idp/startSSO.ping&PartnerSpId=…` with 404 Not Found: without a `?` the whole string
    is the path, and no such endpoint exists ("Resolving URL-related errors")."""
    yield from _launch_check(
        ctx, spec, lambda l: "the query starts with `&`, so PingFederate reads `startSSO.ping&…` as a path and "
                             "answers 404 Not Found" if l.separator_ampersand else None,
        "The launch URL starts its query with `?`:", "The launch URL")


@check(id="PING002", title="PingFederate launch URL has a second `?` (System Error)", severity=Severity.HIGH,
       connector=Connector.PINGFEDERATE, requires={Need.URL}, docs=PF_URL_ERRORS,
       remediation="Separate the parameters of the launch URL with `&`; only the first separator is `?`.")
def second_question_mark(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """`…/idp/startSSO.ping?PartnerSpId=sp1?TargetResource=…` gives PingFederate's "System Error": every
    separator after the first must be `&` ("Resolving URL-related errors"). A System Error page with no launch URL in
    the capture is reported from the page."""
    seen_launch = any(True for _ in _launches(ctx))
    yield from _launch_check(
        ctx, spec, lambda l: f"it holds {l.question_marks} `?`; PingFederate answers \"System Error\"" if
        l.question_marks > 1 else None, "The launch URL has one `?`:", "The launch URL")
    if not seen_launch:
        yield from (f for f in vendor_page_findings(ctx, spec, Connector.PINGFEDERATE) if f.status is Status.FAIL)


def _miscased(launch: Launch) -> str | None:
    wrong = [(n, good) for n, _ in launch.params for good in PARTNER_NAMES + TARGET_NAMES
             if n != good and n.lower() == good.lower()]
    if not wrong:
        return None
    return "; ".join(f"{quoted(n)} must be written `{good}`" for n, good in wrong) + \
        " (PingFederate's parameters are case-sensitive: the misspelled one is ignored)"


@check(id="PING003", title="PingFederate launch parameter is mis-cased (PartnerSpId / TargetResource)",
       severity=Severity.HIGH, connector=Connector.PINGFEDERATE, requires={Need.URL}, docs=PF_IDP_ENDPOINTS,
       remediation="Write the parameters exactly `PartnerSpId` and `TargetResource`.")
def miscased_parameters(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """startSSO.ping reads `PartnerSpId` (or `PARTNER`) and `TargetResource` (or `TARGET`); "Parameters are
    case-sensitive" (PingFederate IdP endpoints), so `partnerspid` is ignored and no SP connection is found."""
    yield from _launch_check(ctx, spec, _miscased, "The launch URL spells its parameters exactly:", "The launch URL")


def _unencoded_target(launch: Launch) -> str | None:
    raw = [v for n, v in launch.params if n in TARGET_NAMES]
    bad = [v for v in raw if _RESTRICTED.search(v)]
    if not bad:
        return None
    return (f"TargetResource {quoted(bad[0])} is not URL-encoded; values with reserved characters must be encoded "
            f"(`{quote(unquote(bad[0]), safe='')}`)")


@check(id="PING004", title="PingFederate TargetResource is not URL-encoded", severity=Severity.MEDIUM,
       connector=Connector.PINGFEDERATE, requires={Need.URL}, docs=PF_URL_ERRORS,
       remediation="URL-encode the TargetResource value (`https%3A%2F%2F…`).")
def unencoded_target(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """"Query values with restricted characters must be URL-encoded" ("Resolving URL-related errors"): an
    unencoded `https://…` TargetResource, and worse one holding `?` or `&`, is cut or misread."""
    yield from _launch_check(ctx, spec, _unencoded_target, "The launch URL's TargetResource is encoded:",
                             "The launch URL")


@check(id="PING005", title="PingFederate endpoint path is not one PingFederate has (404)", severity=Severity.HIGH,
       connector=Connector.PINGFEDERATE, requires={Need.URL}, docs=PF_IDP_ENDPOINTS,
       remediation="Use PingFederate's built-in endpoint: `/idp/startSSO.ping` to launch Atlan, `/idp/SSO.saml2` as "
                   "the SSO URL in Atlan; check the base URL and port.")
def unknown_endpoint(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """PingFederate's IdP endpoints are built in and cannot be changed (`/idp/startSSO.ping`, `/idp/SSO.saml2`,
    `/idp/SLO.saml2`, …), and paths are case-sensitive: any other `/idp/…` path is a 404."""
    judged = False
    for url in ctx.evidence.urls:
        parts = urlsplit(url)
        if not parts.path.lower().startswith("/idp/") or "&" in parts.path:
            continue  # `startSSO.ping&…` is PING001's
        judged = True
        where = dict(source="a URL in the evidence", locator="URL path", seen=parts.path[:200])
        if parts.path in KNOWN_PATHS:
            yield spec.passed(f"{quoted(parts.path)} is a PingFederate endpoint.", **where)
            continue
        near = next((p for p in KNOWN_PATHS if p.lower() == parts.path.lower()), None)
        hint = f"; PingFederate's is {quoted(near)} (paths are case-sensitive)" if near else ""
        yield spec.fail(f"{quoted(url, 200)} asks for {quoted(parts.path)}, which is not a PingFederate endpoint"
                        f"{hint}: PingFederate answers 404.", expected=near or ", ".join(KNOWN_PATHS[:3]), **where)
    if not judged:
        yield spec.skip("The capture holds no request to a PingFederate `/idp/` path.")


@check(id="PING006", title="PingFederate PartnerSpId is not Atlan's SP entity ID", severity=Severity.HIGH,
       connector=Connector.PINGFEDERATE, requires={Need.URL, Need.SP_ENTITY_ID}, docs=PF_IDP_ENDPOINTS,
       remediation="Set PartnerSpId in the launch URL to the SP connection's Partner's Entity ID, which is Atlan's "
                   "'Audience URI (SP Entity ID)'.")
def partner_is_atlan(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """startSSO.ping picks the SP connection by PartnerSpId, the SP's federation ID; for Atlan that is Atlan's SP
    entity ID, compared exactly."""
    sp = ctx.sp_entity_id or ""
    judged = False
    for launch in _launches(ctx):
        for name, raw in launch.params:
            if name not in PARTNER_NAMES:
                continue
            judged = True
            value = unquote(raw)
            where = dict(source="a URL in the evidence", locator=f"startSSO.ping {name}", seen=value,
                         expected=sp)
            if value == sp:
                yield spec.passed(f"{name} is Atlan's SP entity ID {quoted(sp)}.", **where)
            else:
                yield spec.fail(f"{name} is {quoted(value)}, not Atlan's SP entity ID {quoted(sp)}: "
                                f"{identifier_hint(value, sp)}.", remediation=_launch_fix(ctx, launch), **where)
    if not judged:
        yield spec.skip("The capture holds no startSSO.ping URL with a PartnerSpId.")


page_checks(Connector.PINGFEDERATE, (
    ("PING007", "PingFederate: the SP connection is not active (\"partner not active\")", Severity.HIGH),
))


@check(id="PING008", title="PingFederate: Unexpected System Error (binding or profile not enabled)",
       severity=Severity.HIGH, connector=Connector.PINGFEDERATE, requires={Need.ERROR_PAGE}, docs=PF_SERVICE_ERRORS,
       remediation=f"{SP_CONNECTION}: enable SP-initiated SSO and the binding Atlan's AuthnRequest uses.")
def unexpected_system_error(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """"Unexpected System Error" with a reference code right after Atlan sent an AuthnRequest: the SP connection
    does not allow SP-initiated SSO or the binding used (Atlan sends HTTP-Redirect unless configured for POST)."""
    redirect = [m for m in ctx.authn_requests if m.binding == "redirect"]
    more = (f"The capture shows AuthnRequest {quoted(redirect[0].id)} sent with the HTTP-Redirect binding just "
            f"before: enable the Redirect binding in the SP connection." if redirect else "")
    yield from vendor_page_findings(ctx, spec, Connector.PINGFEDERATE, more)


@check(id="PING009", title="PingFederate tracking ID (PF cookie) for the server log", severity=Severity.INFO,
       connector=Connector.PINGFEDERATE, requires={Need.FLOW}, docs=PF_TRACKING,
       remediation="Give PingFederate's administrator this PF cookie value and the time of the login: server.log "
                   "lines carry the tracking ID (`tid:`) of the session.")
def tracking_id(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Every PingFederate server.log line carries the session's tracking ID; support finds the session from the
    `PF` cookie in the capture. Read before the report is redacted. Shown as a warning when PingFederate showed an
    error in this capture (the log is then needed), else as a pass."""
    cookies = [c for c in ctx.evidence.cookies if c.name == PING.tracking_cookie and c.value]
    if not cookies:
        yield spec.skip("The capture holds no PingFederate `PF` cookie (HAR exports without cookies drop it).")
        return
    failed = [p for p in ctx.evidence.error_pages if p.url and urlsplit(p.url).hostname == cookies[0].host]
    message = (f"PingFederate's session cookie `PF` on {quoted(cookies[0].host)} is {quoted(cookies[0].value)}"
               + (f" ({len(cookies)} values in the capture)." if len(cookies) > 1 else "."))
    where = dict(source="a cookie in the capture", locator="PF cookie", seen=cookies[0].value)
    if failed:
        yield spec.warn(message + " PingFederate showed an error page in this login: its server.log explains it.",
                        **where)
    else:
        yield spec.passed(message, **where)

