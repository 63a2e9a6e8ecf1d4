"""ENTRA: Microsoft Entra ID (Azure AD) as Atlan's IdP: the AADSTS codes on Entra's sign-in page, the Reply URL
compared the way Entra compares it, group claims (overage, object IDs) and what Entra refuses in Atlan's request.

The declaration below is everything ssodiag knows about Entra ID. What Microsoft documents as not evaluated in an
AuthnRequest (IssueInstant, Destination) is not blamed when Entra is the IdP.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType

from ssodiag.checks.common import each_assertion, page_checks
from ssodiag.diag.connectors import (
    ConnectorDeclaration, Signal, SignalKind, VendorError, classify_text, declare, phrase, tenant,
)
from ssodiag.diag.context import DiagContext
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import Assertion, Connector, Finding, SamlMessage, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import quoted
from ssodiag.diag.urls import best_match

ENTRA_ERRORS = "https://learn.microsoft.com/entra/identity-platform/reference-error-codes"
ENTRA_REPLY_URL = ("https://learn.microsoft.com/troubleshoot/entra/entra-id/app-integration/"
                   "error-code-aadsts50011-reply-url-mismatch")
ENTRA_GROUP_CLAIMS = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-fed-group-claims"
ENTRA_SAML_PROTOCOL = "https://learn.microsoft.com/entra/identity-platform/single-sign-on-saml-protocol"
ATLAN_ENTRA_GUIDE = "https://ask.atlan.com/hc/en-us/articles/4861233133841-How-to-enable-Azure-AD-for-SSO"

APP = "Microsoft Entra admin center → Enterprise applications → Atlan"
BASIC = f"{APP} → Single sign-on → Basic SAML Configuration"
CLAIMS = f"{APP} → Single sign-on → Attributes & Claims"
ATLAN_IDP_SETTINGS = "Atlan → Admin → SSO → the Azure AD / SAML provider (alias `{alias}`)"
GROUPS_LINK = "http://schemas.microsoft.com/claims/groups.link"  # sent instead of the groups past the limit
GROUPS_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
GROUP_LIMIT = 150  # groups Entra puts in a SAML token, nested groups included
GUID = LazyRegex(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_URL_IN_ERROR = LazyRegex(r"https?://[^\s'\"<>`]+")

_MAPPING = ("Entra ID (Atlan's Azure AD guide names only the groups claim), in " + CLAIMS + ": Add a group claim → "
            "\"Groups assigned to the application\" → Advanced options → Customize the name of the group claim: "
            "`memberOf`; Add new claim named exactly `email` (user.mail), `firstName` (user.givenname), `lastName` "
            "(user.surname), each with an empty Namespace (Entra's defaults are http://schemas.xmlsoap.org/... URIs).")


def _code(number: str) -> str:
    return phrase(raw=rf"\bAADSTS{number}\b")


ENTRA = declare(ConnectorDeclaration(
    connector=Connector.ENTRA,
    title="Entra ID",
    docs=ATLAN_ENTRA_GUIDE,
    signals=(
        Signal(SignalKind.ENTITY, "an Entra ID issuer", re.compile(r"^https://sts\.windows\.net/[0-9a-f-]{36}/?", re.I),
               3),
        Signal(SignalKind.URL, "an Entra ID sign-in host", re.compile(r"^https://login\.microsoftonline\.(?:com|us)/",
                                                                    re.I), 3),
    ),
    errors=(
        VendorError(
            "AADSTS50011", _code("50011"),
            "InvalidReplyTo: the Reply URL (AssertionConsumerServiceURL) Atlan sent is not one registered for the "
            "Entra app; Entra compares it exactly, letter case included.",
            ("the Reply URL is missing in Entra", "it differs in case, trailing slash, scheme or host"),
            BASIC + " → Reply URL (Assertion Consumer Service URL) → Add reply URL: `{acs_sp}` and `{acs_idp}`, "
            "exactly as written.",
            "ENTRA001", ENTRA_REPLY_URL),
        VendorError(
            "AADSTS50105", _code("50105"),
            "EntitlementGrantsNotFound: the signed-in user is not assigned to the Atlan app (and the app requires "
            "assignment).",
            ("the user, or a group they are in, is not assigned to the app",),
            APP + " → Users and groups → Add user/group: assign the user or their group.",
            "ENTRA002", ENTRA_ERRORS),
        VendorError(
            "AADSTS700016", _code("700016"),
            "UnauthorizedClient_DoesNotMatchRequest: no app in this tenant has the identifier Atlan's request "
            "names (the AuthnRequest Issuer).",
            ("the app's Identifier (Entity ID) is not Atlan's SP entity ID", "the request went to another tenant"),
            BASIC + " → Identifier (Entity ID) = `{sp_entity_id}`; check that Atlan holds this tenant's metadata.",
            "ENTRA003", ENTRA_ERRORS),
        VendorError(
            "AADSTS75011", _code("75011"),
            "NoMatchedAuthnContextInOutputClaims: Atlan's request demands an authentication method "
            "(RequestedAuthnContext) other than the one the user signed in with (MFA, FIDO, certificate).",
            ("Atlan's IdP settings send RequestedAuthnContext (e.g. PasswordProtectedTransport)",),
            "Stop sending RequestedAuthnContext: in " + ATLAN_IDP_SETTINGS + " clear the requested AuthnContext "
            "ClassRefs (Keycloak's \"Requested AuthnContext Constraints\"); Atlan support can change it.",
            "ENTRA004", ENTRA_ERRORS),
        VendorError(
            "AADSTS75016", _code("75016"),
            "Saml2AuthenticationRequestInvalidNameIDPolicy: Entra cannot issue the NameID format Atlan's request "
            "asks for.",
            ("Atlan's NameID Policy Format is one the app's Unique User Identifier does not produce",),
            CLAIMS + " → Unique User Identifier (Name ID) → Choose name identifier format to match Atlan's NameID "
            "Policy Format, or set Atlan's to unspecified.",
            "ENTRA005", ENTRA_ERRORS),
        VendorError(
            "AADSTS76021", _code("76021"),
            "ApplicationRequiresSignedRequests: the Entra app requires signed AuthnRequests and Atlan's was not "
            "signed (or not with the registered certificate).",
            ("\"Require verification certificates\" is on in Entra while Atlan does not sign requests",),
            "Either turn on request signing in " + ATLAN_IDP_SETTINGS + " and upload Atlan's signing certificate in "
            + APP + " → Single sign-on → SAML Certificates → Verification certificates, or turn that requirement off.",
            "ENTRA006", ENTRA_ERRORS),
        VendorError(
            "AADSTS501241", _code("501241"),
            "The NameID source attribute is empty for this user: Entra has no value to put in the NameID.",
            ("the Unique User Identifier's source attribute (e.g. user.mail) is empty for this user",),
            CLAIMS + " → Unique User Identifier (Name ID) → Source attribute: one every user has (e.g. "
            "user.userprincipalname), or fill the attribute for the user.",
            "ENTRA007", ENTRA_ERRORS),
        VendorError(
            "AADSTS65005", _code("65005"),
            "The app is misconfigured for this request; for a SAML app this usually means the Identifier (Entity "
            "ID) is wrong.",
            ("the Identifier (Entity ID) does not match Atlan's request",),
            BASIC + " → Identifier (Entity ID) = `{sp_entity_id}`.",
            "ENTRA008", ENTRA_ERRORS),
        VendorError(
            "AADSTS53003", _code("53003"),
            "BlockedByConditionalAccess: a Conditional Access policy blocked the sign-in.",
            ("a Conditional Access policy (location, device, risk) blocks this user or app",),
            "Microsoft Entra admin center → Monitoring & health → Sign-in logs → the failed sign-in → Conditional "
            "Access tab names the policy; adjust it or the user's device/location.",
            "ENTRA009", ENTRA_ERRORS),
        VendorError(
            "AADSTS50131", _code("50131"),
            "ConditionalAccessFailed: the sign-in did not meet a Conditional Access requirement (device state, "
            "location).",
            ("the device is not compliant or not joined", "the location is not allowed"),
            "Microsoft Entra admin center → Monitoring & health → Sign-in logs → the failed sign-in → Conditional "
            "Access tab; fix the device or the policy.",
            "ENTRA009", ENTRA_ERRORS),
        VendorError(
            "AADSTS50058", _code("50058"),
            "UserInformationNotProvided: a silent (passive) sign-in found no Entra session for the user.",
            ("Atlan's request is passive (IsPassive) or the user is not signed in to Entra",),
            "Sign in to Entra interactively first, or turn off passive requests in " + ATLAN_IDP_SETTINGS + ".",
            "ENTRA010", ENTRA_ERRORS),
        VendorError(
            "AADSTS7500529", _code("7500529"),
            "The SAML request's ID begins with a number, which Entra refuses (an xs:ID must start with a letter or "
            "underscore).",
            ("the SP generated an ID starting with a digit",),
            "The SP must generate IDs that start with a letter or `_`; Atlan support fixes the request ID format.",
            "ENTRA011", ENTRA_ERRORS),
        VendorError(
            "AADSTS750054", _code("750054"),
            "SAMLRequest or SAMLResponse must be in the query string for the Redirect binding: the URL lost its "
            "SAMLRequest (a proxy, a bookmark or a copied URL).",
            ("a bookmarked or copied Entra sign-in URL", "a proxy that dropped the query"),
            "Start the login from `{atlan}` instead of a bookmarked Entra URL.",
            "ENTRA011", ENTRA_ERRORS),
        VendorError(
            "AADSTS75005", _code("75005"),
            "Saml2MessageInvalid: Entra could not read Atlan's SAML request (malformed, or in the wrong binding).",
            ("the request was cut or re-encoded on its way (a proxy, a copied URL)",),
            "Start the login from `{atlan}`; if it persists, send Atlan support the captured AuthnRequest "
            "(`ssodiag decode` shows it).",
            "ENTRA011", ENTRA_ERRORS),
        VendorError(
            "AADSTS75008", _code("75008"),
            "RequestDeniedError: Entra denied the request; the request had an unexpected destination.",
            ("the request was sent to another tenant's or cloud's sign-in URL",),
            "Check that Atlan's IdP settings (alias `{alias}`) use this tenant's Login URL from " + APP
            + " → Single sign-on → Set up Atlan.",
            "ENTRA011", ENTRA_ERRORS),
        VendorError(
            "AADSTS76026", _code("76026"),
            "RequestIssueTimeExpired: the IssueInstant of Atlan's request is too old (a bookmarked or replayed "
            "sign-in URL, or a clock far off).",
            ("a bookmarked Entra sign-in URL or an old browser tab", "the SP server's clock is wrong"),
            "Start the login again from `{atlan}` (not from a bookmark); Atlan support checks the server clock if it "
            "persists.",
            "ENTRA011", ENTRA_ERRORS),
        VendorError(
            "AADSTS", phrase(raw=r"\bAADSTS\d{5,7}\b"),
            "An Entra ID sign-in error that ssodiag does not explain; Microsoft's lookup page has its meaning.",
            ("see https://login.microsoftonline.com/error?code=<the number>",),
            "Look the code up at https://login.microsoftonline.com/error?code=<the number> and in " + APP
            + " → Sign-in logs.",
            "ENTRA012", ENTRA_ERRORS, catch_all=True),
    ),
    mapping_row=_MAPPING,
    login_paths=LazyRegex(r"/saml2/?$", re.I),
    console=MappingProxyType({
        "app": APP,
        "basic": BASIC,
        "reply_url": "Reply URL (Assertion Consumer Service URL)",
        "identifier": "Identifier (Entity ID)",
        "claims": CLAIMS,
        "name_id": "Unique User Identifier (Name ID)",
        "users": "Users and groups",
    }),
    fixes=MappingProxyType({
        "KC002": BASIC + " → Reply URL: add `{acs_idp}` next to `{acs_sp}` (Atlan's guide registers both).",
        "REQ003": BASIC + " → Reply URL: the exact URL Atlan sends, `{acs_sp}` and `{acs_idp}` (Entra answers "
                  "`AADSTS50011`).",
        "SAML013": BASIC + " → Reply URL (Assertion Consumer Service URL): `{acs_sp}` and `{acs_idp}`.",
        "SAML012": BASIC + " → Identifier (Entity ID) = `{sp_entity_id}`.",
        "REQ002": BASIC + " → Identifier (Entity ID) = `{sp_entity_id}` (Entra answers `AADSTS700016`).",
        "REQ005": "Entra answers `AADSTS75016`: " + CLAIMS + " → Unique User Identifier (Name ID) → name identifier "
                  "format.",
        "REQ006": "Entra answers `AADSTS75011` when the user signed in another way (MFA, FIDO, certificate).",
        "REQ007": "Entra refuses it with `AADSTS7500529`.",
    }),
    # Microsoft's SAML protocol page: IssueInstant is required but not evaluated; Destination and the other
    # attributes of an AuthnRequest are ignored.
    not_judged=MappingProxyType({
        "REQ004": "Entra ignores the AuthnRequest's Destination (" + ENTRA_SAML_PROTOCOL + ")",
        "REQ008": "Entra does not evaluate the AuthnRequest's IssueInstant (" + ENTRA_SAML_PROTOCOL + ")",
    }),
))

page_checks(Connector.ENTRA, (
    ("ENTRA002", "Entra: the user is not assigned to the Atlan app (AADSTS50105)", Severity.HIGH),
    ("ENTRA003", "Entra: no app has Atlan's identifier (AADSTS700016)", Severity.HIGH),
    ("ENTRA004", "Entra: Atlan demands an authentication method the user did not use (AADSTS75011)",
     Severity.HIGH),
    ("ENTRA005", "Entra: cannot issue the NameID format Atlan asks for (AADSTS75016)", Severity.HIGH),
    ("ENTRA006", "Entra: the app requires signed requests (AADSTS76021)", Severity.HIGH),
    ("ENTRA007", "Entra: the NameID source attribute is empty (AADSTS501241)", Severity.HIGH),
    ("ENTRA008", "Entra: the app is misconfigured, likely its Identifier (AADSTS65005)", Severity.HIGH),
    ("ENTRA009", "Entra: Conditional Access blocked the sign-in (AADSTS53003 / AADSTS50131)", Severity.HIGH),
    ("ENTRA010", "Entra: no Entra session for a silent sign-in (AADSTS50058)", Severity.MEDIUM),
    ("ENTRA011", "Entra: refused the form of Atlan's request (AADSTS7500529 / 750054 / 75005 / 75008 / 76026)",
     Severity.HIGH),
    ("ENTRA012", "Entra: another AADSTS error", Severity.MEDIUM),
))


@check(id="ENTRA001", title="Entra: the Reply URL is not registered (AADSTS50011)", severity=Severity.HIGH,
       connector=Connector.ENTRA, requires={Need.ERROR_PAGE}, docs=ENTRA_REPLY_URL,
       remediation=f"{BASIC} → Reply URL (Assertion Consumer Service URL): add the exact URL Atlan sends.")
def reply_url(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """AADSTS50011: the AssertionConsumerServiceURL of Atlan's request is not a registered Reply URL, compared
    exactly (letter case included). The URL the error (or the captured AuthnRequest) names is compared with Atlan's
    two broker endpoints for this tenant, so the finding says whether Entra lacks the URL or Atlan sent a wrong one."""
    values = tenant(ctx)
    expected = (values.acs_sp, values.acs_idp)
    found = False
    for page in ctx.evidence.error_pages:
        if not any(m.error.code == "AADSTS50011" for m in classify_text(page.text, [Connector.ENTRA])):
            continue
        found = True
        sent = [u.rstrip(".,;'") for u in _URL_IN_ERROR.findall(page.text) if "login.microsoftonline" not in u]
        sent += [m.acs_url for m in ctx.authn_requests if m.acs_url]
        where = dict(source=page.source, seen=sent[0] if sent else "(no URL in the error)",
                     expected=" or ".join(expected))
        if not sent:
            yield spec.fail("Entra says AADSTS50011: the Reply URL Atlan sent is not registered for the app; the "
                            "page names no URL, so compare the app's Reply URLs with Atlan's.",
                            remediation=values.fill(ENTRA.error("AADSTS50011").fix), **where)
            continue
        match = best_match(sent[0], expected)
        if match.exact:
            yield spec.fail(f"Entra says AADSTS50011 for {quoted(sent[0])}, which is Atlan's endpoint: the Entra app "
                            f"lacks this Reply URL (Entra compares it exactly, letter case included).",
                            remediation=f"{BASIC} → Reply URL (Assertion Consumer Service URL) → Add reply URL: "
                                        f"`{sent[0]}` exactly.", **where)
        else:
            yield spec.fail(f"Entra says AADSTS50011 for {quoted(sent[0])}, which is not Atlan's endpoint "
                            f"{quoted(match.expected)}: {match.hint}.",
                            remediation=f"Make Atlan send `{match.expected}` (check the Atlan URL and alias), and "
                                        f"register it in {BASIC} → Reply URL exactly; {values.origin} gave the "
                                        f"expected value.", **where)
    if not found:
        yield spec.skip("None of the captured pages shows AADSTS50011.")


@check(id="ENTRA013", title="Entra group overage: groups replaced by a groups.link, or over 150 groups",
       severity=Severity.HIGH, connector=Connector.ENTRA, requires={Need.RESPONSE}, docs=ENTRA_GROUP_CLAIMS,
       remediation=f"{CLAIMS} → the group claim → \"Groups assigned to the application\", assign those groups to the "
                   f"app, and customize the claim name to `memberOf`.")
def group_overage(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Entra puts at most 150 groups (nested ones included) in a SAML token; past that it sends a
    `http://schemas.microsoft.com/claims/groups.link` Graph URL instead of the groups, which no SAML SP follows, so
    Atlan's group sync silently drops every group."""

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement")
        if assertion.attribute(GROUPS_LINK) is not None:
            yield spec.fail(f"Assertion {quoted(assertion.id)} carries `{GROUPS_LINK}` instead of the groups: the "
                            f"user is in more groups than Entra puts in a token.", seen=GROUPS_LINK, **where)
            return
        counts = {a.name: len(a.values) for a in assertion.attributes if a.name in ("memberOf", GROUPS_CLAIM)}
        over = {name: n for name, n in counts.items() if n > GROUP_LIMIT}
        if over:
            name, n = next(iter(over.items()))
            yield spec.fail(f"Assertion {quoted(assertion.id)} lists `{n}` groups in {quoted(name)}, over Entra's "
                            f"{GROUP_LIMIT}-group token limit: the list is likely truncated.", seen=str(n),
                            expected=f"at most {GROUP_LIMIT}", **where)
        else:
            total = sum(counts.values())
            yield spec.passed(f"Assertion {quoted(assertion.id)} lists {total} group value(s) and no groups.link.",
                              seen=str(total), **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="ENTRA014", title="Entra sends group object IDs where Atlan maps group names", severity=Severity.INFO,
       connector=Connector.ENTRA, requires={Need.RESPONSE}, docs=ENTRA_GROUP_CLAIMS,
       remediation="Atlan's group mappings must use the exact `memberOf` values: map the object IDs, or make the "
                   f"group claim emit names ({CLAIMS} → the group claim → Source attribute: cloud-only group display "
                   "names, or sAMAccountName for synced groups).")
