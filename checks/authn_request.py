"""REQ: what the IdP judges in the AuthnRequest Atlan's Keycloak broker sends (SAML core §3.4.1, profiles §4.1.4.1).

A bad AuthnRequest fails at the IdP, before any Response exists: the user sees the IdP's error page (Entra AADSTS
codes, Google `app_not_configured_for_user`, a PingFederate 404), so these checks name the IdP error each problem
produces (Google "SAML app error messages", Microsoft Entra AADSTS error codes).
"""
from __future__ import annotations

from collections.abc import Iterator

from ssodiag.checks.common import (
    BINDINGS, ENTRA_ERRORS, NAMEID_UNSPECIFIED, SPEC, acs_url_finding, issue_instant_finding, sp_entity_note,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.model import Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted
from ssodiag.diag.urls import identifier_hint

GOOGLE_ERRORS = "https://support.google.com/a/answer/6301076"


def request_name(msg: SamlMessage) -> str:
    return f"AuthnRequest {quoted(msg.id)}" if msg.id else "The AuthnRequest (no ID)"


def request_is_signed(msg: SamlMessage) -> bool:
    """Signed in the XML (POST binding) or in the query string (Redirect binding, SAML bindings §3.4.4.1)."""
    if msg.redirect_signature is not None:
        return True
    return msg.has_signature


@check(id="REQ001", title="AuthnRequest has no Issuer", severity=Severity.HIGH, requires={Need.AUTHN_REQUEST},
       docs=SPEC, remediation="The SP must name itself in the AuthnRequest's Issuer; check Atlan's SAML settings.")
def request_issuer_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The Web Browser SSO profile requires an Issuer naming the SP (SAML profiles §4.1.4.1): the IdP finds the
    app by it. Without it Entra, Google and PingFederate cannot tell which app is asking.
    """
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/Issuer", seen=msg.issuer or "(none)")
        if msg.issuer:
            yield spec.passed(f"{request_name(msg)} is issued by {quoted(msg.issuer)}.", **where)
        else:
            yield spec.fail(f"{request_name(msg)} has no Issuer.", **where)


@check(id="REQ002", title="AuthnRequest Issuer is not the SP entity ID", severity=Severity.HIGH,
       requires={Need.AUTHN_REQUEST, Need.SP_ENTITY_ID}, docs=GOOGLE_ERRORS,
       remediation="Set the IdP app's Entity ID / Identifier / Audience to Atlan's 'Audience URI (SP Entity ID)' "
                   "exactly (case-sensitive).")
def request_issuer_is_sp(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The IdP looks the app up by the AuthnRequest Issuer with a case-sensitive compare: Google
    `app_not_configured_for_user` ("This value is case-sensitive"), Entra AADSTS700016. Compared with the SP entity
    ID the user gave (or derived from --atlan).
    """
    sp = ctx.sp_entity_id or ""
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/Issuer", expected=sp, seen=msg.issuer or "(none)")
        if not msg.issuer:
            yield spec.skip(f"{request_name(msg)} has no Issuer to compare (see REQ001).", **where)
        elif msg.issuer == sp:
            yield spec.passed(f"{request_name(msg)} is issued by the SP entity ID {quoted(sp)}.", **where)
        else:
            yield spec.fail(f"{request_name(msg)} is issued by {quoted(msg.issuer)}, not the SP entity ID "
                            f"{quoted(sp)}: {identifier_hint(msg.issuer, sp)}{sp_entity_note(ctx)}.", **where)


@check(id="REQ003", title="AssertionConsumerServiceURL is not an expected ACS URL", severity=Severity.HIGH,
       requires={Need.AUTHN_REQUEST, Need.ACS_URL}, docs=ENTRA_ERRORS,
       remediation="Register the exact URL the AuthnRequest sends as a Reply / ACS URL in the IdP app, or correct "
                   "Atlan's SSO settings so it sends the registered one.")
def request_acs_expected(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """The IdP accepts AssertionConsumerServiceURL only if it is registered for the app (SAML core §3.4.1;
    Entra AADSTS50011 "The reply URL ... does not match", case-sensitive; PingFederate validates it against the
    connection's ACS list). The hint names the differing part (scheme, host, port, case, trailing slash).
    """
    expected = ", ".join(ctx.acs_urls)
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/@AssertionConsumerServiceURL", expected=expected)
        if not msg.acs_url:
            yield spec.passed(f"{request_name(msg)} names no AssertionConsumerServiceURL, so the IdP uses the ACS "
                              f"registered for the app.", seen="(none)", **where)
            continue
        yield acs_url_finding(spec, f"{request_name(msg)} asks for ACS", msg.acs_url, ctx.acs_urls, **where)


@check(id="REQ004", title="AuthnRequest has no Destination", severity=Severity.MEDIUM,
       requires={Need.AUTHN_REQUEST}, docs=BINDINGS,
       remediation="Make the SP put the IdP's SSO URL in the AuthnRequest's Destination (Atlan/Keycloak does this "
                   "when the IdP's 'Single Sign-On service URL' is set).")
def request_destination_present(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """A signed request must carry Destination (SAML bindings §3.4.5.2, §3.5.5.2); IdPs also compare it with their
    SSO URL (Entra AADSTS75008 "unexpected destination"). Missing on an unsigned request is a warning.
    """
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/@Destination", seen=msg.destination or "(none)")
        if msg.destination:
            yield spec.passed(f"{request_name(msg)} is addressed to {quoted(msg.destination)}.", **where)
        elif request_is_signed(msg):
            yield spec.fail(f"{request_name(msg)} is signed but has no Destination.", **where)
        else:
            yield spec.warn(f"{request_name(msg)} has no Destination; IdPs that check it reject the request.",
                            **where)


@check(id="REQ005", title="NameIDPolicy format the IdP may not offer", severity=Severity.MEDIUM,
       requires={Need.AUTHN_REQUEST}, docs=SPEC,
       remediation="Set Atlan's 'NameID Policy Format' to one the IdP lists in its metadata (or `unspecified`); "
                   "otherwise the IdP answers `InvalidNameIDPolicy`.")
def name_id_policy(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Reports the NameIDPolicy Format the SP asks for (SAML core §3.4.1.1). When IdP metadata lists its
    NameIDFormats and the requested one is not among them, the IdP is likely to answer InvalidNameIDPolicy.
    Atlan documents no required format, so only a mismatch with the IdP's list is flagged.
    """
    offered = {f for e in ctx.idp_entities for f in e.role("idp").name_id_formats}
    for msg in ctx.authn_requests:
        fmt = msg.name_id_policy_format
        where = dict(source=msg.source, locator="AuthnRequest/NameIDPolicy/@Format", seen=fmt or "(none)",
                     expected=", ".join(sorted(offered)) or None)
        if fmt is None or fmt == NAMEID_UNSPECIFIED:
            yield spec.passed(f"{request_name(msg)} leaves the NameID format to the IdP "
                              f"({quoted(fmt or 'no NameIDPolicy Format')}).", **where)
        elif offered and fmt not in offered:
            yield spec.warn(f"{request_name(msg)} asks for NameID format {quoted(fmt)}, which the IdP metadata does "
                            f"not list (it offers {', '.join(quoted(f) for f in sorted(offered))}).", **where)
        else:
            yield spec.passed(f"{request_name(msg)} asks for NameID format {quoted(fmt)}.", **where)


@check(id="REQ006", title="AuthnRequest sends RequestedAuthnContext", severity=Severity.MEDIUM,
       requires={Need.AUTHN_REQUEST}, docs=ENTRA_ERRORS,
       remediation="Turn off the requested authentication context in Atlan's SAML settings unless the IdP needs it: "
                   "IdPs refuse it when the user signed in another way (MFA, FIDO, certificate).")
def requested_authn_context(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """RequestedAuthnContext (SAML core §3.3.2.2.1) makes the IdP fail with NoAuthnContext when the user's session
    used another method: Entra AADSTS75011 "Authentication method ... doesn't match requested authentication
    method" (Microsoft Entra error codes).
    """
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/RequestedAuthnContext")
        if msg.requested_authn_context:
            refs = ", ".join(msg.requested_authn_context)
            yield spec.warn(f"{request_name(msg)} requires authentication context {quoted(refs)}; an IdP session "
                            f"established another way fails.", seen=refs, **where)
        else:
            yield spec.passed(f"{request_name(msg)} does not constrain the authentication method.", seen="(none)",
                              **where)


@check(id="REQ007", title="AuthnRequest ID is missing or begins with a digit", severity=Severity.HIGH,
       requires={Need.AUTHN_REQUEST}, docs=ENTRA_ERRORS,
       remediation="The SP must generate request IDs that start with a letter or underscore (xs:ID).")
def request_id_valid(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """ID is required and is an xs:ID (SAML core §1.3.4, §3.2.1), an NCName, which cannot start with a digit,
    '-' or '.'; Entra enforces it with AADSTS7500529 "a SAML ID must not begin with a number".
    """
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/@ID", seen=msg.id or "(none)")
        if not msg.id:
            yield spec.fail("The AuthnRequest has no ID, so no Response can answer it (InResponseTo).", **where)
        elif msg.id[0].isdigit() or msg.id[0] in "-.":
            yield spec.fail(f"{request_name(msg)} begins with {quoted(msg.id[0])}; an xs:ID must begin with a letter "
                            f"or underscore.", **where)
        else:
            yield spec.passed(f"{request_name(msg)} has a well-formed ID.", **where)


@check(id="REQ008", title="AuthnRequest IssueInstant is missing, in the future, or long past",
       severity=Severity.MEDIUM, requires={Need.AUTHN_REQUEST}, docs=ENTRA_ERRORS,
       remediation="Sync the SP server clock with NTP; a request replayed from an old tab or bookmark fails "
                   "(the IdP finds the request expired): start the login again from Atlan.")
def request_issue_instant(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """IssueInstant is required (SAML core §3.2.1). IdPs reject requests issued in the future or too long ago
    (Entra AADSTS76026 RequestIssueTimeExpired); an old request is usually a bookmarked IdP URL or a stale tab.
    """
    for msg in ctx.authn_requests:
        yield issue_instant_finding(ctx, spec, msg, request_name(msg), msg.issue_instant, msg.issue_instant_text,
                                    "AuthnRequest/@IssueInstant")


@check(id="REQ009", title="AuthnRequest asks for passive or forced authentication", severity=Severity.LOW,
       requires={Need.AUTHN_REQUEST}, docs=SPEC,
       remediation="Turn off 'Passive authentication' in Atlan's SAML settings unless users always have an IdP "
                   "session; a passive request fails with `NoPassive` otherwise.")
def passive_or_forced(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """IsPassive="true" forbids the IdP to interact with the user (SAML core §3.4.1): with no IdP session the
    answer is a NoPassive status. ForceAuthn="true" makes the user sign in again even with a session; it is
    noted because it changes what the user sees, but it is not an error.
    """
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/@IsPassive",
                     seen=f"IsPassive={msg.is_passive}, ForceAuthn={msg.force_authn}")
        forced = " It also sets ForceAuthn, so the user must sign in again." if msg.force_authn else ""
        if msg.is_passive:
            yield spec.warn(f"{request_name(msg)} sets IsPassive `true`: without an IdP session the IdP must answer "
                            f"`NoPassive`.{forced}", **where)
        else:
            yield spec.passed(f"{request_name(msg)} lets the IdP interact with the user.{forced}", **where)
