"""KC: how Atlan's Keycloak broker treats the login: the error page it showed, and its two ACS endpoints.

Atlan's login is a Keycloak SAML broker, and Keycloak shows the user one terse sentence from its login theme
(verbatim from messages_en.properties). Each row below maps that sentence to the causes public sources give for it
(docs/keycloak-broker.md lists them with the Keycloak source lines) and to the evidence to look at next. The
sentence alone never proves a cause, so these findings point at the checks that do (SIG*, SAML*, MD*).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from ssodiag.diag.context import ATLAN_IDP_INITIATED_SUFFIX, DiagContext
from ssodiag.diag.model import Finding, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import clip
from ssodiag.diag.text import quoted

KEYCLOAK_MESSAGES = ("https://github.com/atlanhq/keycloak-identity/blob/20.0.2/themes/src/main/resources/theme/base/"
                     "login/messages/messages_en.properties")


@dataclass(frozen=True)
class KeycloakMessage:
    key: str  # the message key in Keycloak's theme
    pattern: re.Pattern[str]
    meaning: str
    look_at: str


def _rx(text: str) -> re.Pattern[str]:
    """Match the theme sentence, with its {0} placeholders as wildcards, ignoring case and spacing."""
    parts = [re.escape(p) for p in re.split(r"\{\d\}", text)]
    body = r"\s+".join(".{1,200}?".join(parts).split(r"\ "))
    return re.compile(body + (r"(?!\w)" if text[-1].isalnum() else ""), re.I)  # "Invalid request" ≠ "…requester"


TABLE: tuple[KeycloakMessage, ...] = (
    KeycloakMessage("invalidRequesterMessage", _rx("Invalid requester"),
                    "Keycloak refused the Response's issuer: the Issuer of the Response or of the Assertion is not the "
                    "'Identity Provider Entity ID' configured in Atlan (keycloak PR 11084).",
                    "Compare the Response Issuer with the entityID of the IdP metadata Atlan holds (SAML015, SAML016); "
                    "upload the IdP's current metadata to Atlan."),
    KeycloakMessage("identityProviderInvalidSignatureMessage",
                    _rx("Invalid signature in response from identity provider."),
                    "The Response or Assertion signature did not verify with the certificate Atlan holds: a rotated "
                    "IdP certificate, a SHA-1 signature, or a response signed differently than Atlan expects.",
                    "See the SIG checks; give --idp-metadata / --idp-cert with what Atlan holds; Atlan requires "
                    "SHA-256 or SHA-512."),
    KeycloakMessage("identityProviderInvalidResponseMessage", _rx("Invalid response from identity provider."),
                    "Keycloak could not accept the Response: a Destination, audience, status or time-window problem.",
                    "See the SAML checks for Destination (SAML013, SAML014), audience (SAML012) and time (SAML007)."),
    KeycloakMessage("invalidRequestMessage", _rx("Invalid Request"),
                    "Keycloak rejected the request; for SAML this is typically a missing or wrong Destination "
                    "(`missing_required_destination`, keycloak issue 11178) or an IdP-initiated post to the "
                    "SP-initiated endpoint.",
                    "Check the Response Destination against both Atlan ACS URLs (SAML013, SAML014)."),
    KeycloakMessage("expiredCodeMessage", _rx("Login timeout. Please sign in again."),
                    "The login took too long or the assertion's time window was missed (clock skew between the IdP "
                    "and Atlan, or a replayed Response).",
                    "See SAML007 / SAML009 for the time window; retry the login; fix the IdP clock."),
    KeycloakMessage("cookieNotFoundMessage", _rx("Cookie not found. Please make sure cookies are enabled in your browser."),
                    "The browser did not send Keycloak's session cookie back: cookies are blocked, the login started "
                    "on another host, or a proxy (such as Defender for Cloud Apps) rewrote the host.",
                    "Allow cookies for the Atlan domain; start the login from the Atlan URL; check the flow for a "
                    ".mcas.ms host."),
    KeycloakMessage("noRelayStateInResponseMessage", _rx("No relay state in response from identity provider."),
                    "The Response came without the RelayState Keycloak sent: an IdP-initiated login posted to the "
                    "SP-initiated endpoint.",
                    "Register `…/endpoint/clients/atlan-saml` as an ACS URL for IdP-initiated logins."),
    KeycloakMessage("identityProviderMissingStateMessage", _rx("Missing state parameter in response from identity provider."),
                    "The Response lacks the state (RelayState) that ties it to the login Keycloak started.",
                    "Use the IdP-initiated ACS `…/endpoint/clients/atlan-saml` for dashboard logins."),
    KeycloakMessage("unsupportedNameIdFormatMessage", _rx("Unsupported NameIDFormat"),
                    "The NameID format the IdP sent is not the one configured in Atlan.",
                    "Align the NameID format of the IdP app with Atlan's SAML settings (see SAML017)."),
    KeycloakMessage("federatedIdentityExistsMessage", _rx("User with {0} {1} already exists."),
                    "First login found an existing Atlan user with the same username or email (an invited user or a "
                    "username that changed at the IdP); usernames in Atlan are permanent.",
                    "Find the existing Atlan user with that email/username; align the IdP username with it."),
    KeycloakMessage("identityProviderAlreadyLinkedMessage", _rx("Federated identity returned by {0} is already linked to another user."),
                    "The IdP identity is already linked to a different Atlan user.",
                    "Ask Atlan support to unlink the stale identity, or sign in as the linked user."),
    KeycloakMessage("usernameExistsMessage", _rx("Username already exists."),
                    "First login tried to create a user whose username is taken; usernames are permanent.",
                    "Align the IdP username (NameID) with the existing Atlan username."),
    KeycloakMessage("emailExistsMessage", _rx("Email already exists."),
                    "First login tried to create a user whose email belongs to another Atlan user.",
                    "Check for an existing Atlan user with this email (e.g. invited before SSO)."),
    KeycloakMessage("identityProviderUnexpectedErrorMessage",
                    _rx("Unexpected error when authenticating with identity provider"),
                    "Keycloak's catch-all: an issuer mismatch, a hostname/port mismatch, an already-linked account, "
                    "or an error status from the IdP.",
                    "Read the other findings: they narrow it down; if none fails, capture a HAR that includes the ACS POST."),
    KeycloakMessage("accountDisabledMessage", _rx("Account is disabled, contact your administrator."),
                    "The Atlan user is disabled (users removed from the IdP are deactivated in Atlan).",
                    "Re-assign the user in the IdP / re-enable them in Atlan."),
)


def classify(text: str) -> list[KeycloakMessage]:
    return [row for row in TABLE if row.pattern.search(text)]


@check(id="KC001", title="Atlan (Keycloak) showed an error page", severity=Severity.HIGH, requires={Need.ERROR_PAGE},
       symptom=True,
       remediation="Follow the cause named in the finding; the SAML and signature checks show which one applies.",
       docs=KEYCLOAK_MESSAGES)
def keycloak_error_page(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Recognise Keycloak's user-facing error sentences (its login theme's messages_en.properties) in the pages of
    the capture and say what
    each means for a SAML broker login and which evidence decides between its causes."""
    recognised = False
    for page in ctx.evidence.error_pages:
        for row in classify(page.text):
            recognised = True
            yield spec.fail(
                f"The page says `{clip(row.pattern.search(page.text).group(0), 120)}` (Keycloak `{row.key}`): "
                f"{row.meaning}",
                remediation=row.look_at, source=page.source, seen=clip(page.text, 200))
    if not recognised:
        yield spec.skip("No Keycloak error sentence recognised in the captured pages; nothing to explain.")


