"""KC: what the error page Atlan's Keycloak showed means.

Atlan's login is a Keycloak SAML broker, and Keycloak shows the user one terse sentence from its login theme
(sso-facts §4.1, verbatim strings from Keycloak's messages_en.properties). Each row below maps that sentence to
the causes public sources give for it (sso-facts §4.2) and to the evidence to look at next. The sentence alone
never proves a cause, so these findings point at the checks that do (SIG*, SAML*, MD*).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from diag.context import DiagContext
from diag.model import Finding, Severity
from diag.registry import CheckSpec, Need, check
from reports.text import clip

KEYCLOAK_MESSAGES = ("https://github.com/keycloak/keycloak/blob/main/themes/src/main/resources/theme/base/login/"
                     "messages/messages_en.properties")


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
                    "SHA-256 or SHA-512 (sso-facts §1.3)."),
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
                    "Register `…/endpoint/clients/atlan-saml` as an ACS URL for IdP-initiated logins "
                    "(sso-facts §1.3, §4.2)."),
    KeycloakMessage("identityProviderMissingStateMessage", _rx("Missing state parameter in response from identity provider."),
                    "The Response lacks the state (RelayState) that ties it to the login Keycloak started.",
                    "Use the IdP-initiated ACS `…/endpoint/clients/atlan-saml` for dashboard logins."),
    KeycloakMessage("unsupportedNameIdFormatMessage", _rx("Unsupported NameIDFormat"),
                    "The NameID format the IdP sent is not the one configured in Atlan.",
                    "Align the NameID format of the IdP app with Atlan's SAML settings (see SAML017)."),
    KeycloakMessage("federatedIdentityExistsMessage", _rx("User with {0} {1} already exists."),
                    "First login found an existing Atlan user with the same username or email (an invited user or a "
                    "username that changed at the IdP); usernames in Atlan are permanent (sso-facts §1.1).",
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
                    "The Atlan user is disabled (users removed from the IdP are deactivated in Atlan, sso-facts §2.4).",
                    "Re-assign the user in the IdP / re-enable them in Atlan."),
)


def classify(text: str) -> list[KeycloakMessage]:
    return [row for row in TABLE if row.pattern.search(text)]


@check(id="KC001", title="Atlan (Keycloak) showed an error page", severity=Severity.HIGH, requires={Need.ERROR_PAGE},
       remediation="Follow the cause named in the finding; the SAML and signature checks show which one applies.",
       docs=KEYCLOAK_MESSAGES)
def keycloak_error_page(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Recognise Keycloak's user-facing error sentences (sso-facts §4.1) in the pages of the capture and say what
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
