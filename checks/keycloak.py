"""KC: how Atlan's Keycloak broker treats the login: the error page it showed, and its two ACS endpoints.

Atlan's login is a Keycloak 20.0.2 SAML broker, and Keycloak shows the user one terse sentence from its login theme
(verbatim from messages_en.properties). Each row below names where the broker shows that sentence (the steps of
``diag.broker``), the causes the broker can really answer it for, and the evidence that decides between them. The
sentence alone never proves a cause: KC010 names the step the evidence shows, and KC013 compares it with the page.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from msgspec import Struct

from ssodiag.diag.broker import (
    CLIENT_NOT_FOUND, INTERNAL_ERROR, INVALID_REQUEST, INVALID_REQUESTER, INVALID_RESPONSE, INVALID_SIGNATURE,
    LOGIN_TIMEOUT, UNEXPECTED_IDP_ERROR, UPDATE_PROFILE, after_accepted_response, sentence_pattern,
)
from ssodiag.diag.connectors import ATLAN_PING_GUIDE
from ssodiag.diag.context import ATLAN_IDP_INITIATED_SUFFIX, DiagContext
from ssodiag.diag.har import RECAPTURE_WITH_POST, short_url
from ssodiag.diag.lazyre import LazyRegex
from ssodiag.diag.model import Finding, MessageKind, Severity
from ssodiag.diag.registry import CheckSpec, Need, check
from ssodiag.diag.text import clip
from ssodiag.diag.text import quoted

KEYCLOAK_MESSAGES = ("https://github.com/atlanhq/keycloak-identity/blob/20.0.2/themes/src/main/resources/theme/base/"
                     "login/messages/messages_en.properties")


class KeycloakMessage(Struct, frozen=True):
    """One sentence of Keycloak's login theme that Atlan's broker shows, with what it means and what decides it."""

    key: str  # the message key in Keycloak's theme (messages_en.properties)
    text: str  # the sentence, {0} placeholders as in the theme
    where: str  # where Atlan's broker shows it: the step(s) of diag.broker and the HTTP status
    causes: tuple[str, ...]  # what the broker can really answer this for
    look_at: str  # the evidence that decides between the causes
    shown_with: str | None = None  # the key of a sentence on the same page that explains it better

    @property
    def pattern(self) -> re.Pattern[str]:
        return sentence_pattern(self.text)

    @property
    def meaning(self) -> str:
        return f"Atlan's Keycloak shows this {self.where}"


def _row(key: str, text: str, where: str, causes: tuple[str, ...], look_at: str,
         shown_with: str | None = None) -> KeycloakMessage:
    return KeycloakMessage(key, text, where, causes, look_at, shown_with)


_DECIDES = "KC010 names the step; its evidence is the ACS POST of the capture"
# Keycloak 20.0.2's pages for a SAML broker login, from the fork's SAMLEndpoint, IdentityBrokerService,
# SessionCodeChecks and first-broker-login authenticators (the broker steps of diag.broker cite the lines).
TABLE: tuple[KeycloakMessage, ...] = (
    _row(INVALID_REQUEST.key, INVALID_REQUEST.text, "(HTTP 400) at broker steps 3, 5, 6 or 8",
         ("the POST to the ACS URL carries no SAMLResponse",
          "a signed Response (a ds:Signature anywhere, also inside the Assertion) without Destination",
          "the Destination is not the URL the Response was posted to (scheme, host, port, path case, a trailing "
          "slash or a query string; behind a proxy, the forwarded scheme or host)",
          "an IdP-initiated login posted to the SP-initiated endpoint with the IdP's own RelayState (fewer than "
          "three dot-separated parts: not Keycloak's `code.tabId.clientId`)",
          "a SAMLRequest that is not a LogoutRequest"),
         f"The Response's Destination against the URL it was posted to, whether it is signed, and the RelayState "
         f"that came with it ({_DECIDES})."),
    _row(INVALID_RESPONSE.key, INVALID_RESPONSE.text,
         "(HTTP 400) only when the SAMLResponse cannot be decoded or parsed (broker step 4)",
         ("malformed base64 or XML", "a deflated (Redirect) value sent by POST, or the reverse",
          "a DOCTYPE in the document", "no ID or IssueInstant on the Response or the Assertion",
          "an Audience value that is not a URI"),
         "Decode the SAMLResponse of the ACS POST (`ssodiag decode`): it is not a Destination, audience, status or "
         "time problem."),
    _row(INVALID_SIGNATURE.key, INVALID_SIGNATURE.text,
         "(HTTP 400) at broker step 7, the document signature",
         ("the configured signing certificate is not the IdP's current one (a rotation), or it is expired or not "
          "yet valid (Keycloak drops it silently)", "any signature in the document does not verify",
          "some assertions are signed and others not", "an unsigned error Response while signatures are validated",
          "RSA-SHA1 when Keycloak runs on Java 17 or later",
          "HTTP-Redirect binding with two or more configured certificates, or without SigAlg and Signature"),
         "The signing certificate in the Response's KeyInfo against the one configured in Atlan (--keycloak-idp or "
         "--idp-metadata), and the signature algorithm (SIG checks)."),
    _row(INVALID_REQUESTER.key, INVALID_REQUESTER.text, "(HTTP 400) at broker steps 11, 13, 14, 15, 17 or 18",
         ("a plain assertion while the tenant requires encrypted ones",
          "the Response or Assertion Issuer is not the configured Identity Provider Entity ID",
          "InResponseTo missing or not the AuthnRequest Keycloak sent (a stale tab, a second attempt, an "
          "IdP-initiated Response to the SP-initiated endpoint while a login is pending)",
          "the assertion is unsigned while the tenant requires signed assertions, or its signature is invalid",
          "no NameID, or the configured principal attribute is missing or misnamed"),
         f"The Issuer, InResponseTo, the assertion's signature and NameID against the tenant's settings "
         f"({_DECIDES})."),
    _row(LOGIN_TIMEOUT.key, LOGIN_TIMEOUT.text,
         "(HTTP 400) at broker step 19, the assertion's Conditions (every Conditions failure logs \"Assertion "
         "expired.\"), or when the login session timed out",
         ("the IdP clock is ahead or behind beyond the allowed clock skew (Keycloak's default: 0 s; Entra's "
          "NotBefore equals its IssueInstant)", "the assertion expired before it arrived",
          "NotBefore is not before NotOnOrAfter",
          "the Audience is neither Atlan's SP entity ID nor the Response's Destination",
          "an empty AudienceRestriction"),
         "The Conditions window against the capture time and the Audience against Atlan's SP entity ID (SAML007, "
         "SAML012, KC010 step 19)."),
    _row(UNEXPECTED_IDP_ERROR.key, UNEXPECTED_IDP_ERROR.text,
         "on the login page (HTTP 200) at broker steps 9 and 10, or as an error (HTTP 500) after the first login",
         ("the IdP answered a non-Success status without a StatusMessage",
          "a Success Response without any assertion",
          "an exception after the first login, e.g. the user already has a link for this IdP under another NameID"),
         "The Response's StatusCode and the IdP's sign-in log (SAML001); for a 500, Keycloak's server log."),
    _row(CLIENT_NOT_FOUND.key, CLIENT_NOT_FOUND.text, "(HTTP 400) at broker step 8 for an IdP-initiated login",
         ("the IdP posts to `…/endpoint/clients/NAME` and no Atlan client has that IdP-initiated URL name "
          "(Atlan's is `atlan-saml`)",),
         "The URL the Response was posted to: it must end in `/endpoint/clients/atlan-saml`."),
    _row("invalidRedirectUriMessage", "Invalid redirect uri", "(HTTP 400) at broker step 8 for an IdP-initiated login",
         ("the IdP-initiated client has no assertion consumer or management URL",),
         "Atlan's client configuration (Atlan support)."),
    _row("cookieNotFoundMessage", "Cookie not found. Please make sure cookies are enabled in your browser.",
         "(HTTP 400) at broker step 8 for an SP-initiated login",
         ("the browser sent neither Keycloak's login-session cookie nor its restart cookie: cookies blocked, the "
          "login started on another host, or a proxy (Defender for Cloud Apps) changed the host",),
         "The Cookie header of the ACS POST and the host the login started on (MDA checks for `.mcas.ms`)."),
    _row("loginTimeout", "Your login attempt timed out. Login will start from the beginning.",
         "(on the login page) at broker step 8",
         ("the login session expired while the user was at the IdP, or was restored from the restart cookie",),
         "The time between the AuthnRequest and the ACS POST in the capture; sign in again."),
    _row("pageExpiredTitle", "Page has expired", "(HTTP 200) at broker step 8",
         ("the RelayState's code was superseded by a newer login in the same tab, or the Response was replayed",),
         "Whether the capture holds several AuthnRequests or the same Response posted twice."),
    _row("alreadyLoggedIn", "You are already logged in.", "at broker step 8",
         ("an SSO session exists but the login session is gone (the Response was posted again after the login)",),
         "Whether the Response was posted twice; open Atlan directly."),
    _row("invalidCodeMessage", "An error occurred, please login again through your application.",
         "(HTTP 400) at broker step 8",
         ("the session cookie does not match the RelayState's session, or restarting the login failed",),
         "The cookies of the ACS POST; start the login again from Atlan."),
    _row(INTERNAL_ERROR.key, INTERNAL_ERROR.text, "(HTTP 500) for an exception in the broker",
         ("no RelayState at the SP-initiated endpoint (an IdP-initiated login posted there without one)",
          "a configured signing certificate that is not a certificate",
          "an encrypted assertion Keycloak cannot decrypt (encrypted to a key that is not the realm's active one)",
          "an assertion without Subject", "a mapper that throws (e.g. a duplicated key in an advanced mapper)"),
         f"The RelayState and the URL of the ACS POST, the tenant's certificate (--keycloak-idp), the assertion "
         f"({_DECIDES}); Keycloak's server log has the exception."),
    _row("pageNotFound", "Page not found", "(HTTP 404) before the broker runs",
         ("the ACS URL names an alias Atlan does not have (`…/broker/ALIAS/endpoint`)",),
         "The alias in the URL the Response was posted to against the alias on Atlan's SSO page."),
    _row("accountDisabledMessage", "Account is disabled, contact your administrator.",
         "(HTTP 400) after the broker accepted the Response",
         ("the Atlan user linked to this identity is disabled (users removed from the IdP are deactivated)",
          "brute-force protection locked the user"),
         "The user's state in Atlan; re-assign the user in the IdP or re-enable them in Atlan."),
    _row(UPDATE_PROFILE.key, UPDATE_PROFILE.text,
         "at the first login (first broker login flow, review profile)",
         ("the assertion and its mappers give no email, first name or last name (attributes misnamed: Keycloak's "
          "importers match Name or FriendlyName exactly, e.g. `email`, `firstName`, `lastName`)",),
         "The assertion's attributes and NameID format (an emailAddress NameID gives the email) (ATTR001, KC010 "
         "step 21)."),
    *(_row(key, text, "on the Update Account Information form at the first login",
           (f"the assertion did not send the {field} and the form was submitted without it",),
           f"The assertion's `{attribute}` attribute (ATTR001).")
      for key, text, field, attribute in (
          ("missingEmailMessage", "Please specify email.", "email", "email"),
          ("missingFirstNameMessage", "Please specify first name.", "first name", "firstName"),
          ("missingLastNameMessage", "Please specify last name.", "last name", "lastName"))),
    _row("federatedIdentityConfirmLinkMessage", "User with {0} {1} already exists. How do you want to continue?",
         "(page \"Account already exists\") at the first login of this IdP identity",
         ("an Atlan user with this email or username exists but is not linked to this identity: a user invited "
          "before SSO, another IdP, or a NameID that changed (a new NameID is a new identity)",),
         "The existing Atlan user named on the page (its stored, lower-case value) against the NameID and email of "
         "the assertion; usernames in Atlan are permanent."),
    _row("confirmLinkIdpTitle", "Account already exists", "at the first login of this IdP identity",
         ("an Atlan user with this email or username exists but is not linked to this identity",),
         "The existing Atlan user against the NameID and email of the assertion.",
         shown_with="federatedIdentityConfirmLinkMessage"),
    _row("federatedIdentityExistsMessage",
         "User with {0} {1} already exists. Please login to account management to link the account.",
         "(HTTP 409) at the first login, only if an admin made \"create user if unique\" required",
         ("an Atlan user with this email or username exists",),
         "The existing Atlan user; link the account from account management."),
    _row("identityProviderAlreadyLinkedMessage", "Federated identity returned by {0} is already linked to another user.",
         "(HTTP 400) only while linking an account (account console or client-initiated linking), never on a plain "
         "login", ("the IdP identity is linked to a different Atlan user",),
         "Which Atlan user holds the link; sign in as that user or have Atlan support remove the stale link."),
    _row("usernameExistsMessage", "Username already exists.", "on the profile form at the first login",
         ("the username sent or typed belongs to another Atlan user",),
         "The existing Atlan username against the assertion's NameID."),
    _row("emailExistsMessage", "Email already exists.", "on the profile form at the first login",
         ("the email sent or typed belongs to another Atlan user",),
         "The existing Atlan user with that email (e.g. invited before SSO)."),
    _row("unexpectedErrorHandlingRequestMessage",
         "Unexpected error when handling authentication request to identity provider.",
         "before the user reaches the IdP: building or sending the AuthnRequest failed",
         ("the identity provider's Single Sign-On service URL is empty or not a URL",
          "the AuthnRequest is to be signed and the realm has no usable signing key"),
         "The tenant's singleSignOnServiceUrl and AuthnRequest signing settings (--keycloak-idp); the capture ends "
         "before any request to the IdP."),
    _row("identityProviderLinkTitle", "Authenticate to link your account with {0}",
         "after \"Add to existing account\" at the first login",
         ("Keycloak asks for the existing Atlan user's password to link the identity; SSO-only users have none",),
         "Whether the existing user can sign in with a password; otherwise align the NameID with the existing user."),
    _row("differentUserAuthenticated", "You are already authenticated as different user",
         "when the browser already holds an SSO session for another user",
         ("the browser is signed in to Atlan as someone else",), "Sign out of Atlan, or use a private window."),
)


def classify(text: str) -> list[KeycloakMessage]:
    """The rows whose sentence the text shows ("Account already exists" pages show two: title and question)."""
    found = [row for row in TABLE if row.pattern.search(text)]
    keys = {row.key for row in found}
    return [row for row in found if row.shown_with not in keys]


@check(id="KC001", title="Atlan (Keycloak) showed an error page", severity=Severity.HIGH, requires={Need.ERROR_PAGE},
       symptom=True,
       remediation="Follow the cause named in the finding; the SAML and signature checks show which one applies.",
       docs=KEYCLOAK_MESSAGES)
def keycloak_error_page(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """Recognise Keycloak's user-facing sentences (its login theme's messages_en.properties) in the pages of the
    capture and say where Atlan's broker shows each, the causes it can really have, and which evidence decides
    between them."""
    recognised = False
    for page in ctx.evidence.error_pages:
        for row in classify(page.text):
            recognised = True
            causes = "; ".join(f"({n}) {cause}" for n, cause in enumerate(row.causes, 1))
            yield spec.fail(
                f"The page says `{clip(row.pattern.search(page.text).group(0), 120)}` (Keycloak `{row.key}`): "
                f"{row.meaning}. What the broker shows it for: {causes}.",
                remediation=f"Look at: {row.look_at}", source=page.source, seen=clip(page.text, 200))
    if not recognised:
        yield spec.skip("No Keycloak error sentence recognised in the captured pages; nothing to explain.")


@check(id="KC003", title="The capture lacks the SAML POST that led to Atlan's page", severity=Severity.HIGH,
       requires={Need.FLOW}, docs=KEYCLOAK_MESSAGES,
       remediation=f"{RECAPTURE_WITH_POST}, so that it holds the IdP's SAML Response (ssodiag redacts what it writes).")
def capture_lacks_saml_post(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """A capture that reaches Keycloak's first-broker-login (or post-broker-login) page went to the IdP and came back
    with a Response the broker accepted; when that Response is not in the capture, the Network panel was cleared on
    a navigation ("Preserve log" off), and the login cannot be judged without a new capture."""
    if any(m.kind is MessageKind.RESPONSE for m in ctx.evidence.messages):
        yield spec.passed("The capture holds the SAML Response.")
        return
    hops = [(flow, hop) for flow in ctx.evidence.flows for hop in flow.hops if after_accepted_response(hop.url)]
    if not hops:
        yield spec.skip("The capture holds no Keycloak page that only follows an accepted SAML Response.")
        return
    flow, hop = hops[0]
    said = [row.pattern.search(p.text).group(0) for p in ctx.evidence.error_pages for row in classify(p.text)]
    shown = f", which says {quoted(clip(said[0], 120))}" if said else ""
    yield spec.fail(f"Entry {hop.index} is Atlan's page {quoted(short_url(hop.url))}{shown}: Keycloak shows it only "
                    "after its broker accepted the IdP's SAML Response, but the capture holds no SAML Response "
                    "(recorded without \"Preserve log\", the Network panel dropped the POST to Atlan), so the "
                    "assertion behind the page cannot be checked.", source=flow.source, locator=f"entry {hop.index}",
                    seen=hop.url[:200])


# Keycloak's broker endpoint for SP-initiated logins, `/auth/realms/{realm}/broker/{alias}/endpoint` (SAMLEndpoint.java
# 172-210 in atlanhq/keycloak-identity 20.0.2; Atlan's guides print it as the SP-initiated assertion URL).
_SP_INITIATED_ACS_PATH = LazyRegex(r"^(?:/auth)?/realms/[^/]+/broker/[^/]+/endpoint/?$")


def _is_sp_initiated_endpoint(url: str) -> bool:
    try:
        return bool(_SP_INITIATED_ACS_PATH.match(urlsplit(url.strip()).path))
    except ValueError:  # an unparsable URL (bad IPv6 literal) is judged by the URL checks, not here
        return False


# worded for any IdP: Google and Okta have a single ACS field, so "keep the SP-initiated one" holds only where there
# are several (PingFederate, Entra)
IDP_INITIATED_FIX = ("Make Atlan's IdP-initiated URL {url} the ACS / Reply URL the IdP app posts launches from its "
                     "dashboard to (where the app lists several ACS URLs, keep the SP-initiated one too), or start the "
                     "login from Atlan's login page.")


# Linked for every IdP: Atlan's PingFederate guide is the one Atlan page naming both ACS URLs; where another IdP's
# console fix leads (Okta, Google, Entra), diag.connectors.tailor links that IdP's Atlan guide instead.
@check(id="KC002", title="IdP-initiated login posted to the SP-initiated endpoint", severity=Severity.HIGH,
       requires={Need.RESPONSE}, docs=ATLAN_PING_GUIDE,
       remediation=IDP_INITIATED_FIX.format(url="`…/broker/ALIAS/endpoint/clients/atlan-saml`"))
def idp_initiated_to_sp_endpoint(ctx: DiagContext, spec: CheckSpec) -> Iterator[Finding]:
    """An unsolicited Response (no InResponseTo: IdP-initiated, SAML profiles §4.1.5) delivered to Keycloak's
    SP-initiated broker endpoint `…/broker/ALIAS/endpoint` finds no login session there: that endpoint reads the
    RelayState as Keycloak's own `code.tabId.clientId` (IdentityBrokerState.java:65-92 in atlanhq/keycloak-identity
    20.0.2). Without a RelayState it fails with an exception ("An internal server error has occurred"); with the
    IdP's own RelayState of fewer than three dot-separated parts, "Invalid Request" (IdentityBrokerService.java:
    1061-1066); with a longer one, a session page ("Page has expired", "Cookie not found…"). IdP-initiated logins
    must be sent to `…/endpoint/clients/atlan-saml` (Atlan's PingFederate guide; SAMLEndpoint.java:587-611), where
    Keycloak starts a fresh session and ignores the IdP's RelayState. Judged on the Response's Destination, else on
    its bearer Recipient: that is where the IdP posts it.
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
            idp_initiated_url = target.rstrip("/") + ATLAN_IDP_INITIATED_SUFFIX
            yield spec.fail(f"The Response has no InResponseTo (an IdP-initiated login, e.g. from the IdP's app "
                            f"dashboard) but is addressed to the SP-initiated endpoint {quoted(target)}; there Keycloak "
                            f"reads the RelayState as its own login session and refuses the login (a 500 page without "
                            f"RelayState, \"Invalid Request\" or a session page with the IdP's own).",
                            expected=idp_initiated_url,
                            remediation=IDP_INITIATED_FIX.format(url=quoted(idp_initiated_url)), **where)
        else:
            yield spec.passed(f"The unsolicited Response is addressed to {quoted(target)}, not to Keycloak's "
                              f"SP-initiated broker endpoint.", **where)