# Keycloak's broker endpoint for SP-initiated logins, `/auth/realms/{realm}/broker/{alias}/endpoint` (SAMLEndpoint.java
# 172-210 in atlanhq/keycloak-identity 20.0.2; Atlan's guides print it as the SP-initiated assertion URL).
_SP_INITIATED_ACS_PATH = re.compile(r"^(?:/auth)?/realms/[^/]+/broker/[^/]+/endpoint/?$")
# Atlan's PingFederate guide lists both assertion URLs: "To use both IdP- and SP-initiated SSO, add both the URLs".
ATLAN_BOTH_ACS_URLS = ("https://docs.atlan.com/product/integrations/identity-management/sso/references/"
                       "integration-with-pingfederate-using-saml")


def _is_sp_initiated_endpoint(url: str) -> bool:
    try:
        return bool(_SP_INITIATED_ACS_PATH.match(urlsplit(url.strip()).path))
    except ValueError:  # an unparsable URL (bad IPv6 literal) is judged by the URL checks, not here
        return False


@check(id="KC002", title="IdP-initiated login posted to the SP-initiated endpoint", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=ATLAN_BOTH_ACS_URLS,
       remediation="Add Atlan's IdP-initiated URL `…/broker/ALIAS/endpoint/clients/atlan-saml` as an ACS / Reply "
                   "URL in the IdP app (keep the SP-initiated one too), or start the login from Atlan's login page.")
def idp_initiated_to_sp_endpoint(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """An unsolicited Response (no InResponseTo: IdP-initiated, SAML profiles §4.1.5) delivered to Keycloak's
    SP-initiated broker endpoint `…/broker/ALIAS/endpoint` finds no login session to continue: Keycloak answers
    "No relay state in response from identity provider" or "Missing state parameter". IdP-initiated logins must
    be sent to `…/endpoint/clients/atlan-saml` (Atlan's PingFederate guide; Keycloak's SAMLEndpoint.java has a
    separate `postBindingIdpInitiated(…, clientId)` handler for them, lines 172-210 in atlanhq/keycloak-identity
    20.0.2). Judged on the Response's Destination, else on its
    bearer Recipient: that is where the IdP posts it.
    """
    for msg in ctx.responses:
        recipients = [sc.recipient for a in msg.assertions for sc in a.subject_confirmations if sc.recipient]
        target = msg.destination or next(iter(recipients), None)
        where = dict(source=msg.source, locator="Response/@InResponseTo", seen=target or "(none)")
        if msg.in_response_to:
            yield spec.passed(f"The Response answers AuthnRequest {quoted(msg.in_response_to)}: an SP-initiated "
                              f"login, not an IdP-initiated one.", **where)
        elif not target:
            yield spec.skip("The Response is unsolicited but names no Destination or Recipient, so where it was "
                            "posted is unknown.", **where)
        elif _is_sp_initiated_endpoint(target):
            yield spec.fail(f"The Response has no InResponseTo (an IdP-initiated login, e.g. from the IdP's app "
                            f"dashboard) but is addressed to the SP-initiated endpoint {quoted(target)}; Keycloak "
                            f"has no login session for it there and refuses it.",
                            expected=target.rstrip("/") + ATLAN_IDP_INITIATED_SUFFIX, **where)
        else:
            yield spec.passed(f"The unsolicited Response is addressed to {quoted(target)}, not to Keycloak's "
                              f"SP-initiated broker endpoint.", **where)