def group_object_ids(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Entra's group claim sends object IDs (GUIDs) by default, while admins usually type display names into Atlan's
    "SSO Groups" mapping; the mapping then never matches. Informational: GUID mappings are valid when they are what
    was configured."""

    def judge(msg: SamlMessage, assertion: Assertion, locator: str) -> Iterator[Finding]:
        where = dict(source=msg.source, locator=f"{locator}/AttributeStatement/Attribute[@Name='memberOf']")
        if assertion.attribute("memberOf") is None:
            yield spec.skip(f"Assertion {quoted(assertion.id)} has no `memberOf` (see ATTR003).", **where)
            return
        values = [v for a in assertion.attributes if a.name == "memberOf" for v in a.values]
        guids = [v for v in values if GUID.fullmatch(v.strip())]
        if guids:
            yield spec.warn(f"{len(guids)} of {len(values)} `memberOf` values of assertion {quoted(assertion.id)} are "
                            f"object IDs, e.g. {quoted(guids[0])}: Atlan group mappings must name these IDs, not "
                            f"display names.", seen=guids[0], **where)
        else:
            yield spec.passed(f"The `memberOf` values of assertion {quoted(assertion.id)} are names, not object IDs.",
                              seen=", ".join(values[:3]), **where)

    yield from each_assertion(ctx, spec, judge)


@check(id="ENTRA015", title="Atlan's AuthnRequest carries a Subject (login hint) that Entra refuses",
       severity=Severity.HIGH, connector=Connector.ENTRA, requires={Need.AUTHN_REQUEST}, docs=ENTRA_SAML_PROTOCOL,
       remediation=f"Turn off \"Pass login_hint\" in {ATLAN_IDP_SETTINGS}.")
def request_subject(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Keycloak puts the login hint into the AuthnRequest as `Subject/NameID` when "Pass login_hint" is on; Entra's
    SAML protocol does not accept a Subject in the AuthnRequest."""
    values = tenant(ctx)
    for msg in ctx.authn_requests:
        where = dict(source=msg.source, locator="AuthnRequest/Subject")
        if msg.subject is None:
            yield spec.passed(f"AuthnRequest {quoted(msg.id)} carries no Subject.", seen="(none)", **where)
            continue
        name_id = msg.subject.value.strip()
        yield spec.fail(f"AuthnRequest {quoted(msg.id)} carries a Subject (NameID {quoted(name_id or '(empty)')}): "
                        f"Keycloak's login hint, which Entra refuses.", seen=name_id or "(empty)",
                        remediation=values.fill(spec.remediation), **where)
